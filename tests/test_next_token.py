"""The next-token page: the three endpoints on the miniatures (compared with direct forward passes), every
bad input's sentence, the views, the launched app, and the real SmolLM2-135M-Instruct (real tier):
"The capital of France is" -> " Paris". The decoding arithmetic on hand-set logits: test_next_token_math.py."""

from __future__ import annotations

import math

import pytest

from pipelines.core.errors import UserInputError
from pipelines.core.registry import GPT2, SMOLLM2
from pipelines.explainers import next_token as nt
from pipelines.explainers.next_token_lens import lens_logits

APP_TASKS = ["next-token"]
PROMPT = "The capital of France is"


@pytest.fixture(scope="module")
def page(models):
    return models.task("next-token")


def direct_logits(page, model_id, text):
    """The model's logits for a text, straight from its forward pass (no page code)."""
    import torch

    bundle = page.bundle(model_id)
    ids = bundle.tokenizer(text)["input_ids"]
    with torch.inference_mode():
        return ids, bundle.model(input_ids=torch.tensor([ids]), output_hidden_states=True)


# --- the endpoints on the miniatures ---------------------------------------------------------------------------

def test_candidates_are_the_models_own_probabilities(page):
    result = nt.next_token(page, PROMPT, SMOLLM2, 1.0, 0, 1.0, samples=0)
    ids, output = direct_logits(page, SMOLLM2, PROMPT)
    p = output.logits[0, -1].double().softmax(-1)
    assert [c["id"] for c in result["candidates"]] == p.topk(20).indices.tolist()
    for c in result["candidates"]:
        assert c["probability"] == pytest.approx(float(p[c["id"]]), abs=1e-4)
        assert c["logit"] == pytest.approx(float(output.logits[0, -1, c["id"]]), abs=1e-4)
        assert c["probability_t"] == c["probability"] and c["kept"]
    assert "".join(result["tokens"]) == PROMPT and len(result["tokens"]) == len(ids)
    assert "samples" not in result and result["kept_count"] == result["vocabulary"] == len(page.tokenizer(SMOLLM2))


@pytest.mark.parametrize("model_id", [SMOLLM2, GPT2])
def test_greedy_gives_the_argmax_everything_and_every_draw(page, model_id):
    result = nt.next_token(page, PROMPT, model_id, temperature=0, top_k=50, top_p=0.9, samples=200, seed=3)
    first, rest = result["candidates"][0], result["candidates"][1:]
    assert first["probability_t"] == first["final"] == 1.0 and first["kept"]
    assert all(c["probability_t"] == 0.0 and c["final"] == 0.0 and not c["kept"] for c in rest)
    assert result["samples"] == {first["token"]: 200} and result["entropy_after_bits"] == 0.0
    assert result["kept_count"] == 1 and result["entropy_bits"] > 0


def test_top_k_keeps_k_and_the_final_distribution_sums_to_one(page):
    result = nt.next_token(page, PROMPT, SMOLLM2, temperature=1.0, top_k=7, top_p=1.0)
    rows = result["candidates"]
    assert [c["kept"] for c in rows] == [True] * 7 + [False] * 13
    assert [c["cut_by"] for c in rows[6:8]] == [None, "top-k"] and result["kept_count"] == 7
    assert sum(c["final"] for c in rows) == pytest.approx(1.0, abs=1e-3)
    _, output = direct_logits(page, SMOLLM2, PROMPT)
    top7 = output.logits[0, -1].double().softmax(-1).topk(7).values
    assert [c["final"] for c in rows[:7]] == pytest.approx((top7 / top7.sum()).tolist(), abs=1e-4)
    assert sum(result["samples"].values()) == 200 and set(result["samples"]) <= {c["token"] for c in rows[:7]}


