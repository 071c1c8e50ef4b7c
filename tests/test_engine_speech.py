"""Speech on CTranslate2 (pipelines/engines/ct2_whisper.py), the path a CPU runs by default, with the Whisper
miniature: what reaches the engine (prompts, token limits, windows), the long-form algorithm against transformers'
own, the converted folder built once and never used half written, the fallbacks to torch, and the program of
"Code for this result". The miniature's words are random; the real-weight tier (tests/test_speech_real.py) holds
the engine's words to the torch path's.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest

from pipelines.core.loading import ModelManager, bundle_nbytes
from pipelines.engines import ct2_whisper
from pipelines.readers import audio
from pipelines.tasks import speech
from tests.conftest import ASSETS, tiny_settings

AUDIO = ASSETS / "audio"
B = 50363  # <|0.00|> in the segment tests


@pytest.fixture(scope="module")
def sp(models):
    return models.task("speech")


@pytest.fixture(scope="module")
def whisper(sp):
    return sp.bundle()


@pytest.fixture
def calls(whisper, monkeypatch):
    """Every decode the engine runs: (prompt as tokens, token limit, the window's features, what it returned)."""
    seen = []
    engine = whisper.fast()
    original = engine.decode

    def spy(window, prompt, max_new_tokens, *args):
        out = original(window, prompt, max_new_tokens, *args)
        seen.append(SimpleNamespace(prompt=whisper.tokenizer.convert_ids_to_tokens(prompt), limit=max_new_tokens,
                                    window=window, tokens=out))
        return out

    monkeypatch.setattr(engine, "decode", spy)
    return seen


def _times(segments) -> list[float]:
    return [t for start, end, _ in segments for t in (start, end)]


def _timeline(result: speech.Transcript) -> None:
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts) and all(0 <= s.start <= s.end <= result.duration_s for s in result.segments)


def test_a_cpu_runs_whisper_on_ctranslate2_beside_the_full_precision_torch_model(sp, whisper):
    import torch

    engine = whisper.fast()
    assert isinstance(engine, ct2_whisper.WhisperEngine) and whisper.runs_on == "ctranslate2 int8"
    assert (engine.folder / "model.bin").is_file() and engine.folder.parent.name == ct2_whisper.NAME
    # The torch model stays for Look inside and the decoding page, float32 and not quantized.
    assert all(p.dtype == torch.float32 for p in whisper.model.parameters())
    assert not any("quantized" in type(m).__module__ for m in whisper.model.modules())
    # The memory budget counts the engine's weights beside the torch model's.
    loaded = sp.get()
    assert engine.nbytes > 0 and loaded.nbytes == bundle_nbytes(whisper) + engine.nbytes


def test_long_recording_is_decoded_window_after_window_on_the_engine(sp, whisper, calls):
    reports = []
    result = speech.transcribe(sp, AUDIO / "long_speech.wav", progress=lambda f, m: reports.append((f, m)))
    assert 40 < result.duration_s < 45 and 2 <= result.windows <= speech.WINDOWS_PER_30S * 2
    assert len(calls) == result.windows == len(reports) and reports[0] == (0.0, "Transcribing 0 s of 42 s")
    # Detected (by torch here: CTranslate2 detects only with the hub's 51,865-token vocabulary, see the module),
    # then every window decoded with timestamps: no <|notimestamps|> at the prompt's end.
    assert not whisper.fast().detects_language and result.detected
    assert all(c.prompt == ["<|startoftranscript|>", f"<|{result.language}|>", "<|transcribe|>"] for c in calls)
    assert all(c.limit == speech.window_tokens(whisper) and len(c.tokens) <= c.limit for c in calls)
    assert result.segments and result.text and max(s.end for s in result.segments) > 30
    _timeline(result)


