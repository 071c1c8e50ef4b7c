"""Text generation tab: prompt in, tokens streamed out, with a Stop that really stops.

Run on its own: python -m tabs.text_generation
"""

from __future__ import annotations

import time

import gradio as gr

from pipelines import text_generation
from pipelines.causal_lm import MAX_NEW_TOKENS, GenerationParams
from pipelines.registry import task
from tabs.common import (StopSignals, default_concurrency, describe, examples, model_picker, status_box,
                         user_errors, while_loading)

SPEC = task("text-generation")
GPT2 = "openai-community/gpt2"


def build(models) -> None:
    signals = StopSignals()
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(label="Prompt", lines=4, placeholder="Once upon a time,")
            with gr.Row():
                run = gr.Button("Generate", variant="primary")
                stop = gr.Button("Stop", variant="stop")
            output = gr.Textbox(label="Generated text", lines=8, interactive=False, buttons=["copy"])
            status = status_box()
        with gr.Column(scale=2):
            model = model_picker(SPEC)
            chat = gr.Checkbox(True, label="Use the chat template",
                               info="Instruction-tuned models answer the prompt; GPT-2 ignores this.")
            decoding = gr.Radio(["Sampling", "Greedy"], value="Sampling", label="Decoding",
                                info="Greedy always picks the likeliest token: the same text every time.")
            max_new_tokens = gr.Slider(1, MAX_NEW_TOKENS, value=128, step=1, label="Max new tokens")
            temperature = gr.Slider(0.05, 2.0, value=0.7, step=0.05, label="Temperature")
            top_p = gr.Slider(0.05, 1.0, value=0.95, step=0.05, label="Top-p")
            top_k = gr.Slider(0, 200, value=50, step=1, label="Top-k (0: off)")
            repetition_penalty = gr.Slider(1.0, 2.0, value=1.1, step=0.05, label="Repetition penalty")
            seed = gr.Number(0, precision=0, minimum=0, label="Seed")

    gr.Examples(
        [[p, GPT2 if p.startswith("Once upon") else SPEC.default.repo_id] for p in examples("generation")],
        inputs=[prompt, model], label="Examples (chapter 1 starts with GPT-2 and 'Once upon a time,')",
    )

    @user_errors
    def generate_text(prompt, model_id, max_new_tokens=128, temperature=0.7, top_p=0.95, top_k=50,
                      repetition_penalty=1.1, seed=0, decoding="Sampling", use_chat_template=True,
                      request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
        params = GenerationParams(
            max_new_tokens=int(max_new_tokens), do_sample=decoding != "Greedy", temperature=float(temperature),
            top_p=float(top_p), top_k=int(top_k), repetition_penalty=float(repetition_penalty),
            seed=int(seed if seed is not None else 0),
        )
        stop_event = signals.start(request)
        yield from while_loading(models, SPEC, model_id, progress, "")
        started = time.perf_counter()
        for part in text_generation.generate(models, prompt, model_id, params, bool(use_chat_template),
                                             stop_event):
            seconds = time.perf_counter() - started
            speed = f"{part.new_tokens} tokens in {seconds:.1f} s ({part.new_tokens / max(seconds, 1e-6):.1f}/s)"
            if part.stopped:
                speed += " · stopped"
            yield part.text, describe(models.get(SPEC.id, model_id), speed)

    gr.on([run.click, prompt.submit], generate_text,
          [prompt, model, max_new_tokens, temperature, top_p, top_k, repetition_penalty, seed, decoding, chat],
          [output, status], api_name="generate_text", concurrency_id=SPEC.id,
          concurrency_limit=default_concurrency(models))
    stop.click(signals.stop, None, None, queue=False, api_visibility="private")


if __name__ == "__main__":
    from app import launch_single

    launch_single(SPEC.id)
