"""Positions page (course chapters 2.5 and 11): the course's sinusoidal encoding and its similarity matrix,
then a real model's positions: learned vectors (BERT, MiniLM, GPT-2) or rotary (SmolLM2).

Run on its own: python -m tabs.positions
"""

from __future__ import annotations

import gradio as gr

from pipelines.explainers import positions
from ui import positions_views as pv
from ui.assistants import Tool, as_json
from ui.widgets import describe, model_picker, public_event, status_box, user_errors, while_loading

ENCODING_EXAMPLES = [[16, 32], [64, 128], [128, 512], [50, 4]]


def build(models) -> None:
    gr.Markdown("**The course's formula** (chapter 11), added to each token's embedding: "
                "PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).")
    with gr.Row(equal_height=True):
        length = gr.Slider(1, positions.MAX_LENGTH, positions.DEFAULT_LENGTH, step=1, label="Length",
                           info=f"positions, 1 to {positions.MAX_LENGTH}", scale=2)
        d_model = gr.Slider(2, positions.MAX_D_MODEL, positions.DEFAULT_D_MODEL, step=2, label="d_model",
                            info=f"dimensions, even, 2 to {positions.MAX_D_MODEL}", scale=2)
        draw = gr.Button("Draw the encoding", variant="primary", scale=1, min_width=140)
    gr.Markdown("The encoding: one row per position (fast waves on the left, slow ones on the right); beside it, "
                "how alike every two positions' vectors are.")
    encoding_view = gr.HTML()
    encoding_status = status_box()
    with gr.Accordion("The numbers", open=False):
        encoding_json = gr.JSON(label="positional_encoding")
    gr.Examples(ENCODING_EXAMPLES, inputs=[length, d_model], label="Examples (length, d_model)")

    gr.Markdown("### A real model's positions")
    with gr.Row():
        model = model_picker(models)
        model_length = gr.Slider(1, positions.MAX_LENGTH, positions.DEFAULT_LENGTH, step=1, label="Length",
                                 info="the first positions of the model")
    show = gr.Button("Show the model's positions", variant="primary")
    with gr.Accordion("Advanced", open=False):
        with gr.Row():
            head = gr.Number(0, precision=0, label="Head", info="rotary models: which query head")
            vectors = gr.Radio(list(positions.VECTORS), value=positions.VECTORS[0], label="q and k vectors",
                               info=f"rotary models: of '{positions.QUERY_WORD.strip()}' and "
                                    f"'{positions.KEY_WORD.strip()}' "
                                    "in layer 0, or random")
            seed = gr.Number(0, precision=0, label="Seed", info="for random q and k")
    model_view = gr.HTML()
    model_status = status_box()
    with gr.Accordion("The numbers", open=False):
        model_json = gr.JSON(label="model_positions")
    gr.Examples([[c.repo_id, n] for c, n in zip(models.spec.checkpoints, (16, 128, 64, 32))],
                inputs=[model, model_length], label="Examples (model, length)")
    gr.Markdown(scheme_table())

    @user_errors
    def positional_encoding(length, d_model):
        """The course's sinusoidal positional encoding, PE(pos, 2i) = sin(pos / 10000^(2i/d_model)) and
        PE(pos, 2i+1) = cos(...), as a position x dimension matrix, and the cosine similarity of its rows.

        Args:
            length: Number of positions, 1 to 128.
            d_model: Number of dimensions, an even number from 2 to 512.

        Returns:
            A heatmap of the encoding and of its similarity matrix, the numbers as JSON, a status line.
        """
        result = positions.positional_encoding(models, length, d_model)
        line = (f"Sinusoidal encoding: {result['length']} positions × {result['d_model']} dimensions · every row "
                f"has norm √(d_model/2) = {result['row_norm']:g} · max deviation along a diagonal of the "
                f"similarity: {result['diagonal_max_deviation']:.1e}")
        return encoding_views(result), result, line

    public_event(models, [draw.click], positional_encoding, [length, d_model],
                 [encoding_view, encoding_json, encoding_status],
                 tool=Tool('JSON: {"pe": length x d_model values, "similarity": length x length cosines, '
                           '"similarity_by_offset", "row_norm", "diagonal_max_deviation", "wavelengths"}.',
                           result=lambda *outs: as_json(outs[1])))

    @user_errors
    def model_positions(model_id, length, head=0, vectors=positions.VECTORS[0], seed=0, progress=gr.Progress()):
        """How a real model encodes positions. Learned (BERT, MiniLM, GPT-2): the cosine similarity of its
        first position vectors. Rotary (SmolLM2): the query-key scores of one q and k rotated to positions
        m and n by the model's own rotary code, which depend only on the offset (constant diagonals).

        Args:
            model_id: all-MiniLM-L6-v2 (default), BERT base uncased, GPT-2 or SmolLM2-135M-Instruct.
            length: Number of positions, 1 to 128.
            head: Rotary models: which query head (from 0).
            vectors: Rotary models: "first layer" (q of 'cat', k of 'sat' in layer 0) or "random".
            seed: Seed of the random q and k.

        Returns:
            A heatmap (similarity or scores) with its curve by offset, the numbers as JSON, a status line.
        """
        request = positions.check_model_positions(models, model_id, length, head, vectors, seed)  # no load yet
        yield from while_loading(models, request.model_id, progress, gr.skip(), gr.skip())
        result = positions.run_model_positions(models, request)
        extra = f"{result['scheme']} positions · {result['length']} positions"
        yield model_views(result), result, describe(models.get(result["model_id"]), extra)

    public_event(models, [show.click], model_positions, [model, model_length, head, vectors, seed],
                 [model_view, model_json, model_status],
                 tool=Tool('JSON: {"scheme": "learned" or "rotary", "similarity" (learned) or "scores" (rotary) '
                           'as length x length values, "diagonal_max_deviation", and the config facts '
                           '(max_positions, rope_theta, head_dim, ...)}.', result=lambda *outs: as_json(outs[1])))


