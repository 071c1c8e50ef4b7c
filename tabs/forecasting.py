"""Time-series forecasting tab: a CSV series in; a plot with the median forecast and its 80% band, a
table, and that table as a CSV download out.

The plot is a Vega-Lite spec shown by gr.Plot (Gradio's Altair renderer, which ships with Gradio): a
shaded band needs an area with two y values, which gr.LinePlot cannot draw, and writing the spec as a
dict needs neither altair nor matplotlib nor plotly. API callers get the spec (with its data) as JSON.

Run on its own: python -m tabs.forecasting
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import gradio as gr
from gradio.components.plot import AltairPlotData

from pipelines.core.errors import PlaygroundError, UserInputError
from pipelines.inside import forecasting as inside
from pipelines.readers.series import MIN_POINTS, numbers_from_text
from pipelines.readers.series_csv import NO_TIME, inspect
from pipelines.tasks import forecasting
from ui import inside_media_charts
from ui.assistants import Tool, as_json
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.widgets import (
    ASSETS,
    describe,
    model_picker,
    progress_bar,
    public_event,
    status_box,
    user_errors,
    while_loading,
)

EXAMPLES = [  # (file in assets/series, horizon, label)
    ("monthly_airline_style.csv", 24, "Monthly passengers, 12 years: next 24 months"),
    ("daily_temperature.csv", 30, "Daily temperature, 2 years: next 30 days"),
    ("hourly_energy.csv", 48, "Hourly building load, 3 weeks: next 48 hours"),
]
HISTORY, MEDIAN, BAND = "History", "Median forecast", "80% band (q10 to q90)"
# Per user: on a shared host another user's folder of the same name would not be writable.
DOWNLOADS = Path(tempfile.gettempdir()) / f"playground-forecasts-{os.getuid()}"
DOWNLOAD_TTL_S = 3600  # a forecast CSV is kept an hour after it was made, long enough to click it


def build(models) -> None:
    with gr.Row():
        with gr.Column(scale=2):
            upload = gr.File(label="Series (CSV)", file_types=[".csv", ".tsv", ".txt"], type="filepath")
            horizon = gr.Slider(1, forecasting.MAX_HORIZON, value=forecasting.DEFAULT_HORIZON, step=1,
                                label="Forecast horizon (steps)",
                                info=f"Chronos-Bolt predicts {forecasting.NATURAL_HORIZON} steps at once; "
                                     "longer forecasts extend themselves and are less reliable.")
            run = gr.Button("Forecast", variant="primary")  # high up: stays in view in a 600 px iframe
            # The columns are guessed from the file (and filled in when it is uploaded) and the defaults
            # suit every example, so the first screen keeps only the file, the horizon and the button.
            with gr.Accordion("Advanced", open=False):
                value_column = gr.Dropdown([], label="Value column", allow_custom_value=True,
                                           info="The numbers to forecast. Empty: the first column of numbers.")
                time_column = gr.Dropdown([], label="Time column (optional)", allow_custom_value=True,
                                          info=f"Dates label the forecast. Empty: guessed; {NO_TIME}: step numbers.")
                context_length = gr.Slider(MIN_POINTS, forecasting.MAX_CONTEXT,
                                           value=forecasting.DEFAULT_CONTEXT, step=1,
                                           label="Context length (most recent points used)")
                model = model_picker(models)
        with gr.Column(scale=3):
            plot = gr.Plot(label="History and forecast", show_label=False)  # the chart has its own title
            status = status_box()
            table = gr.Dataframe(headers=["time", "q10", "median", "q90"], label="Forecast", interactive=False,
                                 max_height=300)
            download = gr.File(label="Forecast as CSV", interactive=False)

    look = LookInside(models, "The part of the series Chronos-Bolt read: its context window, cut into patches of 16 "
                      "points that its encoder reads as tokens (after scaling to mean 0 and spread 1), beside the "
                      "quantile band it forecast. It does not show which patches the forecast leaned on most.")
    gr.Examples([[str(ASSETS / "series" / name), steps] for name, steps, _ in EXAMPLES], inputs=[upload, horizon],
                example_labels=[label for *_, label in EXAMPLES], label="Example series")

    def show_columns(path):
        """Fill the column pickers from the uploaded file (UI only; the API guesses the same way)."""
        if not path:
            return gr.update(choices=[], value=None), gr.update(choices=[], value=None), ""
        try:
            found = inspect(path)
        except PlaygroundError as exc:
            return gr.update(choices=[], value=None), gr.update(choices=[], value=None), f"⚠️ {exc}"
        return (gr.update(choices=list(found.names), value=found.value),
                gr.update(choices=[NO_TIME, *found.names], value=found.time or NO_TIME), "")

    @user_errors
    def forecast(series, value_column=None, time_column=None, horizon=forecasting.DEFAULT_HORIZON,
                 context_length=forecasting.DEFAULT_CONTEXT, model=models.spec.default.repo_id,
                 progress=gr.Progress()):
        """Forecast a time series from a CSV file with Chronos-Bolt: the median forecast and its 80% band.

        Args:
            series: A CSV file with a column of numbers (and optionally one of dates), oldest row first (required).
            value_column: The column of numbers to forecast (default: the first column of numbers).
            time_column: The column of dates (default: the first column of dates; "(none)": number the steps 1, 2, ...).
            horizon: How many steps ahead to forecast, 1 to 256 (Chronos-Bolt predicts 64 per pass).
            context_length: How many of the most recent points the model reads, 10 to 2048.
            model: Which model: Chronos-Bolt small (default) or Chronos-Bolt tiny (5x smaller and faster).

        Returns:
            A plot of history and forecast, the forecast table (time, q10, median, q90), it as a CSV file, a status.
        """
        checked = forecasting.check(models, series, value_column, time_column, horizon, context_length, model)
        yield from while_loading(models, checked.model_id, progress, gr.skip(), gr.skip(), gr.skip())
        started = time.perf_counter()
        result = forecasting.run(models, checked, progress_bar(progress))
        seconds = time.perf_counter() - started
        history = checked.history
        summary = f"{result.horizon} steps from {len(history.values):,} points in {seconds:.1f} s"
        notes = "".join(f"\n- {n}" for n in result.notes)
        yield (AltairPlotData(plot=json.dumps(plot_spec(result)), chart="line"), result.table(),
               str(forecasting.to_csv(result, download_path(history.name))),
               describe(models.get(checked.model_id), summary) + (f"\n\n**Notes**{notes}" if notes else ""))

    def forecast_for_assistants(series=None, numbers="", value_column="", time_column="",
                                horizon=forecasting.DEFAULT_HORIZON, context_length=forecasting.DEFAULT_CONTEXT,
                                model=models.spec.default.repo_id, progress=gr.Progress()):
        """Forecast a time series with Chronos-Bolt (zero-shot: any series, no training): the median forecast
        and the 10% and 90% quantiles (an 80% band) for each future step. Give the series either as numbers
        or as a CSV file. The first call may take a while: the model loads first.

        Args:
            series: A CSV file of the series (a column of numbers, optionally one of dates) as an https:// or data: URL.
            numbers: Or the series itself: 10 or more numbers, oldest first, evenly spaced, e.g. "112, 118, 132, 129".
            value_column: For a CSV file: the column of numbers to forecast (default: the first column of numbers).
            time_column: For a CSV file: the column of dates (default: the first one; "(none)": number the steps).
            horizon: How many steps ahead to forecast, 1 to 256 (Chronos-Bolt predicts 64 per pass).
            context_length: How many of the most recent points the model reads, 10 to 2048.
            model: Which model: Chronos-Bolt small (default) or Chronos-Bolt tiny (5x smaller and faster).
        """
        if bool(series) == bool(numbers and numbers.strip()):
            raise UserInputError("Give the series once: as numbers (e.g. \"112, 118, 132, ...\", oldest first) or "
                                 "as a CSV file (an https:// or data: URL), not both." if series else
                                 "Give the series: numbers (e.g. \"112, 118, 132, ...\", oldest first), or a CSV "
                                 "file as an https:// or data: URL.")
        source = series or numbers_from_text(numbers)
        return source, value_column or None, time_column or None, horizon, context_length, model, progress

    upload.change(show_columns, [upload], [value_column, time_column, status], api_visibility="private")
    # The tool's own inputs: numbers as text, and the columns as free text (the pickers' choices exist
    # only once a file is uploaded in the page, so their schema would allow no value at all).
    numbers, value_name, time_name = (gr.Textbox("", visible=False, interactive=False, label=f"{name} (assistants)")
                                      for name in ("Numbers", "Value column name", "Time column name"))
    forecasted = public_event(models, [run.click], forecast,
                              [upload, value_column, time_column, horizon, context_length, model],
                              [plot, table, download, status],
                              tool=Tool('JSON: {"forecast": [{"time" (a date, or the step number 1, 2, ...), "q10", '
                                        '"median", "q90"}, ...], "notes": what was cleaned or cut, if anything}.',
                                        result=for_assistants, adapt=forecast_for_assistants,
                                        inputs=[upload, numbers, value_name, time_name, horizon, context_length,
                                                model]))
    look.follow(forecasted, [upload, value_column, time_column, horizon, context_length, model, table],
                inside.explain, inside_media_charts.forecast_window)

    def code_request(series, value_column, time_column, horizon, context_length, model_id):  # as forecast checks it
        return (forecasting.check(models, series, value_column, time_column, horizon, context_length, model_id),
                {"series": series})

    code_block(models, Wiring([forecasted], [upload, value_column, time_column, horizon, context_length, model],
                              code_request),
               example=lambda: code_request(str(ASSETS / "series" / EXAMPLES[0][0]), None, None, EXAMPLES[0][1],
                                            forecasting.DEFAULT_CONTEXT, models.spec.default.repo_id))


def for_assistants(_plot, table, _csv_path: str, status: str) -> str:
    """The tool's result: the forecast table as JSON, and the status line's notes (written by `forecast`)."""
    notes = [line[2:] for line in status.partition("**Notes**")[2].splitlines() if line.startswith("- ")]
    return as_json({"forecast": table.to_dict(orient="records"), **({"notes": notes} if notes else {})})


def download_path(name: str) -> Path:
    """A new file per request (two people never share one), in a folder pruned of files over an hour old."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - DOWNLOAD_TTL_S
    for old in DOWNLOADS.glob("*.csv"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:  # another request removed it first
            pass
    stem = "".join(c if c.isalnum() else "_" for c in name)[:40] or "series"
    handle, path = tempfile.mkstemp(prefix=f"forecast_{stem}_", suffix=".csv", dir=DOWNLOADS)
    os.close(handle)
    return Path(path)


def plot_spec(result: forecasting.Forecast) -> dict:
    """Vega-Lite: the recent history, the median forecast, and the shaded 10%-90% band."""
    hist = result.history
    shown = min(len(hist.values), max(4 * result.horizon, 96))  # enough history to see the pattern
    values = [float(v) for v in hist.values[-shown:]]
    if hist.times is not None:
        past = [t.isoformat() for t in hist.times[-shown:]]
        future = [t.isoformat() for t in result.labels]
        x = {"field": "x", "type": "temporal", "title": hist.time_column}
    else:
        past = list(range(1 - shown, 1))
        future = list(result.labels)
        x = {"field": "x", "type": "quantitative", "title": "step (0 = last observed point)"}
    rows = [{"x": t, "y": v, "series": HISTORY} for t, v in zip(past, values)]
    # Both forecast marks start at the last observed point so they join the history line.
    rows += [{"x": past[-1], "y": values[-1], "series": MEDIAN}]
    rows += [{"x": t, "y": float(v), "series": MEDIAN} for t, v in zip(future, result.median)]
    rows += [{"x": past[-1], "lo": values[-1], "hi": values[-1], "series": BAND}]
    rows += [{"x": t, "lo": float(lo), "hi": float(hi), "series": BAND}
             for t, lo, hi in zip(future, result.q10, result.q90)]
    color = {"field": "series", "type": "nominal", "title": None, "legend": {"orient": "top", "labelLimit": 300},
             "scale": {"domain": [HISTORY, MEDIAN, BAND], "range": ["#2563eb", "#ea580c", "#fdba74"]}}
    y_title = hist.name
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": f"{hist.name}: {result.horizon}-step forecast",
                  "subtitle": f"after the last {shown:,} observed points"},
        "height": 320,
        "data": {"values": rows},
        "layer": [
            {"transform": [{"filter": {"field": "series", "equal": BAND}}],
             "mark": {"type": "area", "opacity": 0.35},
             "encoding": {"x": x, "y": {"field": "lo", "type": "quantitative", "title": y_title,
                                        "scale": {"zero": False}},
                          "y2": {"field": "hi"}, "color": color}},
            {"transform": [{"filter": {"field": "series", "oneOf": [HISTORY, MEDIAN]}}],
             "mark": {"type": "line", "strokeWidth": 2},
             "encoding": {"x": x, "y": {"field": "y", "type": "quantitative", "title": y_title,
                                        "scale": {"zero": False}},
                          "color": color, "tooltip": [x, {"field": "y", "title": y_title, "format": ",.4~g"},
                                                      {"field": "series", "title": "series"}]}},
        ],
    }


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
