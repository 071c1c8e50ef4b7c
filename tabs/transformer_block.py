"""One block page (course chapter 4, "Transformer Layer Breakdown"): follow one token through one block of
a real model, with the values its own modules computed: residual in, normalisation, attention, add,
normalisation, feed-forward (its most active hidden units), add. Then switch a sub-layer off, and see
dropout in training vs evaluation mode.

Run on its own: python -m tabs.transformer_block
"""

from __future__ import annotations

import gradio as gr

from pipelines.core.registry import GPT2, MINILM, SMOLLM2
from pipelines.explainers import transformer_block as block
from pipelines.explainers import transformer_block_dropout as dropout
from ui import transformer_block_views as tv
from ui.assistants import Tool, as_json
from ui.widgets import (
    default_concurrency,
    describe,
    load_model,
    model_picker,
    numbers_as_given,
    public_event,
    status_box,
    user_errors,
)

# Layers 0 and 1 only: every model offered, the two-block offline miniatures included, has them.
EXAMPLES = [
    [block.EXAMPLE, SMOLLM2, 0, 2],
    ["The capital of France is", SMOLLM2, 1, 4],
    ["The cat sat on the mat.", GPT2, 1, 2],
    ["Transformers are amazing!", MINILM.repo_id, 1, 1],
]


