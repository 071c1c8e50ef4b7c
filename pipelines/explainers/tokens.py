"""Tokens and embeddings (course chapters 2.1-2.2 and 9): one text split by several tokenizers side by
side, and one vocabulary entry's row of a model's input embedding matrix with its nearest neighbours.

    tokenize(models, "Transformers are amazing!")
        BERT (bert-base-uncased WordPiece) -> transformers, are, amazing, ! (the course's example), GPT-2's
        byte-level BPE -> Transform, ers, Ġare, Ġamazing, !, SmolLM2's and Whisper's BPEs; all-MiniLM-L6-v2
        shares BERT's vocabulary, so it is named beside BERT instead of shown twice.
    nearest_tokens(models, "cat", "sentence-transformers/all-MiniLM-L6-v2")
        the row of "cat" (first dims, norm) and the entries whose rows point the same way (cosine):
        cats, kitten, kitty, dog, ... with the real MiniLM.

Tokenizing loads no weights (models.tokenizer); neighbours read `get_input_embeddings().weight` of the
loaded model (Whisper: its decoder's token embedding) and compute cosines on the fly, in row blocks:
50k x 768 is ~10 ms, and a cached normalised copy would cost 100-150 MB per model.
"""

from __future__ import annotations

import functools

from pipelines.core import checks
from pipelines.core.errors import UserInputError
from pipelines.core.registry import BERT, GPT2, MINILM, SMOLLM2, WHISPER
from pipelines.explainers import tokens_pieces as pieces_of
from pipelines.explainers.tokens_lookup import cosines, lookup, row_norms, row_summary

EXAMPLE = "Transformers are amazing!"
MAX_CHARS = 2_000  # a page of tokens is for reading: a few sentences, not a book
MAX_TOKENS = 256  # per tokenizer: five rows of chips stay readable, and the JSON small
MAX_TOKEN_CHARS = 100  # a vocabulary entry is a word or less; longer is not a token
DEFAULT_TOP_K, MAX_TOP_K = 10, 50
DEFAULT_DIMS, MIN_DIMS, MAX_DIMS = 32, 8, 64  # the first dims of a row the strip shows (it has hundreds)
MAX_COMPARE = 10
# Display order: the course's BERT first. MiniLM comes last so that it is the one named beside BERT.
ORDER = (BERT, GPT2, SMOLLM2, WHISPER, MINILM.repo_id)


def _ordered(models) -> list:
    rank = {repo_id: i for i, repo_id in enumerate(ORDER)}
    return sorted(models.spec.checkpoints, key=lambda c: rank.get(c.repo_id, len(ORDER)))


def check_text(models, text) -> str:
    limit = min(MAX_CHARS, models.settings.max_input_chars)
    # Not stripped: a leading space or a newline is part of what a tokenizer sees (GPT-2's Ġ).
    return checks.text("text", text, limit, empty=f"Type a text to split into tokens, for example: {EXAMPLE}",
                       advice="This page shows a few sentences at a time: shorten it.", strip=False)


def tokenize(models, text: str, special_tokens: bool = True) -> dict:
    """Every tokenizer's pieces of `text` (grouped where two checkpoints share one vocabulary)."""
    text = check_text(models, text)
    special_tokens = checks.yes_no("Add special tokens", special_tokens)
    groups: list[dict] = []
    for ckpt in _ordered(models):
        tokenizer = models.tokenizer(ckpt.repo_id)
        row = _split(tokenizer, text, special_tokens)
        same = next((g for g in groups if g["ids"] == row["ids"] and _same_vocabulary(g["tokenizer"], tokenizer)),
                    None)
        if same is not None:
            same["model_ids"].append(ckpt.repo_id)
            same["labels"].append(ckpt.label)
            continue
        if row["tokens"] > MAX_TOKENS:
            raise UserInputError(f"The text is {row['tokens']:,} tokens for {ckpt.label}; this page shows at most "
                                 f"{MAX_TOKENS} per tokenizer. Shorten it.")
        groups.append({"tokenizer": tokenizer, "model_ids": [ckpt.repo_id], "labels": [ckpt.label], **row})
    return {"text": text, "characters": len(text), "tokenizers": [_public(g) for g in groups]}


def _split(tokenizer, text: str, special_tokens: bool) -> dict:
    encoded = tokenizer(text, add_special_tokens=special_tokens, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])
    offsets = encoded.get("offset_mapping") or [None] * len(ids)
    kind = pieces_of.tokenizer_kind(tokenizer)
    specials = pieces_of.special_ids(tokenizer)
    items = []
    for token_id, piece, span in zip(ids, tokenizer.convert_ids_to_tokens(ids), offsets):
        special = token_id in specials
        role = pieces_of.special_role(tokenizer, piece) if special else ""
        items.append(pieces_of.describe_piece(piece, token_id, kind, special, role,
                                              pieces_of.covered_text(text, span)))
    n_special = sum(item["special"] for item in items)
    text_tokens = len(items) - n_special
    return {
        "ids": ids, "kind": kind, "how_to_read": pieces_of.how_to_read(tokenizer, kind),
        "vocabulary_size": len(tokenizer), "pieces": items, "tokens": len(items), "text_tokens": text_tokens,
        "special_tokens": n_special, "byte_pieces": sum(item["bytes"] for item in items),
        # Characters of the text per token of it (special tokens are not the text's).
        "characters_per_token": round(len(text) / text_tokens, 2) if text_tokens else None,
    }


