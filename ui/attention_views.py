"""The attention lab's own views (ui/views.py has the shared ones): the worked example's steps as tables
with every number visible, and the neuron view of one query/key pair. Plain HTML, no JavaScript; the
inputs are the plain values the model side returned (pipelines/explainers/attention*.py)."""

from __future__ import annotations

import base64
import html
import io

from ui.views import CSS, bars, color, ink, shown

BAR_KEYS = 12  # keys shown in the neuron view's softmax row (plus the chosen key)
MASKED_GREY = (209, 213, 219)  # the shared heatmap's colour for a masked cell (#d1d5db)

STYLE = """
<style>
.pg-steps { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: flex-start; }
.pg-step { max-width: 100%; overflow-x: auto; }
.pg-step p { margin: 2px 0 4px; max-width: 360px; font-family: var(--font, sans-serif); }
.pg-mat { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.pg-mat td, .pg-mat th { border: 1px solid #0001; padding: 2px 5px; text-align: right; color: #111; }
.pg-mat th { background: #f3f4f6; font-weight: normal; }
.pg-mat td.pg-masked { background: repeating-linear-gradient(45deg, #e5e7eb 0 4px, #d1d5db 4px 8px); }
.pg-mat td.pg-sum { background: #f3f4f6; font-weight: bold; }
.pg-heads { display: flex; flex-wrap: wrap; gap: 8px; }
.pg-heads figure { margin: 0; }
.pg-heads img { width: 150px; height: 150px; image-rendering: pixelated; border: 1px solid #0002; }
.pg-neurons { max-height: 300px; overflow-y: auto; display: inline-block; }
</style>
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def matrix_table(matrix: list[list[float | None]], rows: list[str], cols: list[str], title: str = "",
                 note: str = "", sums: list[float] | None = None, diverging: bool = False) -> str:
    """A matrix as a table of its numbers, each cell tinted by its value; None is a masked cell (−∞)."""
    values = [v for row in matrix for v in row if v is not None]
    low, high = min(values, default=0.0), max(values, default=1.0)
    head = "".join(f"<th>{_e(shown(c))}</th>" for c in cols) + ("<th>row sum</th>" if sums is not None else "")
    body = []
    for i, row in enumerate(matrix):
        cells = []
        for value in row:
            if value is None:
                cells.append('<td class="pg-masked" title="masked: −∞ before the softmax">−∞</td>')
            else:
                tint = color(value, low, high, diverging)
                text = ink(tint)
                cells.append(f'<td style="background:{tint};color:{text}">{value:g}</td>')
        if sums is not None:
            cells.append(f'<td class="pg-sum">{sums[i]:g}</td>')
        body.append(f"<tr><th>{_e(shown(rows[i]))}</th>{''.join(cells)}</tr>")
    caption = f"<div><b>{_e(title)}</b></div>" if title else ""
    text = f"<p>{_e(note)}</p>" if note else ""
    return (f'<div class="pg-step">{caption}{text}<table class="pg-mat"><tr><th></th>{head}</tr>'
            f'{"".join(body)}</table></div>')


def example_steps(result: dict, tokens: list[str] | None = None) -> str:
    """Every step of the worked example (pipelines/explainers/attention_math.py), numbered as computed."""
    n_q, n_k = result["shapes"]["Q"][0], result["shapes"]["K"][0]
    queries = list(tokens) if tokens and len(tokens) == n_q else [f"q{i + 1}" for i in range(n_q)]
    keys = list(tokens) if tokens and len(tokens) == n_k else [f"k{j + 1}" for j in range(n_k)]
    dims = [f"d{c + 1}" for c in range(result["d_v"])]
    if result["scale"]:
        scaling = (f"Divide by √d_k = √{result['d_k']} = {result['sqrt_d_k']:g}, so that long vectors do not "
                   "push the softmax to all-or-nothing.")
    else:
        scaling = "Not scaled: the scores go to the softmax as they are (tick the box to divide by √d_k)."
    steps = [
        matrix_table(result["scores"], queries, keys, "1. Scores Q·Kᵀ",
                     "Each query's dot product with each key.", diverging=True),
        matrix_table(result["scaled"], queries, keys, "2. Scaled", scaling, diverging=True),
    ]
    if result["causal"]:
        steps.append(matrix_table(result["masked"], queries, keys, "3. Causal mask",
                                  "A token may not look ahead: later keys become −∞.", diverging=True))
    n = len(steps) + 1
    steps.append(matrix_table(result["weights"], queries, keys, f"{n}. Softmax of each row",
                              "exp(x − row max) / sum: weights from 0 to 1; each row sums to 1.",
                              sums=result["row_sums"]))
    steps.append(matrix_table(result["output"], queries, dims, f"{n + 1}. Output = weights × V",
                              "Each row: the values mixed by that row's weights."))
    return f'{CSS}{STYLE}<div class="pg-view pg-steps">{"".join(steps)}</div>'


def neuron_view(result: dict) -> str:
    """One query/key pair of one head: q and k element by element, products, sum, scale, softmax weight."""
    q, k, products = result["q"], result["k"], result["products"]
    span = max((abs(x) for x in (*q, *k)), default=1.0) or 1.0
    pspan = max((abs(x) for x in products), default=1.0) or 1.0
    rows = "".join(
        f"<tr><th>{i}</th><td style='background:{color(a, -span, span, True)}'>{a:g}</td>"
        f"<td style='background:{color(b, -span, span, True)}'>{b:g}</td>"
        f"<td style='background:{color(p, -pspan, pspan, True)}'>{p:g}</td></tr>"
        for i, (a, b, p) in enumerate(zip(q, k, products)))
    rotary = " (after the rotary position rotation)" if result.get("rotary") else ""
    table = (f'<div class="pg-neurons"><table class="pg-mat"><tr><th>i</th><th>q[i]</th><th>k[i]</th>'
             f"<th>q[i]×k[i]</th></tr>{rows}</table></div>")
    query, key = shown(result["query_token"]), shown(result["key_token"])
    arithmetic = (f"<p>sum of the {result['d_k']} products = <b>{result['sum']:g}</b><br>"
                  f"× scale 1/√d_k = {result['scale']:g} → <b>{result['scaled']:g}</b><br>")
    if result["masked"]:
        arithmetic += "masked: a key after the query gets −∞, so its weight is <b>0</b></p>"
    else:
        arithmetic += f"softmax over the query's row → weight <b>{result['weight']:g}</b></p>"
    check = "✓ equals" if result["matches_model"] else "✗ differs from"
    arithmetic += f"<p>{check} the model's own weight {result['model_weight']:g}.</p>"
    tokens, row = result["tokens"], result["row_weights"]
    # A long row shows its strongest keys (and the chosen one), in text order: 128 bars would bury the pair.
    keys = sorted(set(sorted(range(len(row)), key=lambda j: -row[j])[:BAR_KEYS]) | {result["key"]})
    shown_keys = "every key" if len(keys) == len(row) else f"its {len(keys)} strongest keys of {len(row)}"
    weights = bars([(f"{j} {shown(tokens[j])}", row[j]) for j in keys],
                   title=f"Softmax of query {result['query']} '{query}': {shown_keys}", markers={
                       keys.index(result["key"]): f"↑ key {result['key']} '{key}': {result['weight']:g}"})
    title = (f"<div><b>Layer {result['layer']}, head {result['head']} (key/value head {result['kv_head']}): "
             f"query {result['query']} '{_e(query)}' · key {result['key']} '{_e(key)}'{rotary}</b></div>")
    return (f'{CSS}{STYLE}<div class="pg-view">{title}<div class="pg-steps">{table}'
            f'<div class="pg-step">{arithmetic}</div><div class="pg-step" style="min-width:260px">'
            f'{weights.replace(CSS, "")}</div></div></div>')


def head_images(maps: list[list[list[float | None]]], tokens: list[str], title: str = "") -> str:
    """Every head of a layer as one small picture each (the model view for long texts): one pixel per
    query/key cell, white to indigo for weights 0 to 1, grey where masked. ui.views.head_grid draws an SVG
    cell with a tooltip per weight, about 110 bytes each: 12 heads of 64 tokens would be 5 MB of page, so
    past a few dozen tokens the cells become pixels of a PNG (a few kB per head) and the tooltip names
    each head's strongest link instead."""
    from PIL import Image  # here: the page module is imported at start-up without it

    palette = [channel for i in range(255) for channel in _rgb(color(i / 254))] + list(MASKED_GREY)
    figures = []
    for h, matrix in enumerate(maps):
        size = len(matrix)
        # Each head on its own scale (0 to its largest weight): over 64 keys most weights are small, and on a
        # fixed 0-1 scale a head that spreads its attention would be a white square.
        top = max((w for row in matrix for w in row if w is not None), default=1.0) or 1.0
        pixels = bytes(255 if w is None else round(max(0.0, min(1.0, w / top)) * 254) for row in matrix for w in row)
        image = Image.frombytes("P", (size, size), pixels)
        image.putpalette(palette)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        picture = base64.b64encode(buffer.getvalue()).decode("ascii")
        i, j = max(((i, j) for i in range(size) for j in range(size) if matrix[i][j] is not None),
                   key=lambda ij: matrix[ij[0]][ij[1]])
        tip = f"head {h}: strongest {shown(tokens[i])} → {shown(tokens[j])} ({matrix[i][j]:.2f})"
        figures.append(f'<figure title="{_e(tip)}"><figcaption>head {h}</figcaption>'
                       f'<img alt="{_e(tip)}" src="data:image/png;base64,{picture}"></figure>')
    caption = (f"<div><b>{_e(title)}</b> (rows: queries, columns: keys; darker: more weight, each head from 0 "
               "to its own largest weight; grey: masked)</div>") if title else ""
    return f'{CSS}{STYLE}<div class="pg-view">{caption}<div class="pg-heads">{"".join(figures)}</div></div>'


def _rgb(css: str) -> tuple[int, int, int]:
    """"rgb(1,2,3)" (ui.views.color's format) as a tuple."""
    return tuple(int(part) for part in css[css.index("(") + 1:-1].split(","))
