"""The rows of the "One block" page, from the vectors the hooks read: each step's strip of first numbers,
its norm and statistics (and, for a norm, the statistics before it and its formula; for an add, how
exactly the model's sum matches the sum of its two inputs), and the feed-forward's most active units.
Pure formatting of torch tensors into rounded Python numbers (transformer_block runs the model).
"""

from __future__ import annotations

from pipelines.explainers.transformer_block_anatomy import FORMULAS, norm_eps

DIMS = 8  # the first dimensions of each vector shown in its strip (the norm covers them all)


def r(value) -> float:
    return round(float(value), 4)


def strip(vector, dims: int = DIMS) -> list[float]:
    return [r(v) for v in vector[:dims].tolist()]


def stats(vector, kind: str) -> dict:
    """Norm and mean, and the spread the model's norm divides by: RMS (RMSNorm) or std (LayerNorm)."""
    spread = {"rms": r(vector.pow(2).mean().sqrt())} if kind == "RMSNorm" else {"std": r(vector.std(unbiased=False))}
    return {"norm": r(vector.norm()), "mean": r(vector.mean()), **spread}


def steps(parts, seen: dict, kind: str, block, layer: int) -> list[dict]:
    """The block's steps in the order the model runs them, each with its vector's strip and statistics."""
    prefix = f"{parts.layers}.{layer}"

    def step(step_id, name, vector, module="", **more):
        return {"id": step_id, "name": name, "module": f"{prefix}.{module}" if module else prefix,
                "values": strip(vector), **stats(vector, kind), **more}

    def norm(step_id, key, vector_in, vector_out):
        module = block.get_submodule(getattr(parts, key))
        return step(step_id, f"{kind} ({getattr(parts, key)})", vector_out, getattr(parts, key), kind="norm",
                    before=stats(vector_in, kind), formula=FORMULAS[kind], eps=norm_eps(module),
                    gain=strip(module.weight.detach().float()))

    def add(step_id, name, a, b, total, equation):
        # The largest difference over the whole vector between the two inputs' sum and what the model added.
        return step(step_id, name, total, kind="add", equation=equation, check=r((a + b - total).abs().max()))

    x, attn, ff = seen["residual_in"], seen["attention_out"], seen["feed_forward_out"]
    first = step("residual_in", "Residual stream in", x, kind="residual")
    attention = step("attention_out", "Attention output", attn, parts.attention, kind="sublayer")
    feed = step("feed_forward_out", "Feed-forward output", ff, parts.feed_forward, kind="sublayer")
    if parts.order == "pre-LN":
        mid = seen["norm_feed_forward in"]
        out = seen[f"after {layer}"]
        return [first, norm("norm_attention", "norm_attention", x, seen["norm_attention out"]), attention,
                add("residual_mid", "Add: residual + attention", x, attn, mid, "x + attention(norm(x))"),
                norm("norm_feed_forward", "norm_feed_forward", mid, seen["norm_feed_forward out"]), feed,
                add("residual_out", "Add: residual + feed-forward", mid, ff, out, "x + feed_forward(norm(x))")]
    sum1, sum2 = seen["norm_attention in"], seen["norm_feed_forward in"]
    mid = seen["norm_attention out"]
    return [first, attention,
            add("sum_attention", "Add: residual + attention", x, attn, sum1, "x + attention(x)"),
            {**norm("residual_mid", "norm_attention", sum1, mid), "equation": "norm(x + attention(x))"},
            feed, add("sum_feed_forward", "Add: residual + feed-forward", mid, ff, sum2, "x + feed_forward(x)"),
            {**norm("residual_out", "norm_feed_forward", sum2, seen["norm_feed_forward out"]),
             "equation": "norm(x + feed_forward(x))"}]


def top_units(parts, seen: dict, k: int) -> list[dict]:
    """The feed-forward's hidden units with the largest |activation| for this token."""
    units = seen["units"]
    top = units.abs().topk(min(k, units.numel())).indices.tolist()
    rows = []
    for i in top:
        row = {"index": i, "value": r(units[i])}
        if parts.gated:  # SmolLM2: value = SiLU(gate) * up
            row.update(gate_pre=r(seen["pre_activation"][i]), gate=r(seen["gate"][i]), up=r(seen["up"][i]))
        else:
            row["pre_activation"] = r(seen["pre_activation"][i])
        rows.append(row)
    return rows
