"""Finding a typed token in a vocabulary, and the cosine of one embedding row with every other row.

A person types "cat" or "amazing" or "Cat"; a vocabulary holds "cat", "Ġamazing" (GPT-2: after a space),
"cat" (BERT lowercases). `lookup` tries the entry as typed, then what the tokenizer makes of the text
(alone, then after a space), and when that is several pieces it says so and offers them.
"""

from __future__ import annotations

ROWS_PER_BLOCK = 8_192  # cosines in blocks: bounded extra memory (also for a bf16 matrix turned float32)


def _entry(tokenizer, piece: str) -> int | None:
    """The id of `piece` if it is an entry of the vocabulary (not the unknown token standing in for it)."""
    token_id = tokenizer.convert_tokens_to_ids(piece)
    if token_id is None or tokenizer.convert_ids_to_tokens(int(token_id)) != piece:
        return None
    return int(token_id)


def lookup(tokenizer, token: str, label: str) -> dict:
    """{"found": True, "piece", "id", "note"} or {"found": False, "message", "pieces": [{"piece", "id"}]}."""
    token_id = _entry(tokenizer, token)
    if token_id is not None:
        return {"found": True, "piece": token, "id": token_id, "note": ""}
    unk = tokenizer.unk_token
    split = tokenizer.tokenize(token)
    # A BPE keeps a word's usual form for after a space (GPT-2: "amazing" is 2 pieces, " amazing" one).
    for pieces in (split, tokenizer.tokenize(" " + token)):
        if len(pieces) == 1 and pieces[0] != unk and _entry(tokenizer, pieces[0]) is not None:
            piece = pieces[0]
            return {"found": True, "piece": piece, "id": _entry(tokenizer, piece),
                    "note": f"{label} has no entry {token!r}; it reads it as the entry {piece!r}."}
    unique = list(dict.fromkeys(split))  # "zzz" splits into z, z, z: offer z once
    offered = [{"piece": p, "id": int(i)} for p, i in zip(unique, tokenizer.convert_tokens_to_ids(unique))]
    if not split:
        message = f"{label}'s tokenizer keeps nothing of {token!r} (no pieces): try a word."
    elif split == [unk]:
        message = (f"{token!r} is not in {label}'s vocabulary, and {label} has no pieces for it either: it "
                   f"becomes {unk} (unknown). You can pick {unk} itself.")
    else:
        shown = " + ".join(repr(p) for p in split)
        message = (f"{token!r} is not one entry of {label}'s vocabulary: {label} splits it into {len(split)} "
                   f"pieces, {shown}. Pick one of them.")
    return {"found": False, "message": message, "pieces": offered}


NORMS = "tokens.row_norms"  # bundle.extras key: the norms live (and are evicted) with their model


def row_norms(bundle, matrix):
    """Every row's norm, computed once per loaded model (a float per row: 200 KB for 50k rows, where a
    normalised copy of the matrix would be 100-150 MB); they cost more than the product itself."""
    import torch

    norms = bundle.extras.get(NORMS)
    if norms is None or norms.shape[0] != matrix.shape[0]:
        norms = torch.cat([matrix[s:s + ROWS_PER_BLOCK].float().norm(dim=1)
                           for s in range(0, matrix.shape[0], ROWS_PER_BLOCK)])
        bundle.extras[NORMS] = norms
    return norms


def cosines(matrix, index: int, norms):
    """Cosine similarity of row `index` with every row of `matrix` (a float32 vector, one per row), given
    the rows' norms."""
    import torch

    query = matrix[index].float()
    query = query / query.norm().clamp_min(1e-12)
    out = torch.empty(matrix.shape[0], dtype=torch.float32)
    for start in range(0, matrix.shape[0], ROWS_PER_BLOCK):
        block = matrix[start:start + ROWS_PER_BLOCK].float()
        out[start:start + block.shape[0]] = block @ query
    return out / norms.clamp_min(1e-12)


def row_summary(row, dims: int) -> dict:
    """The row as the page shows it: its length, its norm, and its first `dims` values, rounded."""
    shown = row[:dims].tolist()
    return {"dimensions": int(row.shape[0]), "norm": round(float(row.norm()), 4),
            "row": [round(v, 4) for v in shown], "shown_dims": len(shown)}
