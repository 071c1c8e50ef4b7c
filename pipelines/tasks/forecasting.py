"""Time-series forecasting with Chronos-Bolt: a CSV series in, quantile forecasts out.

Chronos-Bolt (the course's "Transformers for time series" chapter) scales the series, cuts it into
patches of 16 points that a T5 encoder reads like tokens, and predicts nine quantiles of the next 64
steps in one pass. We show the median and the 10%-90% band (an 80% prediction interval).

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import forecasting
    models = ModelManager(Settings(model_source="tiny"))
    result = forecasting.run(models, "assets/series/monthly_airline_style.csv", horizon=24)
    result.table()          # time, q10, median, q90

Horizons beyond the model's 64 steps are allowed up to MAX_HORIZON: the library then feeds its own
quantile forecasts back in as context (see ChronosBoltPipeline.predict), and we say that quality drops.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.core.errors import UserInputError
from pipelines.core.loading import LoadRequest
from pipelines.readers import series as series_io
from pipelines.readers.series import MIN_POINTS, PreparedSeries

TASK_ID = "forecasting"
MAX_CONTEXT = 2048  # Chronos-Bolt reads at most this many points (chronos_config.context_length)
NATURAL_HORIZON = 64  # steps Chronos-Bolt predicts in one pass (chronos_config.prediction_length)
MAX_HORIZON = 256  # four passes; further out the fed-back forecasts mostly repeat themselves
DEFAULT_HORIZON = 24
BAND = (0.1, 0.5, 0.9)  # the quantiles shown: lower edge of the 80% band, median, upper edge


@dataclass
class ChronosBundle:
    pipeline: object  # chronos.ChronosBoltPipeline; its .model is the torch module
    context_length: int
    prediction_length: int
    quantiles: tuple[float, ...]


@dataclass(frozen=True)
class Forecast:
    history: PreparedSeries  # what the model read (values, times, notices from cleaning)
    labels: list  # future timestamps (pd.Timestamp) or step numbers (int)
    q10: np.ndarray
    median: np.ndarray
    q90: np.ndarray
    notices: tuple[str, ...]  # cleaning notices, then forecasting ones

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


def load(request: LoadRequest) -> ChronosBundle:
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
    # We tell the person in the status line instead (see forecast()); the library warns on every call.
    warnings.filterwarnings("ignore", message="We recommend keeping prediction length")
    return ChronosBundle(pipeline, int(pipeline.model_context_length), int(pipeline.model_prediction_length),
                         tuple(float(q) for q in pipeline.quantiles))


def _has_bf16() -> bool:
    import torch

    try:
        return bool(torch.cuda.is_bf16_supported())
    except Exception:  # no GPU attached yet (ZeroGPU's main process): every GPU it attaches has bf16
        return True


def _whole(value) -> bool:
    try:
        return float(value).is_integer()
    except (TypeError, ValueError):
        return False


def check_horizon(horizon) -> int:
    if not _whole(horizon) or not 1 <= float(horizon) <= MAX_HORIZON:
        raise UserInputError(f"The forecast horizon must be a whole number of steps from 1 to {MAX_HORIZON} "
                             f"(Chronos-Bolt predicts {NATURAL_HORIZON} at once); got {horizon}.")
    return int(horizon)


def check_context_length(context_length) -> int:
    if not _whole(context_length) or not MIN_POINTS <= float(context_length) <= MAX_CONTEXT:
        raise UserInputError(f"The context length must be a whole number of points from {MIN_POINTS} to "
                             f"{MAX_CONTEXT} (the most Chronos-Bolt reads); got {context_length}.")
    return int(context_length)


def prepare(path: str | Path | None, value_column: str | None = None, time_column: str | None = None,
            context_length: int = MAX_CONTEXT) -> PreparedSeries:
    """Read and clean the series (no model needed): every input problem is raised here, first."""
    if not path:
        raise UserInputError("Upload a CSV file with a column of numbers, or pick one of the example series.")
    return series_io.prepare(path, value_column or None, time_column or None, check_context_length(context_length))


def forecast(models, history: PreparedSeries, horizon: int = DEFAULT_HORIZON,
             model_id: str | None = None) -> Forecast:
    import torch

    horizon = check_horizon(horizon)
    bundle: ChronosBundle = models.get(TASK_ID, model_id).bundle
    notices = list(history.notices)
    values = history.values
    if len(values) > bundle.context_length:  # only for a model with a shorter context than MAX_CONTEXT
        values = values[-bundle.context_length:]
        notices.append(f"This model reads at most {bundle.context_length} points: used the most recent ones.")
    if horizon > bundle.prediction_length:
        notices.append(f"Chronos-Bolt predicts {bundle.prediction_length} steps in one pass; beyond that it "
                       "extends its own forecast, so the far end is less reliable.")
    context = torch.tensor(values, dtype=torch.float32)
    quantiles, _mean = bundle.pipeline.predict_quantiles(
        context, prediction_length=horizon, quantile_levels=list(bundle.quantiles), limit_prediction_length=False)
    # Nothing in the model forces its nine quantile outputs into order, so they can cross (random
    # weights always do). Sorting each step's values (monotone rearrangement, Chernozhukov et al. 2010)
    # gives ordered quantiles that are never further from the true ones than the crossed outputs.
    q = np.sort(quantiles[0].float().numpy().astype("float64"), axis=-1)
    q10, median, q90 = (q[:, bundle.quantiles.index(level)] for level in BAND)
    return Forecast(history, history.future_labels(horizon), q10, median, q90, tuple(notices))


def run(models, path, value_column: str | None = None, time_column: str | None = None,
        horizon: int = DEFAULT_HORIZON, context_length: int = MAX_CONTEXT, model_id: str | None = None) -> Forecast:
    """Everything at once: read, clean, forecast."""
    check_horizon(horizon)
    return forecast(models, prepare(path, value_column, time_column, context_length), horizon, model_id)


def to_csv(result: Forecast, path: Path) -> Path:
    result.table().to_csv(path, index=False)
    return path