def test_the_long_form_loop_seeks_and_cuts_as_transformers_does(sp, whisper):
    """transformers' own long-form `generate` on the torch model decides each window's tokens; the engine's loop,
    handed those same tokens, must read the same windows, seek to the same frames and cut the same segments."""
    import torch

    torch_whisper = ModelManager(tiny_settings(engine="torch")).task("speech").bundle()
    features, read = speech._features(torch_whisper, audio.decode(AUDIO / "long_speech.wav"))
    config = torch_whisper.model.generation_config
    options = dict(task="transcribe", language="en", max_length=speech.window_tokens(torch_whisper))
    seeks, inputs = [], []
    hook = torch_whisper.model.get_encoder().register_forward_hook(
        lambda module, args, kwargs, output: inputs.append((args[0] if args else kwargs["input_features"]).numpy()),
        with_kwargs=True)
    try:
        with torch.inference_mode():
            out = torch_whisper.model.generate(features, attention_mask=read, return_timestamps=True,
                                               return_segments=True, monitor_progress=lambda s: seeks.append(
                                                   int(s[0][0])), **options)
    finally:
        hook.remove()
    expected = out["segments"][0]
    windows = list({id(s["result"]): s["result"] for s in expected}.values())  # each window's whole output
    scripted = [[int(t) for t in w[3:] if t != config.eos_token_id] for w in windows]  # prompt and end cut off
    assert len(scripted) == len(seeks) >= 2

    class Scripted:  # answers each window with what transformers decoded there
        def __init__(self):
            self.given = []

        def decode(self, window, prompt, max_new_tokens, max_initial_timestamp_index):
            self.given.append(window)
            return scripted[len(self.given) - 1]

    ours = []
    engine = Scripted()
    found = ct2_whisper.sequential(engine, features.numpy(), config, options, lambda s: ours.append(s[0][0]))
    assert ours == seeks
    assert all(np.array_equal(a, b) for a, b in zip(engine.given, inputs)) and len(engine.given) == len(inputs)
    assert [tokens for _, _, tokens in found] == [[int(t) for t in s["tokens"]] for s in expected]
    assert _times(found) == pytest.approx([float(t) for s in expected for t in (s["start"], s["end"])])


@pytest.mark.parametrize("tokens, frames", [
    ([10, 20, 30], 3000),  # no timestamps at all: one segment to the window's end
    ([], 1234),  # nothing decoded
    ([B, 10, 20, B + 40], 3000),  # one segment ending on a single timestamp: the whole window heard
    ([B, 10, B + 40, B + 40, 20, B + 90], 3000),  # two segments, single ending
    ([B, 10, B + 40, B + 41, 20, B + 90, B + 90, 30], 3000),  # the last one unfinished: seek to <|1.80|>
    ([B, 10, B + 40, B + 40, 20], 2500),  # unfinished after one pair
    ([10, B + 25, 20], 800),  # a lone timestamp, no pair: the segment ends there
    ([10, B, 20], 800),  # a lone <|0.00|>: the window's end
])
def test_segments_are_cut_as_transformers_cuts_them(tokens, frames):
    import torch
    from transformers.models.whisper.generation_whisper import WhisperGenerationMixin

    offset = 12.34
    expected, advance = WhisperGenerationMixin._retrieve_segment(
        torch.tensor(tokens, dtype=torch.long), [None], torch.tensor([offset], dtype=torch.float64), 50363,
        torch.tensor([frames]), 0.02, 0.01, 2, 0, 0, False, torch.zeros((1, 3)))
    found, ours = ct2_whisper.split_segments(tokens, 50363, offset, frames)
    assert ours == int(advance)
    assert [t for _, _, t in found] == [s["tokens"].tolist() for s in expected]
    assert _times(found) == pytest.approx([float(t) for s in expected for t in (s["start"], s["end"])])


def test_fixed_windows_when_long_form_runs_away_on_the_engine(sp, calls, monkeypatch):
    monkeypatch.setattr(speech, "WINDOWS_PER_30S", 0)  # any long-form window now exceeds the budget
    result = speech.transcribe(sp, AUDIO / "long_speech.wav", language="en")
    _timeline(result)
    assert len(calls) == 2  # each 30 s window decoded once, on its own features
    assert any(s.start >= 30 for s in result.segments) and any(s.start < 30 for s in result.segments)


