""""Look inside" views of the picture tasks, drawn from the dicts of pipelines/inside/<task>.py; the charts
(speech on its waveform, forecasting's window) are in ui/inside_media_charts.py.

    rollout(result)     image classification: attention rollout (and the last layer's attention) per patch
    clip_maps(result)   CLIP: each best text's similarity with every patch
    denoising(result)   text to image: a preview after each denoising step

A per-patch value is drawn over the picture as the model saw it (224x224, after the processor's resize
and crop) as a spotlight: one SVG square per patch, the darker the lower its value, the exact value in
the square's tooltip; the highest ones are also listed for readers without hover. Plain HTML, no
JavaScript; the picture travels inside the view as a data: URI.
"""

from __future__ import annotations

import html

from ui.views import CSS, bars

SIDE = 224  # px: the picture's size as the model saw it
DARKEST = 0.82  # opacity of the shade over the patch with the lowest value
LISTED = 3  # highest patches written out under each picture

STYLE = """
<style>
.pg-media { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.pg-media figure { margin: 0; max-width: 100%; }
.pg-media figcaption { font-size: 12px; max-width: 224px; margin-top: 2px; }
.pg-overlay { position: relative; width: 224px; height: 224px; }
.pg-overlay img, .pg-overlay svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
@media (max-width: 480px) {  /* a phone: two pictures side by side */
  .pg-overlay { width: 150px; height: 150px; }
  .pg-media figcaption { max-width: 150px; }
}
.pg-overlay rect:hover { stroke: #facc15; stroke-width: 0.08; }
.pg-steps figure img { display: block; border-radius: 4px; background: #0001; }
</style>
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def overlay(picture: str, grid: list[int], values: list[float], caption: str, low: float | None = None,
            high: float | None = None, digits: int = 4, what: str = "value") -> str:
    """The picture with one shaded square per patch (row by row): the lower the value, the darker."""
    rows, cols = grid
    lo = min(values) if low is None else low
    hi = max(values) if high is None else high
    squares = []
    for k, value in enumerate(values):
        r, c = divmod(k, cols)
        shade = DARKEST * (1 - (0.0 if hi == lo else max(0.0, min(1.0, (value - lo) / (hi - lo)))))
        squares.append(f'<rect class="pg-patch" x="{c}" y="{r}" width="1" height="1" fill="#000" '
                       f'fill-opacity="{shade:.3f}"><title>patch row {r + 1}, column {c + 1}: '
                       f'{what} {value:.{digits}f}</title></rect>')
    best = sorted(range(len(values)), key=lambda k: -values[k])[:LISTED]
    listed = ", ".join(f"row {k // cols + 1} col {k % cols + 1} ({values[k]:.{digits}f})" for k in best)
    return (f'<figure><div class="pg-overlay"><img src="{picture}" width="{SIDE}" height="{SIDE}" '
            f'alt="the picture as the model saw it"><svg viewBox="0 0 {cols} {rows}" preserveAspectRatio="none" '
            f'role="img" aria-label="{_e(caption)}">{"".join(squares)}</svg></div>'
            f'<figcaption><b>{_e(caption)}</b><br>Highest: {_e(listed)}</figcaption></figure>')


def rollout(result: dict) -> str:
    """Rollout beside the last layer's attention of [CLS], both over the same picture, and the top classes."""
    rows, cols = result["grid"]
    tokens = "[CLS] and a distillation token" if result["specials"] == 2 else "[CLS]"
    line = (f"{rows}×{cols} = {rows * cols} patches of the picture, read after {tokens} through "
            f"{result['layers']} layers. Bright: a large share of what [CLS] ends with; dark: little. Each map "
            "is shaded from its own lowest to its highest patch; hover a patch for its share (they sum to 1).")
    maps = (overlay(result["picture"], result["grid"], result["rollout"], "Attention rollout (all layers)",
                    what="share")
            + overlay(result["picture"], result["grid"], result["last_layer"], "Last layer's attention only",
                      what="share"))
    classes = bars([(c["label"], c["probability"]) for c in result["classes"]], title="Top classes")
    return f'{CSS}{STYLE}<div class="pg-view"><div>{_e(line)}</div><div class="pg-media">{maps}</div>{classes}</div>'


def clip_maps(result: dict) -> str:
    """One similarity map per best text, shaded on one scale across the maps (so they compare)."""
    values = [v for m in result["maps"] for v in m["patches"]]
    lo, hi = min(values), max(values)
    rows, cols = result["grid"]
    line = (f"{rows}×{cols} patches. Bright: the patch's vector points the same way as the text's (cosine "
            f"{hi:.3f}); dark: away from it ({lo:.3f}). One scale for all maps. The whole picture's cosine with "
            "each text is in its caption.")
    maps = "".join(overlay(result["picture"], result["grid"], m["patches"],
                           f"“{m['text']}”: p = {m['probability']:.3f}, picture cosine {m['similarity']:.3f}",
                           low=lo, high=hi, digits=3, what="cosine") for m in result["maps"])
    others = ""
    if result.get("others"):
        others = "<div>Other texts (no map): " + "; ".join(
            f"{_e(o['text'])} {o['probability']:.3f}" for o in result["others"]) + "</div>"
    return f'{CSS}{STYLE}<div class="pg-view"><div>{_e(line)}</div><div class="pg-media">{maps}</div>{others}</div>'


def denoising(result: dict) -> str:
    """The previews in order, each captioned with its step."""
    total, done = result["steps"], result["done"]
    figures = "".join(
        f'<figure class="pg-step"><img src="{p["picture"]}" width="{result["side"][0]}" '
        f'height="{result["side"][1]}" alt="preview after step {p["step"]}"><figcaption>step {p["step"]} of '
        f'{total}</figcaption></figure>' for p in result["previews"])
    line = f"The latents after each of the {done} denoising steps" if done != 1 else "The latents after the one step"
    if done < total:
        line += f" (the run was stopped after {done} of {total})"
    if len(result["previews"]) < done:
        line += f", {len(result['previews'])} of them evenly spaced"
    line += f", decoded small ({result['side'][0]}×{result['side'][1]} px) by the tiny decoder TAESD."
    if done > 1:
        line += " Early steps still hold the noise the sampler adds back for the next step."
    return f'{CSS}{STYLE}<div class="pg-view"><div>{_e(line)}</div><div class="pg-media pg-steps">{figures}</div></div>'
