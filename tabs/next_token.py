"""Next token page: a prompt's candidates for the next token, reshaped by temperature, top-k and top-p and
sampled; what each layer would predict (the logit lens); a text coloured by the model's confidence.

Run on its own: python -m tabs.next_token
"""

from __future__ import annotations

import gradio as gr

from pipelines.core.registry import GPT2, SMOLLM2
from pipelines.explainers import next_token as explain
from pipelines.explainers.next_token_inputs import (
    DEFAULT_SAMPLES,
    EXAMPLE,
    MAX_CONTINUATION,
    MAX_SAMPLES,
    check_next_token,
    check_prompt,
)
from pipelines.explainers.next_token_lens import STRIP_EXAMPLE, check_position, check_strip
from ui import next_token_views as draw
from ui.assistants import Tool, as_json
from ui.widgets import describe, model_picker, public_event, status_box, user_errors, while_loading

PROMPTS = [
    [EXAMPLE, SMOLLM2],
    ["The capital of Australia is", SMOLLM2],
    ["Once upon a time,", GPT2],
    ["The cat sat on the", SMOLLM2],
    ["def add(a, b):\n    return", SMOLLM2],
]
TEXTS = [[STRIP_EXAMPLE, 0], ["The capital of France is London.", 0], ["The capital of Australia is", 12],
         ["Colorless green ideas sleep furiously.", 0]]
CONFIDENT_IS_NOT_CORRECT = (
    "Confident is not the same as correct: the model's own greedy words are always its likeliest, true or not "
    "(chapter 13: hallucinations). Add 12 tokens to *The capital of Australia is*, then hover the city it picks "
    "to see its runner-up.")


