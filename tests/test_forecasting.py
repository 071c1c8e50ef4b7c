"""Forecasting: Chronos-Bolt miniatures through the real load path, and the /forecast endpoint.

The miniatures are real ChronosBoltModelForForecasting models with random weights: their forecasts
mean nothing, so these tests check shapes, ordering, determinism, what reaches the model, and that
every bad input comes back to the client as our sentence while the app keeps answering.
"""

from __future__ import annotations

import codecs
import json

import numpy as np
import pandas as pd
import pytest

from pipelines.core.errors import UserInputError
from pipelines.readers.series_csv import NO_TIME
from pipelines.tasks import forecasting
from tests.conftest import ASSETS

APP_TASKS = ["forecasting"]
SERIES = ASSETS / "series"
BAD = SERIES / "bad"
MONTHLY = SERIES / "monthly_airline_style.csv"
SMALL, TINY = "amazon/chronos-bolt-small", "amazon/chronos-bolt-tiny"


@pytest.fixture(scope="module")
def fc(models):
    return models.task("forecasting")


def test_miniature_loads_through_the_chronos_pipeline(fc):
    import torch
    from chronos import ChronosBoltPipeline
    from chronos.chronos_bolt import ChronosBoltModelForForecasting

    loaded = fc.get(SMALL)
    bundle = loaded.bundle
    assert loaded.location.kind == "miniature"
    assert (bundle.family, bundle.checkpoint.repo_id, bundle.device, bundle.processor) == (
        "forecasting", SMALL, "cpu", None)
    assert type(bundle.model) is ChronosBoltPipeline
    assert type(bundle.model.model) is ChronosBoltModelForForecasting and not bundle.model.model.training
    assert bundle.model.model.dtype == torch.float32
    assert (forecasting.context_window(bundle), forecasting.steps_per_pass(bundle)) == (2048, 64)
    assert forecasting.quantile_levels(bundle) == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    config = bundle.model.model.config
    assert config.chronos_config["input_patch_size"] == 16 and config.chronos_config["use_reg_token"] is True
    assert config.d_model == 32 and 0 < loaded.nbytes < 2_000_000


def test_forecast_shape_order_labels_and_determinism(fc):
    first = forecasting.forecast(fc, MONTHLY, horizon=12)
    again = forecasting.forecast(fc, MONTHLY, horizon=12)
    assert first.horizon == 12 and len(first.q10) == len(first.q90) == len(first.labels) == 12
    assert np.isfinite(np.stack([first.q10, first.median, first.q90])).all()
    assert (first.q10 <= first.median).all() and (first.median <= first.q90).all()
    assert (first.q90 > first.q10).any()  # a band, not a line
    for a, b in ((first.q10, again.q10), (first.median, again.median), (first.q90, again.q90)):
        np.testing.assert_array_equal(a, b)
    assert first.labels == list(pd.date_range("2025-01-01", periods=12, freq="MS"))
    table = first.table()
    assert list(table.columns) == ["time", "q10", "median", "q90"] and len(table) == 12
    assert table["time"].iloc[0] == "2025-01-01"


def test_the_model_reads_only_the_most_recent_context(fc):
    """The forecast equals the library's own on the last 50 points, quantiles sorted (crossing fixed)."""
    import torch

    result = forecasting.forecast(fc, SERIES / "daily_temperature.csv", horizon=8, context_length=50)
    raw = pd.read_csv(SERIES / "daily_temperature.csv")["temperature"].to_numpy()
    np.testing.assert_array_equal(result.history.values, raw[-50:])
    pipeline = fc.bundle(SMALL).model
    quantiles, _ = pipeline.predict_quantiles(torch.tensor(raw[-50:], dtype=torch.float32), prediction_length=8)
    expected = np.sort(quantiles[0].numpy().astype("float64"), axis=-1)
    np.testing.assert_allclose(result.median, expected[:, 4], rtol=1e-6)
    np.testing.assert_allclose(result.q10, expected[:, 0], rtol=1e-6)
    np.testing.assert_allclose(result.q90, expected[:, 8], rtol=1e-6)
    longer = forecasting.forecast(fc, SERIES / "daily_temperature.csv", horizon=8, context_length=400)
    assert not np.array_equal(longer.median, result.median)


