"""The next-token page's inputs: limits, checks, and how a prompt becomes token ids and readable pieces.

Shared by the three endpoints (pipelines/explainers/next_token.py and next_token_lens.py). Every check
here runs before any model weights load: the token count needs only the tokenizer (a few MB).

A prompt is read as plain text by default, also by the chat model SmolLM2-135M-Instruct: the page is
about what a language model does with a text, and "The capital of France is" then continues with
" Paris" (77 % on the real weights). With `chat_template=True` the prompt is wrapped as a user message
(plus the assistant's turn marker) as the Text generation page does, and the next token is the first
token of the model's answer. GPT-2 has no chat template: it reads plain text either way (with a note).
Spaces around a prompt are dropped, as on the Text generation page: a trailing space would make the
model predict a word without its leading space, a rare token, which is not what a person means.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.core import checks
from pipelines.core.errors import UserInputError

EXAMPLE = "The capital of France is"
MAX_TOKENS = 128  # prompt limit: the page explains one step; longer texts only make the views scroll
TOP_N = 20  # candidates sent to the browser (the whole vocabulary is used for the numbers)
MAX_TEMPERATURE = 5.0
MAX_SAMPLES = 1000
DEFAULT_SAMPLES = 200
MAX_SEED = 2**32 - 1
LENS_TOP = 5  # tokens per layer in the logit lens
ALTERNATIVES = 3  # alternatives per token in the confidence strip
MAX_CONTINUATION = 64  # tokens the model may add before the strip colours the text
DIGITS = 4


@dataclass(frozen=True)
class Prompt:
    """A checked text and the token ids the model reads (the chat template applied if asked)."""
    model_id: str
    ids: tuple[int, ...]
    chat_template: bool  # True only when the template was applied
    notes: tuple[str, ...] = ()


def check_prompt(models, prompt, model_id, chat_template=False, what: str = "prompt",
                 example: str = EXAMPLE) -> Prompt:
    """A non-empty prompt of at most MAX_TOKENS tokens for a curated model; loads the tokenizer only."""
    use_chat = checks.yes_no("Use the chat template", chat_template)
    text = checks.text(what, prompt, models.settings.max_input_chars,
                       empty=f"Type a {what} first, for example: {example}")
    ckpt = models.checkpoint(model_id)
    tokenizer = models.tokenizer(ckpt.repo_id)
    count = len(tokenizer(text)["input_ids"])
    if count > MAX_TOKENS:
        raise UserInputError(f"The {what} is {count:,} tokens; this page reads at most {MAX_TOKENS}. Shorten it.")
    if count == 0:
        raise UserInputError(f"The {what} has no tokens for this model: type some words, for example: {example}")
    notes: tuple[str, ...] = ()
    templated = use_chat and "chat" in ckpt.traits and bool(getattr(tokenizer, "chat_template", None))
    if templated:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                            tokenize=True)
        ids = list(ids["input_ids"] if hasattr(ids, "keys") else ids)
    else:
        ids = tokenizer(text)["input_ids"]
        if use_chat:
            notes = (f"{ckpt.label} has no chat template: the prompt was read as plain text.",)
    return Prompt(ckpt.repo_id, tuple(int(i) for i in ids), templated, notes)


@dataclass(frozen=True)
class Settings:
    """Checked decoding settings of the next-token view."""
    temperature: float
    top_k: int  # 0: off
    top_p: float  # 1: off
    samples: int  # 0: none drawn
    seed: int


def check_settings(temperature, top_k, top_p, samples, seed, vocabulary: int) -> Settings:
    """The sampling settings as clean numbers, or a sentence naming the one out of range (top-k's upper
    limit is the model's vocabulary size)."""
    temperature = checks.number("Temperature", temperature, 0.0, MAX_TEMPERATURE,
                                hint="0 always picks the likeliest token.")
    top_k = checks.whole_number("Top-k", top_k, 0, vocabulary, hint="0 switches it off.")
    top_p = checks.number("Top-p", top_p, 0.0, 1.0)
    if top_p == 0:  # (0, 1]: with nothing kept there would be nothing to sample
        raise UserInputError(f"Top-p must be a number above 0 and at most 1; got {top_p:g}. 1 switches it off.")
    samples = checks.whole_number("Samples", samples, 0, MAX_SAMPLES, hint="0: no sampling.")
    seed = checks.whole_number("Seed", seed, 0, MAX_SEED)
    return Settings(temperature, top_k, top_p, samples, seed)


def check_next_token(models, prompt, model_id, temperature, top_k, top_p, samples, seed,
                     chat_template) -> tuple[Prompt, Settings]:
    """Every input of the next-token view, checked before the model loads (the tokenizer only)."""
    checked = check_prompt(models, prompt, model_id, chat_template)
    vocabulary = len(models.tokenizer(checked.model_id))
    return checked, check_settings(temperature, top_k, top_p, samples, seed, vocabulary)


def token_text(tokenizer, token_id: int) -> str:
    """One vocabulary entry as text (" Paris"); a piece of a multi-byte character, which decodes to
    U+FFFD alone, as the tokenizer's own piece instead (e.g. "âĢ")."""
    text = tokenizer.decode([token_id], skip_special_tokens=False, clean_up_tokenization_spaces=False)
    if "\ufffd" in text:
        return tokenizer.convert_ids_to_tokens(token_id)
    return text


def pieces(tokenizer, ids) -> list[str]:
    """Each token's share of the decoded text, so that the pieces join to the text exactly. A token that
    ends inside a multi-byte character (an emoji's first bytes) gets "" and the next one the character."""
    out, done = [], ""
    for end in range(1, len(ids) + 1):
        text = tokenizer.decode(list(ids[:end]), skip_special_tokens=False, clean_up_tokenization_spaces=False)
        if text.endswith("\ufffd") or not text.startswith(done):
            out.append("")
            continue
        out.append(text[len(done):])
        done = text
    return out


def rounded(value: float) -> float:
    return round(float(value), DIGITS)
