"""Views shared by the explainers and the tasks' "Look inside" blocks, drawn as plain HTML and SVG.

Each function takes plain Python values (lists of floats and strings, already rounded by the model
side) and returns an HTML string for a `gr.HTML`. No JavaScript: hover details are SVG `<title>`s
and `title=` attributes (which screen readers also read), and the head view's lines show on hover
through CSS alone. The browser gets only what it shows.

    heatmap(matrix, rows, cols)       a matrix as coloured cells (attention maps, positions, ...)
    head_grid(maps, tokens)           one small heatmap per head (the "model view")
    head_lines(weights, tokens)       one head as token-to-token lines (the "head view")
    token_strip(tokens)               text pieces coloured by a probability, alternatives on hover
    pieces(pieces)                    a tokenizer's pieces as coloured chips with their ids
    bars(rows)                        labelled horizontal bars (probabilities), optional markers
"""

from __future__ import annotations

import html
import math

CELL = 22  # px per heatmap cell at full size
LABEL_W = 90  # px reserved for row labels
PALETTE = ["#e0f2fe", "#fde68a", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa", "#c7d2fe", "#a7f3d0"]

CSS = """
<style>
:root { --pg-muted: #4b5563; --pg-accent: #4338ca; --pg-red: #b91c1c; --pg-amber: #b45309; --pg-green: #047857;
  --pg-blue: #1d4ed8; }
.dark { --pg-muted: #9ca3af; --pg-accent: #a5b4fc; --pg-red: #f87171; --pg-amber: #fbbf24; --pg-green: #34d399;
  --pg-blue: #60a5fa; }
.pg-view { font-family: var(--font-mono, ui-monospace, monospace); font-size: 12px; overflow-x: auto; }
.pg-view svg text { fill: var(--body-text-color, #111); }
.pg-lines g.pg-q line { opacity: 0.08; }
.pg-lines g.pg-q:hover line, .pg-lines g.pg-q:focus line { opacity: 1; }
.pg-lines g.pg-q:hover text, .pg-lines g.pg-q:focus text { font-weight: bold; }
.pg-chip { display: inline-block; margin: 2px 1px; padding: 1px 4px; border-radius: 4px; color: #111;
  border: 1px solid #0002; white-space: pre; }
.pg-chip sub { color: #333; font-size: 10px; margin-left: 3px; }
.pg-chip.pg-special { outline: 2px dashed #7c3aed; }
.pg-chip.pg-bytes { outline: 2px dotted #b45309; }
.pg-strip span { padding: 1px 0; border-radius: 3px; color: #111; white-space: pre-wrap; }
.pg-bar { display: grid; grid-template-columns: minmax(60px, 30%) 1fr 64px; align-items: center; gap: 6px; }
.pg-bar .pg-track { position: relative; height: 14px; background: #0000000d; border-radius: 3px; }
.pg-bar .pg-fill { height: 100%; background: #4f46e5; border-radius: 3px; }
.pg-bar.pg-cut .pg-fill { background: #9ca3af; }
.pg-bar .pg-label { overflow: hidden; text-overflow: ellipsis; white-space: pre; }
</style>
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def shown(token: str) -> str:
    """A token as a person can read it: spaces and newlines made visible."""
    return str(token).replace("\n", "⏎").replace("\t", "⇥") or "∅"


def color(value: float, low: float = 0.0, high: float = 1.0, diverging: bool = False) -> str:
    """A fill colour: white to indigo (or blue-white-red when diverging around 0)."""
    if diverging:
        span = max(abs(low), abs(high)) or 1.0
        t = max(-1.0, min(1.0, value / span))
        if t >= 0:
            return f"rgb(255,{round(255 - 170 * t)},{round(255 - 200 * t)})"
        return f"rgb({round(255 + 200 * t)},{round(255 + 120 * t)},255)"
    t = 0.0 if high == low else max(0.0, min(1.0, (value - low) / (high - low)))
    return f"rgb({round(255 - 176 * t)},{round(255 - 185 * t)},{round(255 - 26 * t)})"


def ink(fill: str) -> str:
    """The text colour for a `color()` fill: black or white, whichever contrasts more. Where they tie (relative
    luminance 0.179) both give 4.58:1, so every fill gets at least that (WCAG AA asks 4.5:1); #111 instead of
    black would leave mid-indigo fills at 4.3:1 whichever way the choice fell."""
    channels = [int(c) / 255 for c in fill[fill.index("(") + 1:fill.index(")")].split(",")]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return "#000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "#fff"


def heatmap(matrix: list[list[float | None]], rows: list[str], cols: list[str], title: str = "",
            cell: int = CELL, diverging: bool = False, low: float | None = None, high: float | None = None,
            digits: int = 3, labels: bool = True) -> str:
    """A matrix as an SVG of coloured cells; each cell's value in its tooltip. None is a masked cell
    (drawn hatched grey, "masked" in its tooltip)."""
    values = [v for row in matrix for v in row if v is not None and math.isfinite(v)]
    lo = min(values, default=0.0) if low is None else low
    hi = max(values, default=1.0) if high is None else high
    left = LABEL_W if labels else 0
    top = 70 if labels else 0
    width, height = left + cell * len(cols), top + cell * len(rows)
    parts = [f'<svg role="img" aria-label="{_e(title or "heatmap")}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    if labels:
        for j, label in enumerate(cols):
            x = left + j * cell + cell / 2
            parts.append(f'<text x="{x}" y="{top - 4}" transform="rotate(-60 {x} {top - 4})" font-size="11">'
                         f'{_e(shown(label))[:14]}</text>')
        for i, label in enumerate(rows):
            parts.append(f'<text x="{left - 4}" y="{top + i * cell + cell * 0.7}" text-anchor="end" '
                         f'font-size="11">{_e(shown(label))[:12]}</text>')
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            x, y = left + j * cell, top + i * cell
            where = f"{shown(rows[i]) if i < len(rows) else i} → {shown(cols[j]) if j < len(cols) else j}"
            if value is None or not math.isfinite(value):
                parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="#d1d5db" '
                             f'stroke="#fff"><title>{_e(where)}: masked</title></rect>')
                continue
            parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" '
                         f'fill="{color(value, lo, hi, diverging)}" stroke="#fff">'
                         f'<title>{_e(where)}: {value:.{digits}f}</title></rect>')
    parts.append("</svg>")
    caption = f"<div><b>{_e(title)}</b></div>" if title else ""
    return f'{CSS}<div class="pg-view">{caption}{"".join(parts)}</div>'


def head_grid(maps: list[list[list[float]]], tokens: list[str], columns: int = 4, title: str = "") -> str:
    """Every head of a layer as a small heatmap (BertViz's "model view"), numbered from 0."""
    cell = max(3, min(12, 240 // max(1, len(tokens))))
    items = [f'<div style="display:inline-block;margin:4px;vertical-align:top"><div>head {h}</div>'
             f'{heatmap(m, tokens, tokens, cell=cell, labels=False, low=0.0, high=1.0).replace(CSS, "")}</div>'
             for h, m in enumerate(maps)]
    caption = f"<div><b>{_e(title)}</b></div>" if title else ""
    grid = f'<div style="display:grid;grid-template-columns:repeat({columns}, max-content);gap:2px">'
    return f'{CSS}<div class="pg-view">{caption}{grid}{"".join(items)}</div></div>'


def head_lines(weights: list[list[float]], tokens: list[str], title: str = "", threshold: float = 0.02) -> str:
    """One head as lines from each query token (left) to the key tokens (right) it attends to, line
    opacity ~ weight; hovering (or focusing) a query token shows its lines at full strength."""
    row = 18
    width, height = 360, 24 + row * len(tokens)
    parts = [f'<svg class="pg-lines" role="img" aria-label="{_e(title or "attention lines")}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for j, token in enumerate(tokens):
        parts.append(f'<text x="{width - 110}" y="{20 + j * row + 4}" font-size="12">{_e(shown(token))[:14]}</text>')
    for i, token in enumerate(tokens):
        y1 = 20 + i * row
        lines = [f'<line x1="112" y1="{y1}" x2="{width - 114}" y2="{20 + j * row}" stroke="#4f46e5" '
                 f'stroke-width="{1 + 5 * w:.2f}" stroke-opacity="{min(1.0, w * 1.5):.3f}"/>'
                 for j, w in enumerate(weights[i]) if w >= threshold]
        top = sorted(range(len(weights[i])), key=lambda j: -weights[i][j])[:3]
        tip = ", ".join(f"{shown(tokens[j])} {weights[i][j]:.2f}" for j in top)
        parts.append(f'<g class="pg-q" tabindex="0"><title>{_e(shown(token))} attends to {_e(tip)}</title>'
                     f'<text x="108" y="{y1 + 4}" text-anchor="end" font-size="12">{_e(shown(token))[:14]}</text>'
                     f'{"".join(lines)}</g>')
    parts.append("</svg>")
    caption = f"<div><b>{_e(title)}</b> (hover a token on the left)</div>" if title else ""
    return f'{CSS}<div class="pg-view">{caption}{"".join(parts)}</div>'


def token_strip(tokens: list[tuple[str, float, list[tuple[str, float]]]], title: str = "") -> str:
    """Text pieces, each coloured by its probability (red: unlikely, green: likely); hovering one
    shows the probability and the top alternatives at that step."""
    spans = []
    for text, probability, alternatives in tokens:
        hue = round(120 * max(0.0, min(1.0, probability)))
        tip = f"p = {probability:.3f}" + "".join(f"\n{shown(a)}: {p:.3f}" for a, p in alternatives)
        spans.append(f'<span style="background:hsl({hue} 80% 80%)" title="{_e(tip)}">{_e(text)}</span>')
    caption = f"<div><b>{_e(title)}</b></div>" if title else ""
    return f'{CSS}<div class="pg-view pg-strip">{caption}{"".join(spans)}</div>'


def pieces(items: list[dict], title: str = "") -> str:
    """A tokenizer's pieces as chips: each dict has "piece", "id", and optional "special" / "bytes"
    (marked with a dashed / dotted outline) and "note" (added to the tooltip)."""
    chips = []
    for n, item in enumerate(items):
        classes = ("pg-chip" + (" pg-special" if item.get("special") else "")
                   + (" pg-bytes" if item.get("bytes") else ""))
        tip = f'id {item["id"]}' + (f' · {item["note"]}' if item.get("note") else "")
        chips.append(f'<span class="{classes}" style="background:{PALETTE[n % len(PALETTE)]}" title="{_e(tip)}">'
                     f'{_e(shown(item["piece"]))}<sub>{_e(item["id"])}</sub></span>')
    caption = f"<div><b>{_e(title)}</b></div>" if title else ""
    return f'{CSS}<div class="pg-view">{caption}{"".join(chips)}</div>'


def bars(rows: list[tuple[str, float]], title: str = "", cut: set[int] | None = None,
         markers: dict[int, str] | None = None, digits: int = 3) -> str:
    """Labelled bars of values in [0, 1] (probabilities). Rows whose index is in `cut` are greyed (cut
    off by top-k/top-p); `markers` puts a note after a row (e.g. "top-p reached here")."""
    cut, markers = cut or set(), markers or {}
    lines = []
    for i, (label, value) in enumerate(rows):
        width = max(0.0, min(1.0, value)) * 100
        lines.append(f'<div class="pg-bar{" pg-cut" if i in cut else ""}"><span class="pg-label" '
                     f'title="{_e(label)}">{_e(shown(label))}</span><span class="pg-track"><span class="pg-fill" '
                     f'style="display:block;width:{width:.1f}%"></span></span><span>{value:.{digits}f}</span></div>')
        if i in markers:
            lines.append(f'<div style="border-top:2px dashed var(--pg-red);margin:2px 0;color:var(--pg-red)">'
                         f'{_e(markers[i])}</div>')
    caption = f"<div><b>{_e(title)}</b></div>" if title else ""
    return f'{CSS}<div class="pg-view">{caption}{"".join(lines)}</div>'
