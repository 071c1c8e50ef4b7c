"""Build both real checkpoints and check that they mean something.

    python -m tests.realmodels.check [CACHE_DIR]

Prints the build/load timings, SmolLM2's answer to "What is the capital of France?", its
continuation of a Python stub, and Whisper base's transcripts and word error rate per clip of the
`pocketsphinx-testdata` recordings. Exits non-zero if an answer is wrong or the WER is above 15 %.
"""

import argparse
import ast
import sys
import time
import wave
from pathlib import Path

import numpy as np

from tests.realmodels.smollm2 import smollm2_folder
from tests.realmodels.whisper import whisper_base_folder

SPEECH_DIR = Path("/usr/share/pocketsphinx/test/data")  # apt package pocketsphinx-testdata
MAX_WER = 0.15
CODE_PROMPT = "def add(a, b):\n    return"


def timed(label: str, function, *args):
    start = time.perf_counter()
    result = function(*args)
    print(f"{label}: {time.perf_counter() - start:.2f} s")
    return result


def chat_answer(folder: Path, question: str, max_new_tokens: int = 40) -> str:
    """Greedy reply of the instruct model, prompted through its own chat template."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def code_completion(folder: Path, prompt: str = CODE_PROMPT, max_new_tokens: int = 20) -> str:
    """Greedy plain-text continuation of `prompt`, cut at the first blank line (the end of the function)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    inputs = tokenizer(prompt, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    text = tokenizer.decode(output[0], skip_special_tokens=True)
    return text.split("\n\n")[0]


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _pcm16(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def _read_wav(path: Path) -> np.ndarray:
    """The clips are 16 kHz mono 16-bit PCM, which the standard library reads without extra packages."""
    with wave.open(str(path)) as clip:
        if (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) != (16000, 1, 2):
            raise ValueError(f"{path} is not 16 kHz mono 16-bit PCM")
        return _pcm16(clip.readframes(clip.getnframes()))


def speech_clips() -> dict[str, tuple[np.ndarray, str]]:
    """{clip name: (16 kHz float32 audio, reference transcript)} from pocketsphinx-testdata."""
    if not SPEECH_DIR.is_dir():
        raise RuntimeError("missing test speech: apt-get install -y pocketsphinx-testdata")
    clips = {"goforward": (_pcm16((SPEECH_DIR / "goforward.raw").read_bytes()), "go forward ten meters")}
    # Lines look like "<s> words ... </s> (clip-id)".
    for line in (SPEECH_DIR / "librivox" / "transcription").read_text().splitlines():
        words, clip_id = line.rsplit(" (", 1)
        clip_id = clip_id.rstrip(")")
        reference = words.replace("<s>", "").replace("</s>", "").strip()
        clips[clip_id] = (_read_wav(SPEECH_DIR / "librivox" / f"{clip_id}.wav"), reference)
    return clips


def word_error_rates(folder: Path, clips: dict) -> tuple[dict[str, tuple[str, float]], float]:
    """Transcribe every clip with the ASR pipeline; return per-clip (transcript, WER) and the overall WER.

    Both sides go through Whisper's English normalizer (case, punctuation, "Mr." -> "mister",
    number words -> digits), as in Whisper's own evaluations, so only real word errors count.
    """
    import jiwer
    from transformers import pipeline
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    normalize = EnglishTextNormalizer({})
    recognizer = pipeline("automatic-speech-recognition", model=str(folder))
    per_clip, references, hypotheses = {}, [], []
    for name, (audio, reference) in clips.items():
        text = recognizer(
            {"raw": audio, "sampling_rate": 16000}, generate_kwargs={"language": "en", "task": "transcribe"}
        )["text"]
        references.append(normalize(reference))
        hypotheses.append(normalize(text))
        per_clip[name] = (text, jiwer.wer(references[-1], hypotheses[-1]))
    return per_clip, jiwer.wer(references, hypotheses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_cache = Path.home() / ".cache" / "transformer-playground" / "realmodels"
    parser.add_argument("cache_dir", nargs="?", type=Path, default=default_cache)
    cache_dir = parser.parse_args().cache_dir

    smollm2 = timed("SmolLM2 folder (convert or cached)", smollm2_folder, cache_dir)
    timed("SmolLM2 folder (cached)", smollm2_folder, cache_dir)
    answer = timed("SmolLM2 France answer", chat_answer, smollm2, "What is the capital of France?")
    print(f"  France answer: {answer!r}")
    code = timed("SmolLM2 code completion", code_completion, smollm2)
    print(f"  code completion: {code!r} (parses: {parses(code)})")

    whisper = timed("Whisper base folder (convert or cached)", whisper_base_folder, cache_dir)
    timed("Whisper base folder (cached)", whisper_base_folder, cache_dir)
    per_clip, overall = timed("Whisper base transcription", word_error_rates, whisper, speech_clips())
    for name, (text, wer) in per_clip.items():
        print(f"  {name}: WER {wer:.1%}  {text.strip()!r}")
    print(f"  overall WER: {overall:.1%}")

    ok = "paris" in answer.lower() and parses(code) and overall <= MAX_WER
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
