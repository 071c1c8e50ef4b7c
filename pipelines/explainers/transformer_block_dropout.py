"""Dropout in training mode vs evaluation mode, on one block's real attention output (course chapter 4).

The chapter: "dropout randomly zeros some elements during training", common rates 0.1 to 0.3. A model's
own rates are in its config (GPT-2: resid_pdrop, attn_pdrop; BERT: hidden_dropout_prob, ...). GPT-2 and
BERT have a dropout module right on the attention output; this page applies a copy of it (the shared
model itself never leaves evaluation mode, so other pages' requests running beside this one are not
touched). SmolLM2's only one, attention_dropout, is 0.0 (it applies to the attention weights anyway), so
there the demonstration uses torch's nn.Dropout at the course's rate. Training mode zeroes about p of
the values and scales the rest by 1 / (1 − p), so the expected sum stays the same; evaluation mode is
the identity. Seeded, so the same input gives the same mask.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from pipelines.core import checks
from pipelines.explainers.transformer_block import Request, check, forward_pass
from pipelines.explainers.transformer_block_anatomy import Taps, anatomy
from pipelines.explainers.transformer_block_steps import r, strip

DIMS = 16  # twice the block view's strip: at p = 0.1, one or two dropped values usually show
COURSE_RATE = 0.1  # the low end of the chapter's "common dropout values: 0.1 to 0.3"
MAX_RATE = 0.9
MAX_SEED = 2**31 - 1


def dropout_demo(models, text, model_id=None, layer=0, token=0, rate=COURSE_RATE, seed=0) -> dict:
    """Apply dropout to block `layer`'s attention output in training and in evaluation mode.
    `rate` is used when the model's own dropout there is 0 (or it has none)."""
    return demonstrate(models, check_dropout(models, text, model_id, layer, token, rate, seed))


def check_dropout(models, text, model_id, layer, token, rate=COURSE_RATE, seed=0) -> Request:
    request = check(models, text, model_id, layer, token)
    return replace(request, rate=checks.number("Dropout rate", rate, 0.01, MAX_RATE),
                   seed=checks.whole_number("Seed", seed, 0, MAX_SEED))


def config_rates(config) -> dict[str, float]:
    """Every dropout probability the model's config sets (names differ by family)."""
    return {key: float(value) for key, value in sorted(config.to_dict().items())
            if ("dropout" in key or "pdrop" in key) and isinstance(value, (int, float)) and not isinstance(value, bool)}


def demonstrate(models, request: Request) -> dict:
    import torch

    rate, seed = request.rate, request.seed

    bundle = models.get(request.model_id).bundle
    parts = anatomy(bundle.model)
    block = bundle.model.get_submodule(parts.layers)[request.layer]
    with Taps() as taps, torch.inference_mode():
        taps.output(block.get_submodule(parts.attention), "attention_out")
        forward_pass(bundle, request.ids)
    values = taps.seen["attention_out"]  # every token's attention output: (tokens, hidden)
    rates = config_rates(bundle.model.config)
    own = block.get_submodule(parts.attention_dropout) if parts.attention_dropout else None
    if own is not None and own.p > 0:
        # A copy: switching the shared model's own module to training mode would drop values out of
        # other requests that run through this block at the same moment.
        dropout, p = copy.deepcopy(own), float(own.p)
        where = f"{parts.layers}.{request.layer}.{parts.attention_dropout}"
        note = (f"{request.label}'s own dropout on the attention output ({where}, p = {p:g} from its config), "
                "applied to a copy of that module.")
    else:
        dropout, p, where = torch.nn.Dropout(rate), rate, "torch.nn.Dropout"
        zeros = ", ".join(f"{k} = {v:g}" for k, v in rates.items()) or "no dropout setting"
        note = (f"{request.label}'s config sets {zeros}: it has no dropout on the attention output, so "
                f"training and evaluation give the same values. Shown here with torch's nn.Dropout at p = {p:g} "
                "(the course's common rates are 0.1 to 0.3).")
    with torch.inference_mode(), torch.random.fork_rng(devices=[]):  # seeded without moving others' RNG
        torch.manual_seed(seed)
        trained = dropout.train()(values)
        evaluated = dropout.eval()(values)
    live = values != 0
    dropped = live & (trained == 0)
    kept = live & ~dropped
    scales = trained[kept] / values[kept]
    row = request.token
    return {
        "model_id": request.model_id, "layer": request.layer, "token": request.token, "p": r(p),
        "module": where, "uses_model_dropout": where != "torch.nn.Dropout", "config": rates, "note": note,
        "seed": seed, "dims_shown": DIMS, "input": strip(values[row], DIMS), "train": strip(trained[row], DIMS),
        "eval": strip(evaluated[row], DIMS),
        "dropped_dims": [i for i in range(min(DIMS, values.shape[1])) if bool(dropped[row, i])],
        "values": int(live.sum()), "zeroed_fraction": r(dropped.sum() / max(1, int(live.sum()))),
        "expected_scale": r(1 / (1 - p)), "mean_scale": r(scales.mean()) if scales.numel() else None,
        "scale_error": r((scales - 1 / (1 - p)).abs().max()) if scales.numel() else None,
        "eval_is_identity": bool(torch.equal(evaluated, values)),
        "norms": {"input": r(values[row].norm()), "train": r(trained[row].norm()), "eval": r(evaluated[row].norm())},
    }
