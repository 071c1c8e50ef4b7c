"""One typical request per tab on a CPU, for the default checkpoint of every task but text to image
(bench/text_to_image.py), at real size, through our pipeline code: the functions of pipelines/tasks/<task>.py
with the model from a ModelManager, which loads the checkpoint folder with the real `from_pretrained`.

    .venv/bin/python bench/cpu_latency.py [--threads 2] [--repeats 3] [--tasks speech,clip]

Writes bench/results/cpu_latency.md. Weights: SmolLM2-135M-Instruct and Whisper base are the real
ones where tests/realmodels can rebuild them offline (requirements-realmodels.txt); every other model
is its real architecture at real size with random weights (configs in bench/real_size.py). The
requests and their fixed output lengths are in bench/typical_requests.py. Each request runs once
untimed, then --repeats times; the median is reported. Models are freed between checkpoints (peak
RSS about 2 GB). About 1.5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
RESULTS = ROOT / "bench" / "results" / "cpu_latency.md"
CACHE = ROOT / ".cache"  # git-ignored: real checkpoints (realmodels/) and miniatures (bench/)
SLOW_S = 10.0  # a request slower than this on 2 cores is flagged in the results
# From bench/results/text_to_image.md (parameters in millions): UNet, text encoder, VAE, TAESD.
SD_TURBO = {"UNet": 865.9, "text encoder": 340.4, "VAE": 83.7, "TAESD": 2.4}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def local_folders(settings, folders: dict[str, str]):
    """A resolver that finds each checkpoint in a local folder, as `auto` mode does for a cached one."""
    from pipelines.core.sources import Location, SourceResolver

    class LocalFolders(SourceResolver):
        def resolve(self, ckpt):
            return Location(ckpt.repo_id, folders[ckpt.repo_id], None, "cache")

    return LocalFolders(settings)


def timed(case, models) -> tuple[float, float, tuple]:
    """One request through the task's pipeline functions, which see the manager as their task does."""
    task_models = models.task(case.task)
    if case.before_each is not None:
        case.before_each(task_models)
    started, cpu_started = time.perf_counter(), time.process_time()
    out = case.run(task_models)
    return time.perf_counter() - started, time.process_time() - cpu_started, out


def bench_checkpoint(repo_id: str, group: list, tmp: Path) -> dict:
    """Build or find the folder, load it through a ModelManager, run each case; then free everything."""
    from bench.real_size import random_folder, real_weights_folder
    from pipelines.core.device import Placement
    from pipelines.core.loading import ModelManager, release_memory
    from pipelines.core.settings import Settings

    started = time.perf_counter()
    folder = real_weights_folder(repo_id, CACHE / "realmodels")
    weights = "real" if folder else "random"
    folder = folder or random_folder(repo_id, tmp / repo_id.replace("/", "--"), CACHE / "bench" / "miniatures")
    build_s = time.perf_counter() - started
    release_memory(Placement("cpu", "float32"))  # the model built for the folder is gone: give its memory back
    settings = Settings(model_source="auto", device="cpu", dtype="float32", memory_budget_gb=8.0,
                        cache_dir=CACHE / "bench")
    models = ModelManager(settings, local_folders(settings, {repo_id: str(folder)}))
    rss_before = rss_mb()
    loaded = models.get(group[0].task, repo_id)
    model = loaded.bundle.model
    model = getattr(model, "model", model)  # chronos: the library's pipeline object holds the torch module
    params = sum(p.numel() for p in model.parameters())  # tied weights once
    print(f"{repo_id} ({weights} weights, {params / 1e6:.1f}M): folder {build_s:.1f} s, "
          f"load {loaded.load_seconds:.2f} s", flush=True)
    rows = []
    for case in group:
        timed(case, models)  # warm-up: oneDNN kernels, lazy imports, caches
        runs = [timed(case, models) for _ in range(ARGS.repeats)]
        walls = [w for w, _, _ in runs]
        units, unit, *note = runs[-1][2]
        median = statistics.median(walls)
        rows.append(dict(case=case, median=median, low=min(walls), high=max(walls),
                         cpu=statistics.median(c for _, c, _ in runs), units=units, unit=unit,
                         note=note[0] if note else ""))
        print(f"  {case.request}: {median:.2f} s ({units:g} {unit}; runs "
              + ", ".join(f"{w:.2f}" for w in walls) + ")", flush=True)
    result = dict(repo_id=repo_id, weights=weights, params=params, load_s=loaded.load_seconds,
                  build_s=build_s, rss_mb=rss_mb() - rss_before, rows=rows, extra=group[0].extra)
    del model, loaded
    models.unload_all()
    if weights == "random":
        shutil.rmtree(folder, ignore_errors=True)
    return result


def main() -> None:
    import torch
    import transformers

    from bench.text_to_image import machine
    from bench.typical_requests import cases

    transformers.utils.logging.disable_progress_bar()  # "Loading weights" bars for every model
    torch.set_num_threads(ARGS.threads)
    started, load_before, uptime_before = time.perf_counter(), os.getloadavg(), uptime()
    print(f"{ARGS.threads} threads; {uptime_before}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cpu-latency-") as tmp:
        wanted = [c for c in cases(Path(tmp)) if not ARGS.tasks or c.task in ARGS.tasks]
        groups: dict[str, list] = {}
        for case in wanted:
            groups.setdefault(case.repo_id, []).append(case)
        results = [bench_checkpoint(repo_id, group, Path(tmp)) for repo_id, group in groups.items()]
    write_report(results, dict(machine=machine(), torch=torch.__version__, transformers=transformers.__version__,
                               load=(load_before[0], os.getloadavg()[0]), uptime=(uptime_before, uptime()),
                               total_s=time.perf_counter() - started))


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average %.2f, %.2f, %.2f" % os.getloadavg()


