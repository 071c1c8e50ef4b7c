""""Look inside" of every task tab at real size on a CPU, for the tab's own examples: the goal is at most
1 s each on 2 cores (issue 10; text to image excepted: its previews come with the run).

    .venv/bin/python bench/look_inside.py [--threads 2] [--repeats 3] [--tasks question-answering,speech]

Writes bench/results/look_inside.md. For each task of the registry (TASKS) and each example its tab shows
(the examples come from where the tab reads them: assets/texts/examples.json through the registry, or
the tab module's own list), the task's main call runs first, untimed, as the tab runs it
(pipelines/tasks/<task>.py, the tab's default settings); then `pipelines.inside.<task>.explain(models,
*values)` is called with the values the tab's `LookInside.follow(...)` passes: the tab's inputs, then
the result it showed. The first explain call of each model is untimed (it switches the model to eager
attention where the view needs weights, and oneDNN builds its kernels); then --repeats calls are timed:
median and slowest, wall seconds and process CPU seconds (time.process_time(), all threads: less
sensitive to other work on a shared machine, which steals wall time, though a waiting OpenMP thread's
spinning still inflates it there). Then one call after the values the run kept for the view are dropped
(pipelines/inside/kept.py): what the view costs when they are gone.

Weights: SmolLM2-135M-Instruct and Whisper base are the real ones (tests/realmodels;
requirements-realmodels.txt); the others are their real architectures at real size with random weights
(bench/real_size.py, cached in .cache/bench/look_inside): speed does not depend on the weight values.
A random model writes garbage up to its length limit (no end-of-text comes), so the results looked into
are as long as the tab allows: an upper bound on the view's work. The six opus-mt pairs of the
translation examples share one real-size Marian (the pairs differ only in their vocabularies).

The task runs take most of the time (DistilBART's 4-beam summaries at real size: minutes on 2 cores); the
results file is rewritten after each task, so an interrupted run keeps what it measured. The first run
also builds the real-size folders (about 4 GB) and the real SmolLM2 (about 30 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
RESULTS = ROOT / "bench" / "results" / "look_inside.md"
CACHE = ROOT / ".cache"
GOAL_S = 1.0
ASSETS = ROOT / "assets"
MARIAN = "Helsinki-NLP/opus-mt-en-de"  # the one real-size Marian every opus-mt pair is mapped to


@dataclass
class Example:
    label: str  # the example, as the table names it
    model_id: str
    values: tuple  # what the tab's LookInside.follow passes to explain, after `models`
    run_s: float  # the task's own call, for comparison
    explain: str = "explain"  # the function of pipelines/inside/<task>.py the tab wires


def extra_sizes():
    """Real sizes bench/real_size.py does not list yet (published config.json values)."""
    from bench.real_size import RealSize

    return {"deepset/roberta-base-squad2": RealSize("extractive_qa:roberta", "RobertaForQuestionAnswering", dict(
        hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072))}


def folder(repo: str, cache: Path) -> str:
    """The real weights (SmolLM2, Whisper base), else the real-size random model, built once into the cache."""
    from bench import real_size

    real = real_size.real_weights_folder(repo, cache / "realmodels")
    if real is not None:
        return str(real)
    out = cache / "bench" / "look_inside" / repo.replace("/", "--")
    if not (out / "config.json").is_file():
        print(f"building {repo} at real size (random weights)...", flush=True)
        real_size.SIZES.update(extra_sizes())
        real_size.random_folder(repo, out, cache / "bench" / "miniatures")
    return str(out)


def manager(repos: set[str]):
    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from tests.realmodels.manager import RealFolders

    paths = {}
    for repo in sorted(repos):
        paths[repo] = folder(MARIAN if repo.startswith("Helsinki-NLP/opus-mt-") else repo, CACHE)
    settings = Settings(model_source="tiny", cache_dir=CACHE / "bench", memory_budget_gb=12.0)
    return ModelManager(settings, RealFolders(settings, paths))


def timed(function, *args, **kwargs):
    """(result, wall seconds) of function(*args, **kwargs); a generator's parts as a list."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    if hasattr(result, "__next__"):
        result = list(result)
    return result, time.perf_counter() - started


