"""Translation tab: pick the languages, the opus-mt model follows from the pair.

Run on its own: python -m tabs.translation
"""

from __future__ import annotations

import time

import gradio as gr

from pipelines.core.errors import UserInputError
from pipelines.core.registry import task
from pipelines.families.seq2seq import MAX_BEAMS
from pipelines.tasks import translation
from ui.widgets import default_concurrency, describe, examples, load_model, loading_status, status_box, user_errors

SPEC = task("translation")


def route_markdown(source_language: str, target_language: str) -> str:
    """Which model(s) the pair will use, shown beside the pickers before anything runs."""
    try:
        source = translation.parse_language(source_language, "source")
        target = translation.parse_language(target_language, "target")
        if source == target:
            return "⚠️ Source and target are the same language: pick a different target."
        hops = translation.route(source, target)
    except UserInputError as exc:
        return f"⚠️ {exc}"
    links = " then ".join(f"[{c.label}](https://huggingface.co/{c.repo_id})" for c in hops)
    if len(hops) > 1:
        return f"**Model:** no direct model for this pair, so through English: {links}."
    return f"**Model:** {links}. {hops[0].why}"


def build(models) -> None:
    names = translation.language_names()
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row(equal_height=True):
                # allow_custom_value: API callers may also pass codes ("de") or other spellings; the
                # pipeline parses them and refuses unknown languages with a message listing the choices.
                source = gr.Dropdown(names, value="English", label="From", allow_custom_value=True)
                swap = gr.Button("⇄ Swap", scale=0, min_width=90, size="sm")
                target = gr.Dropdown(names, value="German", label="To", allow_custom_value=True)
            # No `info=` here: it would become part of the field's accessible name ("Text").
            text = gr.Textbox(label="Text", lines=6, placeholder="Good morning!")
            run = gr.Button("Translate", variant="primary")
            output = gr.Textbox(label="Translation", lines=6, interactive=False, buttons=["copy"])
            status = status_box()
        with gr.Column(scale=2):
            route = gr.Markdown(route_markdown("English", "German"))
            gr.Markdown("Several sentences and paragraphs are fine: each sentence is translated on its own "
                        "(as opus-mt was trained) and the line breaks are kept.")
            # A Number rather than a Slider: a Slider refuses out-of-range API values with Gradio's own
            # message, before our check can say which setting is wrong and what to pick.
            num_beams = gr.Number(4, precision=0, label="Beams", minimum=None, maximum=None,
                                  info=f"1 to {MAX_BEAMS}. Beam search keeps this many candidate "
                                       "translations at each step: 1 is fastest, 4 is what opus-mt uses.")

    gr.Examples(
        [[e["text"], translation.name(e["source"]), translation.name(e["target"])]
         for e in examples("translation")],
        inputs=[text, source, target],
        label="Examples (chapter 1 translates 'Good morning!' to German and 'Hello, how are you?' to French)",
    )

    @user_errors
    def translate(text, source_language, target_language, num_beams=4,
                  progress=gr.Progress(track_tqdm=True)):
        job = translation.prepare(models, text, source_language, target_language, num_beams)
        waiting = "\n\n".join(filter(None, (loading_status(models, SPEC, c.repo_id) for c in job.hops)))
        if waiting:
            yield "", waiting
            for ckpt in job.hops:
                load_model(models, SPEC, ckpt.repo_id, progress)
        started = time.perf_counter()
        result = translation.run(models, job, on_progress=lambda done, desc: progress(done, desc=desc))
        seconds = time.perf_counter() - started
        pair = f"{translation.name(result.source)}→{translation.name(result.target)}"
        plural = "s" if result.sentences != 1 else ""
        line = describe(models.get(SPEC.id, job.hops[-1].repo_id),
                        f"{pair} · {result.sentences} sentence{plural} · {seconds:.1f} s")
        if result.note:
            line += f"\n\n↪️ {result.note}"
        yield result.text, line

    def swap_languages(source_language, target_language, text, translated):
        # Like a phrasebook: the translation becomes the text to translate back.
        return target_language, source_language, translated or text, ""

    run.click(translate, [text, source, target, num_beams], [output, status], api_name="translate",
              concurrency_id=SPEC.id, concurrency_limit=default_concurrency(models))
    gr.on([source.change, target.change], route_markdown, [source, target], route, queue=False,
          api_visibility="private")
    swap.click(swap_languages, [source, target, text, output], [source, target, text, output], queue=False,
               api_visibility="private")


if __name__ == "__main__":
    from app import launch_single

    launch_single(SPEC.id)
