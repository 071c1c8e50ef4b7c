"""Build a Transformer: the from-scratch model (shapes, the causal mask, padding, multi-head attention
against torch's own, sinusoidal positions), the course's learning-rate formula, the toy data, seeded
training (a calibrated accuracy; warm-up off stays far below it), one core per training, bounded
concurrency, and both endpoints through the launched app.

Budgets are tiny and seeds fixed: the 95 %-within-60-s measurement is bench/train_transformer.py's.
"""

from __future__ import annotations

import math
import threading
import time

import pytest

from pipelines.core.errors import UserInputError
from pipelines.explainers import build_transformer as bt
from pipelines.explainers import build_transformer_data as data

APP_TASKS = ["build-a-transformer", "positions"]  # positions: another page, to show it answers meanwhile
# Held-out exact match of the default model, seed 0, after SHORT_STEPS steps: 0.465 measured here (0.22
# after 150; a different CPU may round a little differently); with warm-up off the same run stays at 0.
SHORT_STEPS, CALIBRATED = 200, 0.3


@pytest.fixture(scope="module")
def torch():
    import torch

    return torch


@pytest.fixture(scope="module")
def small(torch):
    from pipelines.explainers.build_transformer_model import Transformer, initialize

    return initialize(Transformer(27, 32, 2, 4, 64, 10), torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def batch(torch):
    src = torch.tensor([[3, 4, 5, 2, 0, 0], [6, 7, 8, 9, 10, 2]])  # words, EOS (2), padding (0)
    tgt = torch.tensor([[1, 5, 4, 3, 0], [1, 10, 9, 8, 7]])  # BOS (1), then the reversal
    return src, tgt


@pytest.fixture(scope="module")
def short_run():
    return bt.with_model(bt.train_transformer(None, max_steps=SHORT_STEPS, seed=0))


def test_shapes_rows_sum_to_one_and_padding_gets_no_attention(small, batch, torch):
    src, tgt = batch
    logits, cross = small(src, tgt)
    assert logits.shape == (2, 5, 27)
    assert len(cross) == 2 and all(c.shape == (2, 4, 5, 6) for c in cross)  # layers; batch, heads, tgt, src
    assert torch.allclose(cross[0].sum(-1), torch.ones(2, 4, 5), atol=1e-6)
    assert torch.all(cross[1][0, :, :, 4:] == 0)  # the first source's two padding positions


def test_the_causal_mask_hides_later_outputs_and_the_encoder_sees_everything(small, batch, torch):
    src, tgt = batch
    logits, _ = small(src, tgt)
    changed = tgt.clone()
    changed[:, 3] = 11  # a later decoder input
    after, _ = small(src, changed)
    assert torch.equal(after[:, :3], logits[:, :3])  # positions 0-2 cannot see position 3
    assert not torch.allclose(after[:, 3:], logits[:, 3:])
    source = src.clone()
    source[1, 4] = 12  # the last source word: the first output reads it through cross-attention
    assert not torch.allclose(small(source, tgt)[0][1, 0], logits[1, 0])


def test_attention_layer_computes_torch_multi_head_attention(torch):
    from pipelines.explainers.build_transformer_model import AttentionLayer

    generator = torch.Generator().manual_seed(1)
    layer = AttentionLayer(16, 4)
    reference = torch.nn.MultiheadAttention(16, 4, batch_first=True)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.3)
        reference.in_proj_weight.copy_(torch.cat([layer.query.weight, layer.key.weight, layer.value.weight]))
        reference.in_proj_bias.copy_(torch.cat([layer.query.bias, layer.key.bias, layer.value.bias]))
        reference.out_proj.weight.copy_(layer.out.weight)
        reference.out_proj.bias.copy_(layer.out.bias)
    q, kv = torch.randn(2, 3, 16, generator=generator), torch.randn(2, 5, 16, generator=generator)
    keep = torch.tensor([[True] * 5, [True, True, True, False, False]])
    out, weights = layer(q, kv, kv, keep[:, None, None, :])
    expected, expected_weights = reference(q, kv, kv, key_padding_mask=~keep, average_attn_weights=False)
    assert torch.allclose(out, expected, atol=1e-5) and torch.allclose(weights, expected_weights, atol=1e-6)


def test_positional_encoding_is_the_course_formula(torch):
    from pipelines.explainers.build_transformer_model import PositionalEncoding

    pe = PositionalEncoding(10, 32).pe
    assert pe[1, 0].item() == pytest.approx(math.sin(1), abs=1e-6)
    assert pe[1, 1].item() == pytest.approx(math.cos(1), abs=1e-6)
    assert pe[3, 2].item() == pytest.approx(math.sin(3 / 10000 ** (2 / 32)), abs=1e-6)
    assert torch.equal(PositionalEncoding(10, 32)(torch.zeros(1, 4, 32))[0], pe[:4])