# One function per task: its tab's examples, each run as the tab runs it, with the values its LookInside gets.

def text_generation(models):
    from pipelines.tasks import text_generation as task
    from tabs import text_generation as tab
    from ui.widgets import examples

    base = next(c.repo_id for c in models.spec.checkpoints if "chat" not in c.traits)  # as the tab's gr.Examples
    for prompt in examples(models.spec.examples):
        model_id = base if prompt.startswith("Once upon") else models.spec.default.repo_id
        parts, seconds = timed(task.generate, models, prompt, model_id, task.DEFAULTS, task.USE_CHAT_TEMPLATE)
        yield Example(prompt, model_id, (prompt, model_id, task.USE_CHAT_TEMPLATE, tab.DECODING, parts[-1].text),
                      seconds)


def translation(models):
    from pipelines.tasks import translation as task
    from ui.widgets import examples

    for e in examples(models.spec.examples):
        source, target = task.name(e["source"]), task.name(e["target"])
        result, seconds = timed(task.translate, models, e["text"], source, target, task.DEFAULTS.num_beams)
        yield Example(f"{e['source']}→{e['target']}: {e['text']}", task.check(models, e["text"], source, target)
                      .hops[-1].repo_id, (e["text"], source, target, task.DEFAULTS.num_beams, result.text), seconds)


def summarization(models):
    from pipelines.tasks import summarization as task
    from ui.widgets import examples

    d, model_id = task.DEFAULTS, models.spec.default.repo_id
    for e in examples(models.spec.examples):
        result, seconds = timed(task.summarize, models, e["text"], model_id)
        yield Example(e["title"], model_id, (e["text"], model_id, d.min_length, d.max_length, d.num_beams,
                                             d.combine, result.text), seconds)


def question_answering(models):
    from pipelines.tasks import question_answering as task
    from tabs.question_answering import present
    from ui.widgets import examples

    no_answer = next(c.repo_id for c in models.spec.checkpoints if "no-answer" in c.traits)
    for c in examples(models.spec.examples):  # unanswerable ones go to the SQuAD 2.0 model, as in the tab
        model_id = no_answer if c.get("answer") is None else models.spec.default.repo_id
        result, seconds = timed(task.answer, models, c["question"], c["context"], model_id)
        shown = present(result, c["context"])[0]
        windows = f"{result.windows} window{'s' if result.windows != 1 else ''}"
        yield Example(f"{c['question']} ({len(c['context'].split())} words, {windows})", model_id,
                      (c["question"], c["context"], model_id, task.DEFAULT_MAX_ANSWER_TOKENS, shown), seconds)


def code_completion(models):
    from pipelines.tasks import code_completion as task
    from tabs import code_completion as tab
    from ui.widgets import examples

    model_id = models.spec.default.repo_id
    for code in examples(models.spec.examples):
        parts, seconds = timed(task.complete, models, code, model_id, task.DEFAULTS)
        yield Example(code.splitlines()[0], model_id, (code, model_id, tab.DECODING, code + parts[-1].text), seconds)


def fill_mask(models):
    from pipelines.tasks import fill_mask as task
    from tabs.fill_mask import MORE_EXAMPLES
    from ui.widgets import examples

    model_id = models.spec.default.repo_id
    for text in dict.fromkeys([*examples(models.spec.examples), *MORE_EXAMPLES]):  # as the tab lists them
        result, seconds = timed(task.fill, models, text, model_id)
        rows = [[g, rank, c.token, round(c.probability, 4), c.sentence]
                for g, gap in enumerate(result.gaps, 1) for rank, c in enumerate(gap.candidates, 1)]
        yield Example(text, model_id, (text, model_id, task.DEFAULT_TOP_K, rows), seconds)


def image_classification(models):
    from pipelines.tasks import image_classification as task
    from tabs.image_classification import EXAMPLES

    model_id = models.spec.default.repo_id
    for name in EXAMPLES:
        path = str(ASSETS / "images" / name)
        result, seconds = timed(task.classify, models, path, model_id)
        yield Example(name, model_id, (path, model_id, task.DEFAULT_TOP_K, result.scores), seconds)


