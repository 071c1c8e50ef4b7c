"""Look inside forecasting: the part of the series Chronos-Bolt read (its context window, cut into patches)
beside the quantile band it forecast.

Chronos-Bolt reads at most the last `context_length` points (2,048; fewer if the tab's context length
says so), scales them to mean 0 and standard deviation 1 (instance normalisation: the forecast is made in
those units and scaled back), and cuts them into patches of 16 points, from the most recent backwards
(the oldest patch is padded on the left with missing values when the length is not a multiple of 16).
Each patch becomes one token of its T5 encoder, as a word does in a language model, followed by a [REG]
token. The model's own modules do the scaling and the cutting here (no forward pass needed), so the
window, the scale and the patches are exactly what it read. Not shown: which patches the forecast drew
on most (that would be the decoder's cross-attention), nor what the fed-back passes read beyond 64 steps.
"""

from __future__ import annotations

import math

from pipelines.inside import local_bundle, rounded
from pipelines.readers import series as series_io
from pipelines.tasks import forecasting

BEFORE = 0.25  # unread history drawn before the window, as a share of the window (when there is some)


def explain(models, series, value_column=None, time_column=None, horizon=forecasting.DEFAULT_HORIZON,
            context_length=forecasting.DEFAULT_CONTEXT, model_id=None, table=None) -> dict:
    """The series around the window the model read, its patches in the model's own units, and the band of
    the forecast shown (`table`: the tab's rows of time, q10, median, q90)."""
    import torch

    request = forecasting.check(models, series, value_column, time_column, horizon, context_length, model_id)
    bundle = local_bundle(models, request.model_id)
    history = request.history
    # The whole cleaned series (gaps are filled before the cut, so its tail is the history the tab used).
    whole = series_io.prepare(series, value_column or None, time_column or None, max(history.total_points, 1))
    model = bundle.model.model  # ChronosBoltModelForForecasting
    config = model.chronos_config
    read = window(history.values, forecasting.context_window(bundle))
    context = torch.tensor(read, dtype=torch.float32)[None]
    with torch.inference_mode():
        scaled, (loc, scale) = model.instance_norm(context)
        patched = model.patch(scaled)[0]  # (patches, patch size), missing values (the padding) as NaN
    size = int(config.input_patch_size)
    total, length = len(whole.values), len(read)
    first_read = total - length  # index in the whole series of the first point read
    padded = patched.shape[0] * size - length
    patches = []
    for k, row in enumerate(patched.tolist()):
        start = k * size - padded  # index within the window
        values = [v for v in row if not math.isnan(v)]
        patches.append({"first": first_read + max(start, 0), "last": first_read + start + size - 1,
                        "padded": max(0, -start), "mean": rounded(sum(values) / len(values)),
                        "low": rounded(min(values)), "high": rounded(max(values))})
    shown_from = max(0, first_read - math.ceil(BEFORE * length)) if first_read else 0
    band = _band(table) or _band(forecasting.run(models, request).table().values.tolist())  # an API call: no table
    notes = []
    if band and len(band["median"]) != request.horizon:
        notes.append(f"The table shown has {len(band['median'])} steps, the horizon is now {request.horizon}: "
                     "forecast again to look inside this one.")
    if request.horizon > forecasting.steps_per_pass(bundle):
        notes.append(f"Beyond {forecasting.steps_per_pass(bundle)} steps the model read its own forecast too "
                     "(the library feeds each quantile back in): not drawn here.")
    return {
        "model_id": request.model_id, "name": history.name, "total": total, "shown_from": shown_from,
        "values": [rounded(v, 6) for v in whole.values[shown_from:]],
        "read_from": first_read, "read_length": length, "context_length": request.history.values.size,
        "model_window": forecasting.context_window(bundle), "patch_size": size, "patches": patches,
        "reg_token": bool(getattr(config, "use_reg_token", False)),
        "loc": rounded(loc.item(), 6), "scale": rounded(scale.item(), 6), "band": band, "notes": notes,
    }


def window(values, model_window: int):
    """The points the model reads: the most recent ones, at most its window (as forecasting.run passes them)."""
    return values[-model_window:] if len(values) > model_window else values


def _band(table) -> dict | None:
    """{"q10", "median", "q90"} lists from the tab's forecast rows (time, q10, median, q90)."""
    rows = [r for r in (table or []) if len(r) >= 4]
    if not rows:
        return None
    return {key: [rounded(float(r[i]), 6) for r in rows] for i, key in ((1, "q10"), (2, "median"), (3, "q90"))}
