"""Views of the "One block" page (tabs/transformer_block.py), as plain HTML and SVG like ui/views.py.

    tokens_line(tokens, chosen)            the text's tokens numbered from 0, the chosen one outlined
    steps_table(result)                    each step of the block: a strip of its first numbers, norm, stats
    norms_and_units(result)                the two below, side by side (stacked on a phone)
    norm_chart(norms, embedding, layer)    the residual stream's norm after every block, as bars
    units_table(result)                    the feed-forward's most active hidden units
    ablation_view(result)                  next-token candidates before / after, or the hidden states' cosine
    dropout_view(result)                   one vector in, after dropout in training mode, in evaluation mode
"""

from __future__ import annotations

import html

from ui.views import CSS, bars, color, shown

LOCAL_CSS = """
<style>
.pg-view table.tb-table { border-collapse: collapse; width: auto; margin: 2px 0; font-size: 11px; }
.pg-view table.tb-table th, .pg-view table.tb-table td { padding: 1px 4px !important; text-align: right;
  white-space: nowrap; border: 1px solid #fff; line-height: 1.4; }
.pg-view table.tb-table th { font-weight: normal; color: var(--body-text-color-subdued, #555); }
.pg-view table.tb-table th:first-child, .pg-view table.tb-table td.tb-name { text-align: left; white-space: normal;
  min-width: 96px; max-width: 150px; overflow-wrap: anywhere; }
.pg-view table.tb-table td.tb-cell { color: #111; min-width: 40px; }
.pg-view table.tb-table td.tb-dropped { background: repeating-linear-gradient(45deg, #d1d5db, #d1d5db 3px,
  #f3f4f6 3px, #f3f4f6 6px); }
.pg-view table.tb-table tr.tb-note td { text-align: left; color: var(--body-text-color-subdued, #555);
  font-size: 10px; padding-bottom: 5px !important; white-space: normal; max-width: 0; }
.pg-view table.tb-table tr.tb-norm td.tb-name, .pg-view table.tb-table tr.tb-add td.tb-name { font-weight: bold; }
.tb-chip { display: inline-block; margin: 2px 1px; padding: 1px 4px; border-radius: 4px; border: 1px solid #0002;
  white-space: pre; background: #f3f4f6; color: #111; }
.tb-chip.tb-chosen { background: #c7d2fe; outline: 2px solid #4f46e5; font-weight: bold; }
.tb-chip sub { color: #555; font-size: 10px; margin-left: 2px; }
.tb-pair { display: flex; flex-wrap: wrap; gap: 12px; } .tb-pair > div { flex: 1 1 300px; min-width: 0; }
</style>
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _view(body: str, title: str = "", extra: str = "") -> str:
    caption = f"<div><b>{_e(title)}</b>{extra}</div>" if title else ""
    return f'{CSS}{LOCAL_CSS}<div class="pg-view">{caption}{body}</div>'


def _number(value: float) -> str:
    return f"{value:.3g}"


def _cells(values: list[float], dropped: set[int] = frozenset()) -> str:
    """A vector's numbers as cells coloured by sign and size (blue negative, red positive, scaled per row)."""
    span = max((abs(v) for v in values), default=1.0) or 1.0
    cells = []
    for i, value in enumerate(values):
        if i in dropped:
            cells.append(f'<td class="tb-cell tb-dropped" title="dim {i}: dropped (0)">0</td>')
            continue
        cells.append(f'<td class="tb-cell" style="background:{color(value, -span, span, diverging=True)}" '
                     f'title="dim {i}: {value}">{_number(value)}</td>')
    return "".join(cells)


def tokens_line(tokens: list[str], chosen: int, title: str = "Tokens (the outlined one is followed)") -> str:
    chips = [f'<span class="tb-chip{" tb-chosen" if i == chosen else ""}" title="token {i}">'
             f'{_e(shown(t))}<sub>{i}</sub></span>' for i, t in enumerate(tokens)]
    return _view("".join(chips), title)


