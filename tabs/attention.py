"""Attention lab tab (course chapter 3): real heads of real models, and the course's worked example.

Two sub-tabs. "Real heads": every head of one layer as small maps (the model view), one head enlarged
as token-to-token lines (the head view) and as a heatmap with token labels, and one query/key pair
taken apart (the neuron view: q, k, their products, sum, scale, softmax weight). "Worked example":
chapter 3.6's Q, K, V for "I love AI", editable, with every step's numbers.

Run on its own: python -m tabs.attention
"""

from __future__ import annotations

import gradio as gr

from pipelines.core import checks
from pipelines.core.registry import BERT, GPT2, MINILM, SMOLLM2
from pipelines.explainers import attention as explain
from pipelines.explainers import attention_math as worked
from ui import attention_views, views
from ui.assistants import Tool, as_json
from ui.widgets import default_concurrency, describe, model_picker, public_event, status_box, user_errors

REAL_EXAMPLES = [
    [explain.EXAMPLE_TEXT, SMOLLM2, 0],
    ["The animal didn't cross the street because it was too tired.", GPT2, 5],
    ["Transformers are amazing!", MINILM.repo_id, 2],
    ["The chef who ran the small restaurant cooked a wonderful meal.", BERT, 8],
]
WORKED_EXAMPLES = [
    [worked.COURSE_Q, worked.COURSE_K, worked.COURSE_V, True, False],
    [worked.COURSE_Q, worked.COURSE_K, worked.COURSE_V, True, True],
    [worked.COURSE_Q, worked.COURSE_K, worked.COURSE_V, False, False],
    ["[[3, 3, 3, 3], [3, -3, 3, -3]]", "[[3, 3, 3, 3], [3, -3, 3, -3], [-3, 3, -3, 3]]",
     "[[1, 0], [0, 1], [1, 1]]", False, False],
]
DEFAULT_LAYERS, DEFAULT_HEADS = 30, 9  # SmolLM2's; the sliders follow the chosen model's config
# Up to this many tokens the model view is ui.views.head_grid (a tooltip per cell, ~0.3 MB for 12 heads);
# beyond, one picture per head (ui/attention_views.head_images), or 64 tokens would send 5 MB of SVG.
SVG_GRID_TOKENS = 16
HEATMAP_PX = 300  # the enlarged head's heatmap fits half of an 800 px page


def build(models) -> None:
    gr.Markdown("Which tokens each head of a real model looks at (rows: queries, columns: keys; each row's "
                "weights sum to 1). Attention is not an explanation by itself: it shows where a head looked, "
                "not why the model answered as it did.")
    with gr.Tabs():
        with gr.Tab("Real heads"):
            _real_heads(models)
        with gr.Tab("Worked example (3.6)"):
            _worked_example(models)


def _real_heads(models) -> None:
    with gr.Row():
        with gr.Column(scale=3, min_width=260):
            text = gr.Textbox(explain.EXAMPLE_TEXT, label="Text", lines=2, max_lines=4,
                              info=f"Up to {explain.MAX_TOKENS} tokens.")
            run = gr.Button("Show attention", variant="primary")
        with gr.Column(scale=2, min_width=240):
            model = model_picker(models)
            layer = gr.Slider(0, DEFAULT_LAYERS - 1, value=0, step=1, label="Layer", info="0 is the first")
    grid = gr.HTML()
    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            head = gr.Slider(0, DEFAULT_HEADS - 1, value=0, step=1, label="Head (enlarged)")
            lines = gr.HTML()
        with gr.Column(min_width=300):
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
        _loading(models, model_id, progress)
        result = explain.attention_map(models, text, model_id, layer)
        head = checks.whole_number("Head", head, 0, result["num_heads"] - 1)
        line = describe(models.get(result["model_id"]), f"layer {result['layer']} of {result['layers']} · "
                        f"{len(result['tokens'])} tokens · {result['num_heads']} heads")
        grid_view = _model_view(result)
        return (grid_view, *_one_head(result, head), result,
                f"{line}\n\n{result['mask_note']} {result['heads_note']}", result)

    shown = public_event(models, [run.click, text.submit], attention_map, [text, model, layer, head],
                         [grid, lines, heat, map_json, status, kept], tool=Tool(
                             'JSON: {"tokens", "layer", "heads": one tokens x tokens matrix per head (row = query, '
                             'each sums to 1), "mask": "causal" or "none", "kv_head_of", "mask_note"}.',
                             result=lambda *outs: as_json(outs[3])))
    private = dict(api_visibility="private", concurrency_id=models.spec.id,
                   concurrency_limit=default_concurrency(models))
    shown.then(user_errors(_after_map), [kept, head], [query, key, layer, head], **private)
    head.input(user_errors(_show_head), [kept, head], [lines, heat], trigger_mode="always_last", **private)
    model.change(user_errors(lambda model_id, layer, head: _limits(models, model_id, layer, head)),
                 [model, layer, head], [layer, head], **private)

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
                f"{result['model_weight']:g} (to 1e-4).")

    public_event(models, [pair.click], attention_neurons, [text, model, layer, head, query, key],
                 [neurons, pair_json, pair_status], tool=Tool(
                     'JSON: {"q", "k", "products" (element by element), "sum", "scale", "scaled", "weight", '
                     '"model_weight", "matches_model", "query_token", "key_token", "kv_head", "rotary"}.',
                     result=lambda *outs: as_json(outs[1])))


