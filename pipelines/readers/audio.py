"""Any audio file -> 16 kHz mono float32 samples, the input every speech model here expects.

    from pipelines.readers.audio import decode
    samples = decode("assets/audio/hello.mp3", max_seconds=600)   # numpy float32, 16 kHz, mono

ffmpeg (apt package `ffmpeg`; a Space lists it in packages.txt) reads WAV, FLAC, MP3, OGG, M4A, the
WebM/Opus a browser records, and the audio track of a video, at any rate and channel count, and
resamples and downmixes in the same pass. Without ffmpeg, soundfile (libsndfile: WAV, FLAC, OGG and,
in recent builds, MP3) decodes and librosa resamples. Problems become UserInputError sentences.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from pipelines.core.errors import UserInputError

SAMPLE_RATE = 16_000
# Below these levels a recording holds nothing to transcribe (digital silence, a muted microphone):
# peak under -60 dBFS, or RMS under -70 dBFS. Quiet real speech sits around -30 dBFS RMS, so it passes.
SILENT_PEAK = 10 ** (-60 / 20)
SILENT_RMS = 10 ** (-70 / 20)
# ffmpeg decodes minutes of audio per second; this only stops a hung or pathological decode.
FFMPEG_TIMEOUT_S = 120
FORMATS = "WAV, FLAC, MP3, OGG or M4A"


def decode(path: str | Path | None, max_seconds: float | None = None) -> np.ndarray:
    """Samples of `path` as 16 kHz mono float32 in [-1, 1]. Refuses missing, empty, unreadable,
    too long and silent audio with a sentence saying what to do."""
    if not path:
        raise UserInputError("Record something with the microphone or upload an audio file first.")
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"The audio file {path.name!r} was not found; upload it again.")
    if path.stat().st_size == 0:
        raise UserInputError(f"{path.name} is an empty file (0 bytes): upload a recording with sound in it.")
    if shutil.which("ffmpeg"):
        samples = _decode_ffmpeg(path, max_seconds)
    else:
        samples = _decode_soundfile(path, max_seconds)
    check(samples, max_seconds, path.name)
    return samples


def check(samples: np.ndarray, max_seconds: float | None = None, name: str = "The recording") -> None:
    """Refuse audio with nothing in it or longer than `max_seconds`."""
    if samples.size == 0:
        raise UserInputError(f"{name} contains no audio samples (an empty recording). "
                             "Record or upload something with sound in it.")
    seconds = samples.size / SAMPLE_RATE
    if max_seconds is not None and seconds > max_seconds:
        raise UserInputError(f"{name} is longer than the limit of {_duration(max_seconds)}; "
                             f"cut it to at most {_duration(max_seconds)} and try again.")
    if is_silent(samples):
        raise UserInputError(f"{name} is silent ({seconds:.1f} s with no sound above -60 dBFS): "
                             "check that the microphone is not muted, or pick another file.")


def is_silent(samples: np.ndarray) -> bool:
    if samples.size == 0:
        return True
    peak = float(np.max(np.abs(samples)))
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return peak < SILENT_PEAK or rms < SILENT_RMS


def duration_s(samples: np.ndarray) -> float:
    return samples.size / SAMPLE_RATE


def _decode_ffmpeg(path: Path, max_seconds: float | None) -> np.ndarray:
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
               "-map", "0:a:0",  # the first audio track; a file without one fails here
               "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le",
               # Downmix by averaging the channels. ffmpeg's default matrix adds them at -3 dB each,
               # which takes two full-scale channels to 1.41 and six to 1.71, outside [-1, 1].
               "-rematrix_maxval", "1.0"]
    if max_seconds is not None:
        # Decode at most a little past the limit, so an hour-long upload costs no more than the limit.
        command += ["-t", f"{max_seconds + 1:.3f}"]
    try:
        done = subprocess.run(command + ["-"], capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise UserInputError(f"Decoding {path.name} took longer than {FFMPEG_TIMEOUT_S} s; "
                             "upload a shorter or simpler file.") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace")
        if "matches no streams" in reason:
            raise UserInputError(f"{path.name} has no audio track. Upload a {FORMATS} recording.")
        raise UserInputError(f"{path.name} could not be read as audio: it is damaged or not an audio file. "
                             f"Upload a {FORMATS} recording.")
    usable = len(done.stdout) // 4 * 4  # a truncated stream may end mid-sample
    return np.frombuffer(done.stdout[:usable], dtype="<f4").astype(np.float32)


def _decode_soundfile(path: Path, max_seconds: float | None) -> np.ndarray:
    import librosa
    import soundfile

    try:
        with soundfile.SoundFile(str(path)) as f:
            rate = f.samplerate
            frames = -1 if max_seconds is None else int((max_seconds + 1) * rate)
            data = f.read(frames=frames, dtype="float32", always_2d=True)
    except Exception:  # libsndfile raises LibsndfileError / RuntimeError for anything it cannot parse
        raise UserInputError(f"{path.name} could not be read as audio: it is damaged, not an audio file, "
                             f"or a format that needs ffmpeg (install it: apt-get install ffmpeg). "
                             f"Upload a {FORMATS} recording.") from None
    mono = data.mean(axis=1)
    if rate != SAMPLE_RATE and mono.size:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    return np.ascontiguousarray(mono, dtype=np.float32)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        return f"{minutes} min {rest} s"
    return f"{minutes} min" if minutes else f"{rest} s"
