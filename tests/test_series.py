"""Reading and cleaning CSV series (pipelines/readers/series.py): every fixture in assets/series, exact counts.

Pure pandas: no model, no app. The expected numbers come from how assets/makers/series.py made the
fixtures (which rows it blanked, which dates it removed), not from running the code under test.
"""

from __future__ import annotations

import codecs
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pipelines.core.errors import UserInputError
from pipelines.readers import series, series_csv
from tests.conftest import ASSETS, ROOT

SERIES = ASSETS / "series"
BAD = SERIES / "bad"


@pytest.mark.parametrize("name, value, time, freq, rows, next_time", [
    ("monthly_airline_style.csv", "passengers", "month", "MS", 144, "2025-01-01"),
    ("daily_temperature.csv", "temperature", "date", "D", 731, "2025-01-01"),
    ("hourly_energy.csv", "load_kw", "timestamp", "h", 504, "2024-03-25 00:00:00"),
])
def test_bundled_series_read_as_written(name, value, time, freq, rows, next_time):
    s = series.prepare(SERIES / name)
    raw = pd.read_csv(SERIES / name)
    assert (s.name, s.time_column, s.freq) == (value, time, freq)
    assert s.total_points == len(s.values) == rows
    np.testing.assert_array_equal(s.values, raw[value].to_numpy(dtype=float))
    assert s.notes == () and (s.missing, s.non_numeric, s.missing_times, s.interpolated, s.dropped) == (0,) * 5
    labels = s.future_labels(3)
    assert labels[0] == pd.Timestamp(next_time)
    assert list(pd.DatetimeIndex(labels)) == list(pd.date_range(next_time, periods=3, freq=freq))


def test_context_length_keeps_the_most_recent_points():
    s = series.prepare(SERIES / "daily_temperature.csv", context_length=100)
    raw = pd.read_csv(SERIES / "daily_temperature.csv")
    assert len(s.values) == 100 and s.total_points == 731
    np.testing.assert_array_equal(s.values, raw["temperature"].to_numpy()[-100:])
    assert s.times[0] == pd.Timestamp("2024-09-23") and s.times[-1] == pd.Timestamp("2024-12-31")
    assert any("most recent 100 of 731" in n for n in s.notes)


def test_non_numeric_values_become_interpolated_gaps():
    s = series.prepare(BAD / "non_numeric.csv")
    raw = pd.read_csv(SERIES / "monthly_airline_style.csv")["passengers"].to_numpy(dtype=float)[:24]
    assert (s.missing, s.non_numeric, s.interpolated, s.dropped) == (2, 1, 3, 0)  # "n/a" and "" / "abc"
    assert s.freq == "MS" and len(s.values) == 24
    for i in (3, 10, 17):  # the rows the maker spoilt: each lies between two good neighbours
        assert s.values[i] == pytest.approx((raw[i - 1] + raw[i + 1]) / 2)
    good = np.setdiff1d(np.arange(24), [3, 10, 17])
    np.testing.assert_array_equal(s.values[good], raw[good])
    assert any("'abc'" in n and "2 empty" in n for n in s.notes)
    assert any("Filled 3 gap(s)" in n for n in s.notes)


def test_gaps_and_missing_dates_are_filled_on_the_daily_grid():
    s = series.prepare(BAD / "gaps.csv")
    raw = pd.read_csv(SERIES / "daily_temperature.csv")["temperature"].to_numpy()[:60]
    assert (s.missing, s.missing_times, s.interpolated, s.dropped) == (6, 3, 9, 0)
    assert s.freq == "D" and s.total_points == 60
    assert list(s.times) == list(pd.date_range("2023-01-01", periods=60, freq="D"))
    filled = {5, 6, 7, 20, 33, 47, 40, 41, 42}
    kept = np.array(sorted(set(range(60)) - filled))
    np.testing.assert_array_equal(s.values[kept], raw[kept])
    # 2023-02-10..12 were removed: a straight line from 2023-02-09 to 2023-02-13
    np.testing.assert_allclose(s.values[40:43], raw[39] + (raw[43] - raw[39]) * np.array([1, 2, 3]) / 4)
    assert s.future_labels(1) == [pd.Timestamp("2023-03-02")]
    assert any("3 time step(s) were missing" in n for n in s.notes)


def test_semicolon_file_with_decimal_commas_and_day_first_dates():
    s = series.prepare(BAD / "semicolon.csv")
    assert (s.name, s.time_column, s.freq, len(s.values)) == ("Verbrauch (kWh)", "Datum", "D", 60)
    assert s.values[:2].tolist() == [1150.05, 1302.68]
    assert s.times[0] == pd.Timestamp("2024-01-01") and s.times[-1] == pd.Timestamp("2024-02-29")
    assert any("semicolon" in n for n in s.notes) and any("decimal comma" in n for n in s.notes)