def test_learning_rate_is_the_course_formula_counted_from_step_one():
    from pipelines.explainers.build_transformer_train import learning_rate

    assert learning_rate(1, 32, 200) == pytest.approx(32 ** -0.5 * 200 ** -1.5)  # 6.25e-05
    assert learning_rate(200, 32, 200) == pytest.approx(0.0125)  # the peak: 32^-0.5 * 200^-0.5
    assert learning_rate(800, 32, 200) == pytest.approx(0.00625)  # then 1/sqrt(step)
    assert learning_rate(1, 32, 0) == pytest.approx(32 ** -0.5)  # warm-up off: the peak at once
    assert learning_rate(100, 32, 200, 2.0) == pytest.approx(2 * 100 * 32 ** -0.5 * 200 ** -1.5)
    with pytest.raises(ValueError):
        learning_rate(0, 32, 200)


def test_a_training_thread_runs_on_one_core_and_leaves_the_others_as_they_were(torch):
    from pipelines.explainers.build_transformer_train import one_core

    before, seen = torch.get_num_threads(), {}

    def training():
        one_core()
        seen["training"] = torch.get_num_threads()

    def fresh():
        seen["fresh"] = torch.get_num_threads()

    for target in (training, fresh):
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    assert seen == {"training": 1, "fresh": before} and torch.get_num_threads() == before


def test_the_held_out_sentences_are_fixed_and_never_trained_on():
    held_out = data.held_out()
    assert len(set(held_out)) == data.HELD_OUT_SIZE and held_out[0] == data.PROBE
    assert all(data.MIN_WORDS <= len(s) <= data.MAX_WORDS for s in held_out)
    batches = data.Batches(seed=3, size=256)
    seen = set()
    for _ in range(40):  # ~1,500 two-word sentences: held-out ones (about 5 % of them) would show up
        src, _, _ = batches.next()
        seen.update(data.decode(row) for row in src.tolist())
    assert not seen & data.held_out_set()


def test_encode_gives_source_decoder_input_and_target():
    src, tgt_in, tgt_out = data.encode([("the", "cat", "sees")])
    the, cat, sees = (data.INDEX[w] for w in ("the", "cat", "sees"))
    assert src.tolist() == [[the, cat, sees, 2, 0, 0, 0, 0, 0]]
    assert tgt_in.tolist() == [[1, sees, cat, the, 0, 0, 0, 0, 0]]
    assert tgt_out.tolist() == [[sees, cat, the, 2, 0, 0, 0, 0, 0]]


@pytest.mark.parametrize("text, message", [
    ("", "Type a sentence of 2 to 8 words"), ("   ", "Type a sentence"), (3, "must be text"),
    ("the cat sees a unicorn", "not: unicorn"), ("cat", "has 1 word;"), ("a " * 9, "has 9 words"),
    ("<s> cat", "not: <s>"),
])
def test_a_bad_sentence_gets_a_sentence(text, message):
    with pytest.raises(UserInputError, match=message):
        bt.reverse_sentence(None, text)


@pytest.mark.parametrize("settings, message", [
    ({"width": 30}, "does not split into 4 heads"), ({"width": 4}, "Width must be"), ({"heads": 0}, "Heads must"),
    ({"layers": 5}, "Layers must"), ({"warmup": "abc"}, "got abc"), ({"lr_multiplier": 0}, "multiplier must"),
    ({"clip": "maybe"}, "Clipping must"), ({"max_norm": -1}, "Max norm must"), ({"batch_size": 0}, "Batch size"),
    ({"seed": -1}, "Seed must"), ({"max_steps": 0}, "Max steps must"), ({"max_seconds": 91}, "at most 90"),
])
def test_a_bad_setting_is_refused_before_anything_trains(settings, message):
    room = bt.Trainings()
    with pytest.raises(UserInputError, match=message):
        next(bt.train_transformer(None, room=room, **settings))
    assert room.running == 0


def test_warmup_off_may_be_written_off():
    assert bt.check_config(warmup="off").warmup == 0 and bt.check_config(warmup=0).warmup == 0


def test_a_seeded_short_training_reaches_its_calibrated_accuracy_and_warmup_off_does_not(short_run):
    final, trained = short_run
    assert final["status"] == "done" and final["stopped_by"] == "steps" and final["step"] == SHORT_STEPS
    assert final["final_accuracy"] >= CALIBRATED, final["final_accuracy"]
    assert final["evals"]["step"] == [0, SHORT_STEPS] and final["curves"]["step"][-1] == SHORT_STEPS
    half = bt.DEFAULTS.lr_multiplier  # the defaults apply half of the formula's rate
    assert final["curves"]["lr"][0] == pytest.approx(half * 6.25e-05, rel=1e-3)  # step 1 of the formula, not 0
    assert trained.steps == SHORT_STEPS and trained.parameters == final["parameters"] == 45_371
    off, _ = bt.with_model(bt.train_transformer(None, max_steps=SHORT_STEPS, seed=0, warmup=0))
    assert off["final_accuracy"] <= 0.02, off["final_accuracy"]
    assert off["curves"]["lr"][0] == pytest.approx(half * 32 ** -0.5, rel=1e-3)  # 4 significant digits


