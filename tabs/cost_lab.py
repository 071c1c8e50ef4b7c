"""Cost lab page (course chapters 10, 13, 15, 16): what a generation costs, measured live on the app's own model.

Two sub-tabs. "One prompt": the prompt through float32 torch and the fast path side by side (time to first
token, tokens per second, weights in memory, top-5 agreement), the KV cache on and off, batch 1 and 4, and the
KV cache's bytes per token. "Attention cost": the forward pass timed over the input length with a fitted
quadratic, and full attention next to a sliding window (Longformer).

Run on its own: python -m tabs.cost_lab
"""

from __future__ import annotations

import gradio as gr

from pipelines.explainers import cost_lab as explain
from pipelines.explainers import cost_lab_attention as attention
from ui import cost_lab_views as draw
from ui.assistants import Tool, as_json
from ui.widgets import describe, load_model, progress_bar, public_event, status_box, user_errors

PROMPTS = [[explain.EXAMPLE], ["Write a Python function that adds two numbers."], ["Once upon a time,"],
           ["List three facts about the Moon."]]


def build(models) -> None:
    gr.Markdown(f"⚠️ {explain.SHARED_CPU}")
    with gr.Tabs(overflow_behavior="wrap"):  # every sub-tab visible on a phone, none behind "⋯"
        with gr.Tab("One prompt"):
            _speed(models)
        with gr.Tab("Attention cost"):
            _attention(models)


def _speed(models) -> None:
    gr.Markdown("The same prompt, answered greedily by the float32 model (torch) and by the fast path the app "
                "generates with (int4 weights on ONNX Runtime): how long until the first token, how many tokens "
                "a second after it, how much memory, and how often both put the same five tokens on top. Then "
                "the float32 model again without its KV cache, and with four copies of the prompt at once.")
    with gr.Row():
        prompt = gr.Textbox(explain.EXAMPLE, label="Prompt", lines=2, max_lines=4, scale=3,
                            info=f"Up to {explain.MAX_PROMPT_TOKENS} tokens as the model reads them (the chat "
                                 "template adds about 30).")
        with gr.Column(scale=2, min_width=240):
            new_tokens = gr.Slider(2, explain.MAX_NEW_TOKENS, value=explain.NEW_TOKENS, step=1, label="New tokens",
                                   info=f"Each path writes exactly this many (at most {explain.MAX_NEW_TOKENS}).")
            chat = gr.Checkbox(True, label="Use the chat template", info="Read the prompt as a chat message.")
    run = gr.Button("Compare the paths", variant="primary")
    status = status_box()
    table = gr.HTML()
    with gr.Row(equal_height=False):  # side by side in an 800 px iframe, one above the other on a phone
        with gr.Column(min_width=300):
            cache_batch = gr.HTML()
        with gr.Column(min_width=300):
            memory = gr.HTML()
    with gr.Accordion("The numbers", open=False):
        numbers = gr.JSON(label="compare_speed")
    gr.Examples(PROMPTS, inputs=[prompt], label="Examples")

    @user_errors
    def compare_speed(prompt, max_new_tokens=explain.NEW_TOKENS, chat_template=True, progress=gr.Progress()):
        """Run one prompt through the float32 torch model and the app's fast path (onnxruntime-genai int4 on a
        CPU) side by side: time to first token, tokens per second, weights in memory, and top-5 agreement of
        their predictions; then the KV cache off, and a batch of 4; and the KV cache's bytes per token from the
        model's config checked against the real cache. Timings are live and move on a shared CPU.

        Args:
            prompt: The prompt, up to 96 tokens as the model reads it, e.g. "What is the capital of France?"
            max_new_tokens: Tokens each path writes, greedily, 2 to 24 (default 16).
            chat_template: Read the prompt as a chat message (default true).

        Returns:
            The side-by-side table, the cache and batch bars, the KV memory, the numbers, a status line.
        """
        explain.check(models, prompt, max_new_tokens, chat_template)  # bad input: no model loads
        load_model(models, None, progress)
        result = explain.compare_speed(models, prompt, max_new_tokens, chat_template, progress_bar(progress))
        speeds = " · ".join(f"{row['name']}: {row['tokens_per_second']} tokens/s" for row in result["paths"])
        line = describe(models.get(), speeds)
        return (draw.speed_table(result), draw.cache_and_batch(result), draw.kv_memory(result), result, line)

    public_event(models, [run.click, prompt.submit], compare_speed, [prompt, new_tokens, chat],
                 [table, cache_batch, memory, numbers, status],
                 tool=Tool('JSON: {"paths" (one per path: "time_to_first_token_ms", "tokens_per_second", '
                           '"weights_mb", "text"), "agreement" ("top5", "top1": 0 to 1), "kv_cache" ("on", "off"), '
                           '"batch" ("one", "four"), "kv_bytes_per_token" ("config", "measured")}.',
                           result=lambda *outs: as_json(outs[3])))