@pytest.mark.parametrize("name, message", [
    ("empty.csv", "The file is empty"),
    ("header_only.csv", "column names (date, temperature) but no rows"),
    ("no_numeric_column.csv", "No column of numbers found (columns: date, city, weather)"),
    ("too_short.csv", "has 3 usable point(s); forecasting needs at least 10"),
])
def test_bad_fixtures_are_refused_with_a_sentence(name, message):
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        series.prepare(BAD / name)


def test_binary_files_are_not_csv(tmp_path):
    with pytest.raises(UserInputError, match="not a CSV text file .*PNG image"):
        series.prepare(ASSETS / "images" / "cat.png")
    renamed = tmp_path / "sales.csv"
    renamed.write_bytes(b"PK\x03\x04" + bytes(200))  # an .xlsx someone renamed
    with pytest.raises(UserInputError, match="Excel workbook"):
        series.prepare(renamed)


def spreadsheet_export(source, path, encoding: str, bom: bytes, delimiter: str = "\t", rename=None):
    """A bundled CSV saved again as a spreadsheet would: Excel's "Unicode text" is UTF-16 LE with a
    byte-order mark, tab-separated, with CRLF line ends; its "CSV UTF-8" is commas behind a UTF-8 BOM."""
    frame = pd.read_csv(source, dtype=str).rename(columns=rename or {})
    text = frame.to_csv(sep=delimiter, index=False, lineterminator="\r\n")
    path.write_bytes(bom + text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding, bom, delimiter, notes", [
    ("utf-16-le", codecs.BOM_UTF16_LE, "\t", ("Read as tab-separated values.",)),  # Excel's "Unicode text"
    ("utf-16-be", codecs.BOM_UTF16_BE, "\t", ("Read as tab-separated values.",)),
    ("utf-8", codecs.BOM_UTF8, ",", ()),  # Excel's "CSV UTF-8"
    ("utf-32-le", codecs.BOM_UTF32_LE, ",", ()),  # its mark starts with UTF-16 LE's: must not be read as that
])
def test_files_with_a_byte_order_mark_read_like_the_original(tmp_path, encoding, bom, delimiter, notes):
    source = SERIES / "daily_temperature.csv"
    path = spreadsheet_export(source, tmp_path / "export.txt", encoding, bom, delimiter,
                              rename={"temperature": "Température (°C)"})  # not ASCII: decoded, not guessed
    assert path.read_bytes().startswith(bom) and (b"\x00" in path.read_bytes()) == (encoding != "utf-8")
    s = series.prepare(path)
    original = series.prepare(source)
    assert (s.name, s.time_column, s.freq, s.total_points) == ("Température (°C)", "date", "D", 731)
    np.testing.assert_array_equal(s.values, original.values)
    assert list(s.times) == list(original.times) and s.notes == notes
    assert series_csv.inspect(path) == series_csv.Columns(("date", "Température (°C)"), "Température (°C)", "date")


def test_binary_that_starts_like_a_byte_order_mark_is_still_refused(tmp_path):
    cases = {
        "nul.csv": codecs.BOM_UTF16_LE + bytes(300),  # decodes, to NUL characters
        "odd.csv": codecs.BOM_UTF16_LE + b"\x00\xd8" + b"abc",  # a lone surrogate and an odd byte: not UTF-16
        "be.csv": codecs.BOM_UTF16_BE + bytes(range(256)) * 4,
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UserInputError, match=r"^This is not a CSV text file \(it looks like a binary file\)\. "
                                                  r"Export the data as CSV"):
            series.prepare(tmp_path / name)


