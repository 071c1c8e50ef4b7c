"""Two looks behind the next-token step: the logit lens and the confidence strip.

Logit lens: a decoder-only model only predicts from its last layer, but every layer's hidden state has the
same size, so the model's own final norm and LM head can be applied to any of them: "what would the model
say if it stopped here?". Layer 0 is the embeddings (before any block), layer i the output of block i; the
last row is the model's own prediction (its final norm and head, as in its forward pass). The earlier
rows come from `output_hidden_states`, whose entries 0..L-1 are the raw block inputs (transformers puts the
final norm's output in the last entry, so that one is not used). One position at a time (default: last).

Confidence strip: one forward pass over a text gives, at every position, the distribution of the next
token; each token is coloured by the probability the model gave it there, with its top alternatives. The
first token has nothing before it, so it gets none (the text is read as plain text, with no start marker,
exactly as the next-token view reads a prompt: both give " Paris" the same probability after "The capital of
France is"). Optionally the model first continues the text greedily, to show that its own words come out
confident, whether or not they are true (chapter 13: hallucinations).
"""

from __future__ import annotations

import math

from pipelines.core import checks
from pipelines.core.errors import ModelUnavailableError, UserInputError
from pipelines.explainers.next_token_inputs import (
    ALTERNATIVES,
    LENS_TOP,
    MAX_CONTINUATION,
    check_prompt,
    pieces,
    rounded,
    token_text,
)

STRIP_EXAMPLE = "The capital of France is Paris."


def final_norm_and_head(model):
    """The model's final normalisation and LM head (Llama-style `model.norm`, GPT-2's `transformer.ln_f`)."""
    base = model.base_model
    norm = getattr(base, "norm", None) or getattr(base, "ln_f", None)
    head = model.get_output_embeddings()
    if norm is None or head is None:
        raise ModelUnavailableError(f"{type(model).__name__}: no final norm and LM head found for the lens.")
    return norm, head


def lens_logits(model, states):
    """The model's final norm and LM head applied to hidden states (rows of one position): logits."""
    norm, head = final_norm_and_head(model)
    return head(norm(states))


def check_position(position, count: int) -> int:
    """A position of a `count`-token prompt, from 0; -1 (or nothing) is the last one."""
    position = -1 if position is None or position == "" else position
    position = checks.whole_number("Position", position, -1, count - 1,
                                   hint=f"-1 is the last token; the prompt has {count} tokens, numbered from 0.")
    return count - 1 if position == -1 else position


def check_strip(models, text, model_id, continue_tokens):
    """The confidence strip's inputs: a text (two tokens at least, counting those to add) and a count."""
    continue_tokens = checks.whole_number("Tokens to add", continue_tokens, 0, MAX_CONTINUATION,
                                          hint="0 colours the text as typed.")
    checked = check_prompt(models, text, model_id, what="text", example=STRIP_EXAMPLE)
    if len(checked.ids) + continue_tokens < 2:
        raise UserInputError("The text is a single token: its first token has nothing before it to be predicted "
                             f"from. Type a few words, for example: {STRIP_EXAMPLE}")
    return checked, continue_tokens


def logit_lens(models, prompt, model_id=None, position=-1, chat_template=False) -> dict:
    """What each layer would predict next at one position of the prompt (default: the last)."""
    import torch

    checked = check_prompt(models, prompt, model_id, chat_template)
    count = len(checked.ids)
    position = check_position(position, count)
    tokenizer = models.tokenizer(checked.model_id)
    bundle = models.bundle(checked.model_id)
    with torch.inference_mode():
        output = bundle.model(input_ids=torch.tensor([checked.ids], device=bundle.device),
                              output_hidden_states=True, logits_to_keep=count - position)
        inner = torch.stack([state[0, position] for state in output.hidden_states[:-1]])
        logits = torch.cat([lens_logits(bundle.model, inner), output.logits[0, :1]]).float().cpu()
    probabilities = logits.softmax(-1)
    if position < count - 1:
        tracked_id, why = checked.ids[position + 1], "the prompt's next token"
    else:
        tracked_id, why = int(probabilities[-1].argmax()), "the model's prediction"
    top_p, top_i = probabilities.topk(LENS_TOP, dim=-1)
    tracked = probabilities[:, tracked_id]
    ranks = (probabilities > tracked[:, None]).sum(-1) + 1
    layers = []
    for layer in range(len(probabilities)):
        layers.append({
            "layer": layer, "name": "embeddings" if layer == 0 else f"block {layer}",
            "top": [[token_text(tokenizer, int(i)), rounded(p)] for p, i in zip(top_p[layer], top_i[layer])],
            "tracked_probability": rounded(tracked[layer]), "tracked_rank": int(ranks[layer]),
        })
    texts = pieces(tokenizer, checked.ids)
    return {
        "model_id": checked.model_id, "tokens": texts, "position": position, "token_at_position": texts[position],
        "chat_template": checked.chat_template,
        "tracked": {"token": token_text(tokenizer, tracked_id), "id": int(tracked_id), "why": why},
        "layers": layers, "notes": list(checked.notes),
    }


def confidence_strip(models, text, model_id=None, continue_tokens=0) -> dict:
    """Each token of a text with the probability the model gave it given the text before it (the first
    token excepted), its top alternatives, and the text's mean log-probability and perplexity. With
    `continue_tokens`, the model first adds up to that many tokens of its own (greedy)."""
    import torch

    checked, continue_tokens = check_strip(models, text, model_id, continue_tokens)
    tokenizer = models.tokenizer(checked.model_id)
    bundle = models.bundle(checked.model_id)
    ids = torch.tensor([checked.ids], device=bundle.device)
    with torch.inference_mode():
        if continue_tokens:
            stop = tokenizer.eos_token_id
            ids = bundle.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                        max_new_tokens=continue_tokens, pad_token_id=stop, eos_token_id=stop)
        log_probs = bundle.model(input_ids=ids).logits[0, :-1].float().log_softmax(-1).cpu()
    all_ids = ids[0].tolist()
    given = torch.tensor(all_ids[1:])
    chosen = log_probs.gather(1, given[:, None])[:, 0]
    ranks = (log_probs > chosen[:, None]).sum(-1) + 1
    alt_p, alt_i = log_probs.exp().topk(ALTERNATIVES, dim=-1)
    texts = pieces(tokenizer, all_ids)
    typed = len(checked.ids)
    tokens = [{"token": texts[0], "id": all_ids[0], "probability": None, "rank": None, "alternatives": [],
               "generated": False}]
    for t in range(1, len(all_ids)):
        tokens.append({
            "token": texts[t], "id": all_ids[t], "probability": rounded(chosen[t - 1].exp()),
            "rank": int(ranks[t - 1]), "generated": t >= typed,
            "alternatives": [[token_text(tokenizer, int(i)), rounded(p)] for p, i in zip(alt_p[t - 1], alt_i[t - 1])],
        })
    mean = float(chosen.double().mean())
    return {"model_id": checked.model_id, "tokens": tokens, "typed_tokens": typed,
            "generated_tokens": len(all_ids) - typed, "mean_log_prob": rounded(mean),
            "perplexity": rounded(math.exp(-mean))}
