"""Inside one Transformer block (course chapter 4, "Transformer Layer Breakdown"), with real values.

For one token and one block: the residual stream coming in, each normalisation (statistics before and
after, with its formula), the attention output, the add, the feed-forward output (and its most active
hidden units), the add again, in the order the model really runs them: pre-LN for SmolLM2 and GPT-2,
post-LN ("norm after the add") for MiniLM/BERT. The values are read with forward hooks on the model's own
modules (transformer_block_anatomy.Taps), not re-computed. Also: the residual stream's norm after every
block, and what switching off one sub-layer does to the next-token probabilities. Dropout's training vs
evaluation mode is shown in transformer_block_dropout.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.explainers import transformer_block as block
    models = ModelManager(Settings(model_source="tiny")).task("transformer-block")
    result = block.inside_block(models, "The cat sat on the mat.", None, 0, 2)
    [(s["name"], s["norm"]) for s in result["steps"]]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from pipelines.core import checks
from pipelines.core.errors import ModelUnavailableError, UserInputError
from pipelines.explainers.transformer_block_anatomy import Taps, anatomy, norm_kind
from pipelines.explainers.transformer_block_steps import DIMS, r, steps, top_units

EXAMPLE = "The cat sat on the mat."
MAX_TOKENS = 128  # one layer's vectors for up to 128 tokens: what the page can show and answer in < 1 s
DEFAULT_UNITS = 8
MAX_UNITS = 32
DEFAULT_CANDIDATES = 10
MAX_CANDIDATES = 20
SUBLAYERS = ("attention", "feed-forward")


@dataclass(frozen=True)
class Request:
    text: str
    model_id: str
    label: str
    ids: tuple[int, ...]
    layer: int
    token: int  # -1 for ablate_block: its probabilities are those of the last position
    top: int = DEFAULT_UNITS  # hidden units (inside_block) or next-token candidates (ablate_block) listed
    sublayer: str = ""  # ablate_block: the one switched off
    rate: float = 0.0  # the dropout demonstration's p and seed (transformer_block_dropout)
    seed: int = 0


def check(models, text, model_id, layer, token=None) -> Request:
    """Every input checked before any model loads (the tokenizer and the config are read without weights)."""
    text = checks.text("text", text, models.settings.max_input_chars,
                       empty=f"Type a sentence first, for example: {EXAMPLE}")
    ckpt = models.checkpoint(model_id)
    ids = tuple(models.tokenizer(ckpt.repo_id)(text)["input_ids"])
    if len(ids) > MAX_TOKENS:
        raise UserInputError(f"The text is {len(ids)} tokens for {ckpt.label}; this page reads at most "
                             f"{MAX_TOKENS}. Shorten it to a sentence or two.")
    layers = layer_count(models, ckpt.repo_id)
    layer = checks.whole_number("Layer", layer, 0, layers - 1,
                                f"{ckpt.label} has {layers} blocks, numbered from 0.")
    if token is not None:
        token = checks.whole_number("Token", token, 0, len(ids) - 1,
                                    f"The text is {len(ids)} tokens for {ckpt.label}, numbered from 0.")
    return Request(text, ckpt.repo_id, ckpt.label, ids, layer, -1 if token is None else token)


def layer_count(models, repo_id: str) -> int:
    """The model's number of blocks, from the loaded model or else from its config file alone."""
    if models.is_loaded(repo_id):
        return int(models.bundle(repo_id).model.config.num_hidden_layers)
    location = models.manager.resolver.resolve(models.checkpoint(repo_id))
    try:
        return _config_layers(location.source, location.revision)
    except Exception as exc:
        raise ModelUnavailableError(f"Could not read the configuration of {repo_id} ({type(exc).__name__}).") from exc


@functools.lru_cache(maxsize=16)
def _config_layers(source: str, revision: str | None) -> int:
    from transformers import AutoConfig

    return int(AutoConfig.from_pretrained(source, **({"revision": revision} if revision else {})).num_hidden_layers)


def forward_pass(bundle, ids, **kwargs):
    """One forward pass of the whole model (through its forward gate), batch of one."""
    import torch

    inputs = torch.tensor([list(ids)], device=bundle.device)
    if bundle.family == "decoder-only":
        kwargs.update(use_cache=False, logits_to_keep=1)  # only the last position's next-token logits
    return bundle.model(input_ids=inputs, attention_mask=torch.ones_like(inputs), **kwargs)


def _tokens(tokenizer, ids) -> list[str]:
    return [tokenizer.decode([i]) for i in ids]


def inside_block(models, text, model_id=None, layer=0, token=0, top_units=DEFAULT_UNITS) -> dict:
    """Step through block `layer` for token `token` with the values the model really computed."""
    return inside(models, check_inside(models, text, model_id, layer, token, top_units))


def check_inside(models, text, model_id, layer, token, top_units=DEFAULT_UNITS) -> Request:
    request = check(models, text, model_id, layer, token)
    return replace(request, top=checks.whole_number("Hidden units shown", top_units, 1, MAX_UNITS))