def build(models) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(label="Prompt", lines=2, value=EXAMPLE, placeholder=EXAMPLE)
            run = gr.Button("Predict the next token", variant="primary")
            bars = gr.HTML(label="Candidates")
            status = status_box()
        with gr.Column(scale=2):
            gr.Markdown("Every token of the vocabulary gets a probability of coming next. Temperature, then "
                        "top-k, then top-p reshape them (greyed rows are cut); a token is drawn from what is left. "
                        "The prompt is read as plain text, also by the chat model.")
            model = model_picker(models)
            temperature = gr.Slider(0, 5, value=1.0, step=0.05, label="Temperature",
                                    info="0: greedy, all on the likeliest · 1: the model's own · higher: flatter")
            top_k = gr.Slider(0, 200, value=50, step=1, label="Top-k", info="Keep the k likeliest (0: off)")
            top_p = gr.Slider(0.01, 1.0, value=0.9, step=0.01, label="Top-p",
                              info="Keep the likeliest until their sum reaches p (1: off)")
            with gr.Accordion("Advanced", open=False):
                samples = gr.Slider(0, MAX_SAMPLES, value=DEFAULT_SAMPLES, step=10, label="Samples",
                                    info="Tokens drawn from the final distribution (0: none)")
                seed = gr.Number(0, precision=0, label="Seed", info="The same seed draws the same tokens")
                chat = gr.Checkbox(False, label="Use the chat template",
                                   info="SmolLM2 only: read the prompt as a chat message; the next token then "
                                        "starts the model's answer (off: plain text)")
            gr.Examples(PROMPTS, inputs=[prompt, model], label="Examples (chapter 1: GPT-2 and 'Once upon a time,')")
    with gr.Tabs(overflow_behavior="wrap"):  # every sub-tab visible on a phone, none behind "⋯"
        with gr.Tab("Sampling"):
            drawn = gr.HTML()
        with gr.Tab("Logit lens"):
            gr.Markdown("What would the model say if it stopped after layer i? Each layer's hidden state at one "
                        "position goes through the model's final norm and LM head. Positions count from 0.")
            with gr.Row():
                position = gr.Number(-1, precision=0, label="Position", info="-1: the last token", min_width=120)
                look = gr.Button("Look through the layers", variant="primary", scale=2)
            lens_view = gr.HTML()
            lens_status = status_box()
        with gr.Tab("Confidence"):
            text = gr.Textbox(label="Text", lines=2, value=STRIP_EXAMPLE)
            with gr.Row():
                added = gr.Slider(0, MAX_CONTINUATION, value=0, step=1, label="Tokens to add",
                                  info="Let the model continue the text first (greedy); 0: your text only")
                colour = gr.Button("Colour by confidence", variant="primary")
            strip_view = gr.HTML()
            gr.Markdown(CONFIDENT_IS_NOT_CORRECT)
            strip_status = status_box()
            gr.Examples(TEXTS, inputs=[text, added], label="Texts")
    with gr.Accordion("The numbers", open=False):
        numbers = gr.JSON(label="next_token")
        lens_numbers = gr.JSON(label="logit_lens")
        strip_numbers = gr.JSON(label="confidence_strip")

    @user_errors
    def next_token(prompt, model_id=None, temperature=1.0, top_k=50, top_p=0.9, samples=DEFAULT_SAMPLES, seed=0,
                   chat_template=False, progress=gr.Progress()):
        """A prompt's likeliest next tokens with their probabilities before and after temperature, top-k and
        top-p, the entropy, and a seeded histogram of tokens drawn from the final distribution.

        Args:
            prompt: The text whose next token to predict, up to 128 tokens, e.g. "The capital of France is".
            model_id: Which model: SmolLM2-135M-Instruct (default) or GPT-2.
            temperature: 0 to 5; 0 is greedy (all probability on the likeliest token), 1 the model's own.
            top_k: Keep only the k likeliest tokens, 0 (off) to the vocabulary size.
            top_p: Above 0 and at most 1: keep the likeliest tokens until their cumulative probability reaches p.
            samples: Tokens to draw from the final distribution, 0 to 1000 (0: none).
            seed: Random seed of the draws, a whole number >= 0: the same seed gives the same counts.
            chat_template: Read the prompt as a chat message (SmolLM2 only); off: plain text.

        Returns:
            The candidates as bars, the draws, the numbers (JSON) and a status line.
        """
        checked, _ = check_next_token(models, prompt, model_id, temperature, top_k, top_p, samples, seed,
                                      chat_template)  # bad input: no model loads
        yield from while_loading(models, checked.model_id, progress, gr.skip(), gr.skip(), gr.skip())
        result = explain.next_token(models, prompt, model_id, temperature, top_k, top_p, samples, seed,
                                    chat_template)
        extra = f"{len(result['tokens'])} prompt tokens · {result['kept_count']:,} tokens kept"
        yield draw.candidates(result), draw.sampling(result), result, _status(models, result, extra)

    @user_errors
    def logit_lens(prompt, model_id=None, position=-1, chat_template=False, progress=gr.Progress()):
        """The logit lens: what each layer of the model would predict next at one position of the prompt
        (its hidden state through the model's final norm and LM head), with the top guesses per layer.

        Args:
            prompt: The text to look into, up to 128 tokens, e.g. "The capital of France is".
            model_id: Which model: SmolLM2-135M-Instruct (default) or GPT-2.
            position: Which token, counted from 0; -1 (default) is the last one.
            chat_template: Read the prompt as a chat message (SmolLM2 only); off: plain text.

        Returns:
            A table of layers and their guesses, the numbers (JSON) and a status line.
        """
        checked = check_prompt(models, prompt, model_id, chat_template)
        check_position(position, len(checked.ids))
        yield from while_loading(models, checked.model_id, progress, gr.skip(), gr.skip())
        result = explain.logit_lens(models, prompt, model_id, position, chat_template)
        extra = f"{len(result['layers']) - 1} layers · position {result['position']}"
        yield draw.lens(result), result, _status(models, result, extra)

    @user_errors
    def confidence_strip(text, model_id=None, continue_tokens=0, progress=gr.Progress()):
        """Each token of a text with the probability the model gave it, given the text before it, and its top
        alternatives; the mean log-probability and perplexity. Optionally the model continues the text first.

        Args:
            text: The text to score, up to 128 tokens, e.g. "The capital of France is Paris."
            model_id: Which model: SmolLM2-135M-Instruct (default) or GPT-2.
            continue_tokens: Tokens the model adds first (greedy), 0 to 64; 0 scores the text as typed.

        Returns:
            The text coloured by probability, the numbers (JSON) and a status line.
        """
        checked, _ = check_strip(models, text, model_id, continue_tokens)
        yield from while_loading(models, checked.model_id, progress, gr.skip(), gr.skip())
        result = explain.confidence_strip(models, text, model_id, continue_tokens)
        extra = f"{len(result['tokens'])} tokens · perplexity {result['perplexity']:.2f}"
        yield draw.strip(result), result, _status(models, result, extra)

    public_event(models, [run.click, prompt.submit, temperature.release, top_k.release, top_p.release], next_token,
                 [prompt, model, temperature, top_k, top_p, samples, seed, chat], [bars, drawn, numbers, status],
                 tool=Tool('JSON: {"tokens", "candidates": [{"token", "probability", "probability_t", "kept", '
                           '"cumulative", "final"}...], "entropy_bits", "entropy_after_bits", "samples"}.',
                           result=lambda *outs: as_json(outs[2])))
    public_event(models, [look.click, position.submit], logit_lens, [prompt, model, position, chat],
                 [lens_view, lens_numbers, lens_status],
                 tool=Tool('JSON: {"tokens", "position", "tracked", "layers": [{"layer", "name", "top": [[token, '
                           'p]...], "tracked_probability"}...]}.', result=lambda *outs: as_json(outs[1])))
    public_event(models, [colour.click, text.submit], confidence_strip, [text, model, added],
                 [strip_view, strip_numbers, strip_status],
                 tool=Tool('JSON: {"tokens": [{"token", "probability", "rank", "alternatives"}...], '
                           '"mean_log_prob", "perplexity"}.', result=lambda *outs: as_json(outs[1])))


def _status(models, result: dict, extra: str) -> str:
    line = describe(models.get(result["model_id"]), extra)
    return line + "".join(f"\n\n{note}" for note in result.get("notes", []))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
