"""Look inside question answering: the reader's start and end scores over the context, the span it chose
and the best rivals, each with the window it came from.

The scores are the ones the tab's run computed, kept beside the model (pipelines/inside/kept.py); when
they are gone, the context is read again exactly as the tab read it (pipelines/tasks/question_answering.py:
the same windows, the same forward passes). The answer is chosen by the same function (qa_spans.best_span),
so the view's best span is the answer shown; a note says so if they differ (the context was edited
while the model read it). Rivals are the next best spans by the same score (start logit + end logit,
the same rules: on context tokens, start <= end, at most the length limit), one per place in the
context (a span seen by two overlapping windows counts once, with its better score); their
probability is computed as the answer's confidence is, within their own window.

The two strips are of the chosen span's window (a long context has many; the view shows the one that
matters): each context token shaded by P(start) and by P(end), the softmaxes the confidence is made of.
"""

from __future__ import annotations

import numpy as np

from pipelines.inside import kept, local_bundle, rounded
from pipelines.tasks import qa_spans
from pipelines.tasks import question_answering as qa

RIVALS = 5


def top_spans(starts, ends, mask, max_answer_tokens: int, count: int) -> list[tuple[float, int, int]]:
    """The `count` best (score, start, end) spans of one window under qa_spans' rules, best first."""
    n = len(starts)
    i, j = np.indices((n, n))
    allowed = mask[:, None] & mask[None, :] & (j >= i) & (j - i < max_answer_tokens)
    scores = np.where(allowed, starts[:, None] + ends[None, :], -np.inf).ravel()
    best = np.argsort(-scores, kind="stable")[:count]
    return [(float(scores[k]), int(k // n), int(k % n)) for k in best if np.isfinite(scores[k])]


def explain(models, question, context, model_id=None, max_answer_tokens=qa.DEFAULT_MAX_ANSWER_TOKENS,
            answer_shown="") -> dict:
    """Start and end scores over the chosen window's context tokens, the chosen span (the answer the tab
    showed: `answer_shown`) and up to RIVALS rival spans with their scores and windows."""
    request = qa.check(models, question, context, model_id, max_answer_tokens)
    reader = local_bundle(models, request.model_id)
    windows = qa.encode_windows(reader.tokenizer, request.question, request.context)
    logits = kept.recall(reader, kept.QA_LOGITS, qa.logits_key(reader, request.question, request.context))
    if logits is None or len(logits[0]) != len(windows["input_ids"]):  # gone (or another tokenizer): read again
        logits = qa.read_windows(reader, windows)
    starts, ends = (a.astype(np.float64) for a in logits)  # copies: the kept arrays stay as they are
    mask = np.array([[sid == 1 for sid in windows.sequence_ids(w)] for w in range(len(starts))])
    offsets = np.asarray(windows["offset_mapping"])
    no_answer = qa.allows_no_answer(reader)
    choice = qa_spans.best_span(starts, ends, offsets, mask, request.max_answer_tokens, allow_no_answer=no_answer)
    if choice is None:
        return {"model_id": request.model_id, "windows": [], "chosen": None, "rivals": [], "strip": [],
                "message": "The model could not read any word of the context."}
    text = request.context
    found: dict[tuple[int, int], dict] = {}
    for w in range(len(starts)):
        for score, s, e in top_spans(starts[w], ends[w], mask[w], request.max_answer_tokens, RIVALS + 1):
            where = (int(offsets[w, s, 0]), int(offsets[w, e, 1]))
            if where not in found or score > found[where]["score"]:
                # The confidence's own definition (qa_spans), so a rival's is comparable to the answer's.
                probability = qa_spans._probability(starts[w], ends[w], mask[w], s, e, no_answer)
                found[where] = {"text": text[where[0]:where[1]], "start": where[0], "end": where[1],
                                "score": rounded(score), "probability": rounded(probability), "window": w}
    ranked = sorted(found.values(), key=lambda r: -r["score"])
    chosen_text = text[choice.start_char:choice.end_char] if choice.has_answer else ""
    chosen = {"text": chosen_text, "start": choice.start_char, "end": choice.end_char, "has_answer": choice.has_answer,
              "score": rounded(choice.logit), "probability": rounded(choice.score), "window": choice.window}
    rivals = [r for r in ranked if (r["start"], r["end"]) != (choice.start_char, choice.end_char)][:RIVALS]
    shown = qa.NO_ANSWER if not choice.has_answer else chosen_text
    matches = (answer_shown or "") == shown
    notes = [] if matches else [
        f"The answer shown above ({answer_shown!r}) is not what the model picks now ({shown!r}): was the text "
        "edited while the model read it? Answer again to look inside this one."]
    if not choice.has_answer:
        notes.append(f"'No answer' won: its score ({chosen['score']:.2f}, start and end both on the first token) "
                     "beat every span's; the rivals are the spans it beat.")
    return {"model_id": request.model_id, "question": request.question, "chosen": chosen, "rivals": rivals,
            "windows": [_window(offsets[w], mask[w]) for w in range(len(starts))],
            "strip": _strip(text, starts[choice.window], ends[choice.window], offsets[choice.window],
                            mask[choice.window], no_answer),
            "matches_shown": matches, "notes": notes}


def _window(offsets, mask) -> dict:
    """The characters of the context one window read."""
    spans = offsets[mask]
    return {"start": int(spans[0][0]), "end": int(spans[-1][1])} if len(spans) else {"start": 0, "end": 0}


def _strip(text: str, starts, ends, offsets, mask, no_answer: bool) -> list[dict]:
    """One window's context tokens: the text before each (spaces), the token, P(start), P(end), logits."""
    choosable = mask.copy()
    if no_answer:
        choosable[qa_spans.NULL_INDEX] = True
    p_start, p_end = (_softmax(logits, choosable) for logits in (starts, ends))
    out, previous = [], None
    for k in np.flatnonzero(mask):
        a, b = int(offsets[k][0]), int(offsets[k][1])
        out.append({"before": text[previous:a] if previous is not None else "", "text": text[a:b], "start_char": a,
                    "p_start": rounded(p_start[k]), "p_end": rounded(p_end[k]),
                    "start_logit": rounded(starts[k], 2), "end_logit": rounded(ends[k], 2)})
        previous = b
    return out


def _softmax(logits, choosable):
    top = logits[choosable].max()
    weights = np.where(choosable, np.exp(logits - top), 0.0)
    return weights / weights.sum()
