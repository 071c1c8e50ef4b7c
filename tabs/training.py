"""Training signals tab (course chapter 6): what the loss is, token by token, and the warm-up schedule.

Two sub-tabs. "Loss per token": a sentence read once under teacher forcing by a real model, each token's
loss -log p(correct token) as a bar, their mean (the loss) and its exponential (the perplexity); beside it
the model running free on its own predictions from where it first departs from the text (exposure bias).
"Warm-up schedule": the course's learning-rate formula, with d_model and the warm-up steps adjustable.

Run on its own: python -m tabs.training
"""

from __future__ import annotations

import gradio as gr

from pipelines.explainers import training as explain
from pipelines.explainers import training_schedule as schedule
from ui import training_views
from ui.assistants import Tool, as_json
from ui.widgets import describe, load_model, model_picker, public_event, status_box, user_errors

EXAMPLES = [
    explain.EXAMPLE_TEXT,
    "The capital of France is Paris.",
    "The capital of France is Berlin.",
    "Mat the on sat cat the.",
    "Transformers are trained with teacher forcing: at each step the model reads the true previous words.",
]


def build(models) -> None:
    with gr.Tabs(overflow_behavior="wrap"):  # every sub-tab visible on a phone, none behind "⋯"
        with gr.Tab("Loss per token"):
            _losses(models)
        with gr.Tab("Warm-up schedule"):
            _schedule(models)


def _losses(models) -> None:
    gr.Markdown("Training scores every token at once: the model reads the true text up to each token (teacher "
                "forcing) and pays −log p(the correct next token). The mean is the loss; e^loss is the "
                "perplexity. Hover a bar for the probability and the model's own guess.")
    with gr.Row():
        text = gr.Textbox(explain.EXAMPLE_TEXT, label="Text", lines=2, max_lines=4, scale=3,
                          info=f"Up to {explain.MAX_TOKENS} tokens.")
        with gr.Column(scale=2, min_width=240):
            model = model_picker(models)
    run = gr.Button("Score every token", variant="primary")
    status = status_box()
    with gr.Row(equal_height=False):  # side by side in an 800 px iframe, one above the other on a phone
        with gr.Column(min_width=300):
            bars = gr.HTML()
        with gr.Column(min_width=300):
            gr.Markdown("**The model running free** on its own predictions, from the first token:")
            free = gr.HTML()
    with gr.Accordion("The numbers", open=False):
        numbers = gr.JSON(label="token_losses")
    gr.Examples([[e] for e in EXAMPLES], inputs=[text], label="Examples (a wrong fact and a shuffled sentence "
                "cost more)")

    @user_errors
    def token_losses(text, model_id=None, progress=gr.Progress()):
        """Score a text the way a language model is trained: under teacher forcing, each token's loss
        -log p(correct token), their mean (the loss) and exp(mean) (the perplexity); and where the model,
        running free on its own greedy predictions, first departs from the text.

        Args:
            text: The text to score, 2 to 128 tokens, e.g. "The cat sat on the mat."
            model_id: Which model: SmolLM2-135M-Instruct (default) or GPT-2.

        Returns:
            The loss bars, the free run beside the text, the numbers, a status line.
        """
        explain.check(models, text, model_id)  # bad input: no model loads
        load_model(models, model_id, progress)
        result = explain.token_losses(models, text, model_id)
        line = describe(models.get(result["model_id"]), f"{result['predicted_tokens']} tokens scored · mean loss "
                        f"{result['mean_loss']:.3f} · perplexity {result['perplexity']:.2f}")
        return training_views.loss_bars(result), training_views.free_run(result), result, line

    public_event(models, [run.click, text.submit], token_losses, [text, model], [bars, free, numbers, status],
                 tool=Tool('JSON: {"tokens", "losses" (one per token, null for the first), "probabilities", '
                           '"expected" (the model\'s top guess at each token), "mean_loss", "perplexity", '
                           '"departure" (where the model running free first differs), "free_run", "text_after"}.',
                           result=lambda *outs: as_json(outs[2])))


def _schedule(models) -> None:
    gr.Markdown(f"The course's schedule: `{schedule.FORMULA}`. It rises for the warm-up steps, peaks, then decays "
                "as 1/√step. Move a slider to redraw.")
    with gr.Row():
        d_model = gr.Slider(32, 2048, value=512, step=32, label="d_model", info="The model's width (paper: 512).")
        warmup = gr.Slider(100, 20_000, value=4000, step=100, label="Warm-up steps", info="Paper: 4,000.")
    draw = gr.Button("Plot the schedule", variant="primary")
    status = status_box()
    chart = gr.HTML()
    gr.Markdown(f"⚠️ {schedule.STEP_ZERO_NOTE}")
    with gr.Accordion("Advanced", open=False):
        steps = gr.Number(None, precision=0, label="Steps shown", info="Empty: 5 × the warm-up steps.")
    with gr.Accordion("The numbers", open=False):
        numbers = gr.JSON(label="warmup_schedule")
    gr.Examples([[512, 4000], [1024, 4000], [512, 1000], [256, 8000]], inputs=[d_model, warmup],
                label="Examples (the paper's base model is d_model 512 with 4,000 warm-up steps)")

    @user_errors
    def warmup_schedule(d_model=512, warmup_steps=4000, steps=None):
        """The course's learning-rate schedule with warm-up, lr = d_model^-0.5 * min(step^-0.5,
        step * warmup_steps^-1.5), from step 1 (step 0 divides by zero: the pitfall).

        Args:
            d_model: The model width, 1 to 65,536 (the paper: 512).
            warmup_steps: Steps of linear warm-up before the peak, 1 to 1,000,000 (the paper: 4,000).
            steps: The last step shown, 2 to 10,000,000; empty for 5 x warmup_steps.

        Returns:
            The schedule as a chart, the numbers, a status line.
        """
        result = schedule.warmup_schedule(models, d_model, warmup_steps, steps)
        peak = f"peak {result['peak_learning_rate']:.4g} at step {result['peak_step']:,}"
        if not result["peak_is_shown"]:
            peak = f"still warming up at the last step shown ({result['learning_rates'][-1]:.4g})"
        view = training_views.line_chart(
            [("learning rate", result["steps"], result["learning_rates"])], "step", "learning rate",
            title=f"d_model {result['d_model']}, {result['warmup_steps']:,} warm-up steps",
            mark=(result["peak_step"], "peak") if result["peak_is_shown"] else None)
        line = (f"**Schedule:** {peak} · step 1: {result['first_step_learning_rate']:.4g} · step "
                f"{result['steps_shown']:,}: {result['last_learning_rate']:.4g} · step 0: undefined (division by zero)")
        return view, result, line

    public_event(models, [draw.click, d_model.release, warmup.release, steps.submit], warmup_schedule,
                 [d_model, warmup, steps], [chart, numbers, status],
                 tool=Tool('JSON: {"formula", "steps", "learning_rates" (one per step), "peak_step", '
                           '"peak_learning_rate", "step_zero_note"}.', result=lambda *outs: as_json(outs[1])))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
