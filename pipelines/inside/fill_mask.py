"""Look inside fill-mask: each mask's candidates with their probabilities, and what the mask position
attended to in each layer.

One forward pass with attention weights (the model switched to eager attention in place) gives both:
the candidates exactly as the tab computes them (pipelines/tasks/fill_mask.py: softmax over the
vocabulary at the mask's position, the top k), and, in every layer, the attention row of the mask
position: how much of its next vector it took from each token, averaged over the heads (each row sums
to 1). That shows where the model looked to fill the gap, layer by layer; not why it chose the word.
"""

from __future__ import annotations

from pipelines.core.errors import UserInputError
from pipelines.inside import local_bundle, rounded
from pipelines.tasks import fill_mask as masking


def explain(models, text, model_id=None, top_k=masking.DEFAULT_TOP_K, rows_shown=None) -> dict:
    """Per mask: candidates (the tab's) and the mask row of every layer's attention. `rows_shown` is the
    tab's table (mask, rank, candidate, probability, sentence): a note says if the candidates differ."""
    import torch

    request = masking.check(models, text, model_id, top_k)
    bundle = local_bundle(models, request.model_id, attention="eager")
    tokenizer, model = bundle.tokenizer, bundle.model
    encoded = tokenizer(request.text.replace(masking.SLOT, tokenizer.mask_token), return_tensors="pt")
    ids = encoded["input_ids"]
    if ids.shape[1] > model.config.max_position_embeddings:  # the task refuses it the same way
        raise UserInputError(f"The text is {ids.shape[1]:,} tokens; this model reads at most "
                             f"{model.config.max_position_embeddings}.")
    positions = (ids[0] == tokenizer.mask_token_id).nonzero().flatten().tolist()
    with torch.inference_mode():
        out = model(**encoded.to(bundle.device), output_attentions=True)
    probs, top = out.logits[0, positions].float().softmax(-1).topk(request.top_k, dim=-1)
    # (layers, heads, tokens, tokens) -> the mask rows, mean over heads: (masks, layers, tokens)
    attention = torch.stack([layer[0].float() for layer in out.attentions]).mean(1)[:, positions].transpose(0, 1)
    tokens = tokenizer.convert_ids_to_tokens(ids[0].tolist())
    masks = []
    for m, position in enumerate(positions):
        masks.append({
            "position": position,
            "candidates": [{"token": tokenizer.convert_ids_to_tokens(int(i)), "probability": rounded(p)}
                           for p, i in zip(probs[m].tolist(), top[m].tolist())],
            "attention": [[rounded(w) for w in row] for row in attention[m].cpu().tolist()],
        })
    notes = []
    if rows_shown and _table(masks) != [(int(r[0]), str(r[2])) for r in rows_shown]:
        notes.append("The candidates above differ from the ones computed now: was the text edited while the model "
                     "read it? Fill the mask again to look inside this one.")
    return {"model_id": request.model_id, "tokens": tokens, "layers": len(out.attentions), "masks": masks,
            "notes": notes}


def _table(masks: list[dict]) -> list[tuple[int, str]]:
    """(mask number from 1, candidate) in the order of the tab's table."""
    return [(g, c["token"]) for g, mask in enumerate(masks, 1) for c in mask["candidates"]]
