"""Where the parts of one Transformer block live in each model, and hooks that read (or zero) them.

The "One block" page (pipelines.explainers.transformer_block) shows the values that really flow through
a model's modules, so it reads them with forward hooks on those modules instead of re-computing a block.
Each architecture names its parts differently and orders them differently:

    SmolLM2 (Llama)   pre-LN, RMSNorm:   x + attn(norm1(x)), then + mlp(norm2(.)); MLP = down(SiLU(gate)*up)
    GPT-2             pre-LN, LayerNorm: x + attn(ln_1(x)),  then + mlp(ln_2(.));   MLP = c_proj(GELU(c_fc))
    BERT / MiniLM     post-LN, LayerNorm: norm(x + attn(x)), then norm(. + ffn(.)); FFN = dense(GELU(dense))

The model is shared with other pages and tasks (and other users' requests may run through it while we
read it), so `Taps` act only on forward passes of the thread that made them, and always come off again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pipelines.core.errors import ModelUnavailableError


@dataclass(frozen=True)
class Anatomy:
    name: str  # what the page calls this kind of block
    layers: str  # model-level path of the ModuleList of blocks
    order: str  # "pre-LN" (norm before each sub-layer) or "post-LN" (norm after each add)
    norm_attention: str  # block-relative paths from here on
    norm_feed_forward: str
    attention: str  # the module whose output (first tensor) is added to the residual stream
    feed_forward: str  # likewise for the feed-forward sub-layer
    down: str  # the feed-forward's last projection: its INPUT is the hidden units
    pre_activation: str  # the first projection: its output is the hidden units before the non-linearity
    activation: str  # a sentence: what a hidden unit is
    up: str = ""  # gated MLPs only: the up projection, and the activation module applied to the gate
    gate_activation: str = ""
    attention_dropout: str = ""  # the model's own dropout on the attention output ("" when it has none)
    final_norm: str = ""  # model-level path of the norm before the LM head ("" when none)

    @property
    def gated(self) -> bool:
        return bool(self.up)


LLAMA = Anatomy(
    "Llama-style decoder block", "model.layers", "pre-LN", "input_layernorm", "post_attention_layernorm",
    "self_attn", "mlp", "mlp.down_proj", "mlp.gate_proj",
    "SiLU(gate) × up: the gate's SiLU times the up projection, the input of down_proj",
    up="mlp.up_proj", gate_activation="mlp.act_fn", final_norm="model.norm")
GPT2 = Anatomy(
    "GPT-2 decoder block", "transformer.h", "pre-LN", "ln_1", "ln_2", "attn", "mlp", "mlp.c_proj", "mlp.c_fc",
    "GELU(c_fc(x)): the input of c_proj", attention_dropout="attn.resid_dropout", final_norm="transformer.ln_f")
BERT = Anatomy(
    "BERT encoder block", "encoder.layer", "post-LN", "attention.output.LayerNorm", "output.LayerNorm",
    "attention.output.dense", "output.dense", "output.dense", "intermediate.dense",
    "GELU(intermediate.dense(x)): the input of output.dense", attention_dropout="attention.output.dropout")
ANATOMIES = (LLAMA, GPT2, BERT)

FORMULAS = {
    "RMSNorm": "y = x / √(mean(x²) + ε) · g   (no mean subtracted, no bias)",
    "LayerNorm": "y = (x − mean(x)) / √(var(x) + ε) · γ + β",
}


def anatomy(model) -> Anatomy:
    """The anatomy whose every part exists in this model's first block."""
    for candidate in ANATOMIES:
        try:
            block = model.get_submodule(candidate.layers)[0]
            parts = [candidate.norm_attention, candidate.norm_feed_forward, candidate.attention,
                     candidate.feed_forward, candidate.down, candidate.pre_activation, candidate.up,
                     candidate.gate_activation, candidate.attention_dropout]
            for part in filter(None, parts):
                block.get_submodule(part)
            return candidate
        except (AttributeError, IndexError, TypeError):
            continue
    raise ModelUnavailableError(f"This page cannot find the blocks of a {type(model).__name__}.")


def norm_kind(module) -> str:
    """ "RMSNorm" or "LayerNorm", from the module's class (Llama's LlamaRMSNorm, torch's LayerNorm)."""
    return "RMSNorm" if "rmsnorm" in type(module).__name__.lower() else "LayerNorm"


def norm_eps(module) -> float:
    return float(getattr(module, "variance_epsilon", getattr(module, "eps", 0.0)))


def first_tensor(value):
    """A module's output (or input): a tensor, or a tuple whose first item is the tensor."""
    return value[0] if isinstance(value, (tuple, list)) else value


class Taps:
    """Forward hooks on real modules, for this thread's forward passes only; removed on exit, also after
    an error (use as `with Taps() as taps:`). `seen[key]` holds batch item 0 of what passed, as float32."""

    def __init__(self):
        self.seen: dict[str, object] = {}
        self._handles: list = []
        self._thread = threading.get_ident()
        self._open: dict[str, bool] = {}  # scope name -> inside that module's forward right now

    def __enter__(self) -> Taps:
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _ours(self) -> bool:
        return threading.get_ident() == self._thread

    def output(self, module, key: str, within: str = "") -> None:
        """Keep the module's output as `key` (only while inside the scope `within`, when given)."""
        def hook(_module, _args, out):
            if self._ours() and (not within or self._open.get(within)):
                self.seen[key] = first_tensor(out)[0].detach().float().clone()
        self._handles.append(module.register_forward_hook(hook))

    def input(self, module, key: str) -> None:
        """Keep the module's first input (positional, or the `hidden_states` keyword) as `key`."""
        def hook(_module, args, kwargs):
            if self._ours():
                value = args[0] if args else kwargs.get("hidden_states")
                self.seen[key] = first_tensor(value)[0].detach().float().clone()
        self._handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))

    def scope(self, module, name: str) -> None:
        """Mark when this thread is inside `module`'s forward: a hook on a module that might be shared
        between blocks (an activation function object) then records only this block's call."""
        def enter(*_):
            if self._ours():
                self._open[name] = True

        def leave(*_):
            if self._ours():
                self._open[name] = False
        self._handles.append(module.register_forward_pre_hook(enter))
        self._handles.append(module.register_forward_hook(leave, always_call=True))

    def zero_output(self, module) -> None:
        """Switch the module off: its output (first tensor) becomes zeros, in this thread's passes only."""
        def hook(_module, _args, out):
            if not self._ours():
                return None
            if isinstance(out, tuple):
                return (out[0].new_zeros(out[0].shape), *out[1:])
            return out.new_zeros(out.shape)
        self._handles.append(module.register_forward_hook(hook))
