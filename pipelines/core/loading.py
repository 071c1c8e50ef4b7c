"""Lazy, thread-safe model loading with a memory budget and least-recently-used eviction.

    models = ModelManager(settings)
    translation = models.task("translation")        # what a task's tab and pipeline receive
    loaded = translation.get("Helsinki-NLP/opus-mt-en-de")   # loads on first use
    loaded.bundle   # a pipelines.core.bundle.Bundle: model, tokenizer/processor, device, family

Each task names its loader in the registry ("module:function", returning a Bundle). Models are keyed
by that loader and the checkpoint, so two tasks sharing a loader (text generation and code completion
both use `causal_lm:load`) share one copy of a model. Two requests arriving together for a model that
is not loaded yet load it once: the second waits on a per-model lock and reuses the first one's result.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines import remote
from pipelines.core import registry
from pipelines.core.bundle import FAST, Bundle, LoadRequest
from pipelines.core.device import Placement, choose_placement, free_memory_bytes
from pipelines.core.errors import ModelUnavailableError, PlaygroundError
from pipelines.core.events import Events
from pipelines.core.registry import Checkpoint, TaskSpec
from pipelines.core.settings import Settings
from pipelines.core.sources import Location, SourceResolver

log = logging.getLogger(__name__)
# Share of free memory at start-up the models may take when no budget is set: the rest is for
# activations, the web server, and the operating system.
DEFAULT_BUDGET_SHARE = 0.7
WEIGHT_SUFFIXES = {".safetensors", ".bin", ".pt", ".pth", ".gguf"}


@dataclass
class LoadedModel:
    task_id: str
    checkpoint: Checkpoint
    location: Location
    bundle: Bundle
    weights_nbytes: int  # the torch side, measured at load
    load_seconds: float

    @property
    def nbytes(self) -> int:
        """Memory the model holds: its torch weights, and a fast engine's files once one is built (pipelines/
        engines: on the task's first request, after the load)."""
        engine = self.bundle.extras.get(FAST) if isinstance(self.bundle, Bundle) else None
        return self.weights_nbytes + int(getattr(engine, "nbytes", 0))

    @property
    def notice(self) -> str:
        """A sentence for the tab when the outputs are not those of the real model."""
        if self.location.is_miniature:
            return (f"Offline: running a tiny random miniature of {self.checkpoint.repo_id} "
                    "(same architecture, random weights), so the outputs are meaningless.")
        return ""