def encoding_views(result: dict) -> str:
    n, d = result["length"], result["d_model"]
    waves = result["wavelengths"]
    encoding = pv.matrix(result["pe"], f"PE: {n} positions × {d} dimensions", "position", "dimension")
    similarity = pv.matrix(result["similarity"], "Cosine similarity of positions", "position", "position",
                           width=pv.WIDTH // 2)
    curve = pv.offset_curve(result["similarity_by_offset"], "Similarity by offset",
                            "the same for every pair that far apart")
    note = (f"<div style='font-size:12px'>Dimensions 0 and 1 repeat every {waves[0]:g} positions; the last pair "
            f"every {waves[-1]:,.0f}. Each row's dot product with itself is d_model/2 = {d // 2}.</div>")
    return pv.side_by_side(encoding, similarity, curve) + note


def model_views(result: dict) -> str:
    n = result["length"]
    if result["scheme"] == "rotary":
        values = [v for row in result["scores"] for v in row]
        grid = pv.matrix(result["scores"], "q·k/√head_dim: q at position m (row), k at position n (column)",
                         "query position", "key position", low=min(values), high=max(values), width=360,
                         diverging=False)
        curve = pv.offset_curve(result["score_by_offset"], "Score by offset m − n",
                                f"without rotation every pair would score {result['unrotated_score']:g}")
        facts = (f"<b>Rotary</b> (rope_theta {result['rope_theta']:,g}, head_dim {result['head_dim']}): "
                 f"{result['where']}. q: {result['q_from']}; k: {result['k_from']}. Every diagonal is "
                 f"constant: <b>max deviation {result['diagonal_max_deviation']:.1e}</b> (float32 rounding).")
    else:
        grid = pv.matrix(result["similarity"], f"Cosine similarity of the first {n} learned position vectors",
                         "position", "position", width=360)
        curve = pv.offset_curve(result["similarity_by_offset"], "Mean similarity by offset",
                                "averaged over all pairs that far apart")
        near, far = result["neighbour_similarity"], result["far_similarity"]
        compare = (f" Neighbours: {near:.3f} on average; positions {result['far_from_offset']}+ apart: {far:.3f}."
                   if near is not None and far is not None else "")
        facts = (f"<b>Learned absolute</b> (max {result['max_positions']} positions): {result['where']}."
                 f"{compare} Max deviation along a diagonal: <b>{result['diagonal_max_deviation']:.3g}</b> "
                 "(nothing forces it to depend on the offset only).")
    return f"<div style='font-size:12px;margin-bottom:6px'>{facts}</div>" + pv.side_by_side(grid, curve)


def scheme_table() -> str:
    def limit(n) -> str:
        return f"up to {n:,}" if isinstance(n, int) else str(n)

    rows = "\n".join(f"| {s['model']} | {s['scheme']} | {limit(s['max_positions'])} | {s['where']} |"
                     for s in positions.SCHEMES)
    return ("**Which scheme each model uses** (real checkpoints)\n\n| Model | Scheme | Positions | Where |\n"
            f"|---|---|---|---|\n{rows}")


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
