"""Look inside speech recognition: which part of the audio each transcribed word came from, by Whisper's
cross-attention over time.

Whisper's encoder turns each 30 s window into 1,500 vectors, one per 20 ms of audio; every token the
decoder writes attends over them (cross-attention). One teacher-forced forward pass (the transcript
shown, read after the same start, language, task and no-timestamps tokens) gives, for each token, that
attention at the step that wrote it (the query is the token before); the weights are computed beside
the pass rather than by switching the model to eager attention (see `token_attention`). Averaged over
the checkpoint's alignment heads (the heads OpenAI found to follow the speech, in its generation
config; all heads of the upper half of the decoder when it names none), restricted to the frames of
real audio and renormalised, each token's row is a distribution over time (it sums to 1). A word's row
is the mean of its tokens' rows (Whisper's own word splitting). Its peak is the likeliest 20 ms frame
after a 100 ms moving average, its region the contiguous frames around the peak at half the peak's
height or more. That is where the model looked while writing the word: a good guide to where it was
said, not a timestamp (Whisper's word timestamps add dynamic time warping).

Long recordings: the tab's segments are grouped into 30 s windows again (each starts where the last
segment of the one before ended, as the long-form decoding seeks), up to MAX_WINDOWS, each cut from the
whole recording's features as the decoding cut it. Each window's encoder output is the one the run kept
(pipelines/inside/kept.py) when it is still there, else one encoder pass; then one decoder pass. A run on
CTranslate2 (a CPU's default, pipelines/engines/ct2_whisper.py) keeps none: its encoder output is the engine's
(int8 weights), and this view reads the checkpoint's own numbers from the torch model, so it runs the encoder.
"""

from __future__ import annotations

import math
import re

import numpy as np

from pipelines.inside import kept, local_bundle, rounded
from pipelines.readers import audio
from pipelines.tasks import speech

FRAME_S = 0.02  # one encoder position: 30 s / 1,500
SMOOTH = 5  # frames in the moving average before the peak is found (100 ms)
MAX_WINDOWS = 4  # 2 minutes: each window is one encoder pass (the goal is about 1 s for the examples)
ENVELOPE_BINS = 600  # points of the waveform's envelope sent to the view
CURVE_BINS = 150  # points of each word's attention over the whole recording, for the view's small curves


def explain(models, recording, task=speech.DEFAULTS.task, language=speech.DEFAULTS.language, model_id=None,
            timestamps=speech.DEFAULTS.timestamps, text="", rows=None, heard="") -> dict:
    """Each word of the transcript shown (`text`; the `rows` of its segments for long recordings) with its
    cross-attention over time, its peak and region; the waveform's envelope. `heard` is the tab's language
    line ("German (de), detected ..."): the language the transcript was decoded in."""
    request = speech.check(models, recording, task, language, model_id, timestamps)
    text = str(text or "").strip()
    if not text:
        return {"model_id": request.model_id, "message": "The transcript is empty: there is no word to place."}
    whisper = local_bundle(models, request.model_id)
    duration = audio.duration_s(request.samples)
    code = _heard_code(heard) or request.language
    if code is None and speech.is_multilingual(whisper):
        features, _ = speech._features(whisper, request.samples[: speech.WINDOW_S * audio.SAMPLE_RATE])
        code, _ = speech.detect_language(whisper, features)
    windows, notes = _windows(text, rows, duration)
    whole, read = speech._features(whisper, request.samples)
    words = []
    for start_s, said in windows:
        clip = request.samples[int(start_s * audio.SAMPLE_RATE): int((start_s + speech.WINDOW_S) * audio.SAMPLE_RATE)]
        features = window_features(whole, read, start_s)
        words += _window_words(whisper, features, clip, said, start_s, code or "en", request.task, notes)
    if request.task == "translate":
        notes.append("This is a translation: English words attend to speech in another language, so the "
                     "places are rougher than for a transcript.")
    return {"model_id": request.model_id, "duration": rounded(duration, 3), "language": code,
            "envelope": envelope(request.samples), "windows": len(windows),
            "words": [_for_view(w, duration) for w in words], "notes": notes}


def _heard_code(heard) -> str | None:
    found = re.search(r"\(([a-z]{2,3})\)", str(heard or ""))  # "German (de), detected with 93% confidence"
    return found.group(1) if found else None


