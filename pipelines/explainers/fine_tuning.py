"""Fine-tune a pre-trained model (course chapters 14 and 7): all-MiniLM-L6-v2 becomes a sentiment classifier.

    fine_tune(models, frozen_layers, learning_rate, epochs, batch_size, seed)   train, return the last update
    training_updates(models, settings, should_stop)    the same, one Update per epoch (the page streams them)
    classify_sentiment(models, text, classifier)       Positive or Negative, with both probabilities

The data are 320 short reviews we wrote (fine_tuning_data.py): 256 to train on, 64 to validate. The model is
a private copy of the app's MiniLM with mean pooling and a new two-class head (fine_tuning_model.py says why);
the app's own copy is never modified. Epoch 0 is the pre-trained model with the untrained head: its
validation accuracy is the baseline (chance is 50 %). After each epoch both splits are scored without
dropout; the checkpoint with the best validation accuracy (then the lowest validation loss) is kept, and
is the one restored at the end, also after Stop or the time limit (chapter 14's checkpointing).

Every run is seeded (the head, the order of the reviews, dropout) with its own torch.Generator, so the
same settings give the same curves, whatever else the app runs at the time.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.explainers import fine_tuning
    models = ModelManager(Settings(model_source="tiny")).task("fine-tuning")
    fine_tuning.fine_tune(models, epochs=1)["validation_accuracy"]
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from pipelines.core import checks
from pipelines.core.errors import UserInputError
from pipelines.explainers import fine_tuning_data as data
from pipelines.explainers import fine_tuning_model as classifier_model
from pipelines.explainers.fine_tuning_model import SentimentClassifier

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
LAYERS = 6  # all-MiniLM-L6-v2's depth: the page's "frozen layers" run from 0 to this
# Defaults chosen by bench/fine_tune.py (bench/results/fine_tune.md), 3 epochs of 16 reviews a batch, two
# seeds: training every layer reached 94-95 % validation accuracy for ~140 s of CPU; freezing the lower
# four, 92-95 % for ~40 s; the lower five (the top layer and the head train, at a higher rate), 92-94 % for
# 17-31 s, which leaves room under the minute on 2 cores; the head alone, 91-92 % for ~4-8 s, but that
# is a linear probe: no layer of the Transformer is fine-tuned. Overfitting shows from epoch 3 on.
FROZEN_LAYERS = 5
LEARNING_RATE = 3e-4
EPOCHS = 3
BATCH_SIZE = 16
SEED = 0
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3)  # what the page offers; any value in range is accepted
MIN_LEARNING_RATE, MAX_LEARNING_RATE = 1e-6, 1e-2
MAX_EPOCHS = 20
MAX_BATCH_SIZE = 128
MAX_SEED = 2**32 - 1
TIME_LIMIT_S = 90  # a training past this stops and keeps its best checkpoint: one visitor cannot hold the CPU
MAX_TOKENS = 128
EXAMPLE = "I love this product!"  # chapter 7: Input "I love this product!" -> Output: Positive
NAMES = ("Negative", "Positive")  # data.LABELS as shown
DIGITS = 4


@dataclass(frozen=True)
class Settings:
    frozen_layers: int = FROZEN_LAYERS
    learning_rate: float = LEARNING_RATE
    epochs: int = EPOCHS
    batch_size: int = BATCH_SIZE
    seed: int = SEED
    time_limit_s: float | None = None  # None: TIME_LIMIT_S as it is when the training starts


@dataclass
class Update:
    """One step of a training: the numbers so far, and on the last one the kept classifier."""
    result: dict
    seconds: float  # since the training started (kept out of `result`: same settings, same result)
    classifier: SentimentClassifier | None = None


def check_settings(frozen_layers=FROZEN_LAYERS, learning_rate=LEARNING_RATE, epochs=EPOCHS,
                   batch_size=BATCH_SIZE, seed=SEED) -> Settings:
    """The training settings as clean numbers, or UserInputError naming the one that is wrong."""
    return Settings(
        checks.whole_number("Frozen layers", frozen_layers, 0, LAYERS,
                            hint=f"0 trains every layer; {LAYERS} (all) trains only the new head."),
        checks.number("Learning rate", learning_rate, MIN_LEARNING_RATE, MAX_LEARNING_RATE,
                      hint="Fine-tuning usually takes 1e-5 to 1e-3."),
        checks.whole_number("Epochs", epochs, 1, MAX_EPOCHS),
        checks.whole_number("Batch size", batch_size, 1, MAX_BATCH_SIZE),
        checks.whole_number("Seed", seed, 0, MAX_SEED),
    )


def fine_tune(models, frozen_layers=FROZEN_LAYERS, learning_rate=LEARNING_RATE, epochs=EPOCHS,
              batch_size=BATCH_SIZE, seed=SEED) -> dict:
    """Train to the end and return the last update's numbers (the bench and direct callers use this)."""
    settings = check_settings(frozen_layers, learning_rate, epochs, batch_size, seed)
    return collections.deque(training_updates(models, settings), maxlen=1)[0].result