def test_top_p_keeps_the_smallest_prefix_whose_cumulative_reaches_p(page):
    result = nt.next_token(page, PROMPT, SMOLLM2, temperature=0.1, top_k=0, top_p=0.82)
    rows, kept = result["candidates"], result["kept_count"]
    assert 1 < kept < 20, "the settings should put the cut among the rows shown"
    assert [c["kept"] for c in rows] == [i < kept for i in range(20)]
    assert rows[kept - 1]["cumulative"] >= 0.82 - 1e-4 > rows[kept - 2]["cumulative"]
    assert rows[kept]["cut_by"] == "top-p" and sum(c["final"] for c in rows) == pytest.approx(1.0, abs=1e-3)
    assert result["entropy_after_bits"] < result["entropy_temperature_bits"] < result["entropy_bits"]


def test_the_same_seed_gives_the_same_histogram(page):
    def counts(seed):
        return nt.next_token(page, PROMPT, GPT2, temperature=1.5, top_k=40, top_p=1.0, samples=200, seed=seed)

    assert counts(11)["samples"] == counts(11)["samples"]
    assert counts(11)["samples"] != counts(12)["samples"]
    assert sum(counts(11)["samples"].values()) == 200


def test_the_chat_template_is_a_choice_and_gpt2_has_none(page):
    chat = nt.next_token(page, PROMPT, SMOLLM2, chat_template=True, samples=0)
    assert chat["chat_template"] and "<|im_start|>" in chat["tokens"] and chat["notes"] == []
    plain = nt.next_token(page, PROMPT, GPT2, chat_template=True, samples=0)
    assert not plain["chat_template"] and "no chat template" in plain["notes"][0]


@pytest.mark.parametrize("model_id", [SMOLLM2, GPT2])
def test_the_lens_last_layer_is_the_models_own_prediction(page, model_id):
    import torch

    lens = nt.logit_lens(page, PROMPT, model_id)
    ids, output = direct_logits(page, model_id, PROMPT)
    model = page.bundle(model_id).model
    assert len(lens["layers"]) == model.config.num_hidden_layers + 1 and lens["position"] == len(ids) - 1
    assert lens["layers"][0]["name"] == "embeddings" and lens["tracked"]["why"] == "the model's prediction"
    own_top = page.tokenizer(model_id).decode([int(output.logits[0, -1].argmax())])
    assert lens["layers"][-1]["top"][0][0] == own_top == nt.next_token(page, PROMPT, model_id)["candidates"][0]["token"]
    # Block 1's row is its hidden state through the final norm and the head, as computed here by hand.
    with torch.inference_mode():
        p = lens_logits(model, output.hidden_states[1][0, -1]).softmax(-1)
    assert [row[1] for row in lens["layers"][1]["top"]] == pytest.approx(p.topk(5).values.tolist(), abs=1e-4)
    # The lens applied to the last block's raw output gives the model's logits: norm and head as the model has them.
    blocks = getattr(model.base_model, "layers", None) or model.base_model.h
    raw = []
    handle = blocks[-1].register_forward_hook(lambda m, a, out: raw.append(out[0] if isinstance(out, tuple) else out))
    try:
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
    finally:
        handle.remove()
    with torch.inference_mode():
        assert torch.allclose(lens_logits(model, raw[0][0, -1]), logits, atol=1e-4)


def test_the_lens_at_an_earlier_position_tracks_the_prompts_next_token(page):
    lens = nt.logit_lens(page, PROMPT, GPT2, position=2)  # "The capital of| France is"
    assert lens["position"] == 2 and lens["token_at_position"] == " of"
    assert lens["tracked"] == {"token": " France", "id": 4881, "why": "the prompt's next token"}
    ranks = [layer["tracked_rank"] for layer in lens["layers"]]
    assert all(r >= 1 for r in ranks) and nt.logit_lens(page, PROMPT, GPT2, -1)["position"] == 4


