"""Engines side by side (issue 11): for every task tab, raw transformers float32 next to what the app runs on a
CPU, in one run, with a quality check. One command:

    .venv/bin/python bench/engines.py [--threads 2] [--repeats 5] [--parts generation,serving,speech,tasks]

Writes bench/results/engines.md. The parts:
- generation: SmolLM2-135M-Instruct (real weights, tests/realmodels) and GPT-2, tiny_starcoder and
  Qwen2.5-0.5B-Instruct (real size, random weights): raw `model.generate` (float32, greedy, exactly 64 new
  tokens) against the app's pipeline (pipelines/tasks/text_generation.py: onnxruntime-genai where it applies,
  else torch) and torch int8; ms per new token. Quality: the 20 prompts of tests/realmodels/questions.py.
- serving: the app itself in a child process (`app.py` code, real SmolLM2), called through gradio_client's
  streaming /generate_text, against raw `generate` in this process, alternating: what a visitor pays.
- speech: bench/engines_speech.py (Whisper base, real weights, the LibriVox clips).
- tasks: translation, summarization, QA, fill-mask, ViT and CLIP at real size with random weights, their typical
  request (bench/typical_requests.py) through our pipeline at float32 and at int8 (--quantize int8); quality is
  whether int8 gives the same answer as float32 (random weights: agreement, not accuracy).
Each timing: one warm-up, then the median of --repeats runs, interleaved between the paths compared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
RESULTS = ROOT / "bench" / "results" / "engines.md"
CACHE = ROOT / ".cache"
SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"
TOKENS = 64
PROMPT = "Tell me a short story about a robot who learns to paint."
PARTS = ("generation", "serving", "speech", "tasks")


def median_of(function, repeats: int) -> float:
    return statistics.median(function() for _ in range(repeats))


def interleaved(functions: dict, repeats: int) -> dict:
    """{name: median seconds}: one warm-up each, then the functions in turn, `repeats` rounds."""
    for function in functions.values():
        function()
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def manager(folders: dict[str, str], **settings):
    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from tests.realmodels.manager import RealFolders

    base = dict(model_source="auto", device="cpu", memory_budget_gb=12.0, cache_dir=CACHE / "bench")
    settings = Settings(**{**base, **settings})
    return ModelManager(settings, RealFolders(settings, folders))


def folder_for(repo_id: str, tmp: Path) -> tuple[str, str]:
    from bench.real_size import random_folder, real_weights_folder

    real = real_weights_folder(repo_id, CACHE / "realmodels")
    if real:
        return str(real), "real"
    return str(random_folder(repo_id, tmp / repo_id.replace("/", "--"), CACHE / "bench" / "miniatures")), "random"


# --- generation -------------------------------------------------------------------------------------------

def generation_rows(tmp: Path) -> list[dict]:
    import torch
    from transformers import AutoModelForCausalLM

    from pipelines.families.causal_lm import GenerationParams, encode

    fixed = GenerationParams(max_new_tokens=TOKENS, min_new_tokens=TOKENS, do_sample=False)
    rows = []
    checkpoints = [("text-generation", SMOL), ("text-generation", "openai-community/gpt2"),
                   ("code-completion", "bigcode/tiny_starcoder_py"),
                   ("text-generation", "Qwen/Qwen2.5-0.5B-Instruct")]
    for task_id, repo_id in checkpoints:
        if ARGS.checkpoints and repo_id not in ARGS.checkpoints:
            continue
        folder, weights = folder_for(repo_id, tmp)
        app = manager({repo_id: folder})
        fp32 = manager({repo_id: folder}, engine="torch")
        int8 = manager({repo_id: folder}, engine="torch", quantize="int8")
        bundle = app.get(task_id, repo_id).bundle
        ids = encode(bundle, PROMPT, use_chat=task_id == "text-generation")
        raw = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        pad = bundle.tokenizer.eos_token_id
        paths = {"raw": raw_generation(raw, ids, pad, min_new_tokens=TOKENS),
                 "app": generation_through(app, task_id, repo_id, fixed),
                 "int8": generation_through(int8, task_id, repo_id, fixed)}
        seconds = interleaved(paths, ARGS.repeats)
        row = dict(task=task_id, repo_id=repo_id, weights=weights, app_engine=bundle.runs_on,
                   raw_ms=seconds["raw"] / TOKENS * 1000, app_ms=seconds["app"] / TOKENS * 1000,
                   int8_ms=seconds["int8"] / TOKENS * 1000,
                   app_mb=app.get(task_id, repo_id).nbytes / 1e6, fp32_mb=fp32.get(task_id, repo_id).nbytes / 1e6)
        if repo_id == SMOL:
            row["quality"] = quality(fp32, app, int8)
        print(row, flush=True)
        rows.append(row)
        for m in (app, fp32, int8):
            m.unload_all()
    return rows


def raw_generation(model, ids: list[int], pad: int, new_tokens: list | None = None, **options):
    """Raw transformers: `model.generate` on the prompt's ids, greedy, up to TOKENS new tokens; the number of
    new tokens of each call goes to `new_tokens`."""
    import torch

    def run():
        with torch.inference_mode():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=TOKENS, do_sample=False, pad_token_id=pad, **options)
        if new_tokens is not None:
            new_tokens.append(out.shape[1] - len(ids))
    return run


def generation_through(models, task_id: str, repo_id: str, params):
    """The app's pipeline function for the task (the path a tab's request takes, Gradio aside)."""
    from pipelines.tasks import code_completion, text_generation

    def run():
        if task_id == "code-completion":
            parts = list(code_completion.complete(models.task(task_id), PROMPT, repo_id,
                                                  replace(params, stop_sequences=())))
        else:
            parts = list(text_generation.generate(models.task(task_id), PROMPT, repo_id, params))
        assert parts[-1].new_tokens == TOKENS, parts[-1]
    return run


def quality(*managers) -> list[tuple[str, int]]:
    """(engine, right answers of 20) on tests/realmodels/questions.py, greedy, for each manager."""
    from pipelines.families.causal_lm import GenerationParams
    from tests.realmodels import questions

    greedy = GenerationParams(max_new_tokens=questions.MAX_NEW_TOKENS, do_sample=False)
    out = []
    for models in managers:
        right, _ = questions.score(answerer(models.task("text-generation"), greedy))
        out.append((models.get("text-generation", SMOL).bundle.runs_on, right))
    return out


def answerer(task, params):
    from pipelines.tasks import text_generation

    return lambda question: list(text_generation.generate(task, question, SMOL, params))[-1].text


# --- serving ----------------------------------------------------------------------------------------------

SERVE = """
import sys, time
sys.path.insert(0, {root!r})
from tests.conftest import launch_app, tiny_settings
from tests.realmodels.manager import real_manager
from pathlib import Path
settings = tiny_settings(model_source="auto", engine={engine!r}, cache_dir=Path({cache!r}))
models = real_manager(settings, Path({realmodels!r}))
server = launch_app(settings, ["text-generation"], models)
print("URL", server.url, flush=True)
time.sleep(3600)
"""


def serving_rows() -> list[dict]:
    """The app through gradio_client against raw generate, for the torch path and the app's default path."""
    import torch
    from gradio_client import Client
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tests.realmodels.smollm2 import smollm2_folder

    folder = smollm2_folder(CACHE / "realmodels")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    raw = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    ids = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}], add_generation_prompt=True,
                                        return_dict=True)["input_ids"]
    raw_tokens = []
    # the app's settings for "Greedy": repetition penalty 1.1, up to TOKENS new tokens
    raw_generate = raw_generation(raw, ids, tokenizer.eos_token_id, raw_tokens, repetition_penalty=1.1)

    rows = []
    for engine in ("torch", "auto"):
        child = subprocess.Popen(
            [sys.executable, "-c", SERVE.format(root=str(ROOT), engine=engine, cache=str(CACHE / "bench"),
                                                realmodels=str(CACHE / "realmodels"))],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "OMP_NUM_THREADS": str(ARGS.threads)})
        try:
            url = next(line.split()[1] for line in child.stdout if line.startswith("URL"))
            client = Client(url, verbose=False)
            app_tokens = []
            through_app = app_request(client, app_tokens)
            through_app()  # loads the model (and converts it, the first time)
            seconds = interleaved({"raw": raw_generate, "app": through_app}, ARGS.repeats)
        finally:
            child.kill()
        raw_ms = seconds["raw"] / statistics.median(raw_tokens) * 1000
        app_ms = seconds["app"] / statistics.median(app_tokens) * 1000
        rows.append(dict(engine=engine, raw_ms=raw_ms, app_ms=app_ms, raw_tokens=statistics.median(raw_tokens),
                         app_tokens=statistics.median(app_tokens)))
        print(rows[-1], flush=True)
    return rows


