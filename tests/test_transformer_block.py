"""The "One block" page (pipelines/explainers/transformer_block*.py): the values it shows are the ones the
model's own modules computed, in the model's own order (tests/test_transformer_block_safety.py: the shared
model is left as it was found, and bad input gets a sentence).

Tiny tier: the miniatures (random weights, real classes), checked against the tests' own hooks and against
the course's formulas computed by hand. Real tier: SmolLM2-135M-Instruct and all-MiniLM-L6-v2 weights.
"""

from __future__ import annotations

import pytest
import torch

from pipelines.core.registry import GPT2, MINILM, SMOLLM2
from pipelines.explainers import transformer_block as block
from pipelines.explainers.transformer_block_anatomy import anatomy

APP_TASKS = ["transformer-block"]
MINI = MINILM.repo_id
TEXT = "The cat sat on the mat."
PRE_LN = ["residual_in", "norm_attention", "attention_out", "residual_mid", "norm_feed_forward",
          "feed_forward_out", "residual_out"]
POST_LN = ["residual_in", "attention_out", "sum_attention", "residual_mid", "feed_forward_out",
           "sum_feed_forward", "residual_out"]


@pytest.fixture(scope="module")
def page(models):
    return models.task("transformer-block")


def steps_by_id(result: dict) -> dict:
    return {step["id"]: step for step in result["steps"]}