def training_updates(models, settings: Settings, should_stop: Callable[[], bool] | None = None) -> Iterator[Update]:
    """Epoch 0 (the untrained head), then one Update per epoch; the last carries the best checkpoint."""
    import torch

    started = time.monotonic()
    time_limit = TIME_LIMIT_S if settings.time_limit_s is None else settings.time_limit_s
    bundle = models.get(MODEL).bundle
    train_split, validation_split = data.splits()
    generator = torch.Generator().manual_seed(settings.seed)
    model = classifier_model.build(bundle.model, bundle.tokenizer, settings.frozen_layers, generator)
    train = model.features(*_encoded(bundle, train_split))
    validation = model.features(*_encoded(bundle, validation_split))
    optimizer = classifier_model.optimizer(model, settings.learning_rate)
    reason: list[str] = []  # why it ended early, set by `stop` between two batches

    def stop() -> bool:
        if should_stop is not None and should_stop():
            reason[:] = ["stopped"]
        elif time.monotonic() - started > time_limit:
            reason[:] = ["time limit"]
        return bool(reason)

    history = [_scores(0, model, train, validation)]
    best, kept = history[0], model.checkpoint()
    yield Update(_result(model, settings, history, best, "training"), time.monotonic() - started)
    for epoch in range(1, settings.epochs + 1):
        if not classifier_model.train_epoch(model, train, optimizer, settings.batch_size, generator, stop):
            break  # a part of an epoch is not scored: the kept checkpoint is a whole epoch's
        history.append(_scores(epoch, model, train, validation))
        if _better(history[-1], best):
            best, kept = history[-1], model.checkpoint()
        if epoch < settings.epochs:
            yield Update(_result(model, settings, history, best, "training"), time.monotonic() - started)
    model.restore(kept)
    result = _result(model, settings, history, best, reason[0] if reason else "finished")
    model.facts = {"validation_accuracy": best["validation_accuracy"], "best_epoch": best["epoch"],
                   "frozen_layers": model.frozen, "learning_rate": settings.learning_rate,
                   "epochs_run": len(history) - 1, "seed": settings.seed}
    yield Update(result, time.monotonic() - started, model)


