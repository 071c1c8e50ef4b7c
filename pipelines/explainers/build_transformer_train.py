"""One training run of the from-scratch Transformer (build_transformer_model) on the reverse task, as
chapter 6 describes it: cross-entropy under teacher forcing, Adam (betas 0.9 and 0.98), the warm-up
learning-rate formula, gradient clipping. Every `report_every` steps it measures the held-out exact
match, draws the probe sentence's cross-attention and hands a plain dict to `emit`.

A run is meant for a thread of its own (build_transformer.py starts one): `one_core()` makes torch
use one core in that thread only, so two trainings fill a 2-core machine's two cores at most and the
app's other requests keep the threads they had.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass

from pipelines.explainers import build_transformer_data as data

LOG_POINTS = 300  # at most this many points per curve: each update sends them all to the browser
SAMPLES = 4  # held-out sentences shown with the model's reversal at each update
TICK_S = 1.0  # seconds between two updates of the curves alone, between full reports
_PIN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Config:
    width: int = 32  # d_model: the size of every token's vector
    heads: int = 4
    layers: int = 2  # encoder layers, and as many decoder layers
    warmup: int = 200  # steps of rising learning rate; 0 = off (the rate starts at its peak)
    # Scales the formula's rate (the original code's "factor"). 0.5: with the bare formula (peak 0.0125 at
    # step 200 for width 32) this small model's accuracy wobbles around 90 % for hundreds of steps; at half
    # of it, 95 % came at step 400-800 for seeds 0-2 (bench/results/train_transformer.md).
    lr_multiplier: float = 0.5
    clip: bool = True
    max_norm: float = 1.0  # clipping threshold on the gradient's global norm
    batch_size: int = 64
    seed: int = 0  # the weights' initialisation and the order of the training sentences
    max_steps: int = 6000
    max_seconds: float = 60.0
    report_every: int = 200  # steps between two updates of the page

    @property
    def hidden(self) -> int:
        return 2 * self.width  # the feed-forward layer's width (4x in the paper; 2x keeps this model small)


def learning_rate(step: int, d_model: int, warmup: int, multiplier: float = 1.0) -> float:
    """Chapter 6: lr = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), steps counted from 1 (at step
    0 the formula gives 0 with warm-up, infinity without). warmup=0: no warm-up, only the decay."""
    if step < 1:
        raise ValueError("the formula counts steps from 1")
    decay = step ** -0.5
    return multiplier * d_model ** -0.5 * (decay if warmup == 0 else min(decay, step * warmup ** -1.5))


def one_core() -> None:
    """Make torch run this thread's operations on one core, leaving the rest of the app as it was.

    torch keeps one process-wide thread count, copied into each thread's OpenMP and MKL settings the
    first time that thread runs an operation. So: initialise this thread now (get_num_threads), set 1
    (its own settings and the process-wide value), then put the process-wide value back from a thread
    that ends at once. Other threads keep their count; this one keeps 1. Under a lock, so that two
    runs starting together cannot leave 1 behind."""
    import torch

    with _PIN_LOCK:
        app_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        restore = threading.Thread(target=torch.set_num_threads, args=(app_threads,))
        restore.start()
        restore.join()


class Trained:
    """A model this page trained: kept in the visitor's session; the UI holds it without looking inside."""

    def __init__(self, model, config: Config, steps: int, exact_match: float):
        self.model, self.config, self.steps, self.exact_match = model, config, steps, exact_match
        self.parameters = sum(p.numel() for p in model.parameters())

    def summary(self) -> dict:
        return {"steps": self.steps, "exact_match": self.exact_match, "parameters": self.parameters,
                "config": asdict(self.config)}


def build(config: Config):
    import torch

    from pipelines.explainers.build_transformer_model import Transformer, initialize

    model = Transformer(len(data.VOCAB), config.width, config.layers, config.heads, config.hidden,
                        data.MAX_LEN + 1)  # + BOS
    return initialize(model, torch.Generator().manual_seed(config.seed))


