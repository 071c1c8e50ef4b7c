"""Build a Transformer (course chapters 11, 5 and 6): the course's from-scratch model
(build_transformer_model.py), trained live to reverse sentences of toy words, then tried on a typed one.

Two endpoints, both returning plain, rounded values:
- `train_transformer(...)`: a generator of dicts: one at step 0, one every `report_every` steps and a
  last one ("status": "done", with "final_accuracy", the held-out exact match, and "stopped_by").
  Its return value (StopIteration.value; `with_model` pairs it with the last dict) is the Trained model,
  which the page keeps in the visitor's session.
- `reverse_sentence(text, trained)`: that model's reversal of a sentence with its cross-attention map.
  Without a trained model the dict says so ("trained": false, "error"), since the page's example call
  (and an API client that has not trained yet) should read why rather than meet a refusal.

Where the work runs: each training in a thread of its own on one core (build_transformer_train.one_core),
at most MAX_AT_ONCE in the whole app (a `Trainings` made once by the page; a third waits for a slot),
one per visitor (a second is refused with a sentence), at most MAX_SECONDS long. The model runs on the
CPU whatever the app's device: it is 45k parameters.

    from pipelines.explainers import build_transformer as bt
    final, trained = bt.with_model(bt.train_transformer(None, max_steps=40, seed=0))
    bt.reverse_sentence(None, "the cat sees a dog", trained)["output"]
"""

from __future__ import annotations

import queue
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from pipelines.core import checks
from pipelines.core.errors import UserInputError
from pipelines.explainers import build_transformer_data as data
from pipelines.explainers.build_transformer_train import Config, Run, Trained

DEFAULTS = Config()
MODEL_FILE = Path(__file__).with_name("build_transformer_model.py")
MAX_AT_ONCE = 2  # trainings at once in the app: one core each on a 2-core machine
MAX_SECONDS = 90  # the server's cap on one training's time
WAIT_S = 120  # longest wait for a free slot before a training is refused
MIN_WIDTH, MAX_WIDTH, MAX_HEADS, MAX_LAYERS = 8, 128, 8, 4
MAX_WARMUP, MAX_BATCH, MAX_STEPS, MAX_SEED = 4000, 256, 20_000, 2**32 - 1
# One-click experiments: the settings they change from the defaults, and what to look for. The numbers
# were measured with this code (held-out exact match at fixed steps, seeds 0 and 1; the same on any machine
# up to rounding); bench/results/train_transformer.md has the times.
EXPERIMENTS = {
    "Warm-up off": ({"warmup": 0}, (
        "The formula then starts at its peak: 0.088 at step 1 (with the defaults' factor 0.5), 14 times the "
        "defaults' highest rate (0.0063 at step 200). Watch the loss jump in the first steps, then stall: "
        "measured 0 % exact match at every report up to step 1,500 (seeds 0 and 1): the model only guesses "
        "common words.")),
    "One layer": ({"layers": 1}, (
        "One encoder and one decoder layer: 23,995 parameters instead of 45,371, each step about twice as "
        "fast. Reversal is one look back at the mirrored source position, so one layer learns it too: "
        "measured 91.5 % at step 500 and 97 % / 94 % at step 750 (seeds 0 / 1), against 92 % / 84 % and "
        "98 % / 86.5 % with two layers. Depth pays on harder tasks.")),
    "No clipping, high learning rate": ({"clip": False, "lr_multiplier": 5.0}, (
        "Ten times the defaults' rate (five times the formula's), no clipping: the gradient norm jumps far "
        "above the dashed line and the loss jumps with it. Measured 21 % / 20.5 % exact match at step 500 "
        "(seeds 0 / 1) where the defaults reach 92 % / 84 %, and seed 0 fell from 89.5 % at step 1,250 to "
        "53 % at 1,500. Clipping on at this rate did not rescue it (9 % / 30 % at step 500): Adam already "
        "divides each gradient by its usual size, so here the rate is what hurts; clipping guards against "
        "rare huge gradients.")),
    "Defaults": ({}, (
        "Width 32, 4 heads, 2 layers, warm-up 200 steps, half the formula's rate, clipping at norm 1, 64 "
        "sentences a step: the first report at 95 % held-out exact match or more came at step 400-800 (seeds "
        "0-2); the run stops by itself once all 200 held-out sentences come out exactly reversed.")),
}
NO_MODEL = ("No model has been trained in this session yet: press Train (through the API: call "
            "/train_transformer with the same client) first, then reverse a sentence.")