def own_capture(bundle, text: str, layer: int) -> dict:
    """The test's own hooks on the block: what went in and out of each part, batch item 0, full vectors."""
    parts = anatomy(bundle.model)
    blk = bundle.model.get_submodule(parts.layers)[layer]
    seen, handles = {}, []

    def keep(key, take_input=False):
        def hook(_module, args, kwargs_or_out, *rest):
            value = (args[0] if args else kwargs_or_out["hidden_states"]) if take_input else kwargs_or_out
            seen[key] = (value[0] if isinstance(value, tuple) else value)[0].float().clone()
        return hook

    def tap_in(module, key):
        handles.append(module.register_forward_pre_hook(keep(key, True), with_kwargs=True))

    def tap_out(module, key):
        handles.append(module.register_forward_hook(keep(key)))

    tap_in(blk, "x")
    tap_out(blk, "out")
    tap_out(blk.get_submodule(parts.attention), "attention")
    tap_out(blk.get_submodule(parts.feed_forward), "feed_forward")
    for name in ("norm_attention", "norm_feed_forward"):
        tap_in(blk.get_submodule(getattr(parts, name)), f"{name} in")
        tap_out(blk.get_submodule(getattr(parts, name)), f"{name} out")
    try:
        ids = bundle.tokenizer(text, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            bundle.model(input_ids=ids)
    finally:
        for handle in handles:
            handle.remove()
    return seen


@pytest.mark.parametrize("model_id", [SMOLLM2, GPT2])
def test_pre_ln_adds_hold_on_the_hooked_vectors_and_the_page_shows_them(page, model_id):
    layer, token = 1, 2
    result = block.inside_block(page, TEXT, model_id, layer, token)
    seen = own_capture(page.bundle(model_id), TEXT, layer)
    x, attention, mid = seen["x"], seen["attention"], seen["norm_feed_forward in"]
    assert torch.allclose(x + attention, mid, atol=1e-4)  # residual_in + attention_out == residual_mid
    assert torch.allclose(mid + seen["feed_forward"], seen["out"], atol=1e-4)  # + mlp_out == residual_out
    steps = steps_by_id(result)
    assert [s["id"] for s in result["steps"]] == PRE_LN and result["order"] == "pre-LN"
    for step_id, vector in [("residual_in", x), ("attention_out", attention), ("residual_mid", mid),
                            ("feed_forward_out", seen["feed_forward"]), ("residual_out", seen["out"])]:
        assert steps[step_id]["values"] == pytest.approx(vector[token, :block.DIMS].tolist(), abs=1e-4)
        assert steps[step_id]["norm"] == pytest.approx(float(vector[token].norm()), abs=1e-4)
    assert max(result["add_checks"].values()) <= 1e-4 and set(result["add_checks"]) == {"residual_mid", "residual_out"}


def test_rmsnorm_matches_the_formula_by_hand(page):
    result = block.inside_block(page, TEXT, SMOLLM2, 0, 3)
    assert result["norm_kind"] == "RMSNorm"
    steps = steps_by_id(result)
    norm = page.bundle(SMOLLM2).model.model.layers[0].input_layernorm
    x = own_capture(page.bundle(SMOLLM2), TEXT, 0)["x"][3]
    by_hand = x / torch.sqrt(x.pow(2).mean() + norm.variance_epsilon) * norm.weight.float()
    assert steps["norm_attention"]["values"] == pytest.approx(by_hand[:block.DIMS].tolist(), abs=1e-4)
    assert steps["norm_attention"]["before"]["rms"] == pytest.approx(float(x.pow(2).mean().sqrt()), abs=1e-4)
    assert "rms" in steps["residual_in"] and "std" not in steps["residual_in"]
    assert "mean(x²)" in steps["norm_attention"]["formula"]


def test_gpt2_layernorm_matches_the_formula_by_hand(page):
    result = block.inside_block(page, TEXT, GPT2, 1, 0)
    ln = page.bundle(GPT2).model.transformer.h[1].ln_1
    x = own_capture(page.bundle(GPT2), TEXT, 1)["x"][0]
    by_hand = (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + ln.eps) * ln.weight + ln.bias
    step = steps_by_id(result)["norm_attention"]
    assert step["values"] == pytest.approx(by_hand[:block.DIMS].tolist(), abs=1e-4)
    assert step["before"]["std"] == pytest.approx(float(x.std(unbiased=False)), abs=1e-4)
    assert result["norm_kind"] == "LayerNorm" and "std" in step


def test_minilm_is_post_ln_norm_after_the_add(page):
    result = block.inside_block(page, "Transformers are amazing!", MINI, 1, 1)
    assert result["order"] == "post-LN" and [s["id"] for s in result["steps"]] == POST_LN
    assert result["tokens"][0] == "[CLS]" and result["tokens"][-1] == "[SEP]"
    seen = own_capture(page.bundle(MINI), "Transformers are amazing!", 1)
    x, attention = seen["x"][1], seen["attention"][1]
    ln = page.bundle(MINI).model.encoder.layer[1].attention.output.LayerNorm
    added = x + attention
    by_hand = (added - added.mean()) / torch.sqrt(added.var(unbiased=False) + ln.eps) * ln.weight + ln.bias
    steps = steps_by_id(result)
    assert steps["sum_attention"]["values"] == pytest.approx(added[:block.DIMS].tolist(), abs=1e-4)
    assert steps["residual_mid"]["values"] == pytest.approx(by_hand[:block.DIMS].tolist(), abs=1e-4)
    assert steps["residual_mid"]["kind"] == "norm" and steps["residual_out"]["kind"] == "norm"
    assert steps["residual_out"]["values"] == pytest.approx(seen["out"][1, :block.DIMS].tolist(), abs=1e-4)


@pytest.mark.parametrize("model_id", [SMOLLM2, GPT2, MINI])
def test_residual_norms_are_the_block_outputs(page, model_id):
    first = block.inside_block(page, TEXT, model_id, 0, 1)
    second = block.inside_block(page, TEXT, model_id, 1, 1)
    assert len(first["residual_norms"]) == first["layers"] == page.bundle(model_id).model.config.num_hidden_layers
    assert first["embedding_norm"] == steps_by_id(first)["residual_in"]["norm"]
    assert first["residual_norms"][0] == steps_by_id(first)["residual_out"]["norm"]
    assert second["residual_norms"][0] == steps_by_id(second)["residual_in"]["norm"]
    assert first["residual_norms"] == second["residual_norms"]


def test_top_hidden_units_of_the_gated_mlp_are_silu_gate_times_up(page):
    result = block.inside_block(page, TEXT, SMOLLM2, 1, 4, top_units=6)
    units = result["top_hidden_units"]
    assert len(units) == 6 and len({u["index"] for u in units}) == 6
    assert [abs(u["value"]) for u in units] == sorted((abs(u["value"]) for u in units), reverse=True)
    assert all(0 <= u["index"] < result["feed_forward_units"] == 128 for u in units)
    for unit in units:
        assert unit["gate"] == pytest.approx(float(torch.nn.functional.silu(torch.tensor(unit["gate_pre"]))), abs=2e-4)
        assert unit["value"] == pytest.approx(unit["gate"] * unit["up"], abs=2e-4)


def test_top_hidden_units_of_gpt2_are_gelu_outputs(page):
    units = block.inside_block(page, TEXT, GPT2, 0, 2)["top_hidden_units"]
    gelu = page.bundle(GPT2).model.transformer.h[0].mlp.act
    for unit in units:
        assert unit["value"] == pytest.approx(float(gelu(torch.tensor([unit["pre_activation"]]))[0]), abs=2e-4)


def test_the_endpoints_through_the_app(client):
    tokens, steps, charts, result, status = client.predict(
        TEXT, SMOLLM2, 1, 2, 4, api_name="/inside_block")
    assert result["layer"] == 1 and result["token"] == 2 and len(result["top_hidden_units"]) == 4
    assert "Model:" in status and "block 1 of 2" in status
    assert "Residual stream in" in steps and "RMSNorm (input_layernorm)" in steps
    assert "<svg" in charts and "SiLU(gate)·up" in charts and "<sub>2</sub>" in tokens
    view, ablation, status = client.predict(TEXT, GPT2, 0, "feed-forward", 3, api_name="/ablate_block")
    assert len(ablation["before"]) == len(ablation["after"]) == 3 and "GPT-2" in status
    assert "transformer.h.0.mlp" in view


def test_bad_input_through_the_app_is_a_sentence(client):
    with pytest.raises(Exception, match="Layer must be a whole number from 0 to 1"):
        client.predict(TEXT, SMOLLM2, 7, 0, 4, api_name="/inside_block")
    with pytest.raises(Exception, match="Unknown sub-layer"):
        client.predict(TEXT, SMOLLM2, 0, "everything", 3, api_name="/ablate_block")


@pytest.mark.realmodel
def test_real_smollm2_needs_its_first_feed_forward_for_paris(real_models):
    page = real_models.task("transformer-block")
    result = block.ablate_block(page, "The capital of France is", SMOLLM2, 0, "feed-forward")
    assert result["before"][0][0] == " Paris" and result["before"][0][1] > 0.5
    assert result["top_token"]["change"] < -0.1  # measured: 0.77 -> 0.00
    attention = block.ablate_block(page, "The capital of France is", SMOLLM2, 0, "attention")
    assert abs(attention["top_token"]["change"]) > 0.1  # measured: 0.77 -> 0.03


@pytest.mark.realmodel
def test_real_smollm2_residual_stream_grows_across_blocks(real_models):
    page = real_models.task("transformer-block")
    result = block.inside_block(page, "The capital of France is", SMOLLM2, 3, 4)
    norms = [result["embedding_norm"], *result["residual_norms"]]
    # Measured: 2.6 after the embeddings, 35 after block 0, ..., 666 after block 28, 619 after block 29.
    assert norms[-1] > 10 * norms[1] > 100 * norms[0]
    rises = sum(b > a for a, b in zip(norms, norms[1:]))
    assert rises >= 0.8 * (len(norms) - 1)
    assert max(result["add_checks"].values()) <= 1e-4  # the adds hold with real weights too


@pytest.mark.realmodel
def test_real_minilm_post_ln_keeps_the_residual_norm_level(real_models):
    page = real_models.task("transformer-block")
    result = block.inside_block(page, "Transformers are amazing!", MINI, 2, 1)
    norms = result["residual_norms"]
    assert len(norms) == 6 and max(norms) < 1.5 * min(norms)  # measured 11.8 to 13.2: a LayerNorm after each add
    out = steps_by_id(result)["residual_out"]
    assert out["norm"] ** 2 / 384 == pytest.approx(out["std"] ** 2 + out["mean"] ** 2, rel=1e-3)  # ‖x‖²/d = var + mean²
