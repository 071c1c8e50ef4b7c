"""Speech and awkward audio files: espeak-ng speaks, ffmpeg converts, the stdlib writes the rest.

Needs the apt packages espeak-ng and ffmpeg. ffmpeg runs with bit-exact flags and no metadata,
so the same tool versions give the same bytes. espeak speech is robotic: it is fine for checking
that audio flows through the app, not for judging recognition quality.
"""

from __future__ import annotations

import json
import tempfile
import wave
from pathlib import Path

from .common import ASSETS, need_tool, run, write_text

AUDIO = ASSETS / "audio"
HELLO = "Transformers turn sound into text."
GERMAN = "Guten Morgen! Wie geht es dir heute? Das Wetter ist schön, und wir gehen später in den Park."
LONG = (
    "Welcome to the transformer playground. This recording is long on purpose, so that the speech "
    "recognizer has to cut it into pieces of thirty seconds or less. "
    "A transformer reads a whole sequence at once, and attention decides which parts matter for each "
    "position. The encoder turns the input into vectors, and the decoder writes the output one token "
    "at a time. For speech, the sound is first turned into a spectrogram, a picture of how loud each "
    "frequency is over time. Whisper was trained on many hours of speech in many languages, so it can "
    "transcribe a recording and also translate it into English. "
    "If you can read this sentence in the transcript, the pieces were joined back together correctly. "
    "Thank you for listening, and have a good day."
)
BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]

# name -> ffmpeg output options (codec, sample rate, channels, bitrate): the same sentence in the
# formats and rates people upload, so the app's decode + resample + downmix path is exercised.
CONVERSIONS = {
    "hello_16k.wav": ["-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le"],
    "hello.flac": ["-ar", "8000", "-ac", "1", "-c:a", "flac"],
    "hello.mp3": ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "32k"],
    "hello.ogg": ["-ar", "48000", "-ac", "2", "-c:a", "libvorbis", "-q:a", "0"],
    "hello.m4a": ["-ar", "48000", "-ac", "1", "-c:a", "aac", "-b:a", "32k"],
}
TRANSCRIPTS = {
    "hello.wav": {"text": HELLO, "language": "en"},
    **{name: {"text": HELLO, "language": "en"} for name in CONVERSIONS},
    "long_speech.wav": {"text": LONG, "language": "en"},
    "german.wav": {"text": GERMAN, "language": "de"},
    "silence.wav": {"text": "", "language": None},
    "empty.wav": {"text": "", "language": None},
}


def _espeak(text: str, out: Path, voice: str = "en") -> None:
    run([need_tool("espeak-ng", "apt-get install -y espeak-ng"), "-v", voice, "-w", str(out), text])


def _ffmpeg(src: Path, out: Path, options: list[str]) -> None:
    run([need_tool("ffmpeg", "apt-get install -y ffmpeg"), "-nostdin", "-y", "-loglevel", "error",
         "-i", str(src), *BITEXACT, *options, str(out)])


def _write_pcm16(path: Path, rate: int, frames: bytes) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def build() -> list[Path]:
    AUDIO.mkdir(parents=True, exist_ok=True)
    made = []
    _espeak(HELLO, AUDIO / "hello.wav")                     # espeak's own format: 22,050 Hz mono
    made.append(AUDIO / "hello.wav")
    for name, options in CONVERSIONS.items():
        _ffmpeg(AUDIO / "hello.wav", AUDIO / name, options)
        made.append(AUDIO / name)

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "long.wav"
        _espeak(LONG, raw)
        # 11,025 Hz keeps 45 s of speech under 1 MB and still needs resampling to 16 kHz
        _ffmpeg(raw, AUDIO / "long_speech.wav", ["-ar", "11025", "-ac", "1", "-c:a", "pcm_s16le"])
    made.append(AUDIO / "long_speech.wav")

    _espeak(GERMAN, AUDIO / "german.wav", voice="de")
    made.append(AUDIO / "german.wav")

    _write_pcm16(AUDIO / "silence.wav", 16000, bytes(3 * 16000 * 2))   # 3 s of digital zeros
    _write_pcm16(AUDIO / "empty.wav", 16000, b"")                      # a valid header, no samples
    import numpy as np
    noise = np.random.default_rng(1234).integers(0, 255, size=4096, dtype=np.uint8)
    # No 0xFF byte anywhere, so no MPEG frame sync (0xFFE...) or ID3 tag can appear by chance:
    # every decoder must give up instead of playing a few frames of static.
    (AUDIO / "corrupt.mp3").write_bytes(noise.tobytes())
    made += [AUDIO / "silence.wav", AUDIO / "empty.wav", AUDIO / "corrupt.mp3"]

    write_text(AUDIO / "transcripts.json", json.dumps(TRANSCRIPTS, ensure_ascii=False, indent=2) + "\n")
    made.append(AUDIO / "transcripts.json")
    return made


