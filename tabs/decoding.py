"""Encoder-decoder page: the decoder writes one token per click, showing its masked self-attention over
the output so far, its cross-attention over the source (a sentence, or Whisper's audio frames), and
the candidates it chose from. Text to text here; speech to text in tabs/decoding_audio.py.

The server keeps no state (pipelines/explainers/decoding.py): the page holds the output so far, as text
in "Output so far" and exactly as token ids in a hidden box, and sends both with each step.

API: /decode_step(text, output="", model_id="Helsinki-NLP/opus-mt-en-de", output_ids="", layer="last",
head="mean", top_k=5) returns [the step (JSON), output, output ids, step view, candidates, pick,
self-attention, cross-attention, status]; /decode_audio_step likewise (tabs/decoding_audio.py).

Run on its own: python -m tabs.decoding
"""

from __future__ import annotations

import json

import gradio as gr

from pipelines.explainers import decoding
from pipelines.explainers.decoding_core import probability
from ui import decoding_views as views_here
from ui import views
from ui.assistants import Tool, as_json
from ui.widgets import default_concurrency, describe, public_event, status_box, user_errors, while_loading

# Both real decoders (opus-mt-en-de, whisper-base) have 6 layers of 8 heads; the offline miniatures
# fewer, and the pipeline names the range when a choice is outside the loaded model's.
LAYER_CHOICES = [("last", decoding.LAST)] + [(str(i), str(i)) for i in range(6)]
HEAD_CHOICES = [("mean of the heads", decoding.MEAN)] + [(str(i), str(i)) for i in range(8)]
EXAMPLES = [
    "Good morning!",
    "The cat sat on the mat.",
    "How are you?",
    "The animal didn't cross the street because it was too tired.",
    "I would like a cup of coffee, please.",
]
CAPTION = ("Rows are the decoder's positions: its start token, then the output so far; the last row (▶) is "
           "the step that chose the new token. Self-attention can only look back (grey: masked future); "
           "cross-attention looks at the source. Default: the last layer, mean over its heads (Advanced "
           "to pick another). Attention shows where the model looked, not why: it is not an explanation "
           "by itself.")
# Index of the gr.JSON among a step's outputs: what assistants get; first, so that the contract's pins hold it.
JSON_RESULT = 0


def build(models) -> None:
    gr.Markdown("The encoder reads the source once; the decoder writes one token per step, looking at its own "
                "output (masked self-attention) and at the source (cross-attention). Course chapters 5 and 2.")
    with gr.Tabs(overflow_behavior="wrap"):
        with gr.Tab("Translation"):
            _text_half(models)
        with gr.Tab("Speech (Whisper)"):
            from tabs.decoding_audio import build_speech

            build_speech(models)


def view_controls():
    """The Advanced accordion's layer, head and candidate count (the model picker goes in first)."""
    layer = gr.Dropdown(LAYER_CHOICES, value=decoding.LAST, label="Layer", allow_custom_value=True,
                        info="Decoder layer, 0 = the first.")
    head = gr.Dropdown(HEAD_CHOICES, value=decoding.MEAN, label="Head", allow_custom_value=True,
                       info="One head, or the mean over all of them.")
    top_k = gr.Number(decoding.DEFAULT_TOP_K, precision=0, minimum=None, maximum=None, label="Candidates",
                      info=f"1 to {decoding.MAX_TOP_K}")
    return layer, head, top_k


def buttons() -> tuple[gr.Button, gr.Button, gr.Button]:
    """Next token (the page's main button), Finish greedily and Start over, on one line even in a phone."""
    with gr.Row(equal_height=True):
        return (gr.Button("Next token", variant="primary", min_width=90, scale=2),
                gr.Button("Finish greedily", min_width=90, scale=2), gr.Button("Start over", min_width=80, scale=1))


def progress_outputs(result: dict) -> tuple:
    """While finishing greedily: only the growing output (the maps of every step would be megabytes of
    SVG streamed for nothing); the last step gets `step_outputs`."""
    status = f"Finishing greedily: step {len(result['next_output_ids'])}…"
    return (gr.skip(), result["next_output"], json.dumps(result["next_output_ids"]),
            views_here.growing_output(result), *[gr.skip()] * 4, status)


