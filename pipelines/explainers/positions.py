"""Positional encoding (the course's chapters 2.5 and 11): how a Transformer, which reads every token at
once, is told where each token sits.

Two endpoints, each returning plain, rounded values:
- `positional_encoding(length, d_model)`: the course's fixed sinusoidal encoding, exactly its formula
      PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),   PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)),
  as a position x dimension matrix, and the cosine similarity of its rows. Every row has norm
  sqrt(d_model/2), and PE(m).PE(n) = sum_i cos((m-n) w_i): the similarity depends only on the offset.
- `model_positions(model_id, length)`: what a real model does instead (pipelines/explainers/positions_models.py):
  BERT, MiniLM and GPT-2 learned one vector per position (their cosine similarity matrix); SmolLM2 rotates
  q and k by an angle proportional to the position in every layer (RoPE), so a query-key score depends
  only on the offset m - n: the score matrix is constant along its diagonals.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.explainers import positions
    models = ModelManager(Settings(model_source="tiny")).task("positions")
    positions.positional_encoding(models, 16, 32)["pe"][1][:2]     # [sin(1), cos(1)] = [0.8415, 0.5403]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines.core import checks
from pipelines.core.errors import UserInputError

MAX_LENGTH = 128  # positions shown: a 128 x 128 matrix is already 16,384 cells in the browser
MAX_D_MODEL = 512  # the original Transformer's width
DEFAULT_LENGTH, DEFAULT_D_MODEL = 16, 32
BASE = 10000.0  # the course's (and the original paper's) base of the wavelengths
FORMULA = "PE(pos, 2i) = sin(pos / 10000^(2i/d_model)); PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model))"
VECTORS = ("first layer", "random")  # where the rotary demo's q and k come from
MAX_SEED = 2**32 - 1
MAX_HEADS = 64  # before a model is loaded, a head number is checked against this; then against the model
QUERY_WORD, KEY_WORD = " cat", " sat"  # the course's "The cat sat on the mat": q of one word, k of another

# Which scheme each real checkpoint of the page uses (the real configs' values; the miniatures are smaller).
SCHEMES = (
    {"model": "The course (Vaswani et al. 2017)", "repo_id": "", "scheme": "fixed sinusoidal",
     "max_positions": "any", "where": "added to the input embeddings once, before the first layer"},
    {"model": "all-MiniLM-L6-v2", "repo_id": "sentence-transformers/all-MiniLM-L6-v2", "scheme": "learned absolute",
     "max_positions": 512, "where": "added to the token embeddings once, before the first of 6 layers"},
    {"model": "BERT base uncased", "repo_id": "google-bert/bert-base-uncased", "scheme": "learned absolute",
     "max_positions": 512, "where": "added to the token embeddings once, before the first of 12 layers"},
    {"model": "GPT-2", "repo_id": "openai-community/gpt2", "scheme": "learned absolute (wpe)",
     "max_positions": 1024, "where": "added to the token embeddings (wte) once, before the first of 12 layers"},
    {"model": "SmolLM2-135M-Instruct", "repo_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
     "scheme": "rotary (RoPE, rope_theta 100,000, head_dim 64)", "max_positions": 8192,
     "where": "rotated into q and k (not v) in every one of the 30 layers; nothing added to the embeddings"},
)


def check_length(length) -> int:
    return checks.whole_number("Length", length, 1, MAX_LENGTH,
                               hint=f"It is the number of positions shown (at most {MAX_LENGTH}).")


def check_d_model(d_model) -> int:
    d_model = checks.whole_number("d_model", d_model, 2, MAX_D_MODEL)
    if d_model % 2:
        raise UserInputError(f"d_model must be even: the formula pairs a sine (dimension 2i) with a cosine "
                             f"(dimension 2i+1); got {d_model}. Try {d_model - 1} or {d_model + 1}.")
    return d_model


def sinusoidal(length: int, d_model: int):
    """The course's chapter 11 `PositionalEncoding` buffer (float64): pe[pos, 2i] = sin(pos * div),
    pe[pos, 2i+1] = cos(pos * div) with div = exp(2i * -(ln 10000 / d_model)) = 10000^(-2i/d_model)."""
    import torch

    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * -(math.log(BASE) / d_model))
    pe = torch.zeros(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def positional_encoding(models, length, d_model) -> dict:
    """The sinusoidal encoding of `length` positions in `d_model` dimensions and its similarity matrix."""
    import torch

    length, d_model = check_length(length), check_d_model(d_model)
    with torch.inference_mode():
        pe = sinusoidal(length, d_model)
        similarity = cosine_matrix(pe)
    wavelengths = [2 * math.pi * BASE ** (2 * i / d_model) for i in range(d_model // 2)]
    return {
        "length": length, "d_model": d_model, "formula": FORMULA,
        "pe": rounded(pe),  # rows: positions 0..length-1; columns: dimensions 0..d_model-1
        "similarity": rounded(similarity),  # cosine; the dot product is this times row_norm**2 = d_model/2
        "similarity_by_offset": by_offset(similarity),
        "row_norm": round(math.sqrt(d_model / 2), 4),
        "diagonal_max_deviation": diagonal_max_deviation(similarity),
        # Positions after which dimensions (2i, 2i+1) repeat: 2*pi for the first pair, ~2*pi*10000 for the last.
        "wavelengths": [round(w, 2) for w in wavelengths],
    }


@dataclass(frozen=True)
class ModelRequest:
    model_id: str  # a curated repo id
    length: int
    head: int = 0
    vectors: str = VECTORS[0]
    seed: int = 0


def model_positions(models, model_id, length, head=0, vectors=VECTORS[0], seed=0) -> dict:
    """How a real model encodes positions: learned vectors (their cosine similarity matrix) or rotary (the
    query-key scores of one fixed q and k rotated to positions m and n, constant along each diagonal).

    `head`, `vectors` ("first layer": q of the word "cat" and k of "sat" in layer 0; "random": seeded
    Gaussian vectors) and `seed` matter for rotary models only."""
    return run_model_positions(models, check_model_positions(models, model_id, length, head, vectors, seed))


def check_model_positions(models, model_id, length, head=0, vectors=VECTORS[0], seed=0) -> ModelRequest:
    """Every input checked, no model loaded (the tab shows "Loading ..." between this and the run)."""
    if model_id is None or not str(model_id).strip():
        raise UserInputError("Choose a model: one of " + ", ".join(c.repo_id for c in models.spec.checkpoints) + ".")
    return ModelRequest(models.checkpoint(str(model_id).strip()).repo_id, check_length(length),
                        checks.whole_number("Head", head, 0, MAX_HEADS - 1),
                        checks.choice("q and k vectors", vectors, VECTORS),
                        checks.whole_number("Seed", seed, 0, MAX_SEED))


def run_model_positions(models, request: ModelRequest) -> dict:
    from pipelines.explainers import positions_models

    return positions_models.describe_positions(models.bundle(request.model_id), request)


# Small helpers shared with positions_models: matrices in, plain rounded values out.

def cosine_matrix(rows):
    """Cosine similarity of every pair of rows (float64)."""
    import torch

    unit = torch.nn.functional.normalize(rows.double(), dim=-1)
    return unit @ unit.T


def by_offset(matrix) -> list[float]:
    """The mean of each diagonal at offset 0, 1, ..., n-1 below the main one (row m, column m - offset)."""
    import torch

    return [round(float(torch.diagonal(matrix, -offset).mean()), 4) for offset in range(matrix.shape[0])]


def diagonal_max_deviation(matrix) -> float:
    """How far any entry is from the mean of its diagonal: 0 when the matrix depends only on the offset
    (kept to 3 significant digits, not 4 decimals: it is ~1e-6 for a rotary model)."""
    import torch

    n = matrix.shape[0]
    worst = max(float((torch.diagonal(matrix, d) - torch.diagonal(matrix, d).mean()).abs().max())
                for d in range(-n + 1, n))
    return float(f"{worst:.3g}")


def rounded(matrix, digits: int = 4) -> list[list[float]]:
    return [[round(v, digits) for v in row] for row in matrix.tolist()]
