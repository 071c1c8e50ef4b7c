"""Build a Transformer page (course chapters 11, 5 and 6): the course's from-scratch model trained live on
the reverse task, its curves and cross-attention streamed while it learns, then tried on a typed sentence.

The trained model lives in the visitor's session (a gr.State holding the pipeline's opaque Trained
object: this module never imports torch). Trainings run in their own threads, bounded app-wide by one
`Trainings` made here (pipelines/explainers/build_transformer.py says how).

Run on its own: python -m tabs.build_transformer
"""

from __future__ import annotations

import time

import gradio as gr

from pipelines.explainers import build_transformer as bt
from pipelines.explainers import build_transformer_data as data
from ui import build_transformer_views as views
from ui.assistants import Tool, as_json
from ui.widgets import StopSignals, public_event, status_box, user_errors

# Requests of this page at once (trainings, waiting ones included, and reversals): trainings themselves
# are bounded by bt.MAX_AT_ONCE; a reversal takes milliseconds.
PAGE_CONCURRENCY = 2 * bt.MAX_AT_ONCE + 2
RUN_HEADERS = ["run", "settings", "steps", "seconds", "exact match", "ended by"]
ENDED = {"steps": "step limit", "time": "time limit", "stop": "Stop", "learned": "all held-out right",
         "diverged": "loss blew up"}