def app_request(client, new_tokens: list):
    """One streamed /generate_text call of the launched app, greedy; its new-token count to `new_tokens`."""
    def run():
        _text, status = client.predict(PROMPT, SMOL, TOKENS, 0.7, 0.95, 50, 1.1, 0, "Greedy", True,
                                       api_name="/generate_text")
        new_tokens.append(int(re.search(r"(\d+) tokens in", status).group(1)))
    return run


# --- other tasks ------------------------------------------------------------------------------------------

def task_rows(tmp: Path) -> list[dict]:
    from bench import typical_requests as typical
    from pipelines.tasks import (
        clip_retrieval,
        fill_mask,
        image_classification,
        question_answering,
        summarization,
        translation,
    )

    text, text_tokens = typical.article()
    qa = next(q for q in typical.EXAMPLES["question_answering"] if len(q["context"].split()) > 500)
    image = str(typical.ASSETS / "images" / "dog_park.jpg")
    cases = [  # (task, checkpoint, request, run(models) -> a comparable answer, before_each)
        ("translation", "Helsinki-NLP/opus-mt-en-de", "2 sentences en→de, beam 4",
         lambda m: translation.translate(m, typical.TRANSLATE, "en", "de", num_beams=4).text,
         typical.fixed_translation_length),
        ("summarization", "sshleifer/distilbart-cnn-12-6", f"{text_tokens}-token article, 60 tokens, beam 4",
         lambda m: summarization.summarize(m, text, min_length=60, max_length=60, num_beams=4).text, None),
        ("question-answering", "distilbert/distilbert-base-cased-distilled-squad", "710-word context",
         lambda m: question_answering.answer(m, qa["question"], qa["context"]).text, None),
        ("fill-mask", "google-bert/bert-base-uncased", "one [MASK], top 5",
         lambda m: fill_mask.fill(m, "The capital of France is [MASK].").gaps[0].candidates[0].token, None),
        ("image-classification", "google/vit-base-patch16-224", "one 512x384 photo, top 5",
         lambda m: next(iter(image_classification.classify(m, image).scores)), None),
        ("clip", "openai/clip-vit-base-patch32", "zero-shot, 1 image x 3 labels",
         lambda m: next(iter(clip_retrieval.zero_shot(m, image, "cat, dog, car"))), None),
    ]
    rows = []
    for task_id, repo_id, request, run, before in cases:
        folder, weights = folder_for(repo_id, tmp)
        fp32 = manager({repo_id: folder}, engine="torch")
        int8 = manager({repo_id: folder}, engine="torch", quantize="int8")

        calls = {name: task_call(models, task_id, run, before) for name, models in (("fp32", fp32), ("int8", int8))}
        seconds = interleaved(calls, ARGS.repeats)
        same = calls["fp32"]() == calls["int8"]()
        rows.append(dict(task=task_id, repo_id=repo_id, weights=weights, request=request, fp32_s=seconds["fp32"],
                         int8_s=seconds["int8"], same=same, fp32_mb=fp32.get(task_id, repo_id).nbytes / 1e6,
                         int8_mb=int8.get(task_id, repo_id).nbytes / 1e6))
        print(rows[-1], flush=True)
        fp32.unload_all()
        int8.unload_all()
    return rows


