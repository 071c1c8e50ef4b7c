"""The cost lab's measured runs: one greedy decoding loop in torch, the same on the fast engine, and the sizes.

Why a hand-written loop and not `model.generate`: the page times the two parts of a generation separately
(the prompt's forward pass, which gives the first token, and the one-token steps after it) and switches the KV
cache off or runs four copies of the prompt at once. The loop is what greedy `generate` does, without its logits
processors: read the prompt, take the likeliest token, feed it back, again. Every run makes exactly `new_tokens`
tokens (no stop at the end of text), so two runs do the same work and their times compare.

    run = greedy(bundle.model, ids, 16)                 # KV cache on, one sequence
    run.summary(), run.tokens, run.cache
    fast = engine_run(bundle.extras[FAST], ids, 16)     # the same on onnxruntime-genai
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

TOP = 5  # the top-k sets the agreement compares


@dataclass
class Run:
    tokens: list[int]  # the new token ids (of the first sequence when several ran together)
    step_s: list[float]  # per new token: the time since the previous one (the first: since the start)
    batch: int = 1
    logits: list[Any] = field(default_factory=list)  # one float32 vector per new token (kept only when asked)
    cache: Any = None  # the KV cache after the last step (a transformers Cache), when one was used

    def summary(self, tokens: int | None = None) -> dict:
        """Rounded timings of the first `tokens` new tokens (all by default): the time to the first token, and
        tokens per second over the steps after it (the prompt's pass is paid once, whatever the length)."""
        times = self.step_s[:tokens]
        steps = len(times) - 1
        per_token = sum(times[1:]) / steps if steps else None
        return {
            "batch": self.batch, "new_tokens": len(times),
            "time_to_first_token_ms": _ms(times[0]), "total_ms": _ms(sum(times)),
            "ms_per_token": _ms(per_token) if per_token else None,
            # Tokens written per second: a batch writes `batch` tokens a step.
            "tokens_per_second": round(self.batch / per_token, 1) if per_token else None,
        }


def greedy(model, ids: list[int], new_tokens: int, use_cache: bool = True, batch: int = 1,
           keep_logits: bool = False, never: tuple[int, ...] = ()) -> Run:
    """`new_tokens` greedy tokens after `ids` by the torch model, timed. Without the cache every step reads the
    whole text again (prompt + tokens so far); with it, only the newest token. `batch` copies of the prompt run
    together as one tensor (what a server batching requests does). Tokens in `never` (the end of text) are
    never picked: the run goes on to its length, as the fast engine does with its minimum length."""
    import torch

    device = next(model.parameters()).device
    blocked = torch.tensor(sorted(set(never)), dtype=torch.long, device=device)
    text = torch.tensor([ids] * batch, device=device)
    tokens: list[int] = []
    logits: list[Any] = []
    step_s: list[float] = []
    with torch.inference_mode():
        start = time.perf_counter()
        out = model(input_ids=text, use_cache=use_cache, logits_to_keep=1)
        for step in range(new_tokens):
            last = out.logits[:, -1].float()
            chosen = last.index_fill(-1, blocked, float("-inf")).argmax(-1)
            tokens.append(int(chosen[0]))
            now = time.perf_counter()
            step_s.append(now - start)
            start = now
            if keep_logits:
                logits.append(last[0].cpu())  # each step's logits are a new tensor: kept as they are
            if step == new_tokens - 1:
                break
            if use_cache:
                out = model(input_ids=chosen[:, None], cache=out.cache, use_cache=True, logits_to_keep=1)
            else:
                text = torch.cat([text, chosen[:, None]], dim=1)
                out = model(input_ids=text, use_cache=False, logits_to_keep=1)
    return Run(tokens, step_s, batch, logits, out.cache if use_cache else None)


def engine_run(engine, ids: list[int], new_tokens: int) -> Run:
    """The same greedy run on the fast engine, through its own `tokens()` (the app's path): plain greedy
    (no repetition penalty), exactly `new_tokens` tokens."""
    import threading

    from pipelines.families.causal_lm import GenerationParams

    params = GenerationParams(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                              repetition_penalty=1.0)
    tokens: list[int] = []
    step_s: list[float] = []
    start = time.perf_counter()
    for token in engine.tokens(list(ids), params, threading.Event()):
        tokens.append(token)
        now = time.perf_counter()
        step_s.append(now - start)
        start = now
    return Run(tokens, step_s)


def end_tokens(model, tokenizer) -> tuple[int, ...]:
    """The ids that end a text for this model: its generation config's (one or several) and the tokenizer's."""
    ends = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ends = list(ends) if isinstance(ends, (list, tuple)) else [ends]
    return tuple(sorted({int(i) for i in (*ends, tokenizer.eos_token_id) if i is not None}))


def engine_logits(engine, ids: list[int], followed_by: list[int]) -> list[Any]:
    """The fast engine's next-token logits after `ids`, then after each token of `followed_by` in turn (teacher
    forcing: it reads the torch path's tokens, so both are scored on the same text)."""
    import numpy as np
    import onnxruntime_genai as og

    options = og.GeneratorParams(engine._model)
    options.set_search_options(max_length=len(ids) + len(followed_by) + 1)
    generator = og.Generator(engine._model, options)
    generator.append_tokens(list(ids))
    rows = [np.array(generator.get_logits()[0, -1], dtype=np.float32)]
    for token in followed_by:
        generator.append_tokens([int(token)])
        rows.append(np.array(generator.get_logits()[0, -1], dtype=np.float32))
    return rows


def agreement(reference: list[Any], other: list[Any], top: int = TOP) -> dict:
    """How often two paths' predictions agree, position by position: the mean share of the reference's top-`top`
    tokens that are also in the other's top-`top` (1.0: the same candidates everywhere, in any order), and the
    share of positions whose likeliest token is the same."""
    import numpy as np

    overlaps, same_first = [], []
    for a, b in zip(reference, other):
        a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
        top_a, top_b = np.argsort(-a)[:top], np.argsort(-b)[:top]
        overlaps.append(len(set(top_a.tolist()) & set(top_b.tolist())) / top)
        same_first.append(float(top_a[0] == top_b[0]))
    count = len(overlaps)
    return {"top5": round(sum(overlaps) / count, 4) if count else None,
            "top1": round(sum(same_first) / count, 4) if count else None, "positions": count}


def same_prefix(a: list[int], b: list[int]) -> int:
    """How many tokens two outputs share from the start."""
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count


def weight_bytes(model) -> int:
    """Bytes of the torch model's parameters and buffers (a tied embedding once)."""
    seen, total = set(), 0
    for tensor in (*model.parameters(), *model.buffers()):
        if id(tensor) not in seen:
            seen.add(id(tensor))
            total += tensor.numel() * tensor.element_size()
    return total


def kv_bytes_per_token(config, element_bytes: int) -> dict:
    """What one token adds to the KV cache, from the config alone: every layer keeps a key and a value vector
    for each key/value head. Grouped-query attention (SmolLM2: 9 query heads share 3 key/value heads) is why
    the kv head count, not the query head count, is in the formula."""
    layers = int(getattr(config, "num_hidden_layers", None) or config.n_layer)
    heads = int(getattr(config, "num_attention_heads", None) or config.n_head)
    kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
    hidden = int(getattr(config, "hidden_size", None) or config.n_embd)
    head_dim = int(getattr(config, "head_dim", None) or hidden // heads)
    per_token = layers * 2 * kv_heads * head_dim * element_bytes
    return {"layers": layers, "kv_heads": kv_heads, "query_heads": heads, "head_dim": head_dim,
            "bytes_per_value": element_bytes, "bytes_per_token": per_token,
            "formula": f"{layers} layers × 2 (key and value) × {kv_heads} kv heads × {head_dim} dims × "
                       f"{element_bytes} bytes = {per_token:,} bytes"}


def cache_size(cache) -> dict:
    """The real cache's tensors: their bytes, and the tokens they hold (per sequence)."""
    keys_values = [t for layer in cache.layers for t in (layer.keys, layer.values)]
    total = sum(t.numel() * t.element_size() for t in keys_values)
    batch, tokens = int(keys_values[0].shape[0]), int(cache.get_seq_length())
    return {"bytes": total, "tokens": tokens, "batch": batch, "bytes_per_token": total // (batch * tokens)}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
