"""Training signals on a real model (course chapter 6): the loss as training sees it, and the warm-up schedule.

    token_losses(models, text, model_id)        one forward pass under teacher forcing: each token's loss
                                                -log p(correct token), their mean (the loss) and its
                                                exponential (the perplexity); and the model running free on
                                                its own predictions, and where it first departs from the text
    warmup_schedule(models, d_model, warmup_steps)   the course's learning-rate formula (training_schedule.py)

Teacher forcing: the model reads the text's own tokens 0..t-1 and is scored on token t, for every t at once
(one pass; the first token has nothing before it, so it gets no loss). This is exactly the loss a causal
language model trains on: transformers' `model(ids, labels=ids).loss` is the mean of these numbers.

Running free, the model reads its own greedy choices instead. Until its first wrong guess it writes the
text exactly, so its prefix is the text's and its first departure is the first token whose teacher-forced
top prediction is not the text's token. From there it continues from its own words, which training never
showed it (exposure bias): the free run is generated from that point, FREE_TOKENS tokens at most.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.explainers import training
    models = ModelManager(Settings(model_source="tiny")).task("training")
    training.token_losses(models, "The cat sat on the mat.")["perplexity"]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines.core import checks
from pipelines.core.errors import UserInputError
from pipelines.explainers.next_token_inputs import pieces as token_pieces
from pipelines.explainers.training_schedule import warmup_schedule  # noqa: F401  (the page's second endpoint)

EXAMPLE_TEXT = "The cat sat on the mat."
MAX_TOKENS = 128
FREE_TOKENS = 12  # tokens generated after the departure: enough to see the drift; each is a forward pass
DIGITS = 4


@dataclass(frozen=True)
class Request:
    model_id: str
    label: str
    ids: tuple[int, ...]


def check(models, text, model_id) -> Request:
    """A text of 2 to MAX_TOKENS tokens for a curated model, or UserInputError; loads only the tokenizer."""
    text = checks.text("text", text, models.settings.max_input_chars,
                       empty=f"Type a sentence for the model to read, for example: {EXAMPLE_TEXT}")
    ckpt = models.checkpoint(model_id)
    ids = models.tokenizer(ckpt.repo_id)(text)["input_ids"]
    if len(ids) > MAX_TOKENS:
        raise UserInputError(f"The text is {len(ids):,} tokens for {ckpt.label}; this page reads at most "
                             f"{MAX_TOKENS}. Shorten it.")
    if len(ids) < 2:
        raise UserInputError(f"The text is {len(ids)} token for {ckpt.label}: the first token has nothing before "
                             f"it to predict it from, so there is no loss yet. Type a few words, for example: "
                             f"{EXAMPLE_TEXT}")
    return Request(ckpt.repo_id, ckpt.label, tuple(int(i) for i in ids))


def token_losses(models, text, model_id=None) -> dict:
    """Each token's loss under teacher forcing, mean loss and perplexity, and the model's free run."""
    import torch

    request = check(models, text, model_id)
    bundle = models.get(request.model_id).bundle
    tokenizer = bundle.tokenizer
    ids = torch.tensor([request.ids], device=bundle.device)
    with torch.inference_mode():
        logits = bundle.model(input_ids=ids).logits[0, :-1].double()  # position t predicts token t + 1
    log_probs = torch.log_softmax(logits, dim=-1)
    targets = ids[0, 1:]
    target_lp = log_probs.gather(1, targets[:, None])[:, 0]
    losses = -target_lp
    best_lp, best = log_probs.max(dim=-1)
    ranks = (log_probs > target_lp[:, None]).sum(dim=-1) + 1
    mean = float(losses.mean())
    pieces = token_pieces(tokenizer, request.ids)
    wrong = (best != targets).nonzero()
    departure = int(wrong[0, 0]) + 1 if len(wrong) else None  # the token index where it first departs
    result = {
        "model_id": request.model_id, "tokens": pieces, "token_ids": list(request.ids),
        "losses": [None, *(_r(v) for v in losses.tolist())],
        "probabilities": [None, *(_r(math.exp(v)) for v in target_lp.tolist())],
        "ranks": [None, *(int(r) for r in ranks.tolist())],
        "expected": [None, *(_token(tokenizer, int(i)) for i in best.tolist())],
        "expected_probabilities": [None, *(_r(math.exp(v)) for v in best_lp.tolist())],
        "mean_loss": _r(mean), "perplexity": _r(math.exp(mean)), "predicted_tokens": len(request.ids) - 1,
        "departure": None, "free_run": [], "text_after": [],
        "note": "The first token has no loss: nothing comes before it to predict it from.",
    }
    if departure is None:
        result["free_run_note"] = (f"Running free from the first token, {request.label} writes this very text: "
                                   "its own top choice is the text's token at every step.")
        return result
    before = departure - 1  # the prediction made at this position
    free = _run_free(bundle, request.ids[:departure], min(FREE_TOKENS, len(request.ids) - departure))
    result.update(
        departure={"position": departure, "text_token": pieces[departure], "model_token": result["expected"][departure],
                   "text_probability": result["probabilities"][departure],
                   "model_probability": result["expected_probabilities"][departure],
                   "text_rank": int(ranks[before])},
        free_run=[_token(tokenizer, i) for i in free],
        text_after=pieces[departure:departure + len(free)],
        free_run_note=(f"Running free, {request.label} writes the text's first "
                       f"{'token' if departure == 1 else f'{departure} tokens'} itself, then picks "
                       f"{result['expected'][departure]!r} "
                       f"where the text has {pieces[departure]!r}, and goes on from its own words: during "
                       "training it only ever read the true text (teacher forcing), never its own mistakes "
                       "(exposure bias)."),
    )
    return result


def _run_free(bundle, prefix: tuple[int, ...], count: int) -> list[int]:
    """Greedy continuation of `prefix` by the model itself, `count` tokens (fewer if it ends its text)."""
    import torch

    ends = {bundle.tokenizer.eos_token_id}
    configured = getattr(getattr(bundle.model, "generation_config", None), "eos_token_id", None)
    ends.update(configured if isinstance(configured, (list, tuple)) else [configured])
    out: list[int] = []
    with torch.inference_mode():
        step = bundle.model(input_ids=torch.tensor([prefix], device=bundle.device), use_cache=True)
        for _ in range(count):
            token = int(step.logits[0, -1].argmax())
            out.append(token)
            if token in ends:
                break
            step = bundle.model(input_ids=torch.tensor([[token]], device=bundle.device), cache=step.cache,
                                use_cache=True)
    return out


def _token(tokenizer, token_id: int) -> str:
    text = tokenizer.decode([token_id], skip_special_tokens=False, clean_up_tokenization_spaces=False)
    return tokenizer.convert_ids_to_tokens(token_id) if "\ufffd" in text else text


def _r(value: float) -> float:
    return round(float(value), DIGITS)
