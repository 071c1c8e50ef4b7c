"""Summarization with DistilBART (CNN news) or T5 small, including texts longer than the model's window.

An encoder reads at most its window (BART 1,024 tokens, T5 512): anything beyond would be cut off
silently. A longer text is split on sentence boundaries into window-sized chunks, each chunk is
summarized, and (by default) the joined chunk summaries are summarized once more into one summary; the
result says how many chunks there were. T5 reads every task from a text prefix ("summarize: "), which
comes from the checkpoint's own config, as in the transformers v4 pipeline.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import summarization
    models = ModelManager(Settings(model_source="tiny"))
    result = summarization.summarize(models, open("article.txt").read(), min_length=20, max_length=60)
    print(result.input_tokens, result.chunks, result.text)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pipelines.core.checks import check_length
from pipelines.core.errors import UserInputError
from pipelines.core.registry import task
from pipelines.families.seq2seq import (
    Output,
    Seq2Seq,
    check_beams,
    fit_to_window,
    generate,
    load,  # noqa: F401 (the registry's loader for this task)
    special_token_count,
    split_sentences,
    token_count,
    whole_number,
)

TASK_ID = "summarization"
MAX_SUMMARY_TOKENS = 512
# Rounds of "summarize the chunk summaries" while they are still longer than the window; a text within
# max_input_chars needs at most two, the cap only guards against summaries that do not shrink.
MAX_ROUNDS = 3
_SETTINGS = ("no_repeat_ngram_size", "length_penalty", "early_stopping")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SummaryJob:
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

    @property
    def chunked(self) -> bool:
        return self.chunks > 1

    @property
    def notice(self) -> str:
        if not self.chunked:
            return ""
        line = (f"The input ({self.input_tokens:,} tokens) is longer than this model's {self.window:,}-token "
                f"window, so it was summarized in {self.chunks} chunks split at sentence boundaries")
        if self.combined:
            line += ", and the chunk summaries were summarized again into one"
        else:
            line += "; each paragraph below summarizes one chunk"
        if self.truncated:
            line += " (the joined summaries were still too long, so their end was cut)"
        return line + "."


def prepare(models, text: str, model_id: str | None = None, min_length=30, max_length=130, num_beams=4,
            combine: bool = True) -> SummaryJob:
    """Check everything before a model is loaded."""
    ckpt = task(TASK_ID).checkpoint(model_id)
    text = (text or "").strip()
    if not text:
        raise UserInputError("Paste a text to summarize: a news article or a few paragraphs work best.")
    check_length(text, models.settings.max_input_chars, "text", "Shorten it or summarize it in parts.")
    min_length = whole_number("Minimum summary length (tokens)", min_length, 0, MAX_SUMMARY_TOKENS)
    max_length = whole_number("Maximum summary length (tokens)", max_length, 1, MAX_SUMMARY_TOKENS)
    if min_length > max_length:
        raise UserInputError(f"The minimum summary length ({min_length}) is above the maximum "
                             f"({max_length}): lower the minimum or raise the maximum.")
    return SummaryJob(text, ckpt.repo_id, min_length, max_length, check_beams(num_beams), bool(combine))


def settings(s2s: Seq2Seq) -> dict:
    """The checkpoint's own summarization settings: generation_config, overridden by the config's
    task_specific_params["summarization"] (where T5 keeps them, with its prefix)."""
    found = {k: getattr(s2s.model.generation_config, k, None) for k in _SETTINGS}
    params = (getattr(s2s.model.config, "task_specific_params", None) or {}).get("summarization", {})
    found.update({k: v for k, v in params.items() if k in _SETTINGS})
    prefix = params.get("prefix") or getattr(s2s.model.config, "prefix", None) or ""
    if not prefix and s2s.model_type == "t5":
        prefix = "summarize: "  # T5 does nothing useful without it
    return {"prefix": prefix, **{k: v for k, v in found.items() if v is not None}}


def run(models, job: SummaryJob, on_progress: Progress | None = None) -> Summary:
    s2s: Seq2Seq = models.get(TASK_ID, job.model_id).bundle
    options = settings(s2s)
    prefix = options.pop("prefix")
    if job.num_beams == 1:  # beam-search-only settings: reset, or generate warns that they are ignored
        options.update(early_stopping=False, length_penalty=1.0)
    budget = s2s.window - special_token_count(s2s) - token_count(s2s, prefix, special_tokens=False)
    input_tokens = token_count(s2s, prefix + job.text)

    def summarize_all(texts: list[str], stage: str) -> list[Output]:
        def report(done: int, total: int) -> None:
            if on_progress is not None:
                on_progress(done / total, f"{stage}: {done}/{total}")
        return generate(s2s, [prefix + t for t in texts], max_new_tokens=job.max_length,
                        min_new_tokens=job.min_length, num_beams=job.num_beams, on_batch=report, **options)

    current, chunks, rounds = job.text, 1, 0
    while token_count(s2s, prefix + current) > s2s.window and rounds < MAX_ROUNDS:
        sentences = [s for paragraph in current.split("\n") for s in split_sentences(paragraph)]
        pieces = fit_to_window(s2s, sentences, budget)
        if rounds == 0:
            chunks = len(pieces)
        summaries = summarize_all(pieces, f"Summarizing {len(pieces)} chunks" if rounds == 0
                                  else "Summarizing the chunk summaries")
        rounds += 1
        if not job.combine:
            return Summary("\n\n".join(s.text for s in summaries), input_tokens, s2s.window, chunks, False,
                           sum(s.tokens for s in summaries))
        current = " ".join(s.text for s in summaries)
    truncated = token_count(s2s, prefix + current) > s2s.window
    final = summarize_all([current], "Summarizing" if chunks == 1 else "Summarizing the chunk summaries")[0]
    return Summary(final.text, input_tokens, s2s.window, chunks, chunks > 1, final.tokens, truncated)


def summarize(models, text: str, model_id: str | None = None, min_length=30, max_length=130, num_beams=4,
              combine: bool = True, on_progress: Progress | None = None) -> Summary:
    job = prepare(models, text, model_id, min_length, max_length, num_beams, combine)
    return run(models, job, on_progress)
