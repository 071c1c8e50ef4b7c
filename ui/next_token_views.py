"""The next-token page's views, drawn from the endpoints' dicts with the shared views (ui/views.py): bars
for the candidates and the samples, a token strip for the confidence view, and one view of its own, the
logit lens table (one row per layer, cells coloured by probability). Plain HTML, no JavaScript."""

from __future__ import annotations

import html

from ui import views
from ui.views import CSS, shown

LABEL_CHARS = 10  # a long token is cut in the bar labels (its full text is in the tooltip and the JSON)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def quoted(token: str, limit: int = LABEL_CHARS) -> str:
    """A token in quotes, so that its leading space shows: " Paris"."""
    text = token if len(token) <= limit else token[:limit] + "…"
    return f'"{text}"'


def candidates(result: dict) -> str:
    """Candidates after temperature as bars with their cumulative share (Σ); cut rows greyed; a marker
    under the last row that survives top-k and top-p."""
    rows = result["candidates"]
    bars = [(f"{quoted(c['token'])} Σ{c['cumulative']:.2f}", c["probability_t"]) for c in rows]
    cut = {i for i, c in enumerate(rows) if not c["kept"]}
    markers = {}
    kept = result["kept_count"]
    if kept < len(rows):  # the cut-off falls among the rows shown
        reason = rows[kept]["cut_by"]
        if reason == "top-k":
            markers[kept - 1] = f"top-k = {result['top_k']}: only these {kept} stay"
        else:
            markers[kept - 1] = (f"top-p = {result['top_p']:g} reached here (Σ {rows[kept - 1]['cumulative']:.3f}):"
                                 " the rest is cut")
    title = (f"Next-token candidates at temperature {result['temperature']:g} (Σ: cumulative probability that "
             "top-p reads)")
    head = (f"<div>Entropy <b>{result['entropy_bits']:.2f} bits</b> → {result['entropy_temperature_bits']:.2f} "
            f"(temperature) → <b>{result['entropy_after_bits']:.2f} bits</b> (cut-offs) · {kept:,} of "
            f"{result['vocabulary']:,} tokens kept</div>")
    more = ""
    if kept > len(rows):
        more = f"<div>…and {kept - len(rows):,} more kept tokens below these {len(rows)}.</div>"
    return head + views.bars(bars, title=title, cut=cut, markers=markers) + more


def sampling(result: dict) -> str:
    """What a sampler draws from (the kept tokens, renormalised) beside what the seeded draws gave."""
    final = [(quoted(c["token"]), c["final"]) for c in result["candidates"] if c["kept"]]
    left = views.bars(final, title="Renormalised after the cut-offs: what is sampled from")
    drawn = result.get("samples")
    if not drawn:
        right = "<div>No samples drawn (Samples: 0).</div>"
    else:
        total = sum(drawn.values())
        rows = [(f"{quoted(token)} ×{count}", count / total) for token, count in list(drawn.items())[:20]]
        others = len(drawn) - len(rows)
        right = views.bars(rows, title=f"{total} draws with seed {result['seed']}: each token's share")
        if others > 0:
            right += f"<div>…and {others} more tokens drawn less often.</div>"
    grid = '<div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px">'
    return f"{grid}<div>{left}</div><div>{right}</div></div>"


def prompt_line(tokens: list[str], position: int) -> str:
    """The prompt's tokens numbered from 0, the chosen position in bold on yellow."""
    chips = []
    for i, token in enumerate(tokens):
        style = "background:#fde68a;font-weight:bold" if i == position else "background:#f3f4f6"
        chips.append(f'<span class="pg-chip" style="{style}" title="position {i}">{_e(shown(token))}'
                     f"<sub>{i}</sub></span>")
    return f'<div>{"".join(chips)}</div>'


LENS_CSS = """<style>
.pg-lens table { border-collapse: collapse; width: 100%; margin: 4px 0; }
.pg-lens td, .pg-lens th { padding: 1px 6px !important; border: none !important; text-align: left;
  border-bottom: 1px solid #0000001a !important; vertical-align: middle; white-space: nowrap; }
.pg-lens th { white-space: normal; }
.pg-lens .pg-chip { margin: 1px; }
</style>"""


def lens(result: dict) -> str:
    """One row per layer: its top guesses (coloured by probability) and the tracked token's probability."""
    tracked = result["tracked"]
    last = len(result["layers"]) - 1
    head = (f"<tr><th>layer</th><th>top guesses (probability)</th><th>{_e(quoted(tracked['token'], 16))}: "
            f"{_e(tracked['why'])}</th></tr>")
    body = []
    for layer in result["layers"]:
        name = "output" if layer["layer"] == last else layer["name"]
        guesses = "".join(
            f'<span class="pg-chip" style="background:{views.color(p)};color:{views.ink(views.color(p))}" '
            f'title="p = {p:.4f}">{_e(shown(quoted(token, 12)))}<sub>{p:.2f}</sub></span>' for token, p in layer["top"])
        p = layer["tracked_probability"]
        body.append(f"<tr><td>{layer['layer']} {_e(name)}</td><td>{guesses}</td>"
                    f'<td title="rank {layer["tracked_rank"]}">{p:.3f} (#{layer["tracked_rank"]})</td></tr>')
    table = f'<div style="overflow-x:auto"><table>{head}{"".join(body)}</table></div>'
    intro = (f"<div>Position {result['position']} ({_e(quoted(result['token_at_position'], 16))}): each layer's "
             "hidden state through the model's final norm and LM head. The last row is the model's own output.</div>")
    return (f'{CSS}{LENS_CSS}<div class="pg-view pg-lens">{prompt_line(result["tokens"], result["position"])}'
            f"{intro}{table}</div>")


def strip(result: dict) -> str:
    """The text coloured by probability (red: unlikely, green: likely), the first token uncoloured."""
    tokens = result["tokens"]
    scored = [(t["token"] or "\ufffd", t["probability"], [tuple(a) for a in t["alternatives"]]) for t in tokens[1:]]
    drawn = views.token_strip(scored)
    first = (f'<span style="background:#e5e7eb" title="the first token: nothing before it to predict it from">'
             f"{_e(tokens[0]['token'])}</span>")
    opening = '<div class="pg-view pg-strip">'  # larger type than the shared 12 px: this view is text to read
    drawn = drawn.replace(opening, opening[:-1] + ' style="font-size:16px;line-height:1.9">' + first, 1)
    added = result["generated_tokens"]
    summary = (f"<div>Mean log-probability <b>{result['mean_log_prob']:.3f}</b> · perplexity "
               f"<b>{result['perplexity']:.2f}</b> (as unsure, on average, as a pick among that many equally "
               "likely tokens). Hover a token for its probability and the model's top alternatives.</div>")
    if added:
        text = "".join(t["token"] for t in tokens[result["typed_tokens"]:])
        summary += f"<div>The model added {added} tokens (greedy): <i>{_e(text)}</i></div>"
    return summary + drawn
