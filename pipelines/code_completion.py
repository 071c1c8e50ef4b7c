"""Code completion: code in, a streamed continuation out, cut at a sensible boundary.

Generation ends at the first stop sequence (by default the start of the next top-level statement:
a new `def`, `class`, `if __name__`, or two blank lines), at the token limit, or on Stop. The stop
sequence itself is not part of the completion. Code models continue raw text: no chat template.
"""

from __future__ import annotations

import codecs
import threading
from dataclasses import replace
from typing import Iterator

from pipelines.causal_lm import GenerationParams, Partial, encode, load, stream  # noqa: F401 (load: registry)
from pipelines.errors import UserInputError, check_length

TASK_ID = "code-completion"
# Shown escaped in the UI ("\ndef "), so a person can see and type the newline. "```" ends the code
# block that instruction-tuned models (SmolLM2) write their code in.
DEFAULT_STOP_SEQUENCES = ("\ndef ", "\nclass ", "\nif __name__", "\n\n\n", "\n```")
# Greedy by default: completions should be the model's best guess and repeatable.
DEFAULT_PARAMS = GenerationParams(max_new_tokens=64, do_sample=False, repetition_penalty=1.0)


def parse_stop_sequences(items) -> tuple[str, ...]:
    """Stop sequences typed with escapes ("\\n", "\\t") into the strings they stand for."""
    stops = []
    for item in items or ():
        if not isinstance(item, str) or item == "":
            continue
        try:
            text = codecs.decode(item, "unicode_escape")
        except UnicodeDecodeError as exc:
            raise UserInputError(f"Stop sequence {item!r} has a broken escape ({exc.reason}).") from exc
        if text not in stops:
            stops.append(text)
    return tuple(stops)


def cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """The text before the earliest stop sequence, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def complete(models, code: str, model_id: str | None = None, params: GenerationParams = DEFAULT_PARAMS,
             stop_sequences: tuple[str, ...] = DEFAULT_STOP_SEQUENCES,
             stop: threading.Event | None = None) -> Iterator[Partial]:
    if not (code or "").strip():
        raise UserInputError("Type the start of some code first, for example: def add(a, b):")
    check_length(code, models.settings.max_input_chars, "code")
    params = replace(params, stop_sequences=tuple(stop_sequences)).checked()
    lm = models.get(TASK_ID, model_id).bundle
    # generate() stops on the token that completes a stop sequence; the text still contains it.
    for part in stream(lm, encode(lm, code, use_chat=False), params, stop):
        yield replace(part, text=cut_at_stop(part.text, params.stop_sequences)[0])
