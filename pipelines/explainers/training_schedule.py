"""The course's learning-rate schedule with warm-up (chapter 6), from "Attention Is All You Need":

    learning_rate = d_model^(-0.5) * min(step^(-0.5), step * warmup_steps^(-1.5))

It rises linearly for `warmup_steps` steps, peaks at step = warmup_steps (where both terms are equal, at
d_model^-0.5 * warmup_steps^-0.5), then decays as 1/sqrt(step). Pure arithmetic: no model.

The pitfall is step 0: step^(-0.5) = 0^(-0.5) divides by zero. Python raises ZeroDivisionError; NumPy and
torch give inf, and min(inf, 0) = 0, so the first update silently has learning rate 0. PyTorch's LambdaLR
calls the function with step 0 when it is created, so a schedule written as above crashes or wastes its
first step: count steps from 1 (the paper does) or use max(step, 1).
"""

from __future__ import annotations

from pipelines.core import checks

FORMULA = "lr = d_model^-0.5 · min(step^-0.5, step · warmup_steps^-1.5)"
MAX_D_MODEL = 65_536
MAX_WARMUP = 1_000_000
MAX_STEPS = 10_000_000
POINTS = 200  # points sent to the browser: a plot wider than this many pixels gains nothing from more
SIGNIFICANT = 4  # learning rates are ~1e-4: rounded to 4 significant digits, not 4 decimals (0.0007)
STEP_ZERO_NOTE = ("Step 0 is the pitfall: step^-0.5 = 0^-0.5 divides by zero. Python raises ZeroDivisionError; "
                  "NumPy and torch give inf, and min(inf, 0) = 0, so the first update silently gets learning "
                  "rate 0 (PyTorch's LambdaLR calls the schedule with step 0 when it is created). Count steps "
                  "from 1, as the paper does, or use max(step, 1).")


def learning_rate(step: int, d_model: int, warmup_steps: int) -> float | None:
    """The course's formula at one step; None at step 0, where it divides by zero."""
    if step <= 0:
        return None
    return d_model ** -0.5 * min(step ** -0.5, step * warmup_steps ** -1.5)


def warmup_schedule(models, d_model=512, warmup_steps=4000, steps=None) -> dict:
    """The schedule from step 1 to `steps` (default: 5 x warm-up), at most POINTS points, the peak included."""
    d_model = checks.whole_number("d_model", d_model, 1, MAX_D_MODEL, hint="The paper's base model uses 512.")
    warmup_steps = checks.whole_number("Warm-up steps", warmup_steps, 1, MAX_WARMUP,
                                       hint="The paper uses 4,000.")
    if steps is None or steps == "":
        steps = min(MAX_STEPS, 5 * warmup_steps)
    steps = checks.whole_number("Steps shown", steps, 2, MAX_STEPS)
    grid = sorted({1, min(warmup_steps, steps), steps,
                   *(round(1 + (steps - 1) * i / (POINTS - 4)) for i in range(POINTS - 3))})
    rates = [learning_rate(s, d_model, warmup_steps) for s in grid]
    peak_step = min(warmup_steps, steps)
    return {
        "formula": FORMULA, "d_model": d_model, "warmup_steps": warmup_steps, "steps_shown": steps,
        "steps": grid, "learning_rates": [_sig(r) for r in rates],
        "peak_step": peak_step, "peak_learning_rate": _sig(learning_rate(peak_step, d_model, warmup_steps)),
        "peak_is_shown": warmup_steps <= steps,
        "first_step_learning_rate": _sig(learning_rate(1, d_model, warmup_steps)),
        "last_learning_rate": _sig(rates[-1]),
        "step_zero_learning_rate": None, "step_zero_note": STEP_ZERO_NOTE,
    }


def _sig(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT}g}")
