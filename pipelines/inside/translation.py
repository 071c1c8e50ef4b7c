"""Look inside translation: the cross-attention alignment of each sentence with its translation
(pipelines/inside/alignment.py).

The tab translates line by line and sentence by sentence (pipelines/tasks/translation.py), so the model
never saw two sentences together: each sentence is aligned with its own translation. The source is cut
with the task's own functions; the translation of a line is cut into sentences too, and when a line's
sentences did not come back one for one (two sentences merged into one), that line is aligned as a
whole, with a note. A pair through English (no direct model) is shown as its two hops: the English in
between is not on screen, so it is translated again (beam search is deterministic: the same English).
"""

from __future__ import annotations

from pipelines.families.seq2seq import cut_to_window, special_token_count, split_sentences, window
from pipelines.inside import kept, local_bundle
from pipelines.inside.alignment import align
from pipelines.tasks import translation

MAX_PAIRS = 12  # sentences shown per hop: enough for a letter, and the page stays readable


def segments(s2s, text: str) -> list[list[str]]:
    """Each line of `text` as the task cuts it (translation.translate_text): its list of segments."""
    budget = window(s2s) // 2 - special_token_count(s2s)
    return [[p for sentence in split_sentences(line) for p in cut_to_window(s2s, sentence, budget)]
            for line in text.strip("\n").splitlines()]


def pairs(s2s, source: str, output: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(source segment, its translation) pairs in order, and notes on lines aligned as a whole. The run's own
    pairs when it kept them (pipelines/inside/kept.py): exactly what the model read and wrote each time."""
    ran = kept.recall(s2s, kept.SEGMENT_PAIRS, (source, output))
    if ran is not None:
        return [(segment, out) for segment, out in ran if out.strip()], []
    lines = segments(s2s, source)
    translated = output.strip("\n").split("\n")
    if len(translated) != len(lines):
        return [(" ".join(s for line in lines for s in line), output.strip())], [
            "The translation's lines do not match the text's (was it edited?): the whole text is aligned "
            "as one, which is not how it was translated."]
    found, notes = [], []
    for number, (line, out) in enumerate(zip(lines, translated), 1):
        if not line:
            continue
        outs = split_sentences(out.strip())
        if len(outs) == len(line):
            found += list(zip(line, outs))
        else:
            found.append((" ".join(line), out.strip()))
            notes.append(f"Line {number}: its {len(line)} sentences came back as {len(outs)}, so the line is "
                         "aligned as a whole (the model read them one at a time).")
    return found, notes


def explain(models, text, source_language=translation.DEFAULTS.source_language,
            target_language=translation.DEFAULTS.target_language, num_beams=translation.DEFAULTS.num_beams,
            translated="") -> dict:
    """The alignment of each sentence of `text` with its part of `translated` (the translation the tab
    showed), averaged over the decoder's layers and heads; two hops for a pair through English."""
    request = translation.check(models, text, source_language, target_language, num_beams)
    if not (translated or "").strip():
        return {"hops": [], "message": "The translation is empty: there is nothing to align."}
    hops, notes = [], []
    texts = [request.text]
    for i, ckpt in enumerate(request.hops):
        s2s = local_bundle(models, ckpt.repo_id, attention="eager")
        if i + 1 < len(request.hops):  # the English in between (see the docstring)
            texts.append(translation.translate_text(s2s, texts[-1], request.num_beams)[0])
        else:
            texts.append(translated)
        found, hop_notes = pairs(s2s, texts[-2], texts[-1])
        notes += hop_notes
        if len(found) > MAX_PAIRS:
            notes.append(f"{ckpt.repo_id.split('/')[-1]}: the first {MAX_PAIRS} of {len(found)} sentences are shown.")
            found = found[:MAX_PAIRS]
        aligned = align(s2s, [s for s, _ in found], [o for _, o in found])
        if not all(a["round_trip"] for a in aligned):
            notes.append("Some translated text does not read back exactly from its tokens: the alignment is of "
                         "the tokenizer's own pieces of it.")
        src, tgt = ckpt.languages
        hops.append({"model_id": ckpt.repo_id, "source": translation.name(src), "target": translation.name(tgt),
                     "pairs": [{"source": s, "output": o, **a} for (s, o), a in zip(found, aligned)]})
    if len(request.hops) > 1:
        notes.append("No direct model for this pair: both hops are shown, through the English translated again.")
    return {"model_id": request.hops[-1].repo_id, "hops": hops, "notes": notes}
