"""The encoder-decoder page's speech half (tabs/decoding.py builds it in its second sub-tab): Whisper
writes a transcript one token per click, with its cross-attention over the audio's time axis drawn as a
strip under the waveform. The model side is pipelines/explainers/decoding_audio.py.
"""

from __future__ import annotations

import gradio as gr

from pipelines.explainers import decoding_audio
from pipelines.tasks import speech
from tabs.decoding import JSON_RESULT, Step, buttons, finishing, step_outputs, view_controls
from ui import decoding_views as views_here
from ui.assistants import Tool, as_json
from ui.widgets import ASSETS, default_concurrency, public_event, user_errors, while_loading

AUDIO = ASSETS / "audio"
EXAMPLES = [("hello.wav", "en", "English, 2 s"), ("german.wav", "de", "German, 6 s (transcribed in German)"),
            ("german.wav", "detect", "German, language detected")]
LANGUAGE_CHOICES = [("Detect", speech.DETECT)] + [(name, code) for code, name in speech.COMMON_LANGUAGES]
TASK_CHOICES = [("Transcribe (same language)", "transcribe"), ("Translate to English", "translate")]


def build_speech(models) -> None:
    with gr.Row():
        with gr.Column(scale=3, min_width=300):
            # format=None: the file reaches pipelines.readers.audio as uploaded (as in the Speech tab).
            recording = gr.Audio(sources=["upload", "microphone"], type="filepath", format=None,
                                 label=f"Speech (up to {decoding_audio.MAX_CLIP_S} s)")
            run, finish, reset = buttons()
            step = Step()
        with gr.Column(scale=2, min_width=260):
            step.side()
    step.panels("Cross-attention over time", side_by_side=False)
    with gr.Accordion("Advanced", open=False):
        language = gr.Dropdown(LANGUAGE_CHOICES, value="en", label="Spoken language", allow_custom_value=True,
                               info="Part of the decoder's prompt. Detect: Whisper guesses it first.")
        task = gr.Radio(TASK_CHOICES, value="transcribe", label="Task")
        layer, head, top_k = view_controls()
    step.numbers()
    listed = [e for e in EXAMPLES if (AUDIO / e[0]).is_file()]
    gr.Examples([[str(AUDIO / name), code] for name, code, _ in listed], inputs=[recording, language],
                example_labels=[label for *_, label in listed], cache_examples=False,
                label="Examples (synthetic speech made with espeak-ng)")
    inputs = [recording, step.output, step.ids, language, task, layer, head, top_k]

    def outputs_of(result: dict) -> tuple:
        extra = (f"{result['duration_s']:.1f} s of audio = {result['frames']} of Whisper's "
                 f"{result['encoder_frames']} frames of 20 ms, in {len(result['seconds']) - 1} bins")
        return step_outputs(models.get(result["model_id"]), result, views_here.time_strip(result), extra)

    @user_errors
    def decode_audio_step(audio, output="", output_ids="", language="en", task="transcribe",
                          layer=decoding_audio.LAST, head=decoding_audio.MEAN, top_k=decoding_audio.DEFAULT_TOP_K,
                          progress=gr.Progress()):
        """One decoder step of Whisper over a speech clip (up to 30 s): the decoder's masked self-attention,
        its cross-attention over the audio's time axis (1,500 frames of 20 ms, binned), and the candidates.
        Call again with the answer's next_output (and next_output_ids) to write the next token.

        Args:
            audio: The recording (WAV, MP3, M4A, OGG, ...) as an https:// URL or a data: URL, at most 30 s.
            output: The transcript so far as text ("" to start); where it differs from output_ids, it wins.
            output_ids: The transcript so far as exact token ids, e.g. "[2425, 1287]" (the last next_output_ids).
            language: The spoken language's code (en, de, fr, ...) for the decoder's prompt, or "detect".
            task: "transcribe" (write it in its language) or "translate" (write it in English).
            layer: Decoder layer whose attention is returned, 0 = first, or "last" (default).
            head: Attention head, 0 = first, or "mean" over the heads (default).
            top_k: Candidates to return, 1 to 20.

        Returns:
            The step as JSON, the transcript with the new token, its ids, views of the step and attention, a status.
        """
        request = decoding_audio.check(models, audio, output, output_ids, language, task, layer, head, top_k)
        yield from while_loading(models, request.model_id, progress, *[gr.skip()] * 8)
        yield outputs_of(next(decoding_audio.run_audio(models, request)))

    public_event(models, [run.click], decode_audio_step, inputs, step.outputs,
                 tool=Tool('JSON: {"output_tokens" (prompt + transcript so far), "candidates": [{"token", "id", '
                           '"probability"}], "next", "next_output", "next_output_ids", "done", "message", '
                           '"self_attention", "cross_attention" (rows: output_tokens; columns: time bins whose '
                           'edges in seconds are "seconds"), "beyond_clip", "envelope", "language"}.',
                           result=lambda *outs: as_json(outs[JSON_RESULT])))

    @user_errors
    def finish_audio(audio, output, output_ids, language, task, layer, head, top_k, progress=gr.Progress()):
        request = decoding_audio.check(models, audio, output, output_ids, language, task, layer, head, top_k)
        yield from while_loading(models, request.model_id, progress, *[gr.skip()] * 8)
        yield from finishing(decoding_audio.run_audio(models, request, decoding_audio.MAX_OUTPUT_TOKENS), outputs_of)

    finish_event = finish.click(finish_audio, inputs, step.outputs, api_visibility="private",
                             concurrency_id=models.spec.id, concurrency_limit=default_concurrency(models))
    reset.click(None, None, None, cancels=[finish_event], queue=False, api_visibility="private")
    step.wire_private(models, [reset.click, recording.change, language.change, task.change])