def throughput(row: dict) -> str:
    rate = row["units"] / row["median"]
    if row["unit"] == "s of audio":
        return f"{rate:.1f}x real time"
    return f"{rate:.1f} {row['unit']}/s" if rate >= 1 else f"{1 / rate:.2f} s/{row['unit'].rstrip('s')}"


def write_report(results: list[dict], env: dict) -> None:
    from pipelines.core.registry import task

    rows, models, slow = [], [], []
    for r in results:
        label = r["repo_id"].split("/")[-1] + (" *" if r["extra"] else "")
        for row in r["rows"]:
            case = row["case"]
            rows.append(f"| {case.task} | {label} | {r['weights']} | {case.request} | **{row['median']:.2f}** "
                        f"({row['low']:.2f}–{row['high']:.2f}) | {throughput(row)} | {row['cpu']:.2f} |")
            if row["median"] > SLOW_S:
                slow.append(f"{label} ({case.request}): {row['median']:.1f} s")
        estimate = task(r["rows"][0]["case"].task).checkpoint(r["repo_id"]).params_m
        models.append(f"| {label} | {r['weights']} | {r['params'] / 1e6:.1f} ({estimate:g}) | "
                      f"{r['params'] * 4 / 1e6:,.0f} | {r['load_s']:.2f} | {r['rss_mb']:,.0f} | {r['build_s']:.1f} |")
    notes = [f"- {r['repo_id'].split('/')[-1]}: {row['note']}" for r in results for row in r["rows"] if row["note"]]
    defaults = {r["repo_id"]: r["params"] / 1e6 for r in results if not r["extra"]}
    total_m = sum(defaults.values()) + sum(SD_TURBO.values())
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    slow_text = ("Slower than " + f"{SLOW_S:.0f} s per request: " + "; ".join(slow) + ".") if slow else \
        f"Every request took under {SLOW_S:.0f} s."
    text = f"""# CPU latency: one typical request per tab, default checkpoints at real size

Written by `bench/cpu_latency.py` on {time.strftime('%Y-%m-%d %H:%M')} in {env['total_s'] / 60:.1f} minutes.

- Machine: {env['machine']}; torch {env['torch']}, transformers {env['transformers']}
- Threads: torch.set_num_threads({ARGS.threads});
  load average before / after: {env['load'][0]:.2f} / {env['load'][1]:.2f}
  (`uptime` before: `{env['uptime'][0]}`; after: `{env['uptime'][1]}`; a load above {os.cpu_count()} means other
  work competed for the cores)
- Weights: "real" = the real checkpoint rebuilt offline (tests/realmodels); "random" = the real
  architecture at real size with random weights (bench/real_size.py). float32, CPU. Peak RSS {peak_gb:.1f} GB.
- Each request goes through our pipeline function (pipelines/tasks/<task>.py) with the model from a
  ModelManager; one warm-up call, then the median (min–max) of {ARGS.repeats} calls, wall seconds.
  "CPU s" is the process's CPU time per call (about threads x wall when the cores are free).
  `*` marks a checkpoint that is not a default.

| task | checkpoint | weights | request | wall s | throughput | CPU s |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

{slow_text}

Per model: parameters in millions (the registry's estimate in brackets), their float32 size, the
ModelManager's load time (`from_pretrained` of a local safetensors folder already in the page cache:
a Space's first load adds the download; the first model loaded also pays about 1 s of one-time imports,
and the random-weight models load their miniature's small tokenizer, where a real 49k-token
tokenizer.json takes about 0.7 s), and the growth of RSS from before loading to after the
requests (weights plus activations and allocator caches). "folder s" is the time to build the
random-weight folder (or find the real one), which a real deployment does not pay.

| checkpoint | weights | params M | fp32 MB | load s | RSS +MB | folder s |
|---|---|---|---|---|---|---|
{chr(10).join(models)}
{(chr(10) + "Outputs:" + chr(10) + chr(10).join(notes) + chr(10)) if notes else ""}
## Parameter memory of all ten defaults

The {len(defaults)} defaults measured above ({sum(defaults.values()):,.1f}M parameters) plus SD-Turbo as built
by bench/text_to_image.py (UNet 865.9M, text encoder 340.4M, VAE 83.7M, TAESD 2.4M: {sum(SD_TURBO.values()):.1f}M):
**{total_m:,.1f}M parameters = {total_m * 4 / 1e3:.2f} GB in float32, {total_m * 2 / 1e3:.2f} GB in float16**
(parameters only: activations, buffers and the Python process come on top). Without SD-Turbo:
{sum(defaults.values()) * 4 / 1e3:.2f} GB in float32.
"""
    if ARGS.tasks:
        text = text.replace("## Parameter memory of all ten defaults", "## Parameter memory (only the tasks run)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", type=lambda s: [t.strip() for t in s.split(",") if t.strip()], default=[],
                        help="comma-separated task ids (default: all)")
    ARGS = parser.parse_args()
    main()
