"""Reading one attention layer of a real model: its weights, and the q and k vectors behind them.

A forward pass runs up to the chosen layer and stops there (a later layer cannot change this layer's
attention, and SmolLM2 has 30 layers and a 49,152-word output head: layer 0 costs one layer instead of
the whole model). Hooks on the layer's own modules read:
- the attention weights the layer computed (eager attention: `models.get(..., attention="eager")`);
- q and k per head, from the projections the layer itself uses: Llama-style models' `q_proj` and
  `k_proj` (then rotated with the rotary cos/sin the model passed the layer, as the layer does before
  its dot product), GPT-2's fused `c_attn` (q | k | v), BERT's `query` and `key`.

Every hook acts only in the thread that set it: the model in memory is shared with the other pages
(text generation runs the same SmolLM2), whose forward passes must pass through untouched.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from pipelines.core.errors import UserInputError

SUPPORTED = ("llama", "gpt2", "bert")  # model_type of the registry's checkpoints for this page


@dataclass
class LayerCapture:
    weights: Any  # the model's own attention weights, [heads, tokens, tokens] float32
    q: Any = None  # [heads, tokens, head_dim], after the rotary rotation where the model has one
    k: Any = None  # [kv_heads, tokens, head_dim]
    q_raw: Any = None  # before the rotation (rotary models only)
    k_raw: Any = None
    scaling: float = 1.0  # the factor the layer multiplies q·k by (1/√d_k)
    rotary: bool = False
    dtype: Any = None  # the model's own dtype (the weights above are converted to float32)


class _Stop(Exception):
    """Raised by our hook once the chosen layer has run: the rest of the model is not needed."""


def attention_module(model, layer: int):
    """The self-attention module of block `layer` (the one computing softmax(q·k/√d)) for each family."""
    base = model.base_model
    kind = model.config.model_type
    if kind == "llama":
        return base.layers[layer].self_attn
    if kind == "gpt2":
        return base.h[layer].attn
    if kind == "bert":
        return base.encoder.layer[layer].attention.self
    raise UserInputError(f"The attention lab reads {', '.join(SUPPORTED)} models; this one is {kind}.")


def run_layer(bundle, ids: list[int], layer: int, with_qk: bool) -> LayerCapture:
    """Run `bundle`'s model on token ids up to block `layer` and return what its attention computed."""
    import torch

    model = bundle.model
    attn = attention_module(model, layer)
    owner = threading.get_ident()
    seen: dict[str, Any] = {}

    def mine() -> bool:
        return threading.get_ident() == owner

    def keep(name):
        def hook(_module, _args, output):
            if mine():
                seen[name] = output.detach()
        return hook

    def rotary_in(_module, _args, kwargs):
        if mine():
            seen["rotary"] = kwargs.get("position_embeddings")

    def weights_out(_module, _args, output):
        if mine():
            seen["weights"] = output[1]
            raise _Stop

    hooks = [attn.register_forward_hook(weights_out), attn.register_forward_pre_hook(rotary_in, with_kwargs=True)]
    if with_qk:
        projections = {"llama": ("q_proj", "k_proj"), "gpt2": ("c_attn",), "bert": ("query", "key")}
        for name in projections[model.config.model_type]:
            hooks.append(getattr(attn, name).register_forward_hook(keep(name)))
    encoded = torch.tensor([ids], device=bundle.device)
    try:
        with torch.inference_mode():
            model(input_ids=encoded, attention_mask=torch.ones_like(encoded))
    except _Stop:
        pass
    finally:
        for hook in hooks:
            hook.remove()
    if seen.get("weights") is None:  # sdpa returns no weights: the caller asks for eager attention
        raise RuntimeError(f"layer {layer} returned no attention weights (implementation {bundle.attention})")
    capture = LayerCapture(seen["weights"][0].float(), scaling=float(attn.scaling), dtype=seen["weights"].dtype)
    if with_qk:
        _split_heads(capture, model.config, attn, seen)
    return capture


def _split_heads(capture: LayerCapture, config, attn, seen: dict) -> None:
    """q [heads, T, d] and k [kv_heads, T, d] from the projections' outputs, rotated where the model rotates."""
    kind = config.model_type
    if kind == "gpt2":
        q, k, _v = seen["c_attn"][0].float().split(config.hidden_size, dim=-1)
    elif kind == "llama":
        q, k = seen["q_proj"][0].float(), seen["k_proj"][0].float()
    else:
        q, k = seen["query"][0].float(), seen["key"][0].float()
    head_dim = getattr(attn, "head_dim", None) or config.hidden_size // config.num_attention_heads
    q = q.view(q.shape[0], -1, head_dim).transpose(0, 1)
    k = k.view(k.shape[0], -1, head_dim).transpose(0, 1)
    rotary = seen.get("rotary")
    if kind == "llama" and rotary is not None:
        cos, sin = (t[0].float() for t in rotary)  # [T, d], the same for every head
        capture.q_raw, capture.k_raw = q, k
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        capture.rotary = True
    capture.q, capture.k = q, k


def rotate(x, cos, sin):
    """Rotary position embedding as Llama applies it: x·cos + rotate_half(x)·sin, where rotate_half
    swaps the two halves of each vector and negates the new first half (pairs (i, i + d/2) turn together)."""
    import torch

    half = x.shape[-1] // 2
    turned = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + turned * sin
