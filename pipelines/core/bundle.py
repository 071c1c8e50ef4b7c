"""One shape for every loaded model, and the one helper that loads a transformers-style checkpoint.

Every task's loader returns a `Bundle`: the model, its tokenizer or processor, the device, the model's
family, the checkpoint, and `extras` for what a family needs beside them (a tiny VAE, a per-model
cache). So a feature that needs "the model and its tokenizer" of any text task reads
`bundle.model` and `bundle.tokenizer`, whatever the task.

    def load(request: LoadRequest) -> Bundle:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        return load_pretrained(request, AutoModelForCausalLM, AutoTokenizer)

Attention weights: transformers 5 loads with `sdpa`, which returns none. `request.attention` (or
`Bundle.use_attention("eager")` on a model already in memory) switches the implementation instead of
loading a second copy. A switch waits until no forward pass of the model is running and holds new ones
until it is done: a forward pass builds its attention mask for one implementation (GPT-2's sdpa path
builds none at all), so switching in the middle of one would leave its later layers unmasked.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipelines.core.device import Placement
from pipelines.core.errors import ModelUnavailableError
from pipelines.core.registry import Checkpoint
from pipelines.core.sources import Location

log = logging.getLogger(__name__)
GATE = "forward_gate"  # bundle.extras key of the model's ForwardGate (models loaded by load_pretrained)
# bundle.extras key of an engine that answers the task's main request instead of the torch model
# (pipelines/engines); the torch model stays for what reads inside it (Look inside, the explainers).
FAST = "fast_engine"


@dataclass(frozen=True)
class LoadRequest:
    checkpoint: Checkpoint
    location: Location
    placement: Placement
    family: str
    companions: dict[str, Location] = field(default_factory=dict)  # repo_id -> where it is
    attention: str | None = None  # "eager" or "sdpa"; None: the library's default
    cache_dir: Path | None = None  # where an engine keeps the converted files it builds (Settings.cache_dir)


class ForwardGate:
    """Counts the forward passes running through a model; `exclusive()` waits until none is and keeps new
    ones out meanwhile. Installed as the model's own forward hooks, so every caller goes through it."""

    def __init__(self, model):
        self._cond = threading.Condition()
        self._running = 0
        self._closed = False
        model.register_forward_pre_hook(self._enter)
        model.register_forward_hook(self._leave, always_call=True)  # also when the forward raises

    def _enter(self, *args) -> None:
        with self._cond:
            self._cond.wait_for(lambda: not self._closed)
            self._running += 1

    def _leave(self, *args) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    @contextmanager
    def exclusive(self):
        with self._cond:
            self._cond.wait_for(lambda: not self._closed)
            self._closed = True
            self._cond.wait_for(lambda: self._running == 0)
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()


@dataclass
class Bundle:
    model: Any  # a torch module, or the library's own pipeline object (diffusers, chronos)
    processor: Any  # a tokenizer, a processor (with .tokenizer / .image_processor ...), or None
    device: str
    family: str  # one of pipelines.core.registry.FAMILIES
    checkpoint: Checkpoint
    extras: dict[str, Any] = field(default_factory=dict)  # family-specific parts that live with the model
    runs_on: str = ""  # what answers requests, for the status line: "torch float32", "onnxruntime-genai int4", ...
    # Builds the fast engine (pipelines/engines) on the first request that wants it: the explainers share this
    # model and never use the engine, so loading the model for them must not convert it (seconds to minutes).
    engine_builder: Callable[[], Any] | None = field(default=None, repr=False)
    _attention_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _engine_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fast(self):
        """The engine that answers the task's main request instead of the torch model, built on the first call;
        None when no engine applies (a GPU, --engine torch, an architecture it does not run) or its build failed
        (logged once: the task then runs on torch)."""
        with self._engine_lock:
            if self.engine_builder is not None:
                build, self.engine_builder = self.engine_builder, None
                try:
                    engine = build()
                except Exception:  # a failed conversion costs speed, not the tab
                    log.exception("%s: the fast engine could not be built; running on torch", self.checkpoint.repo_id)
                else:
                    self.extras[FAST] = engine
                    self.runs_on = engine.label
        return self.extras.get(FAST)

    @property
    def tokenizer(self):
        """The text tokenizer, whether `processor` is one or holds one (Whisper, CLIP)."""
        return getattr(self.processor, "tokenizer", self.processor)

    @property
    def attention(self) -> str | None:
        config = getattr(self.model, "config", None)
        return getattr(config, "_attn_implementation", None)

    def use_attention(self, implementation: str) -> None:
        """Switch the attention implementation of the model in memory ("eager" returns weights), between
        forward passes; raise ModelUnavailableError if this model cannot use it."""
        with self._attention_lock:
            if self.attention == implementation:
                return
            gate = self.extras.get(GATE)
            if gate is None or not hasattr(self.model, "set_attn_implementation"):
                raise ModelUnavailableError(f"{self.checkpoint.repo_id} cannot switch to {implementation} attention.")
            with gate.exclusive():
                self.model.set_attn_implementation(implementation)
            if self.attention != implementation:  # transformers may only warn that it is not supported
                raise ModelUnavailableError(f"{self.checkpoint.repo_id} does not support {implementation} attention.")