def clip(models):
    from pipelines.tasks import clip_retrieval as task
    from tabs.clip_retrieval import DEFAULT_CAPTIONS, IMAGES

    model_id = models.spec.default.repo_id
    # The zero-shot tab's gr.Examples (tabs/clip_retrieval.py), then the caption tab's pictures with its captions.
    for image, labels, template in ((IMAGES / "cat.png", "cat, dog, car", task.DEFAULT_TEMPLATE),
                                    (IMAGES / "dog_park.jpg", "a dog in a park, a cat on a sofa, a car on a road",
                                     "{label}")):
        shown, seconds = timed(task.zero_shot, models, str(image), labels, template, model_id)
        yield Example(f"zero-shot {image.name}: {labels}", model_id, (str(image), labels, template, model_id, shown),
                      seconds)
    for name in ("dog_park.jpg", "fruit.jpg", "sunset_sea.jpg"):
        image = str(IMAGES / name)
        shown, seconds = timed(task.rank_captions, models, image, DEFAULT_CAPTIONS, model_id)
        yield Example(f"captions {name}", model_id, (image, DEFAULT_CAPTIONS, model_id, shown), seconds,
                      "explain_captions")


def speech(models):
    from pipelines.tasks import speech as task
    from tabs.speech import AUDIO, EXAMPLES, language_line

    d, model_id = task.DEFAULTS, models.spec.default.repo_id
    for name, mode, label in EXAMPLES:
        path = str(AUDIO / name)
        result, seconds = timed(task.transcribe, models, path, mode, d.language, model_id, d.timestamps)
        rows = [[s.start, s.end, s.text] for s in result.segments]
        yield Example(f"{name}, {mode} ({label})", model_id,
                      (path, mode, d.language, model_id, d.timestamps, result.text, rows, language_line(result)),
                      seconds)


def forecasting(models):
    from pipelines.readers.series_csv import NO_TIME, inspect
    from pipelines.tasks import forecasting as task
    from tabs.forecasting import EXAMPLES

    model_id = models.spec.default.repo_id
    for name, horizon, _label in EXAMPLES:
        path = str(ASSETS / "series" / name)
        found = inspect(path)  # the column pickers, as the tab fills them on upload
        value, when = found.value, found.time or NO_TIME
        result, seconds = timed(task.forecast, models, path, value, when, horizon, task.DEFAULT_CONTEXT, model_id)
        yield Example(f"{name}, {horizon} steps", model_id,
                      (path, value, when, horizon, task.DEFAULT_CONTEXT, model_id, result.table().values.tolist()),
                      seconds)


