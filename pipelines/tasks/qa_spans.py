"""Extractive span selection: from a reader's start/end logits to an answer in the original context.

Pure numpy, no torch: it takes plain arrays, so every rule below is tested exactly on hand-set scores
(tests/test_question_answering.py). `pipelines/tasks/question_answering.py` feeds it the model's logits.

A long context is split into W overlapping windows of T tokens; each window holds the question, the
context slice, special tokens and padding. For every window:
- a span is (start, end) with start <= end, both on *context* tokens (never the question, special or
  padding tokens), at most `max_answer_tokens` long; its score is start_logit[start] + end_logit[end],
  as in Hugging Face's run_qa post-processing;
- the null ("no answer") score is start_logit[0] + end_logit[0], the CLS token.
The best span over all windows wins (ties: the earlier window, then the earlier and shorter span).
Models trained on SQuAD 2.0 may answer "no answer": like Hugging Face we take the *smallest* null score
over the windows (the window that is most sure an answer exists speaks for the context) and answer
"no answer" only if it beats the best span. SQuAD 1.1 models always answer with a span.

Logits of different windows are comparable (no per-window normalisation), which is why they rank spans.
The confidence shown to people is a probability in [0, 1] computed inside the chosen window, as the
old transformers question-answering pipeline did: softmax of start logits times softmax of end logits,
each over the positions the model may pick (context tokens, plus CLS when "no answer" is allowed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NULL_INDEX = 0  # the CLS token: where SQuAD 2.0 readers point both ends for "no answer"


@dataclass(frozen=True)
class SpanChoice:
    has_answer: bool
    start_char: int  # character offsets into the context: context[start_char:end_char] is the answer
    end_char: int
    score: float  # probability in [0, 1] of this choice, within its window
    logit: float  # start_logit + end_logit of the span (or the null score for "no answer")
    window: int  # index of the window it came from
    start_token: int  # token positions within that window (both NULL_INDEX for "no answer")
    end_token: int


def best_span(start_logits, end_logits, offsets, context_mask, max_answer_tokens: int = 30,
              allow_no_answer: bool = False) -> SpanChoice | None:
    """Choose the answer span over all windows.

    start_logits, end_logits: (W, T) floats.  offsets: (W, T, 2) character (start, end) of each token in
    the context.  context_mask: (W, T) booleans, True on context tokens (sequence id 1); padding,
    special and question tokens are False.  Returns None only when no window has a context token and
    "no answer" is not allowed.
    """
    starts, ends = _as_2d(start_logits, np.float64), _as_2d(end_logits, np.float64)
    mask = _as_2d(context_mask, bool)
    offsets = np.asarray(offsets).reshape(starts.shape + (2,))
    if not (starts.shape == ends.shape == mask.shape):
        raise ValueError(f"shapes differ: start {starts.shape}, end {ends.shape}, mask {mask.shape}")
    if max_answer_tokens < 1:
        raise ValueError("max_answer_tokens must be at least 1")

    best: SpanChoice | None = None
    null: tuple[float, int] | None = None  # (smallest null score, its window)
    for w in range(starts.shape[0]):
        span = _best_in_window(starts[w], ends[w], mask[w], max_answer_tokens)
        if span is not None and (best is None or span[2] > best.logit):
            s, e, logit = span
            best = SpanChoice(True, int(offsets[w, s, 0]), int(offsets[w, e, 1]),
                              _probability(starts[w], ends[w], mask[w], s, e, allow_no_answer),
                              logit, w, s, e)
        null_score = float(starts[w, NULL_INDEX] + ends[w, NULL_INDEX])
        if null is None or null_score < null[0]:
            null = (null_score, w)

    if allow_no_answer and null is not None and (best is None or null[0] > best.logit):
        w = null[1]
        p = _probability(starts[w], ends[w], mask[w], NULL_INDEX, NULL_INDEX, True)
        return SpanChoice(False, 0, 0, p, null[0], w, NULL_INDEX, NULL_INDEX)
    return best


def _as_2d(a, dtype) -> np.ndarray:
    """One window may be given as 1-D arrays."""
    a = np.asarray(a, dtype=dtype)
    return a[None, :] if a.ndim == 1 else a


def _best_in_window(starts, ends, mask, max_answer_tokens: int) -> tuple[int, int, float] | None:
    """(start, end, start_logit + end_logit) of the best allowed span of one window, or None."""
    n = len(starts)
    i, j = np.indices((n, n))  # i: start position, j: end position
    allowed = mask[:, None] & mask[None, :] & (j >= i) & (j - i < max_answer_tokens)
    if not allowed.any():
        return None
    scores = np.where(allowed, starts[:, None] + ends[None, :], -np.inf)
    # argmax returns the first maximum in row-major order: ties go to the earlier start, then end.
    s, e = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(s), int(e), float(scores[s, e])


def _probability(starts, ends, mask, s: int, e: int, allow_no_answer: bool) -> float:
    """P(start = s) * P(end = e), each a softmax over the positions the model may pick."""
    choosable = mask.copy()
    if allow_no_answer:
        choosable[NULL_INDEX] = True
    return float(_softmax_at(starts, choosable, s) * _softmax_at(ends, choosable, e))


def _softmax_at(logits, choosable, index: int) -> float:
    picked = logits[choosable]
    top = picked.max()
    return float(np.exp(logits[index] - top) / np.exp(picked - top).sum())
