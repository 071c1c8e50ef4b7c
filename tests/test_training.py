"""Training signals page (pipelines/explainers/training.py, training_schedule.py; tabs/training.py).

Tiny tier: the teacher-forced losses are the model's own cross-entropy (transformers' `labels=` loss), the
perplexity is exp(mean loss), the free run is what greedy decoding from the first token writes, the warm-up
schedule matches values worked out by hand, and every bad input gets its sentence before any model loads.
Real tier (SmolLM2-135M-Instruct): the losses mean something (a true fact is cheaper than a false one).
"""

from __future__ import annotations

import math

import pytest

from pipelines.core.errors import UserInputError
from pipelines.core.registry import GPT2, SMOLLM2
from pipelines.explainers import training
from pipelines.explainers import training_schedule as schedule

APP_TASKS = ["training"]
TEXT = "The cat sat on the mat."


@pytest.fixture(scope="module")
def page(models):
    return models.task("training")


def model_loss(page, text, model_id=SMOLLM2):
    """What training minimises: transformers' own loss for the text as its labels (shifted inside)."""
    import torch

    bundle = page.get(model_id).bundle
    ids = torch.tensor([bundle.tokenizer(text)["input_ids"]])
    with torch.inference_mode():
        return float(bundle.model(input_ids=ids, labels=ids).loss), ids[0].tolist()


@pytest.mark.parametrize("model_id", [SMOLLM2, GPT2])
def test_teacher_forced_losses_are_the_models_own_cross_entropy(page, model_id):
    result = training.token_losses(page, TEXT, model_id)
    expected, ids = model_loss(page, TEXT, model_id)
    losses = result["losses"]
    assert losses[0] is None and len(losses) == len(ids) == len(result["tokens"])
    assert result["token_ids"] == ids and "".join(result["tokens"]) == TEXT
    assert abs(sum(losses[1:]) / len(losses[1:]) - expected) < 1e-4
    assert abs(result["mean_loss"] - expected) < 1e-4
    assert abs(result["perplexity"] - math.exp(expected)) <= 1e-4 * math.exp(expected) + 1e-4
    assert result["predicted_tokens"] == len(ids) - 1


def test_each_loss_is_minus_log_of_the_probability_of_the_right_token(page):
    import torch

    result = training.token_losses(page, TEXT)
    bundle = page.get(SMOLLM2).bundle
    ids = result["token_ids"]
    with torch.inference_mode():
        log_probs = torch.log_softmax(bundle.model(input_ids=torch.tensor([ids])).logits[0].double(), -1)
    for t in range(1, len(ids)):
        by_hand = -float(log_probs[t - 1, ids[t]])
        assert abs(result["losses"][t] - by_hand) < 1e-4
        assert abs(result["probabilities"][t] - math.exp(-by_hand)) < 1e-4
        assert result["ranks"][t] == int((log_probs[t - 1] > log_probs[t - 1, ids[t]]).sum()) + 1
        assert result["expected_probabilities"][t] >= result["probabilities"][t]
        assert (result["ranks"][t] == 1) == (result["expected"][t] == result["tokens"][t])


def greedy(bundle, ids, count):
    """Plain greedy decoding by full forward passes (no cache): the reference for the free run."""
    import torch

    ids = list(ids)
    with torch.inference_mode():
        for _ in range(count):
            ids.append(int(bundle.model(input_ids=torch.tensor([ids])).logits[0, -1].argmax()))
    return ids


def test_the_free_run_is_greedy_decoding_from_the_first_token(page):
    text = "Once upon a time, a small robot learned to read."
    result = training.token_losses(page, text)
    departure = result["departure"]
    assert departure is not None  # random miniature weights never guess a whole sentence
    position = departure["position"]
    bundle = page.get(SMOLLM2).bundle
    free = greedy(bundle, result["token_ids"][:1], position - 1 + len(result["free_run"]))
    assert free[:position] == result["token_ids"][:position]  # it writes the text until it departs
    written = [bundle.tokenizer.decode([i]) for i in free[position:]]
    assert written == result["free_run"] and result["free_run"][0] == departure["model_token"]
    assert result["tokens"][position] == departure["text_token"] != departure["model_token"]
    assert result["text_after"] == result["tokens"][position:position + len(result["free_run"])]
    assert all(rank == 1 for rank in result["ranks"][1:position]) and result["ranks"][position] > 1


def test_a_text_the_model_writes_itself_never_departs(page):
    bundle = page.get(SMOLLM2).bundle
    start = bundle.tokenizer("The")["input_ids"]
    ids = greedy(bundle, start, 6)
    text = bundle.tokenizer.decode(ids)
    if bundle.tokenizer(text)["input_ids"] != ids:
        pytest.skip("the miniature's greedy text does not re-tokenize to the same ids")
    result = training.token_losses(page, text)
    assert result["departure"] is None and result["free_run"] == []
    assert "writes this very text" in result["free_run_note"]