# Written under the table: how the views reach the goal, and what the numbers do and do not include.
NOTES = """
## How the views stay within the goal

- **Kept from the run** (`pipelines/inside/kept.py`): what a view would otherwise recompute at the cost of
  a large part of the run is kept beside the model for the last 8 runs (64 MB at most), keyed by a digest
  of the input itself, and read back by the view; a miss (evicted, a fresh server, another ZeroGPU worker)
  recomputes it, with the same values.
  - Summarization: the encoder's output over the article (a forward hook on the encoder while `generate`
    runs). The view then runs the decoder once over the summary, without the 50,264-way output layer it
    does not need. Before: the encoder (12 layers over ~470-1,024 tokens, about 3 s of one core for 470
    tokens) and the whole model again, in eager attention.
  - Question answering: the start and end logits of every window; the view reads no window again.
  - Speech: each 30 s window's encoder output; the view cuts each window from the whole recording's
    features exactly as Whisper's long-form `generate` cut it (so it finds them, and reads what the run
    read), and runs the decoder alone.
- **Eager attention only where weights are shown**: encoder-decoder models keep their encoder on sdpa
  when a view or the decoding page switches the model to eager (`pipelines/families/seq2seq.py`, as
  Whisper's already did), so the switch costs neither the view nor the tab's later runs.
- The other views are one forward pass of work the run did not keep: the confidence strips (text
  generation, code completion) read the prompt and the output once; fill-mask, image classification and
  CLIP run one pass with attention weights (or patch vectors) that the run, on sdpa, never computed;
  forecasting runs no model at all (the model's own scaling and patching only).
- A summary of chunk summaries (the long article) has no alignment with the text: its view is a sentence.
- Over the goal: the translation of the letter (9 sentences on 6 lines), 1.5 s. Each sentence is
  aligned with its own translation in one batched pass (encoder and decoder: the encoder's output of a
  batch of sentences is not kept), and the random Marian writes 2n + 16 tokens per sentence where a real
  one writes about 1.2n: the decoder's share (most of the pass) would be about half. Not yet measured with
  real weights (none for Marian offline); keeping each sentence's encoder output would need the task's
  batches of up to 8 sentences kept per row (pipelines/tasks/translation.py).
- Code completion: the random tiny_starcoder ends four of the five examples at once (its first token is a
  stop sequence or end of text), so their views draw nothing ("nothing drawn"); the fibonacci example (64 tokens) is the
  one that measures the strip.

## Reading the numbers

- Random weights write as long as the tab allows (no end-of-text comes): 130-token summaries, 128-token
  generations, translations of 2n + 16 tokens. A real model's outputs are shorter, so these rows are
  upper bounds; the views' cost grows with the output's length.
- CPU seconds count the work of both threads (and an OpenMP thread's spinning while it waits for the
  other): on an idle 2-core machine the wall time is about half of it to all of it.
- Text to image is excepted by the goal: its previews are the run's own step latents, decoded by TAESD
  (its cost is in `bench/results/text_to_image.md`).
"""
EXCEPTED = {"text-to-image": "excepted by the goal: its previews are kept by the run (bench/text_to_image.py)"}
RUNS = {"text-generation": text_generation, "translation": translation, "summarization": summarization,
        "question-answering": question_answering, "code-completion": code_completion, "fill-mask": fill_mask,
        "image-classification": image_classification, "clip": clip, "speech": speech, "forecasting": forecasting}


def example_repos(spec) -> set[str]:
    """The checkpoints a task's examples use (the default, and the few others the tabs' examples pick)."""
    extra = {"text-generation": {"openai-community/gpt2"}, "question-answering": {"deepset/roberta-base-squad2"},
             "translation": {f"Helsinki-NLP/opus-mt-{pair}" for pair in ("en-de", "en-fr", "en-es", "de-en",
                                                                         "fr-en", "es-en")}}
    return {spec.default.repo_id, *extra.get(spec.id, ())}


def without_kept(task_models, explain, example) -> str:
    """Wall and CPU seconds of one look-inside after the run's kept values are dropped (pipelines/inside/kept.py:
    an evicted entry, a fresh server), as "wall / CPU"; "" for a task that keeps nothing."""
    from pipelines.inside import kept

    bundle = task_models.bundle(example.model_id)
    if not bundle.extras.get(kept.KEY):
        return ""
    bundle.extras[kept.KEY] = kept.Kept()
    cpu = time.process_time()
    _, wall = timed(explain, task_models, *example.values)
    return f"{wall:.3f} / {time.process_time() - cpu:.3f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", default="", help="comma-separated task ids (default: every task)")
    args = parser.parse_args(argv)
    import torch

    from pipelines.core.registry import TASKS

    torch.set_num_threads(args.threads)
    wanted = [t for t in args.tasks.split(",") if t]
    # In the order asked for (the quick ones first, say), else the registry's; the table keeps the registry's.
    specs = sorted((s for s in TASKS if not wanted or s.id in wanted),
                   key=lambda s: wanted.index(s.id) if wanted else 0)
    load_before = os.getloadavg()
    models = manager({repo for s in specs if s.id in RUNS for repo in example_repos(s)})
    rows = []
    for spec in specs:
        if spec.id in EXCEPTED:
            rows.append((spec.id, "-", spec.default.label, None, EXCEPTED[spec.id]))
        else:
            measure(models, spec, args, rows)
        done = spec is specs[-1]
        write(rows, args, load_before, os.getloadavg(), "" if done else f" (partial: up to {spec.id})")
    return 0


