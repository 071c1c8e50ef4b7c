"""Speech to text, one token per request: Whisper's decoder over an audio clip (the encoder-decoder
page's second half; the step itself is pipelines/explainers/decoding_core.py).

    step = decoding_audio.decode_audio_step(models, "assets/audio/hello.wav", "")
    step["next"], step["seconds"][:3], step["cross_attention"][-1][:3]

Whisper's encoder always reads 30 s of log-mel features (a shorter clip is padded with silence) and
turns them into 1,500 frames of 20 ms. The decoder starts from the prompt
<|startoftranscript|><|en|><|transcribe|><|notimestamps|> (language and task as chosen; "detect" asks
the model for the language first, as the speech tab does), then the output so far. Cross-attention is
sent over the frames that hold the clip only, summed into at most MAX_BINS bins of time so the browser
gets a strip it can draw; `beyond_clip` is each row's share on the silent padding after the clip, so a
row's bins plus its `beyond_clip` add up to 1. `envelope` is the clip's peak level in each bin, to draw
the waveform beside the attention.

The encoder pass is the slow part (seconds for whisper-base on 2 CPU cores, against a tenth of that
for a decoder step), so its output is kept for the last few clips, keyed by their samples
(decoding_core.encoded_once).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from pipelines.core import checks
from pipelines.core.errors import UserInputError
from pipelines.explainers.decoding_core import (
    DEFAULT_TOP_K,
    DIGITS,
    LAST,
    MAX_OUTPUT_TOKENS,
    MEAN,
    Decoder,
    View,
    check_view,
    encoded_once,
    eos_ids,
    output_prefix,
    parse_ids,
    steps,
)
from pipelines.readers import audio as audio_reader
from pipelines.tasks import speech

MAX_CLIP_S = 30  # one Whisper window; the Speech tab transcribes longer recordings in windows
FRAME_S = 0.02  # seconds per encoder frame (1,500 frames = 30 s)
MAX_BINS = 150  # time bins sent to the browser


@dataclass(frozen=True)
class AudioRequest:
    samples: np.ndarray  # 16 kHz mono float32, at most MAX_CLIP_S
    output: str
    output_ids: Any
    language: str | None  # ISO code, None: detect
    task: str
    model_id: str
    view: View


def check(models, audio, output="", output_ids="", language="en", task="transcribe", layer=LAST,
          head=MEAN, top_k=DEFAULT_TOP_K, model_id=None) -> AudioRequest:
    """Every check that needs no model: the options, then the audio decoded and its length."""
    ckpt = models.checkpoint(model_id or next(c.repo_id for c in models.spec.checkpoints if c.family == "speech"))
    if ckpt.family != "speech":
        raise UserInputError(f"{ckpt.repo_id} reads text, not audio: use decode_step for text, or Whisper here.")
    view = check_view(layer, head, top_k)
    parse_ids(output_ids)
    if output is not None and not isinstance(output, str):
        raise UserInputError(f"The output so far must be text; got {type(output).__name__}.")
    task = checks.choice("Task", task or "transcribe", speech.TASKS,
                         hint="Transcribe keeps the spoken language; translate writes English.")
    code = speech.language_code(language)
    try:
        samples = audio_reader.decode(audio, MAX_CLIP_S)
    except UserInputError as exc:
        if "longer than the limit" in str(exc):  # say why this page, unlike the Speech tab, stops at 30 s
            raise UserInputError(f"{exc} Whisper's encoder sees 30 s at a time, and this page shows one such "
                                 "window; the Speech tab transcribes longer recordings.") from None
        raise
    return AudioRequest(samples, output or "", output_ids, code, task, ckpt.repo_id, view)


def _encoded(bundle, samples: np.ndarray):
    import torch

    def compute():
        extractor = bundle.processor.feature_extractor  # pads a short clip with silence to 30 s
        features = extractor(samples, sampling_rate=audio_reader.SAMPLE_RATE, return_tensors="pt")
        with torch.inference_mode():
            return bundle.model.get_encoder()(features.input_features.to(bundle.device, bundle.model.dtype))

    return encoded_once(bundle, "audio:" + hashlib.sha1(samples.tobytes()).hexdigest(), compute)


def _language(bundle, encoder_outputs) -> str:
    """The language Whisper hears: one decoder step after <|startoftranscript|>, the likeliest language
    token (as pipelines.tasks.speech.detect_language, on the encoder output already computed)."""
    import torch

    config = bundle.model.generation_config
    start = torch.tensor([[config.decoder_start_token_id]], device=bundle.device)
    with torch.inference_mode():
        logits = bundle.model(encoder_outputs=encoder_outputs, decoder_input_ids=start, use_cache=False).logits[0, -1]
    tokens, ids = zip(*config.lang_to_id.items())
    return tokens[int(logits[list(ids)].argmax())].strip("<|>")


def _piece(tokenizer, token_id: int) -> str:
    """A token as text, with a leading space shown as ▁ (as in SentencePiece) so that word starts show."""
    text = tokenizer.decode([token_id])
    return "▁" + text[1:] if text.startswith(" ") else text


def audio_decoder(models, request: AudioRequest) -> tuple[Decoder, str]:
    """The decoder for a clip (the encoder runs here, or comes from the cache), and its language code."""
    bundle = models.get(request.model_id, attention="eager").bundle
    tokenizer, model = bundle.tokenizer, bundle.model
    encoder_outputs = _encoded(bundle, request.samples)
    language = request.language or _language(bundle, encoder_outputs)
    config = model.generation_config
    if f"<|{language}|>" not in config.lang_to_id:
        raise UserInputError(f"{speech.language_name(language)} is not one of this model's languages.")
    prompt = [config.decoder_start_token_id, config.lang_to_id[f"<|{language}|>"], config.task_to_id[request.task],
              config.no_timestamps_token_id]
    limit = min(MAX_OUTPUT_TOKENS, model.config.max_target_positions - len(prompt))
    decoder = Decoder(bundle, encoder_outputs, None, prompt, limit, lambda i: _piece(tokenizer, i),
                      lambda ids: tokenizer.decode(ids, skip_special_tokens=True))
    return decoder, language


def time_bins(samples: np.ndarray, encoder_frames: int) -> tuple[list[int], list[float], list[float]]:
    """Frame edges of the bins over the clip's frames, their times in seconds, and the clip's peak level
    in each bin."""
    frames = max(1, min(encoder_frames, math.ceil(audio_reader.duration_s(samples) / FRAME_S)))
    edges = np.linspace(0, frames, min(MAX_BINS, frames) + 1).round().astype(int).tolist()
    per_frame = round(FRAME_S * audio_reader.SAMPLE_RATE)
    envelope = []
    for start, end in zip(edges, edges[1:]):
        chunk = samples[start * per_frame: end * per_frame]
        envelope.append(round(float(np.abs(chunk).max()) if chunk.size else 0.0, 3))
    return edges, [round(e * FRAME_S, 2) for e in edges], envelope


def run_audio(models, request: AudioRequest, count: int = 1) -> Iterator[dict]:
    """Up to `count` greedy steps for a checked request (the encoder runs once, or not), each a complete result."""
    decoder, language = audio_decoder(models, request)
    eos = eos_ids(decoder.bundle)
    tokenizer = decoder.bundle.tokenizer
    ids, note = output_prefix(decoder, request.output, request.output_ids,
                              lambda text: tokenizer.encode(text, add_special_tokens=False), eos)
    encoder_frames = decoder.encoder_outputs.last_hidden_state.shape[1]
    edges, seconds, envelope = time_bins(request.samples, encoder_frames)

    def columns(cross, view: View) -> dict:
        maps = (cross[0].mean(0) if view.head is None else cross[0, view.head]).double().numpy()
        # Bin sums as differences of cumulative sums, one pass for all bins; float64 so they add up.
        cumulative = np.concatenate([np.zeros((maps.shape[0], 1)), maps.cumsum(-1)], axis=1)
        at_edges = cumulative[:, edges]
        binned = [[round(float(v), DIGITS) for v in row] for row in np.diff(at_edges, axis=1)]
        beyond = [round(float(v), DIGITS) for v in cumulative[:, -1] - at_edges[:, -1]]
        return {"cross_attention": binned, "beyond_clip": beyond, "seconds": seconds, "envelope": envelope,
                "frames": edges[-1], "encoder_frames": encoder_frames, "frame_seconds": FRAME_S,
                "duration_s": round(audio_reader.duration_s(request.samples), 2), "language": language,
                "task": request.task, "model_id": request.model_id, "note": note}

    yield from steps(decoder, ids, request.view, eos, count, columns)


def decode_audio_step(models, audio, output="", output_ids="", language="en", task="transcribe", layer=LAST,
                      head=MEAN, top_k=DEFAULT_TOP_K, model_id=None) -> dict:
    """One decoder step of Whisper over an audio clip after the output so far ("" to start)."""
    request = check(models, audio, output, output_ids, language, task, layer, head, top_k, model_id)
    return next(run_audio(models, request, 1))


def finish_audio(models, audio, output="", output_ids="", language="en", task="transcribe", layer=LAST,
                 head=MEAN, top_k=DEFAULT_TOP_K, model_id=None) -> Iterator[dict]:
    """Greedy steps from the output so far until end-of-text (or the limit), one result per step."""
    request = check(models, audio, output, output_ids, language, task, layer, head, top_k, model_id)
    yield from run_audio(models, request, MAX_OUTPUT_TOKENS)