@functools.lru_cache(maxsize=16)  # a pair's answer never changes; get_vocab() costs ~20-100 ms a call
def _same_vocabulary(a, b) -> bool:
    return a is b or (len(a) == len(b) and a.get_vocab() == b.get_vocab())


def _public(group: dict) -> dict:
    out = {k: v for k, v in group.items() if k not in ("tokenizer", "ids")}
    if len(group["labels"]) > 1:
        others = ", ".join(group["labels"][1:])
        out["shared"] = (f"{others} uses the same vocabulary as {group['labels'][0]}, so it splits every text "
                         "the same way: shown once.")
    return out


def check_nearest(models, token, model_id, top_k, dims, compare) -> tuple:
    if not isinstance(token, str) and token is not None:
        raise UserInputError(f"The token must be text; got {type(token).__name__}.")
    token = (token or "").strip()
    if not token:
        raise UserInputError("Pick a piece of the tokenized text (or type a word), for example: cat.")
    if len(token) > MAX_TOKEN_CHARS:
        raise UserInputError(f"The token is {len(token):,} characters; a vocabulary entry is a word or a piece of "
                             f"one (at most {MAX_TOKEN_CHARS}). Type one word.")
    ckpt = models.checkpoint(model_id)
    top_k = checks.whole_number("Neighbours", top_k, 1, MAX_TOP_K)
    dims = checks.whole_number("Dimensions shown", dims, MIN_DIMS, MAX_DIMS)
    if not isinstance(compare, str) and compare is not None:
        raise UserInputError(f"Compare with must be text (tokens separated by commas); got {type(compare).__name__}.")
    others = [t.strip() for t in (compare or "").split(",") if t.strip()]
    if len(others) > MAX_COMPARE:
        raise UserInputError(f"Compare with takes at most {MAX_COMPARE} tokens; got {len(others)}.")
    for other in others:
        if len(other) > MAX_TOKEN_CHARS:
            raise UserInputError(f"Compare with: {other[:20]!r}... is not one token; give words separated by commas.")
    return token, ckpt, top_k, dims, others


def needs_weights(models, token, model_id) -> bool:
    """Whether nearest_tokens will load the model: only for a token that is one entry of its vocabulary
    (for anything else it answers with the pieces, from the tokenizer alone)."""
    ckpt = models.checkpoint(model_id)
    return lookup(models.tokenizer(ckpt.repo_id), str(token or "").strip(), ckpt.label)["found"]


def nearest_tokens(models, token: str, model_id: str | None = None, top_k=DEFAULT_TOP_K, dims=DEFAULT_DIMS,
                   compare: str = "") -> dict:
    """The embedding row of a vocabulary entry (first `dims` values, norm) and its `top_k` nearest entries
    by cosine similarity in the model's input embedding matrix; `compare`: tokens to measure it against."""
    import torch

    token, ckpt, top_k, dims, others = check_nearest(models, token, model_id, top_k, dims, compare)
    tokenizer = models.tokenizer(ckpt.repo_id)
    found = lookup(tokenizer, token, ckpt.label)
    base = {"model_id": ckpt.repo_id, "label": ckpt.label, "token": token}
    if not found["found"]:  # the sentence and the pieces to pick instead; no weights loaded for it
        return {**base, **found}
    bundle = models.bundle(ckpt.repo_id)
    matrix = bundle.model.get_input_embeddings().weight
    rows = min(matrix.shape[0], len(tokenizer))  # rows past the tokenizer's ids name no entry
    if found["id"] >= rows:
        raise UserInputError(f"{found['piece']!r} (id {found['id']}) has no row in {ckpt.label}'s embedding matrix "
                             f"({matrix.shape[0]:,} rows): pick another piece.")
    with torch.inference_mode():
        sims = cosines(matrix[:rows], found["id"], row_norms(bundle, matrix[:rows]))
        sims[found["id"]] = -2.0  # not its own neighbour
        values, ids = sims.topk(min(top_k, rows - 1))
        summary = row_summary(matrix[found["id"]].detach().float(), dims)
    names = tokenizer.convert_ids_to_tokens(ids.tolist())
    neighbours = [{"piece": p, "id": i, "text": tokenizer.convert_tokens_to_string([p]), "cosine": round(s, 4)}
                  for p, i, s in zip(names, ids.tolist(), values.tolist())]
    compared = []
    for other in others:
        match = lookup(tokenizer, other, ckpt.label)
        if match["found"]:
            cosine = sims[match["id"]].item() if match["id"] != found["id"] else 1.0
            compared.append({"token": other, "piece": match["piece"], "id": match["id"], "cosine": round(cosine, 4)})
        else:
            compared.append({"token": other, "message": match["message"]})
    return {**base, **{k: v for k, v in found.items() if k != "found"}, "found": True,
            **summary, "rows": int(matrix.shape[0]), "neighbours": neighbours, "compare": compared}
