"""Translation tab: pick the languages, the opus-mt model follows from the pair.

Run on its own: python -m tabs.translation
"""

from __future__ import annotations

import time

import gradio as gr

from pipelines.core.errors import UserInputError
from pipelines.families.seq2seq import MAX_BEAMS
from pipelines.inside import translation as inside
from pipelines.tasks import translation
from ui import alignment_views
from ui.assistants import Tool
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.widgets import (
    describe,
    examples,
    load_model,
    loading_status,
    progress_bar,
    public_event,
    status_box,
    user_errors,
)

D = translation.DEFAULTS


def route_markdown(models, source_language: str, target_language: str) -> str:
    """Which model(s) the pair will use, shown beside the pickers before anything runs."""
    try:
        source = translation.parse_language(models, source_language, "source")
        target = translation.parse_language(models, target_language, "target")
        if source == target:
            return "⚠️ Source and target are the same language: pick a different target."
        hops = translation.route(models, source, target)
    except UserInputError as exc:
        return f"⚠️ {exc}"
    links = " then ".join(f"[{c.label}](https://huggingface.co/{c.repo_id})" for c in hops)
    if len(hops) > 1:
        return f"**Model:** no direct model for this pair, so through English: {links}."
    return f"**Model:** {links}. {hops[0].why}"


def build(models) -> None:
    names = translation.language_names(models)
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row(equal_height=True):
                # allow_custom_value: API callers may also pass codes ("de") or other spellings; the
                # pipeline parses them and refuses unknown languages with a message listing the choices.
                source = gr.Dropdown(names, value=D.source_language, label="From", allow_custom_value=True)
                swap = gr.Button("⇄ Swap", scale=0, min_width=90, size="sm")
                target = gr.Dropdown(names, value=D.target_language, label="To", allow_custom_value=True)
            # No `info=` here: it would become part of the field's accessible name ("Text").
            text = gr.Textbox(label="Text", lines=6, placeholder=translation.EXAMPLE)
            run = gr.Button("Translate", variant="primary")
            output = gr.Textbox(label="Translation", lines=6, interactive=False, buttons=["copy"])
            status = status_box()
        with gr.Column(scale=2):
            route = gr.Markdown(route_markdown(models, D.source_language, D.target_language))
            gr.Markdown("Several sentences and paragraphs are fine: each sentence is translated on its own "
                        "(as opus-mt was trained) and the line breaks are kept.")
            # A Number rather than a Slider: a Slider refuses out-of-range API values with Gradio's own
            # message, before our check can say which setting is wrong and what to pick.
            num_beams = gr.Number(D.num_beams, precision=0, label="Beams", minimum=None, maximum=None,
                                  info=f"1 to {MAX_BEAMS}. Beam search keeps this many candidate "
                                       "translations at each step: 1 is fastest, 4 is what opus-mt uses.")

    look = LookInside(models, "Where the decoder looked in the source while writing each word (cross-"
                      "attention, averaged over layers and heads): choose a word. Attention shows where "
                      "the model looked, not why it chose the word.")
    gr.Examples(
        [[e["text"], translation.name(e["source"]), translation.name(e["target"])]
         for e in examples(models.spec.examples)],
        inputs=[text, source, target],
        label="Examples (chapter 1 translates 'Good morning!' to German and 'Hello, how are you?' to French)",
    )

    @user_errors
    def translate(text, source_language, target_language, num_beams=D.num_beams,
                  progress=gr.Progress(track_tqdm=True)):
        """Translate a text between English, German, French and Spanish with the opus-mt models (one small
        model per language pair; pairs without English go through English). Each sentence is translated on
        its own and line breaks are kept.

        Args:
            text: The text to translate: a sentence or several paragraphs (required).
            source_language: Its language: English, German, French or Spanish (a code such as "de" works too).
            target_language: The language to translate into, one of the same four; not the source language.
            num_beams: Beam search width, 1 to 8: 1 is fastest, 4 is what opus-mt was tuned with.

        Returns:
            The translation and a Markdown status line (model or models used, sentences, time).
        """
        checked = translation.check(models, text, source_language, target_language, num_beams)
        # A pivot needs two models: say which are loading (while_loading handles one).
        waiting = "\n\n".join(filter(None, (loading_status(models, c.repo_id) for c in checked.hops)))
        if waiting:
            yield "", waiting
            for ckpt in checked.hops:
                load_model(models, ckpt.repo_id, progress)
        started = time.perf_counter()
        result = translation.run(models, checked, progress_bar(progress))
        seconds = time.perf_counter() - started
        pair = f"{translation.name(result.source)}→{translation.name(result.target)}"
        plural = "s" if result.sentences != 1 else ""
        line = describe(models.get(checked.hops[-1].repo_id),
                        f"{pair} · {result.sentences} sentence{plural} · {seconds:.1f} s")
        line += "".join(f"\n\n↪️ {note}" for note in result.notes)
        yield result.text, line

    def show_route(source_language, target_language):
        return route_markdown(models, source_language, target_language)

    def swap_languages(source_language, target_language, text, translated):
        # Like a phrasebook: the translation becomes the text to translate back.
        return target_language, source_language, translated or text, ""

    translated = public_event(models, [run.click], translate, [text, source, target, num_beams], [output, status],
                              tool=Tool("The translated text."))
    look.follow(translated, [text, source, target, num_beams, output], inside.explain, alignment_views.translation)
    gr.on([source.change, target.change], show_route, [source, target], route, queue=False,
          api_visibility="private")
    swap.click(swap_languages, [source, target, text, output], [source, target, text, output], queue=False,
               api_visibility="private")
    code_block(models, Wiring([translated], [text, source, target, num_beams],
                              lambda *values: translation.check(models, *values)),
               example=lambda: translation.check(models, translation.EXAMPLE))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