def test_a_utf8_bom_with_bytes_that_are_not_utf8_falls_back_to_windows_1252(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(codecs.BOM_UTF8 + "Menge in \u20ac\n".encode("cp1252") + b"\n".join(b"%d" % i for i in range(12)))
    s = series.prepare(path)
    assert s.name == "Menge in \u20ac" and s.values.tolist() == list(range(12))  # the BOM is not in the name
    assert s.notes == ("The file is not UTF-8; it was read as Windows-1252 text.",)


def test_column_choices(tmp_path):
    with pytest.raises(UserInputError, match="no column 'sales'.*Columns in this file: month, passengers"):
        series.prepare(SERIES / "monthly_airline_style.csv", value_column="sales")
    with pytest.raises(UserInputError, match="both the value and the time column"):
        series.prepare(SERIES / "monthly_airline_style.csv", "passengers", "passengers")
    with pytest.raises(UserInputError, match="Column 'city' holds no numbers"):
        series.prepare(BAD / "no_numeric_column.csv", value_column="city")
    steps = series.prepare(SERIES / "monthly_airline_style.csv", time_column=series.NO_TIME)
    assert steps.freq is None and steps.times is None and steps.future_labels(3) == [1, 2, 3]
    assert series_csv.inspect(BAD / "semicolon.csv") == series_csv.Columns(
        ("Datum", "Verbrauch (kWh)", "Werktag"), "Verbrauch (kWh)", "Datum")


def _write(tmp_path, text: str, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unsorted_duplicate_and_irregular_times(tmp_path):
    days = pd.date_range("2024-01-01", periods=20, freq="D")
    rows = [f"{d.date()},{i}" for i, d in enumerate(days)]
    shuffled = rows[10:] + rows[:10] + [rows[5].replace(",5", ",7")]  # out of order, 2024-01-06 twice
    s = series.prepare(_write(tmp_path, "day,value\n" + "\n".join(shuffled)))
    assert s.freq == "D" and s.values.tolist() == [0, 1, 2, 3, 4, 6, *range(6, 20)]  # (5 + 7) / 2
    assert any("sorted" in n for n in s.notes) and any("averaged" in n for n in s.notes)
    stamps = pd.to_datetime("2024-01-01") + pd.to_timedelta(np.cumsum([0, 1, 3, 7, 2, 5, 11, 1, 4, 6, 2]), "h")
    s = series.prepare(_write(tmp_path, "t,v\n" + "\n".join(f"{t},{i}" for i, t in enumerate(stamps))))
    assert s.freq is None and s.future_labels(2) == [1, 2] and any("step numbers" in n for n in s.notes)


def test_too_many_gaps_are_refused_and_edges_dropped(tmp_path):
    values = ["1", "", "", "2", "x", "3", "", "4", "5", "6", "7", "8"]
    with pytest.raises(UserInputError, match="4 of 12 points .* too many"):
        series.prepare(_write(tmp_path, "v\n" + "\n".join(values)))
    values = ["", "n/a", *map(str, range(12)), "NA", "", ""]  # blank lines at the end are only spacing
    s = series.prepare(_write(tmp_path, "v\n" + "\n".join(values)))
    assert s.values.tolist() == list(range(12)) and s.dropped == 3 and s.interpolated == 0


def test_number_formats_and_headerless_files(tmp_path):
    s = series.prepare(_write(tmp_path, "\n".join(f'2024-01-{d:02d},"1,{d:03d}.5"' for d in range(1, 13))))
    assert s.values[:2].tolist() == [1001.5, 1002.5] and s.name == "column 2"  # headerless, US grouping
    assert any("no header row" in n for n in s.notes)
    tsv = "when\tlevel\n" + "\n".join(f"2024-01-{d:02d}\t{d},25" for d in range(1, 13))
    s = series.prepare(_write(tmp_path, tsv, "s.tsv"))
    assert s.values[:2].tolist() == [1.25, 2.25] and s.freq == "D"  # decimal comma in a tab file
    assert series_csv.parse_numbers(pd.Series(["1.150", "2.300"]), ";")[0].tolist() == [1.150, 2.300]
    assert series_csv.parse_numbers(pd.Series(["1.150,5", "2.300"]), ";")[0].tolist() == [1150.5, 2300]
    assert np.isnan(series_csv.parse_numbers(pd.Series(["inf", "abc", "3"]))[0][:2]).all()


def test_years_as_time_column(tmp_path):
    s = series.prepare(_write(tmp_path, "year,sales\n" + "\n".join(f"{y},{y - 1990}" for y in range(1990, 2010))))
    assert s.time_column == "year" and s.freq.startswith("YS") and s.future_labels(1) == [pd.Timestamp("2010-01-01")]
    # four-digit values that grow are not mistaken for years when the column is not named so
    s = series.prepare(_write(tmp_path, "units\n" + "\n".join(str(1000 + 37 * i) for i in range(20))))
    assert s.time_column is None and s.name == "units"


def test_series_module_does_not_import_torch():
    code = "import sys, pipelines.readers.series; print('torch' in sys.modules, 'gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_awkward_files_get_a_sentence_not_a_crash(tmp_path):
    with pytest.raises(UserInputError, match="upload it again"):
        series.prepare(str(tmp_path / "missing.csv"))
    huge_cell = tmp_path / "huge_cell.csv"
    huge_cell.write_text("value\n" + "x" * 200_000 + "\n" + "\n".join(str(i) for i in range(30)) + "\n")
    assert len(series.prepare(str(huge_cell)).values) == 30  # the odd cell is dropped; no csv field-size error
    dst = tmp_path / "dst.csv"
    stamps = [f"2026-03-{d:02d}T00:00:00+0{1 if d < 20 else 2}:00" for d in range(1, 31)]
    dst.write_text("time,value\n" + "\n".join(f"{t},{i}" for i, t in enumerate(stamps)) + "\n")
    prepared = series.prepare(str(dst))
    assert len(prepared.values) == 30
