"""Code completion: code in, a streamed continuation out, cut at a sensible boundary.

Generation ends at the first stop sequence (by default the start of the next top-level statement:
a new `def`, `class`, `if __name__`, or two blank lines), at the token limit, or on Stop. The stop
sequence itself is not part of the completion. Code models continue raw text: no chat template.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Iterator

from pipelines.core import checks
from pipelines.core.errors import UserInputError
from pipelines.families.causal_lm import GenerationParams, Partial, cut_at_stop, encode, stream

# Shown escaped in the UI ("\ndef "), so a person can see and type the newline. "```" ends the code
# block that instruction-tuned models (SmolLM2) write their code in.
DEFAULT_STOP_SEQUENCES = ("\ndef ", "\nclass ", "\nif __name__", "\n\n\n", "\n```")
# Greedy by default: completions should be the model's best guess and repeatable. When sampling is
# chosen, a low temperature keeps code plausible.
DEFAULTS = GenerationParams(max_new_tokens=64, do_sample=False, temperature=0.2, repetition_penalty=1.0,
                            stop_sequences=DEFAULT_STOP_SEQUENCES)
MAX_NEW_TOKENS = 512
EXAMPLE = "def add(a, b):"


@dataclass(frozen=True)
class Request:
    code: str  # as typed: the completion continues exactly this text
    model_id: str
    params: GenerationParams


def parse_stop_sequences(items) -> tuple[str, ...]:
    """Stop sequences typed with escapes ("\\n", "\\t") into the strings they stand for."""
    stops = []
    for item in items or ():
        if not isinstance(item, str) or item == "":
            continue
        try:
            # Escapes only: other characters (an arrow, an accent) stay as typed, not read as Latin-1 bytes.
            text = item.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError as exc:
            raise UserInputError(f"Stop sequence {item!r} has a broken escape ({exc.reason}).") from exc
        if text not in stops:
            stops.append(text)
    return tuple(stops)


def check(models, code: str, model_id: str | None = None, params: GenerationParams = DEFAULTS) -> Request:
    code = checks.text("code", code, models.settings.max_input_chars, strip=False,
                       empty=f"Type the start of some code first, for example: {EXAMPLE}")
    return Request(code, models.checkpoint(model_id).repo_id, params.checked(MAX_NEW_TOKENS))


def run(models, request: Request, stop: threading.Event | None = None) -> Iterator[Partial]:
    if models.remote:  # plain completions on a serving engine, cut at the stop sequences there and here
        from pipelines.remote import openai_compat

        yield from openai_compat.stream_text(models, request.model_id, request.params, request.code, False, stop)
        return
    lm = models.bundle(request.model_id)
    stops = request.params.stop_sequences
    # generate() stops on the token that completes a stop sequence; the text still contains it.
    for part in stream(lm, encode(lm, request.code, use_chat=False), request.params, stop):
        yield replace(part, text=cut_at_stop(part.text, stops)[0])


def complete(models, code: str, model_id: str | None = None, params: GenerationParams = DEFAULTS,
             stop: threading.Event | None = None) -> Iterator[Partial]:
    """check() then run(): the whole task in one call."""
    yield from run(models, check(models, code, model_id, params), stop)
