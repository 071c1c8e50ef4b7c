"""Time-series forecasting with Chronos-Bolt: a CSV series (or a list of numbers) in, quantile forecasts out.

Chronos-Bolt (the course's "Transformers for time series" chapter) scales the series, cuts it into
patches of 16 points that a T5 encoder reads like tokens, and predicts nine quantiles of the next 64
steps in one pass. We show the median and the 10%-90% band (an 80% prediction interval).

The bundle's `model` is the chronos library's ChronosBoltPipeline (its `.model` is the torch module);
Chronos-Bolt reads the numbers themselves, so there is no processor.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import forecasting
    models = ModelManager(Settings(model_source="tiny")).task("forecasting")
    result = forecasting.forecast(models, "assets/series/monthly_airline_style.csv", horizon=24)
    result.table()          # time, q10, median, q90
    forecasting.forecast(models, [112, 118, 132, 129, 121, 135, 148, 148, 136, 119], horizon=6)  # steps 1-6

Horizons beyond the model's 64 steps are allowed up to MAX_HORIZON: the library then feeds its own
quantile forecasts back in as context (see ChronosBoltPipeline.predict), and we say that quality drops.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.core import checks
from pipelines.core.bundle import Bundle, LoadRequest
from pipelines.core.checks import Progress, no_progress
from pipelines.core.errors import UserInputError
from pipelines.readers import series as series_io
from pipelines.readers.series import MIN_POINTS, PreparedSeries

MAX_CONTEXT = 2048  # Chronos-Bolt reads at most this many points (chronos_config.context_length)
NATURAL_HORIZON = 64  # steps Chronos-Bolt predicts in one pass (chronos_config.prediction_length)
MAX_HORIZON = 256  # four passes; further out the fed-back forecasts mostly repeat themselves
DEFAULT_HORIZON = 24
DEFAULT_CONTEXT = MAX_CONTEXT  # all the model can read: the most recent points matter most, but more helps
BAND = (0.1, 0.5, 0.9)  # the quantiles shown: lower edge of the 80% band, median, upper edge


@dataclass(frozen=True)
class Request:
    """A checked request: the series read and cleaned, the settings in range; nothing needs the model."""
    history: PreparedSeries
    horizon: int
    model_id: str


@dataclass(frozen=True)
class Forecast:
    history: PreparedSeries  # what the model read (values, times, notes from cleaning)
    labels: list  # future timestamps (pd.Timestamp) or step numbers (int)
    q10: np.ndarray
    median: np.ndarray
    q90: np.ndarray
    notes: tuple[str, ...] = ()  # cleaning notes, then forecasting ones

    @property
    def horizon(self) -> int:
        return len(self.median)

    def table(self) -> pd.DataFrame:
        """The forecast as rows of (time, q10, median, q90); times as ISO text, numbers to 6 digits."""
        return pd.DataFrame({
            "time": format_labels(self.labels),
            "q10": _round(self.q10), "median": _round(self.median), "q90": _round(self.q90),
        })


def format_labels(labels: list) -> list:
    if not labels or not isinstance(labels[0], pd.Timestamp):
        return [int(x) for x in labels]
    index = pd.DatetimeIndex(labels)
    daily = bool((index == index.normalize()).all())
    return list(index.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M:%S"))


def _round(values: np.ndarray) -> list[float]:
    return [float(f"{v:.6g}") for v in values]


def load(request: LoadRequest) -> Bundle:
    """load_pretrained's steps by hand: the chronos library wraps the model in its own pipeline."""
    import torch
    from chronos import BaseChronosPipeline

    # float16 (our GPU default) is unsafe for T5 (activations overflow): use bfloat16 where the GPU
    # has it, as the Chronos authors do, and float32 otherwise.
    dtype = request.placement.dtype
    if dtype == torch.float16:
        dtype = torch.bfloat16 if request.placement.device == "cuda" and _has_bf16() else torch.float32
    loc = request.location
    pipeline = BaseChronosPipeline.from_pretrained(loc.source, device_map=request.placement.device, dtype=dtype,
                                                   **loc.pretrained_kwargs)
    pipeline.model.eval()
    # We tell the person in the status line instead (see run()); the library warns on every call.
    warnings.filterwarnings("ignore", message="We recommend keeping prediction length")
    return Bundle(pipeline, None, request.placement.device, request.family, request.checkpoint)