class Run:
    """Call it (in its thread) to train. `emit` gets a dict at step 0, a full report (held-out accuracy,
    probe, samples) every `report_every` steps, the curves alone about every TICK_S seconds in between
    (the page moves, and a closed request is noticed soon), and a last one (status "done", with
    `stopped_by`). `trained` holds the model afterwards. Reports fall on fixed steps, so a seed gives
    the same reports; only how many ticks come between them depends on the machine's speed."""

    def __init__(self, config: Config, stop: threading.Event, emit):
        self.config, self.stop, self.emit = config, stop, emit
        self.trained: Trained | None = None
        self.log_every = max(1, math.ceil(config.max_steps / LOG_POINTS))
        self.curves = {"step": [], "loss": [], "lr": [], "grad_norm": []}
        self.evals = {"step": [], "exact_match": []}
        self.clipped = 0
        self.measured: dict = {}  # the last report's held-out results, repeated by the ticks after it

    def __call__(self) -> None:
        import torch

        one_core()
        config = self.config
        model = build(config)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.0, betas=(0.9, 0.98), eps=1e-9, fused=True)
        batches = data.Batches(config.seed, config.batch_size)
        params = list(model.parameters())
        window = {"loss": [], "grad_norm": []}
        started, step, stopped_by = time.monotonic(), 0, "steps"
        self.emit(self.report(model, step))
        ticked = time.monotonic()
        while step < config.max_steps:
            if self.stop.is_set():
                stopped_by = "stop"
                break
            if time.monotonic() - started > config.max_seconds:
                stopped_by = "time"
                break
            step += 1
            lr = learning_rate(step, config.width, config.warmup, config.lr_multiplier)
            for group in optimizer.param_groups:
                group["lr"] = lr
            src, tgt_in, tgt_out = batches.next()
            logits, _ = model(src, tgt_in)
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=0)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])  # before clipping
            if config.clip:
                torch.nn.utils.clip_grads_with_norm_(params, config.max_norm, norm)
                self.clipped += int(norm > config.max_norm)
            optimizer.step()
            value = loss.item()
            window["loss"].append(value)
            window["grad_norm"].append(norm.item())
            if step % self.log_every == 0:
                self.log(step, lr, window)
            if not math.isfinite(value):
                stopped_by = "diverged"  # NaN weights from now on: nothing more to learn
                break
            if step % config.report_every == 0 and step < config.max_steps:
                self.emit(self.report(model, step))
                ticked = time.monotonic()
                if self.measured["exact_match"] == 1.0:
                    stopped_by = "learned"
                    break
            elif time.monotonic() - ticked > TICK_S:
                self.emit(self.snapshot(step))
                ticked = time.monotonic()
        if window["loss"]:
            self.log(step, lr, window)
        final = self.report(model, step, stopped_by)
        self.trained = Trained(model, config, step, final["exact_match"])
        self.emit(final)

    def log(self, step: int, lr: float, window: dict) -> None:
        """One point per `log_every` steps: the mean loss, the rate applied, the largest norm seen."""
        self.curves["step"].append(step)
        self.curves["loss"].append(_round(sum(window["loss"]) / len(window["loss"])))
        self.curves["lr"].append(float(f"{lr:.4g}"))  # ~1e-3: 4 significant digits, not 4 decimals
        self.curves["grad_norm"].append(_round(max(window["grad_norm"])))
        window["loss"].clear()
        window["grad_norm"].clear()

    def report(self, model, step: int, stopped_by: str | None = None) -> dict:
        """Measure on the held-out sentences and the probe, then the full dict."""
        from pipelines.explainers.build_transformer_infer import cross_attention, exact_match, reverse_many

        held_out = data.held_out()
        outputs = reverse_many(model, held_out)
        score = exact_match(held_out, outputs)
        self.evals["step"].append(step)
        self.evals["exact_match"].append(score["exact_match"])
        probe = cross_attention(model, data.PROBE, tuple(reversed(data.PROBE)))
        samples = [{"sentence": " ".join(s), "expected": " ".join(reversed(s)), "output": " ".join(o),
                    "correct": o == tuple(reversed(s))} for s, o in zip(held_out[1:1 + SAMPLES], outputs[1:])]
        self.measured = {
            **score, "held_out_sentences": len(held_out),
            "probe": {**probe, "output": " ".join(outputs[0]), "correct": outputs[0] == tuple(reversed(data.PROBE))},
            "samples": samples, "parameters": sum(p.numel() for p in model.parameters()),
        }
        report = self.snapshot(step, stopped_by)
        if stopped_by:
            report["final_accuracy"] = score["exact_match"]
        return report

    def snapshot(self, step: int, stopped_by: str | None = None) -> dict:
        """The curves so far with the last report's measurements."""
        return {
            "status": "done" if stopped_by else "training", "step": step, "max_steps": self.config.max_steps,
            "stopped_by": stopped_by, "measured_at": self.evals["step"][-1], **self.measured,
            "clip": self.config.max_norm if self.config.clip else None, "clipped_steps": self.clipped,
            "curves": {k: list(v) for k, v in self.curves.items()},
            "evals": {k: list(v) for k, v in self.evals.items()},
        }


def _round(value: float) -> float | None:
    """Rounded for the browser; a loss that blew up is None (JSON has no NaN or infinity)."""
    return round(value, 4) if math.isfinite(value) else None
