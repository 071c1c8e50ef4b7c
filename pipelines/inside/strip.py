"""The confidence strip of a generated text (text generation, code completion): each generated token with
the probability the model gave it at that step and its top alternatives there.

One forward pass over the prompt's ids followed by the generated text's ids gives, at every position,
the model's distribution of the next token (softmax of its logits, temperature 1): the probability of
the token that follows is that token's colour. This is the model's own distribution, before the
decoding settings reshaped it: with sampling, temperature, top-k/top-p and the repetition penalty
changed what was drawn from, which is why a sampled text can hold tokens the model found unlikely.

The generated ids are not kept by the tab (it shows text), so the generated text is tokenized again,
on its own, after the prompt's ids. That gives the model's own tokens nearly always; where a text
tokenizes differently (a word the model wrote in two pieces), the strip scores the tokenizer's pieces
and a note says the text did not round-trip. The next-token page's piece helpers are reused, so a
token shows exactly as it does there.
"""

from __future__ import annotations

import math

from pipelines.explainers.next_token_inputs import pieces, token_text
from pipelines.inside import rounded

ALTERNATIVES = 3  # the model's top tokens at each step, shown on hover
UNLIKELY = 0.1  # below this probability a token counts as a surprise in the summary


def generated_strip(bundle, prompt_ids: list[int], generated: str) -> dict:
    """The strip of `generated` read after `prompt_ids` by the bundle's causal LM (see the docstring)."""
    import torch

    tokenizer = bundle.tokenizer
    new_ids = tokenizer(generated, add_special_tokens=False)["input_ids"] if generated else []
    notes = []
    if not new_ids:
        return {"model_id": bundle.checkpoint.repo_id, "prompt_tokens": len(prompt_ids), "tokens": [],
                "mean_log_prob": None, "perplexity": None, "unlikely": 0, "not_top": 0, "notes": [],
                "message": "The model generated no text (it ended at once), so there is no token to colour."}
    if tokenizer.decode(new_ids, skip_special_tokens=False, clean_up_tokenization_spaces=False) != generated:
        notes.append("The generated text does not read back exactly from its tokens: the strip scores the "
                     "tokenizer's own pieces of it.")
    ids = torch.tensor([list(prompt_ids) + new_ids], device=bundle.device)
    with torch.inference_mode():
        # Position t predicts token t + 1: the last len(new_ids) + 1 positions cover every generated
        # token (the very last one predicts past the text and is dropped).
        logits = bundle.model(input_ids=ids, logits_to_keep=len(new_ids) + 1).logits[0, :-1]
    log_probs = logits.float().log_softmax(-1).cpu()
    given = torch.tensor(new_ids)
    chosen = log_probs.gather(1, given[:, None])[:, 0]
    ranks = (log_probs > chosen[:, None]).sum(-1) + 1
    alt_p, alt_i = log_probs.exp().topk(ALTERNATIVES, dim=-1)
    texts = pieces(tokenizer, new_ids)
    tokens = []
    for t, token_id in enumerate(new_ids):
        tokens.append({
            "token": texts[t], "id": token_id, "probability": rounded(chosen[t].exp()), "rank": int(ranks[t]),
            "alternatives": [[token_text(tokenizer, int(i)), rounded(p)] for p, i in zip(alt_p[t], alt_i[t])],
        })
    mean = float(chosen.double().mean())
    return {
        "model_id": bundle.checkpoint.repo_id, "prompt_tokens": len(prompt_ids), "tokens": tokens,
        "mean_log_prob": rounded(mean), "perplexity": rounded(math.exp(min(-mean, 700.0))),
        "unlikely": sum(1 for t in tokens if t["probability"] < UNLIKELY),
        "not_top": sum(1 for t in tokens if t["rank"] > 1), "notes": notes,
    }
