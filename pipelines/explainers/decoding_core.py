"""The decoder step shared by the encoder-decoder page's text and speech halves (pipelines/explainers/
decoding.py, decoding_audio.py): check what to show, turn the output so far into token ids, run one
decoder forward pass with attention weights, and pick the candidates as greedy `generate` would.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from pipelines.core import checks
from pipelines.core.errors import UserInputError

MAX_OUTPUT_TOKENS = 128
DEFAULT_TOP_K = 5
MAX_TOP_K = 20
LAST, MEAN = "last", "mean"
DIGITS = 4  # attention weights and probabilities are rounded to this many decimals for the browser
CACHED_SOURCES = 4  # encoder outputs kept per model (whisper-base: 1,500 x 512 floats = 3 MB each)
CACHE_KEY = "decoding_encoder_cache"  # bundle.extras key


@dataclass(frozen=True)
class View:
    """Which attention map to send, and how many candidates."""
    layer: int | None  # a decoder layer (0-based; negative counts from the end); None: the last
    head: int | None  # a head (0-based); None: the mean over the heads
    top_k: int


@dataclass
class Decoder:
    """What every step of one request shares: the model, its encoder's output, and the decoder's rules."""
    bundle: Any
    encoder_outputs: Any  # the encoder's BaseModelOutput, computed once per request
    attention_mask: Any  # the source's mask (text), or None (audio: Whisper attends to all 1,500 frames)
    prompt: list[int]  # the decoder's start tokens (Marian: <pad>; Whisper: start, language, task, no timestamps)
    limit: int  # most output tokens after the prompt
    piece: Callable[[int], str]  # a token id as shown
    text: Callable[[list[int]], str]  # output ids as text


class EncoderCache:
    """The encoder's output for the last few sources of one model (see `encoded_once`)."""

    def __init__(self, size: int = CACHED_SOURCES):
        self._size, self._lock, self._items = size, threading.Lock(), OrderedDict()

    def get(self, key: str, compute):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()  # outside the lock: two different sources encode side by side
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def encoded_once(bundle, key: str, compute):
    """`compute()` (an encoder pass) for this source, or its result from the last few requests.

    A step re-runs the encoder on the same source every time (the server keeps no state), and the
    encoder is half of a translation step's time and nearly all of a first Whisper step's; so the last
    few results are kept beside the model (in `bundle.extras`: they go when the model is unloaded).
    That is a cache, not state: a request carries everything it needs, and a fresh server gives the
    same answer."""
    return bundle.extras.setdefault(CACHE_KEY, EncoderCache()).get(key, compute)


def check_view(layer=LAST, head=MEAN, top_k=DEFAULT_TOP_K) -> View:
    """The attention map and candidate count asked for; the layer and head ranges are checked against
    the model in `step` (they differ between models)."""
    return View(_index("Layer", layer, LAST), _index("Head", head, MEAN),
                checks.whole_number("Candidates", top_k, 1, MAX_TOP_K))


def _index(label: str, value, default: str) -> int | None:
    key = str(value if value is not None else "").strip().lower()
    if key in ("", default, "average" if default == MEAN else "-1"):
        return None
    try:
        number = float(key)
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        raise UserInputError(f"{label} must be a whole number (0 is the first) or {default!r}; got {value!r}.")
    return int(number)


def parse_ids(value) -> list[int] | None:
    """Output token ids as sent: a list of whole numbers, or its JSON text ("[3, 1045]"); None if none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise UserInputError("The output ids must be a list of whole numbers such as [3, 1045] (the "
                             "`next_output_ids` of the previous step), or empty to use the output text.")
    return value


def output_prefix(decoder: Decoder, output, output_ids, encode: Callable[[str], list[int]],
                  eos: set[int]) -> tuple[list[int], str]:
    """The output so far as token ids, and a note when the text and the ids disagreed (see the docstring)."""
    if output is not None and not isinstance(output, str):
        raise UserInputError(f"The output so far must be text; got {type(output).__name__}.")
    output, note = output or "", ""
    ids = parse_ids(output_ids)
    vocabulary = len(decoder.bundle.tokenizer)
    if ids is not None and output.strip() and output.strip() != decoder.text(ids).strip():
        ids, note = None, "The output text differs from the token ids sent with it: the text was used."
    if ids is None:
        ids = encode(output) if output.strip() else []
    bad = [i for i in ids if not 0 <= i < vocabulary]
    if bad:
        raise UserInputError(f"Output id {bad[0]} is outside the vocabulary (0 to {vocabulary - 1:,}).")
    if eos & set(ids):
        raise UserInputError("The output so far already holds the end-of-sequence token: it is finished. "
                             "Start over, or remove that token to continue.")
    if len(ids) >= decoder.limit:
        raise UserInputError(f"The output so far is {len(ids)} tokens; this page decodes at most "
                             f"{decoder.limit}. Start over, or shorten the output.")
    return ids, note


def probability(p: float) -> str:
    """A probability as a sentence shows it: three decimals, or "< 0.001"."""
    return "< 0.001" if p < 0.0005 else f"{p:.3f}"


def eos_ids(bundle) -> set[int]:
    found = bundle.model.generation_config.eos_token_id
    return set(found if isinstance(found, list) else [found])


def banned_ids(bundle, first: bool) -> list[int]:
    """Tokens greedy `generate` never picks at this position, from the generation config: Marian's
    `bad_words_ids` (<pad>), Whisper's `suppress_tokens` and, at the first output token, `begin_suppress_tokens`."""
    config = bundle.model.generation_config
    banned = [w[0] for w in (getattr(config, "bad_words_ids", None) or []) if len(w) == 1]
    banned += list(getattr(config, "suppress_tokens", None) or [])
    if first:
        banned += list(getattr(config, "begin_suppress_tokens", None) or [])
    return banned


