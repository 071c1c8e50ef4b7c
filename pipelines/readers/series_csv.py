"""Reading a forecasting CSV someone uploads: the file into a table of text cells, cells into numbers
and dates, and the choice of the value and time columns.

Pure pandas (no torch), so it is quick to test and safe to call from the UI before any model loads.
pipelines/readers/series.py cleans what is read here into the series a model reads.

    from pipelines.readers import series_csv
    series_csv.inspect("assets/series/bad/semicolon.csv")  # Columns(names, value="Verbrauch (kWh)", time="Datum")

Rules (each one ends in a note in the status line, or a UserInputError saying what to do):
- The delimiter (, ; tab |) and the decimal mark are sniffed, so a European spreadsheet export
  ("01.01.2024;1.150,05") reads as dates and 1150.05.
- The text encoding comes from a byte-order mark when there is one: a spreadsheet's "Unicode text"
  export is UTF-16 (little- or big-endian) with a BOM and tabs, its "CSV UTF-8" has a UTF-8 BOM.
  Without one: UTF-8, else Windows-1252.
- A first line of numbers is data, not a header. Binary files, empty files and files over
  MAX_FILE_BYTES are refused.
- Unless named, the time column is the first column of dates and the value column the first other
  column that is mostly numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from pipelines.core.errors import UserInputError

MAX_FILE_BYTES = 10_000_000  # far more than the 2,048 points a model reads; bounds memory per request
GUESS_ROWS = 500  # columns are guessed from the first rows; cleaning then reads them all
NO_TIME = "(none)"  # time_column value meaning "do not use a time column" (None/"" mean "guess")
DELIMITERS = (",", ";", "\t", "|")  # in order of preference when two fit equally well
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
MISSING = {"", "na", "n/a", "nan", "null", "none", "-", "--", "?", "#n/a", "missing"}
_BINARY_KINDS = {b"PK": "an Excel workbook or a zip archive", b"\xd0\xcf": "an old Excel workbook",
                 b"\x89PNG": "a PNG image", b"\xff\xd8": "a JPEG image", b"%PDF": "a PDF",
                 b"RIFF": "a WAV audio file", b"GIF8": "a GIF image"}
# Longest first: UTF-32 LE's mark begins with UTF-16 LE's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_US_GROUPED = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"  # 1,234.5
_EU_NUMBER = r"^[+-]?(\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d+)$"  # 1.234,5 or 3,14


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame  # every cell as stripped text
    delimiter: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Columns:
    names: tuple[str, ...]
    value: str | None  # best guess for the value column (first column of numbers)
    time: str | None  # best guess for the time column (first column of dates)


def read_table(path: str | Path) -> Table:
    """Every cell of a CSV file as text, with the delimiter sniffed."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError("The uploaded file is gone (uploads are kept for a while only): upload it again.")
    size = path.stat().st_size
    if size == 0:
        raise UserInputError("The file is empty. Upload a CSV with a header row and one value per row.")
    if size > MAX_FILE_BYTES:
        raise UserInputError(f"The file is {size / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB. "
                             "Keep only the most recent rows (the model reads at most 2,048).")
    text, notes = _decode(path.read_bytes())
    if not text.strip():
        raise UserInputError("The file is empty. Upload a CSV with a header row and one value per row.")
    delimiter = _sniff_delimiter(text)
    frame = _read(text, delimiter, header=0)
    if np.isfinite(parse_numbers(pd.Series(frame.columns, dtype=str), delimiter)[0]).any():  # data, not names
        frame = _read(text, delimiter, header=None)
        frame.columns = [f"column {i + 1}" for i in range(frame.shape[1])]
        notes.append("The first line holds numbers, so the file was read as having no header row.")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("Unnamed:") and not frame[c].ne("").any()])
    if frame.empty:
        raise UserInputError(f"The file has column names ({', '.join(frame.columns)}) but no rows of data.")
    if delimiter != ",":
        notes.append(f"Read as {_DELIMITER_NAMES[delimiter]}-separated values.")
    return Table(frame, delimiter, tuple(notes))