@pytest.mark.parametrize("model_id", [SMOLLM2, GPT2])
def test_strip_probabilities_match_a_direct_forward_pass(page, model_id):
    text = "The capital of France is Paris. It is lovely in spring."
    strip = nt.confidence_strip(page, text, model_id)
    ids, output = direct_logits(page, model_id, text)
    log_p = output.logits[0, :-1].double().log_softmax(-1)
    chosen = [float(log_p[t - 1, ids[t]]) for t in range(1, len(ids))]
    tokens = strip["tokens"]
    assert [t["id"] for t in tokens] == ids and "".join(t["token"] for t in tokens) == text
    assert tokens[0]["probability"] is None and tokens[0]["alternatives"] == []
    assert [t["probability"] for t in tokens[1:]] == pytest.approx([math.exp(v) for v in chosen], abs=1e-4)
    assert strip["mean_log_prob"] == pytest.approx(sum(chosen) / len(chosen), abs=1e-4)
    assert strip["perplexity"] == pytest.approx(math.exp(-sum(chosen) / len(chosen)), rel=1e-4)
    best = log_p[0].exp().topk(3)
    assert tokens[1]["alternatives"][0][1] == pytest.approx(float(best.values[0]), abs=1e-4)
    assert all((t["rank"] == 1) == (t["alternatives"][0][0] == page.tokenizer(model_id).decode([t["id"]]))
               for t in tokens[1:])


def test_greedy_continuation_is_always_the_likeliest_token(page):
    strip = nt.confidence_strip(page, PROMPT, SMOLLM2, continue_tokens=6)
    added = [t for t in strip["tokens"] if t["generated"]]
    assert 1 <= len(added) == strip["generated_tokens"] <= 6
    assert strip["typed_tokens"] == len(strip["tokens"]) - len(added)
    assert all(t["rank"] == 1 for t in added)


# --- bad input: a sentence each, and no model loaded -----------------------------------------------------------

BAD = [
    ("next_token", {"prompt": ""}, "Type a prompt first, for example: The capital of France is"),
    ("next_token", {"prompt": "   "}, "Type a prompt first"),
    ("next_token", {"prompt": 42}, "The prompt must be text; got int."),
    ("next_token", {"prompt": "word " * 200}, "this page reads at most 128. Shorten it."),
    ("next_token", {"model_id": "no/such-model"}, "Unknown model 'no/such-model' for Next token. Choose one of"),
    ("next_token", {"temperature": -0.1}, "Temperature must be a number from 0.0 to 5.0; got -0.1."),
    ("next_token", {"temperature": 5.5}, "Temperature must be a number from 0.0 to 5.0; got 5.5."),
    ("next_token", {"temperature": "abc"}, "Temperature must be a number from 0.0 to 5.0; got abc."),
    ("next_token", {"top_k": -1}, "Top-k must be a whole number from 0 to 2,048; got -1. 0 switches it off."),
    ("next_token", {"top_k": 2.5}, "Top-k must be a whole number from 0 to 2,048; got 2.5."),
    ("next_token", {"top_p": 0}, "Top-p must be a number above 0 and at most 1; got 0."),
    ("next_token", {"top_p": 1.5}, "Top-p must be a number from 0.0 to 1.0; got 1.5."),
    ("next_token", {"samples": 1001}, "Samples must be a whole number from 0 to 1,000; got 1001."),
    ("next_token", {"seed": -1}, "Seed must be a whole number from 0 to 4,294,967,295; got -1."),
    ("next_token", {"chat_template": "maybe"}, "Use the chat template must be true or false; got 'maybe'."),
    ("logit_lens", {"prompt": ""}, "Type a prompt first"),
    ("logit_lens", {"position": 10}, "Position must be a whole number from -1 to 9; got 10. -1 is the last token"),
    ("logit_lens", {"position": "abc"}, "Position must be a whole number from -1 to 9; got abc."),
    ("confidence_strip", {"text": ""}, "Type a text first, for example: The capital of France is Paris."),
    ("confidence_strip", {"text": "The"}, "The text is a single token"),
    ("confidence_strip", {"continue_tokens": 65}, "Tokens to add must be a whole number from 0 to 64; got 65."),
    ("confidence_strip", {"text": "word " * 200}, "tokens; this page reads at most 128. Shorten it."),
]