def build(models) -> None:
    room, signals = bt.Trainings(), StopSignals()
    d = bt.DEFAULTS
    gr.Markdown(f"Train the course's Transformer, written from scratch (encoder, decoder, multi-head attention), "
                f"to **reverse sentences** of {len(data.WORDS)} toy words; watch it learn, then try it below.")
    with gr.Row():
        train = gr.Button("Train", variant="primary", scale=2)
        stop = gr.Button("Stop", variant="stop", scale=1)
    with gr.Row():
        experiment_buttons = {name: gr.Button(name, size="sm") for name in bt.EXPERIMENTS}
    lesson = gr.Markdown(elem_classes=["pg-note"])
    with gr.Accordion("Advanced", open=False):
        with gr.Row():
            width = gr.Number(d.width, precision=0, label="Width", info=f"d_model, {bt.MIN_WIDTH}-{bt.MAX_WIDTH}")
            heads = gr.Number(d.heads, precision=0, label="Heads", info=f"1-{bt.MAX_HEADS}, divides the width")
            layers = gr.Number(d.layers, precision=0, label="Layers", info=f"encoder and decoder, 1-{bt.MAX_LAYERS}")
            warmup = gr.Number(d.warmup, precision=0, label="Warm-up", info="steps; 0 = off")
        with gr.Row():
            lr_multiplier = gr.Number(d.lr_multiplier, label="Learning-rate multiplier", info="0.01-10")
            clip = gr.Checkbox(d.clip, label="Clip gradients")
            max_norm = gr.Number(d.max_norm, label="Max norm", info="clipping threshold")
            batch_size = gr.Number(d.batch_size, precision=0, label="Batch size", info=f"1-{bt.MAX_BATCH}")
        with gr.Row():
            seed = gr.Number(d.seed, precision=0, label="Seed")
            max_steps = gr.Number(d.max_steps, precision=0, label="Max steps", info=f"1-{bt.MAX_STEPS:,}")
            max_seconds = gr.Number(d.max_seconds, label="Time limit", info=f"seconds, at most {bt.MAX_SECONDS}")
    controls = [width, heads, layers, warmup, lr_multiplier, clip, max_norm, batch_size, seed, max_steps, max_seconds]
    gr.Markdown("Left: loss, the learning rate applied, the gradient norm (dashed: the clipping threshold) and "
                "held-out exact match. Right: the decoder's cross-attention on a fixed held-out sentence: the "
                "anti-diagonal of reversal appears as it learns (where it reads, not why: attention is not an "
                "explanation by itself).", elem_classes=["pg-note"])
    progress_view = gr.HTML()
    train_status = status_box()
    with gr.Accordion("The numbers", open=False):
        progress_json = gr.JSON(label="train_transformer")
    with gr.Accordion("Your runs", open=False) as runs_box:
        runs_table = gr.Dataframe(headers=RUN_HEADERS, interactive=False, wrap=True,
                                  column_widths=["7%", "43%", "12%", "12%", "13%", "13%"])
    trained, runs = gr.State(None), gr.State([])

    gr.Markdown("### Try it")
    with gr.Row():
        sentence = gr.Textbox(label="Sentence", placeholder=data.EXAMPLES[0], scale=3,
                              info=f"{data.MIN_WORDS} to {data.MAX_WORDS} of these words: {' '.join(data.WORDS)}")
        layer = gr.Number(0, precision=0, label="Layer", info="whose cross-attention is drawn; 0: the last", scale=1)
    reverse = gr.Button("Reverse")
    reversal_view = gr.HTML()
    reverse_status = status_box()
    with gr.Accordion("The numbers", open=False):
        reversal_json = gr.JSON(label="reverse_sentence")
    gr.Examples([[e] for e in data.EXAMPLES], inputs=[sentence], label="Examples (toy sentences)")
    with gr.Accordion("The model's code (pipelines/explainers/build_transformer_model.py)", open=False):
        gr.Code(bt.model_source(), language="python", interactive=False, show_label=False, max_lines=40)

    @user_errors
    def train_transformer(width=d.width, heads=d.heads, layers=d.layers, warmup=d.warmup,
                          lr_multiplier=d.lr_multiplier, clip=d.clip, max_norm=d.max_norm, batch_size=d.batch_size,
                          seed=d.seed, max_steps=d.max_steps, max_seconds=d.max_seconds, model=None, past=None,
                          request: gr.Request = None):
        """Train the course's from-scratch Transformer (encoder-decoder, multi-head attention, sinusoidal
        positions) to reverse sentences of toy words, streaming its progress; the model stays in the session.

        Args:
            width: d_model, each token's vector size, 8 to 128 (default 32); a multiple of heads.
            heads: Attention heads, 1 to 8 (default 4).
            layers: Encoder layers and as many decoder layers, 1 to 4 (default 2).
            warmup: Warm-up steps of the learning-rate formula, 0 (off) to 4000 (default 200).
            lr_multiplier: Factor on the formula's learning rate, 0.01 to 10 (default 0.5).
            clip: Clip the gradient's norm (default true).
            max_norm: Clipping threshold, 0.01 to 100 (default 1).
            batch_size: Sentences per step, 1 to 256 (default 64).
            seed: Seed of the initial weights and the training sentences.
            max_steps: Training steps at most, 1 to 20000 (default 6000).
            max_seconds: Time limit in seconds, 1 to 90 (default 60).

        Returns:
            The curves, cross-attention and samples as a view, the progress as JSON, a status line.
        """
        updates = bt.train_transformer(models, width, heads, layers, warmup, lr_multiplier, clip, max_norm,
                                       batch_size, seed, max_steps, max_seconds,
                                       session=getattr(request, "session_hash", None) or "", room=room,
                                       stop=signals.start(request))
        started, update = None, None
        while True:
            try:
                update = next(updates)
            except StopIteration as end:
                result = end.value
                break
            if started is None and update["status"] == "training":
                started = time.monotonic()  # the run's step 0: waiting for a slot is not training time
            yield views.training_view(update), update, progress_line(update, started), gr.skip(), gr.skip()
        if result is None:  # stopped while waiting: the session keeps the model it had
            return
        seconds = time.monotonic() - started if started else 0.0
        row = [len(past or []) + 1, settings_text(result.config), result.steps, round(seconds, 1),
               f"{100 * result.exact_match:.1f} %", ENDED.get(update.get("stopped_by"), "")]
        yield views.training_view(update), update, progress_line(update, started), result, [*(past or []), row]

    train_inputs = [*controls, trained, runs]
    train_outputs = [progress_view, progress_json, train_status, trained, runs]
    event = public_event(models, [train.click], train_transformer, train_inputs, train_outputs,
                         concurrency_limit=PAGE_CONCURRENCY,
                         tool=Tool('JSON: the last progress dict: "final_accuracy" (held-out exact match, 0 to 1), '
                                   '"stopped_by", "step", "curves" (step, loss, lr, grad_norm), "evals", "probe" '
                                   '(cross-attention map of a fixed sentence), "samples".',
                                   result=lambda *outs: as_json(outs[1])))
    show_runs(event, runs, runs_table, runs_box)

    for name, button in experiment_buttons.items():
        chosen = button.click(lambda n=name: experiment(n), None, [*controls, lesson], queue=False,
                              api_visibility="private", show_progress="hidden")
        then = chosen.then(train_transformer, train_inputs, train_outputs, api_visibility="private",
                           concurrency_id=models.spec.id, concurrency_limit=PAGE_CONCURRENCY)
        show_runs(then, runs, runs_table, runs_box)

    def stop_training(request: gr.Request):
        signals.stop(request)

    stop.click(stop_training, None, None, queue=False, api_visibility="private", show_progress="hidden")

    @user_errors
    def reverse_sentence(text, layer=0, model=None):
        """Reverse a sentence of toy words with the model this session trained (press Train first), and draw
        the decoder's cross-attention: which source word each output word was read from.

        Args:
            text: 2 to 8 words of the toy vocabulary, e.g. "the cat sees a dog".
            layer: Decoder layer whose cross-attention is returned, from 1; 0 (default) is the last.

        Returns:
            The reversal and its attention map as a view, the numbers as JSON, a status line.
        """
        result = bt.reverse_sentence(models, text, model, layer)
        if not result["trained"]:
            return views.reversal_view(result), result, f"⚠️ {result['error']}"
        trained_on = result["model"]
        line = (f"**From-scratch Transformer** trained here: {trained_on['steps']:,} steps, "
                f"{100 * trained_on['exact_match']:.1f} % held-out exact match · "
                f"{'reversed exactly' if result['correct'] else 'not the exact reversal'}")
        return views.reversal_view(result), result, line

    public_event(models, [reverse.click, sentence.submit], reverse_sentence, [sentence, layer, trained],
                 [reversal_view, reversal_json, reverse_status], concurrency_limit=PAGE_CONCURRENCY,
                 tool=Tool('JSON: {"output" (the model\'s reversal), "expected", "correct", "cross_attention" (rows: '
                           'words written, cols: the sentence\'s words), "heads", "layer", "model"}; without a '
                           'trained model {"trained": false, "error"}.', result=lambda *outs: as_json(outs[1])))