def finishing(results, outputs_of):
    """Every step's progress outputs, then the last step's full outputs."""
    last = None
    for last in results:
        yield progress_outputs(last)
    if last is not None:
        yield outputs_of(last)


def step_outputs(loaded, result: dict, cross_view: str, extra: str) -> tuple:
    """A step's outputs, in the order of `Step.outputs`."""
    chosen = str(result["next_id"])
    pick = gr.Radio(choices=[(f"{views.shown(c['token'])}  {c['probability']:.3f}", str(c["id"]))
                             for c in result["candidates"]], value=chosen)
    rows = result["output_tokens"]
    self_view = views_here.attention_heatmap(result["self_attention"], rows, rows, causal=True,
                                             title=f"Masked self-attention ({views_here.layer_caption(result)})")
    bars = views.bars([(c["token"], c["probability"]) for c in result["candidates"]],
                      title="Next-token candidates", markers={0: "the greedy choice"})
    line = describe(loaded, f"step {len(result['next_output_ids'])} · {extra} · {views_here.layer_caption(result)}")
    return (result, result["next_output"], json.dumps(result["next_output_ids"]), views_here.growing_output(result),
            bars, pick, self_view, cross_view, line)


class Step:
    """The components one half of the page shows a step in, and its Start over / pick wiring."""

    def __init__(self):
        self.output = gr.Textbox("", label="Output so far", lines=1,
                                 placeholder="Empty: the decoder starts. Type words to make it continue from them.")
        # The same output as token ids, exactly (text typed back need not give the same tokens): sent
        # with the next step, and overridden there by the text when a person edits it.
        self.ids = gr.Textbox("", visible=False, interactive=False, label="Output ids")
        self.step = gr.HTML()

    def side(self):
        self.candidates = gr.HTML()
        self.pick = gr.Radio(choices=[], label="Or pick another candidate",
                             info="The next step continues from the token you pick.")

    def panels(self, cross_label: str, side_by_side: bool = True):
        """The two attention views: side by side (they wrap on a phone), or the cross-attention full width
        first (Whisper's strip over time is wide)."""
        if side_by_side:
            with gr.Row():
                with gr.Column(min_width=300):
                    self.self_view = gr.HTML(label="Masked self-attention")
                with gr.Column(min_width=300):
                    self.cross_view = gr.HTML(label=cross_label)
        else:
            self.cross_view = gr.HTML(label=cross_label)
            self.self_view = gr.HTML(label="Masked self-attention")
        gr.Markdown(CAPTION)

    def numbers(self):
        with gr.Accordion("The numbers", open=False):
            self.json = gr.JSON(label="The step as the API returns it")
        self.status = status_box()

    @property
    def outputs(self) -> list:
        return [self.json, self.output, self.ids, self.step, self.candidates, self.pick, self.self_view,
                self.cross_view, self.status]

    def wire_private(self, models, resets) -> None:
        """Start over (and a new source or model): empty output, no views. Picking a candidate appends it
        instead of the greedy choice (the tokenizer alone: no model pass)."""
        def start_over():
            return None, "", "", "", "", gr.Radio(choices=[], value=None), "", "", ""

        for trigger in resets:
            trigger(start_over, None, self.outputs, queue=False, api_visibility="private", show_progress="hidden")

        @user_errors
        def pick(choice, result):
            token = next((c for c in (result or {}).get("candidates", []) if str(c["id"]) == str(choice)), None)
            if token is None:
                return gr.skip(), gr.skip(), gr.skip()
            appended = decoding.with_token(models, result["model_id"], result["output_ids"], token["id"])
            message = (f"You picked {token['token']!r} (p = {probability(token['probability'])}) instead of the "
                       "greedy choice; " + ("that ends the output." if appended["done"] else
                                            "the next step continues from it."))
            shown = {**result, "next": token["token"], "next_id": token["id"], "next_output": appended["output"],
                     "next_output_ids": appended["output_ids"], "message": message}
            return appended["output"], json.dumps(appended["output_ids"]), views_here.growing_output(shown)

        self.pick.input(pick, [self.pick, self.json], [self.output, self.ids, self.step], api_visibility="private",
                        concurrency_id=models.spec.id, concurrency_limit=default_concurrency(models))