def test_translation_and_a_chosen_language_reach_the_engine(sp, calls):
    result = speech.transcribe(sp, AUDIO / "german.wav", task="translate", language="German")
    assert (result.task, result.language, result.detected) == ("translate", "de", False)
    assert calls and all(c.prompt == ["<|startoftranscript|>", "<|de|>", "<|translate|>"] for c in calls)


def test_short_recording_with_and_without_timestamps_on_the_engine(sp, whisper, calls):
    with_times = speech.transcribe(sp, AUDIO / "hello.mp3", language="en", timestamps=True)
    assert with_times.segments and with_times.windows == len(calls) >= 1
    _timeline(with_times)
    calls.clear()
    plain = speech.transcribe(sp, AUDIO / "hello.mp3", language="en", timestamps=False)
    assert plain.segments == () and plain.windows == 1 and len(calls) == 1
    assert calls[0].prompt == ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
    # A random model never ends a window: it runs to the checkpoint's limit, and no further.
    assert len(calls[0].tokens) == speech.window_tokens(whisper)
    assert plain.text == whisper.tokenizer.decode(calls[0].tokens, skip_special_tokens=True).strip()
    assert speech.transcribe(sp, AUDIO / "hello.mp3", language="en", timestamps=False) == plain


def test_one_encoder_pass_serves_detection_and_the_first_window(whisper, monkeypatch):
    engine = whisper.fast()
    encoded = []
    model = engine._model
    monkeypatch.setattr(engine, "_model", SimpleNamespace(
        encode=lambda features: encoded.append(features) or model.encode(features), generate=model.generate))
    features, _ = speech._features(whisper, audio.decode(AUDIO / "hello.wav"))
    window, start = features.numpy() + 2.0, [whisper.model.generation_config.decoder_start_token_id]
    first = engine.decode(window, start, 3)
    assert engine.decode(window.copy(), start, 3) == first and len(encoded) == 1  # the same features: kept
    engine.decode(window + 1.0, start, 3)
    assert len(encoded) == 2  # other features: encoded


def test_the_conversion_is_built_once_and_found_again(whisper, monkeypatch):
    converted = []
    monkeypatch.setattr(ct2_whisper, "convert", lambda *args: converted.append(args))
    again = ModelManager(tiny_settings()).task("speech").bundle()
    assert again.fast() is not None and again.runs_on == "ctranslate2 int8" and converted == []
    assert again.fast().folder == whisper.fast().folder


def test_a_half_written_conversion_is_never_used(tmp_path, monkeypatch):
    original = ct2_whisper.convert

    def killed(source, out, precision):
        (out / "model.bin").write_bytes(b"half a model")
        raise RuntimeError("the converter was killed")

    monkeypatch.setattr(ct2_whisper, "convert", killed)
    broken = ModelManager(tiny_settings(cache_dir=tmp_path)).task("speech")
    bundle = broken.bundle()
    assert bundle.runs_on == "torch float32" and bundle.fast() is None
    assert not list((tmp_path / "engines" / ct2_whisper.NAME).iterdir())  # no folder, final or staging
    assert speech.transcribe(broken, AUDIO / "hello.wav", language="en").windows == 1  # the tab still answers
    # A staging folder left by a killed process is never taken for the converted model.
    leftover = tmp_path / "engines" / ct2_whisper.NAME / ".openai--whisper-base-int8-left"
    leftover.mkdir()
    (leftover / "model.bin").write_bytes(b"half a model")
    monkeypatch.setattr(ct2_whisper, "convert", original)
    fresh = ModelManager(tiny_settings(cache_dir=tmp_path)).task("speech").bundle()
    assert fresh.fast().folder != leftover and fresh.runs_on == "ctranslate2 int8"
    assert (fresh.fast().folder / "model.bin").stat().st_size > 1000