def _windows(text: str, rows, duration: float) -> tuple[list[tuple[float, str]], list[str]]:
    """(start in seconds, text) of each 30 s window to read again, and notes."""
    rows = [r for r in (rows or []) if len(r) >= 3 and str(r[2]).strip()]
    if duration <= speech.WINDOW_S or not rows:
        cut = [] if duration <= speech.WINDOW_S else [f"Only the first {speech.WINDOW_S} s are read: the "
                                                      "segments that place the rest were not shown."]
        return [(0.0, text)], cut
    # As the long-form decoding read them: the first window at 0 s, each next one where the last complete
    # segment of the one before ended (its seek), holding the segments that end within its 30 s.
    windows: list[tuple[float, list[str]]] = []
    seek = 0.0
    for _start, end, said in rows:
        if windows and float(end) <= windows[-1][0] + speech.WINDOW_S:
            windows[-1][1].append(str(said).strip())
        else:
            windows.append((seek, [str(said).strip()]))
        seek = float(end)
    notes = []
    if len(windows) > MAX_WINDOWS:
        notes.append(f"Only the first {MAX_WINDOWS} windows of 30 s are shown (of {len(windows)}).")
    return [(start, " ".join(parts)) for start, parts in windows[:MAX_WINDOWS]], notes


def window_features(whole, read, start_s: float):
    """The log-mel features of the 30 s window from `start_s`, cut from the whole recording's as Whisper's
    long-form decoding cuts them (3,000 frames from the window's start, zeros past the frames `read`), so
    that the encoder reads what it read in the run. A recording of at most 30 s is one window already."""
    import torch

    if read is None:
        return whole
    seek, size = round(start_s * 100), speech.WINDOW_S * 100  # 100 feature frames a second
    part = whole[..., seek: min(seek + size, int(read[0].sum()))]
    return torch.nn.functional.pad(part, (0, size - part.shape[-1]))


def prompt_ids(whisper, code: str, task: str) -> list[int]:
    """The tokens every transcript is read after: start, language and task (multilingual models), no timestamps."""
    config = whisper.model.generation_config
    ids = [config.decoder_start_token_id]
    if speech.is_multilingual(whisper):
        ids += [config.lang_to_id[f"<|{code}|>"], config.task_to_id[task]]
    return ids + [config.no_timestamps_token_id]


def token_attention(whisper, features, prompt: list[int], tokens: list[int], frames: int):
    """(tokens, frames): for each text token, the alignment heads' cross-attention at the step that wrote it,
    over the first `frames` encoder positions, renormalised so that each row sums to 1.

    The model keeps its sdpa attention, which returns no weights: each alignment head's weights are
    computed from what its cross-attention module receives in the pass (the decoder's hidden states and
    the encoder's output), with the module's own projections, as eager attention computes them:
    softmax(q_proj(h) * scaling . k_proj(encoder)). Switching the model to eager instead would cost the
    encoder's 1,500-position self-attention 1.6x its sdpa time, here and in every later transcription of
    the tab (the switch stays). tests/test_look_inside_media.py checks both give the same weights."""
    import torch

    model = whisper.model
    heads = alignment_heads(whisper)
    decoder_layers = model.get_decoder().layers
    seen: dict[int, tuple] = {}

    def capture(layer: int):
        def hook(module, args, kwargs):
            seen[layer] = (args[0] if args else kwargs["hidden_states"], kwargs["key_value_states"])
        return hook

    hooks = [decoder_layers[layer].encoder_attn.register_forward_pre_hook(capture(layer), with_kwargs=True)
             for layer in sorted({layer for layer, _ in heads})]
    ids = torch.tensor([prompt + tokens], device=whisper.device)
    try:
        with torch.inference_mode():
            encoded = kept.encoder_output(whisper, features)  # the run's, when it is still kept
            if encoded is None:
                encoded = model.get_encoder()(features).last_hidden_state
            # The decoder alone: its cross-attention inputs are all we need, not the scores over the vocabulary.
            model.get_decoder()(input_ids=ids, encoder_hidden_states=encoded, use_cache=False)
            maps = []
            for layer, head in heads:
                attention, (hidden, memory) = decoder_layers[layer].encoder_attn, seen[layer]
                part = slice(head * attention.head_dim, (head + 1) * attention.head_dim)
                query = torch.nn.functional.linear(hidden[0], attention.q_proj.weight[part],
                                                   attention.q_proj.bias[part]) * attention.scaling
                key = torch.nn.functional.linear(memory[0], attention.k_proj.weight[part])  # k_proj has no bias
                maps.append((query @ key.T).float().softmax(-1))
    finally:
        for hook in hooks:
            hook.remove()
    cross = torch.stack(maps).mean(0)
    rows = cross[len(prompt) - 1: len(prompt) - 1 + len(tokens), :frames].cpu()  # query = the token before
    return rows / rows.sum(-1, keepdim=True).clamp_min(1e-12)


