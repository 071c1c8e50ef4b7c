"""The toy task of chapter 11, made big enough to learn from: reverse a sentence of words.

Sentences are 2 to 8 words drawn at random (with repeats) from a vocabulary of 24 words, so any
sentence a person types from these words is one the model can be asked about. A fixed set of 200
sentences (the same for every run and seed, drawn with their own seed) is held out: training never
sees them, and the exact-match accuracy on them says whether the model learned to reverse or only
remembered what it saw. The probe sentence, whose cross-attention the page draws while training,
is one of them.

Tokens are whole words: a source is its words then EOS; the decoder reads BOS then the reversed
words (teacher forcing) and must predict the reversed words then EOS.
"""

from __future__ import annotations

import functools
import random
import re

from pipelines.core.errors import UserInputError

SPECIALS = ("<pad>", "<s>", "</s>")  # PAD, BOS, EOS in build_transformer_model
WORDS = ("the", "a", "cat", "dog", "bird", "fish", "fox", "mouse", "sun", "tree", "sees", "likes", "chases",
         "eats", "finds", "runs", "sleeps", "big", "small", "red", "blue", "old", "happy", "and")
VOCAB = SPECIALS + WORDS
INDEX = {word: i for i, word in enumerate(VOCAB)}
MIN_WORDS, MAX_WORDS = 2, 8
MAX_LEN = MAX_WORDS + 1  # the longest source or target: 8 words and EOS
HELD_OUT_SIZE = 200
HELD_OUT_SEED = 2026  # the held-out sentences' own seed: the same set whatever the training seed
PROBE = ("the", "small", "cat", "sees", "a", "big", "red", "dog")
EXAMPLES = ("the cat sees a dog", "a big red fox chases the small mouse", "happy bird", "the sun and the tree",
            "old fish eats blue fish")
PUNCTUATION = re.compile(r"[.,;:!?\"']")


def random_sentence(rng: random.Random) -> tuple[str, ...]:
    return tuple(rng.choice(WORDS) for _ in range(rng.randint(MIN_WORDS, MAX_WORDS)))


@functools.cache
def held_out() -> tuple[tuple[str, ...], ...]:
    """The held-out sentences, the probe first; all distinct."""
    rng = random.Random(HELD_OUT_SEED)
    chosen = {PROBE: None}
    while len(chosen) < HELD_OUT_SIZE:
        chosen.setdefault(random_sentence(rng), None)
    return tuple(chosen)


@functools.cache
def held_out_set() -> frozenset[tuple[str, ...]]:
    return frozenset(held_out())


def words_of(text) -> tuple[str, ...]:
    """A typed sentence as vocabulary words (case and punctuation ignored), or a sentence saying what to type."""
    if not isinstance(text, str) and text is not None:
        raise UserInputError(f"The sentence must be text; got {type(text).__name__}.")
    words = tuple(PUNCTUATION.sub(" ", text or "").lower().split())
    if not words:
        raise UserInputError(f"Type a sentence of {MIN_WORDS} to {MAX_WORDS} words from the toy vocabulary, "
                             f"for example: {EXAMPLES[0]}")
    unknown = list(dict.fromkeys(w for w in words if w not in INDEX or w in SPECIALS))
    if unknown:
        raise UserInputError(f"The model knows only its {len(WORDS)} toy words; not: {', '.join(unknown[:8])}. "
                             f"Use these: {' '.join(WORDS)}.")
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        plural = "s" if len(words) != 1 else ""
        raise UserInputError(f"The sentence has {len(words)} word{plural}; the model was trained on {MIN_WORDS} to "
                             f"{MAX_WORDS}. Type {MIN_WORDS} to {MAX_WORDS} words, for example: {EXAMPLES[0]}")
    return words


def encode(sentences) -> tuple:
    """Sources, decoder inputs and targets as padded (batch, MAX_LEN) id tensors."""
    import torch

    src, tgt_in, tgt_out = [], [], []
    for words in sentences:
        ids = [INDEX[w] for w in words]
        pad = [0] * (MAX_LEN - len(ids) - 1)
        src.append(ids + [2] + pad)  # 2 = EOS, 1 = BOS, 0 = PAD
        tgt_in.append([1] + ids[::-1] + pad)
        tgt_out.append(ids[::-1] + [2] + pad)
    return torch.tensor(src), torch.tensor(tgt_in), torch.tensor(tgt_out)


class Batches:
    """Endless training batches from one seed; a held-out sentence is drawn again, never trained on."""

    def __init__(self, seed: int, size: int):
        self.rng, self.size = random.Random(seed), size
        self.banned = held_out_set()

    def next(self) -> tuple:
        sentences = []
        while len(sentences) < self.size:
            sentence = random_sentence(self.rng)
            if sentence not in self.banned:
                sentences.append(sentence)
        return encode(sentences)


def decode(ids) -> tuple[str, ...]:
    """Ids up to (not including) the first EOS, as words; a special token where one is written."""
    words = []
    for i in ids:
        if i == 2:
            break
        words.append(VOCAB[i] if 0 <= i < len(VOCAB) else "?")
    return tuple(words)
