"""Code completion tab: code in an editor, the continuation streamed and shown highlighted.

Run on its own: python -m tabs.code_completion
"""

from __future__ import annotations

import gradio as gr

from pipelines import code_completion
from pipelines.causal_lm import GenerationParams
from pipelines.registry import task
from tabs.common import (StopSignals, default_concurrency, describe, examples, model_picker, status_box,
                         user_errors, while_loading)

SPEC = task("code-completion")
ESCAPED_STOPS = [s.encode("unicode_escape").decode() for s in code_completion.DEFAULT_STOP_SEQUENCES]


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
            model = model_picker(SPEC)
            max_new_tokens = gr.Slider(1, 512, value=64, step=1, label="Max new tokens")
            stops = gr.Dropdown(ESCAPED_STOPS, value=ESCAPED_STOPS, multiselect=True, allow_custom_value=True,
                                label="Stop sequences",
                                info="Generation ends before the first of these (\\n is a newline).")
            decoding = gr.Radio(["Greedy", "Sampling"], value="Greedy", label="Decoding")
            temperature = gr.Slider(0.05, 2.0, value=0.2, step=0.05, label="Temperature (sampling)")
            seed = gr.Number(0, precision=0, minimum=0, label="Seed")

    gr.Examples([[c] for c in examples("code")], inputs=[editor],
                label="Examples (chapter 7: code completion, as in Codex and Copilot)")

    @user_errors
    def complete_code(code, model_id=None, max_new_tokens=64, stop_sequences=None, decoding="Greedy",
                      temperature=0.2, seed=0, request: gr.Request = None,
                      progress=gr.Progress(track_tqdm=True)):
        params = GenerationParams(max_new_tokens=int(max_new_tokens), do_sample=decoding == "Sampling",
                                  temperature=float(temperature), repetition_penalty=1.0,
                                  seed=int(seed if seed is not None else 0))
        stop_list = code_completion.parse_stop_sequences(
            ESCAPED_STOPS if stop_sequences is None else stop_sequences)
        stop_event = signals.start(request)
        yield from while_loading(models, SPEC, model_id, progress, code)
        for part in code_completion.complete(models, code, model_id, params, stop_list, stop_event):
            note = f"{part.new_tokens} new tokens" + (" · stopped" if part.stopped else "")
            yield code + part.text, describe(models.get(SPEC.id, model_id), note)

    gr.on([run.click], complete_code, [editor, model, max_new_tokens, stops, decoding, temperature, seed],
          [output, status], api_name="complete_code", concurrency_id=SPEC.id,
          concurrency_limit=default_concurrency(models))
    stop.click(signals.stop, None, None, queue=False, api_visibility="private")


if __name__ == "__main__":
    from app import launch_single

    launch_single(SPEC.id)