def check_config(width=DEFAULTS.width, heads=DEFAULTS.heads, layers=DEFAULTS.layers, warmup=DEFAULTS.warmup,
                 lr_multiplier=DEFAULTS.lr_multiplier, clip=DEFAULTS.clip, max_norm=DEFAULTS.max_norm,
                 batch_size=DEFAULTS.batch_size, seed=DEFAULTS.seed, max_steps=DEFAULTS.max_steps,
                 max_seconds=DEFAULTS.max_seconds) -> Config:
    width = _whole("Width", width, MIN_WIDTH, MAX_WIDTH, hint="It is d_model, each token's vector size.")
    heads = _whole("Heads", heads, 1, MAX_HEADS)
    if width % heads:
        raise UserInputError(f"Width {width} does not split into {heads} heads: each head takes an equal slice. "
                             "Pick a width that is a multiple of the heads (e.g. 32 with 4 heads).")
    if str(warmup).strip().lower() in ("off", "none", "false", "no"):
        warmup = 0
    warmup = _whole("Warm-up", warmup, 0, MAX_WARMUP, hint="Give 0 (off) or a number of steps.")
    max_steps = _whole("Max steps", max_steps, 1, MAX_STEPS)
    return Config(
        width=width, heads=heads, layers=_whole("Layers", layers, 1, MAX_LAYERS), warmup=warmup,
        lr_multiplier=_number("Learning-rate multiplier", lr_multiplier, 0.01, 10.0),
        clip=checks.yes_no("Clipping", clip), max_norm=_number("Max norm", max_norm, 0.01, 100.0),
        batch_size=_whole("Batch size", batch_size, 1, MAX_BATCH),
        seed=_whole("Seed", seed, 0, MAX_SEED), max_steps=max_steps,
        max_seconds=_number("Time limit", max_seconds, 1, MAX_SECONDS,
                            hint=f"Seconds; the server allows at most {MAX_SECONDS}."),
        report_every=min(DEFAULTS.report_every, max_steps),
    )


def _given(label: str, value, low, high) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UserInputError(f"{label} is missing: give a number from {low:,} to {high:,}.")


def _whole(label: str, value, low: int, high: int, hint: str = "") -> int:
    _given(label, value, low, high)
    return checks.whole_number(label, value, low, high, hint)


def _number(label: str, value, low: float, high: float, hint: str = "") -> float:
    _given(label, value, low, high)
    return checks.number(label, value, low, high, hint)


class Trainings:
    """The app's trainings: at most `limit` at once, one per session (made once, by the page)."""

    def __init__(self, limit: int = MAX_AT_ONCE):
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._sessions: set[str] = set()

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._sessions)

    @contextmanager
    def visitor(self, session: str):
        with self._lock:
            if session in self._sessions:
                raise UserInputError("A training of yours is already running: wait for it to end, or press Stop "
                                     "(it keeps the model as it is), then train again.")
            self._sessions.add(session)
        try:
            yield
        finally:
            with self._lock:
                self._sessions.discard(session)

    def slot(self, timeout: float) -> bool:
        return self._slots.acquire(timeout=timeout)

    def release(self) -> None:
        self._slots.release()


