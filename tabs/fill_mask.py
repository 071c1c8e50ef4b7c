"""Fill-mask tab: a sentence with [MASK] in, the words BERT expects there out, each shown in the sentence.

Run on its own: python -m tabs.fill_mask
"""

from __future__ import annotations

import gradio as gr

from pipelines.inside import fill_mask as inside
from pipelines.tasks import fill_mask as masking
from ui import inside_text_views
from ui.assistants import Tool, as_json
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.widgets import describe, examples, model_picker, public_event, status_box, user_errors, while_loading

HEADERS = ["mask", "rank", "candidate", "probability", "sentence"]
MORE_EXAMPLES = [
    "Paris is the [MASK] of France.",
    "The man went to the [MASK] to buy some milk.",
    "I love reading ___ before I go to sleep.",
    "The [MASK] was so funny that everyone [MASK] out loud.",
]


def build(models) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(label="Text", lines=3, placeholder=masking.EXAMPLE)
            run = gr.Button("Fill the mask", variant="primary")
            sentences = gr.Label(num_top_classes=masking.MAX_TOP_K, label="The first mask filled in")
            status = status_box()
        with gr.Column(scale=2):
            gr.Markdown(f"Write [MASK] (or `<mask>`, or `___`) where a word is missing: up to {masking.MAX_MASKS} "
                        "in one text. The model reads the whole sentence, left and right of each gap.")
            model = model_picker(models)
            top_k = gr.Number(masking.DEFAULT_TOP_K, precision=0, minimum=None, maximum=None,
                              label="Candidates per mask", info=f"1 to {masking.MAX_TOP_K}")
    table = gr.Dataframe(headers=HEADERS, label="Every mask's candidates", interactive=False, wrap=True)
    look = LookInside(models, "The candidates' probabilities, and what the mask position attended to in each "
                      "layer (averaged over heads). Attention shows where the model looked, not why it chose a word.")
    listed = dict.fromkeys([*examples(models.spec.examples), *MORE_EXAMPLES])  # in order, each once
    gr.Examples([[e] for e in listed], inputs=[text],
                label="Examples (chapter 8: BERT fills in the blank)")

    @user_errors
    def fill_mask(text, model_id=None, top_k=masking.DEFAULT_TOP_K, progress=gr.Progress()):
        """Guess missing words with BERT: for each [MASK] in a text, the likeliest words to fill it, with
        their probabilities. The model reads the whole sentence, left and right of each gap.

        Args:
            text: English text with 1 to 5 gaps written [MASK] (or <mask> or ___), e.g. "The [MASK] chased the mouse."
            model_id: Which model: BERT base uncased (default) or DistilBERT base uncased (smaller, faster).
            top_k: Candidates per gap, 1 to 20.

        Returns:
            The first gap's candidates shown in the sentence, a table of every gap's candidates, a status line.
        """
        request = masking.check(models, text, model_id, top_k)  # bad input: no model loads
        yield from while_loading(models, request.model_id, progress, gr.skip(), gr.skip())
        result = masking.run(models, request)
        # Keyed by rank too: "x" and "##x" at the start of a text make the same sentence.
        first = {f"{rank}. {c.sentence}": c.probability for rank, c in enumerate(result.gaps[0].candidates, 1)}
        rows = [[g, rank, c.token, round(c.probability, 4), c.sentence]
                for g, gap in enumerate(result.gaps, 1) for rank, c in enumerate(gap.candidates, 1)]
        plural = "s" if len(result.gaps) != 1 else ""
        line = describe(models.get(request.model_id), f"{len(result.gaps)} mask{plural} · {result.tokens} tokens")
        yield first, rows, line + "".join(f"\n\n{note}" for note in result.notes)

    filled = public_event(models, [run.click, text.submit], fill_mask, [text, model, top_k],
                          [sentences, table, status],
                          tool=Tool('JSON: {"masks": one list per gap, in order, of {"token", "probability", '
                                    '"sentence"} (the sentence with that word filled in), likeliest first}.',
                                    result=for_assistants))
    look.follow(filled, [text, model, top_k, table], inside.explain, inside_text_views.fill_mask)
    code_block(models, Wiring([filled], [text, model, top_k], lambda *values: masking.check(models, *values)),
               example=lambda: masking.check(models, masking.EXAMPLE))


def for_assistants(_first: dict, rows: list, _status: str) -> str:
    """The tool's result: every gap's candidates, from the table's rows (gap, rank, token, probability, sentence)."""
    masks: dict[int, list] = {}
    for gap, _rank, token, probability, sentence in rows:
        masks.setdefault(gap, []).append({"token": token, "probability": probability, "sentence": sentence})
    return as_json({"masks": list(masks.values())})


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