def _text_half(models) -> None:
    text_models = [c for c in models.spec.checkpoints if c.family == "encoder-decoder"]
    with gr.Row():
        with gr.Column(scale=3, min_width=300):
            text = gr.Textbox(label="Source text", lines=2, value=decoding.EXAMPLE, placeholder=decoding.EXAMPLE)
            run, finish, reset = buttons()
            step = Step()
        with gr.Column(scale=2, min_width=260):
            step.side()
    step.panels("Cross-attention over the source")
    with gr.Accordion("Advanced", open=False):
        # The text models only (the page's Whisper reads audio, in the other half).
        model = gr.Dropdown([(c.label, c.repo_id) for c in text_models], value=text_models[0].repo_id,
                            label="Model", info=text_models[0].why, allow_custom_value=True)
        layer, head, top_k = view_controls()
    step.numbers()
    gr.Examples([[e] for e in EXAMPLES], inputs=[text], label="Examples (chapter 2.6: translation)")
    inputs = [text, step.output, model, step.ids, layer, head, top_k]

    def outputs_of(result: dict) -> tuple:
        rows, cols = result["output_tokens"], result["source_tokens"]
        title = f"Cross-attention over the source ({views_here.layer_caption(result)})"
        cross = views_here.attention_heatmap(result["cross_attention"], rows, cols, title=title)
        extra = f"{len(cols)} source tokens"
        return step_outputs(models.get(result["model_id"]), result, cross, extra)

    @user_errors
    def decode_step(text, output="", model_id=text_models[0].repo_id, output_ids="", layer=decoding.LAST,
                    head=decoding.MEAN, top_k=decoding.DEFAULT_TOP_K, progress=gr.Progress()):
        """One decoder step of a translation model (English to German): where the decoder looks in its own
        output (masked self-attention) and in the source (cross-attention), and the next-token candidates.
        Call again with the answer's next_output (and next_output_ids) to write the next token.

        Args:
            text: The English source sentence, up to 128 tokens, e.g. "Good morning!"
            output: The German output so far as text ("" to start); where it differs from output_ids, it wins.
            model_id: The translation model: Helsinki-NLP/opus-mt-en-de.
            output_ids: The output so far as exact token ids, e.g. "[3, 1045]" (the last next_output_ids); "" for none.
            layer: Decoder layer whose attention is returned, 0 = first, or "last" (default).
            head: Attention head, 0 = first, or "mean" over the heads (default).
            top_k: Candidates to return, 1 to 20.

        Returns:
            The step as JSON, the output with the new token, its ids, views of the step and attention, a status.
        """
        request = decoding.check(models, text, output, model_id, output_ids, layer, head, top_k)  # no model yet
        yield from while_loading(models, request.model_id, progress, *[gr.skip()] * 8)
        yield outputs_of(next(decoding.run(models, request)))

    public_event(models, [run.click], decode_step, inputs, step.outputs,
                 tool=Tool('JSON: {"source_tokens", "output_tokens" (decoder start + output so far), "candidates": '
                           '[{"token", "id", "probability"}], "next", "next_output", "next_output_ids", "done", '
                           '"message", "self_attention" and "cross_attention" (rows: output_tokens), "layer", "head"}.',
                           result=lambda *outs: as_json(outs[JSON_RESULT])))

    @user_errors
    def finish_greedily(text, output, model_id, output_ids, layer, head, top_k, progress=gr.Progress()):
        request = decoding.check(models, text, output, model_id, output_ids, layer, head, top_k)
        yield from while_loading(models, request.model_id, progress, *[gr.skip()] * 8)
        yield from finishing(decoding.run(models, request, decoding.MAX_OUTPUT_TOKENS), outputs_of)

    finish_event = finish.click(finish_greedily, inputs, step.outputs, api_visibility="private",
                             concurrency_id=models.spec.id, concurrency_limit=default_concurrency(models))
    reset.click(None, None, None, cancels=[finish_event], queue=False, api_visibility="private")
    step.wire_private(models, [reset.click, text.change, model.change])


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