def measure(models, spec, args, rows) -> None:
    """Run the task's examples and time its look-inside for each (see the module docstring); one row each."""
    import importlib

    task_models = models.task(spec)
    inside = importlib.import_module(f"pipelines.inside.{spec.pipeline.rsplit('.', 1)[1]}")
    warmed = set()
    for example in RUNS[spec.id](task_models):
        explain = getattr(inside, example.explain)
        first = None
        if (example.model_id, example.explain) not in warmed:  # eager switch, kernels: untimed
            _, first = timed(explain, task_models, *example.values)
            warmed.add((example.model_id, example.explain))
        walls, cpus, shown = [], [], {}
        for _ in range(args.repeats):
            cpu = time.process_time()
            shown, wall = timed(explain, task_models, *example.values)
            walls.append(wall)
            cpus.append(time.process_time() - cpu)
        cold = without_kept(task_models, explain, example)
        timing = (statistics.median(walls), max(walls), statistics.median(cpus), max(cpus), first, example.run_s,
                  cold)
        print(f"{spec.id} | {example.label[:60]}: median {timing[0]:.3f} s (CPU {timing[2]:.3f} s), slowest "
              f"{timing[1]:.3f} s; without kept {cold or '-'}; task run {example.run_s:.1f} s", flush=True)
        # A view with nothing to draw (a random model's empty completion, say) did no work: say so in the table.
        said = f"nothing drawn: {shown['message'][:70]}" if shown.get("message") else ""
        rows.append((spec.id, example.label, task_models.checkpoint(example.model_id).label, timing, said))
    models.unload_all()  # one task's models in memory at a time


def machine() -> str:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores{f' ({model})' if model else ''}"


def write(rows, args, load_before, load_after, partial: str = "") -> None:
    """The results file: rewritten after each task, so that a long run interrupted keeps what it measured."""
    from pipelines.core.registry import TASKS

    def loads(values):
        return " / ".join(f"{v:.2f}" for v in values)

    lines = [
        f"# Look inside: every task's view at real size, for the tab's examples{partial}",
        "",
        f"`bench/look_inside.py --threads {args.threads} --repeats {args.repeats}"
        f"{' --tasks ' + args.tasks if args.tasks else ''}`, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, {machine()}, {args.threads} torch threads. Load average (1, 5, "
        f"15 min) {loads(load_before)} before, {loads(load_after)} after. Goal: at most {GOAL_S:.0f} s each "
        "on 2 cores. Each row: the tab's example run once as the tab runs it (\"task run\"), then its "
        f"look-inside: the median and the slowest of {args.repeats} calls, wall and process CPU seconds (CPU "
        "counts both threads, so it can reach twice the wall time; it does not count time lost to other "
        "work on the machine); \"first\" is the model's first look-inside call, untimed in the median "
        "(eager switch, kernels). \"Without kept\": one call after the values the run kept for the view are "
        "dropped (an evicted entry, a fresh server; about what every call cost before they were kept). \"Task run\" "
        "includes loading the model for its first example.",
        "",
        "| task | example | model | median s | slowest s | CPU median s | CPU slowest s | first s | "
        "without kept: wall / CPU s | task run s | within 1 s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    order = [s.id for s in TASKS]
    for task, label, model, timing, note in sorted(rows, key=lambda row: order.index(row[0])):
        label = label.replace("|", "\\|").replace("\n", " ")
        if timing is None:
            lines.append(f"| {task} | {label} | {model} | | | | | | | | {note} |")
            continue
        median, slowest, cpu_median, cpu_slowest, first, run_s, cold = timing
        ok = "yes" if slowest <= GOAL_S else ("median only" if median <= GOAL_S else "**no**")
        ok += f" ({note})" if note else ""
        first_s = f"{first:.2f}" if first is not None else ""
        lines.append(f"| {task} | {label[:80]} | {model} | {median:.3f} | {slowest:.3f} | {cpu_median:.3f} | "
                     f"{cpu_slowest:.3f} | {first_s} | {cold} | {run_s:.1f} | {ok} |")
    RESULTS.write_text("\n".join(lines) + "\n" + NOTES, encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
