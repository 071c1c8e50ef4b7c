"""Speech tab: record or upload audio; Whisper transcribes it (or translates it to English), with the
language it heard and a table of timestamped segments.

API: /transcribe(audio, task="transcribe", language="detect", model="openai/whisper-base", timestamps=True)
returns [text, segments table, language, status].

Run on its own: python -m tabs.speech
"""

from __future__ import annotations

import time

import gradio as gr

from pipelines.inside import speech as inside
from pipelines.tasks import speech
from ui import inside_media_charts
from ui.assistants import Tool, as_json
from ui.code_block import Wiring, code_block
from ui.look_inside import LookInside
from ui.widgets import (
    ASSETS,
    describe,
    model_picker,
    progress_bar,
    public_event,
    status_box,
    user_errors,
    while_loading,
)

D = speech.DEFAULTS
AUDIO = ASSETS / "audio"
TASK_CHOICES = [("Transcribe (same language)", "transcribe"), ("Translate to English", "translate")]
LANGUAGE_CHOICES = [("Detect", speech.DETECT)] + [(name, code) for code, name in speech.COMMON_LANGUAGES]
HEADERS = ["start (s)", "end (s)", "text"]
EXAMPLES = [  # (file in assets/audio, task, label)
    ("hello.wav", "transcribe", "English, WAV at 22 kHz"),
    ("hello.m4a", "transcribe", "English, M4A (AAC) at 48 kHz"),
    ("german.wav", "transcribe", "German: the language is detected"),
    ("german.wav", "translate", "German, translated to English"),
    ("long_speech.wav", "transcribe", "42 s: decoded in two 30 s windows"),
]


def build(models) -> None:
    with gr.Row():
        with gr.Column(scale=2):
            # format=None: the file reaches pipelines.readers.audio as uploaded (Gradio would otherwise convert
            # it first, and a damaged file would fail there with an unhelpful message).
            recording = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech",
                                 format=None)
            # Right under the input: in a 600 px course iframe the button stays in view.
            run = gr.Button("Transcribe", variant="primary")
            task_choice = gr.Radio(TASK_CHOICES, value=D.task, label="Task",
                                   info="Whisper translates from any of its languages into English only.")
            language = gr.Dropdown(LANGUAGE_CHOICES, value=D.language, label="Spoken language",
                                   allow_custom_value=True,
                                   info="Detect: Whisper guesses from the first 30 s. Any of its 99 "
                                        "language codes can be typed (e.g. sw).")
            model = model_picker(models)
            timestamps = gr.Checkbox(D.timestamps, label="Timestamped segments",
                                     info="Recordings over 30 s always get them: they drive the windowing.")
        with gr.Column(scale=3):
            text = gr.Textbox(label="Transcript", lines=6, interactive=False, buttons=["copy"])
            heard = gr.Textbox(label="Language", interactive=False)
            segments = gr.Dataframe(headers=HEADERS, label="Segments", interactive=False, max_height=300,
                                    wrap=True)
            status = status_box()

    look = LookInside(models, "Which part of the audio each transcribed word came from: Whisper's cross-attention "
                      "from the word to the 20 ms frames of sound, drawn on the waveform. Where the model looked "
                      "while writing a word is a good guide to where it was said, not a timestamp, and not why.")
    listed = [e for e in EXAMPLES if (AUDIO / e[0]).is_file()]
    gr.Examples([[str(AUDIO / name), mode] for name, mode, _ in listed], inputs=[recording, task_choice],
                example_labels=[label for *_, label in listed], cache_examples=False,
                label="Examples (synthetic speech made with espeak-ng)")

    @user_errors
    def transcribe(audio, task=D.task, language=D.language, model=models.spec.default.repo_id,
                   timestamps=D.timestamps, progress=gr.Progress()):
        """Transcribe speech with Whisper (about 100 languages), or translate it into English, with the
        language heard and timestamped segments. Recordings longer than 30 s are read in 30 s windows.

        Args:
            audio: The recording (WAV, MP3, M4A, OGG, ...) as an https:// URL or a data: URL (data:audio/wav;base64,...)
            task: "transcribe" (write what is said, in its language) or "translate" (write it in English).
            language: The spoken language's code (en, de, fr, es, ...) or "detect" (Whisper guesses it from the start).
            model: Which Whisper: base (default), tiny (twice as fast, less accurate) or small (more accurate, slow).
            timestamps: Return timestamped segments (recordings over 30 s always get them).

        Returns:
            The transcript, a table of segments (start and end in seconds, text), the language, a status line.
        """
        request = speech.check(models, audio, task, language, model, timestamps)  # bad input: no model loads
        yield from while_loading(models, request.model_id, progress, gr.skip(), gr.skip(), gr.skip())
        started = time.perf_counter()
        result = speech.run(models, request, progress_bar(progress))
        seconds = time.perf_counter() - started
        summary = f"{result.duration_s:.1f} s of audio in {seconds:.1f} s"
        if result.windows:  # 0 when a serving engine transcribed it
            summary += f" · {result.windows} window{'s' if result.windows != 1 else ''} of 30 s"
        notes = "".join(f"\n\n⚠️ {note}" for note in result.notes)
        rows = [[s.start, s.end, s.text] for s in result.segments]
        yield result.text, rows, language_line(result), describe(models.get(request.model_id), summary) + notes

    transcribed = public_event(models, [run.click], transcribe, [recording, task_choice, language, model, timestamps],
                               [text, segments, heard, status],
                               tool=Tool('JSON: {"text": the transcript, "language": e.g. "German (de), detected '
                                         'with 93% confidence", "segments": [{"start", "end" (seconds), "text"}, '
                                         '...]}.', result=for_assistants))
    look.follow(transcribed, [recording, task_choice, language, model, timestamps, text, segments, heard],
                inside.explain, inside_media_charts.speech_words)

    def code_request(audio, task, language, model_id, timestamps):  # as transcribe checks it, and the file's name
        return speech.check(models, audio, task, language, model_id, timestamps), {"audio": audio}

    # The example's request without decoding its audio at start-up (the program needs only the file's name).
    example = speech.Request(None, D.task, speech.language_code(D.language), models.spec.default.repo_id,
                             D.timestamps)
    code_block(models, Wiring([transcribed], [recording, task_choice, language, model, timestamps], code_request),
               example=lambda: (example, {"audio": str(AUDIO / EXAMPLES[0][0])}))


def for_assistants(text: str, rows: list, language: str, _status: str) -> str:
    """The tool's result: transcript, language and segments as JSON."""
    return as_json({"text": text, "language": language,
                    "segments": [{"start": start, "end": end, "text": said} for start, end, said in rows]})


def language_line(result: speech.Transcript) -> str:
    """'German (de), detected with 93% confidence, translated to English' and the like."""
    line = f"{result.language_name} ({result.language})"
    if result.detected and result.language_probability is not None:
        line += f", detected with {result.language_probability:.0%} confidence"
    elif result.detected:  # serving engines report the language without a probability
        line += ", detected"
    else:
        line += ", as chosen"
    if result.task == "translate":
        line += ", translated to English"
    return line


if __name__ == "__main__":
    from app import launch_single

    launch_single(__spec__.name)
