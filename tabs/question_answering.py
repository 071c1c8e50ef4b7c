"""Question answering tab: a question and a context in, the answer highlighted where it was found.

Run on its own: python -m tabs.question_answering
"""

from __future__ import annotations

import gradio as gr

from pipelines.core.registry import task
from pipelines.tasks import question_answering as qa
from ui.widgets import default_concurrency, describe, examples, model_picker, status_box, user_errors, while_loading

SPEC = task("question-answering")
NO_ANSWER_MODEL = next(c.repo_id for c in SPEC.checkpoints if "no-answer" in c.traits)
ANSWER_LABEL = "answer"


def build(models) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            question = gr.Textbox(label="Question", placeholder="Where is the Eiffel Tower?")
            context = gr.Textbox(label="Context", lines=8, max_lines=20,
                                 placeholder="The Eiffel Tower is in Paris.",
                                 info="The answer is a passage copied from this text. Long texts are "
                                      f"read in overlapping windows of {qa.MAX_LENGTH} tokens.")
            run = gr.Button("Answer", variant="primary")
        with gr.Column(scale=2):
            model = model_picker(SPEC)
            max_answer_tokens = gr.Slider(1, qa.MAX_ANSWER_TOKENS_LIMIT, value=qa.DEFAULT_MAX_ANSWER_TOKENS,
                                          step=1, label="Max answer length (tokens)")
    with gr.Row():
        answer_box = gr.Textbox(label="Answer", interactive=False, scale=3, buttons=["copy"])
        confidence = gr.Number(label="Confidence (0 to 1)", precision=3, interactive=False, scale=1)
    # HighlightedText renders text, never HTML, so a user's context cannot inject markup.
    highlighted = gr.HighlightedText(label="The answer in its context", color_map={ANSWER_LABEL: "green"},
                                     show_inline_category=False)
    status = status_box()

    cases = examples("question_answering")
    gr.Examples(
        # Unanswerable examples (no "answer") go to the SQuAD 2.0 model, which can say so.
        [[c["question"], c["context"], NO_ANSWER_MODEL if c.get("answer") is None else SPEC.default.repo_id]
         for c in cases],
        inputs=[question, context, model], example_labels=[c["question"] for c in cases],
        label="Examples (the course's chapter 7 starts with the Eiffel Tower)",
    )

    @user_errors
    def answer_question(question, context, model_id=SPEC.default.repo_id,
                        max_answer_tokens=qa.DEFAULT_MAX_ANSWER_TOKENS, progress=gr.Progress()):
        max_answer_tokens = int(max_answer_tokens) if max_answer_tokens is not None else None
        qa.check_inputs(models, question, context, max_answer_tokens)  # before any slow model load
        yield from while_loading(models, SPEC, model_id, progress, "", None, None)
        result = qa.answer(models, question, context, model_id, max_answer_tokens)
        loaded = models.get(SPEC.id, model_id)
        yield (*present(result, context), describe(loaded, details(result)))

    gr.on([run.click, question.submit], answer_question, [question, context, model, max_answer_tokens],
          [answer_box, confidence, highlighted, status], api_name="answer_question",
          concurrency_id=SPEC.id, concurrency_limit=default_concurrency(models))


def present(result: qa.Answer, context: str) -> tuple[str, float, list[tuple[str, str | None]]]:
    """Answer text, confidence, and the context cut into (text, label) pieces for HighlightedText."""
    score = round(result.score, 4)
    if not result.has_answer:
        return qa.NO_ANSWER, score, [(context, None)]
    pieces = [(context[:result.start], None), (result.text, ANSWER_LABEL), (context[result.end:], None)]
    return result.text, score, [p for p in pieces if p[0]]


def details(result: qa.Answer) -> str:
    windows = f"{result.windows} window{'s' if result.windows != 1 else ''} of up to {qa.MAX_LENGTH} tokens"
    if not result.has_answer:
        return f"no answer: the model's 'no answer' score beat every span · {windows}"
    return f"characters {result.start}-{result.end} · {windows}"


if __name__ == "__main__":
    from app import launch_single

    launch_single(SPEC.id)
