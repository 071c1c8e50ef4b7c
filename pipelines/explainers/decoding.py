"""Encoder-decoder decoding, one token per request: the course's chapter 5 (Encoder and Decoder),
with chapter 2's self- vs cross-attention (2.4) and encoder-decoder structure (2.6).

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.explainers import decoding
    models = ModelManager(Settings(model_source="tiny")).task("decoding")
    step = decoding.decode_step(models, "Good morning!", "")
    step["next"], step["candidates"][0]
    step = decoding.decode_step(models, "Good morning!", step["next_output"], output_ids=step["next_output_ids"])

The server keeps no state: each request carries the output so far, and the server runs the encoder
over the source and one decoder forward pass over the decoder's start token(s) plus that output, with
attention weights. The answer is the step: the decoder's masked self-attention (over the output so far)
and cross-attention (over the source), one layer at a time (default: the last, averaged over heads),
the top candidates for the next token, and the output with the top candidate appended.

The output so far comes as text (`output`) and, optionally, as token ids (`output_ids`: a JSON list
such as "[3, 1045]"). Text is convenient but not exact: the model may have written "Mor" + "gen" where
the tokenizer would write "Morgen", and the next step would then read other tokens. So every answer
carries `next_output_ids`, and a client that sends them back steps exactly as greedy `generate` does
(tests/test_decoding.py checks it). The ids are used when `output` is empty or is their text; a
different text means a person edited it: the text wins and the answer's note says so.

Candidates are the probabilities of the next token after the checkpoint's generation config has
removed what it never lets the model write (Marian: <pad>; Whisper: non-speech symbols, and a blank
or end-of-text as the first token): the rules greedy `generate` applies, so the top candidate is what
`generate` would write. Decoding stops at the end-of-sequence token or after MAX_OUTPUT_TOKENS.
Speech (Whisper over an audio clip) lives in decoding_audio.py and shares the step below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from pipelines.core import checks
from pipelines.core.errors import UserInputError

# The page's speech half, here too: the registry names this module for both endpoints.
from pipelines.explainers.decoding_audio import decode_audio_step, finish_audio
from pipelines.explainers.decoding_core import (
    DEFAULT_TOP_K,
    LAST,
    MAX_OUTPUT_TOKENS,
    MAX_TOP_K,
    MEAN,
    Decoder,
    View,
    check_view,
    encoded_once,
    eos_ids,
    output_prefix,
    parse_ids,
    reduce,
    steps,
)

__all__ = ["DEFAULT_TOP_K", "EXAMPLE", "LAST", "MAX_OUTPUT_TOKENS", "MAX_SOURCE_TOKENS", "MAX_TOP_K", "MEAN",
           "check", "decode_audio_step", "decode_step", "finish", "finish_audio", "run", "with_token"]
EXAMPLE = "Good morning!"
MAX_SOURCE_TOKENS = 128  # the page's limit: a sentence or two, whose attention maps stay readable


@dataclass(frozen=True)
class TextRequest:
    text: str
    output: str
    output_ids: Any
    model_id: str
    view: View


def check(models, text, output="", model_id=None, output_ids="", layer=LAST, head=MEAN,
          top_k=DEFAULT_TOP_K) -> TextRequest:
    """Every check that needs no model weights (the token count needs only the tokenizer)."""
    ckpt = models.checkpoint(model_id)
    if ckpt.family != "encoder-decoder":
        text_models = ", ".join(c.repo_id for c in models.spec.checkpoints if c.family == "encoder-decoder")
        raise UserInputError(f"{ckpt.repo_id} reads audio, not text: give it a recording (decode_audio_step), "
                             f"or choose a text model: {text_models}.")
    text = checks.text("text", text, models.settings.max_input_chars,
                       empty=f"Type a sentence to translate, for example: {EXAMPLE}")
    view = check_view(layer, head, top_k)
    parse_ids(output_ids)
    if output is not None and not isinstance(output, str):
        raise UserInputError(f"The output so far must be text; got {type(output).__name__}.")
    count = len(models.tokenizer(ckpt.repo_id)(text, verbose=False)["input_ids"])
    if count > MAX_SOURCE_TOKENS:
        raise UserInputError(f"The text is {count} tokens; this page reads at most {MAX_SOURCE_TOKENS} "
                             "(a sentence or two) so that its attention maps stay readable. Shorten it.")
    return TextRequest(text, output or "", output_ids, ckpt.repo_id, view)


def text_decoder(models, request: TextRequest) -> tuple[Decoder, list[str]]:
    """The decoder for a source text (the encoder runs here, once), and the source tokens."""
    import torch

    bundle = models.get(request.model_id, attention="eager").bundle
    tokenizer, model = bundle.tokenizer, bundle.model

    def compute():
        encoded = tokenizer(request.text, return_tensors="pt", verbose=False).to(bundle.device)
        with torch.inference_mode():
            return encoded, model.get_encoder()(**encoded)

    encoded, encoder_outputs = encoded_once(bundle, "text:" + request.text, compute)
    positions = getattr(model.config, "max_position_embeddings", 512)
    decoder = Decoder(bundle, encoder_outputs, encoded["attention_mask"], [model.config.decoder_start_token_id],
                      min(MAX_OUTPUT_TOKENS, positions - 1), lambda i: tokenizer.convert_ids_to_tokens(i),
                      lambda ids: tokenizer.decode(ids, skip_special_tokens=True))
    return decoder, tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())


def target_ids(tokenizer, text: str) -> list[int]:
    """A translation's text as target-language token ids, without the end-of-sequence token.

    Marian keeps a source and a target SentencePiece model; `tokenizer(text_target=...)` switches the one
    shared tokenizer to the target model and back, which the translation tab, using the same tokenizer
    at the same time, could catch half-way. With one joint vocabulary (the opus-mt models here) the
    target model's pieces map to ids directly, and nothing is switched."""
    target = getattr(tokenizer, "spm_target", None)
    if target is not None and not getattr(tokenizer, "separate_vocabs", True):
        return tokenizer.convert_tokens_to_ids(target.encode(text, out_type=str))
    return tokenizer(text_target=text, add_special_tokens=False)["input_ids"]