def classify_sentiment(models, text, classifier=None) -> dict:
    """Positive or negative, by this session's fine-tuned classifier; without one, by the pre-trained model
    with the untrained head of seed 0 (epoch 0 of a default training), labelled as such."""
    import torch

    text = checks.text("text", text, models.settings.max_input_chars,
                       empty=f"Type a sentence to classify, for example: {EXAMPLE}")
    tokenizer = models.tokenizer(MODEL)
    count = len(tokenizer(text)["input_ids"])
    if count > MAX_TOKENS:
        raise UserInputError(f"The text is {count:,} tokens; the classifier reads at most {MAX_TOKENS}. Shorten it.")
    fine_tuned = isinstance(classifier, SentimentClassifier)
    if not fine_tuned:
        bundle = models.get(MODEL).bundle
        classifier = classifier_model.untrained(bundle.model, bundle.tokenizer, torch.Generator().manual_seed(SEED))
    encoded = classifier.tokenizer([text], return_tensors="pt").to(next(classifier.head.parameters()).device)
    probabilities = classifier.probabilities(encoded["input_ids"], encoded["attention_mask"])[0]
    label = NAMES[max(range(len(NAMES)), key=lambda i: probabilities[i])]
    result = {"text": text, "label": label, "probabilities": {n: _r(p) for n, p in zip(NAMES, probabilities)},
              "fine_tuned": fine_tuned, "tokens": count}
    if fine_tuned:
        result.update(classifier.facts)
        result["note"] = (f"Fine-tuned in this session: kept epoch {classifier.facts['best_epoch']}, "
                          f"{classifier.facts['validation_accuracy']:.0%} on the validation reviews.")
    else:
        result["note"] = ("Not fine-tuned yet: this is the pre-trained MiniLM with an untrained head (random "
                          "weights, seed 0), so its answer is a coin toss. Fine-tune first, then try again.")
    return result


def _encoded(bundle, split) -> tuple:
    batch = data.encode(bundle.tokenizer, split, bundle.device)
    return batch.ids, batch.mask, batch.labels


def _scores(epoch: int, model, train, validation) -> dict:
    train_loss, train_accuracy = classifier_model.evaluate(model, train)
    validation_loss, validation_accuracy = classifier_model.evaluate(model, validation)
    return {"epoch": epoch, "train_loss": _r(train_loss), "train_accuracy": _r(train_accuracy),
            "validation_loss": _r(validation_loss), "validation_accuracy": _r(validation_accuracy)}


def _better(row: dict, best: dict) -> bool:
    return (row["validation_accuracy"], -row["validation_loss"]) > (best["validation_accuracy"],
                                                                      -best["validation_loss"])


def _result(model, settings: Settings, history: list[dict], best: dict, state: str) -> dict:
    trainable = sum(p.numel() for p in model.trainable())
    total = sum(p.numel() for p in model.encoder.parameters()) + sum(p.numel() for p in model.head.parameters())
    return {
        "state": state, "validation_accuracy": best["validation_accuracy"], "best_epoch": best["epoch"],
        "baseline_accuracy": history[0]["validation_accuracy"], "epochs_run": len(history) - 1,
        "overfitting": overfitting(history), "history": history,
        "frozen_layers": model.frozen, "layers": model.layers, "trainable_parameters": trainable,
        "total_parameters": total, "learning_rate": settings.learning_rate, "epochs": settings.epochs,
        "batch_size": settings.batch_size, "seed": settings.seed,
        "train_reviews": len(data.splits()[0]), "validation_reviews": len(data.splits()[1]),
        "model_id": MODEL,
    }


def overfitting(history: list[dict]) -> str:
    """A sentence when validation loss has risen since its lowest epoch while training loss kept falling."""
    trained = history[1:]
    if len(trained) < 2:
        return ""
    low = min(trained, key=lambda row: row["validation_loss"])
    last = trained[-1]
    if last["epoch"] == low["epoch"] or last["validation_loss"] <= low["validation_loss"] * 1.02:
        return ""
    if last["train_loss"] >= low["train_loss"]:
        return ""
    return (f"Overfitting: since epoch {low['epoch']} the validation loss rose ({low['validation_loss']:.3f} -> "
            f"{last['validation_loss']:.3f}) while the training loss kept falling ({low['train_loss']:.3f} -> "
            f"{last['train_loss']:.3f}): the model is memorising the training reviews.")


def _r(value: float) -> float:
    return round(float(value), DIGITS)