def steps_table(result: dict) -> str:
    """The block's steps in the model's own order; norm rows also show the statistics before, add rows the check."""
    spread = "rms" if result["norm_kind"] == "RMSNorm" else "std"
    dims = len(result["steps"][0]["values"])
    head = ("<tr><th>step</th>" + "".join(f"<th>d{i}</th>" for i in range(dims))
            + f"<th>‖x‖</th><th>mean</th><th>{spread}</th></tr>")
    rows = []
    for step in result["steps"]:
        kind = step.get("kind", "")
        rows.append(f'<tr class="tb-{kind}"><td class="tb-name" title="{_e(step["module"])}">{_e(step["name"])}</td>'
                    f'{_cells(step["values"])}<td>{step["norm"]:.4f}</td><td>{step["mean"]:.4f}</td>'
                    f'<td>{step[spread]:.4f}</td></tr>')
        note = ""
        if kind == "norm":
            before = step["before"]
            note = (f"in: mean {before['mean']:.4f}, {spread} {before[spread]:.4f}, ‖x‖ {before['norm']:.4f} → "
                    f"out: mean {step['mean']:.4f}, {spread} {step[spread]:.4f}. "
                    f"{step['formula']}, ε = {step['eps']:g}")
        elif kind == "add":
            note = (f"{step['equation']}: the model's own sum and the sum of the two rows above differ by at most "
                    f"{step['check']:g}")
        if note:
            rows.append(f'<tr class="tb-note"><td colspan="{dims + 4}">{_e(note)}</td></tr>')
    title = (f"Block {result['layer']} of {result['layers']} ({result['order']}, {result['norm_kind']}), "
             f"token {result['token']} “{shown(result['tokens'][result['token']])}”: the first {dims} of "
             f"{result['hidden_size']} numbers of each vector")
    return _view(f'<table class="tb-table">{head}{"".join(rows)}</table>', title)


def norm_chart(norms: list[float], embedding: float, layer: int) -> str:
    """Bars of the residual stream's norm: after the embeddings, then after each block (the chosen one darker)."""
    values = [embedding, *norms]
    top = max(values) or 1.0
    width, height, pad = 20 * len(values) + 40, 150, 30
    bar = (width - 40) / len(values)
    parts = [f'<svg role="img" aria-label="residual stream norm per block" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" xmlns="http://www.w3.org/2000/svg">']
    for i, value in enumerate(values):
        h = (height - pad - 10) * value / top
        x, y = 30 + i * bar, height - pad - h
        fill = "#4f46e5" if i == layer + 1 else ("#9ca3af" if i == 0 else "#a5b4fc")
        name = "embeddings" if i == 0 else f"after block {i - 1}"
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.8:.1f}" height="{h:.1f}" fill="{fill}">'
                     f'<title>{name}: ‖x‖ = {value:.4f}</title></rect>')
        if i == 0 or i == layer + 1 or i == len(values) - 1 or (len(values) <= 13):
            label = "emb" if i == 0 else str(i - 1)
            parts.append(f'<text x="{x + bar * 0.4:.1f}" y="{height - pad + 14}" text-anchor="middle" '
                         f'font-size="10">{label}</text>')
    parts.append(f'<text x="2" y="12" font-size="10">{top:.3g}</text><text x="2" y="{height - pad}" '
                 f'font-size="10">0</text><text x="{width / 2:.0f}" y="{height - 4}" text-anchor="middle" '
                 'font-size="10">block</text></svg>')
    return _view("".join(parts), "The residual stream's norm ‖x‖ for this token, block by block")


def norms_and_units(result: dict) -> str:
    """The residual norm chart and the top hidden units side by side (stacked when narrow)."""
    chart = norm_chart(result["residual_norms"], result["embedding_norm"], result["layer"])
    return f'{LOCAL_CSS}<div class="tb-pair"><div>{chart}</div><div>{units_table(result)}</div></div>'