def test_long_horizons_and_the_alternative_model(fc):
    long = forecasting.forecast(fc, SERIES / "hourly_energy.csv", horizon=100, model_id=TINY)
    assert long.horizon == 100 and (long.q10 <= long.median).all() and (long.median <= long.q90).all()
    assert long.labels[-1] == pd.Timestamp("2024-03-25 00:00") + pd.Timedelta(hours=99)
    assert any("64 steps in one pass" in n for n in long.notes)
    assert fc.is_loaded(TINY)
    short = forecasting.forecast(fc, SERIES / "hourly_energy.csv", horizon=5, model_id=TINY)
    assert not any("64 steps" in n for n in short.notes)


def test_check_reads_the_file_and_loads_no_model_and_run_reports_progress(fc):
    from pipelines.core.loading import ModelManager
    from tests.conftest import tiny_settings

    fresh = ModelManager(tiny_settings()).task("forecasting")
    request = forecasting.check(fresh, BAD / "gaps.csv", horizon=5.0, context_length="40", model_id="Chronos-Bolt tiny")
    assert (request.horizon, request.model_id, len(request.history.values)) == (5, TINY, 40)
    assert type(request.horizon) is int and not fresh.is_loaded(TINY)
    seen = []
    result = forecasting.run(fresh, request, lambda fraction, message: seen.append((fraction, message)))
    assert seen == [(0.0, "Forecasting 5 steps from 40 points…")]
    assert result.notes == request.history.notes and any("Filled" in n for n in result.notes)


@pytest.mark.parametrize("kwargs, message", [
    (dict(horizon=0), r"Forecast horizon must be a whole number from 1 to 256; got 0\. Chronos-Bolt predicts 64"),
    (dict(horizon=257), "Forecast horizon must be a whole number from 1 to 256; got 257."),
    (dict(horizon=2.5), "Forecast horizon must be a whole number from 1 to 256; got 2.5."),
    (dict(horizon="twelve"), "Forecast horizon must be a whole number from 1 to 256; got twelve."),
    (dict(context_length=5), r"Context length must be a whole number from 10 to 2,048; got 5\. Chronos-Bolt reads"),
    (dict(context_length=4096), "Context length must be a whole number from 10 to 2,048; got 4096."),
    (dict(model_id="amazon/chronos-t5-large"), "Unknown model 'amazon/chronos-t5-large'"),
])
def test_out_of_range_settings_are_refused(fc, kwargs, message):
    with pytest.raises(UserInputError, match=message):
        forecasting.forecast(fc, MONTHLY, **kwargs)


def test_no_file_is_refused_with_a_sentence(fc):
    with pytest.raises(UserInputError, match="Upload a CSV file with a column of numbers"):
        forecasting.forecast(fc, None)


# --- the endpoint, through gradio_client -------------------------------------------------------

def _call(client, path, **kwargs):
    from gradio_client import handle_file

    return client.predict(series=handle_file(str(path)), api_name="/forecast", **kwargs)


