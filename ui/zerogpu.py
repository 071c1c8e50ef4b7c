"""ZeroGPU Spaces: models on CUDA at start-up, inference inside `spaces.GPU`; elsewhere nothing changes.

A ZeroGPU Space (the `spaces` package's own test: env SPACES_ZERO_GPU is true) attaches a GPU only
while a function decorated with `@spaces.GPU` runs, and runs it in a forked worker process. Hence:
- models are loaded in the main process, at start-up (load mode "auto" means "eager" there), onto
  "cuda" (which `spaces` emulates until a GPU is attached);
- each model-running event (an event whose concurrency_id is a task id, as every tab's public event
  is) is wrapped here, once, after the tabs are built: tabs and pipelines know nothing of ZeroGPU;
- a model a person picks that is not loaded yet is loaded in the main process before the GPU call,
  because a load inside the forked worker would be thrown away with it.

Off ZeroGPU every function here is a no-op and `spaces` is never imported (it is not a requirement).
Known limit there: Stop cannot reach a generation running in the worker process; it ends at its limit.

    settings = zerogpu.prepare(settings)    # resolve load mode, device and budget
    zerogpu.before_build()
    ...build the app...
    zerogpu.wrap_events(demo.fns.values(), models)
    if settings.load_mode == "eager": zerogpu.preload(models)
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from dataclasses import replace

from pipelines.core import registry
from pipelines.core.errors import PlaygroundError
from pipelines.core.settings import Settings

log = logging.getLogger(__name__)
ENV_FLAG = "SPACES_ZERO_GPU"
# Seconds of GPU a call may hold come from each task's registry entry (`gpu_seconds`). ZeroGPU queues
# shorter requests first, so ask for little: small models answer in seconds on an A100/H200.
# Memory budget when none is set: ZeroGPU slices have 40-70 GB; asking CUDA for free memory in the
# main process (no GPU attached) is not possible there.
ZEROGPU_BUDGET_GB = 30.0


def on_zero_gpu(env: dict[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get(ENV_FLAG, "")
    return value.strip().lower() in ("1", "t", "true")


def prepare(settings: Settings, env: dict[str, str] | None = None) -> Settings:
    """Settings with the load mode resolved ("auto" -> eager on ZeroGPU, lazy elsewhere), and on
    ZeroGPU the device and memory budget that cannot be measured before a GPU is attached."""
    zero = on_zero_gpu(env)
    changes: dict = {}
    if settings.load_mode == "auto":
        changes["load_mode"] = "eager" if zero else "lazy"
    if zero:
        if settings.device == "auto":
            changes["device"] = "cuda"
        if settings.memory_budget_gb is None:
            changes["memory_budget_gb"] = ZEROGPU_BUDGET_GB
    return replace(settings, **changes) if changes else settings


def _spaces(env: dict[str, str] | None):
    """The `spaces` package on ZeroGPU (None elsewhere, or when it is missing)."""
    if not on_zero_gpu(env):
        return None
    try:
        import spaces
    except ImportError:
        log.error("%s is set but the `spaces` package is missing: running without ZeroGPU", ENV_FLAG)
        return None
    return spaces


def before_build(env: dict[str, str] | None = None) -> None:
    """Call before creating the Blocks: Gradio may wrap *every* event in spaces.GPU itself
    (SPACES_GRADIO_AUTO_WRAP); Stop and the deep-link load must not wait for a GPU."""
    spaces = _spaces(env)
    if spaces is not None:
        spaces.disable_gradio_auto_wrap()


def gpu_decorator(task_id: str, env: dict[str, str] | None = None):
    """`spaces.GPU(duration=...)` for this task on ZeroGPU; None elsewhere (or without `spaces`)."""
    spaces = _spaces(env)
    if spaces is None:
        return None
    spaces.disable_gradio_auto_wrap()  # we wrap model events only
    return spaces.GPU(duration=registry.task(task_id).gpu_seconds)


def wrap_events(block_fns, models, env: dict[str, str] | None = None) -> int:
    """Wrap every model-running event function (concurrency_id == a page id). Returns how many. A page that
    offers no checkpoint trains its own small model on one CPU core (build-a-transformer): a GPU call of
    `gpu_seconds` would only cut its training short, so its events stay as they are."""
    task_ids = {spec.id for spec in registry.PAGES if spec.checkpoints}
    wrapped = 0
    for block_fn in block_fns:
        task_id = getattr(block_fn, "concurrency_id", None)
        if task_id not in task_ids or block_fn.fn is None:
            continue
        decorator = gpu_decorator(task_id, env)
        if decorator is None:
            return 0
        block_fn.fn = _load_first(decorator(block_fn.fn), models, task_id)
        wrapped += 1
    return wrapped


def _load_first(fn, models, task_id: str):
    """Load (in this process) any curated model named in the call's arguments, then call `fn`."""
    def ensure_loaded(args, kwargs):
        if models.task(task_id).remote:  # a serving engine runs it: nothing to load in this process
            return
        spec = registry.task(task_id)
        values = [*args, *kwargs.values()]
        values += [item for v in values if isinstance(v, (list, tuple)) for item in v]  # batch=True events
        named = {v for v in values if isinstance(v, str)}
        for ckpt in spec.checkpoints:
            if ckpt.repo_id in named or ckpt.label in named:
                try:
                    models.get(task_id, ckpt.repo_id)
                except PlaygroundError:
                    pass  # the tab's own call fails the same way and shows the message
                return

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            ensure_loaded(args, kwargs)
            yield from fn(*args, **kwargs)
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ensure_loaded(args, kwargs)
        return fn(*args, **kwargs)
    return wrapper


def preload(models, task_ids: list[str] | None = None) -> list[str]:
    """Load each task's default checkpoint now (eager mode). A model that fails is logged and left
    to its tab, which shows the error on use: the other tabs keep working. Returns the loaded ids."""
    loaded = []
    for spec in registry.TASKS:
        if task_ids is not None and spec.id not in task_ids:
            continue
        if models.task(spec.id).remote:  # a serving engine runs it: nothing to load here
            continue
        try:
            models.get(spec.id)
            loaded.append(spec.id)
        except PlaygroundError as exc:
            log.error("could not preload %s: %s", spec.default.repo_id, exc)
        except ImportError as exc:  # a task whose pipeline module is not written yet
            log.error("could not preload %s: %s", spec.id, exc)
    return loaded
