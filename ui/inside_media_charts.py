""""Look inside" charts of the media tasks, as SVG drawn from the dicts of pipelines/inside/<task>.py:

    speech_words(result)      each transcribed word's attention region and peak on the waveform
    forecast_window(result)   the series, the window the model read cut into patches, the quantile band

The charts scale to the block's width (viewBox) down to a phone's, where they scroll sideways inside the
view instead of widening the page. Details are in SVG <title>s (hover) and written out under each chart.
"""

from __future__ import annotations

import html
import math

from ui.views import CSS, PALETTE, color

W = 720  # viewBox width
LEFT, RIGHT = 44, 12  # margins for the axis labels
LANES = 4  # rows of word labels under the waveform, so neighbours do not overlap
CHAR_PX = 6.6  # width of a label's character at font size 11
PX_PER_S = 110  # a long recording gets a wider chart (scrolling) so that its words' labels fit
MAX_WIDTH = 8000
LISTED_OPEN = 30  # words listed under the chart, open; more go in a closed <details>
MIN_WIDTH = 520  # px: below this the chart scrolls inside the view
WORD_COLOURS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2"]


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _svg(height: int, body: str, label: str, width: int = W) -> str:
    """Scaled to the view's width when `width` is W; a wider chart keeps its pixels and scrolls sideways."""
    size = f"width:100%;min-width:{MIN_WIDTH}px" if width <= W else f"width:{width}px"
    return (f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}" '
            f'style="{size};height:auto" xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def _lanes(centres: list[float], labels: list[str]) -> list[int | None]:
    """A lane (row) for each label under the waveform: the first one where it clears the label before it,
    None when none does (the word is still in the list under the chart and in its tooltip)."""
    ends = [-math.inf] * LANES
    chosen: list[int | None] = []
    for centre, label in zip(centres, labels):
        half = CHAR_PX * len(label) / 2 + 3
        lane = next((k for k in range(LANES) if ends[k] <= centre - half), None)
        if lane is not None:
            ends[lane] = centre + half
        chosen.append(lane)
    return chosen


