"""Fill-mask: the words a masked language model (BERT) expects where a sentence has a gap.

The course's chapter 8 example: "The [MASK] chased the mouse." -> cat, dog, ... with probabilities.
BERT reads the whole sentence in both directions and predicts every mask in one forward pass; each
mask's candidates are the top of the softmax over the vocabulary at its position. A gap may be typed
as [MASK], <mask> or ___ (three or more underscores); up to MAX_MASKS gaps per text.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import fill_mask
    models = ModelManager(Settings(model_source="tiny")).task("fill-mask")
    result = fill_mask.fill(models, "The [MASK] chased the mouse.")
    [(c.token, round(c.probability, 3), c.sentence) for c in result.masks[0].candidates]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.core import checks
from pipelines.core.bundle import Bundle, LoadRequest, load_pretrained
from pipelines.core.errors import UserInputError

EXAMPLE = "The [MASK] chased the mouse."
MAX_MASKS = 5  # each mask is one more row of results; more gaps than words leave BERT guessing blind
DEFAULT_TOP_K = 5
MAX_TOP_K = 20
# How people type a gap: BERT's own token, RoBERTa's, or a blank to fill in (three or more underscores).
GAP = re.compile(r"\[mask\]|<mask>|_{3,}", re.IGNORECASE)
SLOT = "\x00"  # a gap in the checked text, replaced by the model's own mask token before tokenizing


@dataclass(frozen=True)
class Request:
    text: str  # the text with each gap as SLOT
    gaps: int
    model_id: str
    top_k: int


@dataclass(frozen=True)
class Candidate:
    token: str  # the vocabulary piece as the model has it ("##s" continues the word before it)
    probability: float
    sentence: str  # the text with this candidate in its gap (other gaps: their likeliest candidate)


@dataclass(frozen=True)
class Gap:
    candidates: tuple[Candidate, ...]  # likeliest first


@dataclass(frozen=True)
class FillMaskResult:
    gaps: tuple[Gap, ...]  # in the order they appear in the text
    tokens: int  # length of the model's input, special tokens included
    notes: tuple[str, ...] = ()


def load(request: LoadRequest) -> Bundle:
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    return load_pretrained(request, AutoModelForMaskedLM, AutoTokenizer)


def check(models, text: str, model_id: str | None = None, top_k=DEFAULT_TOP_K) -> Request:
    text = checks.text("text", text, models.settings.max_input_chars,
                       empty=f"Type a sentence with [MASK] where a word is missing, for example: {EXAMPLE}")
    text = text.replace(SLOT, "")  # a NUL is no character a person means; it would pose as a gap below
    slotted, gaps = GAP.subn(SLOT, text)
    if gaps == 0:
        raise UserInputError("The text has no [MASK]. Put [MASK] (or <mask>, or ___) where the missing word "
                             f"goes, for example: {EXAMPLE}")
    if gaps > MAX_MASKS:
        raise UserInputError(f"The text has {gaps} masks; the limit is {MAX_MASKS}. Keep the words around each "
                             "gap: the model guesses a word from its context.")
    top_k = checks.whole_number("Candidates per mask", top_k, 1, MAX_TOP_K)
    return Request(slotted, gaps, models.checkpoint(model_id).repo_id, top_k)


def run(models, request: Request) -> FillMaskResult:
    import torch

    bundle = models.bundle(request.model_id)
    tokenizer, model = bundle.tokenizer, bundle.model
    encoded = tokenizer(request.text.replace(SLOT, tokenizer.mask_token), return_tensors="pt")
    ids = encoded["input_ids"]
    window = model.config.max_position_embeddings
    if ids.shape[1] > window:
        raise UserInputError(f"The text is {ids.shape[1]:,} tokens; this model reads at most {window}. "
                             "Keep a sentence or two around each gap.")
    positions = (ids[0] == tokenizer.mask_token_id).nonzero().flatten().tolist()
    if len(positions) != request.gaps:  # e.g. a gap glued to a word the tokenizer splits differently
        raise UserInputError("A [MASK] could not be told apart from the words around it: put spaces around it.")
    with torch.inference_mode():
        logits = model(**encoded.to(bundle.device)).logits[0, positions].float()
    probs, top = logits.softmax(-1).topk(request.top_k, dim=-1)
    pieces = [[(tokenizer.convert_ids_to_tokens(int(i)), float(p)) for p, i in zip(row_p, row_i)]
              for row_p, row_i in zip(probs.tolist(), top.tolist())]
    best = [row[0][0] for row in pieces]
    gaps = tuple(Gap(tuple(Candidate(token, p, _filled(request.text, best, g, token)) for token, p in row))
                 for g, row in enumerate(pieces))
    notes = ()
    if request.gaps > 1:
        notes = ("The model predicts every mask at once, each without knowing the others' words; a sentence "
                 "shows one mask's candidate with the other masks' likeliest words.",)
    return FillMaskResult(gaps, int(ids.shape[1]), notes)


def fill(models, text: str, model_id: str | None = None, top_k=DEFAULT_TOP_K) -> FillMaskResult:
    """check() then run(): the whole task in one call."""
    return run(models, check(models, text, model_id, top_k))


def _filled(text: str, best: list[str], gap: int, token: str) -> str:
    """The text with `token` in gap number `gap` and each other gap's likeliest piece in its own."""
    words = [token if i == gap else b for i, b in enumerate(best)]
    parts = text.split(SLOT)
    out = parts[0]
    for word, after in zip(words, parts[1:]):
        if word.startswith("##"):  # a word piece continues the word before it: no space
            out = out.rstrip() + word[2:]
        else:
            out += word
        out += after
    return out