def units_table(result: dict) -> str:
    units = result["top_hidden_units"]
    gated = bool(units) and "gate" in units[0]
    head = ("<tr><th>unit</th><th>gate</th><th>SiLU(gate)</th><th>up</th><th>SiLU(gate)·up</th></tr>"
            if gated else "<tr><th>unit</th><th>before GELU</th><th>after GELU</th></tr>")
    rows = []
    for unit in units:
        numbers = ([unit["gate_pre"], unit["gate"], unit["up"], unit["value"]] if gated
                   else [unit["pre_activation"], unit["value"]])
        rows.append(f"<tr><td>#{unit['index']}</td>" + "".join(f"<td>{n:.4f}</td>" for n in numbers) + "</tr>")
    title = (f"The feed-forward's {len(units)} most active hidden units (by |activation|) of "
             f"{result['feed_forward_units']}")
    return _view(f'<table class="tb-table">{head}{"".join(rows)}</table>', title,
                 f"<div>{_e(result['activation'])}</div>")


def ablation_view(result: dict) -> str:
    if not result["before"]:  # no LM head (MiniLM): how far each token's final hidden state moved
        top = max(result["relative_change"], default=0.0) or 1.0
        rows = [f'<tr><td class="tb-name">{i} {_e(shown(t))}</td><td>{c:.4f}</td><td>{d:.4f}</td>'
                f'<td style="width:40%"><span class="pg-track" style="display:block;height:12px;background:#0000000d">'
                f'<span class="pg-fill" style="display:block;height:100%;width:{100 * d / top:.1f}%;'
                f'background:#4f46e5"></span></span></td></tr>'
                for i, (t, c, d) in enumerate(zip(result["tokens"], result["cosine"], result["relative_change"]))]
        head = "<tr><th>token</th><th>cosine</th><th>‖change‖ / ‖x‖</th><th></th></tr>"
        return _view(f'<table class="tb-table" style="width:100%">{head}{"".join(rows)}</table>',
                     f"Each token's final hidden state with {result['module']} off, compared with the model as it is",
                     f"<div>{_e(result['note'])}</div>")
    title = f"Next token after “{shown(result['tokens'][-1])}”"
    pair = (f'<div class="tb-pair"><div>{bars([tuple(c) for c in result["before"]], "As the model is", digits=4)}'
            f'</div><div>{bars([tuple(c) for c in result["after"]], "With " + result["module"] + " off", digits=4)}'
            "</div></div>")
    return _view(pair, title, f"<div>{_e(result['note'])} Total variation distance: "
                              f"{result['total_variation']:.4f}.</div>")


def dropout_view(result: dict) -> str:
    dims = len(result["input"])
    dropped = set(result["dropped_dims"])
    head = "<tr><th>mode</th>" + "".join(f"<th>d{i}</th>" for i in range(dims)) + "<th>‖x‖</th></tr>"
    rows = [f'<tr><td class="tb-name">{name}</td>{_cells(result[key], dropped if key == "train" else set())}'
            f'<td>{result["norms"][key]:.4f}</td></tr>'
            for name, key in (("attention output", "input"), ("training mode", "train"), ("evaluation mode", "eval"))]
    summary = (f"Training mode zeroed {result['zeroed_fraction']:.1%} of the {result['values']:,} values (p = "
               f"{result['p']:g}) and multiplied the others by {result['mean_scale']:.4f} (1 / (1 − p) = "
               f"{result['expected_scale']:.4f}); evaluation mode "
               f"{'returned them unchanged' if result['eval_is_identity'] else 'changed them'}.")
    return _view(f'<table class="tb-table">{head}{"".join(rows)}</table><div>{_e(summary)}</div>',
                 f"Dropout at p = {result['p']:g} on block {result['layer']}'s attention output, "
                 f"token {result['token']}",
                 f"<div>{_e(result['note'])}</div>")