class ModelManager:
    def __init__(self, settings: Settings, resolver: SourceResolver | None = None):
        self.settings = settings
        self.resolver = resolver or SourceResolver(settings)
        self._placement: Placement | None = None
        self._budget: int | None = None
        self._lock = threading.Lock()
        self._models: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self._tokenizers: dict[str, Any] = {}  # repo_id -> tokenizer loaded without its model
        self.events = Events()  # loads and evictions, for metrics (pipelines/core/events.py)

    # Placement and budget are decided on first use so that start-up never imports torch.
    @property
    def placement(self) -> Placement:
        if self._placement is None:
            self._placement = choose_placement(self.settings.device, self.settings.dtype,
                                               self.settings.engine, self.settings.quantize)
        return self._placement

    @property
    def budget_bytes(self) -> int:
        if self._budget is None:
            if self.settings.memory_budget_gb is not None:
                self._budget = int(self.settings.memory_budget_gb * 1e9)
            else:
                self._budget = int(free_memory_bytes(self.placement) * DEFAULT_BUDGET_SHARE)
        return self._budget

    def task(self, task: str | TaskSpec) -> TaskModels:
        """This manager as one task sees it (what its tab and pipeline functions receive)."""
        return TaskModels(self, task if isinstance(task, TaskSpec) else registry.task(task))

    def is_loaded(self, task: str | TaskSpec, repo_id: str | None = None) -> bool:
        return self._key(task, repo_id)[0] in self._models

    def loaded_keys(self) -> list[tuple[str, str]]:
        """(loader, repo_id) of every model in memory, least recently used first."""
        with self._lock:
            return list(self._models)

    def loaded_models(self) -> list[LoadedModel]:
        """Every model in memory (with its task, bytes and load time), least recently used first."""
        with self._lock:
            return list(self._models.values())

    def used_bytes(self) -> int:
        with self._lock:
            return sum(m.nbytes for m in self._models.values())

    def get(self, task: str | TaskSpec, repo_id: str | None = None, attention: str | None = None) -> LoadedModel:
        """The loaded model (loading it on first use). `attention="eager"` asks for a model that returns
        attention weights: loaded so, or switched in place if it is already in memory (no second copy)."""
        key, ckpt, spec = self._key(task, repo_id)
        loaded = self._cached(key)
        if loaded is None:
            with self._lock:
                key_lock = self._key_locks.setdefault(key, threading.Lock())
            with key_lock:
                loaded = self._cached(key)  # someone else may have loaded it while we waited for key_lock
                if loaded is None:
                    loaded = self._load(spec, ckpt, attention)
                    with self._lock:
                        self._models[key] = loaded
                    self._make_room(0, keep=key)  # measured size may exceed the estimate
        if attention:
            loaded.bundle.use_attention(attention)
        return loaded

    def tokenizer(self, task: str | TaskSpec, repo_id: str | None = None):
        """The checkpoint's tokenizer without its weights (the loaded model's own when it is in memory):
        a tokenizer is a few MB, so a page can show five side by side without loading five models."""
        key, ckpt, _spec = self._key(task, repo_id)
        loaded = self._cached(key)
        if loaded is not None and loaded.bundle.tokenizer is not None:
            return loaded.bundle.tokenizer
        with self._lock:
            found = self._tokenizers.get(ckpt.repo_id)
        if found is None:
            from transformers import AutoTokenizer

            location = self.resolver.resolve(ckpt)
            try:
                found = AutoTokenizer.from_pretrained(location.source, **location.pretrained_kwargs)
            except Exception as exc:
                raise ModelUnavailableError(_load_failure_message(ckpt, location, exc)) from exc
            with self._lock:
                found = self._tokenizers.setdefault(ckpt.repo_id, found)
        return found

    def _cached(self, key: tuple[str, str]) -> LoadedModel | None:
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        return None

    def unload_all(self) -> None:
        with self._lock:
            self._models.clear()
        release_memory(self.placement)

    @staticmethod
    def _key(task: str | TaskSpec, repo_id: str | None) -> tuple[tuple[str, str], Checkpoint, TaskSpec]:
        spec = task if isinstance(task, TaskSpec) else registry.task(task)
        ckpt = spec.checkpoint(repo_id)
        return (ckpt.loader or spec.loader, ckpt.repo_id), ckpt, spec

    def _load(self, spec: TaskSpec, ckpt: Checkpoint, attention: str | None) -> LoadedModel:
        location = self.resolver.resolve(ckpt)
        companions = {c.repo_id: self.resolver.resolve(c) for c in ckpt.companions}
        self._make_room(self._estimate(ckpt, location))
        request = LoadRequest(ckpt, location, self.placement, ckpt.family or spec.family, companions, attention,
                              self.settings.cache_dir)
        log.info("loading %s from %s (%s)", ckpt.repo_id, location.source, location.kind)
        started = time.perf_counter()
        try:
            bundle = registry.resolve(ckpt.loader or spec.loader)(request)
        except PlaygroundError:
            raise
        except Exception as exc:
            raise ModelUnavailableError(_load_failure_message(ckpt, location, exc)) from exc
        seconds = time.perf_counter() - started
        log.info("loaded %s in %.1f s", ckpt.repo_id, seconds)
        loaded = LoadedModel(spec.id, ckpt, location, bundle, bundle_nbytes(bundle), seconds)
        self.events.emit("loaded", repo_id=ckpt.repo_id, task_id=spec.id, seconds=seconds, nbytes=loaded.nbytes)
        return loaded

    def _estimate(self, ckpt: Checkpoint, location: Location) -> int:
        if location.kind != "hub":  # weights on disk: their size is the best estimate we have
            on_disk = sum(p.stat().st_size for p in Path(location.source).rglob("*")
                          if p.suffix in WEIGHT_SUFFIXES and p.is_file())
            return on_disk + sum(int(c.params_m * 1e6 * self.placement.bytes_per_param) for c in ckpt.companions)
        params = ckpt.params_m + sum(c.params_m for c in ckpt.companions)
        return int(params * 1e6 * self.placement.bytes_per_param)

    def _make_room(self, incoming: int, keep: tuple[str, str] | None = None) -> None:
        """Unload least recently used models until `incoming` more bytes fit in the budget."""
        evicted = []
        with self._lock:
            while self._models:
                used = sum(m.nbytes for m in self._models.values())
                if used + incoming <= self.budget_bytes:
                    break
                victim = next((k for k in self._models if k != keep), None)
                if victim is None:
                    break  # only the model just loaded is left: it runs even if over budget
                evicted.append(self._models.pop(victim))
        if evicted:
            log.info("unloaded %s to stay within the memory budget",
                     ", ".join(m.checkpoint.repo_id for m in evicted))
            for model in evicted:
                self.events.emit("evicted", repo_id=model.checkpoint.repo_id, nbytes=model.nbytes)
            del evicted
            release_memory(self.placement)