@pytest.mark.parametrize("text, model_id, wanted", [
    ("", SMOLLM2, "Type a sentence"),
    ("   ", SMOLLM2, "Type a sentence"),
    (None, SMOLLM2, "Type a sentence"),
    (42, SMOLLM2, "must be text"),
    ("word " * 300, SMOLLM2, "at most 128"),
    ("The", SMOLLM2, "nothing before"),
    (TEXT, "gpt-5", "Unknown model"),
])
def test_bad_inputs_get_a_sentence_and_load_no_model(text, model_id, wanted):
    from pipelines.core.loading import ModelManager
    from tests.conftest import tiny_settings

    manager = ModelManager(tiny_settings())
    with pytest.raises(UserInputError, match=wanted):
        training.token_losses(manager.task("training"), text, model_id)
    assert manager.loaded_keys() == []


def test_the_warmup_schedule_matches_the_formula_worked_by_hand(page):
    result = schedule.warmup_schedule(page, 512, 4000)
    rate = dict(zip(result["steps"], result["learning_rates"]))
    # 512^-0.5 * 4000^-0.5 = 1/sqrt(2,048,000) = 0.00069877
    assert result["peak_step"] == 4000 and result["peak_learning_rate"] == 0.0006988 == rate[4000]
    assert result["first_step_learning_rate"] == rate[1] == 1.747e-07  # 512^-0.5 * 4000^-1.5
    assert result["steps_shown"] == 20000 and rate[20000] == 0.0003125  # 512^-0.5 * 20000^-0.5, exactly
    assert schedule.learning_rate(2000, 512, 4000) == pytest.approx(0.0006988 / 2, rel=1e-3)  # linear rise
    assert schedule.learning_rate(16000, 512, 4000) == pytest.approx(0.0006988 / 2, rel=1e-3)  # 1/sqrt decay
    assert result["steps"][0] == 1 and len(result["steps"]) <= schedule.POINTS
    rising = [r for s, r in rate.items() if s <= 4000]
    falling = [r for s, r in rate.items() if s >= 4000]
    assert rising == sorted(rising) and falling == sorted(falling, reverse=True)


def test_step_zero_is_the_pitfall_and_is_said_so(page):
    with pytest.raises(ZeroDivisionError):
        512 ** -0.5 * min(0 ** -0.5, 0 * 4000 ** -1.5)  # the formula as the course writes it
    assert schedule.learning_rate(0, 512, 4000) is None
    result = schedule.warmup_schedule(page, 512, 4000)
    assert result["step_zero_learning_rate"] is None and 0 not in result["steps"]
    assert "divides by zero" in result["step_zero_note"] and "max(step, 1)" in result["step_zero_note"]


def test_a_wider_model_peaks_lower_and_a_longer_warmup_peaks_later(page):
    narrow, wide = schedule.warmup_schedule(page, 256, 4000), schedule.warmup_schedule(page, 1024, 4000)
    assert narrow["peak_learning_rate"] == pytest.approx(2 * wide["peak_learning_rate"], rel=1e-3)
    short = schedule.warmup_schedule(page, 512, 1000, steps=3000)
    assert short["peak_step"] == 1000 and short["steps_shown"] == 3000 and short["steps"][-1] == 3000
    unseen = schedule.warmup_schedule(page, 512, 4000, steps=1000)
    assert unseen["peak_is_shown"] is False and unseen["steps"][-1] == 1000


@pytest.mark.parametrize("d_model, warmup, steps, wanted", [
    (0, 4000, None, "d_model must be a whole number from 1"),
    ("abc", 4000, None, "got abc"),
    (512.5, 4000, None, "d_model must be a whole number"),
    (512, 0, None, "Warm-up steps must be a whole number from 1"),
    (512, None, None, "Warm-up steps"),
    (512, 4000, 1, "Steps shown must be a whole number from 2"),
])
def test_bad_schedule_settings_get_a_sentence(page, d_model, warmup, steps, wanted):
    with pytest.raises(UserInputError, match=wanted):
        schedule.warmup_schedule(page, d_model, warmup, steps)


def test_both_endpoints_through_the_app(client):
    bars, free, result, status = client.predict(TEXT, SMOLLM2, api_name="/token_losses")
    assert "Loss per token" in bars and "perplexity" in status and result["perplexity"] > 1
    assert "Running free" in free or "writes this very text" in free
    chart, numbers, line = client.predict(512, 4000, api_name="/warmup_schedule")
    assert "<svg" in chart and numbers["peak_learning_rate"] == 0.0006988 and "peak 0.0006988" in line
    with pytest.raises(Exception, match="Type a sentence"):
        client.predict("", SMOLLM2, api_name="/token_losses")
    with pytest.raises(Exception, match="got abc"):
        client.predict("abc", 4000, api_name="/warmup_schedule")


@pytest.mark.realmodel
def test_real_smollm2_finds_a_true_fact_cheaper_than_a_false_one(real_models):
    page = real_models.task("training")
    true = training.token_losses(page, "The capital of France is Paris.")
    false = training.token_losses(page, "The capital of France is Berlin.")
    assert true["tokens"][-2] == " Paris" and false["tokens"][-2] == " Berlin"
    assert true["losses"][-2] < 1.0 < false["losses"][-2] - 2  # p(Paris) > 37 %; Berlin costs 2 nats more
    assert true["perplexity"] < false["perplexity"]
    shuffled = training.token_losses(page, "Mat the on sat cat the.")
    plain = training.token_losses(page, TEXT)
    assert plain["perplexity"] * 5 < shuffled["perplexity"]
    expected, _ = model_loss(page, TEXT)
    assert abs(plain["mean_loss"] - expected) < 1e-4
