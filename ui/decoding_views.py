"""Views of the encoder-decoder page (tabs/decoding.py) that ui/views.py does not have: the output
growing token by token, and Whisper's cross-attention as a strip over time beside the waveform.

Plain HTML and SVG like ui/views.py (whose CSS and colours they reuse): hover details are `<title>`s.
"""

from __future__ import annotations

import html

from ui.views import CSS, LABEL_W, color, heatmap, shown

STRIP_H = 44  # px of the waveform envelope
ROW_H = 14  # px per decoder row of the time strip
MAX_ROWS = 40  # decoder rows drawn in a heatmap: the latest ones (all are in the JSON)
MAX_STRIP_ROWS = 24  # the same for the time strip, whose rows are taller


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def growing_output(result: dict) -> str:
    """The decoder's input (start tokens dashed), the output so far, and the token this step added."""
    prompt = result["prompt_length"]
    tokens = result["output_tokens"]
    chips = [f'<span class="pg-chip pg-special" style="background:#ede9fe" title="start token">'
             f'{_e(shown(t))}</span>' for t in tokens[:prompt]]
    chips += [f'<span class="pg-chip" style="background:#e0f2fe">{_e(shown(t))}</span>' for t in tokens[prompt:]]
    if result["next_output_ids"] != result["output_ids"]:
        chips.append(f'<span class="pg-chip" style="background:#bbf7d0;font-weight:bold" title="chosen by this '
                     f'step">{_e(shown(result["next"]))}</span>')
    else:
        chips.append(f'<span class="pg-chip pg-special" style="background:#fee2e2" title="end of sequence">'
                     f'{_e(shown(result["next"]))}</span>')
    note = f'<div style="color:var(--pg-amber)">{_e(result["note"])}</div>' if result.get("note") else ""
    return (f'{CSS}<div class="pg-view"><div><b>{_e(result["message"])}</b></div>{note}'
            f'<div style="white-space:normal">{"".join(chips)}</div></div>')


def attention_heatmap(matrix: list[list[float]], rows: list[str], cols: list[str], title: str,
                      causal: bool = False) -> str:
    """A decoder attention map (rows: decoder positions, the last one is this step) sized to stay
    readable: labels while cells are big enough to hold them, the latest MAX_ROWS rows. Causal maps
    show the masked future grey."""
    if causal:
        matrix = [[None if j > i else v for j, v in enumerate(row)] for i, row in enumerate(matrix)]
    if len(rows) > MAX_ROWS:
        title += f"; the last {MAX_ROWS} of {len(rows)} rows"
        matrix, rows = matrix[-MAX_ROWS:], rows[-MAX_ROWS:]
    cell = max(5, min(22, 420 // max(1, len(cols)), 360 // max(1, len(rows))))
    rows = [*rows[:-1], f"▶{rows[-1]}"] if rows else rows
    return heatmap(matrix, rows, cols, title=title, cell=cell, low=0.0, high=1.0, labels=cell >= 10)


def _ticks(duration: float) -> list[float]:
    step = next(s for s in (0.25, 0.5, 1, 2, 5, 10) if duration / s <= 8)
    return [i * step for i in range(int(duration / step) + 1)]


def time_strip(result: dict) -> str:
    """Whisper's cross-attention over time: the waveform envelope of the clip on top, then one row per
    decoder position (the latest MAX_STRIP_ROWS; the last is this step), each scaled to its own maximum,
    over the same time bins. A row's tooltip gives its share on the silence after the clip."""
    envelope, edges = result["envelope"], result["seconds"]
    rows = result["cross_attention"][-MAX_STRIP_ROWS:]
    labels = result["output_tokens"][-len(rows):]
    beyond = result["beyond_clip"][-len(rows):]
    bins = len(envelope)
    cell = max(3, min(8, 600 // max(1, bins)))
    duration = edges[-1] or 1.0
    left, top = LABEL_W, 4
    axis_y = top + STRIP_H + 12
    width, height = left + cell * bins + 56, axis_y + 6 + ROW_H * len(rows)
    peak = max(envelope, default=0.0) or 1.0
    parts = [f'<svg role="img" aria-label="cross-attention over time" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{left - 4}" y="{top + STRIP_H / 2 + 4}" text-anchor="end" font-size="11">audio</text>']
    middle = top + STRIP_H / 2
    for b, level in enumerate(envelope):
        half = max(0.5, level / peak * STRIP_H / 2)
        parts.append(f'<rect x="{left + b * cell}" y="{middle - half:.1f}" width="{max(1, cell - 1)}" '
                     f'height="{2 * half:.1f}" fill="#94a3b8"><title>{edges[b]:.2f}–{edges[b + 1]:.2f} s: '
                     f'peak {level:.3f}</title></rect>')
    for t in _ticks(duration):
        x = left + t / duration * cell * bins
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis_y - 8}" stroke="#cbd5e1"/>'
                     f'<text x="{x:.1f}" y="{axis_y}" text-anchor="middle" font-size="10">{t:g} s</text>')
    for i, (row, label, after) in enumerate(zip(rows, labels, beyond)):
        y = axis_y + 6 + i * ROW_H
        last = i == len(rows) - 1
        name = ("▶" if last else "") + shown(label)
        weight_attr = ' font-weight="bold"' if last else ""
        parts.append(f'<text x="{left - 4}" y="{y + ROW_H * 0.75}" text-anchor="end" font-size="11"'
                     f'{weight_attr}>{_e(name[:12])}</text>')
        high = max(row, default=0.0) or 1.0
        for b, weight in enumerate(row):
            parts.append(f'<rect x="{left + b * cell}" y="{y}" width="{cell}" height="{ROW_H - 1}" '
                         f'fill="{color(weight, 0.0, high)}"><title>{_e(shown(label))} → '
                         f'{edges[b]:.2f}–{edges[b + 1]:.2f} s: {weight:.4f}</title></rect>')
        parts.append(f'<text x="{left + bins * cell + 4}" y="{y + ROW_H * 0.75}" font-size="10" fill="#64748b">'
                     f'+{after:.2f}<title>share of this row on the silence after the clip</title></text>')
    parts.append("</svg>")
    return (f'{CSS}<div class="pg-view"><div><b>Cross-attention over the audio</b> (layer {result["layer"]}, '
            f'{_heads(result)}; each row scaled to its maximum; right: share on the padding)</div>'
            f'{"".join(parts)}</div>')


def _heads(result: dict) -> str:
    return f"mean of {result['heads']} heads" if result["head"] == "mean" else f"head {result['head']}"


def layer_caption(result: dict) -> str:
    return f"layer {result['layer']} of {result['layers']}, {_heads(result)}"
