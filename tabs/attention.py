"""Attention lab tab (course chapter 3): real heads of real models, and the course's worked example.

Two sub-tabs. "Real heads": every head of one layer as small maps (the model view), one head enlarged
as token-to-token lines (the head view) and as a heatmap with token labels, and one query/key pair
taken apart (the neuron view: q, k, their products, sum, scale, softmax weight). "Worked example"
(tabs/attention_worked.py): chapter 3.6's Q, K, V for "I love AI", editable, with every step's numbers.

Run on its own: python -m tabs.attention
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from pipelines.core import checks
from pipelines.core.registry import BERT, GPT2, MINILM, SMOLLM2
from pipelines.explainers import attention as explain
from tabs.attention_worked import build_worked_example
from ui import attention_views, views
from ui.assistants import Tool, as_json
from ui.widgets import default_concurrency, describe, model_picker, public_event, status_box, user_errors

REAL_EXAMPLES = [
    [explain.EXAMPLE_TEXT, SMOLLM2, 0],
    ["The animal didn't cross the street because it was too tired.", GPT2, 5],
    ["Transformers are amazing!", MINILM.repo_id, 2],
    ["The chef who ran the small restaurant cooked a wonderful meal.", BERT, 8],
]
DEFAULT_LAYERS, DEFAULT_HEADS = 30, 9  # SmolLM2's; the sliders follow the chosen model's config
# Up to this many tokens the model view is ui.views.head_grid (a tooltip per cell, ~0.3 MB for 12 heads);
# beyond, one picture per head (ui/attention_views.head_images), or 64 tokens would send 5 MB of SVG.
SVG_GRID_TOKENS = 16
# The enlarged head's heatmap fits half of an 800 px page, but its cells stay tall enough for their
# 11 px token labels: a longer text scrolls sideways instead.
HEATMAP_PX, HEATMAP_MIN_CELL = 300, 12


def build(models) -> None:
    gr.Markdown("Which tokens each head of a real model looks at (rows: queries, columns: keys; each row's "
                "weights sum to 1). Attention is not an explanation by itself: it shows where a head looked, "
                "not why the model answered as it did.")
    with gr.Tabs(overflow_behavior="wrap"):  # every sub-tab visible on a phone, none behind "⋯"
        with gr.Tab("Real heads"):
            parts = _real_heads(models)
        with gr.Tab("Worked example (3.6)"):
            build_worked_example(models)  # wires attention_example, the registry's first endpoint
    # Wired after it, so the API and the assistants' tool list follow the registry's order.
    _wire_real_heads(models, parts)


@dataclass
class RealHeads:
    """The "Real heads" sub-tab's components, laid out first (its Text is the page's main text for ?text=)."""
    text: gr.Textbox
    model: gr.Dropdown
    layer: gr.Slider
    run: gr.Button
    grid: gr.HTML
    head: gr.Slider
    lines: gr.HTML
    heat: gr.HTML
    status: gr.Markdown
    query: gr.Dropdown
    key: gr.Dropdown
    pair: gr.Button
    pair_status: gr.Markdown
    neurons: gr.HTML
    map_json: gr.JSON
    pair_json: gr.JSON
    kept: gr.State


def _real_heads(models) -> RealHeads:
    with gr.Row():
        with gr.Column(scale=3, min_width=260):
            text = gr.Textbox(explain.EXAMPLE_TEXT, label="Text", lines=2, max_lines=4,
                              info=f"Up to {explain.MAX_TOKENS} tokens.")
            run = gr.Button("Show attention", variant="primary")
        with gr.Column(scale=2, min_width=240):
            model = model_picker(models)
            layer = gr.Slider(0, DEFAULT_LAYERS - 1, value=0, step=1, label="Layer", info="0 is the first")
    grid = gr.HTML()
    head = gr.Slider(0, DEFAULT_HEADS - 1, value=0, step=1, label="Head (enlarged)")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=360):
            lines = gr.HTML()
        with gr.Column(min_width=360):
            heat = gr.HTML()
    status = status_box()
    gr.Markdown("**One query/key pair, element by element** (the neuron view): the weight is "
                "softmax(q·k / √d_k) over the query's row, recomputed here from the layer's own q and k.")
    with gr.Row(equal_height=True):
        query = gr.Dropdown([], value=0, label="Query token", allow_custom_value=True, min_width=140)
        key = gr.Dropdown([], value=0, label="Key token", allow_custom_value=True, min_width=140)
        pair = gr.Button("Show q·k for this pair", min_width=140)
    pair_status = status_box()
    neurons = gr.HTML()
    with gr.Accordion("The numbers", open=False):
        map_json = gr.JSON(label="attention_map")
        pair_json = gr.JSON(label="attention_neurons")
    # The last map, kept on the server for re-drawing another head (no re-upload of the JSON); not in the API.
    kept = gr.State(time_to_live=900)
    gr.Examples(REAL_EXAMPLES, inputs=[text, model, layer], label="Examples (chapter 3.5: attention maps)")
    return RealHeads(text, model, layer, run, grid, head, lines, heat, status, query, key, pair, pair_status,
                     neurons, map_json, pair_json, kept)


def _wire_real_heads(models, ui: RealHeads) -> None:
    @user_errors
    def attention_map(text, model_id=None, layer=0, head=0, progress=gr.Progress()):
        """Show every attention head of one layer of a real Transformer for a text: one map per head
        (rows: query tokens, columns: key tokens; each row's weights sum to 1), one head enlarged.

        Args:
            text: The text to look at, up to 128 tokens, e.g. "The cat sat on the mat."
            model_id: Which model: SmolLM2-135M-Instruct (default), GPT-2, all-MiniLM-L6-v2 or BERT base uncased.
            layer: Which layer, 0 for the first.
            head: Which head to enlarge, 0 for the first.

        Returns:
            Every head's map, the enlarged head as lines and as a heatmap, the numbers, a status line.
        """
        found = explain.check(models, text, model_id, layer).facts  # every input checked before a model loads
        head = checks.whole_number("Head", head, 0, found.heads - 1,
                                   hint=f"{found.label} has {found.heads} heads per layer, numbered from 0.")
        _loading(models, model_id, progress)
        result = explain.attention_map(models, text, model_id, layer)
        line = describe(models.get(result["model_id"]), f"layer {result['layer']} of {result['layers']} · "
                        f"{len(result['tokens'])} tokens · {result['num_heads']} heads")
        grid_view = _model_view(result)
        return (grid_view, *_one_head(result, head), result,
                f"{line}\n\n{result['mask_note']} {result['heads_note']}", result)

    shown = public_event(models, [ui.run.click, ui.text.submit], attention_map, [ui.text, ui.model, ui.layer, ui.head],
                         [ui.grid, ui.lines, ui.heat, ui.map_json, ui.status, ui.kept], tool=Tool(
                             'JSON: {"tokens", "layer", "heads": one tokens x tokens matrix per head (row = query, '
                             'each sums to 1), "mask": "causal" or "none", "kv_head_of", "mask_note"}.',
                             result=lambda *outs: as_json(outs[3])))
    private = dict(api_visibility="private", concurrency_id=models.spec.id,
                   concurrency_limit=default_concurrency(models))
    shown.then(user_errors(_after_map), [ui.kept, ui.head], [ui.query, ui.key, ui.layer, ui.head], **private)
    ui.head.input(user_errors(_show_head), [ui.kept, ui.head], [ui.lines, ui.heat], trigger_mode="always_last",
                  **private)
    ui.model.change(user_errors(lambda model_id, layer, head: _limits(models, model_id, layer, head)),
                    [ui.model, ui.layer, ui.head], [ui.layer, ui.head], **private)

    @user_errors
    def attention_neurons(text, model_id=None, layer=0, head=0, query=0, key=0, progress=gr.Progress()):
        """Take one attention weight apart: for one head and one query/key pair, the elements of q and k
        (after the rotary rotation for SmolLM2), their products, the sum, the scale 1/sqrt(d_k) and the
        softmax weight, checked against the model's own weight.

        Args:
            text: The text, up to 128 tokens, e.g. "The cat sat on the mat."
            model_id: Which model: SmolLM2-135M-Instruct (default), GPT-2, all-MiniLM-L6-v2 or BERT base uncased.
            layer: Which layer, 0 for the first.
            head: Which query head, 0 for the first.
            query: Position of the query token, 0 for the first token.
            key: Position of the key token, 0 for the first token.

        Returns:
            The neuron view, the numbers, a status line.
        """
        _loading(models, model_id, progress)
        result = explain.attention_neurons(models, text, model_id, layer, head, query, key)
        check = "equals" if result["matches_model"] else "DIFFERS FROM"
        line = describe(models.get(result["model_id"]), f"layer {result['layer']} · head {result['head']} "
                        f"(key/value head {result['kv_head']}) · weight {result['weight']:g}")
        return (attention_views.neuron_view(result), result,
                f"{line}\n\nRecomputed weight {result['weight']:g} {check} the model's own "
                f"{result['model_weight']:g} (to {result['tolerance']:g}).")

    public_event(models, [ui.pair.click], attention_neurons, [ui.text, ui.model, ui.layer, ui.head, ui.query, ui.key],
                 [ui.neurons, ui.pair_json, ui.pair_status], tool=Tool(
                     'JSON: {"q", "k", "products" (element by element), "sum", "scale", "scaled", "weight", '
                     '"model_weight", "matches_model", "query_token", "key_token", "kv_head", "rotary"}.',
                     result=lambda *outs: as_json(outs[1])))


def _loading(models, model_id, progress) -> None:
    ckpt = models.checkpoint(model_id)
    if not models.is_loaded(ckpt.repo_id):
        progress(0, desc=f"Loading {ckpt.repo_id} (first use of this model)…")


def _model_view(result: dict) -> str:
    """Every head of the layer: SVG cells with a tooltip each for a short text, pictures for a long one."""
    mask = "causal mask, grey: hidden" if result["mask"] == "causal" else "no mask"
    title = f"Every head of layer {result['layer']} (the model view; {mask})"
    if len(result["tokens"]) <= SVG_GRID_TOKENS:
        return views.head_grid(_masked_maps(result), result["tokens"], title=title)
    return attention_views.head_images(_masked_maps(result), result["tokens"], title=title)


def _masked_maps(result: dict) -> list:
    """The heads' maps with the cells a causal mask hides as None (drawn as masked, not as a 0 weight)."""
    if result["mask"] != "causal":
        return result["heads"]
    return [[[w if j <= i else None for j, w in enumerate(row)] for i, row in enumerate(m)] for m in result["heads"]]


def _one_head(result: dict, head: int) -> tuple[str, str]:
    tokens, weights = result["tokens"], result["heads"][head]
    shared = f", key/value head {result['kv_head_of'][head]}" if result["num_kv_heads"] != result["num_heads"] else ""
    name = f"Layer {result['layer']}, head {head}{shared}"
    return (views.head_lines(weights, tokens, title=f"{name} (the head view)"),
            views.heatmap(_masked_maps(result)[head], tokens, tokens, title=f"{name}: rows are queries",
                          low=0.0, cell=max(HEATMAP_MIN_CELL, min(views.CELL, HEATMAP_PX // len(tokens)))))


def _show_head(result, head):
    if not result or not result.get("heads"):
        return gr.skip(), gr.skip()
    head = checks.whole_number("Head", head, 0, len(result["heads"]) - 1)
    return _one_head(result, head)


def _after_map(result, head):
    """After a map: the token dropdowns list each position with its token (the last query and its strongest
    key chosen), and the sliders span the model's layers and heads."""
    if not result or not result.get("tokens"):
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    choices = [(f"{i} · {views.shown(t)}", i) for i, t in enumerate(result["tokens"])]
    query = len(choices) - 1
    row = result["heads"][min(int(head or 0), len(result["heads"]) - 1)][query]
    key = max(range(len(row)), key=row.__getitem__)
    return (gr.Dropdown(choices=choices, value=query), gr.Dropdown(choices=choices, value=key),
            gr.Slider(maximum=result["layers"] - 1), gr.Slider(maximum=result["num_heads"] - 1))


def _limits(models, model_id, layer, head):
    """The sliders' ranges for the chosen model, from its config (no weights load)."""
    found = explain.facts(models, model_id)
    return (gr.Slider(maximum=found.layers - 1, value=min(int(layer or 0), found.layers - 1)),
            gr.Slider(maximum=found.heads - 1, value=min(int(head or 0), found.heads - 1)))


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
