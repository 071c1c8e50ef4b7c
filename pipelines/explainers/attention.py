"""Attention lab (course chapter 3, and 2.3-2.4): the worked example, then real heads of real models.

Three endpoints, each a function of the page's TaskModels returning plain, rounded values:

    attention_example(models, q, k, v, scale, causal)   the course's Q, K, V step by step (attention_math)
    attention_map(models, text, model_id, layer)        every head's weights in one layer, with the tokens
    attention_neurons(models, text, model_id, layer, head, query, key)
                                                        one query/key pair: q, k, products, sum, scale, weight

Inputs are checked before any model loads: the text (at most MAX_TOKENS tokens, counted by the model's
own tokenizer, which loads without the weights) and the layer and head (against the checkpoint's config).

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.explainers import attention
    models = ModelManager(Settings(model_source="tiny")).task("attention")
    attention.attention_map(models, "The cat sat on the mat.", layer=0)["heads"][0]
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.core import checks
from pipelines.core.errors import UserInputError
from pipelines.explainers import attention_math
from pipelines.explainers.attention_probe import run_layer

MAX_TOKENS = 128  # a 128 x 128 map per head is about the most a page can draw and a person can read
EXAMPLE_TEXT = "The cat sat on the mat."
CAVEAT = ("Attention is not an explanation by itself: a weight says where a head looked, not why the model "
          "answered as it did; the values it mixes, the other heads and the feed-forward layers matter too.")


@dataclass(frozen=True)
class Facts:
    """What a checkpoint's config says about its attention, read without loading the weights."""
    repo_id: str
    label: str
    layers: int
    heads: int
    kv_heads: int  # fewer than heads: grouped-query attention, several query heads share one key/value head
    causal: bool

    def kv_head(self, head: int) -> int:
        """The key/value head a query head uses: consecutive query heads share one (Llama's repeat_kv)."""
        return head // (self.heads // self.kv_heads)


@dataclass(frozen=True)
class Request:
    facts: Facts
    ids: tuple[int, ...]
    tokens: tuple[str, ...]
    layer: int


def facts(models, model_id: str | None) -> Facts:
    """The checkpoint's layer and head counts (from the loaded model, or its config file alone)."""
    ckpt = models.checkpoint(model_id)
    if models.is_loaded(ckpt.repo_id):
        config = models.bundle(ckpt.repo_id).model.config
    else:
        from transformers import AutoConfig

        location = models.manager.resolver.resolve(ckpt)
        config = AutoConfig.from_pretrained(location.source, **location.pretrained_kwargs)
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    return Facts(ckpt.repo_id, ckpt.label, config.num_hidden_layers, heads, kv_heads,
                 causal=ckpt.family == "decoder-only")


def check(models, text, model_id, layer) -> Request:
    """The text as token ids (at most MAX_TOKENS) and the layer, or UserInputError; loads no weights."""
    text = checks.text("text", text, models.settings.max_input_chars,
                       empty=f"Type a sentence to look at, for example: {EXAMPLE_TEXT}")
    found = facts(models, model_id)
    layer = checks.whole_number("Layer", layer, 0, found.layers - 1,
                                hint=f"{found.label} has {found.layers} layers, numbered from 0.")
    tokenizer = models.tokenizer(found.repo_id)
    ids = tokenizer(text)["input_ids"]
    if len(ids) > MAX_TOKENS:
        raise UserInputError(f"The text is {len(ids)} tokens for {found.label}; the attention lab shows at most "
                             f"{MAX_TOKENS} (one {MAX_TOKENS} x {MAX_TOKENS} map per head). Shorten it.")
    return Request(found, tuple(ids), tuple(_label(tokenizer, i) for i in ids), layer)


def attention_example(models, q, k, v, scale=True, causal=False) -> dict:
    """Scaled dot-product attention step by step on Q, K, V typed as text (no model)."""
    return attention_math.attention_example(q, k, v, scale, causal)


def attention_map(models, text, model_id=None, layer=0) -> dict:
    """Every head's attention weights in one layer, rows = queries, columns = keys (each row sums to 1)."""
    import torch

    request = check(models, text, model_id, layer)
    bundle = models.get(request.facts.repo_id, attention="eager").bundle
    weights = run_layer(bundle, list(request.ids), request.layer, with_qk=False).weights
    found = request.facts
    return {
        "model_id": found.repo_id, "tokens": list(request.tokens), "layer": request.layer,
        "layers": found.layers, "num_heads": found.heads, "num_kv_heads": found.kv_heads,
        "kv_head_of": [found.kv_head(h) for h in range(found.heads)],
        "heads": torch.round(weights.double(), decimals=4).tolist(),  # double: 0.5083, not 0.50830000639
        "mask": "causal" if found.causal else "none",
        "mask_note": mask_note(found), "heads_note": heads_note(found), "caveat": CAVEAT,
    }


