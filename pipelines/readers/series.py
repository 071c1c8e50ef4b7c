"""A time series from a CSV file someone uploads (or a plain list of numbers): read it, clean it, and
say what was done.

Pure pandas (no torch), so it is quick to test and safe to call from the UI before any model loads.
Reading the file and choosing its columns is pipelines/readers/series_csv.py; this module turns the chosen
columns into evenly spaced points.

    from pipelines.readers import series
    s = series.prepare("assets/series/bad/gaps.csv")      # value and time columns guessed
    s.values, s.freq, s.notes                              # 60 floats, "D", what was filled in
    series.prepare(series.numbers_from_text("112, 118, n/a, 129, ..."))  # a list: no dates

Rules (each one ends in a note in the status line, or a UserInputError saying what to do):
- Empty cells, "n/a" and text that is not a number become gaps; so do timestamps missing from an
  otherwise regular time grid. Gaps inside the series are filled by linear interpolation (the model
  wants evenly spaced steps); gaps at either end are dropped. More than MAX_FILLED_SHARE gaps: refused.
- With a time column: rows are sorted by time, duplicate times averaged, and the frequency inferred
  (pd.infer_freq) to label the forecast; without a usable frequency the forecast gets step numbers.
- Only the most recent `context_length` points are kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.core.errors import UserInputError
from pipelines.readers.series_csv import MISSING, NO_TIME, choose_columns, parse_numbers, parse_times, read_table

MIN_POINTS = 10  # fewer than this is not a series a forecaster can learn a pattern from
MAX_FILLED_SHARE = 0.25  # beyond a quarter of invented points, the forecast would mostly echo our filling
MAX_NUMBERS = 100_000  # a list of numbers this long is already 50x what a model reads; bounds the parsing
NUMBERS_NAME = "value"  # a list of numbers has no column name: the plot and the status line call it this
NUMBERS_EXAMPLE = "112, 118, 132, 129, 121, 135, 148, 148, 136, 119"


@dataclass(frozen=True)
class PreparedSeries:
    name: str  # the value column
    values: np.ndarray  # float64, oldest first: the points the model will read
    times: pd.DatetimeIndex | None  # their timestamps when a regular frequency was found
    freq: str | None  # pandas frequency alias ("MS", "D", "h"), None: forecast labelled by steps
    time_column: str | None
    total_points: int  # points after cleaning, before keeping the most recent context_length
    missing: int = 0  # empty or "n/a" value cells
    non_numeric: int = 0  # value cells holding text that is not a number
    missing_times: int = 0  # timestamps absent from the regular grid, added as gaps
    interpolated: int = 0  # gaps filled by linear interpolation
    dropped: int = 0  # rows dropped: gaps at either end, unreadable timestamps
    notes: tuple[str, ...] = ()

    def future_labels(self, horizon: int) -> list:
        """Timestamps of the next `horizon` steps, or step numbers 1..horizon without a frequency."""
        if self.freq is None or self.times is None:
            return list(range(1, horizon + 1))
        return list(pd.date_range(self.times[-1], periods=horizon + 1, freq=self.freq)[1:])


def prepare(source: str | Path | Sequence[float | None], value_column: str | None = None,
            time_column: str | None = None, context_length: int = 2048) -> PreparedSeries:
    """A CSV file (its path), or the values themselves: oldest first, evenly spaced, None or NaN for gaps."""
    if not isinstance(source, (str, Path)):
        return from_numbers(source, context_length)
    table = read_table(source)
    frame, notes = table.frame, list(table.notes)
    value_column, time_column = choose_columns(table, value_column, time_column)
    cells = frame[value_column].str.strip()
    values, decimal = parse_numbers(cells, table.delimiter)
    if not np.isfinite(values).any():
        raise UserInputError(f"Column '{value_column}' holds no numbers (e.g. '{cells.iloc[0]}'). "
                             "Choose a column of numbers as the value column.")
    if decimal == ",":
        notes.append("Read numbers with a decimal comma (1.150,05 = 1150.05).")
    is_missing = cells.str.lower().isin(MISSING).to_numpy()
    gaps = ~np.isfinite(values)
    missing, non_numeric = int((gaps & is_missing).sum()), int((gaps & ~is_missing).sum())
    if missing or non_numeric:
        examples = ", ".join(sorted({repr(c) for c in cells[gaps & ~is_missing]})[:3])
        parts = ([f"{missing} empty or marked missing"] if missing else []) + \
                ([f"{non_numeric} not a number ({examples})"] if non_numeric else [])
        notes.append(f"In '{value_column}', {' and '.join(parts)}: treated as gaps.")
    counts = dict(missing=missing, non_numeric=non_numeric, missing_times=0, dropped=0)
    series = pd.Series(values)
    freq = None
    if time_column:
        series, freq = _on_time_axis(series, frame[time_column], time_column, counts, notes)
    return _fill_and_cut(series, freq, value_column, time_column, context_length, counts, notes)


def numbers_from_text(text: str) -> list[float | None]:
    """Numbers typed as text, e.g. by an assistant: "1, 2, 3", "[1, 2, 3]", one per line or separated by
    spaces or semicolons, with a decimal point; "n/a", "nan", "null" (and the like) are gaps."""
    body = (text or "").strip()
    if body.startswith("[") and body.endswith("]"):  # a JSON or Python list
        body = body[1:-1]
    items = [item for item in re.split(r"[,;\s]+", body) if item]
    if not items:
        raise UserInputError(f"No numbers given. Give the series oldest first, e.g. {NUMBERS_EXAMPLE}")
    if len(items) > MAX_NUMBERS:
        raise UserInputError(f"{len(items):,} numbers is too many: give at most {MAX_NUMBERS:,}, the most recent "
                             "(the model reads at most 2,048).")
    values: list[float | None] = []
    for item in items:
        if item.lower().strip("'\"") in MISSING:
            values.append(None)
            continue
        try:
            values.append(float(item))
        except ValueError:
            raise UserInputError(f"“{item}” is not a number. Give the series as numbers separated by commas, "
                                 f"with a decimal point, oldest first, e.g. {NUMBERS_EXAMPLE}") from None
    return values


def from_numbers(values: Sequence[float | None], context_length: int = 2048) -> PreparedSeries:
    """A series given as its values (oldest first, evenly spaced; None or NaN are gaps), cleaned like a
    CSV column: gaps inside filled, gaps at the ends dropped, the most recent context_length kept."""
    floats = []
    for i, value in enumerate(values, 1):
        if value is None:
            floats.append(math.nan)
        elif isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise UserInputError(f"Value {i} ({value!r}) is not a number. Give the series as numbers, oldest first.")
        elif math.isinf(value):
            raise UserInputError(f"Value {i} is infinite. Give the series as finite numbers.")
        else:
            floats.append(float(value))
    missing = sum(math.isnan(v) for v in floats)
    notes = [f"{missing} value(s) were missing: treated as gaps."] if missing else []
    counts = dict(missing=missing, non_numeric=0, missing_times=0, dropped=0)
    return _fill_and_cut(pd.Series(floats, dtype="float64"), None, NUMBERS_NAME, None, context_length, counts, notes)


def _on_time_axis(series: pd.Series, cells: pd.Series, column: str, counts: dict, notes: list):
    times = parse_times(cells)
    bad = times.isna().to_numpy()
    if bad.mean() > 0.5:
        raise UserInputError(f"Column '{column}' does not look like dates or times (e.g. '{cells.iloc[0]}'). "
                             f"Choose another time column, or '{NO_TIME}' to number the steps.")
    if bad.any():
        counts["dropped"] += int(bad.sum())
        notes.append(f"Dropped {int(bad.sum())} row(s) whose '{column}' is not a date.")
    series = pd.Series(series.to_numpy()[~bad], index=pd.DatetimeIndex(times[~bad]))
    if not series.index.is_monotonic_increasing:
        series = series.sort_index(kind="stable")
        notes.append(f"Rows were sorted by '{column}'.")
    if series.index.has_duplicates:
        n_dupes = int(series.index.duplicated().sum())
        series = series.groupby(level=0).mean()
        notes.append(f"{n_dupes} row(s) repeated a time already seen: values at the same time were averaged.")
    freq = infer_frequency(series.index)
    if freq is None:
        notes.append(f"'{column}' has no regular spacing (pd.infer_freq found none), so the forecast "
                       "is labelled with step numbers 1, 2, … instead of dates.")
        return series.reset_index(drop=True), None
    grid = pd.date_range(series.index[0], series.index[-1], freq=freq)
    if len(grid) > len(series):
        counts["missing_times"] = len(grid) - len(series)
        notes.append(f"{counts['missing_times']} time step(s) were missing from '{column}' "
                       f"(frequency {freq}): treated as gaps.")
        series = series.reindex(grid)
    return series, freq


def infer_frequency(index: pd.DatetimeIndex) -> str | None:
    """pd.infer_freq on the whole index; if gaps defeat it, the frequency most short runs agree on,
    provided every timestamp lies on that frequency's grid (so the gaps can be filled)."""
    if len(index) < 3:
        return None
    freq = pd.infer_freq(index)
    if freq:
        return freq
    starts = np.unique(np.linspace(0, len(index) - 5, num=min(200, max(len(index) - 4, 1))).astype(int))
    votes = pd.Series([pd.infer_freq(index[i:i + 5]) for i in starts if len(index[i:i + 5]) == 5]).dropna()
    if votes.empty:
        return None
    freq = votes.mode().iloc[0]
    grid = pd.date_range(index[0], index[-1], freq=freq)
    return freq if index.isin(grid).all() and len(grid) <= 2 * len(index) else None


