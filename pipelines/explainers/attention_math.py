"""The course's worked example (chapter 3.6), computed step by step on matrices a person types.

    Attention(Q, K, V) = softmax(Q × Kᵀ / √d_k) × V

Q, K and V arrive as text such as "[[1, 0], [0, 1], [1, 1]]" (JSON or a Python literal; parsed without
evaluating code). Every intermediate step is returned so the page can show its numbers: the scores
Q·Kᵀ, the scores divided by √d_k (or not, to see why the course divides), the causal mask (a token
sees itself and the tokens before it), the softmax rows (each sums to 1) and the weighted sum of V.

Plain Python floats, no torch: a 16 x 16 example is 4,096 multiplications, and `math.fsum` keeps the
sums exact to the last bit, so the page's numbers match a hand calculation.

    >>> attention_example("[[1,0],[0,1],[1,1]]", "[[1,0],[0,1],[1,1]]", "[[0.1,0.2],[0.2,0.3],[0.3,0.4]]")["weights"][0]
    [0.4011, 0.1978, 0.4011]
"""

from __future__ import annotations

import ast
import json
import math

from pipelines.core import checks
from pipelines.core.errors import UserInputError

# The course's chapter 3.6 example: the tokens of "I love AI", two dimensions each.
COURSE_Q = "[[1, 0], [0, 1], [1, 1]]"
COURSE_K = "[[1, 0], [0, 1], [1, 1]]"
COURSE_V = "[[0.1, 0.2], [0.2, 0.3], [0.3, 0.4]]"
COURSE_TOKENS = ("I", "love", "AI")
MAX_SIDE = 16  # rows and columns: a 16 x 16 table of numbers is already more than a page can show readably
MAX_CHARS = 8_000  # 256 numbers with many decimals fit; anything longer is not a matrix a person typed
MAX_ABS = 1e6  # keeps every product and sum finite; attention inputs of this size are never meaningful
EXAMPLE = "[[1, 0], [0, 1], [1, 1]]"


def parse_matrix(name: str, value) -> list[list[float]]:
    """A matrix from its text (or an already-parsed list of rows), or UserInputError saying what is wrong."""
    if isinstance(value, str):
        value = _literal(name, value)
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not value:
        raise UserInputError(f"{name} must be a list of rows in square brackets, for example {EXAMPLE}.")
    if all(_is_number(x) for x in value):
        raise UserInputError(f"{name} is a single row of numbers: put it in a second pair of brackets, "
                             f"for example [{_show(value)}], or give several rows.")
    if any(not isinstance(row, (list, tuple)) for row in value):
        raise UserInputError(f"Each row of {name} must be a list of numbers in square brackets, "
                             f"for example {EXAMPLE}.")
    widths = [len(row) for row in value]
    if len(value) > MAX_SIDE or max(widths) > MAX_SIDE:
        raise UserInputError(f"{name} is {len(value)} x {max(widths)}; the lab takes at most "
                             f"{MAX_SIDE} x {MAX_SIDE} so that every number fits on the page.")
    if min(widths) == 0:
        raise UserInputError(f"{name} has an empty row; every row needs at least one number.")
    if len(set(widths)) > 1:
        raise UserInputError(f"The rows of {name} have different lengths ({', '.join(map(str, widths))}): "
                             "every row needs the same number of values.")
    for i, row in enumerate(value, 1):
        for j, x in enumerate(row, 1):
            if not _is_number(x):
                raise UserInputError(f"{name}, row {i}, value {j} is {x!r}, not a number.")
            if not abs(x) <= MAX_ABS:  # also refuses NaN and infinity (json reads NaN, Infinity)
                raise UserInputError(f"{name}, row {i}, value {j} is {x}: keep values between "
                                     f"-{MAX_ABS:,.0f} and {MAX_ABS:,.0f}.")
    return [[float(x) for x in row] for row in value]


def attention_example(q, k, v, scale=True, causal=False) -> dict:
    """Every step of scaled dot-product attention on Q (n_q x d_k), K (n_k x d_k) and V (n_k x d_v)."""
    Q, K, V = parse_matrix("Q", q), parse_matrix("K", k), parse_matrix("V", v)
    scale = checks.yes_no("Scale by √d_k", scale)
    causal = checks.yes_no("Causal mask", causal)
    d_k = len(Q[0])
    if len(K[0]) != d_k:
        raise UserInputError(f"Q's rows have {d_k} values but K's have {len(K[0])}: Q and K need the same "
                             "width d_k, because each query is compared with each key by a dot product.")
    if len(V) != len(K):
        raise UserInputError(f"K has {len(K)} rows but V has {len(V)}: K and V need the same number of rows "
                             "(one key and one value per token).")
    if causal and len(Q) != len(K):
        raise UserInputError(f"A causal mask needs as many queries as keys (one sequence attending to itself); "
                             f"Q has {len(Q)} rows and K has {len(K)}. Untick the mask or give them equal rows.")
    scores = [[math.fsum(a * b for a, b in zip(query, key)) for key in K] for query in Q]
    factor = 1 / math.sqrt(d_k) if scale else 1.0
    scaled = [[s * factor for s in row] for row in scores]
    # None marks a masked cell: it becomes -inf before the softmax, so its weight is exactly 0.
    masked = [[None if causal and j > i else s for j, s in enumerate(row)] for i, row in enumerate(scaled)]
    weights = [softmax(row) for row in masked]
    output = [[math.fsum(w * V[j][c] for j, w in enumerate(row)) for c in range(len(V[0]))] for row in weights]
    return {
        "scores": _rounded(scores), "scaled": _rounded(scaled), "masked": _rounded(masked),
        "weights": _rounded(weights), "row_sums": [_round(math.fsum(row)) for row in weights],
        "output": _rounded(output), "d_k": d_k, "d_v": len(V[0]), "sqrt_d_k": _round(math.sqrt(d_k)),
        "scale": scale, "scale_factor": _round(factor), "causal": causal,
        "shapes": {"Q": [len(Q), d_k], "K": [len(K), d_k], "V": [len(V), len(V[0])],
                   "output": [len(Q), len(V[0])]},
    }


def softmax(row: list[float | None]) -> list[float]:
    """A numerically stable softmax: subtracting the row's largest score first keeps every exp() at most 1,
    so scores like 1000 do not overflow; None (masked) cells get weight 0."""
    top = max(x for x in row if x is not None)
    exps = [0.0 if x is None else math.exp(x - top) for x in row]
    total = math.fsum(exps)  # at least 1: the largest score's exp(0)
    return [e / total for e in exps]


def _literal(name: str, text: str):
    text = text.strip()
    if not text:
        raise UserInputError(f"{name} is empty. Type a matrix as rows in square brackets, for example {EXAMPLE}.")
    if len(text) > MAX_CHARS:
        raise UserInputError(f"{name} is {len(text):,} characters; the limit is {MAX_CHARS:,} "
                             f"(at most {MAX_SIDE} x {MAX_SIDE} numbers).")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:  # a Python literal: also (1, 2) and 1e-3 forms; literal_eval never runs code
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise UserInputError(f"{name} could not be read as a matrix: write rows of numbers in square brackets, "
                             f"separated by commas, for example {EXAMPLE}.") from None


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _show(values: list) -> str:
    return ", ".join(str(x) for x in values[:MAX_SIDE]) + (", ..." if len(values) > MAX_SIDE else "")


def _round(x: float) -> float:
    return round(x, 4) + 0.0  # + 0.0 turns -0.0 into 0.0


def _rounded(matrix: list[list[float | None]]) -> list[list[float | None]]:
    return [[None if x is None else _round(x) for x in row] for row in matrix]
