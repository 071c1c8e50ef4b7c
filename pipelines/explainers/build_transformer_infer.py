"""Using a trained (or training) model: greedy reversal, exact match on the held-out sentences, and the
cross-attention map (the course's "Visualizing Attention Weights", chapter 11, without matplotlib: the
page draws the plain numbers).

Cross-attention is read from one teacher-forced pass with the words the decoder writes as its input:
thanks to the causal mask this is exactly what each step of generation saw (a position never sees a
later one), in one pass instead of one per word.
"""

from __future__ import annotations

from pipelines.explainers import build_transformer_data as data


def reverse_many(model, sentences) -> list[tuple[str, ...]]:
    """The model's greedy output for each sentence, as words (what it writes before EOS)."""
    import torch

    src, _, _ = data.encode(sentences)
    with torch.inference_mode():  # no dropout in this model: train and eval modes are the same
        ids = model.greedy(src, data.MAX_LEN)
    return [data.decode(row) for row in ids.tolist()]


def exact_match(sentences, outputs) -> dict:
    """Share of sentences reversed exactly (every word and the end in place), and of tokens right."""
    exact = right = total = 0
    for sentence, output in zip(sentences, outputs):
        expected = tuple(reversed(sentence))
        exact += output == expected
        right += sum(o == e for o, e in zip(output, expected)) + (len(output) == len(expected))
        total += len(expected) + 1
    return {"exact_match": round(exact / len(sentences), 4), "token_accuracy": round(right / total, 4)}


def cross_attention(model, sentence, written, layer: int | None = None, heads: bool = False) -> dict:
    """The decoder's cross-attention while it writes `written` (then the end) for `sentence`: rows are the
    tokens written, columns the sentence's words and its EOS; `layer` from 1 (default: the last). The
    map is the mean over heads; `heads=True` adds each head's map."""
    import torch

    written = tuple(written)[: data.MAX_WORDS]
    src, _, _ = data.encode([sentence])
    tgt = torch.tensor([[1] + [data.INDEX[w] for w in written]])  # BOS, then the words written
    layers = len(model.decoder.layers)
    layer = layers if layer is None else layer
    with torch.inference_mode():
        _, cross = model(src[:, : len(sentence) + 1], tgt)
    maps = cross[layer - 1][0]  # (heads, rows, cols)
    result = {"layer": layer, "layers": layers, "rows": [*written, data.SPECIALS[2]],
              "cols": [*sentence, data.SPECIALS[2]], "cross_attention": _rounded(maps.mean(0))}
    if heads:
        result["heads"] = [_rounded(m) for m in maps]
    return result


def _rounded(matrix) -> list[list[float]]:
    return [[round(v, 4) for v in row] for row in matrix.tolist()]