def alignment_heads(whisper) -> list[tuple[int, int]]:
    config = whisper.model.config
    named = getattr(whisper.model.generation_config, "alignment_heads", None)
    if named:
        return [(int(layer), int(head)) for layer, head in named]
    layers = config.decoder_layers
    return [(layer, head) for layer in range(layers // 2, layers) for head in range(config.decoder_attention_heads)]


def _window_words(whisper, features, clip, said: str, start_s: float, code: str, task: str,
                  notes: list) -> list[dict]:
    from transformers.models.whisper.tokenization_whisper import _combine_tokens_into_words

    tokenizer = whisper.tokenizer
    prompt = prompt_ids(whisper, code, task)
    tokens = tokenizer(" " + said, add_special_tokens=False)["input_ids"]
    room = whisper.model.config.max_target_positions - len(prompt)
    if len(tokens) > room:
        notes.append(f"A window's text has {len(tokens)} tokens; the decoder reads {room}: the rest is not placed.")
        tokens = tokens[:room]
    if not tokens:
        return []
    frames = max(1, min(whisper.model.config.max_source_positions, math.ceil(audio.duration_s(clip) / FRAME_S)))
    rows = token_attention(whisper, features, prompt, tokens, frames).numpy()
    language = speech.language_name(code).lower()
    words, _, indices = _combine_tokens_into_words(tokenizer, tokens, language)
    clip_end = start_s + audio.duration_s(clip)
    return [{"word": word.strip(), "row": rows[idx].mean(0), "start": start_s, "end": clip_end}
            for word, idx in zip(words, indices) if word.strip()]


def place(row: np.ndarray) -> tuple[int, int, int]:
    """(peak, first, last) frame of a word's attention row: the smoothed maximum, and the contiguous frames
    around it at half its height or more."""
    width = min(SMOOTH, row.size)
    smooth = np.convolve(row, np.ones(width) / width, mode="same")
    peak = int(smooth.argmax())
    half = smooth[peak] / 2
    first = peak
    while first > 0 and smooth[first - 1] >= half:
        first -= 1
    last = peak
    while last < row.size - 1 and smooth[last + 1] >= half:
        last += 1
    return peak, first, last


def _for_view(word: dict, duration: float) -> dict:
    """Times in seconds inside the recording, and the row binned over the whole recording (sums to 1)."""
    row, offset = word["row"], word["start"]
    peak, first, last = place(row)
    end = min(word["end"], duration)
    # Whole frames per bin (never fewer than one), so no bin is empty by rounding.
    frames = max(1, math.ceil(duration / FRAME_S))
    count = min(CURVE_BINS, frames)
    index = np.minimum(round(offset / FRAME_S) + np.arange(row.size), frames - 1)
    curve = np.bincount(index * count // frames, weights=row, minlength=count)
    return {"word": word["word"], "peak": rounded(min(offset + (peak + 0.5) * FRAME_S, end), 3),
            "start": rounded(min(offset + first * FRAME_S, end), 3),
            "end": rounded(min(offset + (last + 1) * FRAME_S, end), 3),
            "share": rounded(row[first:last + 1].sum()), "curve": [rounded(v) for v in curve]}


def envelope(samples: np.ndarray, bins: int = ENVELOPE_BINS) -> list[float]:
    """The loudest sample (absolute) in each of `bins` equal slices of the recording, for drawing it."""
    if samples.size == 0:
        return []
    edges = np.linspace(0, samples.size, min(bins, samples.size) + 1).astype(int)
    return [rounded(np.abs(samples[a:b]).max(), 3) for a, b in zip(edges[:-1], edges[1:])]