def _attention(models) -> None:
    gr.Markdown("Attention compares every token with every other one: n² pairs, where the rest of a layer does "
                "work per token. One layer of the model's shape reads texts of a few lengths; a quadratic "
                "a + b·n + c·n² fitted to the times separates the two. A sliding window (Longformer, chapter 15) "
                "lets each token see only its neighbours: pairs grow as n, not n².")
    with gr.Row():
        length = gr.Slider(64, attention.LONGEST, value=attention.MAX_LENGTH, step=64, label="Longest input",
                           info="Tokens in the longest text read.")
        window = gr.Slider(1, 256, value=attention.WINDOW, step=1, label="Window",
                           info="Tokens each side that a token may attend to.")
        points = gr.Slider(3, 8, value=attention.POINTS, step=1, label="Lengths measured")
    run = gr.Button("Measure the costs", variant="primary")
    status = status_box()
    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            sweep = gr.HTML()
        with gr.Column(min_width=300):
            layer = gr.HTML()
    mask_view = gr.HTML()
    with gr.Accordion("The numbers", open=False):
        numbers = gr.JSON(label="attention_cost")

    @user_errors
    def attention_cost(max_length=attention.MAX_LENGTH, window=attention.WINDOW, points=attention.POINTS,
                       progress=gr.Progress()):
        """Time one layer of the model's shape over texts of several lengths and fit a + b*n + c*n^2 (c*n^2: the
        attention term); then attention alone with the model's heads, full and with a sliding window
        (Longformer), timed over the same lengths, and the allowed pairs of each mask.

        Args:
            max_length: The longest input in tokens, 64 to 2,048 (default 1,024).
            window: Tokens on each side a token may attend to in the sliding window, 1 to 256 (default 32).
            points: How many lengths to measure, 3 to 8 (default 5).

        Returns:
            The sweep chart with its fit, the attention chart, the two masks, the numbers, a status line.
        """
        attention.check(max_length, window, points)  # bad input: no model loads
        load_model(models, None, progress)
        result = attention.attention_cost(models, max_length, window, points, progress_bar(progress))
        share = result["quadratic_share"]
        fit = (f"n² term {share:.0%} of the time at {result['max_length']} tokens" if share is not None
               else "the fit could not split the n² term from the noise")
        line = describe(models.get(), f"{len(result['lengths'])} lengths measured · {fit}")
        return draw.sweep_chart(result), draw.attention_chart(result), draw.masks(result), result, line

    public_event(models, [run.click], attention_cost, [length, window, points],
                 [sweep, layer, mask_view, numbers, status],
                 tool=Tool('JSON: {"lengths", "forward_ms" (one layer), "fit" (a, b, c of a + b*n + c*n^2), '
                           '"quadratic_share", "full_pairs", "window_pairs", "attention_alone" ("full_ms", '
                           '"window_ms")}.',
                           result=lambda *outs: as_json(outs[3])))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
