"""Summarization with DistilBART (CNN news) or T5 small, including texts longer than the model's window.

An encoder reads at most its window (BART 1,024 tokens, T5 512): anything beyond would be cut off
silently. A longer text is split on sentence boundaries into window-sized chunks, each chunk is
summarized, and (by default) the joined chunk summaries are summarized once more into one summary; the
result says how many chunks there were. T5 reads every task from a text prefix ("summarize: "), which
comes from the checkpoint's own config, as in the transformers v4 pipeline.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import summarization
    models = ModelManager(Settings(model_source="tiny")).task("summarization")
    result = summarization.summarize(models, open("article.txt").read(), min_length=20, max_length=60)
    print(result.input_tokens, result.chunks, result.text)
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.core import checks
from pipelines.core.bundle import Bundle
from pipelines.core.checks import Progress, no_progress
from pipelines.core.errors import UserInputError
from pipelines.families.seq2seq import (
    BEAMS_HINT,
    MAX_BEAMS,
    Output,
    fit_to_window,
    generate,
    special_token_count,
    split_sentences,
    token_count,
    window,
)

MAX_SUMMARY_TOKENS = 512
# Rounds of "summarize the chunk summaries" while they are still longer than the window; a text within
# max_input_chars needs at most two, the cap only guards against summaries that do not shrink.
MAX_ROUNDS = 3
_SETTINGS = ("no_repeat_ngram_size", "length_penalty", "early_stopping")


@dataclass(frozen=True)
class Defaults:
    """What the tab shows first and the API uses for parameters left out (the transformers v4
    summarization pipeline's lengths)."""
    min_length: int = 30
    max_length: int = 130
    num_beams: int = 4
    combine: bool = True


DEFAULTS = Defaults()


@dataclass(frozen=True)
class Request:
    """A checked request: nothing here needs the model."""
    text: str
    model_id: str
    min_length: int
    max_length: int
    num_beams: int
    combine: bool  # summarize the chunk summaries into one (else: one paragraph per chunk)


@dataclass(frozen=True)
class Summary:
    text: str
    input_tokens: int  # what the model would read for the whole input: prefix and special tokens included
    window: int
    chunks: int  # 1 when the input fit the window
    combined: bool  # the chunk summaries were summarized again
    summary_tokens: int  # generated (all chunk summaries when they are not combined)
    truncated: bool = False  # chunk summaries still too long after MAX_ROUNDS: the last pass was cut
    notes: tuple[str, ...] = ()  # sentences for the status line (how a long input was chunked)

    @property
    def chunked(self) -> bool:
        return self.chunks > 1


def check(models, text: str, model_id: str | None = None, min_length=DEFAULTS.min_length,
          max_length=DEFAULTS.max_length, num_beams=DEFAULTS.num_beams, combine: bool = DEFAULTS.combine) -> Request:
    """Check everything before a model is loaded."""
    repo_id = models.checkpoint(model_id).repo_id
    text = checks.text("text", text, models.settings.max_input_chars,
                       empty="Paste a text to summarize: a news article or a few paragraphs work best.",
                       advice="Shorten it or summarize it in parts.")
    min_length = checks.whole_number("Minimum summary length (tokens)", min_length, 0, MAX_SUMMARY_TOKENS)
    max_length = checks.whole_number("Maximum summary length (tokens)", max_length, 1, MAX_SUMMARY_TOKENS)
    if min_length > max_length:
        raise UserInputError(f"The minimum summary length ({min_length}) is above the maximum "
                             f"({max_length}): lower the minimum or raise the maximum.")
    num_beams = checks.whole_number("Beams", num_beams, 1, MAX_BEAMS, BEAMS_HINT)
    return Request(text, repo_id, min_length, max_length, num_beams, bool(combine))


def settings(s2s: Bundle) -> dict:
    """The checkpoint's own summarization settings: generation_config, overridden by the config's
    task_specific_params["summarization"] (where T5 keeps them, with its prefix)."""
    found = {k: getattr(s2s.model.generation_config, k, None) for k in _SETTINGS}
    params = (getattr(s2s.model.config, "task_specific_params", None) or {}).get("summarization", {})
    found.update({k: v for k, v in params.items() if k in _SETTINGS})
    prefix = params.get("prefix") or getattr(s2s.model.config, "prefix", None) or ""
    if not prefix and s2s.model.config.model_type == "t5":
        prefix = "summarize: "  # T5 does nothing useful without it
    return {"prefix": prefix, **{k: v for k, v in found.items() if v is not None}}


def run(models, request: Request, progress: Progress = no_progress) -> Summary:
    if models.remote:  # an Inference Endpoint summarizes (pipelines/remote/): nothing loads here
        from pipelines.remote import hf_endpoint

        return hf_endpoint.summarize(models, request, progress)
    s2s = models.bundle(request.model_id)
    size = window(s2s)
    options = settings(s2s)
    prefix = options.pop("prefix")
    if request.num_beams == 1:  # beam-search-only settings: reset, or generate warns that they are ignored
        options.update(early_stopping=False, length_penalty=1.0)
    budget = size - special_token_count(s2s) - token_count(s2s, prefix, special_tokens=False)
    input_tokens = token_count(s2s, prefix + request.text)

    def summarize_all(texts: list[str], stage: str) -> list[Output]:
        # generate() reports "done/total"; the message says which stage that count belongs to.
        return generate(s2s, [prefix + t for t in texts], max_new_tokens=request.max_length,
                        min_new_tokens=request.min_length, num_beams=request.num_beams,
                        progress=lambda fraction, counts: progress(fraction, f"{stage}: {counts}"), **options)

    current, chunks, rounds = request.text, 1, 0
    while token_count(s2s, prefix + current) > size and rounds < MAX_ROUNDS:
        sentences = [s for paragraph in current.split("\n") for s in split_sentences(paragraph)]
        pieces = fit_to_window(s2s, sentences, budget)
        if rounds == 0:
            chunks = len(pieces)
        summaries = summarize_all(pieces, f"Summarizing {len(pieces)} chunks" if rounds == 0
                                  else "Summarizing the chunk summaries")
        rounds += 1
        if not request.combine:
            return Summary("\n\n".join(s.text for s in summaries), input_tokens, size, chunks, False,
                           sum(s.tokens for s in summaries),
                           notes=_chunk_notes(input_tokens, size, chunks, False, False))
        current = " ".join(s.text for s in summaries)
    truncated = token_count(s2s, prefix + current) > size
    final = summarize_all([current], "Summarizing" if chunks == 1 else "Summarizing the chunk summaries")[0]
    return Summary(final.text, input_tokens, size, chunks, chunks > 1, final.tokens, truncated,
                   _chunk_notes(input_tokens, size, chunks, chunks > 1, truncated))


def _chunk_notes(input_tokens: int, size: int, chunks: int, combined: bool, truncated: bool) -> tuple[str, ...]:
    """The sentence saying how an input longer than the window was summarized (none when it fit)."""
    if chunks <= 1:
        return ()
    line = (f"The input ({input_tokens:,} tokens) is longer than this model's {size:,}-token "
            f"window, so it was summarized in {chunks} chunks split at sentence boundaries")
    if combined:
        line += ", and the chunk summaries were summarized again into one"
    else:
        line += "; each paragraph below summarizes one chunk"
    if truncated:
        line += " (the joined summaries were still too long, so their end was cut)"
    return (line + ".",)


def summarize(models, text: str, model_id: str | None = None, min_length=DEFAULTS.min_length,
              max_length=DEFAULTS.max_length, num_beams=DEFAULTS.num_beams, combine: bool = DEFAULTS.combine,
              progress: Progress = no_progress) -> Summary:
    """check() then run(): the whole task in one call."""
    return run(models, check(models, text, model_id, min_length, max_length, num_beams, combine), progress)
