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
WIDTH = 448  # px a matrix aims at: the encoding and its similarity side by side fit an 800 px iframe
# Views shrink to a narrow screen (a phone) instead of scrolling sideways; SVGs keep their aspect ratio.
FIT = "<style>.pg-positions svg, .pg-positions img { max-width: 100%; height: auto; }</style>"


def matrix(values: list[list[float]], title: str, rows: str, cols: str, low: float = -1.0,
           high: float = 1.0, width: int = WIDTH, diverging: bool = True) -> str:
    """A matrix coloured blue (low) - white (0) - red (high), or white (low) to indigo (high) when not
    `diverging` (for values of one sign: more contrast); `rows` and `cols` name its axes."""
    n_rows, n_cols = len(values), len(values[0]) if values else 0
    scale_words = (f'<span style="color:var(--pg-blue)">blue {low:.3g}</span> · white 0 · '
                   f'<span style="color:var(--pg-red)">red {high:.3g}</span>' if diverging else
                   f'white {low:.3g} → <span style="color:var(--pg-accent)">indigo {high:.3g}</span>')
    legend = (f'<div style="font-size:11px">↓ {_e(rows)} 0–{n_rows - 1} · → {_e(cols)} 0–{n_cols - 1} · '
              f'{scale_words}</div>')
    if n_rows * n_cols <= SVG_CELLS:
        cell = max(4, min(22, width // max(1, n_cols)))
        drawn = views.heatmap(values, [f"{rows} {i}" for i in range(n_rows)], [str(j) for j in range(n_cols)],
                              title=title, cell=cell, diverging=diverging, low=low, high=high, labels=False, digits=4)
        drawn = drawn.replace("</b></div>", "</b></div>" + legend, 1)  # the legend under the title
        return _boxed(drawn, cell * n_cols)
    scale = max(1, width // n_cols)
    tall = max(1, min(scale * 2, width // n_rows))  # a wide, short matrix may use taller cells than wide ones
    shown_width = max(width, n_cols * scale)  # a small picture is scaled up (without smoothing)
    png = _png(values, low, high, scale, tall, diverging)
    return _boxed(f'{views.CSS}<div class="pg-view"><div><b>{_e(title)}</b></div>{legend}'
                  f'<img alt="{_e(title)}" src="data:image/png;base64,{png}" style="width:{shown_width}px;'
                  f'image-rendering:pixelated;border:1px solid #0002"></div>', shown_width)


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
    return (f'{FIT}<div class="pg-positions" style="display:flex;flex-wrap:wrap;gap:12px;'
            f'align-items:flex-start">{cells}</div>')


def _boxed(view: str, width: int) -> str:
    """A view no wider than its picture: its title and legend wrap instead of widening it."""
    return f'<div style="width:{max(160, width)}px;max-width:100%">{view}</div>'


def _png(values: list[list[float]], low: float, high: float, scale_x: int, scale_y: int, diverging: bool) -> str:
    """The matrix as a PNG in ui.views' colours (`views.color`), each value a scale_x x scale_y block."""
    import numpy as np
    from PIL import Image

    data = np.asarray(values, dtype=np.float64)
    if diverging:
        t = np.clip(data / (max(abs(low), abs(high)) or 1.0), -1.0, 1.0)
        pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)  # white to red above 0, white to blue below
        channels = [255 - 200 * neg, 255 - 170 * pos - 120 * neg, 255 - 200 * pos]
    else:
        t = np.clip((data - low) / ((high - low) or 1.0), 0.0, 1.0)  # white to indigo
        channels = [255 - 176 * t, 255 - 185 * t, 255 - 26 * t]
    rgb = np.stack(channels, axis=-1).round().astype(np.uint8)
    rgb = np.repeat(np.repeat(rgb, scale_y, axis=0), scale_x, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(text) -> str:
    return html.escape(str(text), quote=True)