def _decode(raw: bytes) -> tuple[str, list[str]]:
    """The file's text, in the encoding its byte-order mark names, else UTF-8, else Windows-1252."""
    bom, encoding = next(((b, e) for b, e in _BOMS if raw.startswith(b)), (b"", "utf-8"))
    # UTF-16 text is half NUL bytes, so only a file without a mark is judged binary by its bytes.
    if not bom and b"\x00" in raw[:8192]:
        _refuse_binary(raw)
    try:
        text = raw[len(bom):].decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":  # bytes that merely start like a mark (or a damaged file): not text
            _refuse_binary(raw)
        return raw[len(bom):].decode("cp1252", errors="replace"), [
            "The file is not UTF-8; it was read as Windows-1252 text."]
    if "\x00" in text[:8192]:  # decoded, but holds NUL characters: binary that started like a mark
        _refuse_binary(raw)
    return text, []


def _refuse_binary(raw: bytes) -> NoReturn:
    kind = next((k for magic, k in _BINARY_KINDS.items() if raw.startswith(magic)), "a binary file")
    raise UserInputError(f"This is not a CSV text file (it looks like {kind}). "
                         "Export the data as CSV (comma- or semicolon-separated text) and upload that.")


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (>= 2) of fields; "," if none."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:  # e.g. a field over csv's size limit: this delimiter does not fit
            continue
        if counts[0] < 2:
            continue
        score = (sum(c == counts[0] for c in counts) / len(counts), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read(text: str, delimiter: str, header) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=header, dtype=str,
                            keep_default_na=False, skipinitialspace=True, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise UserInputError("The file is empty. Upload a CSV with a header row and one value per row.") from None
    except (pd.errors.ParserError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise UserInputError(f"The file could not be read as CSV ({reason}). "
                             "Check that every row has as many fields as the header.") from exc
    # In a one-column file an empty line is an empty value (a gap); with more columns it is only
    # spacing. Empty lines at the end are always spacing.
    blank = frame.eq("").all(axis=1).to_numpy()  # skipinitialspace turned "  " into ""
    keep = ~blank if frame.shape[1] > 1 else np.arange(len(frame)) < len(frame) - np.argmin(blank[::-1])
    if blank.all():
        keep = np.zeros(len(frame), dtype=bool)
    return frame[keep].reset_index(drop=True)


def _number_share(cells: pd.Series) -> float:
    """Share of cells that are plain numbers (vectorised: files can have a million rows)."""
    return float(np.isfinite(pd.to_numeric(cells, errors="coerce")).mean()) if len(cells) else 0.0


def parse_numbers(cells: pd.Series, delimiter: str = ",") -> tuple[np.ndarray, str]:
    """Floats (NaN where a cell is not a number) and the decimal mark that read the most cells.

    Decimal comma wins when it reads more cells, or as many in a semicolon file (where "1.150" is
    the European way to write 1150, not 1.15).
    """
    text = cells.astype(str).str.strip()
    plain = pd.to_numeric(text, errors="coerce")
    if not text.str.contains(r"\d[, \u00a0\u202f']\d", regex=True).any():  # the usual case: no grouping, no comma
        return plain.where(np.isfinite(plain)).to_numpy(dtype="float64"), "."
    text = text.str.replace(r"(?<=\d)[ \u00a0\u202f'](?=\d{3})", "", regex=True)
    plain = pd.to_numeric(text, errors="coerce")
    us = pd.to_numeric(text.where(text.str.match(_US_GROUPED)).str.replace(",", ""), errors="coerce")
    dot = plain.fillna(us)
    eu_cells = text.where(text.str.match(_EU_NUMBER))
    comma = pd.to_numeric(eu_cells.str.replace(".", "").str.replace(",", "."), errors="coerce")
    comma = comma.fillna(plain.where(eu_cells.isna()))
    dot, comma = (s.where(np.isfinite(s)).to_numpy(dtype="float64") for s in (dot, comma))
    n_dot, n_comma = np.isfinite(dot).sum(), np.isfinite(comma).sum()
    if n_comma > n_dot or (n_comma == n_dot and delimiter == ";" and text.str.contains(",").any()):
        return comma, ","
    return dot, "."


def _to_datetime(text: pd.Series, **options) -> pd.Series:
    try:
        return pd.to_datetime(text, errors="coerce", **options)
    except ValueError:  # mixed UTC offsets (exports across a daylight-saving change): compare in UTC
        return pd.to_datetime(text, errors="coerce", utc=True, **options).dt.tz_convert(None)


def parse_times(cells: pd.Series) -> pd.Series:
    """Datetimes (NaT where unreadable): the format is guessed from the first cell, month-first and
    day-first; day-first wins only when it reads more cells (01.02.2024 stays ambiguous)."""
    text = cells.astype(str).str.strip()
    present = text[~text.str.lower().isin(MISSING)]
    if present.empty or _number_share(present) > 0.5:
        if _is_years(present):
            return pd.to_datetime(text, format="%Y", errors="coerce")
        return pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    candidates = []
    with warnings.catch_warnings():  # pandas warns about formats it has to guess; we choose ourselves
        warnings.simplefilter("ignore")
        formats = [pd.tseries.api.guess_datetime_format(present.iloc[0], dayfirst=d) for d in (False, True)]
        for fmt in dict.fromkeys(f for f in formats if f):
            if not candidates or candidates[-1].notna().sum() < len(present):
                candidates.append(_to_datetime(text, format=fmt))
        best = max(candidates, key=lambda parsed: parsed.notna().sum()) if candidates else None
        if best is None or best.notna().sum() < len(present):  # element by element: slow, so last
            candidates.append(_to_datetime(text, format="mixed"))
    best = max(candidates, key=lambda parsed: parsed.notna().sum())  # first of equals wins
    if getattr(best.dt, "tz", None) is not None:  # keep local wall-clock times, drop the offset
        best = best.dt.tz_localize(None)
    return best


def _is_years(present: pd.Series) -> bool:
    """Numbers read as dates only when they are distinct increasing four-digit years."""
    if present.empty or not present.str.fullmatch(r"\d{4}").all():
        return False
    years = present.astype(int)
    return bool(years.is_monotonic_increasing and years.is_unique)


def guess_columns(table: Table) -> Columns:
    """The first column of dates and the first other column that is mostly numbers. A column of
    numbers is taken for years only when its name says so ("year"): a value column of four-digit
    numbers that happens to grow must not be mistaken for time."""
    frame = table.frame.head(GUESS_ROWS)

    def is_time(column: str) -> bool:
        cells = frame[column]
        if _number_share(cells) > 0.5 and "year" not in column.lower():
            return False
        return parse_times(cells).notna().mean() >= 0.8

    time = next((c for c in frame.columns if is_time(c)), None)
    value = None
    for column in frame.columns:
        if column == time:
            continue
        present = frame[column][~frame[column].str.lower().isin(MISSING)]
        numbers, _ = parse_numbers(present, table.delimiter)
        if len(present) and np.isfinite(numbers).mean() >= 0.5:
            value = column
            break
    return Columns(tuple(frame.columns), value, time)


def inspect(path: str | Path) -> Columns:
    """The columns of a file and the guesses, for the UI's column pickers (prepare guesses the same)."""
    return guess_columns(read_table(path))


def choose_columns(table: Table, value_column: str | None = None,
                   time_column: str | None = None) -> tuple[str, str | None]:
    """The value and time columns to use: those named, else the guesses. A guessed time column that
    is the named value column is not used; NO_TIME means no time column."""
    frame = table.frame
    guess = guess_columns(table)
    value_column = _pick(value_column or guess.value, frame, "value")
    if value_column is None:
        raise UserInputError(f"No column of numbers found (columns: {', '.join(frame.columns)}). The file needs "
                             "one column of numbers, one value per row, and optionally a column of dates.")
    if time_column == NO_TIME:
        time_column = None
    elif time_column:
        time_column = _pick(time_column, frame, "time")
    elif guess.time != value_column:
        time_column = guess.time
    if time_column == value_column:
        raise UserInputError(f"'{value_column}' cannot be both the value and the time column.")
    return value_column, time_column


def _pick(name: str | None, frame: pd.DataFrame, role: str) -> str | None:
    if name is None or name in frame.columns:
        return name
    raise UserInputError(f"There is no column '{name}' to use as the {role} column. "
                         f"Columns in this file: {', '.join(frame.columns)}.")