def attention_neurons(models, text, model_id=None, layer=0, head=0, query=0, key=0) -> dict:
    """For one head and one query/key pair: q and k element by element, their products, the sum, the scale
    and the softmax weight over the query's row, beside the model's own weight for the same cell."""
    import torch

    request = check(models, text, model_id, layer)
    found, count = request.facts, len(request.ids)
    head = checks.whole_number("Head", head, 0, found.heads - 1, hint=f"{found.label} has {found.heads} heads "
                               "per layer, numbered from 0.")
    positions = f"The text has {count} tokens, numbered from 0."
    query = checks.whole_number("Query token", query, 0, count - 1, hint=positions)
    key = checks.whole_number("Key token", key, 0, count - 1, hint=positions)
    bundle = models.get(found.repo_id, attention="eager").bundle
    capture = run_layer(bundle, list(request.ids), request.layer, with_qk=True)
    kv = found.kv_head(head)
    q, k_all = capture.q[head, query], capture.k[kv]
    products = q * k_all[key]
    row = (k_all @ q) * capture.scaling  # this query's scaled score with every key
    if found.causal:
        row = row.masked_fill(torch.arange(count, device=row.device) > query, float("-inf"))
    weights = torch.softmax(row, dim=-1)  # subtracts the row's maximum first: stable for large scores
    model_weight = float(capture.weights[head, query, key])
    # The model's own weight is rounded to its dtype (float32 on a CPU; half precision on a GPU keeps ~3 digits).
    tolerance = 1e-4 if capture.dtype == torch.float32 else 2e-3
    result = {
        "model_id": found.repo_id, "tokens": list(request.tokens), "layer": request.layer, "head": head,
        "kv_head": kv, "query": query, "key": key, "query_token": request.tokens[query],
        "key_token": request.tokens[key], "d_k": int(q.shape[0]),
        "q": _list(q), "k": _list(k_all[key]), "products": _list(products),
        "sum": _round(float(products.sum())), "scale": _round(capture.scaling),
        "scaled": _round(float(products.sum()) * capture.scaling),
        "masked": bool(found.causal and key > query),
        "row_scaled": [None if v == float("-inf") else _round(v) for v in row.tolist()],
        "row_weights": _list(weights), "weight": _round(float(weights[key])),
        "model_weight": _round(model_weight),
        "matches_model": abs(float(weights[key]) - model_weight) <= tolerance, "tolerance": tolerance,
        "rotary": capture.rotary, "mask": "causal" if found.causal else "none",
        "heads_note": heads_note(found), "caveat": CAVEAT,
    }
    if capture.rotary:
        result["q_before_rotary"] = _list(capture.q_raw[head, query])
        result["k_before_rotary"] = _list(capture.k_raw[kv, key])
    return result


def mask_note(found: Facts) -> str:
    if found.causal:
        return (f"Causal mask: {found.label} is decoder-only, so each token sees itself and the tokens before "
                "it; every cell above the diagonal is 0.")
    return (f"No mask here: {found.label} is an encoder (BERT-style), whose only mask hides padding, and one text "
            "has no padding, so every token sees every token, before and after it.")


def heads_note(found: Facts) -> str:
    if found.kv_heads == found.heads:
        return f"{found.label} has {found.heads} heads per layer, each with its own queries, keys and values."
    group = found.heads // found.kv_heads
    return (f"Grouped-query attention: {found.label}'s {found.heads} query heads share {found.kv_heads} key/value "
            f"heads, {group} query heads each (query head h uses key/value head h // {group}).")


def _label(tokenizer, token_id: int) -> str:
    """A token as a person reads it: its decoded text without surrounding spaces (GPT-2's "Ġcat" is "cat");
    a token of spaces alone shows them as ␣."""
    text = tokenizer.decode([token_id])
    return text.strip() or text.replace(" ", "␣") or str(tokenizer.convert_ids_to_tokens(token_id))


def _round(x: float) -> float:
    return round(x, 4) + 0.0  # + 0.0 turns -0.0 into 0.0


def _list(tensor) -> list[float]:
    return [_round(x) for x in tensor.tolist()]
