"""Cost lab page (pipelines/explainers/cost_lab*.py; tabs/cost_lab.py). No timing is asserted: the machine is shared.

Tiny tier: the KV cache's bytes per token from the config are the real cache's bytes per token; the quadratic fit
recovers known coefficients; the sliding-window mask allows the pairs counted by hand, and the windowed attention
computes exactly the masked full attention; compare_speed gives both paths on the same prompt tokens with an
agreement in [0, 1] (and says why when there is no fast path); the cache off and the batch of four write the
same greedy tokens; every bad input gets its sentence before any model loads.
Real tier (SmolLM2-135M-Instruct): both paths answer the course's question, from very different memory.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.core.errors import UserInputError
from pipelines.core.registry import GPT2, SMOLLM2
from pipelines.explainers import cost_lab
from pipelines.explainers import cost_lab_attention as attention
from pipelines.explainers import cost_lab_math as counted
from pipelines.explainers import cost_lab_runs as runs
from tests.conftest import tiny_settings

PROMPT = "What is the capital of France?"
NEW = 8  # more than cost_lab.SIDE_TOKENS: the cache-off and batch runs stop earlier


@pytest.fixture(scope="module")
def page(models):
    return models.task("cost-lab")


@pytest.fixture(scope="module")
def result(page):
    return cost_lab.compare_speed(page, PROMPT, NEW)


def cache_tensors(cache) -> list:
    return [tensor for layer in cache.layers for tensor in (layer.keys, layer.values)]


@pytest.mark.parametrize("model_id", [SMOLLM2, GPT2])
def test_kv_bytes_per_token_from_the_config_are_the_real_caches(models, model_id):
    import torch

    bundle = models.task("text-generation").get(model_id).bundle
    ids = bundle.tokenizer("The cat sat on the mat.")["input_ids"]
    with torch.inference_mode():
        cache = bundle.model(input_ids=torch.tensor([ids] * 3), use_cache=True).cache
    real = sum(t.numel() * t.element_size() for t in cache_tensors(cache))
    expected = runs.kv_bytes_per_token(bundle.model.config, 4)
    assert expected["bytes_per_token"] * len(ids) * 3 == real  # three sequences of len(ids) tokens
    assert runs.cache_size(cache) == {"bytes": real, "tokens": len(ids), "batch": 3,
                                      "bytes_per_token": expected["bytes_per_token"]}
    config = bundle.model.config
    if model_id == SMOLLM2:  # grouped-query attention: fewer key/value heads than query heads
        assert expected["kv_heads"] == config.num_key_value_heads < config.num_attention_heads


def test_the_page_checks_the_formula_against_the_cache_it_generated_with(result):
    size = result["kv_bytes_per_token"]
    assert size["matches"] and size["measured"]["bytes_per_token"] == size["config"]["bytes_per_token"]
    # The cache holds the prompt and every new token but the last (which was never fed back).
    assert size["measured"]["tokens"] == result["prompt_tokens"] + result["new_tokens"] - 1
    assert f"= {size['config']['bytes_per_token']:,} bytes" in size["config"]["formula"]


def test_the_quadratic_fit_recovers_known_coefficients():
    lengths = [64, 128, 256, 384, 512, 1024]
    a, b, c = counted.fit_quadratic(lengths, [3.0 + 0.02 * n + 1e-5 * n * n for n in lengths])
    assert a == pytest.approx(3.0, abs=1e-9) and b == pytest.approx(0.02, rel=1e-9) and c == pytest.approx(1e-5)
    noise = np.random.default_rng(0).normal(0, 0.01, len(lengths))  # 1 % of a millisecond
    a, b, c = counted.fit_quadratic(lengths, [40 + 0.5 * n + 2e-4 * n * n + e for n, e in zip(lengths, noise)])
    assert a == pytest.approx(40, abs=0.1) and b == pytest.approx(0.5, rel=1e-3) and c == pytest.approx(2e-4, rel=1e-2)


@pytest.mark.parametrize("n, window", [(1, 1), (5, 1), (10, 3), (24, 8), (37, 8), (8, 7), (8, 100), (100, 32)])
def test_the_sliding_window_allows_the_pairs_counted_by_hand(n, window):
    mask = counted.sliding_window_mask(n, window)
    by_hand = sum(1 for q in range(n) for k in range(n) if abs(q - k) <= window)
    assert mask.shape == (n, n) and int(mask.sum()) == by_hand == counted.window_pairs(n, window)
    assert (mask == mask.T).all() and mask.diagonal().all()  # Longformer's window: both sides, itself included
    if window >= n - 1:
        assert by_hand == n * n  # the window reaches every token: full attention
    else:
        assert by_hand == n * (2 * window + 1) - window * (window + 1)  # the band minus its two cut corners


@pytest.mark.parametrize("n, window", [(1, 1), (7, 1), (24, 8), (37, 8), (64, 16), (50, 100)])
def test_windowed_attention_is_masked_full_attention_computed_block_by_block(n, window):
    import torch

    generator = torch.Generator().manual_seed(n)
    q, k, v = (torch.randn(3, n, 16, generator=generator) for _ in range(3))
    mask = torch.from_numpy(counted.sliding_window_mask(n, window))
    expected = counted.full_attention(q, k, v, mask)
    assert torch.allclose(counted.windowed_attention(q, k, v, window), expected, atol=1e-6)
    if window < n - 1:  # the mask matters: without it the answer differs
        assert not torch.allclose(counted.full_attention(q, k, v), expected, atol=1e-4)


def test_compare_speed_gives_both_paths_on_the_same_prompt_tokens(page, result):
    ids = page.tokenizer().apply_chat_template([{"role": "user", "content": PROMPT}], add_generation_prompt=True,
                                               tokenize=True)
    ids = list(ids["input_ids"] if hasattr(ids, "keys") else ids)
    assert result["fast_path"] is True and [row["name"] for row in result["paths"]] == ["float32", "fast"]
    assert result["prompt_tokens"] == len(ids) and result["chat_template"] is True
    for row in result["paths"]:
        assert row["prompt_tokens"] == len(ids) and row["new_tokens"] == len(row["token_ids"]) == NEW
        assert row["time_to_first_token_ms"] > 0 and row["tokens_per_second"] > 0 and row["weights_bytes"] > 0
    assert result["paths"][0]["runs_on"] == "torch float32" and "onnxruntime-genai" in result["paths"][1]["runs_on"]
    agreement = result["agreement"]
    assert 0 <= agreement["top5"] <= 1 and 0 <= agreement["top1"] <= 1 and agreement["positions"] == NEW
    fp32, fast = (row["token_ids"] for row in result["paths"])
    assert agreement["same_first_tokens"] == runs.same_prefix(fp32, fast) <= NEW
    assert result["texts"] == {row["name"]: row["text"] for row in result["paths"]}


def test_agreement_counts_shared_top5_candidates_position_by_position():
    a = np.arange(10, dtype=np.float32)  # top 5: 9 8 7 6 5
    same_order_differs = a.copy()
    same_order_differs[[9, 8]] = [8.5, 9.5]  # the same five, the first two swapped
    three_shared = np.array([0, 1, 2, 9, 9.5, 9.6, 9.7, 8, 7, 6], dtype=np.float32)  # top 5: 6 5 4 3 7
    disjoint = -a
    assert runs.agreement([a], [a]) == {"top5": 1.0, "top1": 1.0, "positions": 1}
    assert runs.agreement([a], [same_order_differs]) == {"top5": 1.0, "top1": 0.0, "positions": 1}
    assert runs.agreement([a, a], [three_shared, disjoint]) == {"top5": 0.3, "top1": 0.0, "positions": 2}


def test_the_cache_off_and_the_batch_write_the_same_greedy_tokens_over_the_same_steps(result):
    assert result["same_tokens"] == {"kv_cache_off": True, "batch": True}
    side = cost_lab.SIDE_TOKENS
    assert result["kv_cache"]["off"]["new_tokens"] == result["kv_cache"]["on"]["new_tokens"] == side < NEW
    assert result["batch"]["four"]["new_tokens"] == result["batch"]["one"]["new_tokens"] == side
    assert result["batch"]["four"]["batch"] == 4 and result["batch"]["one"]["batch"] == 1


def test_greedy_runs_never_end_early_and_time_every_token(page):
    bundle = page.get().bundle
    ids = bundle.tokenizer(PROMPT)["input_ids"]
    free = runs.greedy(bundle.model, ids, 5)
    ends = (free.tokens[0],)  # pretend the first token it picks ends the text: the run must go around it
    kept_going = runs.greedy(bundle.model, ids, 5, never=ends)
    assert len(kept_going.tokens) == len(kept_going.step_s) == 5 and ends[0] not in kept_going.tokens
    summary = kept_going.summary()
    assert summary["new_tokens"] == 5 and summary["ms_per_token"] > 0
    assert summary["tokens_per_second"] == pytest.approx(1000 / summary["ms_per_token"], rel=0.01)
    assert kept_going.summary(1)["ms_per_token"] is None  # one token: no step after the first


def test_without_a_fast_engine_the_page_shows_float32_and_says_why():
    from pipelines.core.loading import ModelManager

    page = ModelManager(tiny_settings(engine="torch")).task("cost-lab")
    result = cost_lab.compare_speed(page, PROMPT, 3)
    assert result["fast_path"] is False and [row["name"] for row in result["paths"]] == ["float32"]
    assert result["agreement"] is None and "--engine torch" in result["fast_path_note"]


def test_attention_cost_measures_every_length_and_both_attentions(page):
    result = attention.attention_cost(page, 128, 4, 4)
    assert result["lengths"] == [32, 64, 96, 128] and len(result["forward_ms"]) == 4
    assert result["full_pairs"] == 128 ** 2 and result["window_pairs"] == counted.window_pairs(128, 4)
    alone = result["attention_alone"]
    assert len(alone["full_ms"]) == len(alone["window_ms"]) == 4 and alone["max_difference"] < 1e-5
    assert result["mask"]["tokens"] == 24  # the smallest picture: four windows would be 16 tokens
    band = counted.sliding_window_mask(24, 4)
    assert result["mask"]["allowed"] == [[int(row.nonzero()[0][0]), int(row.nonzero()[0][-1])] for row in band]
    assert sum(last - first + 1 for first, last in result["mask"]["allowed"]) == counted.window_pairs(24, 4)
    config = page.get().bundle.model.config
    assert (result["layers"], result["heads"], result["head_dim"]) == (
        config.num_hidden_layers, config.num_attention_heads, config.head_dim)
    assert 0 < result["expected_quadratic_share"] < 1
    assert result["quadratic_share"] is None or 0 < result["quadratic_share"] <= 1
    assert attention.attention_cost(page, 512, 32, 3)["mask"]["tokens"] == 128  # four windows


def test_the_timed_layer_has_the_models_shapes_and_one_layer(page):
    model = page.get().bundle.model
    layer = attention.one_layer(model.config)
    own = model.model.layers[0]
    assert len(layer.layers) == 1 and layer.config.vocab_size == attention.VOCABULARY
    assert {n: p.shape for n, p in layer.layers[0].named_parameters()} == {
        n: p.shape for n, p in own.named_parameters()}
    assert layer.config._attn_implementation == "sdpa" and model.config.num_hidden_layers > 1  # the shared one kept
    share = counted.quadratic_share(layer, 1000)
    matrices = sum(p.numel() for p in own.parameters() if p.dim() == 2)
    heads, dim = model.config.num_attention_heads, model.config.head_dim
    assert share == pytest.approx(2 * 1000 * heads * dim / (2 * 1000 * heads * dim + 2 * matrices))


@pytest.mark.parametrize("call, wanted", [
    (lambda p: cost_lab.compare_speed(p, ""), "Type a prompt first"),
    (lambda p: cost_lab.compare_speed(p, None), "Type a prompt first"),
    (lambda p: cost_lab.compare_speed(p, "word " * 300), "at most 128"),
    (lambda p: cost_lab.compare_speed(p, PROMPT, 1), "New tokens must be a whole number from 2 to 24; got 1"),
    (lambda p: cost_lab.compare_speed(p, PROMPT, 25), "from 2 to 24; got 25"),
    (lambda p: cost_lab.compare_speed(p, PROMPT, "abc"), "got abc"),
    (lambda p: cost_lab.compare_speed(p, PROMPT, 8, "maybe"), "Use the chat template must be true or false"),
    (lambda p: attention.attention_cost(p, 32), "Longest input must be a whole number from 64 to 2,048; got 32"),
    (lambda p: attention.attention_cost(p, 4096), "got 4096"),
    (lambda p: attention.attention_cost(p, "", 8), "Longest input"),
    (lambda p: attention.attention_cost(p, 128, 0), "Window must be a whole number from 1 to 256; got 0"),
    (lambda p: attention.attention_cost(p, 128, 8, 2), "Lengths measured must be a whole number from 3 to 8"),
    (lambda p: attention.attention_cost(p, 128, 8, 9.5), "got 9.5"),
])
def test_bad_inputs_get_a_sentence_and_load_no_model(call, wanted):
    from pipelines.core.loading import ModelManager

    manager = ModelManager(tiny_settings())
    with pytest.raises(UserInputError, match=wanted):
        call(manager.task("cost-lab"))
    assert manager.loaded_keys() == []


def test_a_prompt_within_the_tokenizers_limit_but_over_the_pages_gets_its_sentence():
    from pipelines.core.loading import ModelManager

    manager = ModelManager(tiny_settings())
    page = manager.task("cost-lab")
    count = page.tokenizer()  # the tokenizer alone: no weights
    text = next(t for t in ("cat " * w for w in range(1, 200)) if len(count(t.strip())["input_ids"]) == 97)
    with pytest.raises(UserInputError, match="97 tokens as the model reads it; this page reads at most 96"):
        cost_lab.compare_speed(page, text, 4, False)
    assert manager.loaded_keys() == []


@pytest.mark.realmodel
def test_real_smollm2_answers_on_both_paths_from_very_different_memory(real_models):
    result = cost_lab.compare_speed(real_models.task("cost-lab"), PROMPT, 8)
    assert result["fast_path"], result["fast_path_note"]
    assert all("Paris" in text for text in result["texts"].values()), result["texts"]
    assert result["weights_mb"]["fast"] < 0.25 * result["weights_mb"]["float32"]  # int4 against float32
    assert result["agreement"]["top1"] >= 0.5 and result["agreement"]["top5"] >= 0.5
    assert result["kv_bytes_per_token"]["config"]["bytes_per_token"] == 30 * 2 * 3 * 64 * 4  # 46,080