def _step(span: float) -> float:
    """A round tick spacing giving about 6-12 ticks over `span`."""
    raw = span / 8 if span > 0 else 1
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def speech_words(result: dict) -> str:
    duration, words, envelope = max(result["duration"], 1e-6), result["words"], result["envelope"]
    top, wave_h = 8, 90
    mid, lanes_top = top + wave_h / 2, top + wave_h + 30  # under the time axis's labels
    width = int(min(MAX_WIDTH, max(W, LEFT + RIGHT + duration * PX_PER_S))) if len(words) > 12 else W

    def x(t: float) -> float:
        return LEFT + t / duration * (width - LEFT - RIGHT)

    labels = [w["word"][:16] for w in words]
    lanes = _lanes([x(w["peak"]) for w in words], labels)
    height = int(lanes_top + (max((k for k in lanes if k is not None), default=0) + 1) * 15 + 6)

    loudest = max(envelope, default=0.0) or 1.0
    n = max(1, len(envelope))
    upper = [f"{x((i + 0.5) * duration / n):.1f},{mid - a / loudest * wave_h / 2:.1f}" for i, a in enumerate(envelope)]
    lower = [f"{x((i + 0.5) * duration / n):.1f},{mid + a / loudest * wave_h / 2:.1f}"
             for i, a in reversed(list(enumerate(envelope)))]
    parts = [f'<polygon points="{" ".join(upper + lower)}" fill="#94a3b8"><title>the waveform</title></polygon>']
    step = _step(duration)
    ticks = [i * step for i in range(int(duration / step) + 1)]
    parts += [f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top + wave_h}" y2="{top + wave_h + 4}" stroke="#64748b"/>'
              f'<text x="{x(t):.1f}" y="{top + wave_h + 14}" font-size="10" text-anchor="middle">{t:g} s</text>'
              for t in ticks]
    for i, (w, lane) in enumerate(zip(words, lanes)):
        hue = WORD_COLOURS[i % len(WORD_COLOURS)]
        tip = (f"{w['word']}: looked at {w['start']:.2f}-{w['end']:.2f} s ({w['share']:.0%} of its attention), "
               f"peak at {w['peak']:.2f} s")
        low = lanes_top + (lane if lane is not None else -1) * 15
        label = (f'<text x="{x(w["peak"]):.1f}" y="{low}" font-size="11" text-anchor="middle" '
                 f'fill="{hue}">{_e(labels[i])}</text>' if lane is not None else "")
        parts.append(f'<g class="pg-word"><title>{_e(tip)}</title><rect x="{x(w["start"]):.1f}" y="{top}" '
                     f'width="{max(1.0, x(w["end"]) - x(w["start"])):.1f}" height="{wave_h}" fill="{hue}" '
                     f'fill-opacity="0.18"/><line x1="{x(w["peak"]):.1f}" x2="{x(w["peak"]):.1f}" y1="{top}" '
                     f'y2="{low - 10}" stroke="{hue}" stroke-width="1.5"/>{label}</g>')
    chart = _svg(height, "".join(parts), "each word's attention region on the waveform", width)
    listed = " ".join(f'<span class="pg-chip" style="background:{PALETTE[i % len(PALETTE)]}">{_e(w["word"])} '
                      f'<sub>{w["start"]:.2f}-{w["end"]:.2f} s</sub></span>' for i, w in enumerate(words))
    line = (f"{len(words)} words over {duration:.1f} s of audio ({result['windows']} window"
            f"{'s' if result['windows'] != 1 else ''} of 30 s). Shaded: the frames each word's attention stays "
            "at half its peak or more; line: its peak. Hover a word for its times"
            f"{' (the chart scrolls sideways)' if width > W else ''}.")
    listed = f'<div style="font-size:12px">{listed}</div>'
    if len(words) > LISTED_OPEN:  # a long recording: the list would push everything else away
        listed = f"<details><summary>All {len(words)} words with their times</summary>{listed}</details>"
    return f'{CSS}<div class="pg-view"><div>{_e(line)}</div>{chart}{listed}{_curves(words)}</div>'



def _curves(words: list[dict]) -> str:
    """Each word's attention over the whole recording as a small curve (hidden until opened)."""
    if not words:
        return ""
    row_h, label_w = 16, 110
    rows = []
    for i, w in enumerate(words):
        curve, top = w["curve"], i * row_h
        peak = max(curve, default=0.0) or 1.0
        step = (W - label_w - RIGHT) / max(1, len(curve) - 1)
        points = " ".join(f"{label_w + j * step:.1f},{top + row_h - 2 - v / peak * (row_h - 4):.1f}"
                          for j, v in enumerate(curve))
        rows.append(f'<text x="{label_w - 6}" y="{top + row_h - 4}" font-size="10" text-anchor="end">'
                    f'{_e(w["word"][:16])}</text><polyline points="{points}" fill="none" '
                    f'stroke="{WORD_COLOURS[i % len(WORD_COLOURS)]}" stroke-width="1.2"/>')
    svg = _svg(len(words) * row_h + 4, "".join(rows), "each word's cross-attention over time")
    return (f"<details><summary>Each word's attention over the whole recording (left: start, right: end; "
            f"each curve scaled to its own peak)</summary>{svg}</details>")


