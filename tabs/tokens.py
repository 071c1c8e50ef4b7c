"""Tokens page (course chapters 2.1-2.2 and 9): one text split by several tokenizers side by side, and
a piece's row of a model's input embedding matrix with its nearest neighbours.

Run on its own: python -m tabs.tokens
"""

from __future__ import annotations

import gradio as gr

from pipelines.explainers import tokens as explainer
from ui import tokens_views
from ui.assistants import Tool, as_json
from ui.widgets import default_concurrency, describe, model_picker, public_event, status_box, user_errors, while_loading

EXAMPLES = [
    explainer.EXAMPLE,  # the course's: BERT gives transformers, are, amazing, !
    "Tokenizers disagree: café, Łódź, 🤗 and unbelievably long words.",
    "The cat sat on the mat.",
    "def add(a, b):\n    return a + b",
]
LEGEND = ("Each tokenizer splits the text its own way. `##`: continues the word before it (WordPiece) · `Ġ`: a "
          "space before the piece (byte-level BPE) · dashed: special token · dotted: bytes of one character split "
          "across pieces. **Click a piece** for its embedding row and nearest neighbours.")


def build(models) -> None:
    private = dict(api_visibility="private", concurrency_id=models.spec.id,
                   concurrency_limit=default_concurrency(models))
    gr.Markdown(LEGEND)
    with gr.Row(equal_height=False):
        text = gr.Textbox(label="Text", lines=2, placeholder=explainer.EXAMPLE, scale=4)
        run = gr.Button("Tokenize", variant="primary", scale=1, min_width=120)
    pieces = gr.HTML(tokens_views.tokenizer_rows(None), label="Pieces", js_on_load=tokens_views.CLICK_JS)
    pieces_status = status_box()
    with gr.Row(equal_height=False):
        model = model_picker(models, scale=2)
        token = gr.Dropdown(label="Token", choices=[], value=None, allow_custom_value=True, filterable=True,
                            info="A piece of the text above, or type a word", scale=2)
        show = gr.Button("Show embedding", scale=1, min_width=120)
    # Its choices follow the last text; for API and MCP callers it takes any token, not an (empty) enum.
    token.api_info = lambda: {"type": "string"}
    row = gr.HTML(tokens_views.embedding(None), label="Embedding", js_on_load=tokens_views.CLICK_JS)
    row_status = status_box()
    with gr.Accordion("Advanced", open=False):
        special = gr.Checkbox(True, label="Add special tokens", info="[CLS] and [SEP] for BERT, Whisper's prefix")
        with gr.Row():
            top_k = gr.Number(explainer.DEFAULT_TOP_K, precision=0, label="Neighbours",
                              info=f"1 to {explainer.MAX_TOP_K}")
            dims = gr.Number(explainer.DEFAULT_DIMS, precision=0, label="Dimensions shown",
                             info=f"{explainer.MIN_DIMS} to {explainer.MAX_DIMS} of the row's first numbers")
            compare = gr.Textbox("", label="Compare with", placeholder="dog, car",
                                 info="Tokens (comma-separated) whose cosine with the piece you want to see")
    with gr.Accordion("The numbers", open=False):
        pieces_json = gr.JSON(label="tokenize")
        row_json = gr.JSON(label="nearest_tokens")
    gr.Examples([[e] for e in EXAMPLES], inputs=[text], label="Examples (chapter 2: tokens and embeddings)")

    @user_errors
    def tokenize(text, special_tokens=True):
        """Split a text with several real tokenizers side by side (BERT's WordPiece, GPT-2's byte-level BPE,
        SmolLM2's and Whisper's BPEs): each one's pieces with their ids, counts and characters per token;
        special tokens and bytes of a character split across pieces are flagged. No model weights load.

        Args:
            text: Any text, up to 2,000 characters, e.g. "Transformers are amazing!".
            special_tokens: Add each tokenizer's special tokens ([CLS] and [SEP] for BERT, Whisper's prefix).

        Returns:
            The pieces view, the JSON of every tokenizer's pieces, a status line.
        """
        result = explainer.tokenize(models, text, special_tokens)
        line = (f"{len(result['tokenizers'])} tokenizers, {result['characters']} characters · tokenizers only: "
                "no model weights loaded.")
        return tokens_views.tokenizer_rows(result), result, line

    @user_errors
    def nearest_tokens(token, model_id=None, top_k=explainer.DEFAULT_TOP_K, dims=explainer.DEFAULT_DIMS,
                       compare="", progress=gr.Progress()):
        """A vocabulary entry's row of a model's input embedding matrix (its first numbers and its norm) and
        its nearest entries by cosine similarity. A text that is not one entry gets the pieces it splits into.

        Args:
            token: A vocabulary entry as the tokenizer shows it ("cat", "Ġare", "##ing") or a word, e.g. "cat".
            model_id: Whose embeddings: all-MiniLM-L6-v2 (default), BERT base uncased, GPT-2, SmolLM2-135M-Instruct
                or Whisper base.
            top_k: Nearest entries to list, 1 to 50.
            dims: How many of the row's first numbers to return, 8 to 64.
            compare: Tokens separated by commas to measure the cosine with, e.g. "dog, car".

        Returns:
            The embedding view, the JSON of the row and its neighbours, a status line.
        """
        explainer.check_nearest(models, token, model_id, top_k, dims, compare)  # bad input: nothing loads
        if explainer.needs_weights(models, token, model_id):
            yield from while_loading(models, model_id, progress, gr.skip(), gr.skip())
        result = explainer.nearest_tokens(models, token, model_id, top_k, dims, compare)
        if not result["found"]:
            yield tokens_views.embedding(result), result, f"{result['label']}: {result['message']}"
            return
        extra = (f"{result['piece']!r}: cosine with all {result['rows']:,} rows of the input embeddings "
                 f"({result['dimensions']} numbers each)")
        yield tokens_views.embedding(result), result, describe(models.get(model_id), extra)

    def refresh(token, *settings, progress=gr.Progress()):
        """nearest_tokens for the page's own chains: nothing yet when no piece is picked."""
        if not str(token or "").strip():
            yield gr.skip(), gr.skip(), gr.skip()
            return
        yield from nearest_tokens(token, *settings, progress=progress)

    def offer(result, model_id, current):
        """The Token list: the pieces the chosen model's tokenizer made of the text (kept if still there)."""
        choices = _choices(result, models.checkpoint(model_id).repo_id)
        values = [value for _label, value in choices]
        keep = current if current in values else next(iter(_text_pieces(result, model_id, models)), None)
        return gr.update(choices=choices, value=keep or current)

    def pick(result, model_id, event: gr.EventData):
        """A click on a chip: its piece, in the model picked if the piece is of its vocabulary, else the
        first model the chip names."""
        named = str(getattr(event, "models", "") or "").split()
        current = models.checkpoint(model_id).repo_id
        chosen = current if current in named or not named else named[0]
        choices = _choices(result, chosen)
        piece = getattr(event, "piece", None)
        if piece is not None and piece not in [value for _label, value in choices]:
            choices.append((piece, piece))
        return gr.update(value=chosen), gr.update(choices=choices, value=piece)

    row_outputs = [row, row_json, row_status]
    row_inputs = [token, model, top_k, dims, compare]
    tokenized = public_event(models, [run.click, text.submit], tokenize, [text, special],
                             [pieces, pieces_json, pieces_status],
                             tool=Tool('JSON: {"text", "characters", "tokenizers": [{"labels", "model_ids", "kind", '
                                       '"pieces": [{"piece", "id", "text", "special", "bytes", "note"}], "tokens", '
                                       '"text_tokens", "special_tokens", "characters_per_token", ...}]}.',
                                       result=lambda *outs: as_json(outs[1])))
    # After tokenizing, show the first piece of the picked model right away: the page tells the whole story.
    tokenized.success(user_errors(offer), [pieces_json, model, token], [token], **private).success(
        refresh, row_inputs, row_outputs, **private)
    public_event(models, [show.click, token.select], nearest_tokens, row_inputs, row_outputs,
                 tool=Tool('JSON: {"piece", "id", "dimensions", "norm", "row": first numbers, "neighbours": '
                           '[{"piece", "id", "text", "cosine"}], "compare": [...]} or, for a text that is not one '
                           'entry, {"found": false, "message", "pieces"}.', result=lambda *outs: as_json(outs[1])))
    model.input(user_errors(offer), [pieces_json, model, token], [token], **private).success(
        refresh, row_inputs, row_outputs, **private)
    for view in (pieces, row):
        view.click(user_errors(pick), [pieces_json, model], [model, token], **private).success(
            refresh, row_inputs, row_outputs, **private)


def _choices(result, repo_id: str) -> list[tuple[str, str]]:
    """(label, piece) for each distinct piece the tokenizer of `repo_id` made, in text order."""
    for group in (result or {}).get("tokenizers", []):
        if repo_id in group["model_ids"]:
            seen = dict.fromkeys(p["piece"] for p in group["pieces"])
            ids = {p["piece"]: p["id"] for p in group["pieces"]}
            return [(f"{piece}  ({ids[piece]})", piece) for piece in seen]
    return []


def _text_pieces(result, model_id, models) -> list[str]:
    """The chosen model's pieces of the text that are not special tokens (the first is shown first)."""
    repo_id = models.checkpoint(model_id).repo_id
    for group in (result or {}).get("tokenizers", []):
        if repo_id in group["model_ids"]:
            return [p["piece"] for p in group["pieces"] if not p["special"]]
    return []


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
