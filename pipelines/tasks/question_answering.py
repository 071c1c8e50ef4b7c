"""Extractive question answering: a question and a context in, the span of the context that answers it.

transformers 5 has no question-answering pipeline, so this is the whole of it: the tokenizer cuts
question + context into overlapping windows, the reader scores every token as a possible start and end
of the answer, and `pipelines.tasks.qa_spans.best_span` picks the span (or "no answer" for SQuAD 2.0 models).

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import question_answering
    models = ModelManager(Settings(model_source="tiny"))
    question_answering.answer(models, "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris.")
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.core.checks import check_length
from pipelines.core.errors import UserInputError
from pipelines.core.loading import LoadRequest
from pipelines.tasks.qa_spans import best_span

TASK_ID = "question-answering"
# Window and overlap of SQuAD fine-tuning (run_qa.py and the old pipeline): the readers were trained on
# 384-token windows; a 128-token overlap means an answer cut by one window's edge is whole in the next.
MAX_LENGTH = 384
STRIDE = 128
# The question is repeated in every window, so it must leave room for the context (the old pipeline's
# max_question_len). 64 tokens is about 45 words.
MAX_QUESTION_TOKENS = 64
# Windows per forward pass: bounds memory for very long contexts while amortising per-call overhead.
WINDOW_BATCH = 8
DEFAULT_MAX_ANSWER_TOKENS = 30  # SQuAD answers are short; longer spans are mostly wrong
MAX_ANSWER_TOKENS_LIMIT = 200
NO_ANSWER = "The model found no answer in this context."


@dataclass
class Reader:
    model: object
    tokenizer: object
    no_answer: bool  # trained on SQuAD 2.0: may answer "no answer"
    device: str


@dataclass(frozen=True)
class Answer:
    text: str  # context[start:end]; "" when has_answer is False
    start: int  # character offsets into the context as given (0, 0 for "no answer", as HF did)
    end: int
    score: float  # probability in [0, 1] of this answer (of "no answer" when has_answer is False)
    has_answer: bool
    windows: int  # how many overlapping windows the context was read in


def load(request: LoadRequest) -> Reader:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    loc = request.location
    tokenizer = AutoTokenizer.from_pretrained(loc.source, **loc.pretrained_kwargs)
    if not tokenizer.is_fast:  # offsets and windows with overlap need a `tokenizers` backend
        raise ValueError(f"{request.checkpoint.repo_id} has no fast tokenizer; character offsets need one")
    model = AutoModelForQuestionAnswering.from_pretrained(loc.source, dtype=request.placement.dtype,
                                                          **loc.pretrained_kwargs)
    model.to(request.placement.device).eval()
    return Reader(model, tokenizer, "no-answer" in request.checkpoint.traits, request.placement.device)


def check_inputs(models, question: str, context: str,
                 max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS) -> tuple[str, str]:
    """The question (stripped) and the context (as given, so offsets point into it), or UserInputError."""
    question = (question or "").strip()
    context = context or ""
    if not question:
        raise UserInputError("Type a question first, for example: Where is the Eiffel Tower?")
    if not context.strip():
        raise UserInputError("Paste a context first: the text in which the model looks for the answer, "
                             "for example: The Eiffel Tower is in Paris.")
    for name, text in (("question", question), ("context", context)):
        check_length(text, models.settings.max_input_chars, name)
    if max_answer_tokens is None or not 1 <= max_answer_tokens <= MAX_ANSWER_TOKENS_LIMIT:
        raise UserInputError(f"Max answer length must be between 1 and {MAX_ANSWER_TOKENS_LIMIT} tokens; "
                             f"got {max_answer_tokens}.")
    return question, context


def answer(models, question: str, context: str, model_id: str | None = None,
           max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS) -> Answer:
    question, context = check_inputs(models, question, context, max_answer_tokens)
    reader = models.get(TASK_ID, model_id).bundle
    windows = encode_windows(reader.tokenizer, question, context)
    start_logits, end_logits = run_reader(reader, windows)
    context_mask = np.array([[sid == 1 for sid in windows.sequence_ids(w)]
                             for w in range(len(windows["input_ids"]))])
    choice = best_span(start_logits, end_logits, windows["offset_mapping"], context_mask,
                       int(max_answer_tokens), allow_no_answer=reader.no_answer)
    n = len(start_logits)
    if choice is None:  # e.g. a context of control characters only: no token left to point at
        raise UserInputError("The model could not read any word of the context. Paste ordinary text.")
    if not choice.has_answer:
        return Answer("", 0, 0, choice.score, False, n)
    return Answer(context[choice.start_char:choice.end_char], choice.start_char, choice.end_char,
                  choice.score, True, n)


def encode_windows(tokenizer, question: str, context: str):
    """Question + context as overlapping windows: only the context is cut, the question is in each."""
    question_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    if question_tokens > MAX_QUESTION_TOKENS:
        raise UserInputError(f"The question is {question_tokens} tokens long; keep it under "
                             f"{MAX_QUESTION_TOKENS} tokens (about 45 words) and put the rest in the context.")
    return tokenizer(
        question, context, truncation="only_second", max_length=min(MAX_LENGTH, tokenizer.model_max_length),
        stride=STRIDE, return_overflowing_tokens=True, return_offsets_mapping=True, padding="longest",
        return_tensors="np",
    )


def run_reader(reader: Reader, windows) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits, (windows, tokens) each, computed WINDOW_BATCH windows at a time."""
    import torch

    names = [k for k in reader.tokenizer.model_input_names if k in windows]
    starts, ends = [], []
    with torch.inference_mode():
        for i in range(0, len(windows["input_ids"]), WINDOW_BATCH):
            batch = {k: torch.as_tensor(windows[k][i:i + WINDOW_BATCH], device=reader.device) for k in names}
            out = reader.model(**batch)
            starts.append(out.start_logits.float().cpu().numpy())
            ends.append(out.end_logits.float().cpu().numpy())
    return np.concatenate(starts), np.concatenate(ends)
