"""Question answering tab: a question and a context in, the answer highlighted where it was found.

Run on its own: python -m tabs.question_answering
"""

from __future__ import annotations

import gradio as gr

from pipelines.inside import question_answering as inside
from pipelines.tasks import question_answering as qa
from ui import inside_text_views
from ui.assistants import Tool, as_json
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.widgets import (
    describe,
    examples,
    model_picker,
    progress_bar,
    public_event,
    status_box,
    user_errors,
    while_loading,
)

ANSWER_LABEL = "answer"


def build(models) -> None:
    spec = models.spec
    default_model = spec.default.repo_id
    no_answer_model = next(c.repo_id for c in spec.checkpoints if "no-answer" in c.traits)
    with gr.Row():
        with gr.Column(scale=3):
            question = gr.Textbox(label="Question", placeholder=qa.EXAMPLE_QUESTION)
            context = gr.Textbox(label="Context", lines=8, max_lines=20, placeholder=qa.EXAMPLE_CONTEXT,
                                 info="The answer is a passage copied from this text, which may be up to "
                                      f"{models.settings.max_context_chars:,} characters long (a short book "
                                      f"chapter): it is read in overlapping windows of {qa.MAX_LENGTH} tokens.")
            run = gr.Button("Answer", variant="primary")
        with gr.Column(scale=2):
            model = model_picker(models)
            max_answer_tokens = gr.Slider(1, qa.MAX_ANSWER_TOKENS, value=qa.DEFAULT_MAX_ANSWER_TOKENS,
                                          step=1, label="Max answer length (tokens)")
    with gr.Row():
        answer_box = gr.Textbox(label="Answer", interactive=False, scale=3, buttons=["copy"])
        confidence = gr.Number(label="Confidence (0 to 1)", precision=3, interactive=False, scale=1)
    # HighlightedText renders text, never HTML, so a user's context cannot inject markup.
    highlighted = gr.HighlightedText(label="The answer in its context", color_map={ANSWER_LABEL: "green"},
                                     show_inline_category=False)
    status = status_box()
    look = LookInside(models, "How the reader scored each context token as the answer's start and as its end, the "
                      "span it chose and the runners-up. The scores show what it picked, not why.")

    cases = examples(spec.examples)
    gr.Examples(
        # Unanswerable examples (no "answer") go to the SQuAD 2.0 model, which can say so.
        [[c["question"], c["context"], no_answer_model if c.get("answer") is None else default_model]
         for c in cases],
        inputs=[question, context, model], example_labels=[c["question"] for c in cases],
        label="Examples (the course's chapter 7 starts with the Eiffel Tower)",
    )

    @user_errors
    def answer_question(question, context, model_id=default_model, max_answer_tokens=qa.DEFAULT_MAX_ANSWER_TOKENS,
                        progress=gr.Progress()):
        """Answer a question about a text by finding the passage of the text that answers it (extractive
        question answering: the answer is always copied from the context, never made up). Long contexts
        are read in overlapping windows.

        Args:
            question: The question, e.g. "Where is the Eiffel Tower?" (required).
            context: The text that holds the answer, by default up to 200,000 characters (required).
            model_id: Which reader: DistilBERT SQuAD (default, always picks a passage) or RoBERTa SQuAD2 (can say none).
            max_answer_tokens: Longest answer, in tokens (about 3/4 of a word each), 1 to 200.

        Returns:
            The answer, its confidence (0 to 1), the context with the answer highlighted, and a status line.
        """
        checked = qa.check(models, question, context, model_id, max_answer_tokens)  # before any slow load
        yield from while_loading(models, checked.model_id, progress, "", None, None)
        result = qa.run(models, checked, progress_bar(progress))
        yield (*present(result, checked.context), describe(models.get(checked.model_id), details(result)))

    answered = public_event(
        models, [run.click, question.submit], answer_question, [question, context, model, max_answer_tokens],
        [answer_box, confidence, highlighted, status],
        tool=Tool('JSON: {"answer": the passage, "confidence": 0 to 1, "start": and "end": its character '
                  'offsets in the context}; "answer" is null (with a "note") when the model found none.',
                  result=for_assistants))
    look.follow(answered, [question, context, model, max_answer_tokens, answer_box], inside.explain,
                inside_text_views.qa_scores)
    code_block(models, Wiring([answered], [question, context, model, max_answer_tokens],
                              lambda *values: qa.check(models, *values)),
               example=lambda: qa.check(models, qa.EXAMPLE_QUESTION, qa.EXAMPLE_CONTEXT))


def for_assistants(answer: str, confidence: float, pieces: list, _status: str) -> str:
    """The tool's result: the answer with its place in the context (from the highlighted pieces)."""
    offset = 0
    for text, label in pieces:
        if label == ANSWER_LABEL:
            return as_json({"answer": answer, "confidence": confidence, "start": offset, "end": offset + len(text)})
        offset += len(text)
    return as_json({"answer": None, "confidence": confidence, "note": answer})


def present(result: qa.Answer, context: str) -> tuple[str, float, list[tuple[str, str | None]]]:
    """Answer text, confidence, and the context cut into (text, label) pieces for HighlightedText."""
    score = round(result.score, 4)
    if not result.has_answer:
        return qa.NO_ANSWER, score, [(context, None)]
    pieces = [(context[:result.start], None), (result.text, ANSWER_LABEL), (context[result.end:], None)]
    return result.text, score, [p for p in pieces if p[0]]


def details(result: qa.Answer) -> str:
    windows = (f"{result.windows:,} window{'s' if result.windows != 1 else ''} of up to {qa.MAX_LENGTH} tokens"
               if result.windows else "read by the serving engine")  # 0 windows: a serving engine read it
    if not result.has_answer:
        return f"no answer: the model's 'no answer' score beat every span · {windows}"
    return f"characters {result.start:,}-{result.end:,} · {windows}"


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
