"""Extractive question answering: a question and a context in, the span of the context that answers it.

transformers 5 has no question-answering pipeline, so this is the whole of it: the tokenizer cuts
question + context into overlapping windows, the reader scores every token as a possible start and end
of the answer, and `pipelines.tasks.qa_spans.best_span` picks the span (or "no answer" for SQuAD 2.0 models).

A context may be long (settings.max_context_chars, a short book chapter by default): it is read
WINDOW_BATCH windows at a time, with progress reported after each batch.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import question_answering
    models = ModelManager(Settings(model_source="tiny")).task("question-answering")
    question_answering.answer(models, "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris.")
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.core import checks
from pipelines.core.bundle import Bundle, LoadRequest, load_pretrained
from pipelines.core.checks import Progress, no_progress
from pipelines.core.errors import UserInputError
from pipelines.inside import kept  # "Look inside" reuses the windows' scores (its 1 s goal)
from pipelines.tasks.qa_spans import best_span

# Window and overlap of SQuAD fine-tuning (run_qa.py and the old pipeline): the readers were trained on
# 384-token windows; a 128-token overlap means an answer cut by one window's edge is whole in the next.
MAX_LENGTH = 384
STRIDE = 128
# The question is repeated in every window, so it must leave room for the context (the old pipeline's
# max_question_len). 64 tokens is about 45 words.
MAX_QUESTION_TOKENS = 64
# Windows per forward pass: bounds activation memory for very long contexts (a 200,000-character
# context is 150-400 windows) while amortising per-call overhead; progress is reported per batch.
WINDOW_BATCH = 8
DEFAULT_MAX_ANSWER_TOKENS = 30  # SQuAD answers are short; longer spans are mostly wrong
MAX_ANSWER_TOKENS = 200
NO_ANSWER = "The model found no answer in this context."
EXAMPLE_QUESTION, EXAMPLE_CONTEXT = "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris."


@dataclass(frozen=True)
class Request:
    """A checked request: nothing here needs the model."""
    question: str  # stripped
    context: str  # as given: the answer's character offsets point into it
    model_id: str
    max_answer_tokens: int


@dataclass(frozen=True)
class Answer:
    text: str  # context[start:end]; "" when has_answer is False
    start: int  # character offsets into the context as given (0, 0 for "no answer", as HF did)
    end: int
    score: float  # probability in [0, 1] of this answer (of "no answer" when has_answer is False)
    has_answer: bool
    windows: int  # how many overlapping windows the context was read in


def load(request: LoadRequest) -> Bundle:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    bundle = load_pretrained(request, AutoModelForQuestionAnswering, AutoTokenizer)
    if not bundle.tokenizer.is_fast:  # offsets and windows with overlap need a `tokenizers` backend
        raise ValueError(f"{request.checkpoint.repo_id} has no fast tokenizer; character offsets need one")
    return bundle


def allows_no_answer(reader: Bundle) -> bool:
    """Trained on SQuAD 2.0: may answer "no answer" when the context holds none."""
    return "no-answer" in reader.checkpoint.traits


def check(models, question: str, context: str, model_id: str | None = None,
          max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS) -> Request:
    question = checks.text("question", question, models.settings.max_input_chars,
                           empty=f"Type a question first, for example: {EXAMPLE_QUESTION}")
    context = checks.text("context", context, models.settings.max_context_chars, strip=False,
                          empty="Paste a context first: the text in which the model looks for the answer, "
                                f"for example: {EXAMPLE_CONTEXT}",
                          advice="Paste the part of the text most likely to hold the answer.")
    max_answer_tokens = checks.whole_number("Max answer length (tokens)", max_answer_tokens, 1, MAX_ANSWER_TOKENS)
    return Request(question, context, models.checkpoint(model_id).repo_id, max_answer_tokens)


def run(models, request: Request, progress: Progress = no_progress) -> Answer:
    if models.remote:  # an Inference Endpoint reads the context (pipelines/remote/): nothing loads here
        from pipelines.remote import hf_endpoint

        return hf_endpoint.answer(models, request, progress)
    reader = models.bundle(request.model_id)
    windows = encode_windows(reader.tokenizer, request.question, request.context)
    start_logits, end_logits = read_windows(reader, windows, progress)
    # "Look inside" shows these scores: kept, so that it does not read every window again.
    kept.keep(reader, kept.QA_LOGITS, logits_key(reader, request.question, request.context), (start_logits, end_logits))
    context_mask = np.array([[sid == 1 for sid in windows.sequence_ids(w)] for w in range(len(start_logits))])
    choice = best_span(start_logits, end_logits, windows["offset_mapping"], context_mask,
                       request.max_answer_tokens, allow_no_answer=allows_no_answer(reader))
    n = len(start_logits)
    if choice is None:  # e.g. a context of control characters only: no token left to point at
        raise UserInputError("The model could not read any word of the context. Paste ordinary text.")
    if not choice.has_answer:
        return Answer("", 0, 0, choice.score, False, n)
    context = request.context
    return Answer(context[choice.start_char:choice.end_char], choice.start_char, choice.end_char,
                  choice.score, True, n)


def answer(models, question: str, context: str, model_id: str | None = None,
           max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS, progress: Progress = no_progress) -> Answer:
    """check() then run(): the whole task in one call."""
    return run(models, check(models, question, context, model_id, max_answer_tokens), progress)


def encode_windows(tokenizer, question: str, context: str):
    """Question + context as overlapping windows: only the context is cut, the question is in each.

    The fast tokenizer splits the whole context in one call (about 0.5 s for 200,000 characters);
    the windows' ids and offsets are small integer arrays (a few MB at most), unlike the activations,
    which read_windows bounds by batching."""
    question_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    if question_tokens > MAX_QUESTION_TOKENS:
        raise UserInputError(f"The question is {question_tokens} tokens long; keep it under "
                             f"{MAX_QUESTION_TOKENS} tokens (about 45 words) and put the rest in the context.")
    return tokenizer(
        question, context, truncation="only_second", max_length=min(MAX_LENGTH, tokenizer.model_max_length),
        stride=STRIDE, return_overflowing_tokens=True, return_offsets_mapping=True, padding="longest",
        return_tensors="np",
    )


def logits_key(reader: Bundle, question: str, context: str) -> tuple:
    """What decides the windows' logits of one reader: the texts and the window length (the stride is fixed)."""
    return question, context, min(MAX_LENGTH, reader.tokenizer.model_max_length)


def read_windows(reader: Bundle, windows, progress: Progress = no_progress) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits, (windows, tokens) each, computed WINDOW_BATCH windows at a time.

    After each batch: progress(windows read / all windows, "Reading window i of n"), ending at 1."""
    import torch

    names = [k for k in reader.tokenizer.model_input_names if k in windows]
    n = len(windows["input_ids"])
    starts, ends = [], []
    with torch.inference_mode():
        for i in range(0, n, WINDOW_BATCH):
            batch = {k: torch.as_tensor(windows[k][i:i + WINDOW_BATCH], device=reader.device) for k in names}
            out = reader.model(**batch)
            starts.append(out.start_logits.float().cpu().numpy())
            ends.append(out.end_logits.float().cpu().numpy())
            done = min(i + WINDOW_BATCH, n)
            progress(done / n, f"Reading window {done} of {n}")
    return np.concatenate(starts), np.concatenate(ends)
