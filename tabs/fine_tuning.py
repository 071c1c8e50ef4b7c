"""Fine-tuning tab (course chapters 14 and 7): all-MiniLM-L6-v2 becomes a sentiment classifier in front of you.

Press Fine-tune: live curves of training and validation loss and accuracy per epoch (epoch 0 is the
untrained head: the baseline), the best validation checkpoint kept, Stop keeps it too. Then "Try it" on your
own sentence with the class probabilities. The fine-tuned model lives in this session only (a gr.State,
forgotten after KEPT_S); the tab holds it as an opaque object and never imports torch.

One training per visitor and a bounded number for the whole app (fine_tuning_slots.py): a second one is
refused with a sentence, not queued; every training stops itself after fine_tuning.TIME_LIMIT_S.

Run on its own: python -m tabs.fine_tuning
"""

from __future__ import annotations

import gradio as gr

from pipelines.explainers import fine_tuning as tuning
from pipelines.explainers.fine_tuning_slots import TrainingSlots
from ui import training_views
from ui.assistants import Tool, as_json
from ui.widgets import (
    StopSignals,
    default_concurrency,
    describe,
    examples,
    public_event,
    status_box,
    user_errors,
    while_loading,
)

MORE_EXAMPLES = ["Not bad at all, I would buy it again.", "I expected much more for this price.",
                 "The film was long but the ending made it worth it."]
# How long a session's fine-tuned model is kept after it was made: it is a whole copy of MiniLM (91 MB in
# float32), so an hour of visitors could hold gigabytes; 15 minutes is time enough to try it.
KEPT_S = 900


def build(models) -> None:
    slots = TrainingSlots(default_concurrency(models), tuning.TIME_LIMIT_S)
    signals = StopSignals()
    # One training per visitor is refused by `slots`, not queued: the group must admit one more than the slots.
    limit = slots.limit + 1
    train, held = tuning.data.splits()  # a 17 kB file we wrote, read once
    gr.Markdown("Fine-tune **all-MiniLM-L6-v2**, a pre-trained 6-layer encoder, to tell positive reviews from "
                f"negative ones: {len(train)} short reviews to train on, {len(held)} others to validate. Epoch 0 "
                "is the untrained head (the baseline); the best validation epoch is kept.")
    with gr.Row(equal_height=True):
        frozen = gr.Slider(0, tuning.LAYERS, value=tuning.FROZEN_LAYERS, step=1, label="Frozen layers", min_width=220,
                           info=f"From the bottom. 0 trains all; {tuning.LAYERS} trains only the head.")
        epochs = gr.Slider(1, tuning.MAX_EPOCHS, value=tuning.EPOCHS, step=1, label="Epochs", min_width=220,
                           info="More epochs show overfitting.")
    with gr.Row():
        run = gr.Button("Fine-tune", variant="primary")
        stop = gr.Button("Stop (keep the best epoch)", variant="stop")
    status = status_box()
    with gr.Row(equal_height=False):  # side by side in an 800 px iframe, one above the other on a phone
        with gr.Column(min_width=300):
            loss_chart = gr.HTML()
        with gr.Column(min_width=300):
            accuracy_chart = gr.HTML()
    with gr.Accordion("Advanced", open=False):
        with gr.Row():
            learning_rate = gr.Dropdown([f"{lr:g}" for lr in tuning.LEARNING_RATES], value=f"{tuning.LEARNING_RATE:g}",
                                        allow_custom_value=True, label="Learning rate",
                                        info=f"{tuning.MIN_LEARNING_RATE:g} to {tuning.MAX_LEARNING_RATE:g}")
            batch_size = gr.Slider(1, tuning.MAX_BATCH_SIZE, value=tuning.BATCH_SIZE, step=1, label="Batch size")
            seed = gr.Number(tuning.SEED, precision=0, label="Seed", info="Same seed and settings: same curves.")
    with gr.Accordion("The numbers", open=False):
        training_numbers = gr.JSON(label="fine_tune")
    classifier = gr.State(time_to_live=KEPT_S)  # the session's fine-tuned model: not in the API

    @user_errors
    def fine_tune(frozen_layers=tuning.FROZEN_LAYERS, learning_rate=tuning.LEARNING_RATE, epochs=tuning.EPOCHS,
                  batch_size=tuning.BATCH_SIZE, seed=tuning.SEED, request: gr.Request = None, progress=gr.Progress()):
        """Fine-tune all-MiniLM-L6-v2 for sentiment (positive/negative) on 256 short reviews, validated on 64
        others, streamed one epoch at a time. Epoch 0 is the untrained head (the baseline); the epoch with the
        best validation accuracy is kept for classify_sentiment in the same session. One training per visitor.

        Args:
            frozen_layers: Encoder layers frozen from the bottom, 0 to 6 (default 5; 0 trains all; 6 only the head).
            learning_rate: AdamW learning rate, 1e-6 to 1e-2 (default 3e-4).
            epochs: Passes over the training reviews, 1 to 20.
            batch_size: Reviews per update, 1 to 128.
            seed: Random seed (head, order, dropout), a whole number >= 0.

        Returns:
            Loss and accuracy curves, the numbers (the last update holds "validation_accuracy"), a status line.
        """
        settings = tuning.check_settings(frozen_layers, learning_rate, epochs, batch_size, seed)
        with slots.hold(getattr(request, "session_hash", None) or "anonymous"):
            should_stop = signals.start(request).is_set
            yield from while_loading(models, tuning.MODEL, progress, gr.skip(), gr.skip(), gr.skip(), gr.skip())
            for update in tuning.training_updates(models, settings, should_stop):
                kept = update.classifier if update.classifier is not None else gr.skip()
                yield (*_charts(update.result), update.result, kept, _status(models, update))

    public_event(models, [run.click], fine_tune, [frozen, learning_rate, epochs, batch_size, seed],
                 [loss_chart, accuracy_chart, training_numbers, classifier, status], concurrency_limit=limit,
                 tool=Tool('JSON: {"state", "validation_accuracy" (of the kept epoch), "best_epoch", '
                           '"baseline_accuracy" (the untrained head), "overfitting", "history": per epoch '
                           '{"epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy"}}.',
                           result=lambda *outs: as_json(outs[2])))
    stop.click(signals.stop, None, None, queue=False, api_visibility="private")
    _try_it(models, classifier, limit)