def _probe(path: Path) -> dict:
    done = run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels",
                "-show_entries", "format=duration", "-of", "json", str(path)])
    info = json.loads(done.stdout)
    stream = info["streams"][0]
    return {"codec": stream["codec_name"], "rate": int(stream["sample_rate"]),
            "channels": stream["channels"], "duration": float(info["format"].get("duration", 0))}


def check() -> None:
    import warnings

    import librosa
    import numpy as np
    import soundfile as sf

    expect = {"hello.wav": ("pcm_s16le", 22050, 1), "hello_16k.wav": ("pcm_s16le", 16000, 1),
              "hello.flac": ("flac", 8000, 1), "hello.mp3": ("mp3", 44100, 2),
              "hello.ogg": ("vorbis", 48000, 2), "hello.m4a": ("aac", 48000, 1),
              "long_speech.wav": ("pcm_s16le", 11025, 1), "german.wav": ("pcm_s16le", 22050, 1)}
    for name, (codec, rate, channels) in expect.items():
        path = AUDIO / name
        assert path.stat().st_size < 1_000_000, name
        info = _probe(path)
        assert (info["codec"], info["rate"], info["channels"]) == (codec, rate, channels), (name, info)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")        # librosa warns when it falls back to audioread
            y, sr = librosa.load(path, sr=16000, mono=True)
        seconds = len(y) / sr
        assert abs(seconds - info["duration"]) < 0.15, (name, seconds, info["duration"])
        assert np.abs(y).max() > 0.05, name         # there is sound in it
        if name.startswith("hello"):
            assert 1.8 < seconds < 3.0, (name, seconds)
    assert _probe(AUDIO / "long_speech.wav")["duration"] > 40    # more than one 30 s window
    assert sf.info(AUDIO / "german.wav").samplerate == 22050

    silence, sr = sf.read(AUDIO / "silence.wav")
    assert sr == 16000 and len(silence) == 48000 and not silence.any()
    empty, sr = sf.read(AUDIO / "empty.wav")
    assert sr == 16000 and len(empty) == 0
    corrupt = AUDIO / "corrupt.mp3"
    assert 0xFF not in corrupt.read_bytes()
    for reader in (sf.read, lambda p: librosa.load(p, sr=16000)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader(corrupt)
            raise AssertionError(f"{reader} decoded corrupt.mp3")
        except AssertionError:
            raise
        except Exception:                       # soundfile: LibsndfileError; librosa: NoBackendError
            pass
    done = run_ffmpeg_decode(corrupt)
    assert done.returncode != 0, "ffmpeg decoded corrupt.mp3"
    transcripts = json.loads((AUDIO / "transcripts.json").read_text(encoding="utf-8"))
    assert set(transcripts) == set(expect) | {"silence.wav", "empty.wav"}
    print("audio: speech opens with librosa/soundfile/ffmpeg at the expected rates; bad files behave")


def run_ffmpeg_decode(path: Path):
    import subprocess
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
                          capture_output=True)
