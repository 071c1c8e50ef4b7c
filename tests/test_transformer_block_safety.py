"""The "One block" page leaves the shared model as it found it, and refuses bad input with a sentence.

The model is shared with other pages and other users' requests: the page's hooks act only on its own
thread's forward passes and always come off (also after an error), the model never leaves evaluation
mode (dropout is shown on a copy of its module), and a bad input loads no model at all.
"""

from __future__ import annotations

import threading

import pytest
import torch

from pipelines.core.errors import UserInputError
from pipelines.core.loading import ModelManager
from pipelines.core.registry import GPT2, MINILM, SMOLLM2
from pipelines.explainers import transformer_block as block
from pipelines.explainers import transformer_block_dropout as dropout
from pipelines.explainers.transformer_block_anatomy import Taps
from tests.conftest import tiny_settings

MINI = MINILM.repo_id
TEXT = "The cat sat on the mat."


@pytest.fixture(scope="module")
def page(models):
    return models.task("transformer-block")


def page_hooks(model) -> int:
    """Hooks of this page's Taps left on the model (transformers' own output-capturing hooks, installed
    once on first use of output_hidden_states, and the model's forward gate are not ours)."""
    return sum(getattr(hook, "__qualname__", "").startswith("Taps.")
               for m in model.modules() for hook in [*m._forward_hooks.values(), *m._forward_pre_hooks.values()])