def show_runs(event, runs, table, box) -> None:
    """After a training: the session's runs as a table (timings live here and in the status, never in
    the endpoint's JSON, so that a seeded call always answers the same)."""
    event.then(lambda rows: (rows, gr.Accordion(open=True)) if rows else (gr.skip(), gr.skip()), runs,
               [table, box], queue=False, api_visibility="private", show_progress="hidden")


def experiment(name: str):
    changes, lesson = bt.EXPERIMENTS[name]
    values = {**vars(bt.DEFAULTS), **changes}
    order = ["width", "heads", "layers", "warmup", "lr_multiplier", "clip", "max_norm", "batch_size", "seed",
             "max_steps", "max_seconds"]
    return [*(values[key] for key in order), f"**{name}.** {lesson}"]


def settings_text(config) -> str:
    warm = f"warm-up {config.warmup}" if config.warmup else "no warm-up"
    clipping = f"clip {config.max_norm:g}" if config.clip else "no clipping"
    return (f"width {config.width}, {config.heads} heads, {config.layers} layers, {warm}, "
            f"lr ×{config.lr_multiplier:g}, {clipping}, batch {config.batch_size}, seed {config.seed}")


def progress_line(update: dict, started: float | None) -> str:
    if update["status"] in ("waiting", "stopped"):
        return f"⏳ {update['message']}"
    seconds = time.monotonic() - started if started else 0.0
    speed = f" · {update['step'] / seconds:,.0f} steps/s" if seconds > 0 and update["step"] else ""
    head = ("Training…" if update["status"] == "training"
            else f"**Done** ({ENDED.get(update['stopped_by'], update['stopped_by'])}):")
    line = (f"{head} step {update['step']:,} of {update['max_steps']:,} · {seconds:.1f} s{speed} (1 core) · "
            f"held-out exact match **{100 * update['exact_match']:.1f} %** of {update['held_out_sentences']} · "
            f"{update['parameters']:,} parameters")
    if update["status"] == "done":
        line += " · the model is yours for this session: try it below."
    return line


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
