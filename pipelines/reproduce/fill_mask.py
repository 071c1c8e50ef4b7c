"""The program for a fill-mask request: transformers' fill-mask pipeline, shown as the app's table."""

from __future__ import annotations

from pipelines.core import registry
from pipelines.reproduce import DEVICE, header, literal, text
from pipelines.tasks.fill_mask import SLOT

MASK = "[MASK]"  # the mask token of both curated checkpoints (BERT and DistilBERT, uncased)


def code(request) -> str:
    ckpt = registry.task("fill-mask").checkpoint(request.model_id)
    lines = [
        header(f"Fill-mask with {ckpt.label}", "torch", "transformers"),
        "import torch\nfrom transformers import pipeline\n",
        f"MODEL = {literal(request.model_id)}",
        f"TEXT = {text(request.text.replace(SLOT, MASK))}",
        f"TOP_K = {request.top_k}  # candidates per mask\n",
        DEVICE,
        'unmasker = pipeline("fill-mask", model=MODEL, device=device, dtype=dtype)',
        "results = unmasker(TEXT, top_k=TOP_K)",
    ]
    if request.gaps > 1:
        lines.append("# Every mask is predicted at once, each without knowing the others' words.")
    else:
        lines.append("results = [results]  # one mask: one list of candidates (the pipeline returns it unwrapped)")
    return "\n".join(lines + [_SHOW]) + "\n"


_SHOW = '''
tokens = [[unmasker.tokenizer.convert_ids_to_tokens(c["token"]) for c in mask] for mask in results]


def filled(words):
    """The text with one word in each mask; a piece like "##s" continues the word before it."""
    parts = TEXT.split("[MASK]")
    out = parts[0]
    for word, after in zip(words, parts[1:]):
        out = out.rstrip() + word[2:] if word.startswith("##") else out + word
        out += after
    return out


# As the app's table: each candidate in the sentence, other masks filled with their likeliest word.
print("mask  rank  candidate        probability  sentence")
best = [candidates[0] for candidates in tokens]
for m, (mask, candidates) in enumerate(zip(results, tokens)):
    for rank, (c, token) in enumerate(zip(mask, candidates), 1):
        words = best[:m] + [token] + best[m + 1:]
        print(f"{m + 1:>4}  {rank:>4}  {token:<15}  {c['score']:.4f}       {filled(words)}")'''