@pytest.fixture(scope="module")
def fresh():
    """A manager of its own: nothing loaded by other tests."""
    from pipelines.core.loading import ModelManager
    from tests.conftest import tiny_settings

    return ModelManager(tiny_settings())


@pytest.mark.parametrize("endpoint, changes, sentence", BAD, ids=[f"{e}-{list(c)[0]}" for e, c, _ in BAD])
def test_each_bad_input_gets_its_sentence_before_any_model_loads(fresh, endpoint, changes, sentence):
    first = "text" if endpoint == "confidence_strip" else "prompt"
    kwargs = {first: PROMPT, "model_id": SMOLLM2, **changes}
    with pytest.raises(UserInputError) as refused:
        getattr(nt, endpoint)(fresh.task("next-token"), **kwargs)
    assert sentence in str(refused.value)
    assert fresh.loaded_keys() == []


# --- the views (UI side) ---------------------------------------------------------------------------------------

def test_the_bars_grey_the_cut_rows_and_mark_where_top_p_is_reached(page):
    from ui import next_token_views as draw

    result = nt.next_token(page, PROMPT, SMOLLM2, temperature=0.1, top_k=0, top_p=0.82)
    html = draw.candidates(result)
    assert 1 < result["kept_count"] < 20 and html.count("pg-bar pg-cut") == 20 - result["kept_count"]
    assert f"top-p = 0.82 reached here (Σ {result['candidates'][result['kept_count'] - 1]['cumulative']:.3f})" in html
    assert html.count("reached here") == 1


# --- through the launched app ----------------------------------------------------------------------------------

def test_the_three_endpoints_through_the_app(client):
    bars, drawn, numbers, status = client.predict(PROMPT, SMOLLM2, 0.0, 5, 1.0, api_name="/next_token")
    assert numbers["candidates"][0]["final"] == 1.0 and sum(numbers["samples"].values()) == 200
    assert "top-k = 5: only these 5 stay" in bars and "×200" in drawn and "SmolLM2-135M-Instruct" in status
    view, lens, status = client.predict(PROMPT, GPT2, 1, api_name="/logit_lens")
    assert lens["position"] == 1 and len(lens["layers"]) == 3 and "position 1" in status
    view, strip, status = client.predict("The capital of France is Paris.", SMOLLM2, 2, api_name="/confidence_strip")
    assert strip["generated_tokens"] == 2 and "perplexity" in status and "pg-strip" in view


def test_a_bad_setting_through_the_app_is_a_sentence(client):
    with pytest.raises(Exception, match="Top-p must be a number from 0.0 to 1.0; got 2"):
        client.predict(PROMPT, SMOLLM2, 1.0, 50, 2, api_name="/next_token")
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/next_token"]["parameters"]
    assert [p["parameter_name"] for p in params[:5]] == ["prompt", "model_id", "temperature", "top_k", "top_p"]


# --- real weights ----------------------------------------------------------------------------------------------

@pytest.mark.realmodel
def test_real_smollm2_says_paris_and_the_views_agree(real_models):
    page = real_models.task("next-token")
    result = nt.next_token(page, PROMPT, SMOLLM2, temperature=1.0, top_k=50, top_p=0.9)
    top = result["candidates"][0]
    assert top["token"] == " Paris" and top["probability"] > 0.5 and result["samples"][" Paris"] > 100
    lens = nt.logit_lens(page, PROMPT, SMOLLM2)
    assert lens["layers"][-1]["top"][0] == [" Paris", top["probability"]]
    assert lens["layers"][0]["top"][0][0] != " Paris"  # the embeddings alone do not know it yet
    strip = nt.confidence_strip(page, PROMPT + " Paris.", SMOLLM2)
    paris = next(t for t in strip["tokens"] if t["token"] == " Paris")
    assert paris["probability"] == pytest.approx(top["probability"], abs=1e-4) and paris["rank"] == 1
