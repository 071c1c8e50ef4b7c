"""Text generation tab: prompt in, tokens streamed out, with a Stop that really stops.

Run on its own: python -m tabs.text_generation
"""

from __future__ import annotations

import time

import gradio as gr

from pipelines.families.causal_lm import MAX_NEW_TOKENS, GenerationParams
from pipelines.inside import text_generation as inside
from pipelines.tasks import text_generation
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

D = text_generation.DEFAULTS
SAMPLING, GREEDY = "Sampling", "Greedy"
DECODING = SAMPLING if D.do_sample else GREEDY


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
            chat = gr.Checkbox(text_generation.USE_CHAT_TEMPLATE, label="Use the chat template",
                               info="Instruction-tuned models answer the prompt; GPT-2 ignores this.")
            decoding = gr.Radio([SAMPLING, GREEDY], value=DECODING, label="Decoding",
                                info="Greedy always picks the likeliest token: the same text every time.")
            max_new_tokens = gr.Slider(1, MAX_NEW_TOKENS, value=D.max_new_tokens, step=1, label="Max new tokens")
            temperature = gr.Slider(0.05, 2.0, value=D.temperature, step=0.05, label="Temperature")
            top_p = gr.Slider(0.05, 1.0, value=D.top_p, step=0.05, label="Top-p")
            top_k = gr.Slider(0, 200, value=D.top_k, step=1, label="Top-k (0: off)")
            repetition_penalty = gr.Slider(1.0, 2.0, value=D.repetition_penalty, step=0.05,
                                           label="Repetition penalty")
            seed = gr.Number(D.seed, precision=0, minimum=0, label="Seed")

    look = LookInside(models, "Each generated token coloured by the probability the model gave it (red: "
                      "unlikely, green: likely), its top alternatives on hover. Confident is not true, "
                      "and sampling may draw what the model did not rank first.")
    default_model = models.spec.default.repo_id
    base_model = next(c.repo_id for c in models.spec.checkpoints if "chat" not in c.traits)  # GPT-2 continues text
    gr.Examples(
        [[p, base_model if p.startswith("Once upon") else default_model] for p in examples(models.spec.examples)],
        inputs=[prompt, model], label="Examples (chapter 1 starts with GPT-2 and 'Once upon a time,')",
    )

    @user_errors
    def generate_text(prompt, model_id=None, max_new_tokens=D.max_new_tokens, temperature=D.temperature,
                      top_p=D.top_p, top_k=D.top_k, repetition_penalty=D.repetition_penalty, seed=D.seed,
                      decoding=DECODING, use_chat_template=text_generation.USE_CHAT_TEMPLATE,
                      request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
        """Generate text with a small language model: a chat model answers the prompt, GPT-2 continues it.
        The first call of a model may take a while: the model loads first.

        Args:
            prompt: The text to answer or continue, e.g. "What is the capital of France?" (required).
            model_id: Which model: SmolLM2 (default, chat), GPT-2 (continues text) or Qwen2.5 (chat, larger).
            max_new_tokens: Most tokens to generate, 1 to 1024 (a token is about 3/4 of a word).
            temperature: Sampling randomness, 0.05 to 2: lower is more predictable. Ignored by Greedy.
            top_p: Nucleus sampling, 0.05 to 1: sample only from the likeliest tokens covering this probability.
            top_k: Sample only from the k likeliest tokens, 0 to 200 (0: no limit).
            repetition_penalty: 1 to 2; above 1 discourages repeating the same words.
            seed: Random seed, a whole number >= 0: the same seed and settings give the same text.
            decoding: "Sampling" (varied text) or "Greedy" (always the likeliest token: the same text every time).
            use_chat_template: Wrap the prompt in the chat model's template so that it answers (GPT-2 has none).

        Returns:
            The generated text (the prompt not included) and a Markdown status line (model, speed).
        """
        params = GenerationParams(max_new_tokens=max_new_tokens, do_sample=decoding != GREEDY,
                                  temperature=temperature, top_p=top_p, top_k=top_k,
                                  repetition_penalty=repetition_penalty, seed=D.seed if seed is None else seed)
        checked = text_generation.check(models, prompt, model_id, params, use_chat_template)
        stop_event = signals.start(request)
        yield from while_loading(models, checked.model_id, progress, "")
        started = time.perf_counter()
        for part in paced(text_generation.run(models, checked, stop_event)):
            seconds = time.perf_counter() - started
            speed = f"{part.new_tokens} tokens in {seconds:.1f} s ({part.new_tokens / max(seconds, 1e-6):.1f}/s)"
            if part.stopped:
                speed += " · stopped"
            yield part.text, describe(models.get(checked.model_id), speed)

    generated = public_event(models, [run.click, prompt.submit], generate_text,
                             [prompt, model, max_new_tokens, temperature, top_p, top_k, repetition_penalty, seed,
                              decoding, chat], [output, status],
                             tool=Tool("The generated text (the prompt not included)."))
    look.follow(generated, [prompt, model, chat, decoding, output], inside.explain, inside_text_views.strip)
    stop.click(signals.stop, None, None, queue=False, api_visibility="private")

    def code_request(prompt, model_id, max_new_tokens, temperature, top_p, top_k, repetition_penalty, seed, decoding,
                     use_chat_template):
        """The request generate_text checked (its settings built the same way), for "Code for this result"."""
        params = GenerationParams(max_new_tokens=max_new_tokens, do_sample=decoding != GREEDY, temperature=temperature,
                                  top_p=top_p, top_k=top_k, repetition_penalty=repetition_penalty,
                                  seed=D.seed if seed is None else seed)
        return text_generation.check(models, prompt, model_id, params, use_chat_template)

    code_block(models, Wiring([generated], [prompt, model, max_new_tokens, temperature, top_p, top_k,
                                            repetition_penalty, seed, decoding, chat], code_request),
               example=lambda: text_generation.check(models, text_generation.EXAMPLE))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
