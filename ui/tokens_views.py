"""Views of the Tokens page: each tokenizer's pieces as clickable chips, and one piece's embedding row
with its nearest neighbours. Plain HTML built from the endpoints' dicts; the shared parts (chip colours
and outlines, heatmap, bars) come from ui/views.py.

A chip carries its piece and the models whose vocabulary it belongs to as data attributes; `CLICK_JS`
(a gr.HTML `js_on_load`) turns a click, or Enter on a focused chip, into the component's click event
with those two values, so a person picks a piece without typing.
"""

from __future__ import annotations

import html

from ui import views

CLICK_JS = """
const pick = (event) => {
  const chip = event.target.closest('[data-piece]');
  if (!chip || !element.contains(chip)) return;
  if (event.type === 'keydown') {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
  }
  trigger('click', {piece: chip.dataset.piece, models: chip.dataset.models});
};
element.addEventListener('click', pick);
element.addEventListener('keydown', pick);
"""
CSS = """
<style>
.pg-tokens .pg-chip[data-piece] { cursor: pointer; }
.pg-tokens .pg-chip[data-piece]:hover, .pg-tokens .pg-chip[data-piece]:focus { box-shadow: 0 0 0 2px #4f46e5; }
.pg-tokens .pg-row { margin: 2px 0 6px 0; }
.pg-tokens .pg-head { font-family: var(--font, sans-serif); font-size: 13px; }
.pg-tokens .pg-small { font-family: var(--font, sans-serif); font-size: 12px; opacity: 0.8; }
.pg-tokens .pg-message { font-family: var(--font, sans-serif); font-size: 13px; margin: 4px 0; }
</style>
"""
HINT = "Type a text and press Tokenize (or pick an example below)."
EMBEDDING_HINT = "Click a piece above, or pick one in Token, to see its embedding row and nearest neighbours."


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def chips(items: list[dict], models: list[str]) -> str:
    """Clickable chips (the look of views.pieces): dashed outline = special, dotted = bytes of a character."""
    out = []
    for n, item in enumerate(items):
        classes = ("pg-chip" + (" pg-special" if item.get("special") else "")
                   + (" pg-bytes" if item.get("bytes") else ""))
        tip = f"id {item['id']}"
        if item.get("text") and item["text"] != item["piece"]:
            tip += f" · text {item['text']!r}"
        if item.get("note"):
            tip += f" · {item['note']}"
        out.append(f'<span class="{classes}" role="button" tabindex="0" data-piece="{_e(item["piece"])}" '
                   f'data-models="{_e(" ".join(models))}" style="background:{views.PALETTE[n % len(views.PALETTE)]}" '
                   f'title="{_e(tip)}">{_e(views.shown(item["piece"]))}<sub>{_e(item["id"])}</sub></span>')
    return "".join(out)


def tokenizer_rows(result: dict | None) -> str:
    """One row per tokenizer: its name, counts, and its pieces of the text."""
    if not result:
        return _page(f'<div class="pg-message">{_e(HINT)}</div>')
    rows = []
    for group in result["tokenizers"]:
        counts = f"{group['text_tokens']} tokens"
        if group["special_tokens"]:
            counts += f" + {group['special_tokens']} special"
        if group["byte_pieces"]:
            counts += f" · {group['byte_pieces']} partial-byte"
        per = group["characters_per_token"]
        counts += f" · {per} characters per token" if per is not None else ""
        names = " = ".join(group["labels"])
        head = (f'<div class="pg-head" title="{_e(group["how_to_read"])}"><b>{_e(names)}</b> '
                f'<span class="pg-small">{_e(group["kind"])} · {_e(counts)} · vocabulary '
                f'{group["vocabulary_size"]:,}</span></div>')
        shared = f'<div class="pg-small">{_e(group["shared"])}</div>' if group.get("shared") else ""
        rows.append(f'<div class="pg-row">{head}{shared}<div>{chips(group["pieces"], group["model_ids"])}</div></div>')
    return _page("".join(rows))


def embedding(result: dict | None) -> str:
    """A piece's embedding row (first dims as a strip), its norm, its nearest neighbours and comparisons;
    or, for a text that is not one entry, the sentence and its pieces as chips to click."""
    if not result:
        return _page(f'<div class="pg-message">{_e(EMBEDDING_HINT)}</div>')
    if not result["found"]:
        offered = chips(result["pieces"], [result["model_id"]])
        return _page(f'<div class="pg-message">{_e(result["message"])}</div><div>{offered}</div>')
    head = (f'<div class="pg-message"><b>{_e(views.shown(result["piece"]))}</b> (id {result["id"]}) in '
            f'{_e(result["label"])}\'s input embeddings: a row of {result["dimensions"]:,} numbers '
            f'(one of {result["rows"]:,} rows), length (norm) {result["norm"]:.3f}.</div>')
    note = f'<div class="pg-small">{_e(result["note"])}</div>' if result.get("note") else ""
    values = result["row"]
    strip = views.heatmap([values], [result["piece"]], [str(i) for i in range(len(values))], cell=14,
                          diverging=True, labels=False, digits=4).replace(views.CSS, "")
    strip_caption = (f'<div class="pg-small">Its first {result["shown_dims"]} numbers (red: positive, blue: '
                     "negative; hover a cell for its value)</div>")
    neighbours = views.bars([(_label(n), n["cosine"]) for n in result["neighbours"]],
                            title="Nearest entries by cosine similarity", digits=3).replace(views.CSS, "")
    compared = ""
    if result.get("compare"):
        found = [(_label(c), c["cosine"]) for c in result["compare"] if "cosine" in c]
        missing = "".join(f'<div class="pg-small">{_e(c["message"])}</div>' for c in result["compare"]
                          if "cosine" not in c)
        compared = (views.bars(found, title="Compared with", digits=3).replace(views.CSS, "") if found else "")
        compared += missing
    return _page(head + note + strip_caption + strip + neighbours + compared)


def _label(entry: dict) -> str:
    piece = entry["piece"]
    return f"{piece}  ({entry['id']})"


def _page(body: str) -> str:
    return f'{views.CSS}{CSS}<div class="pg-view pg-tokens">{body}</div>'
