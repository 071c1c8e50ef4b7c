"""Views of the Positions page that ui/views.py does not have: a matrix too large for one SVG cell per
value, and a curve of a value against the offset between two positions.

    matrix(values, title, rows, cols)   small: ui.views.heatmap (a tooltip per cell); large: one PNG
    offset_curve(values, title)         an SVG line of values[offset] for offset 0, 1, ...

A 128 x 512 encoding is 65,536 cells: as SVG rectangles with tooltips that is megabytes of markup the
browser must lay out; as a PNG (one pixel per value, scaled up without smoothing) it is a few kilobytes.
The exact numbers stay in the page's JSON ("The numbers").
"""

from __future__ import annotations

import base64
import html
import io

from ui import views

SVG_CELLS = 1024  # up to 32 x 32 values: SVG cells with tooltips; above: a picture
WIDTH = 560  # px the picture of a matrix aims at (fits an 800 px iframe beside nothing)


def matrix(values: list[list[float]], title: str, rows: str, cols: str, low: float = -1.0,
           high: float = 1.0, width: int = WIDTH) -> str:
    """A matrix coloured blue (low) - white (0) - red (high); `rows` and `cols` name its axes."""
    n_rows, n_cols = len(values), len(values[0]) if values else 0
    legend = (f'<div style="font-size:11px">rows: {_e(rows)} 0-{n_rows - 1} (top to bottom) · columns: {_e(cols)} '
              f'0-{n_cols - 1} · <span style="color:#2563eb">blue {low:g}</span> · white 0 · '
              f'<span style="color:#dc2626">red {high:g}</span></div>')
    if n_rows * n_cols <= SVG_CELLS:
        cell = max(6, min(22, (width - views.LABEL_W) // max(1, n_cols)))
        labels = [str(i) for i in range(max(n_rows, n_cols))]
        drawn = views.heatmap(values, [f"{rows} {i}" for i in range(n_rows)], labels[:n_cols], title=title,
                              cell=cell, diverging=True, low=low, high=high, labels=cell >= 12)
        return drawn.replace('<div class="pg-view">', f'<div class="pg-view">{legend}', 1)
    scale = max(1, width // n_cols)
    tall = max(1, min(scale * 2, width // n_rows))  # a wide, short matrix may use taller cells than wide ones
    png = _png(values, low, high, scale, tall)
    return (f'{views.CSS}<div class="pg-view"><div><b>{_e(title)}</b></div>{legend}'
            f'<img alt="{_e(title)}" src="data:image/png;base64,{png}" '
            f'style="max-width:100%;height:auto;image-rendering:pixelated;border:1px solid #0002"></div>')


def offset_curve(values: list[float], title: str, ylabel: str, width: int = 360, height: int = 150) -> str:
    """values[offset] against offset = 0, 1, ... as a line with dots, a zero line and the end values."""
    if not values:
        return ""
    left, top, right, bottom = 44, 10, 10, 26
    lo, hi = min(0.0, *values), max(0.0, *values)
    span = (hi - lo) or 1.0
    step = (width - left - right) / max(1, len(values) - 1)

    def xy(i, v):
        return left + i * step, top + (hi - v) / span * (height - top - bottom)

    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values)))
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#4f46e5"><title>offset {i}: {v:.4f}</title>'
                   f'</circle>' for i, v in enumerate(values) for x, y in [xy(i, v)])
    zero = xy(0, 0.0)[1]
    parts = [f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{left}" y1="{zero:.1f}" x2="{width - right}" y2="{zero:.1f}" stroke="#9ca3af"/>',
             f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="10">{hi:.2f}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" font-size="10">{lo:.2f}</text>',
             f'<text x="{left}" y="{height - 8}" font-size="10">0</text>',
             f'<text x="{width - right}" y="{height - 8}" text-anchor="end" font-size="10">'
             f'offset {len(values) - 1}</text>',
             f'<polyline points="{points}" fill="none" stroke="#4f46e5" stroke-width="1.5"/>', dots, "</svg>"]
    return (f'{views.CSS}<div class="pg-view"><div><b>{_e(title)}</b></div>'
            f'<div style="font-size:11px">{_e(ylabel)}</div>{"".join(parts)}</div>')


def side_by_side(*blocks: str) -> str:
    """Views in a row that wraps on a narrow screen."""
    cells = "".join(f'<div style="flex:0 1 auto;min-width:0">{b}</div>' for b in blocks if b)
    return f'<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">{cells}</div>'


def _png(values: list[list[float]], low: float, high: float, scale_x: int, scale_y: int) -> str:
    """The matrix as a PNG in ui.views' diverging colours, each value a scale_x x scale_y block."""
    import numpy as np
    from PIL import Image

    data = np.asarray(values, dtype=np.float64)
    t = np.clip(data / (max(abs(low), abs(high)) or 1.0), -1.0, 1.0)
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)  # the same ramps as ui.views.color(diverging=True)
    red = 255 - 200 * neg
    green = 255 - 170 * pos - 120 * neg
    blue = 255 - 200 * pos
    rgb = np.stack([red, green, blue], axis=-1).round().astype(np.uint8)
    rgb = np.repeat(np.repeat(rgb, scale_y, axis=0), scale_x, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(text) -> str:
    return html.escape(str(text), quote=True)
