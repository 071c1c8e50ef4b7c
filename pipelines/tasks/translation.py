"""Translation between English, German, French and Spanish with the Helsinki-NLP opus-mt models.

Each opus-mt checkpoint translates one direction, so the language pair picks the model. A pair with no
direct model (German to French) goes through English with two models, and the result says so. The text
is cut into lines and sentences, translated in batches and put back together: paragraph breaks and line
breaks survive, and no piece comes near Marian's 512-token window (one model call per sentence is also
what opus-mt was trained on; whole paragraphs tend to lose sentences).

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import translation
    models = ModelManager(Settings(model_source="tiny"))
    print(translation.translate(models, "Good morning!", "English", "de").text)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pipelines.core.checks import check_length
from pipelines.core.errors import UserInputError
from pipelines.core.registry import Checkpoint, task
from pipelines.families.seq2seq import (
    check_beams,
    cut_to_window,
    generate,
    load,  # noqa: F401 (the registry's loader for this task)
    special_token_count,
    split_sentences,
)

TASK_ID = "translation"
PIVOT = "en"  # every opus-mt pair we offer has English on one side
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish"}
# Also accepted: the languages' own names, as people outside the English UI may type them.
_ENDONYMS = {"deutsch": "de", "français": "fr", "francais": "fr", "español": "es", "espanol": "es"}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TranslationJob:
    """A checked request: what to translate and which models (hops) will do it."""
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

    @property
    def pivot(self) -> bool:
        return len(self.models) > 1

    @property
    def note(self) -> str:
        """One sentence for the status line when the route is not a single direct model."""
        if not self.pivot:
            return ""
        first, second = (m.split("/")[-1] for m in self.models)
        return (f"No direct {name(self.source)}→{name(self.target)} model: translated through English "
                f"({first}, then {second}), so errors of both models add up.")


def name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def language_codes() -> list[str]:
    """Languages some registry checkpoint translates from or to, English first."""
    codes = {code for ckpt in task(TASK_ID).checkpoints if ckpt.languages for code in ckpt.languages}
    return [c for c in LANGUAGE_NAMES if c in codes] + sorted(codes - set(LANGUAGE_NAMES))


def language_names() -> list[str]:
    return [name(c) for c in language_codes()]


def parse_language(value: str | None, role: str = "source") -> str:
    """"German", "german", "DE", "de" or "Deutsch" -> "de"; anything else is refused with the choices."""
    key = (value or "").strip().lower()
    choices = ", ".join(f"{name(c)} ({c})" for c in language_codes())
    if not key:
        raise UserInputError(f"Choose a {role} language: {choices}.")
    for code in language_codes():
        if key in (code, name(code).lower()) or _ENDONYMS.get(key) == code:
            return code
    raise UserInputError(f"Unknown {role} language {value!r}. Choose one of: {choices}.")


def route(source: str, target: str) -> tuple[Checkpoint, ...]:
    """The checkpoint for source->target, or the two through English when there is no direct one."""
    direct = {ckpt.languages: ckpt for ckpt in task(TASK_ID).checkpoints}
    if (source, target) in direct:
        return (direct[(source, target)],)
    if (source, PIVOT) in direct and (PIVOT, target) in direct:
        return direct[(source, PIVOT)], direct[(PIVOT, target)]
    raise UserInputError(f"No model translates {name(source)} to {name(target)}, directly or through "
                         "English. Pick another pair.")


def prepare(models, text: str, source_language: str, target_language: str, num_beams=4) -> TranslationJob:
    """Check everything before any model is loaded, so a bad request costs nothing."""
    if not (text or "").strip():
        raise UserInputError("Type or paste some text to translate, for example: Good morning!")
    check_length(text, models.settings.max_input_chars, "text", "Translate it in parts.")
    source = parse_language(source_language, "source")
    target = parse_language(target_language, "target")
    if source == target:
        raise UserInputError(f"Source and target are both {name(source)}: pick a different target language.")
    return TranslationJob(text, source, target, route(source, target), check_beams(num_beams))


def run(models, job: TranslationJob, on_progress: Progress | None = None) -> Translation:
    text, counted = job.text, 0
    for hop, ckpt in enumerate(job.hops):
        s2s = models.get(TASK_ID, ckpt.repo_id).bundle
        src, tgt = ckpt.languages

        def report(done: int, total: int, hop=hop, src=src, tgt=tgt) -> None:
            if on_progress is not None:
                on_progress((hop + done / total) / len(job.hops),
                            f"{name(src)}→{name(tgt)}: {done}/{total} sentences")

        text, segments = translate_text(s2s, text, job.num_beams, report)
        counted = counted or segments
    return Translation(text, job.source, job.target, tuple(c.repo_id for c in job.hops), counted)


def translate(models, text: str, source_language: str, target_language: str, num_beams=4,
              on_progress: Progress | None = None) -> Translation:
    return run(models, prepare(models, text, source_language, target_language, num_beams), on_progress)


def translate_text(s2s, text: str, num_beams: int, on_batch=None) -> tuple[str, int]:
    """Translate line by line, sentence by sentence, keeping blank lines and indentation.

    A segment gets at most half the window, so that its translation, allowed about twice as many tokens
    (German often takes more than English), still fits the decoder's 512 positions; a longer sentence
    is cut between words.
    """
    budget = s2s.window // 2 - special_token_count(s2s)
    lines = text.strip("\n").splitlines()
    layout: list[tuple[str, int]] = []  # (indentation, number of segments) per line
    segments: list[str] = []
    for line in lines:
        pieces = [p for sentence in split_sentences(line) for p in cut_to_window(s2s, sentence, budget)]
        layout.append((line[:len(line) - len(line.lstrip())] if pieces else "", len(pieces)))
        segments += pieces
    translated = generate(s2s, segments, max_new_tokens=lambda n: min(s2s.window - 1, 2 * n + 16),
                          num_beams=num_beams, on_batch=on_batch) if segments else []
    out, cursor = [], 0
    for indent, count in layout:
        line = " ".join(t.text for t in translated[cursor:cursor + count] if t.text)
        out.append(indent + line if count else "")
        cursor += count
    return "\n".join(out), len(segments)
