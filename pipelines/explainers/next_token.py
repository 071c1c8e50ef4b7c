"""The next-token step (course chapters 1, 3 and 13): a prompt's candidates for the next token, and what
temperature, top-k and top-p do to them before one is drawn.

The model turns the prompt into one score (logit) per vocabulary entry; softmax makes them probabilities.
Decoding then reshapes that distribution, in the order transformers' `generate` uses:
1. temperature T: softmax(logits / T), computed stably (the largest logit is subtracted first, so no
   exp() overflows even at T = 0.01). T = 0 is greedy decoding: all the mass on the likeliest token.
2. top-k (0: off): only the k likeliest tokens stay; their probabilities are renormalised to sum to 1.
3. top-p (1: off): of what is left, the smallest set of likeliest tokens whose cumulative probability
   reaches p stays (the token that crosses p is kept). At T = 0 that is the likeliest token alone.
The kept tokens' probabilities are renormalised ("final"): that is what a sampler draws from. The page
also draws `samples` tokens from it with a seeded torch.Generator: the same seed gives the same counts.

Also here (defined in next_token_lens.py): `logit_lens` (what each layer would predict) and
`confidence_strip` (each token of a text coloured by the probability the model gave it).

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.explainers import next_token
    models = ModelManager(Settings(model_source="tiny")).task("next-token")
    result = next_token.next_token(models, "The capital of France is", temperature=0.7)
    [(c["token"], c["probability_t"], c["kept"]) for c in result["candidates"][:5]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.explainers.next_token_inputs import (
    DEFAULT_SAMPLES,
    TOP_N,
    check_next_token,
    pieces,
    rounded,
    token_text,
)
from pipelines.explainers.next_token_lens import confidence_strip, logit_lens

__all__ = ["next_token", "logit_lens", "confidence_strip", "distribution", "Distribution"]
TIE = 1e-12  # float slack when a cumulative sum lands exactly on p


@dataclass(frozen=True)
class Distribution:
    """One next-token distribution through the decoding steps, over the whole vocabulary, in the order of
    the logits (likeliest first; equal logits keep the lower id first). Tensors of float64."""
    order: Any  # token ids, likeliest first
    logits: Any
    probability: Any  # softmax(logits): the model's own distribution (T = 1)
    probability_t: Any  # after temperature
    cumulative: Any  # running total of what top-p reads: probability_t, renormalised over the top-k
    cut_by: list[str | None]  # None (kept), "top-k" or "top-p", for the first TOP_N tokens only
    kept: Any  # bool mask
    final: Any  # probability_t on the kept tokens, renormalised: what is sampled from


def softmax(z):
    """exp(z) / sum(exp(z)) with the maximum subtracted first: the same result, no overflow."""
    shifted = z - z.max()
    weights = shifted.exp()
    return weights / weights.sum()


def distribution(logits, temperature: float, top_k: int, top_p: float) -> Distribution:
    """The decoding steps of the module docstring on one row of logits (any float tensor)."""
    import torch

    logits = logits.detach().to("cpu", torch.float64).flatten()
    order = torch.sort(logits, descending=True, stable=True).indices
    z = logits[order]
    probability = softmax(z)
    if temperature == 0:  # greedy: the limit of T -> 0, without dividing by zero
        probability_t = torch.zeros_like(z)
        probability_t[0] = 1.0
    else:
        probability_t = softmax(z / temperature)
    in_top_k = torch.ones_like(z, dtype=torch.bool)
    if top_k:
        in_top_k[top_k:] = False
    seen_by_top_p = torch.where(in_top_k, probability_t, 0.0)
    seen_by_top_p = seen_by_top_p / seen_by_top_p.sum()
    cumulative = seen_by_top_p.cumsum(0)
    before = cumulative - seen_by_top_p  # the mass of the likelier tokens
    in_top_p = before < top_p - TIE
    in_top_p[0] = True
    if top_p >= 1:  # off, as in `generate`: even tokens of probability 0 (at T = 0) stay
        in_top_p[:] = True
    kept = in_top_k & in_top_p
    final = torch.where(kept, probability_t, 0.0)
    final = final / final.sum()
    cut_by = [None if kept[i] else ("top-k" if not in_top_k[i] else "top-p") for i in range(min(TOP_N, len(z)))]
    return Distribution(order, z, probability, probability_t, cumulative, cut_by, kept, final)


def entropy_bits(p) -> float:
    """-sum p log2 p, with 0 log 0 = 0."""
    import torch

    terms = torch.where(p > 0, p * torch.log2(torch.where(p > 0, p, 1.0)), 0.0)
    return max(0.0, float(-terms.sum()))  # never -0.0


def draw(final, samples: int, seed: int):
    """`samples` draws (with replacement) from the final distribution; positions in its order. Seeded:
    the same seed gives the same draws, whatever else runs in the process."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.multinomial(final, samples, replacement=True, generator=generator)


def next_token(models, prompt, model_id=None, temperature=1.0, top_k=50, top_p=0.9, samples=DEFAULT_SAMPLES,
               seed=0, chat_template=False) -> dict:
    """The prompt's next-token candidates through temperature, top-k and top-p; `samples` seeded draws."""
    import torch

    checked, settings = check_next_token(models, prompt, model_id, temperature, top_k, top_p, samples, seed,
                                         chat_template)
    tokenizer = models.tokenizer(checked.model_id)
    bundle = models.bundle(checked.model_id)
    with torch.inference_mode():
        output = bundle.model(input_ids=torch.tensor([checked.ids], device=bundle.device), logits_to_keep=1)
    dist = distribution(output.logits[0, -1], settings.temperature, settings.top_k, settings.top_p)
    shown = min(TOP_N, len(dist.order))
    candidates = []
    for i in range(shown):
        token_id = int(dist.order[i])
        candidates.append({
            "token": token_text(tokenizer, token_id), "id": token_id, "logit": rounded(dist.logits[i]),
            "probability": rounded(dist.probability[i]), "probability_t": rounded(dist.probability_t[i]),
            "kept": bool(dist.kept[i]), "cut_by": dist.cut_by[i], "cumulative": rounded(dist.cumulative[i]),
            "final": rounded(dist.final[i]),
        })
    result = {
        "model_id": checked.model_id, "tokens": pieces(tokenizer, checked.ids), "chat_template": checked.chat_template,
        "temperature": settings.temperature, "top_k": settings.top_k, "top_p": settings.top_p,
        "vocabulary": len(dist.order),
        "kept_count": int(dist.kept.sum()), "candidates": candidates,
        "entropy_bits": rounded(entropy_bits(dist.probability)),
        "entropy_temperature_bits": rounded(entropy_bits(dist.probability_t)),
        "entropy_after_bits": rounded(entropy_bits(dist.final)),
        "notes": list(checked.notes),
    }
    if settings.samples:
        drawn = draw(dist.final, settings.samples, settings.seed)
        result.update(seed=settings.seed, samples=_counts(tokenizer, dist, drawn))
    return result


def _counts(tokenizer, dist: Distribution, drawn) -> dict[str, int]:
    """How often each token was drawn, most often first; two ids that read alike get their id appended."""
    import torch

    counts = torch.bincount(drawn, minlength=1)
    found = sorted(((int(n), i) for i, n in enumerate(counts.tolist()) if n), key=lambda item: (-item[0], item[1]))
    out: dict[str, int] = {}
    for n, i in found:
        token_id = int(dist.order[i])
        key = token_text(tokenizer, token_id)
        out[key if key not in out else f"{key} (id {token_id})"] = n
    return out