def candidates(logits, banned: list[int], top_k: int) -> list[tuple[int, float]]:
    """(id, probability) of the top_k next tokens: softmax over the logits with the banned ids removed."""
    import torch

    logits = logits.float().clone()
    if banned:
        logits[torch.tensor(banned, dtype=torch.long)] = float("-inf")
    probs, ids = logits.softmax(-1).topk(top_k)
    return list(zip(ids.tolist(), probs.tolist()))


def reduce(maps, view: View) -> list[list[float]]:
    """One layer's attention (batch 1, heads, queries, keys) as a rounded queries x keys list."""
    chosen = maps[0].float().mean(0) if view.head is None else maps[0, view.head].float()
    return [[round(v, DIGITS) for v in row] for row in chosen.tolist()]


def check_layer_head(model, view: View) -> tuple[int, int, int]:
    """(layer, layers, heads) of the decoder, refusing a layer or head the model does not have."""
    layers, heads = model.config.decoder_layers, model.config.decoder_attention_heads
    layer = layers - 1 if view.layer is None else view.layer
    if not -layers <= layer < layers:
        raise UserInputError(f"Layer must be from 0 to {layers - 1} (this decoder has {layers} layers) or "
                             f"{LAST!r}; got {view.layer}.")
    if view.head is not None and not 0 <= view.head < heads:
        raise UserInputError(f"Head must be from 0 to {heads - 1} (each layer has {heads} heads) or "
                             f"{MEAN!r}; got {view.head}.")
    return layer % layers, layers, heads


def forward(decoder: Decoder, ids: list[int]):
    """Last position's logits and every decoder layer's self- and cross-attention, for prompt + ids."""
    import torch

    model = decoder.bundle.model
    kwargs = dict(encoder_outputs=decoder.encoder_outputs, output_attentions=True, use_cache=False,
                  decoder_input_ids=torch.tensor([ids], device=decoder.bundle.device))
    if decoder.attention_mask is not None:
        kwargs["attention_mask"] = decoder.attention_mask
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        kwargs["logits_to_keep"] = 1  # Marian: the vocabulary projection for the last position only
    with torch.inference_mode():
        out = model(**kwargs)
    return out.logits[0, -1], out.decoder_attentions, out.cross_attentions


def step(decoder: Decoder, output_ids: list[int], view: View, eos: set[int]) -> tuple[dict, Any]:
    """One decoder step after `output_ids`: the result dict (without the source side) and the chosen
    layer's cross-attention tensor, which the caller turns into source columns (tokens or time bins)."""
    layer, layers, heads = check_layer_head(decoder.bundle.model, view)
    ids = decoder.prompt + output_ids
    logits, selfs, crosses = forward(decoder, ids)
    top = candidates(logits, banned_ids(decoder.bundle, first=not output_ids), view.top_k)
    best = top[0][0]
    finished = best in eos
    following = output_ids if finished else output_ids + [best]
    chosen = decoder.piece(best)
    if finished:
        message = (f"The decoder's top choice is the end-of-sequence token {chosen} "
                   f"(p = {probability(top[0][1])}): the output is finished. Start over, or pick another candidate.")
    else:
        message = f"Step {len(following)}: the decoder chose {chosen!r} (p = {probability(top[0][1])})."
        if len(following) >= decoder.limit:
            message += (f" That is this page's limit of {decoder.limit} output tokens: it stops before an "
                        "end-of-sequence token.")
    result = {
        "output_tokens": [decoder.piece(i) for i in ids],
        "prompt_length": len(decoder.prompt),
        "output": decoder.text(output_ids),
        "output_ids": output_ids,
        "candidates": [{"token": decoder.piece(i), "id": i, "probability": round(p, DIGITS)} for i, p in top],
        "next": chosen,
        "next_id": best,
        "next_output": decoder.text(following),
        "next_output_ids": following,
        "done": finished or len(following) >= decoder.limit,
        "message": message,
        "layer": layer, "layers": layers, "head": MEAN if view.head is None else view.head, "heads": heads,
        "self_attention": reduce(selfs[layer], view),
    }
    return result, crosses[layer]


def steps(decoder: Decoder, output_ids: list[int], view: View, eos: set[int], count: int,
          columns: Callable[[Any, View], dict]) -> Iterator[dict]:
    """Up to `count` greedy steps from `output_ids` (the encoder ran once), each a complete result;
    stops after the step that finishes."""
    for _ in range(count):
        result, cross = step(decoder, output_ids, view, eos)
        result.update(columns(cross, view))
        yield result
        if result["done"]:
            return
        output_ids = result["next_output_ids"]