def forecast_window(result: dict) -> str:
    values, start, total = result["values"], result["shown_from"], result["total"]
    band, read_from, size = result["band"], result["read_from"], result["patch_size"]
    horizon = len(band["median"])
    top, plot_h, strip_h = 10, 190, 14
    height = top + plot_h + strip_h + 30
    ys = values + band["q10"] + band["q90"]
    lo, hi = min(ys), max(ys)
    lo, hi = (lo - 1, hi + 1) if hi == lo else (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    span = max(1, total - 1 + horizon - start)

    def x(i: float) -> float:  # i: index in the whole series; the forecast's step k is total - 1 + k
        return LEFT + (i - start) / span * (W - LEFT - RIGHT)

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    parts = []
    for k, p in enumerate(result["patches"]):
        x0, x1 = x(p["first"] - 0.5), x(p["last"] + 0.5)
        tip = (f"patch {k + 1}: points {p['first'] - total + 1} to {p['last'] - total + 1} (0 = the last); "
               f"scaled mean {p['mean']:+.2f}, from {p['low']:+.2f} to {p['high']:+.2f}")
        tip += f"; padded with {p['padded']} missing values" if p["padded"] else ""
        parts.append(f'<g class="pg-patch"><title>{_e(tip)}</title><rect x="{x0:.1f}" y="{top}" '
                     f'width="{x1 - x0:.2f}" height="{plot_h}" fill="{"#dbeafe" if k % 2 else "#eff6ff"}"/>'
                     f'<rect x="{x0:.1f}" y="{top + plot_h + 4}" width="{x1 - x0:.2f}" height="{strip_h}" '
                     f'fill="{color(p["mean"], -2, 2, diverging=True)}" stroke="#fff" stroke-width="0.5"/></g>')
    unread = [f"{x(start + i):.1f},{y(v):.1f}" for i, v in enumerate(values) if start + i <= read_from]
    read = [f"{x(start + i):.1f},{y(v):.1f}" for i, v in enumerate(values) if start + i >= read_from]
    last = total - 1
    area = ([f"{x(last):.1f},{y(values[-1]):.1f}"] + [f"{x(last + k):.1f},{y(v):.1f}" for k, v in
                                                       enumerate(band["q90"], 1)]
            + [f"{x(last + k):.1f},{y(v):.1f}" for k, v in reversed(list(enumerate(band["q10"], 1)))])
    median = [f"{x(last):.1f},{y(values[-1]):.1f}"] + [f"{x(last + k):.1f},{y(v):.1f}"
                                                       for k, v in enumerate(band["median"], 1)]
    if len(unread) > 1:
        parts.append(f'<polyline points="{" ".join(unread)}" fill="none" stroke="#9ca3af" stroke-width="1.2"/>')
    parts += [f'<polyline points="{" ".join(read)}" fill="none" stroke="#2563eb" stroke-width="1.4"/>',
              f'<polygon points="{" ".join(area)}" fill="#fdba74" fill-opacity="0.55"><title>80% band '
              f'(q10 to q90)</title></polygon>',
              f'<polyline points="{" ".join(median)}" fill="none" stroke="#ea580c" stroke-width="1.6"/>',
              f'<line x1="{x(last):.1f}" x2="{x(last):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#111" '
              f'stroke-dasharray="3 3"/>',
              f'<text x="{LEFT - 4}" y="{top + 10}" font-size="10" text-anchor="end">{hi:.4g}</text>',
              f'<text x="{LEFT - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">{lo:.4g}</text>',
              f'<text x="{LEFT - 4}" y="{top + plot_h + 15}" font-size="10" text-anchor="end">tokens</text>',
              f'<text x="{x(last):.1f}" y="{height - 4}" font-size="10" text-anchor="middle">now</text>']
    chart = _svg(height, "".join(parts), "the series, the window the model read in patches, and the forecast band")
    patches, length = len(result["patches"]), result["read_length"]
    whole = "all of them" if length == total else f"of {total:,}"
    padded = result["patches"][0]["padded"] if result["patches"] else 0
    line = (f"Blue: the last {length:,} points ({whole}) that Chronos-Bolt read, in {patches} patches of {size} "
            f"(light and dark stripes){f', the oldest padded with {padded} missing values' if padded else ''}"
            f"{' and a [REG] token' if result['reg_token'] else ''}: {patches + result['reg_token']} tokens for its "
            f"encoder. It read them "
            f"scaled: (value − {result['loc']:.4g}) / {result['scale']:.4g}; the token strip shows each patch's "
            f"scaled mean (blue below 0, red above). Orange: the median and 80% band of the next {horizon} steps.")
    if length < total:
        line += " Grey: older points it did not read."
    return f'{CSS}<div class="pg-view"><div>{_e(line)}</div>{chart}</div>'
