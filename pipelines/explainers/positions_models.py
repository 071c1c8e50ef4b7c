"""A loaded model's own positions, for pipelines/explainers/positions.py (`model_positions`).

- Learned absolute positions (BERT, MiniLM: `embeddings.position_embeddings`; GPT-2: `wpe`): one trained
  vector per position, added to the token embedding once. Shown: the cosine similarity of the first
  `length` vectors. Nothing forces it to depend on the offset only; training makes neighbours alike.
- Rotary positions (SmolLM2, a Llama): nothing is added; in every layer each (i, i + head_dim/2) pair of
  q's and k's dimensions is turned by the angle position * rope_theta^(-2i/head_dim). Then
  <R_m q, R_n k> = <q, R_(n-m) k>: the score depends on the offset n - m only. Shown with the model's own
  rotary module (`model.model.rotary_emb`) and its modeling file's `apply_rotary_pos_emb`, not a copy
  of them: one fixed q and k are rotated to positions m and n for every pair, and the scores compared
  along each diagonal (float32 rounding leaves ~1e-6).
"""

from __future__ import annotations

import importlib
import math

from pipelines.core.errors import UserInputError
from pipelines.explainers.positions import (
    KEY_WORD,
    QUERY_WORD,
    ModelRequest,
    by_offset,
    cosine_matrix,
    diagonal_max_deviation,
    rounded,
)


def describe_positions(bundle, request: ModelRequest) -> dict:
    import torch

    repo_id, length = request.model_id, request.length

    model = bundle.model
    base = model.base_model  # BertModel, GPT2Model, LlamaModel: where the positions live
    config = model.config
    facts = {"model_id": repo_id, "length": length, "max_positions": _max_positions(config),
             "hidden_size": _first(config, "hidden_size", "n_embd"),
             "layers": _first(config, "num_hidden_layers", "n_layer")}
    if facts["max_positions"] and length > facts["max_positions"]:
        raise UserInputError(f"Length must be at most {facts['max_positions']} for {repo_id}; got {length}.")
    with torch.inference_mode():
        if hasattr(base, "rotary_emb"):
            return {**facts, **_rotary(model, base, bundle.tokenizer, length, request.head, request.vectors,
                                             request.seed)}
        table = _learned_table(base)
        if table is None:
            raise UserInputError(f"{repo_id} keeps its positions in a way this page does not read yet.")
        return {**facts, **_learned(table[:length].float(), facts["layers"])}


def _learned(vectors, layers) -> dict:
    similarity = cosine_matrix(vectors)
    n = similarity.shape[0]
    offsets = [(m, k) for m in range(n) for k in range(m)]  # every pair below the diagonal
    far_from = max(2, n // 2)
    far = [float(similarity[m, k]) for m, k in offsets if m - k >= far_from]
    return {
        "scheme": "learned", "where": f"added to the token embeddings once, before the first of {layers} layers",
        "similarity": rounded(similarity),  # cosine of position vectors m (row) and n (column)
        "similarity_by_offset": by_offset(similarity),
        # The mean cosine of neighbours (offset 1) and of positions at least half the length apart.
        "neighbour_similarity": by_offset(similarity)[1] if n > 1 else None,
        "far_similarity": round(sum(far) / len(far), 4) if far else None, "far_from_offset": far_from,
        "diagonal_max_deviation": diagonal_max_deviation(similarity),
    }


def _rotary(model, base, tokenizer, length: int, head: int, vectors: str, seed: int) -> dict:
    import torch

    config = model.config
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    if head >= heads:
        raise UserInputError(f"Head must be a whole number from 0 to {heads - 1} for this model; got {head}.")
    kv_head = head // (heads // kv_heads)  # grouped-query attention: query heads share key heads
    if vectors == "random":
        generator = torch.Generator().manual_seed(seed)
        q, k = torch.randn(2, head_dim, generator=generator)
        origin = {"q_from": f"random (seed {seed})", "k_from": f"random (seed {seed})"}
    else:
        q, k = _first_layer_qk(base, tokenizer, head, kv_head, head_dim)
        origin = {"q_from": f"'{QUERY_WORD.strip()}', layer 0, head {head}",
                  "k_from": f"'{KEY_WORD.strip()}', layer 0, key head {kv_head}"}
    # The model's own rotation: cos/sin of every position from its rotary module, applied by its modeling
    # file's apply_rotary_pos_emb to q at each query position m and k at each key position n.
    apply = importlib.import_module(type(base).__module__).apply_rotary_pos_emb
    positions = torch.arange(length).unsqueeze(0)
    cos, sin = base.rotary_emb(q.view(1, 1, 1, head_dim), positions)
    rotated_q, rotated_k = apply(q.expand(1, 1, length, head_dim), k.expand(1, 1, length, head_dim), cos, sin)
    scale = 1 / math.sqrt(head_dim)  # the attention's own scaling of q.k
    scores = (rotated_q[0, 0] @ rotated_k[0, 0].T) * scale  # rows: query position m, columns: key position n
    rope = config.rope_parameters or {}
    return {
        "scheme": "rotary",
        "where": f"rotated into q and k in every one of the {config.num_hidden_layers} layers",
        "rope_theta": rope.get("rope_theta"), "rope_type": rope.get("rope_type", "default"),
        "head_dim": head_dim, "heads": heads, "kv_heads": kv_heads, "head": head, "vectors": vectors, **origin,
        "scores": rounded(scores),
        "score_by_offset": by_offset(scores.double()),  # offset m - n = 0, 1, ...: keys a causal model sees
        "unrotated_score": round(float(q @ k) * scale, 4),  # without positions every pair would score this
        "diagonal_max_deviation": diagonal_max_deviation(scores.double()),
    }


def _first_layer_qk(base, tokenizer, head: int, kv_head: int, head_dim: int):
    """q of QUERY_WORD's last token and k of KEY_WORD's, as the first layer computes them (before rotation)."""
    import torch

    ids = [tokenizer(word, add_special_tokens=False)["input_ids"][-1] for word in (QUERY_WORD, KEY_WORD)]
    layer = base.layers[0]
    normed = layer.input_layernorm(base.embed_tokens(torch.tensor(ids)))
    q = layer.self_attn.q_proj(normed[0]).view(-1, head_dim)[head]
    k = layer.self_attn.k_proj(normed[1]).view(-1, head_dim)[kv_head]
    return q.float(), k.float()


def _learned_table(base):
    """The learned position table: BERT-style `embeddings.position_embeddings` or GPT-2's `wpe`."""
    embeddings = getattr(base, "embeddings", None)
    table = getattr(embeddings, "position_embeddings", None) or getattr(base, "wpe", None)
    return None if table is None else table.weight


def _max_positions(config) -> int | None:
    return _first(config, "max_position_embeddings", "n_positions")


def _first(config, *names):
    return next((getattr(config, n) for n in names if getattr(config, n, None) is not None), None)
