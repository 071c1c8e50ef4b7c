"""The cost lab's second part: how the cost of reading a text grows with its length (chapters 13 and 15).

    attention_cost(models, max_length, window, points)

1. The sweep: one layer of the model's own shape (its width, heads, key/value heads and feed-forward size;
   random weights, which do not change the speed) reads texts of `points` lengths up to `max_length` tokens,
   timed. One layer, not all of them: the whole model is that cost times its layers (30 for SmolLM2-135M),
   and one layer reaches lengths where attention shows within a second or two. Most of a layer's work is per
   token (the projections and the feed-forward network: a cost a + b·n), but attention compares every token
   with every other one: a term c·n². A quadratic fitted to the times by least squares separates the two;
   beside it, the share the n² term should have from the shapes alone.
2. Full attention next to a sliding window (Longformer, chapter 15): each token attends only to the `window`
   tokens on each side of it. The allowed pairs, counted, and attention alone with the model's heads and
   head size (random values) timed both ways over the same lengths: the full one computes all n² scores and
   grows as n²; the windowed one computes its scores block by block (Longformer's trick) and grows as n. A
   mask alone would not save anything: the scores it hides are still computed. Longformer also gives a few
   tokens (like [CLS]) global attention; that part is left out here.
"""

from __future__ import annotations

import math
import time

from pipelines.core import checks
from pipelines.core.checks import Progress, no_progress
from pipelines.explainers.cost_lab_math import (
    fit_quadratic,
    full_attention,
    heads_of,
    layers_of,
    quadratic_share,
    sliding_window_mask,
    window_pairs,
    windowed_attention,
)

MAX_LENGTH = 1024  # the default sweep: about 2 s on 2 cores for a SmolLM2-135M layer (best of two at each length)
LONGEST = 2048
WINDOW = 32  # tokens on each side (Longformer's base model: 256 each side of 4,096)
POINTS = 5
REPEATS = 2  # each length timed twice, the faster kept (a busy CPU only ever makes a run slower) ...
ONCE_ABOVE = 4096  # ... unless the lengths add up to more tokens than this: then once, to stay within seconds
MASK_TOKENS = (24, 128)  # the mask picture's size: about four windows, within these bounds
VOCABULARY = 256  # the one-layer copy's: the embedding's size does not change what a layer costs
DIGITS = 4


def check(max_length, window, points) -> tuple[int, int, int]:
    return (checks.whole_number("Longest input", max_length, 64, LONGEST),
            checks.whole_number("Window", window, 1, 256),
            checks.whole_number("Lengths measured", points, 3, 8))


