"""Fine-tuning page (pipelines/explainers/fine_tuning*.py, tabs/fine_tuning.py).

Tiny tier (the 2-layer MiniLM miniature: random weights, so accuracies mean nothing): the data split, the
classifier's layer-by-layer path against the model's own forward, frozen layers kept bit for bit, the app's
shared model never modified, seeds, the kept checkpoint, Stop and the time limit, the input sentences, and
the bounded concurrency through the launched app (one training per visitor, a bounded number app-wide,
the other pages still answering while one trains).
Real tier (all-MiniLM-L6-v2's real weights): fine-tuning reaches 85 % validation accuracy from a chance-level
untrained head.
"""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.core.errors import UserInputError
from pipelines.explainers import fine_tuning as tuning
from pipelines.explainers import fine_tuning_data as data
from pipelines.explainers import fine_tuning_model as model_side
from pipelines.explainers.fine_tuning_slots import TrainingSlots

APP_TASKS = ["fine-tuning", "training"]


@pytest.fixture(scope="module")
def page(models):
    return models.task("fine-tuning")


def last(updates):
    *_, final = updates
    return final


def snapshot(module) -> dict:
    return {name: tensor.detach().clone() for name, tensor in module.state_dict().items()}


def same_tensors(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_reviews_split_into_balanced_disjoint_training_and_validation():
    train, held = data.splits()
    assert (len(train), len(held)) == (256, 64)
    assert sum(train.labels) == 128 and sum(held.labels) == 32  # half positive on both sides: chance is 50 %
    assert not set(train.texts) & set(held.texts)
    assert len(set(train.texts) | set(held.texts)) == 320  # no review written twice
    assert "Works perfectly and arrived a day early." in train.texts


def test_the_layer_by_layer_path_is_the_models_own_forward(page):
    import torch

    bundle = page.get(tuning.MODEL).bundle
    batch = data.encode(bundle.tokenizer, data.splits()[1])
    with torch.inference_mode():
        own = bundle.model(input_ids=batch.ids, attention_mask=batch.mask).last_hidden_state
    for frozen in (0, 1, 2):
        classifier = model_side.build(bundle.model, bundle.tokenizer, frozen, torch.Generator().manual_seed(0))
        with torch.inference_mode():
            lower = classifier.lower(batch.ids, batch.mask)
            mine = classifier.run_layers(lower, batch.mask, classifier.frozen, classifier.layers)
            logits = classifier.logits(lower, batch.mask)
        assert (mine - own).abs().max() < 1e-5
        assert (logits - classifier.head_logits(own, batch.mask)).abs().max() < 1e-5
        probabilities = torch.tensor(classifier.probabilities(batch.ids, batch.mask))
        assert torch.allclose(probabilities, torch.softmax(logits, -1), atol=1e-5)


def test_training_never_touches_the_apps_shared_model_and_frozen_layers_keep_their_weights(page):
    shared = page.get(tuning.MODEL).bundle.model
    before = snapshot(shared)
    full = last(tuning.training_updates(page, tuning.Settings(frozen_layers=0, epochs=1, batch_size=64)))
    assert same_tensors(before, snapshot(shared)) and not shared.training
    assert all(p.requires_grad for p in shared.parameters())  # the copy was frozen, not the shared model
    trained = full.classifier
    assert not same_tensors(snapshot(trained.encoder.embeddings), snapshot(shared.embeddings))  # 0 frozen: all train

    kept = last(tuning.training_updates(page, tuning.Settings(frozen_layers=1, epochs=2, batch_size=32))).classifier
    assert kept.frozen == 1 and kept.facts["frozen_layers"] == 1
    assert same_tensors(snapshot(kept.encoder.embeddings), snapshot(shared.embeddings))
    assert same_tensors(snapshot(kept.encoder.encoder.layer[0]), snapshot(shared.encoder.layer[0]))
    assert not same_tensors(snapshot(kept.encoder.encoder.layer[1]), snapshot(shared.encoder.layer[1]))


def test_the_same_seed_gives_the_same_curves_and_another_seed_others(page):
    one = tuning.fine_tune(page, frozen_layers=1, epochs=2, seed=3)
    two = tuning.fine_tune(page, frozen_layers=1, epochs=2, seed=3)
    other = tuning.fine_tune(page, frozen_layers=1, epochs=2, seed=4)
    assert one == two and one["history"] != other["history"]
    assert [row["epoch"] for row in one["history"]] == [0, 1, 2] and one["state"] == "finished"
    assert one["baseline_accuracy"] == one["history"][0]["validation_accuracy"]
    assert one["trainable_parameters"] < one["total_parameters"]


def test_the_kept_classifier_is_the_best_validation_epoch(page):
    bundle = page.get(tuning.MODEL).bundle
    final = last(tuning.training_updates(page, tuning.Settings(frozen_layers=0, epochs=3, learning_rate=3e-3,
                                                               batch_size=8)))
    history, result = final.result["history"], final.result
    best = max(history, key=lambda row: (row["validation_accuracy"], -row["validation_loss"]))
    assert result["best_epoch"] == best["epoch"] and result["validation_accuracy"] == best["validation_accuracy"]
    classifier = final.classifier
    batch = data.encode(bundle.tokenizer, data.splits()[1])
    loss, accuracy = model_side.evaluate(classifier, classifier.features(batch.ids, batch.mask, batch.labels))
    assert abs(loss - best["validation_loss"]) < 1e-4 and abs(accuracy - best["validation_accuracy"]) < 1e-4


def test_stop_and_the_time_limit_end_a_training_keeping_a_whole_epoch(page):
    calls = []
    stopped = last(tuning.training_updates(page, tuning.Settings(frozen_layers=0, epochs=5, batch_size=64),
                                           should_stop=lambda: calls.append(1) or len(calls) > 6))
    assert stopped.result["state"] == "stopped" and stopped.result["epochs_run"] == 1  # 4 batches an epoch
    assert stopped.classifier is not None and stopped.classifier.facts["epochs_run"] == 1
    timed = last(tuning.training_updates(page, tuning.Settings(epochs=5, time_limit_s=0)))
    assert timed.result["state"] == "time limit" and timed.result["epochs_run"] == 0
    assert timed.result["best_epoch"] == 0 and timed.classifier is not None


def test_overfitting_is_named_when_validation_loss_rises_while_training_loss_falls():
    def row(epoch, train, validation):
        return {"epoch": epoch, "train_loss": train, "validation_loss": validation}

    history = [row(0, 0.69, 0.69), row(1, 0.36, 0.39), row(2, 0.12, 0.19), row(3, 0.04, 0.23)]
    assert tuning.overfitting(history).startswith("Overfitting: since epoch 2 the validation loss rose")
    assert tuning.overfitting(history[:3]) == ""  # still improving
    assert tuning.overfitting([*history[:3], row(3, 0.20, 0.23)]) == ""  # training loss rose too: not that
    assert tuning.overfitting([*history[:3], row(3, 0.05, 0.192)]) == ""  # within 2 %: noise


@pytest.mark.parametrize("settings, wanted", [
    ({"frozen_layers": 7}, "Frozen layers must be a whole number from 0 to 6"),
    ({"frozen_layers": "abc"}, "got abc"),
    ({"learning_rate": 0}, "Learning rate must be a number from 1e-06"),
    ({"learning_rate": "fast"}, "got fast"),
    ({"epochs": 0}, "Epochs must be a whole number from 1 to 20"),
    ({"epochs": 2.5}, "Epochs must be a whole number"),
    ({"batch_size": 0}, "Batch size must be a whole number from 1 to 128"),
    ({"seed": -1}, "Seed must be a whole number"),
])
def test_bad_settings_get_a_sentence_naming_the_setting_and_load_nothing(settings, wanted):
    from pipelines.core.loading import ModelManager
    from tests.conftest import tiny_settings

    manager = ModelManager(tiny_settings())
    with pytest.raises(UserInputError, match=wanted):
        tuning.fine_tune(manager.task("fine-tuning"), **settings)
    assert manager.loaded_keys() == []


@pytest.mark.parametrize("text, wanted", [("", "Type a sentence to classify"), (None, "Type a sentence"),
                                          (["a"], "must be text"), ("great " * 200, "at most 128")])
def test_bad_sentences_get_a_sentence_and_load_nothing(text, wanted):
    from pipelines.core.loading import ModelManager
    from tests.conftest import tiny_settings

    manager = ModelManager(tiny_settings())
    with pytest.raises(UserInputError, match=wanted):
        tuning.classify_sentiment(manager.task("fine-tuning"), text)
    assert manager.loaded_keys() == []


def test_classify_before_and_after_fine_tuning(page):
    before = tuning.classify_sentiment(page, tuning.EXAMPLE)
    assert before["fine_tuned"] is False and "Fine-tune first" in before["note"]
    assert abs(sum(before["probabilities"].values()) - 1) < 1e-3 and before["label"] in tuning.NAMES
    assert tuning.classify_sentiment(page, tuning.EXAMPLE) == before
    kept = last(tuning.training_updates(page, tuning.Settings(frozen_layers=1, epochs=1))).classifier
    after = tuning.classify_sentiment(page, tuning.EXAMPLE, kept)
    assert after["fine_tuned"] is True and after["best_epoch"] == kept.facts["best_epoch"]
    assert "Fine-tuned in this session" in after["note"]
    assert tuning.classify_sentiment(page, tuning.EXAMPLE, "not a classifier")["fine_tuned"] is False


def test_slots_refuse_a_second_training_of_a_visitor_and_any_beyond_the_limit():
    now = [0.0]
    slots = TrainingSlots(limit=1, longest_s=90, clock=lambda: now[0])
    with slots.hold("alice"):
        with pytest.raises(UserInputError, match="already running"):
            with slots.hold("alice"):
                pass
        now[0] = 30.0
        with pytest.raises(UserInputError, match=r"another visitor's model.*about 60 s"):
            with slots.hold("bob"):
                pass
    with slots.hold("bob"):  # released when alice's training ended
        assert slots.running() == 1
    with pytest.raises(RuntimeError):
        with slots.hold("carol"):
            raise RuntimeError("a training that fails")
    assert slots.running() == 0  # released on failure too
    two = TrainingSlots(limit=2, longest_s=90, clock=lambda: now[0])
    with two.hold("a"), two.hold("b"):
        with pytest.raises(UserInputError, match="2 models for other visitors"):
            with two.hold("c"):
                pass


def test_an_abandoned_slot_expires_after_the_longest_training_and_a_grace():
    now = [0.0]
    slots = TrainingSlots(limit=1, longest_s=90, clock=lambda: now[0])
    abandoned = slots.hold("ghost")
    abandoned.__enter__()  # never exited: a client that vanished
    with pytest.raises(UserInputError):
        with slots.hold("alice"):
            pass
    now[0] = 151.0
    with slots.hold("alice"):
        abandoned.__exit__(None, None, None)  # the late exit of the old one must not free alice's slot
        assert slots.running() == 1


def test_through_the_app_the_session_keeps_its_model_and_a_fresh_visitor_gets_the_baseline(client, app_server):
    from gradio_client import Client

    outputs = client.predict(1, "1e-4", 1, 64, 0, api_name="/fine_tune")
    loss_chart, accuracy_chart, result, status = outputs  # the gr.State holding the model is not in the API
    assert "<svg" in loss_chart and "untrained head" in accuracy_chart
    assert result["state"] == "finished" and 0 <= result["validation_accuracy"] <= 1
    assert "Validation accuracy" in status
    label, numbers, line = client.predict(tuning.EXAMPLE, api_name="/classify_sentiment")
    assert numbers["fine_tuned"] is True and "fine-tuned in this session" in line
    assert label["label"] == numbers["label"]
    fresh = Client(app_server.url, verbose=False)
    _, numbers, line = fresh.predict(tuning.EXAMPLE, api_name="/classify_sentiment")
    assert numbers["fine_tuned"] is False and "untrained head" in line


def scored(job) -> bool:
    """The streamed fine_tune has shown a scored epoch (its first update may be the model's loading line)."""
    return any(isinstance(out[2], dict) and out[2].get("history") for out in job.outputs())


def test_one_training_per_visitor_a_bounded_number_and_the_app_keeps_answering(client, app_server, monkeypatch):
    from gradio_client import Client

    gate, real = threading.Event(), tuning.training_updates

    def held(models, settings, should_stop=None):  # the page's training, kept running until the test says
        updates = real(models, settings, should_stop)
        yield next(updates)  # epoch 0: the untrained head is on the page
        assert gate.wait(120), "the test never let the training go on"
        yield from updates

    monkeypatch.setattr(tuning, "training_updates", held)  # the tab looks it up at each call
    job = client.submit(4, "1e-4", 1, 64, 0, api_name="/fine_tune")
    deadline = time.monotonic() + 120
    while not scored(job) and time.monotonic() < deadline:  # past "Loading…": epoch 0 is on the page
        time.sleep(0.2)
    assert scored(job) and not job.done()
    with pytest.raises(Exception, match="A training of yours is already running"):
        client.predict(1, "1e-4", 1, 64, 0, api_name="/fine_tune")
    other = Client(app_server.url, verbose=False)
    with pytest.raises(Exception, match="already fine-tuning another visitor's model"):
        other.predict(1, "1e-4", 1, 64, 0, api_name="/fine_tune")
    answered = {}
    worker = threading.Thread(target=lambda: answered.update(
        warmup=other.predict(512, 4000, api_name="/warmup_schedule"),
        sentiment=other.predict("Great!", api_name="/classify_sentiment")))
    worker.start()
    worker.join(90)
    assert answered.get("warmup") and answered["warmup"][1]["peak_step"] == 4000
    assert answered.get("sentiment") and answered["sentiment"][1]["fine_tuned"] is False
    assert not job.done()  # all of that while the training was still running
    gate.set()
    final = job.result(timeout=120)
    assert final[2]["state"] == "finished" and final[2]["epochs_run"] == 1
    monkeypatch.setattr(tuning, "TIME_LIMIT_S", 0)  # read when a training starts; the slot is free again
    timed = client.predict(4, "1e-4", 3, 64, 0, api_name="/fine_tune")
    assert timed[2]["state"] == "time limit" and "stopped at the 0 s limit" in timed[3]


@pytest.mark.realmodel
def test_real_minilm_learns_sentiment_from_a_chance_level_untrained_head(real_models):
    page = real_models.task("fine-tuning")
    shared = page.get(tuning.MODEL).bundle.model
    before = snapshot(shared)
    started = time.monotonic()
    settings = tuning.Settings(frozen_layers=5, learning_rate=3e-4, epochs=2, time_limit_s=600)  # a busy CI machine
    final = last(tuning.training_updates(page, settings))
    seconds = time.monotonic() - started
    result = final.result
    assert result["validation_accuracy"] >= 0.85, result["history"]
    assert 0.35 <= result["baseline_accuracy"] <= 0.65, result["history"][0]  # the untrained head: near chance
    kept = final.classifier
    assert same_tensors(snapshot(kept.encoder.embeddings), snapshot(shared.embeddings))
    assert all(same_tensors(snapshot(kept.encoder.encoder.layer[i]), snapshot(shared.encoder.layer[i]))
               for i in range(5))
    assert same_tensors(before, snapshot(shared))
    assert tuning.classify_sentiment(page, tuning.EXAMPLE, kept)["label"] == "Positive"
    assert tuning.classify_sentiment(page, "This was the worst meal I have ever had.", kept)["label"] == "Negative"
    print(f"real MiniLM, 5 frozen layers, 2 epochs: {result['validation_accuracy']:.0%} in {seconds:.0f} s")