class TaskModels:
    """The model manager as one task sees it: its spec, its checkpoints, and the shared settings.

    Tabs and pipeline functions receive this instead of looking their task up by a typed id."""

    def __init__(self, manager: ModelManager, spec: TaskSpec):
        self.manager = manager
        self.spec = spec
        self._clients: dict[str, Any] = {}  # a serving engine's client by kind, built once (pipelines/remote)
        self._clients_lock = threading.Lock()

    def client(self, kind: str, build):
        """The serving-engine client of this kind, built on first use and then reused: connections pool."""
        with self._clients_lock:
            if kind not in self._clients:
                self._clients[kind] = build()
            return self._clients[kind]

    @property
    def settings(self) -> Settings:
        return self.manager.settings

    def checkpoint(self, model_id: str | None = None) -> Checkpoint:
        return self.spec.checkpoint(model_id)

    @property
    def remote(self) -> str | None:
        """The serving engine this task calls instead of loading a model (its own setting, else the
        default), or None: no endpoint set, or no standard protocol for the task (pipelines/remote/)."""
        return self.settings.remote_for(self.spec.id) if remote.protocol(self.spec.id) else None

    def get(self, model_id: str | None = None, attention: str | None = None) -> LoadedModel:
        """The loaded model (loading it on first use). For a task that calls a serving engine, a
        RemoteModel naming the checkpoint and endpoint instead: nothing loads. For a task that has an
        endpoint set but no protocol for it, the local model with the sentence saying why it runs here."""
        endpoint = self.remote
        if endpoint:
            return remote.RemoteModel(self.spec.id, self.checkpoint(model_id), endpoint)
        loaded = self.manager.get(self.spec, model_id, attention)
        reason = remote.STAYS_LOCAL.get(self.spec.id)
        return remote.StaysLocal(loaded, reason) if reason and self.settings.remote_for(self.spec.id) else loaded

    def bundle(self, model_id: str | None = None) -> Bundle:
        """The local model's bundle, loading it (also for CLIP's gallery search when CLIP is remote)."""
        return self.manager.get(self.spec, model_id).bundle

    def is_loaded(self, model_id: str | None = None) -> bool:
        return self.manager.is_loaded(self.spec, model_id)

    def runs_on(self, model_id: str | None = None) -> str:
        """What answers requests for the model ("onnxruntime-genai int4", "torch float32", ...), if it is in
        memory and local; "" otherwise (nothing is loaded to find out)."""
        if self.remote or not self.is_loaded(model_id):
            return ""
        return self.manager.get(self.spec, model_id).bundle.runs_on

    def tokenizer(self, model_id: str | None = None):
        """The checkpoint's tokenizer, without loading the model's weights if they are not in memory."""
        return self.manager.tokenizer(self.spec, model_id)


def _load_failure_message(ckpt: Checkpoint, location: Location, exc: Exception) -> str:
    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return (f"Not enough memory to load {ckpt.repo_id}. Pick a smaller model, "
                "or start the app with a larger --memory-budget-gb.")
    if location.kind == "hub":
        return (f"Could not download {ckpt.repo_id} from the Hugging Face Hub ({reason}). "
                "The other tabs keep working; try again in a minute, or start the app with "
                "--model-source tiny to use the offline miniatures.")
    return f"Could not load {ckpt.repo_id} from {location.source} ({reason})."


def bundle_nbytes(bundle: Any) -> int:
    """Bytes held by the torch parameters and buffers reachable from a bundle (shared ones once)."""
    seen: set[int] = set()
    total = 0
    for module in _modules_in(bundle):
        for tensor in list(module.parameters()) + list(module.buffers()):
            if id(tensor) not in seen:
                seen.add(id(tensor))
                total += tensor.numel() * tensor.element_size()
        for part in module.modules():  # a dynamic int8 Linear keeps its weights packed, not as a parameter
            if hasattr(part, "_packed_params") and callable(getattr(part, "weight", None)):
                weight = part.weight()
                total += weight.numel() * weight.element_size()
    return total


def _modules_in(obj: Any, depth: int = 0):
    import torch

    if isinstance(obj, torch.nn.Module):
        yield obj
    elif depth < 3:
        if isinstance(obj, dict):
            children = obj.values()
        elif isinstance(obj, (list, tuple)):
            children = obj
        elif hasattr(obj, "components") and isinstance(obj.components, dict):  # a diffusers pipeline
            children = obj.components.values()
        elif hasattr(obj, "__dict__"):
            children = vars(obj).values()
        else:
            children = ()
        for child in children:
            yield from _modules_in(child, depth + 1)


def release_memory(placement: Placement) -> None:
    """Give freed memory back: collect cycles, empty the CUDA cache, and trim glibc's heap."""
    gc.collect()
    if placement.device == "cuda":
        import torch

        torch.cuda.empty_cache()
    try:  # without this, glibc keeps freed weights in the process's heap on Linux
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