def attention_cost(models, max_length=MAX_LENGTH, window=WINDOW, points=POINTS,
                   progress: Progress = no_progress) -> dict:
    """One layer timed over input lengths with a fitted quadratic; full vs sliding-window attention."""
    import torch

    max_length, window, points = check(max_length, window, points)
    bundle = models.get().bundle
    config = bundle.model.config
    lengths = [round(max_length * (i + 1) / points) for i in range(points)]
    repeats = REPEATS if sum(lengths) <= ONCE_ABOVE else 1
    progress(0.02, "Building one layer of the model's shape")
    layer = one_layer(config)
    ids = torch.randint(0, VOCABULARY, (1, max_length), generator=torch.Generator().manual_seed(0))
    forward_ms = []
    with torch.inference_mode():
        layer(input_ids=ids[:, :lengths[0]], use_cache=False)  # warm-up: one-off costs
        for i, n in enumerate(lengths):
            progress(0.05 + 0.6 * i / points, f"One layer over {n} tokens")
            forward_ms.append(_best_ms(lambda n=n: layer(input_ids=ids[:, :n], use_cache=False), repeats))
    a, b, c = fit_quadratic(lengths, forward_ms)
    at_max = a + b * max_length + c * max_length ** 2
    physical = b >= 0 and c > 0 and at_max > 0  # a cost term below zero is the CPU's noise, not the model
    progress(0.7, "Attention alone, full and sliding window")
    heads, head_dim = heads_of(config)
    alone = _attention_alone(lengths, heads, head_dim, window, repeats)
    pairs, blocks = window_pairs(max_length, window), -(-max_length // window)
    shown = min(max_length, max(MASK_TOKENS[0], min(MASK_TOKENS[1], 4 * window)))
    notes = [f"Fit: {a:.3g} ms + {b:.3g} ms × n + {c:.3g} ms × n², for one of {layers_of(config)} layers."]
    expected = quadratic_share(layer, max_length)
    if physical and c * max_length ** 2 / at_max > 1.5 * expected:
        notes.append("The n² term takes a larger share of the time than of the multiply-adds: attention's work "
                     "(scores, softmax, many small products) runs slower per multiply-add than the big matrix "
                     "products of the rest of the layer.")
    if not physical:
        notes.append("A fitted term came out negative: at these lengths the differences are smaller than the "
                     "CPU's noise, so the fit cannot split them. Try a longer input, or run it again.")
    if window >= max_length - 1:
        notes.append("The window covers every pair at this length: the sliding window is full attention here.")
    progress(1.0, "Done")
    grid = [round(max_length * i / 40) for i in range(1, 41)]
    # What does not depend on the clock comes first: the API contract pins a result's first twelve keys
    # (tests/test_contract.py), and timings are never the same twice.
    return {
        "model_id": bundle.checkpoint.repo_id, "max_length": max_length, "points": points, "window": window,
        "lengths": lengths, "layers": layers_of(config), "heads": heads, "head_dim": head_dim,
        "full_pairs": max_length ** 2, "window_pairs": pairs, "window_share": _r(pairs / max_length ** 2),
        # The scores attention holds at the longest length (float32, every head): the blocks also compute the
        # masked corners of their 3-block spans, so a little more than the band itself.
        "scores_mb": {"full": _mb(heads * max_length ** 2 * 4), "window": _mb(heads * blocks * window ** 2 * 3 * 4)},
        # The band row by row: the first and last key each query may attend to (what the picture draws).
        "mask": {"tokens": shown, "allowed": [[int(row.argmax()), int(shown - 1 - row[::-1].argmax())]
                                              for row in sliding_window_mask(shown, window)]},
        "expected_quadratic_share": _r(expected),
        "forward_ms": [_r(t) for t in forward_ms],
        "fit": {"constant_ms": _r(a), "per_token_ms": _r(b, 6), "per_token_squared_ms": float(f"{c:.4g}")},
        "fit_curve": {"lengths": grid, "total_ms": [_r(a + b * n + c * n * n) for n in grid],
                      "quadratic_ms": [_r(c * n * n) for n in grid]},
        "quadratic_share": _r(c * max_length ** 2 / at_max) if physical else None,
        "attention_alone": alone,
        "notes": notes,
    }


def one_layer(config):
    """A model of one layer with this config's shapes (random weights) and sdpa attention, as the app runs."""
    import copy

    from transformers import AutoModel

    config = copy.deepcopy(config)
    config.num_hidden_layers = 1
    if getattr(config, "layer_types", None):  # per-layer kinds (sliding or full attention): keep the first
        config.layer_types = config.layer_types[:1]
    config.vocab_size, config.pad_token_id = VOCABULARY, None
    return AutoModel.from_config(config, attn_implementation="sdpa").float().eval()


def _attention_alone(lengths: list[int], heads: int, head_dim: int, window: int, repeats: int) -> dict:
    """Attention of the model's heads and head size on random values (speed does not depend on them), one head
    at a time (the full scores of all heads at 2,048 tokens would hold 150 MB), timed full and windowed at each
    length; and how far apart their outputs are at the longest (float rounding only)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(heads, lengths[-1], head_dim, generator=generator) for _ in range(3))

    def by_head(attend, n):
        return [attend(q[h:h + 1, :n], k[h:h + 1, :n], v[h:h + 1, :n]) for h in range(heads)]

    full_ms, window_ms = [], []
    with torch.inference_mode():
        windowed_attention(q[:1, :64], k[:1, :64], v[:1, :64], window)  # warm-up
        for n in lengths:
            full_ms.append(_r(_best_ms(lambda n=n: by_head(full_attention, n), repeats)))
            window_ms.append(_r(_best_ms(lambda n=n: by_head(
                lambda *qkv: windowed_attention(*qkv, window), n), repeats)))
        mask = torch.from_numpy(sliding_window_mask(lengths[-1], window))
        difference = max(float((full_attention(q[h:h + 1], k[h:h + 1], v[h:h + 1], mask) - windowed_attention(
            q[h:h + 1], k[h:h + 1], v[h:h + 1], window)).abs().max()) for h in range(heads))
    return {"full_ms": full_ms, "window_ms": window_ms, "max_difference": float(f"{difference:.3g}")}


def _best_ms(call, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _mb(nbytes: int) -> float:
    return round(nbytes / 2**20, 2)


def _r(value: float, digits: int = DIGITS) -> float:
    return round(float(value), digits)