def run(models, request: TextRequest, count: int = 1) -> Iterator[dict]:
    """Up to `count` greedy steps for a checked request (the encoder runs once), each a complete result."""
    decoder, source_tokens = text_decoder(models, request)
    eos = eos_ids(decoder.bundle)
    ids, note = output_prefix(decoder, request.output, request.output_ids,
                              lambda text: target_ids(decoder.bundle.tokenizer, text), eos)

    def columns(cross, view: View) -> dict:
        return {"source_tokens": source_tokens, "cross_attention": reduce(cross, view),
                "model_id": request.model_id, "note": note}

    yield from steps(decoder, ids, request.view, eos, count, columns)


def decode_step(models, text, output="", model_id=None, output_ids="", layer=LAST, head=MEAN,
                top_k=DEFAULT_TOP_K) -> dict:
    """One decoder step of a translation model after the output so far ("" to start)."""
    request = check(models, text, output, model_id, output_ids, layer, head, top_k)  # bad input: no model loads
    return next(run(models, request, 1))


def finish(models, text, output="", model_id=None, output_ids="", layer=LAST, head=MEAN,
           top_k=DEFAULT_TOP_K) -> Iterator[dict]:
    """Greedy steps from the output so far until end-of-sequence (or the limit), one result per step."""
    request = check(models, text, output, model_id, output_ids, layer, head, top_k)
    yield from run(models, request, MAX_OUTPUT_TOKENS)


def with_token(models, model_id, output_ids, token_id) -> dict:
    """The output with `token_id` appended instead of the model's top choice (the page's "pick another
    candidate"): its text and ids, from the tokenizer alone. End-of-sequence appends nothing and says done."""
    ckpt = models.checkpoint(model_id)
    tokenizer = models.tokenizer(ckpt.repo_id)
    ids = parse_ids(output_ids) or []
    token = checks.whole_number("Candidate id", token_id, 0, len(tokenizer) - 1)
    eos = {tokenizer.eos_token_id}
    done = token in eos
    ids = ids if done else ids + [token]
    return {"output": tokenizer.decode(ids, skip_special_tokens=True), "output_ids": ids, "done": done}