def test_engine_torch_keeps_speech_on_torch():
    sp = ModelManager(tiny_settings(engine="torch")).task("speech")
    bundle = sp.bundle()
    assert bundle.runs_on == "torch float32" and bundle.fast() is None
    assert speech.transcribe(sp, AUDIO / "hello.wav", language="en", timestamps=False).windows == 1


def test_the_named_engine_without_its_package_falls_back_to_torch(monkeypatch, caplog):
    monkeypatch.setattr(ct2_whisper, "installed", lambda: False)
    with caplog.at_level(logging.WARNING, logger=ct2_whisper.__name__):
        bundle = ModelManager(tiny_settings(engine="ctranslate2")).task("speech").bundle()
    assert bundle.runs_on == "torch float32" and bundle.fast() is None
    assert "ctranslate2 is not installed" in caplog.text


@pytest.mark.parametrize("device, engine, answers", [
    ("cpu", "auto", True), ("cpu", "ctranslate2", True), ("cpu", "torch", False),
    ("cpu", "onnxruntime-genai", False), ("cuda", "auto", False), ("mps", "ctranslate2", False),
])
def test_which_placements_the_engine_answers_for(device, engine, answers):
    request = SimpleNamespace(placement=SimpleNamespace(device=device, engine=engine),
                              checkpoint=SimpleNamespace(repo_id="openai/whisper-base"))
    assert ct2_whisper.applies(request) is answers


def test_quantize_none_runs_float32_and_int4_runs_int8():
    assert ct2_whisper.PRECISION == {"auto": "int8", "int8": "int8", "int4": "int8", "none": "float32"}
    sp = ModelManager(tiny_settings(quantize="none")).task("speech")
    assert sp.bundle().fast() is not None and sp.bundle().runs_on == "ctranslate2 float32"
    assert speech.transcribe(sp, AUDIO / "hello.wav", language="en").segments


PROGRAMS = {"timestamps": ("hello.wav", True), "plain": ("hello.wav", False), "long": ("long_speech.wav", True)}


@pytest.fixture(scope="module")
def engine_programs(sp, whisper, tmp_path_factory):
    """{case: (the app's transcript, the program's stdout)}: "Code for this result" after the engine answered,
    CTranslate2's program, run against the miniature (all three in one subprocess). The language is chosen: the
    miniature's vocabulary is not one CTranslate2 detects languages with; tests/test_speech_real.py runs the
    detecting program on the real weights."""
    from pipelines.reproduce import source
    from tests.test_reproduce import Case, localize, run_programs

    apps, programs = {}, {}
    for case, (name, timestamps) in PROGRAMS.items():
        request = speech.check(sp, str(AUDIO / name), "transcribe", "en", None, timestamps)
        apps[case] = speech.run(sp, request)
        code = source("speech", request, audio=str(AUDIO / name), runs_on=whisper.runs_on)
        assert "import ctranslate2" in code and max(map(len, code.splitlines())) <= 100
        programs[case] = localize(sp.manager, Case("speech", request, apps[case], None, {"AUDIO": AUDIO / name}), code)
    outputs = run_programs(programs, tmp_path_factory.mktemp("engine-programs"))
    return {case: (apps[case], outputs[case]) for case in PROGRAMS}


@pytest.mark.parametrize("case", list(PROGRAMS))
def test_the_program_for_an_engine_run_reproduces_it(engine_programs, case):
    from tabs.speech import language_line

    app, out = engine_programs[case]
    assert not isinstance(out, tuple), f"the program failed:\n{out[1]}"
    lines = out.splitlines()
    assert lines[:2] == [f"Transcript: {app.text}", f"Language: {language_line(app)}"]
    assert lines[2:] == [f"{s.start:.2f}-{s.end:.2f} s  {s.text}" for s in app.segments]
    assert bool(app.segments) == (case != "plain") and (app.windows >= 2) == (case == "long")