def build(models) -> None:
    gr.Markdown(f"Follow one token through one block (text up to {block.MAX_TOKENS} tokens). Each row is a vector "
                "the model's own modules computed, read with forward hooks: its first numbers (blue < 0 < red), "
                "its length ‖x‖ and statistics, in this model's order.", elem_classes=["pg-note"])
    with gr.Row():
        text = gr.Textbox(block.EXAMPLE, label="Text", scale=3, max_length=models.settings.max_input_chars,
                          min_width=260)
        model = model_picker(models, scale=2, min_width=240)
    with gr.Row():
        layer = gr.Number(0, precision=0, label="Layer", info="which block, 0 = first", min_width=120)
        token = gr.Number(2, precision=0, label="Token", info="position, 0 = first", min_width=120)
        run = gr.Button("Step through the block", variant="primary", min_width=160)
    tokens_view = gr.HTML()
    steps_view = gr.HTML()
    status = status_box()
    inside_view = gr.HTML()  # the residual norm per block beside the top hidden units (stacked on a phone)
    with gr.Accordion("Advanced", open=False):
        with gr.Row():
            top_units = gr.Number(block.DEFAULT_UNITS, precision=0, label="Hidden units shown",
                                  info=f"1 to {block.MAX_UNITS}")
            top_k = gr.Number(block.DEFAULT_CANDIDATES, precision=0, label="Candidates",
                              info=f"next tokens shown when a sub-layer is off, 1 to {block.MAX_CANDIDATES}")
    gr.Examples(EXAMPLES, inputs=[text, model, layer, token], label="Examples (text, model, layer, token)")

    gr.Markdown("### Switch off one sub-layer\nA hook sets the sub-layer's output to zeros in the chosen block, "
                "for this request only: the residual stream goes past it unchanged (in MiniLM, the LayerNorm "
                "after the add still runs).")
    with gr.Row():
        sublayer = gr.Radio(list(block.SUBLAYERS), value=block.SUBLAYERS[0], label="Sub-layer", scale=2)
        # As sent: an API call's unknown sub-layer gets the pipeline's sentence (with the choices), not
        # Gradio's generic refusal.
        sublayer.preprocess = _as_sent
        ablate = gr.Button("Switch it off", scale=1)
    ablation_view = gr.HTML()
    ablation_status = status_box()

    with gr.Accordion("Dropout: training mode vs evaluation mode", open=False):
        with gr.Row():
            rate = gr.Slider(0.05, 0.5, dropout.COURSE_RATE, step=0.05, label="Rate p", min_width=220,
                             info="used when the model's own dropout there is 0")
            seed = gr.Number(0, precision=0, label="Seed")
            drop = gr.Button("Apply dropout", min_width=120)
        dropout_view = gr.HTML()
    with gr.Accordion("The numbers", open=False):
        block_json = gr.JSON(label="inside_block")
        ablation_json = gr.JSON(label="ablate_block")
        dropout_json = gr.JSON(label="dropout")

    @user_errors
    def inside_block(text, model_id, layer, token, top_units=block.DEFAULT_UNITS, progress=gr.Progress()):
        """Step through one Transformer block for one token, with the values the model really computed:
        the residual stream in, each normalisation (RMSNorm or LayerNorm, statistics before and after), the
        attention output, the add, the feed-forward output and its most active hidden units, the add.

        Args:
            text: English text, up to 128 tokens, e.g. "The cat sat on the mat."
            model_id: SmolLM2-135M-Instruct (default, pre-LN, RMSNorm), openai-community/gpt2 (pre-LN,
                LayerNorm) or sentence-transformers/all-MiniLM-L6-v2 (post-LN: norm after each add).
            layer: Which block, from 0.
            token: Which token (position in the text, from 0).
            top_units: How many of the feed-forward's most active hidden units to list, 1 to 32.

        Returns:
            The tokens, the block's steps, the residual norm per block with the top hidden units, JSON, a status line.
        """
        request = block.check_inside(models, text, model_id, layer, token, top_units)  # bad input: no model loads
        load_model(models, request.model_id, progress)
        result = block.inside(models, request)
        extra = (f"block {result['layer']} of {result['layers']} · token {result['token']} of "
                 f"{len(result['tokens'])} · {result['order']}, {result['norm_kind']}")
        return (tv.tokens_line(result["tokens"], result["token"]), tv.steps_table(result), tv.norms_and_units(result),
                result, describe(models.get(request.model_id), extra))

    @user_errors
    def ablate_block(text, model_id, layer, sublayer, top_k=block.DEFAULT_CANDIDATES, progress=gr.Progress()):
        """Switch off one sub-layer (attention or feed-forward) of one block, with a hook that zeroes its
        output, and compare the next-token probabilities at the last position before and after. For
        all-MiniLM-L6-v2 (no language-model head): how much each token's final hidden state changes.

        Args:
            text: English text, up to 128 tokens, e.g. "The capital of France is"
            model_id: SmolLM2-135M-Instruct (default), openai-community/gpt2 or sentence-transformers/all-MiniLM-L6-v2.
            layer: Which block, from 0.
            sublayer: "attention" or "feed-forward".
            top_k: How many next-token candidates to list, 1 to 20.

        Returns:
            The candidates before and after (or the cosine per token), JSON, a status line.
        """
        request = block.check_ablation(models, text, model_id, layer, sublayer, top_k)
        load_model(models, request.model_id, progress)
        result = block.ablate(models, request)
        extra = f"block {result['layer']}'s {request.sublayer} switched off for this request"
        return tv.ablation_view(result), result, describe(models.get(request.model_id), extra)

    @user_errors
    def apply_dropout(text, model_id, layer, token, rate, seed, progress=gr.Progress()):
        request = dropout.check_dropout(models, text, model_id, layer, token, rate, seed)
        load_model(models, request.model_id, progress)
        result = dropout.demonstrate(models, request)
        return tv.dropout_view(result), result

    public_event(models, [run.click, text.submit], inside_block, [text, model, layer, token, top_units],
                 [tokens_view, steps_view, inside_view, block_json, status],
                 tool=Tool('JSON: {"tokens", "layer", "token", "norm_kind", "order", "steps": [{"id", "name", '
                           '"module", "values" (first 8 numbers), "norm", "mean", "rms" or "std", ...}], '
                           '"residual_norms" (per block), "top_hidden_units": [{"index", "value", ...}], ...}.',
                           result=lambda *outs: as_json(outs[3])))
    public_event(models, [ablate.click], ablate_block, [text, model, layer, sublayer, top_k],
                 [ablation_view, ablation_json, ablation_status],
                 tool=Tool('JSON: {"before": [[token, probability], ...], "after": [...], "top_token": '
                           '{"token", "before", "after", "change"}, "cosine" (per token), "note", ...}.',
                           result=lambda *outs: as_json(outs[1])))
    for component in (rate, seed):
        numbers_as_given(component)
    drop.click(apply_dropout, [text, model, layer, token, rate, seed], [dropout_view, dropout_json],
               api_visibility="private", concurrency_id=models.spec.id,
               concurrency_limit=default_concurrency(models))


def _as_sent(value):
    return value


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