def inside(models, request: Request) -> dict:
    import torch

    bundle = models.get(request.model_id).bundle
    parts = anatomy(bundle.model)
    blocks = bundle.model.get_submodule(parts.layers)
    block = blocks[request.layer]
    with Taps() as taps, torch.inference_mode():
        taps.input(blocks[0], "embeddings")
        for i, each in enumerate(blocks):
            taps.output(each, f"after {i}")
        taps.input(block, "residual_in")
        for key in ("norm_attention", "norm_feed_forward"):
            taps.input(block.get_submodule(getattr(parts, key)), f"{key} in")
            taps.output(block.get_submodule(getattr(parts, key)), f"{key} out")
        taps.output(block.get_submodule(parts.attention), "attention_out")
        taps.output(block.get_submodule(parts.feed_forward), "feed_forward_out")
        taps.input(block.get_submodule(parts.down), "units")
        taps.output(block.get_submodule(parts.pre_activation), "pre_activation")
        if parts.gated:
            taps.output(block.get_submodule(parts.up), "up")
            taps.scope(block.get_submodule(parts.feed_forward), "feed_forward")
            taps.output(block.get_submodule(parts.gate_activation), "gate", within="feed_forward")
        forward_pass(bundle, request.ids)
    seen = {key: value[request.token] for key, value in taps.seen.items()}
    kind = norm_kind(block.get_submodule(parts.norm_attention))
    rows = steps(parts, seen, kind, block, request.layer)
    sums = [s for s in rows if s["id"] in ("residual_mid", "residual_out", "sum_attention", "sum_feed_forward")]
    return {
        "model_id": request.model_id, "tokens": _tokens(bundle.tokenizer, request.ids), "layer": request.layer,
        "layers": len(blocks), "token": request.token, "norm_kind": kind, "order": parts.order,
        "block": parts.name, "hidden_size": int(seen["residual_in"].numel()), "dims_shown": DIMS,
        "steps": rows, "add_checks": {s["id"]: s["check"] for s in sums if "check" in s},
        "embedding_norm": r(seen["embeddings"].norm()),
        "residual_norms": [r(seen[f"after {i}"].norm()) for i in range(len(blocks))],
        "activation": parts.activation, "feed_forward_units": int(seen["units"].numel()),
        "top_hidden_units": top_units(parts, seen, request.top),
    }


def ablate_block(models, text, model_id=None, layer=0, sublayer="attention", top_k=DEFAULT_CANDIDATES) -> dict:
    """Switch off one sub-layer of block `layer` (a hook zeroes its output) and compare the outputs."""
    return ablate(models, check_ablation(models, text, model_id, layer, sublayer, top_k))


def check_ablation(models, text, model_id, layer, sublayer, top_k=DEFAULT_CANDIDATES) -> Request:
    request = check(models, text, model_id, layer)
    return replace(request, sublayer=checks.choice("Sub-layer", sublayer, SUBLAYERS,
                                                   "Switch off the block's attention or its feed-forward."),
                   top=checks.whole_number("Candidates", top_k, 1, MAX_CANDIDATES))


def ablate(models, request: Request) -> dict:
    import torch

    sublayer, top_k = request.sublayer, request.top

    bundle = models.get(request.model_id).bundle
    parts = anatomy(bundle.model)
    path = parts.attention if sublayer == "attention" else parts.feed_forward
    target = bundle.model.get_submodule(parts.layers)[request.layer].get_submodule(path)
    with torch.inference_mode():
        clean = forward_pass(bundle, request.ids, output_hidden_states=True)
        with Taps() as taps:
            taps.zero_output(target)
            ablated = forward_pass(bundle, request.ids, output_hidden_states=True)
    final, changed = clean.hidden_states[-1][0].float(), ablated.hidden_states[-1][0].float()
    cosine = torch.nn.functional.cosine_similarity(final, changed, dim=-1)
    relative = (changed - final).norm(dim=-1) / final.norm(dim=-1).clamp_min(1e-12)
    result = {"model_id": request.model_id, "tokens": _tokens(bundle.tokenizer, request.ids),
              "layer": request.layer, "sublayer": sublayer, "module": f"{parts.layers}.{request.layer}.{path}",
              "position": len(request.ids) - 1, "cosine": [r(c) for c in cosine.tolist()],
              "relative_change": [r(c) for c in relative.tolist()],
              "has_lm_head": hasattr(clean, "logits")}
    if not result["has_lm_head"]:
        return {**result, "before": [], "after": [], "note": (
            f"{request.label} has no language-model head, so next-token probabilities apply to the decoder "
            "models (SmolLM2, GPT-2). Shown instead: how much each token's final hidden state changed "
            "(cosine similarity with the untouched model's, 1 = unchanged; and the length of the change "
            "relative to the vector's, 0 = unchanged).")}
    p_before = clean.logits[0, -1].float().softmax(-1)
    p_after = ablated.logits[0, -1].float().softmax(-1)
    tokenizer = bundle.tokenizer
    best = int(p_before.argmax())

    def top(probs):
        values, ids = probs.topk(top_k)
        return [[tokenizer.decode([i]), r(p)] for p, i in zip(values.tolist(), ids.tolist())]

    changed = float(p_after[best] - p_before[best])
    return {**result, "before": top(p_before), "after": top(p_after),
            "top_token": {"token": tokenizer.decode([best]), "before": r(p_before[best]),
                          "after": r(p_after[best]), "change": r(changed)},
            "top_changed": int(p_after.argmax()) != best,
            "total_variation": r(0.5 * (p_before - p_after).abs().sum()),
            "note": f"Block {request.layer}'s {sublayer} switched off: {_moved(changed)}"}


def _moved(change: float) -> str:
    if abs(change) < 5e-5:
        return "the top token's probability did not change (to 4 decimals)."
    return f"the top token's probability {'rose' if change > 0 else 'fell'} by {abs(change):.4f}."