def _worked_example(models) -> None:
    gr.Markdown("Chapter 3.6's example: the rows of Q, K and V are the tokens *I*, *love*, *AI*. Change any "
                "number, or the shapes (Q and K need the same width; K and V the same number of rows).")
    with gr.Row():
        q = gr.Textbox(worked.COURSE_Q, label="Q", info="queries, one row per token", min_width=160)
        k = gr.Textbox(worked.COURSE_K, label="K", info="keys, as wide as Q", min_width=160)
        v = gr.Textbox(worked.COURSE_V, label="V", info="values, one row per key", min_width=160)
    with gr.Row(equal_height=True):
        scale = gr.Checkbox(True, label="Scale by √d_k", min_width=120)
        causal = gr.Checkbox(False, label="Causal mask", min_width=120)
        compute = gr.Button("Compute attention", variant="primary", min_width=160)
    status = gr.Markdown(elem_classes=["model-status"])
    steps = gr.HTML()
    with gr.Accordion("The numbers", open=False):
        numbers = gr.JSON(label="attention_example")
    gr.Examples(WORKED_EXAMPLES, inputs=[q, k, v, scale, causal], label="Examples (course chapter 3.6)")

    @user_errors
    def attention_example(q, k, v, scale=True, causal=False):
        """Scaled dot-product attention, softmax(Q·Kᵀ/√d_k)·V, step by step on small matrices you type.

        Args:
            q: The queries as rows of numbers, e.g. "[[1, 0], [0, 1], [1, 1]]" (at most 16 x 16).
            k: The keys, as many columns as q, e.g. "[[1, 0], [0, 1], [1, 1]]".
            v: The values, as many rows as k, e.g. "[[0.1, 0.2], [0.2, 0.3], [0.3, 0.4]]".
            scale: Divide the scores by sqrt(d_k) (true) or not (false).
            causal: Hide later keys from each query (true) or not (false).

        Returns:
            Every step's numbers, the numbers as JSON, a status line.
        """
        result = explain.attention_example(models, q, k, v, scale, causal)
        shapes = result["shapes"]
        tokens = list(worked.COURSE_TOKENS) if shapes["Q"][0] == shapes["K"][0] == 3 else None
        line = (f"{shapes['Q'][0]} queries over {shapes['K'][0]} keys, d_k = {result['d_k']}; "
                + ("scores divided by √d_k" if result["scale"] else "scores not scaled") + "; "
                + ("causal mask" if result["causal"] else "no mask") + ". Every softmax row sums to 1.")
        return attention_views.example_steps(result, tokens), result, line

    public_event(models, [compute.click, q.submit, k.submit, v.submit, scale.input, causal.input],
                 attention_example, [q, k, v, scale, causal], [steps, numbers, status], tool=Tool(
                     'JSON: {"scores", "scaled", "masked" (null = masked), "weights" (rows sum to 1), "output", '
                     '"d_k", "scale_factor", "row_sums"}.', result=lambda *outs: as_json(outs[1])))


def _loading(models, model_id, progress) -> None:
    ckpt = models.checkpoint(model_id)
    if not models.is_loaded(ckpt.repo_id):
        progress(0, desc=f"Loading {ckpt.repo_id} (first use of this model)…")


def _model_view(result: dict) -> str:
    """Every head of the layer: SVG cells with a tooltip each for a short text, pictures for a long one."""
    title = f"Every head of layer {result['layer']} (the model view)"
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
                          low=0.0, cell=max(5, min(views.CELL, HEATMAP_PX // len(tokens)))))


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
