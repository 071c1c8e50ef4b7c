"""The attention lab's "Worked example" sub-tab: chapter 3.6's Q, K, V for "I love AI", editable, with
every step's numbers (pipelines/explainers/attention_math.py). Part of tabs/attention.py's page."""

from __future__ import annotations

import gradio as gr

from pipelines.explainers import attention as explain
from pipelines.explainers import attention_math as worked
from ui import attention_views
from ui.assistants import Tool, as_json
from ui.widgets import public_event, user_errors

EXAMPLES = [
    [worked.COURSE_Q, worked.COURSE_K, worked.COURSE_V, True, False],
    [worked.COURSE_Q, worked.COURSE_K, worked.COURSE_V, True, True],
    [worked.COURSE_Q, worked.COURSE_K, worked.COURSE_V, False, False],
    # Long vectors of large numbers: unscaled, the softmax goes all-or-nothing; tick the scaling to see it soften.
    ["[[3, 3, 3, 3], [3, -3, 3, -3]]", "[[3, 3, 3, 3], [3, -3, 3, -3], [-3, 3, -3, 3]]",
     "[[1, 0], [0, 1], [1, 1]]", False, False],
]


def build_worked_example(models) -> None:
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
    gr.Examples(EXAMPLES, inputs=[q, k, v, scale, causal], label="Examples (course chapter 3.6)")

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

    # The tick boxes recompute at once: toggling the scaling or the mask is the point of the example.
    public_event(models, [compute.click, q.submit, k.submit, v.submit, scale.input, causal.input],
                 attention_example, [q, k, v, scale, causal], [steps, numbers, status], tool=Tool(
                     'JSON: {"scores", "scaled", "masked" (null = masked), "weights" (rows sum to 1), "output", '
                     '"d_k", "scale_factor", "row_sums"}.', result=lambda *outs: as_json(outs[1])))
