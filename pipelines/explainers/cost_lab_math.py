"""The arithmetic of attention's cost, apart from any timing (cost_lab_attention.py measures; this counts).

    fit_quadratic(lengths, values)          least-squares a, b, c of a + b·n + c·n²
    sliding_window_mask(n, window)          Longformer's band: which key each query may attend to
    window_pairs(n, window)                 the band's allowed pairs, counted by formula
    full_attention(q, k, v, mask)           the course's softmax(Q·Kᵀ / √d_k)·V over all n² pairs
    windowed_attention(q, k, v, window)     the same under the band, computing only the band's scores
    quadratic_share(model, n)               the n² term's share of a decoder layer's multiply-adds
"""

from __future__ import annotations

import math


def fit_quadratic(lengths: list[float], values: list[float]) -> tuple[float, float, float]:
    """Least-squares a, b, c of value ≈ a + b·n + c·n² (at least three distinct lengths)."""
    import numpy as np

    n = np.asarray(lengths, dtype=np.float64)
    design = np.stack([np.ones_like(n), n, n * n], axis=1)
    (a, b, c), *_ = np.linalg.lstsq(design, np.asarray(values, dtype=np.float64), rcond=None)
    return float(a), float(b), float(c)


def sliding_window_mask(n: int, window: int):
    """Which key each query may attend to: |query - key| ≤ window (a band around the diagonal), n × n bools."""
    import numpy as np

    positions = np.arange(n)
    return np.abs(positions[:, None] - positions[None, :]) <= window


def window_pairs(n: int, window: int) -> int:
    """The band's allowed pairs, counted without building it: the diagonal, and each offset d = 1..window
    twice (above and below), n - d pairs each. About n·(2·window + 1): linear in n, where full attention is n²."""
    reach = min(window, n - 1)
    return n + 2 * sum(n - d for d in range(1, reach + 1))


def full_attention(q, k, v, mask=None):
    """The course's softmax(Q·Kᵀ / √d_k)·V over all pairs; `mask` (n × n bools) hides the pairs it marks False."""
    import torch

    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def windowed_attention(q, k, v, window: int):
    """The same as full_attention with the sliding-window mask, computing only the scores in the band.

    The text is cut into blocks of `window` tokens; a block's queries can only reach keys in that block and the
    blocks on either side, so each block scores 3·window keys instead of n. Positions outside the band (and
    the padding at both ends) are masked inside those few scores."""
    import torch
    import torch.nn.functional as F

    heads, n, dim = q.shape
    w = window
    blocks = -(-n // w)
    pad = blocks * w - n
    queries = F.pad(q, (0, 0, 0, pad)).view(heads, blocks, w, dim)

    def spans(x):  # each block with its left and right neighbours: (heads, blocks, 3w, dim)
        padded = F.pad(x, (0, 0, w, pad + w)).view(heads, blocks + 2, w, dim)
        return torch.cat([padded[:, :-2], padded[:, 1:-1], padded[:, 2:]], dim=2)

    scores = queries @ spans(k).transpose(-1, -2) / math.sqrt(dim)  # (heads, blocks, w, 3w)
    query_pos = torch.arange(blocks * w).view(blocks, w, 1)
    key_pos = ((torch.arange(blocks) - 1) * w).view(blocks, 1, 1) + torch.arange(3 * w).view(1, 1, 3 * w)
    allowed = ((query_pos - key_pos).abs() <= w) & (key_pos >= 0) & (key_pos < n)
    weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
    return (weights @ spans(v)).reshape(heads, blocks * w, dim)[:, :n]


def quadratic_share(model, n: int) -> float:
    """The n² part's share of a causal decoder's multiply-adds at n tokens, from its shapes: per layer
    2·n²·heads·head_dim for Q·Kᵀ and the weights times V over the n²/2 pairs a causal model reads (a causal
    kernel skips the blocks above the diagonal), against 2·n·(the weights of the layer's matrices)."""
    heads, head_dim = heads_of(model.config)
    layers = layers_of(model.config)
    embeddings = {id(p) for m in (model.get_input_embeddings(), model.get_output_embeddings()) if m is not None
                  for p in m.parameters()}
    matrices = sum(p.numel() for p in model.parameters() if p.dim() == 2 and id(p) not in embeddings)
    quadratic = layers * 2 * n * n * heads * head_dim
    return quadratic / (quadratic + 2 * n * matrices)


def heads_of(config) -> tuple[int, int]:
    """Query heads and head size (Llama-style configs and GPT-2's)."""
    heads = int(getattr(config, "num_attention_heads", None) or config.n_head)
    hidden = int(getattr(config, "hidden_size", None) or config.n_embd)
    return heads, int(getattr(config, "head_dim", None) or hidden // heads)


def layers_of(config) -> int:
    return int(getattr(config, "num_hidden_layers", None) or config.n_layer)
