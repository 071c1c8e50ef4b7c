"""Views of the Build a Transformer page: small SVG line charts of a training run, the probe's
cross-attention (ui.views.heatmap), sample reversals, and a typed sentence's reversal.

Plain HTML and SVG from the pipeline's rounded values, no JavaScript: values show in tooltips.
"""

from __future__ import annotations

import html
import math

from ui.views import CSS, heatmap

CHART_W, CHART_H = 190, 118
PAD_L, PAD_R, PAD_T, PAD_B = 40, 8, 18, 18
ATTENTION_NOTE = ("Rows: the word being written; columns: the sentence's words. Reversal shows as the "
                  "anti-diagonal. Attention shows where the model reads, not why: it is no explanation by itself.")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: float) -> str:
    return f"{value:.1e}" if value and (abs(value) < 0.001 or abs(value) >= 10000) else f"{value:.3g}"


def line_chart(xs: list, ys: list, title: str, color: str = "#4f46e5", log: bool = False,
               threshold: float | None = None, low: float | None = None, high: float | None = None,
               x_max: float | None = None) -> str:
    """One series as an SVG polyline; None values (a loss that blew up) are gaps. `threshold` draws a
    dashed red line (the clipping norm); `log` uses a logarithmic y axis."""
    points = [(x, y) for x, y in zip(xs, ys) if y is not None and (y > 0 or not log)]
    values = [y for _, y in points] + ([threshold] if threshold else [])
    lo = low if low is not None else min(values, default=0.0)
    hi = high if high is not None else max(values, default=1.0)
    if log:
        lo, hi = math.log10(max(lo, 1e-12)), math.log10(max(hi, 1e-12))
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    x_hi = max(x_max or 0, max((x for x, _ in points), default=1), 1)
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def at(x, y):
        v = math.log10(y) if log else y
        return PAD_L + plot_w * x / x_hi, PAD_T + plot_h * (1 - (v - lo) / (hi - lo))

    # Scales with its column (viewBox), so that two charts side by side fit a phone too.
    parts = [f'<svg role="img" aria-label="{_e(title)}" style="width:100%;height:auto;max-width:{CHART_W}px" '
             f'viewBox="0 0 {CHART_W} {CHART_H}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{PAD_L}" y="12" font-size="11" font-weight="bold">{_e(title)}</text>',
             f'<rect x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#9ca3af"/>']
    top, bottom = (10 ** hi, 10 ** lo) if log else (hi, lo)
    parts.append(f'<text x="{PAD_L - 3}" y="{PAD_T + 8}" font-size="9" text-anchor="end">{_fmt(top)}</text>')
    parts.append(f'<text x="{PAD_L - 3}" y="{PAD_T + plot_h}" font-size="9" text-anchor="end">{_fmt(bottom)}</text>')
    parts.append(f'<text x="{PAD_L + plot_w}" y="{CHART_H - 4}" font-size="9" text-anchor="end">'
                 f'step {x_hi:,.0f}</text>')
    if threshold:
        _, y = at(0, threshold)
        parts.append(f'<line x1="{PAD_L}" x2="{PAD_L + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dc2626" '
                     f'stroke-dasharray="4 3"><title>clipping threshold {threshold:g}</title></line>')
    segments, current = [], []
    for x, y in zip(xs, ys):
        if y is None or (log and y <= 0):
            segments, current = segments + [current] if current else segments, []
            continue
        current.append(at(x, y))
    segments += [current] if current else []
    for segment in segments:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.5"/>')
    if points:
        x, y = points[-1]
        cx, cy = at(x, y)
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.5" fill="{color}"><title>step {x}: {y:g}</title>'
                     '</circle>')
    parts.append("</svg>")
    return "".join(parts)


def training_view(update: dict) -> str:
    """Everything a training update shows: four curves, the probe's cross-attention, sample reversals."""
    if update.get("status") in ("waiting", "stopped"):
        return f"{CSS}<div class='pg-view'>{_e(update.get('message', ''))}</div>"
    curves, evals, steps = update["curves"], update["evals"], max(1, update["step"])  # x axis: the steps so far
    charts = [
        line_chart(curves["step"], curves["loss"], "Loss (log scale)", log=True, x_max=steps),
        line_chart(curves["step"], curves["lr"], "Learning rate applied", "#0891b2", low=0, x_max=steps),
        line_chart(curves["step"], curves["grad_norm"], "Gradient norm, unclipped", "#b45309", log=True,
                   threshold=update["clip"], x_max=steps),
        line_chart(evals["step"], [100 * v for v in evals["exact_match"]], "Held-out exact match %", "#15803d",
                   low=0, high=100, x_max=steps),
    ]
    grid = ('<div style="display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:4px;'
            f'width:min(100%,{2 * CHART_W + 4}px)">' + "".join(charts) + "</div>")
    probe = update["probe"]
    attention = heatmap(probe["cross_attention"], probe["rows"], probe["cols"], low=0.0, high=1.0, cell=18,
                        title=f"Probe at step {update['measured_at']:,}: cross-attention, layer {probe['layer']}")
    mark = "✓" if probe["correct"] else "✗"
    wrote = f"<div>It writes: <b>{_e(probe['output'] or '∅')}</b> {mark}</div>"
    return (f"{CSS}<div style='display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start'>{grid}"
            f"<div class='pg-view'>{attention}{wrote}</div></div>{samples_view(update['samples'])}")


def samples_view(samples: list[dict]) -> str:
    rows = "".join(f"<tr><td>{_e(s['sentence'])}</td><td>{_e(s['output'] or '∅')}</td>"
                   f"<td>{'✓' if s['correct'] else '✗'}</td></tr>" for s in samples)
    return (f"<table class='pg-view' style='font-size:12px;margin-top:6px'><tr><th align='left'>held-out sentence"
            f"</th><th align='left'>the model writes</th><th></th></tr>{rows}</table>")


def reversal_view(result: dict) -> str:
    """A typed sentence's reversal: the output against the expected one, then where the decoder read."""
    if not result["trained"]:
        return (f"{CSS}<div class='pg-view'>{_e(result['error'])}<br>The reversal it should write: "
                f"<b>{_e(result['expected'])}</b></div>")
    verdict = "✓ exactly reversed" if result["correct"] else f"✗ expected: {_e(result['expected'])}"
    mean = heatmap(result["cross_attention"], result["rows"], result["cols"], low=0.0, high=1.0,
                   title=f"Cross-attention, layer {result['layer']} of {result['layers']}, mean of the heads")
    heads = "".join(f'<div style="display:inline-block;margin:2px;vertical-align:top"><div>head {h + 1}</div>'
                    + heatmap(m, result["rows"], result["cols"], cell=9, labels=False, low=0.0, high=1.0
                              ).replace(CSS, "") + "</div>" for h, m in enumerate(result["heads"]))
    heads = f"<div><div><b>Each head</b></div>{heads}</div>"
    return (f"{CSS}<div class='pg-view'><div style='font-size:14px'>The model writes: <b>{_e(result['output'] or '∅')}"
            f"</b> · {verdict}</div><div style='display:flex;flex-wrap:wrap;gap:12px'>{mean}{heads}</div>"
            f"<div style='font-size:12px'>{_e(ATTENTION_NOTE)}</div></div>")