def all_hooks(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_ablation_matches_the_tests_own_zeroing_and_leaves_no_hook(page):
    bundle = page.bundle(SMOLLM2)
    result = block.ablate_block(page, "The cat sat on the", SMOLLM2, 1, "feed-forward", top_k=5)
    ids = bundle.tokenizer("The cat sat on the", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        clean = bundle.model(input_ids=ids).logits[0, -1].softmax(-1)
        handle = bundle.model.model.layers[1].mlp.register_forward_hook(lambda m, a, out: torch.zeros_like(out))
        try:
            zeroed = bundle.model(input_ids=ids).logits[0, -1].softmax(-1)
        finally:
            handle.remove()
    assert [p for _, p in result["before"]] == pytest.approx(clean.topk(5).values.tolist(), abs=1e-4)
    assert [p for _, p in result["after"]] == pytest.approx(zeroed.topk(5).values.tolist(), abs=1e-4)
    assert result["module"] == "model.layers.1.mlp" and len(result["cosine"]) == len(result["tokens"])
    assert result["total_variation"] > 0 and min(result["cosine"]) < 1
    assert page_hooks(bundle.model) == 0 and not bundle.model.training


def test_minilm_ablation_says_it_has_no_lm_head_and_shows_the_hidden_change(page):
    result = block.ablate_block(page, TEXT, MINI, 0, "attention")
    assert result["before"] == result["after"] == [] and result["has_lm_head"] is False
    assert "decoder" in result["note"] and "cosine" in result["note"]
    assert len(result["cosine"]) == len(result["relative_change"]) == len(result["tokens"])
    assert all(-1 <= c <= 1 for c in result["cosine"]) and max(result["relative_change"]) > 0


def test_hooks_come_off_and_the_model_stays_in_eval_mode_after_an_error(page):
    bundle = page.bundle(GPT2)

    def explode(*_):
        raise RuntimeError("boom")
    handle = bundle.model.transformer.ln_f.register_forward_hook(explode)
    try:
        for call in (lambda: block.inside_block(page, TEXT, GPT2, 1, 1),
                     lambda: block.ablate_block(page, TEXT, GPT2, 1, "attention"),
                     lambda: dropout.dropout_demo(page, TEXT, GPT2, 1, 1)):
            hooks = all_hooks(bundle.model)
            with pytest.raises(RuntimeError, match="boom"):
                call()
            assert page_hooks(bundle.model) == 0
            assert all_hooks(bundle.model) <= hooks + 4  # at most transformers' own, installed once
    finally:
        handle.remove()
    assert page_hooks(bundle.model) == 0
    assert not any(m.training for m in bundle.model.modules())


def test_taps_act_only_on_their_own_threads_forward_passes(page):
    bundle = page.bundle(GPT2)
    mlp = bundle.model.transformer.h[0].mlp
    x = torch.randn(1, 3, bundle.model.config.hidden_size)
    other = {}
    with torch.inference_mode(), Taps() as taps:
        taps.zero_output(mlp)
        mine = mlp(x)
        thread = threading.Thread(target=lambda: other.setdefault("out", mlp(x)))
        thread.start()
        thread.join()
    assert torch.count_nonzero(mine) == 0 and torch.count_nonzero(other["out"]) > 0


def test_dropout_with_a_zero_rate_model_uses_torch_dropout_at_the_course_rate(page):
    result = dropout.dropout_demo(page, TEXT, SMOLLM2, 1, 2, rate=0.1, seed=3)
    assert result["config"] == {"attention_dropout": 0.0} and not result["uses_model_dropout"]
    assert "attention_dropout = 0" in result["note"] and result["module"] == "torch.nn.Dropout"
    assert abs(result["zeroed_fraction"] - 0.1) < 0.05 and result["values"] > 400
    assert result["mean_scale"] == pytest.approx(1 / 0.9, abs=1e-4) and result["scale_error"] < 1e-3
    assert result["eval_is_identity"] and result["eval"] == result["input"]
    for i, (x, y) in enumerate(zip(result["input"], result["train"])):
        assert y == (0.0 if i in result["dropped_dims"] else pytest.approx(x / 0.9, abs=2e-4))
    assert dropout.dropout_demo(page, TEXT, SMOLLM2, 1, 2, rate=0.1, seed=3) == result  # seeded
    other = dropout.dropout_demo(page, TEXT, SMOLLM2, 1, 2, rate=0.5, seed=4)
    assert abs(other["zeroed_fraction"] - 0.5) < 0.08 and other["expected_scale"] == 2.0


def test_dropout_of_gpt2_is_its_own_module_and_leaves_it_in_eval_mode(page):
    result = dropout.dropout_demo(page, TEXT, GPT2, 0, 1, rate=0.3)
    model = page.bundle(GPT2).model
    assert result["module"] == "transformer.h.0.attn.resid_dropout" and result["uses_model_dropout"]
    assert result["p"] == model.config.resid_pdrop == 0.1 and result["config"]["attn_pdrop"] == 0.1
    assert not any(m.training for m in model.modules())


BAD_INPUTS = [
    (dict(text=""), "Type a sentence"),
    (dict(text="word " * 200), "at most 128"),
    (dict(model_id="bert-large"), "Unknown model"),
    (dict(layer=2), "Layer must be a whole number from 0 to 1"),
    (dict(layer=-1), "Layer must be"),
    (dict(layer="two"), "Layer must be"),
    (dict(token=9), "Token must be a whole number from 0 to 7"),
    (dict(token=1.5), "Token must be"),
    (dict(top_units=0), "Hidden units shown must be"),
]


@pytest.mark.parametrize("change, message", BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_each_bad_input_gets_a_sentence_and_loads_no_model(change, message):
    fresh = ModelManager(tiny_settings())
    args = dict(text=TEXT, model_id=SMOLLM2, layer=0, token=0)
    args.update(change)
    with pytest.raises(UserInputError, match=message):
        block.inside_block(fresh.task("transformer-block"), **args)
    assert fresh.loaded_keys() == []


def test_bad_sublayer_rate_and_candidates_get_sentences_without_loading():
    fresh = ModelManager(tiny_settings()).task("transformer-block")
    with pytest.raises(UserInputError, match="Unknown sub-layer 'mlp'. Choose one of: attention, feed-forward"):
        block.ablate_block(fresh, TEXT, SMOLLM2, 0, "mlp")
    with pytest.raises(UserInputError, match="Candidates must be"):
        block.ablate_block(fresh, TEXT, SMOLLM2, 0, "attention", top_k=50)
    with pytest.raises(UserInputError, match="Dropout rate must be"):
        dropout.dropout_demo(fresh, TEXT, SMOLLM2, 0, 0, rate=1.0)
    assert fresh.manager.loaded_keys() == []