def pin_attention(part, implementation: str = "sdpa") -> None:
    """Keep the attention modules under `part` (a model's encoder, say) on `implementation`, whatever the
    whole model is later switched to with `use_attention`.

    transformers' attention modules read `self.config._attn_implementation` at each call, and
    `set_attn_implementation` rewrites that field on the configs of the model and of every `PreTrainedModel`
    inside it, never on a plain module's own reference. So the modules under `part` get a copy of the
    config of their own. Why: Whisper's pages need the decoder's attention weights (eager), but eager
    attention costs the encoder's 1,500-position self-attention 1.6x its sdpa time, for every later
    transcription too; the encoder's weights are never shown."""
    import copy

    pinned = {}
    for module in part.modules():
        config = module.__dict__.get("config")
        if config is None or not hasattr(config, "_attn_implementation") or hasattr(module, "base_model_prefix"):
            continue  # PreTrainedModels keep the shared config: the switch walks them and must find it
        if id(config) not in pinned:
            pinned[id(config)] = copy.copy(config)
            pinned[id(config)]._attn_implementation_internal = implementation
        module.config = pinned[id(config)]


def load_pretrained(request: LoadRequest, model_class, processor_class=None, *, processor_kwargs=None,
                    model_kwargs=None, extras=None) -> Bundle:
    """`from_pretrained` both parts from the request's location, in its dtype, on its device, in eval mode."""
    loc = request.location
    processor = None
    if processor_class is not None:
        processor = processor_class.from_pretrained(loc.source, **loc.pretrained_kwargs, **(processor_kwargs or {}))
    kwargs = {"dtype": request.placement.dtype, **loc.pretrained_kwargs, **(model_kwargs or {})}
    if request.attention:
        kwargs["attn_implementation"] = request.attention
    model = model_class.from_pretrained(loc.source, **kwargs)
    model.to(request.placement.device).eval()
    runs_on = f"torch {request.placement.dtype_name}"
    if request.placement.quantize == "int8":  # only ever set on a CPU (pipelines.core.device)
        quantize_int8(model)
        runs_on += ", int8 Linear layers"
    extras = {**(extras or {}), GATE: ForwardGate(model)}
    return Bundle(model, processor, request.placement.device, request.family, request.checkpoint, extras, runs_on)


def quantize_int8(model) -> None:
    """Dynamic int8 quantization of every nn.Linear in place (weights int8, activations quantized per batch):
    about twice the speed of float32 matrix products on a CPU. GPT-2's Conv1D layers are not nn.Linear and stay
    float32. torch marks the API deprecated (for torchao) but it is the one that runs here without a build."""
    import warnings

    import torch

    # A vocabulary projection tied to the input embeddings stays float32: an int8 copy of it would add memory
    # (the embeddings keep their float32 weights) where quantizing everything else takes memory away.
    tied = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    tied = tied if tied is not None and getattr(model.config, "tie_word_embeddings", False) else None
    layers = {name for name, module in model.named_modules()
              if isinstance(module, torch.nn.Linear) and module is not tied}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.ao.quantization.quantize_dynamic(model, layers, dtype=torch.qint8, inplace=True)