def _has_bf16() -> bool:
    import torch

    try:
        return bool(torch.cuda.is_bf16_supported())
    except Exception:  # no GPU attached yet (ZeroGPU's main process): every GPU it attaches has bf16
        return True


# What the checkpoint's chronos_config says, read from the loaded pipeline.
def context_window(bundle: Bundle) -> int:
    return int(bundle.model.model_context_length)


def steps_per_pass(bundle: Bundle) -> int:
    return int(bundle.model.model_prediction_length)


def quantile_levels(bundle: Bundle) -> tuple[float, ...]:
    return tuple(float(q) for q in bundle.model.quantiles)


def check(models, series: str | Path | Sequence[float | None] | None, value_column: str | None = None,
          time_column: str | None = None, horizon: int = DEFAULT_HORIZON, context_length: int = DEFAULT_CONTEXT,
          model_id: str | None = None) -> Request:
    """Settings, model choice, then the series read and cleaned: every input problem is raised here.
    `series` is a CSV file's path, or the values themselves (oldest first, evenly spaced; None: a gap)."""
    horizon = checks.whole_number("Forecast horizon", horizon, 1, MAX_HORIZON,
                                  hint=f"Chronos-Bolt predicts {NATURAL_HORIZON} steps at once.")
    context = checks.whole_number("Context length", context_length, MIN_POINTS, MAX_CONTEXT,
                                  hint=f"Chronos-Bolt reads at most {MAX_CONTEXT:,} points.")
    repo_id = models.checkpoint(model_id).repo_id
    if series is None or (isinstance(series, (str, Path)) and not str(series)):
        raise UserInputError("Upload a CSV file with a column of numbers, or pick one of the example series.")
    if not isinstance(series, (str, Path)) and (value_column or time_column):
        raise UserInputError("The value and time columns name columns of a CSV file; a list of numbers has none: "
                             "leave them empty.")
    history = series_io.prepare(series, value_column or None, time_column or None, context)
    return Request(history, horizon, repo_id)


def run(models, request: Request, progress: Progress = no_progress) -> Forecast:
    import torch

    bundle = models.bundle(request.model_id)
    history, horizon = request.history, request.horizon
    notes = list(history.notes)
    values = history.values
    window, one_pass, levels = context_window(bundle), steps_per_pass(bundle), quantile_levels(bundle)
    if len(values) > window:  # only for a model with a shorter context than MAX_CONTEXT
        values = values[-window:]
        notes.append(f"This model reads at most {window} points: used the most recent ones.")
    if horizon > one_pass:
        notes.append(f"Chronos-Bolt predicts {one_pass} steps in one pass; beyond that it "
                     "extends its own forecast, so the far end is less reliable.")
    progress(0.0, f"Forecasting {horizon} steps from {len(values):,} points…")
    context = torch.tensor(values, dtype=torch.float32)
    quantiles, _mean = bundle.model.predict_quantiles(
        context, prediction_length=horizon, quantile_levels=list(levels), limit_prediction_length=False)
    # Nothing in the model forces its nine quantile outputs into order, so they can cross (random
    # weights always do). Sorting each step's values (monotone rearrangement, Chernozhukov et al. 2010)
    # gives ordered quantiles that are never further from the true ones than the crossed outputs.
    q = np.sort(quantiles[0].float().numpy().astype("float64"), axis=-1)
    q10, median, q90 = (q[:, levels.index(level)] for level in BAND)
    return Forecast(history, history.future_labels(horizon), q10, median, q90, tuple(notes))


def forecast(models, series: str | Path | Sequence[float | None] | None, value_column: str | None = None,
             time_column: str | None = None, horizon: int = DEFAULT_HORIZON, context_length: int = DEFAULT_CONTEXT,
             model_id: str | None = None, progress: Progress = no_progress) -> Forecast:
    """check() then run(): read, clean, forecast."""
    return run(models, check(models, series, value_column, time_column, horizon, context_length, model_id), progress)


def to_csv(result: Forecast, path: Path) -> Path:
    result.table().to_csv(path, index=False)
    return path
