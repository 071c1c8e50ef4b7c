"""The program for a forecasting request: chronos-forecasting's BaseChronosPipeline (Chronos-Bolt), the
app's horizon and context, its quantile band, printed as the app's table."""

from __future__ import annotations

import textwrap

from pipelines.core import registry
from pipelines.reproduce import file_name, header, literal
from pipelines.tasks.forecasting import BAND

CLEANING = ("# The app also cleans a series (pipelines/readers/series.py): it reads ; or tab separated files and\n"
            "# decimal commas, sorts the rows by time, averages duplicate times, fills gaps inside the series by\n"
            "# linear interpolation and drops gaps at either end. A clean file needs none of it.")


def code(request, series: str | None = None) -> str:
    ckpt = registry.task("forecasting").checkpoint(request.model_id)
    history = request.history
    lines = [
        header(f"Forecasting with {ckpt.label}", "torch", "chronos-forecasting", "pandas"),
        "import numpy as np\nimport pandas as pd\nimport torch\nfrom chronos import BaseChronosPipeline\n",
        f"MODEL = {literal(request.model_id)}",
    ]
    if series:
        lines += [
            f"SERIES = {literal(file_name(series))}  # put your CSV file here (the app ran on this file)",
            f"VALUE_COLUMN = {literal(history.name)}",
            f"TIME_COLUMN = {literal(history.time_column)}" + ("" if history.time_column else "  # steps 1, 2, ..."),
        ]
    else:
        lines.append(f"VALUES = {_numbers([float(v) for v in history.values])}  # oldest first, evenly spaced")
    lines += [
        f"HORIZON = {request.horizon}  # steps ahead (Chronos-Bolt predicts 64 in one pass, then extends its own)",
        f"CONTEXT = {len(history.values)}  # the most recent points the model reads\n",
        "# As the app: a GPU if there is one (in bfloat16: T5 overflows in float16), else the CPU in float32.",
        'device = "cuda" if torch.cuda.is_available() else "cpu"',
        "dtype = torch.bfloat16 if device == \"cuda\" else torch.float32\n",
        "pipeline = BaseChronosPipeline.from_pretrained(MODEL, device_map=device, dtype=dtype)",
    ]
    if series:
        lines.append(CLEANING)
        if history.notes:  # this file needed some: say which, since the program reads it as it is
            said = "Yours did, so this program's numbers can differ: " + " ".join(history.notes)
            lines.append(textwrap.fill(said.replace("\n", " "), 110, initial_indent="# ", subsequent_indent="# "))
        lines += ["table = pd.read_csv(SERIES)",
                  "values = table[VALUE_COLUMN].to_numpy(dtype=float)[-CONTEXT:]"]
    else:
        lines.append("values = np.array(VALUES)[-CONTEXT:]")
    lines += [
        "levels = [float(q) for q in pipeline.quantiles]  # the quantiles it predicts: 0.1, 0.2, ..., 0.9",
        "quantiles, _mean = pipeline.predict_quantiles(torch.tensor(values, dtype=torch.float32),",
        "                                              prediction_length=HORIZON, quantile_levels=levels,",
        "                                              limit_prediction_length=False)",
        "# Nothing makes the nine outputs come in order, so they can cross: like the app, sort each step's.",
        'q = np.sort(quantiles[0].float().numpy().astype("float64"), axis=-1)',
        "low, median, high = (q[:, levels.index(level)] for level in " + literal(BAND) + ")",
    ]
    if series and history.freq and history.time_column:
        lines += [
            f"# The forecast's dates follow the last one, at the series' spacing ({literal(history.freq)} in pandas).",
            "last = pd.to_datetime(table[TIME_COLUMN]).iloc[-1]",
            f"future = pd.date_range(last, periods=HORIZON + 1, freq={literal(history.freq)})[1:]",
            'times = future.strftime("%Y-%m-%d" if (future == future.normalize()).all() else "%Y-%m-%d %H:%M:%S")',
        ]
    else:
        lines.append("times = range(1, HORIZON + 1)  # no regular dates: the steps are numbered")
    lines += [
        "# As the app's table: the 80% band (q10 to q90) around the median, 6 significant digits.",
        'print("time  q10  median  q90")',
        "for time, lo, mid, hi in zip(times, low, median, high):",
        '    print(f"{time}  {lo:.6g}  {mid:.6g}  {hi:.6g}")',
    ]
    return "\n".join(lines) + "\n"


def _numbers(values: list[float], per_line: int = 10) -> str:
    """A list of numbers, ten to a line when it is long."""
    if len(values) <= per_line:
        return literal(values)
    rows = [", ".join(literal(v) for v in values[i:i + per_line]) for i in range(0, len(values), per_line)]
    return "[\n" + "".join(f"    {row},\n" for row in rows) + "]"
