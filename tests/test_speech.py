"""Speech: the Whisper miniature through the real load path on torch, and /transcribe through gradio_client.

The miniature's words are random, so these tests check what the pipeline controls: the decoder prompt
Whisper receives (start, language, task tokens), the windowing of long audio and its timestamps, the
per-window token limit, language detection against transformers' own, a transcription that logs no
transformers warning, and every way an input can be refused.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np
import pytest
import soundfile

from pipelines.core.errors import UserInputError
from pipelines.core.loading import ModelManager
from pipelines.miniatures.whisper import MAX_LENGTH
from pipelines.readers import audio
from pipelines.tasks import speech
from tests.conftest import ASSETS, tiny_settings

APP_TASKS = ["speech"]
AUDIO = ASSETS / "audio"


@pytest.fixture(scope="module")
def sp():
    """The torch path (--engine torch): these tests watch transformers' `generate`. The CTranslate2 path that
    a CPU runs by default has the same tests in tests/test_engine_speech.py."""
    return ModelManager(tiny_settings(engine="torch")).task("speech")


@pytest.fixture(scope="module")
def whisper(sp):
    return sp.bundle()


@pytest.fixture
def prompts(whisper, monkeypatch):
    """Record the decoder prompt (start, language, task tokens) of every window Whisper decodes with
    timestamps (each window's full output, prompt included, is the `result` of its segments)."""
    seen = []
    original = whisper.model.generate

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        if isinstance(out, dict):
            windows = {id(s["result"]): s["result"] for s in out["segments"][0]}.values()
            seen.extend(whisper.tokenizer.convert_ids_to_tokens(w[:3].tolist()) for w in windows)
        return out

    monkeypatch.setattr(whisper.model, "generate", spy)
    return seen


class DecoderSteps:
    """Counts decoder forward passes (the test's own hook: production objects keep no counters)."""

    def __init__(self, whisper):
        self.calls = 0
        self._handle = whisper.model.model.decoder.register_forward_pre_hook(self._count)

    def _count(self, *args):
        self.calls += 1

    def remove(self):
        self._handle.remove()


@contextlib.contextmanager
def transformers_warnings():
    """Every warning transformers logs or raises inside the block: its logger does not propagate to
    pytest's caplog, so a handler goes on it; its once-only warnings are reset first, so one already
    shown earlier in this process shows again."""
    from transformers.utils import logging as hf_logging

    hf_logging.warning_once.cache_clear()
    found: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: found.append(record.getMessage())
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as raised:
            warnings.simplefilter("always")
            yield found
        found += [str(w.message) for w in raised if "transformers" in w.filename]
    finally:
        logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def no_transformers_warnings():
    """Each test fails if transformers warned while it ran: every path (long form, fixed windows, plain
    decoding, translation, the endpoint) must pass generate arguments it has nothing to say about."""
    with transformers_warnings() as found:
        yield found
    assert found == [], f"transformers warned: {found}"


def _assert_timeline(result: speech.Transcript) -> None:
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    assert all(0 <= s.start <= s.end <= result.duration_s for s in result.segments)
    assert all(isinstance(s.text, str) for s in result.segments)


def test_miniature_is_a_whisper_checkpoint(whisper):
    model, processor = whisper.model, whisper.processor
    assert type(model).__name__ == "WhisperForConditionalGeneration"
    assert type(processor.feature_extractor).__name__ == "WhisperFeatureExtractor"
    assert type(processor.tokenizer).__name__ == "WhisperTokenizer"
    assert model.config.num_mel_bins == 80 and model.config.max_source_positions == 1500
    config, tokens = model.generation_config, processor.tokenizer.convert_ids_to_tokens
    assert len(config.lang_to_id) == 99 and all(tokens(i) == t for t, i in config.lang_to_id.items())
    assert tokens(config.decoder_start_token_id) == "<|startoftranscript|>"
    assert {k: tokens(v) for k, v in config.task_to_id.items()} == {"transcribe": "<|transcribe|>",
                                                                      "translate": "<|translate|>"}
    first = config.no_timestamps_token_id + 1  # timestamps follow <|notimestamps|>, 20 ms apart
    assert tokens(first) == "<|0.00|>" and tokens(first + 1500) == "<|30.00|>" == tokens(len(processor.tokenizer) - 1)
    assert model.config.vocab_size == len(processor.tokenizer)
    assert whisper.family == "speech" and whisper.checkpoint.repo_id == "openai/whisper-base"


def test_window_token_limit_comes_from_the_checkpoint(whisper, monkeypatch):
    # The miniature's generation config declares a short window; the pipeline keeps to it.
    assert whisper.model.generation_config.max_length == speech.window_tokens(whisper) == MAX_LENGTH < 224
    monkeypatch.setattr(whisper.model.generation_config, "max_length", 448)  # the hub checkpoints'
    assert speech.window_tokens(whisper) == speech.MAX_NEW_TOKENS == 224
    monkeypatch.setattr(whisper.model.generation_config, "max_length", None)
    assert speech.window_tokens(whisper) == 224


def test_language_detection_agrees_with_transformers(whisper):
    features, _ = speech._features(whisper, audio.decode(AUDIO / "german.wav"))
    code, probability = speech.detect_language(whisper, features)
    expected = whisper.model.detect_language(features)[0]
    assert f"<|{code}|>" == whisper.tokenizer.convert_ids_to_tokens(int(expected))
    assert 0 < probability <= 1


def test_long_recording_is_decoded_in_windows(sp, prompts):
    reports = []
    result = speech.transcribe(sp, AUDIO / "long_speech.wav", progress=lambda f, m: reports.append((f, m)))
    assert 40 < result.duration_s < 45 and result.windows >= 2 and len(prompts) >= 2
    # Whisper's sequential algorithm did it, not the fixed-window fallback (which reports more windows).
    assert result.windows <= speech.WINDOWS_PER_30S * 2
    assert result.segments and result.text
    _assert_timeline(result)
    assert max(s.end for s in result.segments) > 30  # the second window's times are offset, not reset
    assert result.detected and 0 < result.language_probability <= 1
    assert result.language_name and all(p == ["<|startoftranscript|>", f"<|{result.language}|>",
                                              "<|transcribe|>"] for p in prompts)
    assert len(reports) == result.windows and reports[0] == (0.0, "Transcribing 0 s of 42 s")
    assert 0 < reports[-1][0] < 1


def test_fixed_windows_when_long_form_runs_away(sp, prompts, monkeypatch):
    monkeypatch.setattr(speech, "WINDOWS_PER_30S", 0)  # any long-form window now exceeds the budget
    result = speech.transcribe(sp, AUDIO / "long_speech.wav", language="en")
    _assert_timeline(result)
    assert len(prompts) == 2  # one generate call per 30 s window
    assert any(s.start >= 30 for s in result.segments) and any(s.start < 30 for s in result.segments)


def test_translate_and_chosen_language_reach_the_decoder(sp, prompts):
    result = speech.transcribe(sp, AUDIO / "german.wav", task="translate", language="German")
    assert (result.task, result.language, result.language_name) == ("translate", "de", "German")
    assert not result.detected and result.language_probability is None
    assert prompts and all(p == ["<|startoftranscript|>", "<|de|>", "<|translate|>"] for p in prompts)


def test_short_recording_with_and_without_timestamps(sp, whisper):
    with_times = speech.transcribe(sp, AUDIO / "hello.mp3", language="en", timestamps=True)
    assert with_times.segments and with_times.windows >= 1
    _assert_timeline(with_times)
    steps = DecoderSteps(whisper)
    try:
        plain = speech.transcribe(sp, AUDIO / "hello.mp3", language="en", timestamps=False)
    finally:
        steps.remove()
    assert plain.segments == () and isinstance(plain.text, str) and plain.windows == 1
    # A random model never ends a window: it runs to the checkpoint's limit, and no further.
    assert steps.calls == speech.window_tokens(whisper)
    assert speech.transcribe(sp, AUDIO / "hello.mp3", language="en", timestamps=False) == plain


def test_a_transcription_logs_no_transformers_warning(sp, whisper, no_transformers_warnings):
    found = no_transformers_warnings  # every other test of this module checks the same at its end
    speech.transcribe(sp, AUDIO / "german.wav")  # the tab's defaults: language detected, timestamps
    assert found == []
    # The capture works and the old arguments were the cause: max_new_tokens warns again.
    features, _ = speech._features(whisper, audio.decode(AUDIO / "hello.wav"))
    whisper.model.generate(features, max_new_tokens=2, language="en", task="transcribe")
    assert any("Both `max_new_tokens`" in message for message in found), found
    found.clear()  # that warning was asked for


def test_only_whisper_s_own_generate_notice_is_dropped(sp, whisper):
    sp.bundle("openai/whisper-tiny")  # a second Whisper loaded in this process
    keep = speech._WhisperInternalNotice().filter

    def record(message):
        return logging.LogRecord("transformers.generation.utils", logging.WARNING, __file__, 1, message, (), None)

    notice = "Passing `generation_config` together with generation-related arguments=({}) is deprecated."
    assert not keep(record(notice.format("{'begin_suppress_tokens', 'suppress_tokens'}")))
    assert keep(record(notice.format("{'suppress_tokens', 'temperature'}")))
    assert keep(record("Both `max_new_tokens` (=5) and `max_length`(=20) seem to have been set."))
    installed = logging.getLogger("transformers.generation.utils").filters
    assert sum(isinstance(f, speech._WhisperInternalNotice) for f in installed) == 1  # once for both


def test_no_words_is_said_in_the_notes(sp, monkeypatch):
    monkeypatch.setattr(speech, "_decode", lambda whisper, ids: "")
    result = speech.transcribe(sp, AUDIO / "hello.wav", language="en", timestamps=False)
    assert result.text == "" and result.notes == ("No words were recognised in this recording.",)


def test_english_only_checkpoints_refuse_translation(whisper, monkeypatch):
    monkeypatch.setattr(whisper.model.generation_config, "is_multilingual", False)
    with pytest.raises(UserInputError, match="English only"):
        speech.transcribe_samples(whisper, audio.decode(AUDIO / "hello.wav"), "translate")


@pytest.mark.parametrize("kwargs, message", [
    (dict(audio_path=AUDIO / "corrupt.mp3"), "could not be read as audio"),
    (dict(audio_path=AUDIO / "silence.wav"), "silent"),
    (dict(audio_path=AUDIO / "empty.wav"), "no audio samples"),
    (dict(audio_path=None), "microphone or upload"),
    (dict(audio_path=AUDIO / "hello.wav", task="summarize"),
     "Unknown task 'summarize'. Choose one of: transcribe, translate."),
    (dict(audio_path=AUDIO / "hello.wav", language="klingon"),
     r"Unknown language 'klingon'. Choose Detect, or a Whisper language code or English name, for example en "
     r"\(English\)"),
    (dict(audio_path=AUDIO / "hello.wav", model_id="openai/whisper-large-v3"), "Unknown model"),
])
def test_bad_inputs_are_refused_before_any_model_loads(kwargs, message):
    fresh = ModelManager(tiny_settings())
    with pytest.raises(UserInputError, match=message):
        speech.transcribe(fresh.task("speech"), **kwargs)
    assert fresh.loaded_keys() == []


def test_check_accepts_codes_names_and_detect(sp):
    assert speech.check(sp, AUDIO / "hello.wav", " Translate ", "<|de|>").language == "de"
    assert speech.check(sp, AUDIO / "hello.wav", None, "german").task == "transcribe"
    request = speech.check(sp, AUDIO / "hello.wav", language="Auto", model_id="Whisper tiny")
    assert request.language is None and request.model_id == "openai/whisper-tiny"


def test_length_limit_comes_from_settings():
    short = ModelManager(tiny_settings(max_audio_s=30.0)).task("speech")
    with pytest.raises(UserInputError, match="longer than the limit of 30 s"):
        speech.transcribe(short, AUDIO / "long_speech.wav")


# --- the endpoint, through gradio_client against the launched app -------------------------------

def test_endpoint_refuses_bad_inputs_then_answers(client, app_server, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    too_long = tmp_path / "eleven_minutes.wav"  # the app's limit is 10 minutes (Settings.max_audio_s)
    noise = np.random.default_rng(0).uniform(-0.3, 0.3, 8_000 * 660).astype(np.float32)
    soundfile.write(str(too_long), noise, 8_000, subtype="PCM_U8")
    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("no sound here\n" * 100)
    cases = [
        ((handle_file(str(AUDIO / "corrupt.mp3")),), "could not be read as audio"),
        ((handle_file(str(not_audio)),), "could not be read as audio"),
        ((handle_file(str(AUDIO / "empty.wav")),), "no audio samples"),
        ((handle_file(str(AUDIO / "silence.wav")),), "silent"),
        ((handle_file(str(too_long)),), "longer than the limit of 10 min"),
        ((None,), "microphone or upload"),
        ((handle_file(str(AUDIO / "hello.wav")), "transcribe", "klingon"), "Unknown language"),
    ]
    for args, message in cases:
        with pytest.raises(AppError, match=message):
            client.predict(*args, api_name="/transcribe")
    assert not app_server.models.is_loaded("speech")  # refused inputs never load a model
    text, table, language, status = client.predict(handle_file(str(AUDIO / "hello.wav")), api_name="/transcribe")
    assert isinstance(text, str) and text
    assert table["headers"] == ["start (s)", "end (s)", "text"] and table["data"]
    starts = [row[0] for row in table["data"]]
    assert starts == sorted(starts) and all(row[0] <= row[1] for row in table["data"])
    assert "detected with" in language and "miniature" in status and "openai/whisper-base" in status


def test_endpoint_with_every_option(client):
    from gradio_client import handle_file

    text, table, language, status = client.predict(
        handle_file(str(AUDIO / "german.wav")), "translate", "de", "openai/whisper-tiny", False,
        api_name="/transcribe")
    assert isinstance(text, str) and table["data"] == []
    assert language == "German (de), as chosen, translated to English"
    assert "openai/whisper-tiny" in status and "1 window of 30 s" in status