def test_api_has_one_public_endpoint_with_defaults(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/forecast"]  # the column-picker event is private
    params = {p["parameter_name"]: p for p in endpoints["/forecast"]["parameters"]}
    assert list(params) == ["series", "value_column", "time_column", "horizon", "context_length", "model"]
    assert not params["series"]["parameter_has_default"]
    assert params["horizon"]["parameter_default"] == 24 and params["context_length"]["parameter_default"] == 2048
    assert params["model"]["parameter_default"] == SMALL


def test_forecast_endpoint_returns_plot_table_csv_and_status(client):
    plot, table, csv_path, status = _call(client, MONTHLY, horizon=12)
    assert table["headers"] == ["time", "q10", "median", "q90"] and len(table["data"]) == 12
    downloaded = pd.read_csv(csv_path)
    assert list(downloaded.columns) == ["time", "q10", "median", "q90"] and len(downloaded) == 12
    assert downloaded["time"].iloc[0] == "2025-01-01"
    assert (downloaded["q10"] <= downloaded["median"]).all() and (downloaded["median"] <= downloaded["q90"]).all()
    assert downloaded["median"].tolist() == [row[2] for row in table["data"]]
    assert "Chronos-Bolt small" in status and "miniature" in status and "12 steps from 144 points" in status
    spec = json.loads(plot["plot"])
    assert plot["type"] == "altair"
    rows = pd.DataFrame(spec["data"]["values"])
    assert rows["series"].value_counts().to_dict() == {"History": 96, "Median forecast": 13,
                                                       "80% band (q10 to q90)": 13}
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["area", "line"]
    # a second request gets its own file, never a shared one
    _, _, second_path, _ = _call(client, MONTHLY, horizon=12)
    assert second_path != csv_path


def test_handled_problems_are_explained_in_the_status(client):
    _, table, _, status = _call(client, BAD / "gaps.csv", horizon=5)
    assert len(table["data"]) == 5 and table["data"][0][0] == "2023-03-02"
    assert "Filled 9 gap(s)" in status and "3 time step(s) were missing" in status
    _, table, _, status = _call(client, BAD / "semicolon.csv", horizon=3)
    assert "decimal comma" in status and table["data"][0][0] == "2024-03-01"
    _, table, _, status = _call(client, SERIES / "daily_temperature.csv", horizon=70, context_length=100,
                                time_column=NO_TIME)
    assert [row[0] for row in table["data"][:3]] == [1, 2, 3] and len(table["data"]) == 70
    assert "most recent 100 of 731" in status and "64 steps in one pass" in status


@pytest.mark.parametrize("name, encoding, bom, delimiter, read_as", [
    ("unicode_text.txt", "utf-16-le", codecs.BOM_UTF16_LE, "\t", "Read as tab-separated values."),  # Excel
    ("unicode_text_be.txt", "utf-16-be", codecs.BOM_UTF16_BE, "\t", "Read as tab-separated values."),
    ("csv_utf8.csv", "utf-8", codecs.BOM_UTF8, ",", None),  # Excel's "CSV UTF-8"
])
def test_spreadsheet_unicode_exports_forecast_like_the_original(client, tmp_path, name, encoding, bom, delimiter,
                                                                read_as):
    """The monthly series saved as a spreadsheet's Unicode export gives the very forecast of the original."""
    text = pd.read_csv(MONTHLY, dtype=str).to_csv(sep=delimiter, index=False, lineterminator="\r\n")
    export = tmp_path / name
    export.write_bytes(bom + text.encode(encoding))
    _, expected, _, _ = _call(client, MONTHLY, horizon=12)
    _, table, csv_path, status = _call(client, export, horizon=12)
    assert table["data"] == expected["data"] and table["data"][0][0] == "2025-01-01"
    assert "12 steps from 144 points" in status
    notes = status.split("**Notes**", 1)[1].strip() if "**Notes**" in status else None
    assert notes == (f"- {read_as}" if read_as else None)  # read as written: no encoding guessed, no gaps
    assert len(pd.read_csv(csv_path)) == 12


def _not_csv(tmp_path):
    path = tmp_path / "workbook.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(300))
    return path


def _binary_behind_a_bom(tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + bytes(range(256)) * 8)  # starts like UTF-16 text; is not
    return path


@pytest.mark.parametrize("make_path, kwargs, message", [
    (lambda t: BAD / "empty.csv", {}, "The file is empty"),
    (lambda t: BAD / "header_only.csv", {}, "no rows of data"),
    (lambda t: BAD / "no_numeric_column.csv", {}, "No column of numbers found"),
    (lambda t: BAD / "too_short.csv", {}, "forecasting needs at least 10"),
    (_not_csv, {}, "not a CSV text file"),
    (_binary_behind_a_bom, {}, r"This is not a CSV text file \(it looks like a binary file\)\. Export the data as CSV"),
    (lambda t: ASSETS / "images" / "cat.png", {}, "Invalid file type"),  # refused by gr.File itself
    # sliders check their own bounds, before our code runs
    (lambda t: MONTHLY, dict(horizon=0), "horizon must be a whole number from 1 to 256; got 0"),
    (lambda t: MONTHLY, dict(horizon=1000), "horizon must be a whole number from 1 to 256; got 1000"),
    (lambda t: MONTHLY, dict(context_length=3), "must be a whole number from 10 to 2,048; got 3"),
    (lambda t: MONTHLY, dict(value_column="sales"), "no column 'sales'"),
    (lambda t: MONTHLY, dict(model="amazon/chronos-t5-large"), "Unknown model"),
])
def test_bad_inputs_reach_the_client_and_the_app_keeps_serving(client, tmp_path, make_path, kwargs, message):
    with pytest.raises(Exception, match=message) as caught:
        _call(client, make_path(tmp_path), **kwargs)
    assert "Traceback" not in str(caught.value)
    _, table, _, _ = _call(client, MONTHLY, horizon=2)
    assert len(table["data"]) == 2
