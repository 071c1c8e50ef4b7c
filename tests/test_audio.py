"""pipelines.readers.audio: any file -> 16 kHz mono float32 of the right length, and a sentence for bad audio.

The expected durations come from soundfile's reading of the WAV originals, not from our decoder; the
pitch check (a 440 Hz tone must still be 440 Hz) catches a wrong sample rate that a length check alone
would miss if both were wrong together.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from pipelines.core.errors import UserInputError
from pipelines.readers import audio
from tests.conftest import ASSETS

AUDIO = ASSETS / "audio"
HELLO_S = soundfile.info(str(AUDIO / "hello.wav")).duration  # the source of every hello.* file
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg missing: apt-get install ffmpeg")


def _assert_16k_mono(samples: np.ndarray, seconds: float) -> None:
    assert isinstance(samples, np.ndarray) and samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size / 16_000 - seconds) <= 0.1, (samples.size / 16_000, seconds)
    assert np.isfinite(samples).all() and np.abs(samples).max() <= 1.0 + 1e-6


def _pitch(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.argmax(spectrum) * 16_000 / samples.size)


def _tone(rate: int, channels: int, seconds: float = 1.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    wave = 0.5 * np.sin(2 * np.pi * hz * t).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


@needs_ffmpeg
@pytest.mark.parametrize("name", ["hello.wav", "hello_16k.wav", "hello.flac", "hello.mp3", "hello.ogg",
                                  "hello.m4a"])
def test_every_example_format_decodes_to_16k_mono(name):
    _assert_16k_mono(audio.decode(AUDIO / name), HELLO_S)


@needs_ffmpeg
@pytest.mark.parametrize("name", ["long_speech.wav", "german.wav"])
def test_other_examples_keep_their_length(name):
    _assert_16k_mono(audio.decode(AUDIO / name), soundfile.info(str(AUDIO / name)).duration)


@needs_ffmpeg
@pytest.mark.parametrize("rate", [8_000, 11_025, 16_000, 44_100, 48_000, 96_000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_any_rate_and_channel_count(tmp_path, rate, channels):
    path = tmp_path / f"tone_{rate}_{channels}.flac"
    soundfile.write(str(path), _tone(rate, channels), rate)
    samples = audio.decode(path)
    _assert_16k_mono(samples, 1.5)
    assert abs(_pitch(samples) - 440) < 3
    assert 0.4 < np.abs(samples).max() < 0.6  # downmixed by averaging, not summed or dropped


@needs_ffmpeg
@pytest.mark.parametrize("suffix, codec", [(".mp3", "libmp3lame"), (".ogg", "libvorbis"), (".m4a", "aac"),
                                           (".wav", "pcm_s24le")])
def test_compressed_formats_at_other_rates(tmp_path, suffix, codec):
    source = tmp_path / "tone.wav"
    soundfile.write(str(source), _tone(44_100, 2, seconds=3.0, hz=1000.0), 44_100)
    target = tmp_path / f"encoded{suffix}"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(source), "-ar", "22050",
                    "-c:a", codec, str(target)], check=True, timeout=60)
    samples = audio.decode(target)
    _assert_16k_mono(samples, 3.0)
    assert abs(_pitch(samples) - 1000) < 5


def test_soundfile_and_librosa_without_ffmpeg(monkeypatch, tmp_path):
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    for name in ("hello.wav", "hello.flac", "hello.ogg"):
        _assert_16k_mono(audio.decode(AUDIO / name), HELLO_S)
    path = tmp_path / "tone.wav"
    soundfile.write(str(path), _tone(44_100, 2), 44_100)
    samples = audio.decode(path)
    _assert_16k_mono(samples, 1.5)
    assert abs(_pitch(samples) - 440) < 3
    with pytest.raises(UserInputError, match="ffmpeg"):
        audio.decode(AUDIO / "hello.m4a")  # AAC needs ffmpeg: the message says how to get it


@pytest.mark.parametrize("name, message", [
    ("corrupt.mp3", "could not be read as audio"),
    ("transcripts.json", "could not be read as audio"),
    ("empty.wav", "no audio samples"),
    ("silence.wav", "silent"),
])
def test_bad_example_files(name, message):
    with pytest.raises(UserInputError, match=message):
        audio.decode(AUDIO / name)


def test_other_bad_inputs(tmp_path):
    with pytest.raises(UserInputError, match="microphone or upload"):
        audio.decode(None)
    with pytest.raises(UserInputError, match="not found"):
        audio.decode(tmp_path / "missing.wav")
    (tmp_path / "zero.wav").write_bytes(b"")
    with pytest.raises(UserInputError, match="empty file"):
        audio.decode(tmp_path / "zero.wav")
    (tmp_path / "notes.wav").write_text("this is text, not sound\n" * 50)
    with pytest.raises(UserInputError, match="could not be read as audio"):
        audio.decode(tmp_path / "notes.wav")
    if shutil.which("ffmpeg"):
        with pytest.raises(UserInputError, match="no audio track"):
            audio.decode(ASSETS / "images" / "cat.png")


def test_length_limit_and_quiet_speech(tmp_path):
    with pytest.raises(UserInputError, match="longer than the limit of 2 s"):
        audio.decode(AUDIO / "hello.wav", max_seconds=2)
    _assert_16k_mono(audio.decode(AUDIO / "hello.wav", max_seconds=3), HELLO_S)
    quiet = soundfile.read(str(AUDIO / "hello.wav"), dtype="float32")[0] * 0.02  # about -36 dBFS peak
    soundfile.write(str(tmp_path / "quiet.wav"), quiet, 22_050)
    _assert_16k_mono(audio.decode(tmp_path / "quiet.wav"), HELLO_S)  # quiet speech is not "silence"
    hum = _tone(16_000, 1)[:, 0] * 1e-4  # -86 dBFS: nothing a microphone would call sound
    soundfile.write(str(tmp_path / "hum.wav"), hum, 16_000)
    with pytest.raises(UserInputError, match="silent"):
        audio.decode(tmp_path / "hum.wav")


def test_hung_ffmpeg_is_stopped(monkeypatch):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg missing")
    monkeypatch.setattr(audio, "FFMPEG_TIMEOUT_S", 0.001)
    with pytest.raises(UserInputError, match="took longer than"):
        audio.decode(AUDIO / "long_speech.wav")
