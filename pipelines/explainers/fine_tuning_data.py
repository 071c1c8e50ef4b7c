"""The fine-tuning page's labelled data: 320 short reviews we wrote (assets/texts/sentiment_reviews.csv),
split once into training and validation, and turned into token ids.

The file alternates a positive and a negative review on the same kind of thing (headphones, a hotel, a
film...). Every fifth pair goes to validation: 256 training and 64 validation reviews, both halves
balanced (50 % positive), so chance is 50 % and no seed moves a review from one side to the other.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

REVIEWS = Path(__file__).resolve().parents[2] / "assets" / "texts" / "sentiment_reviews.csv"
LABELS = ("negative", "positive")  # class index -> name; the head's two outputs, in this order
VALIDATION_EVERY = 5  # every fifth (negative, positive) pair is held out


@dataclass(frozen=True)
class Split:
    texts: tuple[str, ...]
    labels: tuple[int, ...]  # indices into LABELS

    def __len__(self) -> int:
        return len(self.texts)


@functools.cache  # the file never changes while the app runs: read it once
def splits() -> tuple[Split, Split]:
    """(training, validation)."""
    with REVIEWS.open(encoding="utf-8", newline="") as handle:
        rows = [(LABELS.index(row["label"]), row["text"].strip()) for row in csv.DictReader(handle)]
    train, held = [], []
    for index, row in enumerate(rows):
        (held if (index // 2) % VALIDATION_EVERY == VALIDATION_EVERY - 1 else train).append(row)
    return _split(train), _split(held)


def _split(rows: list[tuple[int, str]]) -> Split:
    return Split(tuple(text for _, text in rows), tuple(label for label, _ in rows))


@dataclass(frozen=True)
class Batch:
    """Token ids of some texts, padded to the longest: ids and mask are [count, length] tensors."""
    ids: object
    mask: object
    labels: object  # [count] long tensor


def encode(tokenizer, split: Split, device: str = "cpu") -> Batch:
    """A whole split as one padded batch (reviews are short: about 15 tokens, at most 30)."""
    import torch

    encoded = tokenizer(list(split.texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
    return Batch(encoded["input_ids"].to(device), encoded["attention_mask"].to(device),
                 torch.tensor(split.labels, dtype=torch.long, device=device))
