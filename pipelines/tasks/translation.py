"""Translation between English, German, French and Spanish with the Helsinki-NLP opus-mt models.

Each opus-mt checkpoint translates one direction, so the language pair picks the model. A pair with no
direct model (German to French) goes through English with two models, and the result says so. The text
is cut into lines and sentences, translated in batches and put back together: paragraph breaks and line
breaks survive, and no piece comes near Marian's 512-token window (one model call per sentence is also
what opus-mt was trained on; whole paragraphs tend to lose sentences).

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import translation
    models = ModelManager(Settings(model_source="tiny")).task("translation")
    print(translation.translate(models, "Good morning!", "English", "de").text)
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.core import checks
from pipelines.core.bundle import Bundle
from pipelines.core.checks import Progress, no_progress
from pipelines.core.errors import UserInputError
from pipelines.core.registry import Checkpoint
from pipelines.families.seq2seq import (
    BEAMS_HINT,
    MAX_BEAMS,
    cut_to_window,
    generate,
    special_token_count,
    split_sentences,
    window,
)
from pipelines.inside import kept

PIVOT = "en"  # every opus-mt pair we offer has English on one side
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish"}
# Also accepted: the languages' own names, as people outside the English UI may type them.
_ENDONYMS = {"deutsch": "de", "français": "fr", "francais": "fr", "español": "es", "espanol": "es"}


@dataclass(frozen=True)
class Defaults:
    """What the tab shows first and the API uses for parameters left out."""
    source_language: str = "English"
    target_language: str = "German"
    num_beams: int = 4  # what opus-mt's own generation config uses


DEFAULTS = Defaults()
EXAMPLE = "Good morning!"


@dataclass(frozen=True)
class Request:
    """A checked request: what to translate and which models (hops) will do it. Nothing here needs a model."""
    text: str
    source: str  # ISO code
    target: str
    hops: tuple[Checkpoint, ...]  # one model, or two through English
    num_beams: int


@dataclass(frozen=True)
class Translation:
    text: str
    source: str
    target: str
    models: tuple[str, ...]  # repo ids in the order they ran
    sentences: int  # segments translated by the first model
    notes: tuple[str, ...] = ()  # sentences for the status line (the route, when it is not one model)

    @property
    def pivot(self) -> bool:
        return len(self.models) > 1


def name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def language_codes(models) -> list[str]:
    """Languages some checkpoint of the task translates from or to, English first."""
    codes = {code for ckpt in models.spec.checkpoints if ckpt.languages for code in ckpt.languages}
    return [c for c in LANGUAGE_NAMES if c in codes] + sorted(codes - set(LANGUAGE_NAMES))


def language_names(models) -> list[str]:
    return [name(c) for c in language_codes(models)]


def parse_language(models, value: str | None, role: str = "source") -> str:
    """"German", "german", "DE", "de" or "Deutsch" -> "de"; anything else is refused with the choices."""
    key = str(value or "").strip().lower()  # str(): the API may send a number
    codes = language_codes(models)
    choices = ", ".join(f"{name(c)} ({c})" for c in codes)
    if not key:
        raise UserInputError(f"Choose a {role} language: {choices}.")
    for code in codes:
        if key in (code, name(code).lower()) or _ENDONYMS.get(key) == code:
            return code
    raise UserInputError(f"Unknown {role} language {value!r}. Choose one of: {choices}.")


def route(models, source: str, target: str) -> tuple[Checkpoint, ...]:
    """The checkpoint for source->target, or the two through English when there is no direct one."""
    direct = {ckpt.languages: ckpt for ckpt in models.spec.checkpoints if ckpt.languages}
    if (source, target) in direct:
        return (direct[(source, target)],)
    if (source, PIVOT) in direct and (PIVOT, target) in direct:
        return direct[(source, PIVOT)], direct[(PIVOT, target)]
    raise UserInputError(f"No model translates {name(source)} to {name(target)}, directly or through "
                         "English. Pick another pair.")


def check(models, text: str, source_language: str | None = DEFAULTS.source_language,
          target_language: str | None = DEFAULTS.target_language, num_beams=DEFAULTS.num_beams) -> Request:
    """Check everything before any model is loaded, so a bad request costs nothing."""
    text = checks.text("text", text, models.settings.max_input_chars, strip=False,
                       empty=f"Type or paste some text to translate, for example: {EXAMPLE}",
                       advice="Translate it in parts.")
    source = parse_language(models, source_language, "source")
    target = parse_language(models, target_language, "target")
    if source == target:
        raise UserInputError(f"Source and target are both {name(source)}: pick a different target language.")
    hops = route(models, source, target)
    return Request(text, source, target, hops, checks.whole_number("Beams", num_beams, 1, MAX_BEAMS, BEAMS_HINT))


def run(models, request: Request, progress: Progress = no_progress) -> Translation:
    if models.remote:  # an Inference Endpoint translates (pipelines/remote/): nothing loads here
        from pipelines.remote import hf_endpoint

        return hf_endpoint.translate(models, request, progress)
    text, counted = request.text, 0
    hops = len(request.hops)
    for hop, ckpt in enumerate(request.hops):
        src, tgt = ckpt.languages

        # generate() reports "done/total" of this hop; the bar covers all hops, the message names the pair.
        def report(fraction: float, counts: str, hop=hop, src=src, tgt=tgt) -> None:
            progress((hop + fraction) / hops, f"{name(src)}→{name(tgt)}: {counts} sentences")

        text, segments = translate_text(models.bundle(ckpt.repo_id), text, request.num_beams, report)
        counted = counted or segments
    notes = ()
    if hops > 1:
        first, second = (c.repo_id.split("/")[-1] for c in request.hops)
        notes = (f"No direct {name(request.source)}→{name(request.target)} model: translated through English "
                 f"({first}, then {second}), so errors of both models add up.",)
    return Translation(text, request.source, request.target, tuple(c.repo_id for c in request.hops), counted,
                       notes)


def translate(models, text: str, source_language: str | None = DEFAULTS.source_language,
              target_language: str | None = DEFAULTS.target_language, num_beams=DEFAULTS.num_beams,
              progress: Progress = no_progress) -> Translation:
    """check() then run(): the whole task in one call."""
    return run(models, check(models, text, source_language, target_language, num_beams), progress)


def translate_text(s2s: Bundle, text: str, num_beams: int, progress: Progress = no_progress) -> tuple[str, int]:
    """Translate line by line, sentence by sentence, keeping blank lines and indentation.

    A segment gets at most half the window, so that its translation, allowed about twice as many tokens
    (German often takes more than English), still fits the decoder's 512 positions; a longer sentence
    is cut between words.
    """
    size = window(s2s)
    budget = size // 2 - special_token_count(s2s)
    lines = text.strip("\n").splitlines()
    layout: list[tuple[str, int]] = []  # (indentation, number of segments) per line
    segments: list[str] = []
    for line in lines:
        pieces = [p for sentence in split_sentences(line) for p in cut_to_window(s2s, sentence, budget)]
        layout.append((line[:len(line) - len(line.lstrip())] if pieces else "", len(pieces)))
        segments += pieces
    translated = generate(s2s, segments, max_new_tokens=lambda n: min(size - 1, 2 * n + 16),
                          num_beams=num_beams, progress=progress) if segments else []
    out, cursor = [], 0
    for indent, count in layout:
        line = " ".join(t.text for t in translated[cursor:cursor + count] if t.text)
        out.append(indent + line if count else "")
        cursor += count
    result = "\n".join(out)
    # For Look inside: each sentence with its own translation, as the model read and wrote them.
    kept.keep(s2s, kept.SEGMENT_PAIRS, (text, result), tuple((seg, t.text) for seg, t in zip(segments, translated)))
    return result, len(segments)
