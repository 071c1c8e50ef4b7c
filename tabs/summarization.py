"""Summarization tab: a text in, a short abstract out, long texts summarized chunk by chunk.

Run on its own: python -m tabs.summarization
"""

from __future__ import annotations

import time

import gradio as gr

from pipelines.families.seq2seq import MAX_BEAMS
from pipelines.inside import summarization as inside
from pipelines.tasks import summarization
from ui import alignment_views
from ui.assistants import Tool
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

D = summarization.DEFAULTS
LIMIT = summarization.MAX_SUMMARY_TOKENS


def build(models) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(label="Text", lines=12,
                              placeholder="Paste a news article or a few paragraphs.")
            run = gr.Button("Summarize", variant="primary")
            output = gr.Textbox(label="Summary", lines=6, interactive=False, buttons=["copy"])
            status = status_box()
        with gr.Column(scale=2):
            model = model_picker(models)
            # Numbers rather than Sliders: a Slider refuses out-of-range API values with Gradio's own
            # message, before our check can name the setting; and two linked bounds read better as fields.
            with gr.Row():
                min_length = gr.Number(D.min_length, precision=0, label="Min summary length (tokens)",
                                       minimum=None, maximum=None, info=f"0 to {LIMIT}")
                max_length = gr.Number(D.max_length, precision=0, label="Max summary length (tokens)",
                                       minimum=None, maximum=None, info=f"1 to {LIMIT}, at least the minimum")
            num_beams = gr.Number(D.num_beams, precision=0, label="Beams", minimum=None, maximum=None,
                                  info=f"1 to {MAX_BEAMS}: more beams, more fluent summaries, slower.")
            combine = gr.Checkbox(
                D.combine, label="Summarize the chunk summaries into one",
                info="Only for texts longer than the model's window (DistilBART 1,024 tokens, T5 512), "
                     "which are summarized in chunks. Off: one summary paragraph per chunk.")

    look = LookInside(models, "Where in your text the model looked while writing each summary word (cross-"
                      "attention, averaged over layers and heads), and per sentence. Attention shows where "
                      "it looked, not why it wrote the word.")
    entries = examples(models.spec.examples)
    gr.Examples([[e["text"], models.spec.default.repo_id] for e in entries], inputs=[text, model],
                example_labels=[e.get("title") or e["text"][:60] for e in entries],
                label="Examples (the second is longer than DistilBART's window: watch it being chunked)")

    @user_errors
    def summarize(text, model_id=None, min_length=D.min_length, max_length=D.max_length, num_beams=D.num_beams,
                  combine=D.combine, progress=gr.Progress(track_tqdm=True)):
        """Summarize an English text (a news article, a few paragraphs) in a few sentences, with DistilBART
        or T5. A text longer than the model's window (about 700 words) is summarized in chunks.

        Args:
            text: The English text to summarize (required).
            model_id: Which model: DistilBART CNN (default, fluent news abstracts) or T5 small (faster, plainer).
            min_length: Shortest summary, in tokens (about 3/4 of a word each), 0 to 512.
            max_length: Longest summary, in tokens, 1 to 512 and at least min_length.
            num_beams: Beam search width, 1 to 8: more beams give more fluent summaries, slower.
            combine: For a text summarized in chunks: summarize the chunk summaries into one (else one per chunk).

        Returns:
            The summary and a Markdown status line (model, token counts, chunking notes).
        """
        checked = summarization.check(models, text, model_id, min_length, max_length, num_beams, combine)
        yield from while_loading(models, checked.model_id, progress, "")
        started = time.perf_counter()
        result = summarization.run(models, checked, progress_bar(progress))
        seconds = time.perf_counter() - started
        counts = (f"input {result.input_tokens:,} tokens (window {result.window:,}) · "
                  f"summary {result.summary_tokens} tokens · ") if result.window else ""  # 0: a serving engine
        line = describe(models.get(checked.model_id), f"{counts}{seconds:.1f} s")
        line += "".join(f"\n\n✂️ {note}" for note in result.notes)
        yield result.text, line

    summarized = public_event(models, [run.click], summarize,
                              [text, model, min_length, max_length, num_beams, combine], [output, status],
                              tool=Tool("The summary (one paragraph per chunk when combine is off)."))
    look.follow(summarized, [text, model, min_length, max_length, num_beams, combine, output], inside.explain,
                alignment_views.summarization)
    code_block(models, Wiring([summarized], [text, model, min_length, max_length, num_beams, combine],
                              lambda *values: summarization.check(models, *values)),
               example=lambda: summarization.check(models, entries[0]["text"]))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
