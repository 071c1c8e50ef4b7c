"""Encoder-decoder models (Marian, BART, T5), shared by translation and summarization.

transformers 5 has no translation or summarization pipeline, so this is the part of them we need:
load with the Auto classes, split text into sentences and token windows, and run `generate` in
batches. Both tasks use this module's `load`, so they would share a copy of a model they both named.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, NamedTuple

from pipelines.core.bundle import Bundle, LoadRequest, load_pretrained, pin_attention
from pipelines.core.checks import Progress, no_progress
from pipelines.inside import kept

MAX_BEAMS = 8
# Said after the range when a beam count is refused (pipelines.core.checks.whole_number's `hint`).
BEAMS_HINT = "Use 1 for the fastest (greedy) output, 4 for the usual quality."
BATCH_SIZE = 8  # segments per generate call: big enough to use both cores, small enough to report progress

# Words whose trailing period does not end a sentence (English, German, French, Spanish).
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st vs etc e.g i.e no fig approx inc ltd jr sr sra srta mme mlle z.b u.a usw "
    "bzw ca nr hr fr str cf p.ex ud uds".split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'»”’)\]]*\s+")
_OPENERS = "\"'«“‘([¿¡"


def load(request: LoadRequest) -> Bundle:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    s2s = load_pretrained(request, AutoModelForSeq2SeqLM, AutoTokenizer)
    # "Look inside" and the decoding page read the decoder's cross-attention only, so they switch the model
    # to eager attention; the encoder's weights are never shown, and eager would make its self-attention
    # over a 1,024-token article slower in every later run of the tab: it stays on sdpa.
    if getattr(s2s.model, "_supports_sdpa", False):
        pin_attention(s2s.model.get_encoder(), "sdpa")
    return s2s


def window(s2s: Bundle) -> int:
    """The longest input, in tokens with the special ones, the encoder was trained on.

    BART and Marian have learned/sinusoidal positions (max_position_embeddings: 1024, 512). T5's are
    relative, so any length runs, but it was trained on 512 tokens (n_positions, model_max_length)."""
    config = s2s.model.config
    for value in (getattr(config, "max_position_embeddings", None), getattr(config, "n_positions", None),
                  getattr(s2s.tokenizer, "model_max_length", None)):
        if isinstance(value, int) and 0 < value < 100_000:  # tokenizers without a limit say ~1e30
            return value
    return 512


def token_count(s2s: Bundle, text: str, special_tokens: bool = True) -> int:
    # verbose=False: counting a long text is not "running it through the model", so no warning about it
    return len(s2s.tokenizer(text, add_special_tokens=special_tokens, verbose=False)["input_ids"])


def special_token_count(s2s: Bundle) -> int:
    """Tokens the tokenizer adds around any input (BART: <s> and </s>; Marian and T5: </s>)."""
    return token_count(s2s, "")


def split_sentences(text: str) -> list[str]:
    """Split on sentence-final punctuation followed by a capital, digit or opening quote, keeping
    abbreviations ("Dr. Smith", "z.B. Wasser") and German ordinals ("am 3. Oktober") together."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        following = text[match.end():match.end() + 1]
        if not following or not (following.isupper() or following.isdigit() or following in _OPENERS):
            continue
        before = text[start:match.start()].split()
        last_word = before[-1].lower() if before else ""
        if match.group().startswith(".") and not match.group().startswith("..") and (
                last_word.rstrip(".") in _ABBREVIATIONS or (last_word.isdigit() and len(last_word) <= 2)
                or (len(last_word) == 1 and last_word.isalpha())):
            continue
        sentences.append(text[start:match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    return [s for s in sentences if s] + ([tail] if tail else [])


def fit_to_window(s2s: Bundle, sentences: Iterable[str], budget: int) -> list[str]:
    """Pack consecutive sentences into pieces of at most `budget` tokens (special tokens excluded);
    a sentence longer than the budget on its own is cut between words."""
    pieces: list[str] = []
    current, current_tokens = "", 0
    for sentence in sentences:
        for part in cut_to_window(s2s, sentence, budget):
            tokens = token_count(s2s, part, special_tokens=False)
            if current and current_tokens + tokens + 1 > budget:  # +1: a joining space may be a token
                pieces.append(current)
                current, current_tokens = "", 0
            current = f"{current} {part}" if current else part
            current_tokens += tokens + (1 if current_tokens else 0)
    if current:
        pieces.append(current)
    return pieces


def cut_to_window(s2s: Bundle, sentence: str, budget: int) -> list[str]:
    """The sentence itself if it has at most `budget` tokens, else its halves (between words), recursively."""
    if token_count(s2s, sentence, special_tokens=False) <= budget:
        return [sentence]
    words = sentence.split()
    if len(words) == 1:  # one enormous "word" (a URL, a hash): cut its characters in half
        half = len(sentence) // 2
        return cut_to_window(s2s, sentence[:half], budget) + cut_to_window(s2s, sentence[half:], budget)
    first, second = " ".join(words[:len(words) // 2]), " ".join(words[len(words) // 2:])
    return cut_to_window(s2s, first, budget) + cut_to_window(s2s, second, budget)


class Output(NamedTuple):
    text: str
    tokens: int  # generated tokens, special ones (<s>, </s>, <pad>) not counted


def generate(s2s: Bundle, texts: list[str], *, max_new_tokens: int | Callable[[int], int],
             min_new_tokens: int = 0, num_beams: int = 4, progress: Progress = no_progress,
             **generate_kwargs) -> list[Output]:
    """Decode each text, BATCH_SIZE at a time, and return the outputs in the order of `texts`.

    Texts are batched by length so that little padding is computed. `max_new_tokens` may be a function
    of the batch's longest input (in tokens). Lengths are passed as min_length/max_length, which count
    the decoder's start token: passing *_new_tokens beside the checkpoint's own min/max_length (BART's
    56/142) would log a warning on every call. After each batch, `progress(fraction, "done/total")`: the
    task knows what the texts are (sentences, chunks) and rewords the message.
    """
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    outputs = [Output("", 0)] * len(texts)
    special = set(s2s.tokenizer.all_special_ids)
    longest_input = window(s2s)
    for done in range(0, len(order), BATCH_SIZE):
        batch = order[done:done + BATCH_SIZE]
        encoded = s2s.tokenizer([texts[i] for i in batch], return_tensors="pt", padding=True,
                                truncation=True, max_length=longest_input).to(s2s.device)
        longest = int(encoded["attention_mask"].sum(dim=1).max())
        limit = max_new_tokens(longest) if callable(max_new_tokens) else max_new_tokens
        # kept: "Look inside" (translation, summarization) reads each text's encoder output again.
        with torch.inference_mode(), kept.keeping_encoder_outputs(s2s, "input_ids"):
            ids = s2s.model.generate(**encoded, num_beams=num_beams, max_length=limit + 1,
                                     min_length=min(min_new_tokens, limit) + 1, **generate_kwargs)
        texts_out = s2s.tokenizer.batch_decode(ids, skip_special_tokens=True)
        for i, row, text in zip(batch, ids.tolist(), texts_out):
            outputs[i] = Output(text.strip(), sum(1 for t in row[1:] if t not in special))  # row[0]: start
        finished = min(done + BATCH_SIZE, len(order))
        progress(finished / len(order), f"{finished}/{len(order)}")
    return outputs
