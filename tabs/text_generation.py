"""Text generation tab: prompt in, tokens streamed out, with a Stop that really stops.

Run on its own: python -m tabs.text_generation
"""

from __future__ import annotations

import time

import gradio as gr

from pipelines.families.causal_lm import MAX_NEW_TOKENS, GenerationParams
from pipelines.tasks import text_generation
from ui.widgets import (
    StopSignals,
    describe,
    examples,
    model_picker,
    public_event,
    status_box,
    user_errors,
    while_loading,
)

D = text_generation.DEFAULTS
GPT2 = "openai-community/gpt2"
SAMPLING, GREEDY = "Sampling", "Greedy"


def build(models) -> None:
    signals = StopSignals()
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(label="Prompt", lines=4, placeholder=text_generation.EXAMPLE)
            with gr.Row():
                run = gr.Button("Generate", variant="primary")
                stop = gr.Button("Stop", variant="stop")
            output = gr.Textbox(label="Generated text", lines=8, interactive=False, buttons=["copy"])
            status = status_box()
        with gr.Column(scale=2):
            model = model_picker(models)
            chat = gr.Checkbox(True, label="Use the chat template",
                               info="Instruction-tuned models answer the prompt; GPT-2 ignores this.")
            decoding = gr.Radio([SAMPLING, GREEDY], value=SAMPLING if D.do_sample else GREEDY, label="Decoding",
                                info="Greedy always picks the likeliest token: the same text every time.")
            max_new_tokens = gr.Slider(1, MAX_NEW_TOKENS, value=D.max_new_tokens, step=1, label="Max new tokens")
            temperature = gr.Slider(0.05, 2.0, value=D.temperature, step=0.05, label="Temperature")
            top_p = gr.Slider(0.05, 1.0, value=D.top_p, step=0.05, label="Top-p")
            top_k = gr.Slider(0, 200, value=D.top_k, step=1, label="Top-k (0: off)")
            repetition_penalty = gr.Slider(1.0, 2.0, value=D.repetition_penalty, step=0.05,
                                           label="Repetition penalty")
            seed = gr.Number(D.seed, precision=0, minimum=0, label="Seed")

    default_model = models.spec.default.repo_id
    gr.Examples(
        [[p, GPT2 if p.startswith("Once upon") else default_model] for p in examples(models.spec.examples)],
        inputs=[prompt, model], label="Examples (chapter 1 starts with GPT-2 and 'Once upon a time,')",
    )

    @user_errors
    def generate_text(prompt, model_id=None, max_new_tokens=D.max_new_tokens, temperature=D.temperature,
                      top_p=D.top_p, top_k=D.top_k, repetition_penalty=D.repetition_penalty, seed=D.seed,
                      decoding=SAMPLING, use_chat_template=True, request: gr.Request = None,
                      progress=gr.Progress(track_tqdm=True)):
        params = GenerationParams(max_new_tokens=max_new_tokens, do_sample=decoding != GREEDY,
                                  temperature=temperature, top_p=top_p, top_k=top_k,
                                  repetition_penalty=repetition_penalty, seed=D.seed if seed is None else seed)
        checked = text_generation.check(models, prompt, model_id, params, use_chat_template)
        stop_event = signals.start(request)
        yield from while_loading(models, checked.model_id, progress, "")
        started = time.perf_counter()
        for part in text_generation.run(models, checked, stop_event):
            seconds = time.perf_counter() - started
            speed = f"{part.new_tokens} tokens in {seconds:.1f} s ({part.new_tokens / max(seconds, 1e-6):.1f}/s)"
            if part.stopped:
                speed += " · stopped"
            yield part.text, describe(models.get(checked.model_id), speed)

    public_event(models, [run.click, prompt.submit], generate_text,
                 [prompt, model, max_new_tokens, temperature, top_p, top_k, repetition_penalty, seed, decoding,
                  chat], [output, status])
    stop.click(signals.stop, None, None, queue=False, api_visibility="private")


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
