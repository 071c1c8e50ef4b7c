"""Every "Inside the Transformer" interaction at real size on a CPU, for a 64-token input: the goal is
at most 1 s each on 2 cores (issue: Inside the Transformer).

    .venv/bin/python bench/explainers.py [--threads 2] [--repeats 5] [--pages attention,next-token]

Writes bench/results/explainers.md. Each public endpoint of each explainer page (registry.EXPLAINERS)
is called as the app calls it, through its function in pipelines/explainers/<page>.py with the model from
a ModelManager, once per model the page offers (an endpoint that takes a `model_id`). Text inputs are
cut to exactly 64 tokens of that model's tokenizer (the 64-token limit of the goal); other arguments
are the registry's example call. The first call of each (endpoint, model) is untimed: it loads the
model (and switches it to eager attention where the endpoint needs attention weights). Then --repeats
calls; the median and the slowest are reported.

Weights: SmolLM2-135M-Instruct, all-MiniLM-L6-v2 and Whisper base are the real ones (tests/realmodels;
requirements-realmodels.txt); GPT-2, BERT base and opus-mt-en-de are their real architectures at real
size with random weights (bench/real_size.py): speed does not depend on the weight values.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
RESULTS = ROOT / "bench" / "results" / "explainers.md"
CACHE = ROOT / ".cache"
TOKENS = 64
GOAL_S = 1.0
TEXT = ("The Transformer reads every word of a sentence at once. Attention lets each word look at the others, "
        "weigh them, and mix what it finds into its own vector; layer after layer, the vectors come to carry "
        "meaning, grammar and context. A decoder then predicts the next word, one step at a time, until the "
        "sentence is complete and the answer is ready to be read by the learner who asked for it.")
TEXT_PARAMS = ("text", "prompt")
TRAININGS = {"train_transformer", "fine_tune"}


def folders(cache: Path, scratch: Path) -> dict[str, str]:
    """Real weights where tests/realmodels has them, real-size random weights for the rest."""
    from bench.real_size import random_folder
    from pipelines.core.registry import BERT, GPT2, MINILM, SMOLLM2, WHISPER
    from tests.realmodels.minilm import minilm_folder
    from tests.realmodels.smollm2 import smollm2_folder
    from tests.realmodels.whisper import whisper_base_folder

    found = {SMOLLM2: smollm2_folder(cache / "realmodels"), MINILM.repo_id: minilm_folder(),
             WHISPER: whisper_base_folder(cache / "realmodels")}
    for repo in (GPT2, BERT, "Helsinki-NLP/opus-mt-en-de"):
        print(f"building {repo} at real size (random weights)...", flush=True)
        found[repo] = random_folder(repo, scratch / repo.replace("/", "--"), cache / "bench" / "miniatures")
    return {repo: str(path) for repo, path in found.items()}


def manager(paths: dict[str, str]):
    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from tests.realmodels.manager import RealFolders

    settings = Settings(model_source="tiny", cache_dir=CACHE / "bench", memory_budget_gb=12.0)
    return ModelManager(settings, RealFolders(settings, paths))


def cut_to_tokens(tokenizer, text: str, count: int) -> str:
    """The shortest prefix of `text` (repeated as needed) that the tokenizer splits into `count` pieces."""
    words = (text + " ") * 4
    pieces = tokenizer.tokenize(words)[:count]
    return tokenizer.convert_tokens_to_string(pieces).strip()


def cases(spec, pages_models):
    """(endpoint name, function, model label, kwargs) for each call to time on this page."""
    module = importlib.import_module(spec.pipeline)
    for endpoint in spec.endpoints:
        function = getattr(module, endpoint.name, None)
        if endpoint.name in TRAININGS or function is None or inspect.isgeneratorfunction(function):
            continue  # a training is no interaction: bench/train_transformer.py and bench/fine_tune.py time them
        takes_model = "model_id" in inspect.signature(function).parameters
        checkpoints = spec.checkpoints if takes_model else (None,)
        for ckpt in checkpoints:
            kwargs = dict(endpoint.example)
            if "audio" in kwargs:
                kwargs["audio"] = str(ROOT / kwargs["audio"])
            label = "-"
            if ckpt is not None:
                kwargs["model_id"] = ckpt.repo_id
                label = ckpt.label
                tokenizer = pages_models.tokenizer(ckpt.repo_id)
                for name in TEXT_PARAMS:
                    if name in kwargs:
                        kwargs[name] = cut_to_tokens(tokenizer, TEXT, TOKENS)
            if endpoint.name == "positional_encoding":
                kwargs.update(length=TOKENS, d_model=512)
            elif "length" in kwargs:
                kwargs["length"] = TOKENS
            if "token" in kwargs and isinstance(kwargs["token"], int):
                kwargs["token"] = TOKENS // 2
            if "query" in kwargs:
                kwargs.update(query=TOKENS - 8, key=TOKENS // 2)
            yield endpoint.name, function, label, kwargs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", default="", help="comma-separated page ids (default: every explainer)")
    args = parser.parse_args(argv)
    import torch

    from pipelines.core.errors import UserInputError
    from pipelines.core.registry import EXPLAINERS

    torch.set_num_threads(args.threads)
    wanted = [p for p in args.pages.split(",") if p]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-explainers-") as scratch:
        models = manager(folders(CACHE, Path(scratch)))
        for spec in EXPLAINERS:
            if wanted and spec.id not in wanted:
                continue
            page = models.task(spec)
            for name, function, label, kwargs in cases(spec, page):
                try:
                    started = time.perf_counter()
                    function(page, **kwargs)  # loads the model: untimed
                    first = time.perf_counter() - started
                    times = []
                    for _ in range(args.repeats):
                        started = time.perf_counter()
                        function(page, **kwargs)
                        times.append(time.perf_counter() - started)
                except UserInputError as exc:
                    print(f"{spec.id} /{name} {label}: refused: {exc}", flush=True)
                    rows.append((spec.id, name, label, None, None, None, str(exc)[:80]))
                    continue
                median, slowest = statistics.median(times), max(times)
                print(f"{spec.id} /{name} {label}: median {median * 1000:.0f} ms, max {slowest * 1000:.0f} ms "
                      f"(first call {first:.1f} s)", flush=True)
                rows.append((spec.id, name, label, median, slowest, first, ""))
    write(rows, args)
    return 0


def write(rows, args) -> None:
    load = os.getloadavg()[0]
    lines = [
        "# Explainers: one interaction each at real size, 64-token inputs",
        "",
        f"`bench/explainers.py`, {time.strftime('%Y-%m-%d %H:%M')}, {args.threads} torch threads, "
        f"median of {args.repeats} after one untimed call (model load), load average {load:.2f} at the end, "
        f"{os.cpu_count()} cores. Goal: at most {GOAL_S:.0f} s each.",
        "",
        "| page | endpoint | model | median ms | slowest ms | first call s | within 1 s |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for page, name, label, median, slowest, first, note in rows:
        if median is None:
            lines.append(f"| {page} | /{name} | {label} | | | | refused: {note} |")
            continue
        ok = "yes" if slowest <= GOAL_S else ("median only" if median <= GOAL_S else "**no**")
        lines.append(f"| {page} | /{name} | {label} | {median * 1000:.0f} | {slowest * 1000:.0f} | "
                     f"{first:.1f} | {ok} |")
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