def _try_it(models, classifier, limit: int) -> None:
    gr.Markdown("### Try it\nChapter 7: *\"I love this product!\"* → Positive. Before fine-tuning, the untrained "
                "head answers (a coin toss); after, your session's fine-tuned model.")
    with gr.Row(equal_height=True):
        text = gr.Textbox(label="Your sentence", placeholder=tuning.EXAMPLE, lines=1, scale=3)
        classify = gr.Button("Classify", min_width=120)
    answer = gr.Label(num_top_classes=2, label="Class probabilities")
    status = status_box()
    with gr.Accordion("The numbers", open=False):
        numbers = gr.JSON(label="classify_sentiment")
    listed = dict.fromkeys([*examples("sentiment"), *MORE_EXAMPLES])  # in order, each once
    gr.Examples([[e] for e in listed], inputs=[text], label="Examples (chapter 7: sentiment analysis)")

    @user_errors
    def classify_sentiment(text, kept=None):
        """Positive or negative, with both probabilities, by the model this session fine-tuned (before any
        fine-tuning: the pre-trained model with its untrained head, a coin toss, labelled as such).

        Args:
            text: A sentence, up to 128 tokens, e.g. "I love this product!"

        Returns:
            The class probabilities, the numbers, a status line.
        """
        result = tuning.classify_sentiment(models, text, kept)
        which = "fine-tuned in this session" if result["fine_tuned"] else "not fine-tuned: untrained head"
        line = describe(models.get(tuning.MODEL), f"{which} · {result['label']}")
        return result["probabilities"], result, f"{line}\n\n{result['note']}"

    public_event(models, [classify.click, text.submit], classify_sentiment, [text, classifier],
                 [answer, numbers, status], concurrency_limit=limit,
                 tool=Tool('JSON: {"label": "Positive" or "Negative", "probabilities", "fine_tuned" (false: the '
                           'untrained baseline), "note"}.', result=lambda *outs: as_json(outs[1]),
                           adapt=_without_session, inputs=[text]))


def _without_session(text):
    """Positive or negative, with both probabilities, by all-MiniLM-L6-v2 with an untrained head: an assistant
    has no page session, so no fine-tuned model (the answer says so). Fine-tune and try it on the page.

    Args:
        text: A sentence, up to 128 tokens, e.g. "I love this product!"
    """
    return text, None


def _charts(result: dict) -> tuple[str, str]:
    history = result["history"]
    epochs = [row["epoch"] for row in history]
    kept = (result["best_epoch"], f"kept: epoch {result['best_epoch']}")
    span = (0, max(result["epochs"], 1))

    def lines(key: str) -> list:
        return [("training", epochs, [row[f"train_{key}"] for row in history]),
                ("validation", epochs, [row[f"validation_{key}"] for row in history])]

    size = dict(width=400, height=250, dots=True, x_range=span, mark=kept)
    loss = training_views.line_chart(lines("loss"), "epoch", "cross-entropy", title="Loss", **size)
    accuracy = training_views.line_chart(lines("accuracy"), "epoch", "accuracy", title="Accuracy",
                                         y_range=(0.0, 1.0), guide=(result["baseline_accuracy"], "untrained head"),
                                         **size)
    return loss, accuracy


def _status(models, update) -> str:
    result = update.result
    done = result["epochs_run"]
    if result["state"] == "training":
        what = f"epoch {done} of {result['epochs']} · {update.seconds:.0f} s · training…"
    else:
        ended = {"finished": "finished", "stopped": "stopped", "time limit": f"stopped at the "
                 f"{tuning.TIME_LIMIT_S} s limit"}[result["state"]]
        what = f"{ended} after {done} epoch{'s' if done != 1 else ''} in {update.seconds:.0f} s"
    trained = result["layers"] - result["frozen_layers"]
    line = describe(models.get(tuning.MODEL), f"{what} · {trained} of {result['layers']} layers trained")
    line += (f"\n\n**Validation accuracy {result['validation_accuracy']:.0%}** (epoch {result['best_epoch']}, kept) · "
             f"untrained head {result['baseline_accuracy']:.0%} · chance 50 %")
    if result["overfitting"]:
        line += f"\n\n⚠️ {result['overfitting']}"
    if result["state"] != "training":
        line += "\n\nThe kept model answers **Try it** below."
    return line


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