def test_the_same_seed_trains_the_same_model():
    runs = [bt.with_model(bt.train_transformer(None, max_steps=10, seed=5))[0] for _ in range(2)]
    assert runs[0]["curves"] == runs[1]["curves"] and runs[0]["probe"] == runs[1]["probe"]


def test_stop_and_the_time_limit_end_a_run_and_keep_its_model():
    stop = threading.Event()
    updates = bt.train_transformer(None, max_steps=20_000, stop=stop)
    assert next(updates)["step"] == 0
    stop.set()
    final, trained = bt.with_model(updates)
    assert final["stopped_by"] == "stop" and trained is not None and trained.steps == final["step"] < 20_000
    started = time.monotonic()
    final, trained = bt.with_model(bt.train_transformer(None, max_steps=20_000, max_seconds=1))
    assert final["stopped_by"] == "time" and final["step"] > 0 and time.monotonic() - started < 30


def test_one_training_per_visitor_and_a_bounded_number_at_once():
    room, stop = bt.Trainings(limit=1), threading.Event()
    first = bt.train_transformer(None, max_steps=20_000, session="a", room=room, stop=stop)
    assert next(first)["status"] == "training"
    with pytest.raises(UserInputError, match="already running"):
        next(bt.train_transformer(None, session="a", room=room))
    second = bt.train_transformer(None, max_steps=3, session="b", room=room)
    waiting = next(second)
    assert waiting["status"] == "waiting" and "1 trainings are running" in waiting["message"]
    first.close()  # the visitor left: the run ends and frees the slot and the session
    final, trained = bt.with_model(second)
    assert final["stopped_by"] == "steps" and trained.steps == 3 and room.running == 0
    assert next(bt.train_transformer(None, max_steps=1, session="a", room=room))["status"] == "training"


def test_reverse_sentence_with_and_without_a_model(short_run, torch):
    missing = bt.reverse_sentence(None, "The cat sees a dog.")
    assert missing == {"trained": False, "error": bt.NO_MODEL, "sentence": "the cat sees a dog",
                       "expected": "dog a sees cat the"}
    _, trained = short_run
    result = bt.reverse_sentence(None, "the cat sees a dog", trained)
    assert result["trained"] and result["expected"] == "dog a sees cat the"
    assert result["correct"] == (result["output"] == result["expected"])
    assert result["cols"] == ["the", "cat", "sees", "a", "dog", "</s>"]
    assert result["rows"] == [*result["output"].split(), "</s>"] and result["layer"] == result["layers"] == 2
    assert len(result["heads"]) == 4 and all(len(row) == 6 for row in result["cross_attention"])
    assert all(abs(sum(row) - 1) < 1e-3 for row in result["cross_attention"])
    assert bt.reverse_sentence(None, "the cat sees a dog", trained, layer=1)["layer"] == 1
    with pytest.raises(UserInputError, match="has 2 decoder layers"):
        bt.reverse_sentence(None, "the cat sees a dog", trained, layer=3)


def test_train_then_reverse_through_the_app(client):
    view, progress, status = client.predict(max_steps=40, seed=0, api_name="/train_transformer")
    assert progress["status"] == "done" and progress["step"] == 40 and 0 <= progress["final_accuracy"] <= 1
    assert "Done" in status and "held-out exact match" in status and "<svg" in view
    view, result, status = client.predict(text="the cat sees a dog", api_name="/reverse_sentence")
    assert result["trained"] and result["model"]["steps"] == 40  # the model this client's session trained
    assert "Cross-attention" in view and "40 steps" in status
    with pytest.raises(Exception, match="does not split into 4 heads"):
        client.predict(width=30, api_name="/train_transformer")


def test_a_second_training_is_refused_and_the_app_answers_other_tabs_meanwhile(client, app_server):
    from gradio_client import Client

    job = client.submit(max_steps=20_000, max_seconds=60, seed=1, api_name="/train_transformer")
    deadline = time.monotonic() + 60
    while not job.outputs() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.outputs() and not job.done(), "the training did not start streaming"
    with pytest.raises(Exception, match="A training of yours is already running"):
        client.predict(max_steps=10, api_name="/train_transformer")
    other = Client(app_server.url, verbose=False)
    started = time.monotonic()
    other.predict(16, 32, api_name="/positional_encoding")
    answered = time.monotonic() - started
    _, result, _ = other.predict(text="the cat sees a dog", api_name="/reverse_sentence")
    assert not job.done(), "the training ended before the other requests were answered"
    assert not result["trained"]  # another visitor: the first one's model is not theirs
    assert answered < 10, f"another page took {answered:.1f} s while a training ran"
    job.cancel()  # the request is closed: its training stops at its next step and frees the visitor's slot
    deadline = time.monotonic() + 30
    while any(t.name.startswith("build-a-transformer training") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the training went on after its request was cancelled"
        time.sleep(0.2)
    _, progress, _ = client.predict(max_steps=1, api_name="/train_transformer")
    assert progress["status"] == "done"
