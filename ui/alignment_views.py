"""Cross-attention alignment views for "Look inside" (translation, summarization): choose an output word
and the source words it attended to light up, their shares written below; plus a heatmap.

No JavaScript, as in ui/views.py: the output words are the labels of hidden radio buttons, and one CSS
rule per (output word, source word it attended to) colours that source word while its output word is
chosen (another shows that word's line of shares); the radios come before the text in the page, so
`:checked ~` reaches it. Clicking, tapping or the arrow keys choose a word; the first one is chosen to
start with. Only each output word's strongest source words get a rule (at most SHOWN), so a 1,000-token
article stays a small page.
"""

from __future__ import annotations

import hashlib
import html

from ui import views
from ui.views import CSS, shown

SHOWN = 6  # source words lit per output word (the strongest; all of them are in the heatmap's cells)
LEAST = 0.02  # weights below this are not lit: a 1 % share of attention is no alignment
MAX_HEATMAP_TOKENS = 60  # above this many source tokens, the heatmap is per sentence instead
# A row's strongest weight gets the darkest colour, but never less than this does: attention spread thinly
# (a strongest share of 10 %) must look pale, not like a sharp alignment.
FULL = 0.5

STYLE = """<style>
.pg-align .pg-pick { position: absolute; opacity: 0; width: 1px; height: 1px; }
.pg-align .pg-out label { cursor: pointer; border-radius: 3px; padding: 1px 0; white-space: pre-wrap; }
.pg-align .pg-out label:hover { background: #e0e7ff; color: #111; }
.pg-align .pg-src span { border-radius: 3px; white-space: pre-wrap; }
.pg-align .pg-line { margin: 4px 0; line-height: 1.9; font-size: 14px; }
.pg-align .pg-why > div { display: none; color: var(--pg-accent); }
</style>"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _uid(*parts) -> str:
    """An id prefix unique to this view's content: two views on one page never share radio names."""
    return "pg" + hashlib.sha1(repr(parts).encode()).hexdigest()[:10]


def chooser(source_tokens: list[str], output_tokens: list[str], alignment: list[list[float]],
            source_label: str = "Source", output_label: str = "Output") -> str:
    """The output as words to choose from; the source below with the chosen word's attention on it."""
    uid = _uid(source_tokens, output_tokens)
    rules, radios, labels, why = [], [], [], []
    for i, (token, row) in enumerate(zip(output_tokens, alignment)):
        pick = f"{uid}-o{i}"
        radios.append(f'<input type="radio" class="pg-pick" name="{uid}" id="{pick}"{" checked" if i == 0 else ""}>')
        labels.append(f'<label for="{pick}" title="{_e(_tip(source_tokens, row))}">{_e(token or "·")}</label>')
        why.append(f'<div class="{uid}-w{i}">{_e(shown(token).strip() or "·")} {_e(_tip(source_tokens, row))}</div>')
        rules.append(f"#{pick}:checked ~ .pg-why .{uid}-w{i} {{ display: block; }}")
        rules.append(f"#{pick}:checked ~ .pg-out label[for={pick}] {{ outline: 2px solid #4f46e5; "
                     "background: #e0e7ff; color: #111; }")
        rules.append(f"#{pick}:focus-visible ~ .pg-out label[for={pick}] {{ outline: 3px dashed #4f46e5; }}")
        top = max(max(row, default=0.0), FULL)
        for j in sorted(range(len(row)), key=lambda j: -row[j])[:SHOWN]:
            if row[j] >= LEAST:
                fill = views.color(row[j], 0, top)
                rules.append(f"#{pick}:checked ~ .pg-src .{uid}-s{j} {{ background: {fill}; "
                             f"color: {views.ink(fill)}; }}")
    source = "".join(f'<span class="{uid}-s{j}">{_e(t)}</span>' for j, t in enumerate(source_tokens))
    return (f'{STYLE}<style>{"".join(rules)}</style><div class="pg-view pg-align">{"".join(radios)}'
            f'<div class="pg-line pg-out"><b>{_e(output_label)}</b> (choose a word): {"".join(labels)}</div>'
            f'<div class="pg-why">{"".join(why)}</div>'
            f'<div class="pg-line pg-src"><b>{_e(source_label)}</b>: {source}</div></div>')


def _tip(source_tokens: list[str], row: list[float]) -> str:
    top = sorted(range(len(row)), key=lambda j: -row[j])[:3]
    return "looked most at " + ", ".join(f"“{shown(source_tokens[j]).strip() or '·'}” {row[j]:.0%}" for j in top)


def pair_view(pair: dict, source_label: str, output_label: str) -> str:
    """One source and its output: the chooser, and the token heatmap when the source is short enough."""
    parts = [chooser(pair["source_tokens"], pair["output_tokens"], pair["alignment"], source_label, output_label)]
    if len(pair["source_tokens"]) <= MAX_HEATMAP_TOKENS and len(pair["output_tokens"]) <= MAX_HEATMAP_TOKENS:
        parts.append(views.heatmap(pair["alignment"], pair["output_tokens"], pair["source_tokens"], low=0.0,
                                   high=1.0, digits=2, title="Every output token (row) over the source (columns)"))
    return "".join(parts)


def translation(result: dict) -> str:
    """Each hop (one, or two through English), each sentence pair in a block of its own, the first open."""
    blocks = []
    for hop in result["hops"]:
        name = hop["model_id"].split("/")[-1]
        if len(result["hops"]) > 1:
            blocks.append(f"<h4>{_e(hop['source'])} → {_e(hop['target'])} ({_e(name)})</h4>")
        for n, pair in enumerate(hop["pairs"]):
            title = f"Sentence {n + 1}: {pair['source']}" if len(hop["pairs"]) > 1 else pair["source"]
            body = pair_view(pair, hop["source"], hop["target"])
            blocks.append(f'<details{" open" if n == 0 else ""}><summary>{_e(title)}</summary>{body}</details>')
    return f'{CSS}<div class="pg-view">{"".join(blocks)}</div>'


def summarization(result: dict) -> str:
    """The summary's words to choose from over the text; then the attention per sentence of the text."""
    pair = result["pairs"][0]
    parts = [chooser(pair["source_tokens"], pair["output_tokens"], pair["alignment"], "Text", "Summary")]
    if result.get("sentences") and pair.get("by_sentence"):
        # Sentences as rows (a few) and summary tokens as columns (many): a wide map scrolls sideways.
        columns = [list(col) for col in zip(*pair["by_sentence"])]
        rows = [f"{i + 1}. {s}" if i < len(result["sentences"]) - 1 else s for i, s in enumerate(result["sentences"])]
        parts.append(views.heatmap(columns, rows, pair["output_tokens"], cell=16, low=0.0, high=1.0, digits=2,
                                   title="Each summary token's attention (column) summed per sentence of the text"))
    elif len(pair["source_tokens"]) <= MAX_HEATMAP_TOKENS:
        parts.append(views.heatmap(pair["alignment"], pair["output_tokens"], pair["source_tokens"], low=0.0,
                                   high=1.0, digits=2))
    return f'{CSS}<div class="pg-view">{"".join(parts)}</div>'