def train_transformer(models=None, width=DEFAULTS.width, heads=DEFAULTS.heads, layers=DEFAULTS.layers,
                      warmup=DEFAULTS.warmup, lr_multiplier=DEFAULTS.lr_multiplier, clip=DEFAULTS.clip,
                      max_norm=DEFAULTS.max_norm, batch_size=DEFAULTS.batch_size, seed=DEFAULTS.seed,
                      max_steps=DEFAULTS.max_steps, max_seconds=DEFAULTS.max_seconds, *, session: str = "",
                      stop: threading.Event | None = None, room: Trainings | None = None):
    """Train a fresh model; yields progress dicts, returns the Trained model (None if stopped while waiting)."""
    config = check_config(width, heads, layers, warmup, lr_multiplier, clip, max_norm, batch_size, seed,
                          max_steps, max_seconds)  # before anything else: a bad setting starts nothing
    room = room or Trainings()
    stop = stop or threading.Event()
    with room.visitor(session or f"anonymous-{id(stop)}"):
        waited = time.monotonic()
        while not room.slot(timeout=1.0):
            if stop.is_set():
                yield {"status": "stopped", "step": 0, "message": "Stopped while waiting: nothing was trained."}
                return None
            if time.monotonic() - waited > WAIT_S:
                raise UserInputError(f"The server is busy: {room.limit} trainings are running (the most at once). "
                                     "Try again in a minute.")
            yield {"status": "waiting", "step": 0, "message": f"Waiting for a free slot: {room.limit} trainings are "
                   "running on this server (the most at once)."}
        try:
            return (yield from _stream(config, stop, session))
        finally:
            room.release()


def _stream(config: Config, stop: threading.Event, session: str):
    updates: queue.Queue = queue.Queue()
    run = Run(config, stop, updates.put)

    def work():
        try:
            run()
        except BaseException as exc:  # re-raised below, in the request's thread, where the page reports it
            updates.put(exc)

    thread = threading.Thread(target=work, name=f"build-a-transformer training {session}".strip(), daemon=True)
    thread.start()
    try:
        while True:
            update = updates.get()
            if isinstance(update, BaseException):
                raise update
            yield update
            if update["status"] == "done":
                return run.trained
    finally:
        stop.set()  # also when the visitor left mid-stream (the generator is closed): the run ends at its next step
        thread.join()


def with_model(updates) -> tuple[dict | None, Trained | None]:
    """Run a `train_transformer` generator to its end: (its last dict, the Trained model)."""
    last = None
    while True:
        try:
            last = next(updates)
        except StopIteration as end:
            return last, end.value


def reverse_sentence(models, text, trained: Trained | None = None, layer=0) -> dict:
    """The session's model reverses `text`; the dict holds its output and its cross-attention in one
    decoder layer (from 1; 0 or nothing: the last)."""
    words = data.words_of(text)
    layer = 0 if layer in (None, "") else _whole("Layer", layer, 0, MAX_LAYERS, hint="0 is the last layer.")
    expected = tuple(reversed(words))
    if trained is None:
        return {"trained": False, "error": NO_MODEL, "sentence": " ".join(words), "expected": " ".join(expected)}
    if not isinstance(trained, Trained):
        raise UserInputError("The session holds no model of this page: press Train first.")
    from pipelines.explainers.build_transformer_infer import cross_attention, reverse_many

    layers = trained.config.layers
    if layer > layers:
        raise UserInputError(f"This model has {layers} decoder layer{'s' * (layers > 1)}; pick a layer from 1 "
                             f"to {layers} (0: the last).")
    output = reverse_many(trained.model, [words])[0]
    attention = cross_attention(trained.model, words, output, layer or None, heads=True)
    return {"trained": True, "sentence": " ".join(words), "output": " ".join(output),
            "expected": " ".join(expected), "correct": output == expected, **attention, "model": trained.summary()}


def model_source() -> str:
    """The model's code as the page shows it (read from its file: the page never imports torch)."""
    return MODEL_FILE.read_text(encoding="utf-8")
