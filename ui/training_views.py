"""Views of the training and fine-tuning pages, as plain HTML and SVG (like ui/views.py, which has none of these):

    loss_bars(result)           each token's teacher-forced loss as a bar, its probability and the model's
                                own guess on hover; the first departure marked
    free_run(result)            the text beside the model running free from where it first departs
    line_chart(series, ...)     lines over steps or epochs (the warm-up schedule, loss and accuracy curves)

Each takes the endpoint's JSON (already rounded on the model side) and returns an HTML string. Charts scale
to their box (viewBox, width 100 %), so they fit an 800 px iframe and a 390 px phone alike.
"""

from __future__ import annotations

import html

from ui.views import CSS, shown

# Theme-aware (ui/views.CSS): the legend writes each series' name in its colour, so each passes 4.5:1 as text
# in light and dark; used through style= (CSS variables do not resolve in SVG presentation attributes).
COLORS = ("var(--pg-accent)", "var(--pg-red)", "var(--pg-green)", "var(--pg-amber)")
STYLE = """
<style>
.pg-loss { display: grid; grid-template-columns: minmax(48px, 22%) 1fr 52px; gap: 2px 6px; align-items: center; }
.pg-loss .pg-track { height: 12px; background: #0000000d; border-radius: 3px; }
.pg-loss .pg-fill { display: block; height: 100%; border-radius: 3px; }
.pg-loss .pg-label { overflow: hidden; text-overflow: ellipsis; white-space: pre; }
.pg-loss .pg-departs { color: var(--pg-red); font-weight: bold; }
.pg-run { line-height: 1.9; white-space: pre-wrap; }
.pg-run .pg-same { color: var(--pg-muted); }
.pg-run .pg-text { background: #dcfce7; border-radius: 3px; color: #111; }
.pg-run .pg-free { background: #fee2e2; border-radius: 3px; color: #111; }
.pg-chart svg { width: 100%; height: auto; max-width: 640px; }
</style>
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def loss_bars(result: dict) -> str:
    """One row per token: the token, a bar as long as its loss (the longest loss fills the row), the loss."""
    losses = [v for v in result["losses"] if v is not None]
    top = max(losses, default=1.0) or 1.0
    departure = (result.get("departure") or {}).get("position")
    rows = []
    for i, token in enumerate(result["tokens"]):
        loss = result["losses"][i]
        if loss is None:
            rows.append(f'<span class="pg-label" title="nothing before it to predict it from">{_e(shown(token))}'
                        f'</span><span class="pg-track"></span><span>–</span>')
            continue
        tip = (f"p = {result['probabilities'][i]:.4f} (rank {result['ranks'][i]}) · the model's top guess: "
               f"{shown(result['expected'][i])} ({result['expected_probabilities'][i]:.3f})")
        hue = round(120 * result["probabilities"][i])  # red: unlikely, green: likely (as the token strip)
        mark = ' class="pg-label pg-departs"' if i == departure else ' class="pg-label"'
        rows.append(f'<span{mark} title="{_e(tip)}">{_e(shown(token))}</span><span class="pg-track" title="{_e(tip)}">'
                    f'<span class="pg-fill" style="width:{100 * loss / top:.1f}%;background:hsl({hue} 70% 45%)">'
                    f'</span></span><span>{loss:.2f}</span>')
    caption = (f"<div><b>Loss per token</b> = −log p(correct token) · mean {result['mean_loss']:.3f} · "
               f"perplexity {result['perplexity']:.2f}</div>")
    return f'{CSS}{STYLE}<div class="pg-view">{caption}<div class="pg-loss">{"".join(rows)}</div></div>'


def free_run(result: dict) -> str:
    """The text, and the model running free: their shared beginning once, then each one's own words."""
    departure = result.get("departure")
    note = f'<div style="margin-top:4px">{_e(result.get("free_run_note", ""))}</div>'
    if departure is None:
        return f'{CSS}{STYLE}<div class="pg-view pg-run">{_e("".join(result["tokens"]))}{note}</div>'
    same = "".join(result["tokens"][:departure["position"]])
    text = "".join(result["text_after"])
    free = "".join(result["free_run"])
    return (f'{CSS}{STYLE}<div class="pg-view pg-run"><div><b>Text:</b> <span class="pg-same">{_e(same)}</span>'
            f'<span class="pg-text">{_e(text)}</span></div><div><b>Running free:</b> <span class="pg-same">'
            f'{_e(same)}</span><span class="pg-free">{_e(free)}</span></div>{note}</div>')


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def _fmt(value: float) -> str:
    """A tick label, short: 20,000 · 0.75 · 5.2e-04 (a learning rate)."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) < 0.01:
        return f"{value:.1e}"
    return f"{value:.3g}"


def line_chart(series: list[tuple[str, list[float], list[float | None]]], x_label: str, y_label: str,
               title: str = "", y_range: tuple[float, float] | None = None, guide: tuple[float, str] | None = None,
               mark: tuple[float, str] | None = None, dots: bool = False,
               x_range: tuple[float, float] | None = None, width: int = 560, height: int = 250) -> str:
    """Lines (name, xs, ys) on shared axes; None breaks a line. `guide`: a dashed horizontal line at y with
    a label (a baseline); `mark`: a dashed vertical line at x with a label (the peak, the kept epoch);
    `x_range`: fixed x limits (a training's epochs, so the axis does not move while they arrive). `width` and
    `height` are the drawing's own units: the chart scales to its box, so a narrower drawing keeps its
    text readable in a narrow box (two charts side by side)."""
    left, right, top, bottom = 54, 14, 30, 36
    xs = [x for _, sx, _ in series for x in sx]
    ys = [y for _, _, sy in series for y in sy if y is not None] + ([guide[0]] if guide else [])
    x0, x1 = x_range or (min(xs, default=0), max(xs, default=1))
    y0, y1 = y_range or (min(0.0, min(ys, default=0.0)), max(ys, default=1.0) * 1.08 or 1.0)
    x1 = x1 if x1 > x0 else x0 + 1

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def py(y: float) -> float:
        return top + (1 - (y - y0) / ((y1 - y0) or 1.0)) * (height - top - bottom)

    parts = [f'<svg role="img" aria-label="{_e(title or y_label)}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="12">']
    for y in _ticks(y0, y1):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#0001"/>'
                     f'<text x="{left - 4}" y="{py(y) + 4:.1f}" text-anchor="end">{_fmt(y)}</text>')
    whole = all(float(x).is_integer() for x in [*xs, x0, x1]) and x1 - x0 <= 40
    every = -(-int(x1 - x0) // 10) or 1  # whole ticks (epochs): at most about 10 labels
    for x in (range(int(x0), int(x1) + 1, every) if whole else _ticks(x0, x1)):
        parts.append(f'<text x="{px(x):.1f}" y="{height - bottom + 14}" text-anchor="middle">{_fmt(x)}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 4}" text-anchor="middle">{_e(x_label)}</text>'
                 f'<text x="4" y="{top - 16}">{_e(y_label)}</text>')
    if guide:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(guide[0]):.1f}" y2="{py(guide[0]):.1f}" '
                     f'stroke="#6b7280" stroke-dasharray="4 3"/><text x="{left + 4}" '
                     f'y="{py(guide[0]) + 14:.1f}" fill="#6b7280">{_e(guide[1])}</text>')
    if mark:
        parts.append(f'<line x1="{px(mark[0]):.1f}" x2="{px(mark[0]):.1f}" y1="{top}" y2="{height - bottom}" '
                     f'stroke="#059669" stroke-dasharray="4 3"/><text x="{px(mark[0]) + 4:.1f}" y="{top + 10}" '
                     f'fill="#059669">{_e(mark[1])}</text>')
    legend = []
    for n, (name, sx, sy) in enumerate(series):
        color = COLORS[n % len(COLORS)]
        points = [(px(x), py(y)) for x, y in zip(sx, sy) if y is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" style="stroke:{color}" stroke-width="2"/>')
            if dots:
                parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" style="fill:{color}"/>' for x, y in points)
        legend.append(f'<tspan style="fill:{color}">■ {_e(name)}</tspan>')
    if len(legend) > 1:  # one line needs no legend: the axis names it
        parts.append(f'<text x="{width - right}" y="{top - 16}" text-anchor="end">{"  ".join(legend)}</text>')
    parts.append("</svg>")
    caption = f"<div><b>{_e(title)}</b></div>" if title else ""
    return f'{CSS}{STYLE}<div class="pg-view pg-chart">{caption}{"".join(parts)}</div>'
