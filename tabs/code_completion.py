"""Code completion tab: code in an editor, the continuation streamed and shown highlighted.

Run on its own: python -m tabs.code_completion
"""

from __future__ import annotations

from dataclasses import replace

import gradio as gr

from pipelines.inside import code_completion as inside
from pipelines.tasks import code_completion
from ui import inside_text_views
from ui.assistants import Tool
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.widgets import (
    StopSignals,
    describe,
    examples,
    model_picker,
    paced,
    public_event,
    status_box,
    user_errors,
    while_loading,
)

D = code_completion.DEFAULTS
ESCAPED_STOPS = [s.encode("unicode_escape").decode() for s in D.stop_sequences]
GREEDY, SAMPLING = "Greedy", "Sampling"
DECODING = SAMPLING if D.do_sample else GREEDY


def build(models) -> None:
    signals = StopSignals()
    with gr.Row():
        with gr.Column(scale=3):
            editor = gr.Code(value="def add(a, b):\n    return", language="python", label="Your code",
                             interactive=True, lines=8)
            with gr.Row():
                run = gr.Button("Complete", variant="primary")
                stop = gr.Button("Stop", variant="stop")
            output = gr.Code(language="python", label="Code with completion", interactive=False, lines=10)
            status = status_box()
        with gr.Column(scale=2):
            model = model_picker(models)
            max_new_tokens = gr.Slider(1, code_completion.MAX_NEW_TOKENS, value=D.max_new_tokens, step=1,
                                       label="Max new tokens")
            stops = gr.Dropdown(ESCAPED_STOPS, value=ESCAPED_STOPS, multiselect=True, allow_custom_value=True,
                                label="Stop sequences",
                                info="Generation ends before the first of these (\\n is a newline).")
            decoding = gr.Radio([GREEDY, SAMPLING], value=DECODING, label="Decoding")
            temperature = gr.Slider(0.05, 2.0, value=D.temperature, step=0.05, label="Temperature (sampling)")
            seed = gr.Number(D.seed, precision=0, minimum=0, label="Seed")

    look = LookInside(models, "Each completed token coloured by the probability the model gave it (red: "
                      "unlikely, green: likely), its top alternatives on hover. Confident code is not "
                      "correct code: run it to know.")
    gr.Examples([[c] for c in examples(models.spec.examples)], inputs=[editor],
                label="Examples (chapter 7: code completion, as in Codex and Copilot)")

    @user_errors
    def complete_code(code, model_id=None, max_new_tokens=D.max_new_tokens, stop_sequences=None,
                      decoding=DECODING, temperature=D.temperature, seed=D.seed, request: gr.Request = None,
                      progress=gr.Progress(track_tqdm=True)):
        """Complete a piece of code (Python by default) with a small code model, as Copilot does: the model
        continues the code and stops before the first stop sequence (a new function, class, ...).

        Args:
            code: The code to continue, e.g. "def add(a, b):\\n    return" (required).
            model_id: Which model: tiny_starcoder_py (default, Python), SmolLM2 or Qwen2.5-Coder (many languages).
            max_new_tokens: Most tokens to generate, 1 to 512.
            stop_sequences: Texts that end the completion (written with \\n for a newline); default: a new def or class.
            decoding: "Greedy" (always the likeliest token, the default) or "Sampling".
            temperature: Sampling randomness, 0.05 to 2 (Sampling only).
            seed: Random seed for Sampling, a whole number >= 0.

        Returns:
            The code followed by its completion, and a Markdown status line (model, tokens).
        """
        stop_list = code_completion.parse_stop_sequences(ESCAPED_STOPS if stop_sequences is None
                                                         else stop_sequences)
        params = replace(D, max_new_tokens=max_new_tokens, do_sample=decoding == SAMPLING, temperature=temperature,
                         seed=D.seed if seed is None else seed, stop_sequences=stop_list)
        checked = code_completion.check(models, code, model_id, params)
        stop_event = signals.start(request)
        yield from while_loading(models, checked.model_id, progress, code)
        for part in paced(code_completion.run(models, checked, stop_event)):
            note = f"{part.new_tokens} new tokens" + (" · stopped" if part.stopped else "")
            yield code + part.text, describe(models.get(checked.model_id), note)

    completed = public_event(models, [run.click], complete_code,
                             [editor, model, max_new_tokens, stops, decoding, temperature, seed], [output, status],
                             tool=Tool("The code followed by its completion."))
    look.follow(completed, [editor, model, decoding, output], inside.explain, inside_text_views.strip)
    stop.click(signals.stop, None, None, queue=False, api_visibility="private")

    def code_request(code, model_id, max_new_tokens, stop_sequences, decoding, temperature, seed):
        """The request complete_code checked (its settings built the same way), for "Code for this result"."""
        stop_list = code_completion.parse_stop_sequences(ESCAPED_STOPS if stop_sequences is None else stop_sequences)
        params = replace(D, max_new_tokens=max_new_tokens, do_sample=decoding == SAMPLING, temperature=temperature,
                         seed=D.seed if seed is None else seed, stop_sequences=stop_list)
        return code_completion.check(models, code, model_id, params)

    code_block(models, Wiring([completed], [editor, model, max_new_tokens, stops, decoding, temperature, seed],
                              code_request),
               example=lambda: code_completion.check(models, editor.value))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