def _fill_and_cut(series: pd.Series, freq, name, time_column, context_length, counts, notes):
    valid = series.notna().to_numpy()
    if not valid.any():
        raise UserInputError(f"Column '{name}' holds no numbers.")
    first, last = int(np.argmax(valid)), len(valid) - int(np.argmax(valid[::-1]))
    if first or last < len(series):
        edge = first + len(series) - last
        counts["dropped"] += edge
        notes.append(f"Dropped {edge} gap(s) at the start or end of the series (nothing to interpolate from).")
        series = series.iloc[first:last]
    interpolated = int(series.isna().sum())
    if interpolated > MAX_FILLED_SHARE * len(series):
        raise UserInputError(f"{interpolated} of {len(series)} points of '{name}' are missing or not numbers: "
                             "too many to fill in. Check the value column, or clean the file.")
    if interpolated:
        series = series.interpolate(method="linear")
        notes.append(f"Filled {interpolated} gap(s) by linear interpolation.")
    if len(series) < MIN_POINTS:
        raise UserInputError(f"The series has {len(series)} usable point(s); forecasting needs at least "
                             f"{MIN_POINTS}. Upload a longer series.")
    total = len(series)
    if total > context_length:
        series = series.iloc[-context_length:]
        notes.append(f"Used the most recent {context_length:,} of {total:,} points (the context length).")
    times = series.index if freq else None
    return PreparedSeries(name, series.to_numpy(dtype="float64"), times, freq, time_column, total,
                          counts["missing"], counts["non_numeric"], counts["missing_times"], interpolated,
                          counts["dropped"], tuple(notes))