def task_call(models, task_id: str, run, before):
    def call():
        if before:
            before(models.task(task_id))
        return run(models.task(task_id))
    return call


# --- report -----------------------------------------------------------------------------------------------

def write_report(results: dict, env: dict) -> None:
    lines = ["# Engines side by side: raw transformers float32 and what the app runs on a CPU\n",
             f"Written by `bench/engines.py` on {time.strftime('%Y-%m-%d %H:%M')} in {env['total_s'] / 60:.1f} "
             f"minutes. Machine: {env['machine']}; {ARGS.threads} threads; load average before / after "
             f"{env['load'][0]:.2f} / {env['load'][1]:.2f} (above {os.cpu_count()}: other work competed).",
             f"Medians of {ARGS.repeats} runs after a warm-up, the paths of a row interleaved.\n"]
    if "generation" in results:
        lines += ["## Text generation and code completion (ms per new token, greedy, exactly 64 new tokens)\n",
                  "| task | checkpoint | weights | raw fp32 `generate` | app | app engine | ratio | torch int8 | "
                  "memory fp32 / app |", "|---|---|---|---|---|---|---|---|---|"]
        for r in results["generation"]:
            lines.append(f"| {r['task']} | {r['repo_id'].split('/')[-1]} | {r['weights']} | {r['raw_ms']:.1f} | "
                         f"{r['app_ms']:.1f} | {r['app_engine']} | **{r['app_ms'] / r['raw_ms']:.2f}x** | "
                         f"{r['int8_ms']:.1f} ({r['int8_ms'] / r['raw_ms']:.2f}x) | "
                         f"{r['fp32_mb']:,.0f} / {r['app_mb']:,.0f} MB |")
        for r in results["generation"]:
            if r.get("quality"):
                lines.append("\nQuality, SmolLM2 real weights, the 20 prompts of tests/realmodels/questions.py "
                             "(greedy, 40 tokens): " + "; ".join(f"{name}: {right}/20" for name, right in r["quality"]))
        lines.append("\nThe app's memory counts the torch float32 model it keeps for Look inside and the "
                     "explainers plus the engine's files.\n")
    if "serving" in results:
        lines += ["## The app end to end (gradio_client, streaming /generate_text) against raw `generate`\n",
                  "| app engine | raw fp32 ms/token | app ms/token | ratio | tokens raw / app |",
                  "|---|---|---|---|---|"]
        for r in results["serving"]:
            lines.append(f"| {r['engine']} | {r['raw_ms']:.1f} | {r['app_ms']:.1f} | "
                         f"**{r['app_ms'] / r['raw_ms']:.2f}x** | {r['raw_tokens']:.0f} / {r['app_tokens']:.0f} |")
        lines.append("")
    if "speech" in results:
        lines += ["## Speech\n", results["speech"], ""]
    else:
        lines += ["## Speech\n", "See `bench/results/engines_speech.md` (`bench/engines_speech.py`).\n"]
    if "tasks" in results:
        lines += ["## The other tasks: float32 and int8 (torch dynamic quantization), real size, random weights\n",
                  "| task | checkpoint | request | fp32 s | int8 s | ratio | same answer | memory fp32 / int8 |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in results["tasks"]:
            lines.append(f"| {r['task']} | {r['repo_id'].split('/')[-1]} | {r['request']} | {r['fp32_s']:.3f} | "
                         f"{r['int8_s']:.3f} | {r['int8_s'] / r['fp32_s']:.2f}x | {'yes' if r['same'] else 'no'} | "
                         f"{r['fp32_mb']:,.0f} / {r['int8_mb']:,.0f} MB |")
        lines.append("\nint8 stays a setting (`--quantize int8`) for these tasks: no real weights are available "
                     "offline to show their answers hold, so float32 is the default.\n")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


def main() -> None:
    import torch
    import transformers

    from bench.text_to_image import machine

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(ARGS.threads)
    started, load_before = time.perf_counter(), os.getloadavg()
    # Parts not run this time keep their last results (a partial run updates the table).
    saved = CACHE / "bench" / "engines.json"
    results = json.loads(saved.read_text()) if saved.is_file() else {}
    with tempfile.TemporaryDirectory(prefix="engines-") as tmp:
        if "generation" in ARGS.parts:  # rows of checkpoints not run this time are kept
            fresh = generation_rows(Path(tmp))
            ran = {r["repo_id"] for r in fresh}
            results["generation"] = [r for r in results.get("generation", []) if r["repo_id"] not in ran] + fresh
        if "serving" in ARGS.parts:
            results["serving"] = serving_rows()
        if "speech" in ARGS.parts:
            from bench import engines_speech

            results["speech"] = engines_speech.table(engines_speech.measure(threads=ARGS.threads,
                                                                            repeats=ARGS.repeats))
        if "tasks" in ARGS.parts:
            results["tasks"] = task_rows(Path(tmp))
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(results, default=str, indent=1))
    write_report(results, dict(machine=machine(), load=(load_before[0], os.getloadavg()[0]),
                               total_s=time.perf_counter() - started))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--parts", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS))
    p.add_argument("--checkpoints", default="", help="generation: only these repo ids (comma-separated); one "
                   "process per checkpoint keeps each row's timings free of what ran before in the process")
    args = p.parse_args(argv)
    args.checkpoints = [c for c in args.checkpoints.split(",") if c]
    args.parts = [part for part in args.parts.split(",") if part]
    return args


if __name__ == "__main__":
    ARGS = parse_args()
    main()
