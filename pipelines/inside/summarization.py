"""Look inside summarization: where in the text the model looked while it wrote each summary token
(the cross-attention alignment of pipelines/inside/alignment.py), and how much of its attention each
sentence of the text got.

Only a text that fit the model's window was summarized in one pass over the text itself. A longer one
was summarized in chunks and the summary shown is a summary of the chunk summaries: its words were not
written while reading the text, so there is no alignment with the text to show, and the view says so.
"""

from __future__ import annotations

from pipelines.families.seq2seq import split_sentences, token_count, window
from pipelines.inside import local_bundle
from pipelines.inside.alignment import align
from pipelines.tasks import summarization

D = summarization.DEFAULTS
OTHER = "(special tokens, prefix)"  # where attention rests when it is on no sentence (BART's </s>, T5's prefix)


def sentence_owners(tokenizer, prefix: str, text: str) -> tuple[list[str], list[int]]:
    """The text's sentences (as the task splits them) and, for each token the model read, the index of the
    sentence it starts in; special tokens and the prefix (T5's "summarize: ") get -1 (OTHER's row)."""
    sentences = [s for paragraph in text.split("\n") for s in split_sentences(paragraph)]
    ends, cursor = [], 0
    for sentence in sentences:  # split_sentences returns pieces of the text, in order
        cursor = text.find(sentence, cursor) + len(sentence)
        ends.append(len(prefix) + cursor)
    offsets = tokenizer(prefix + text, truncation=True, return_offsets_mapping=True)["offset_mapping"]
    owners = []
    for start, end in offsets:
        if end <= start or start < len(prefix):
            owners.append(-1)
        else:
            owners.append(next((i for i, e in enumerate(ends) if start < e), len(sentences) - 1))
    return sentences, owners


def explain(models, text, model_id=None, min_length=D.min_length, max_length=D.max_length, num_beams=D.num_beams,
            combine=D.combine, summary="") -> dict:
    """The alignment of `summary` (what the tab showed for `text`) with the text, and each summary token's
    attention summed per sentence of the text."""
    request = summarization.check(models, text, model_id, min_length, max_length, num_beams, combine)
    s2s = local_bundle(models, request.model_id, attention="eager")
    prefix = summarization.settings(s2s)["prefix"]
    size, tokens = window(s2s), token_count(s2s, prefix + request.text)
    if tokens > size:
        return {"model_id": request.model_id, "pairs": [], "message": (
            f"This text is {tokens:,} tokens, longer than the model's {size:,}-token window, so it was summarized "
            "in chunks and the summary is a summary of their summaries: it was not written while reading your "
            "text, and there is no alignment with it to show. Look inside the summary of a text that fits the "
            "window.")}
    if not (summary or "").strip():
        return {"model_id": request.model_id, "pairs": [], "message": "The summary is empty: nothing to align."}
    sentences, groups = [], None
    if s2s.tokenizer.is_fast:  # offsets need a `tokenizers` backend (BART's and T5's have one)
        sentences, owners = sentence_owners(s2s.tokenizer, prefix, request.text)
        groups = [[len(sentences) if o < 0 else o for o in owners]]  # the last group: OTHER
        sentences = [*sentences, OTHER]
    pair = align(s2s, [prefix + request.text], [summary], groups)[0]
    notes = [] if pair["round_trip"] else [
        "The summary does not read back exactly from its tokens: the alignment is of the tokenizer's own pieces."]
    by_sentence = pair.pop("by_group", [])
    return {"model_id": request.model_id, "prefix": prefix, "sentences": sentences,
            "pairs": [{"source": prefix + request.text, "output": summary, **pair, "by_sentence": by_sentence}],
            "notes": notes}
