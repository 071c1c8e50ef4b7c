"""Speech transcription and translation to English with Whisper, for recordings of any length.

    from pipelines.core.loading import ModelManager
    from pipelines.core.settings import Settings
    from pipelines.tasks import speech
    models = ModelManager(Settings(model_source="tiny")).task("speech")
    result = speech.transcribe(models, "assets/audio/german.wav", task="translate", language="detect")
    result.text, result.segments, result.language

check() validates the options and decodes the file (pipelines.readers.audio) without a model; run()
loads it, detects the language on the first 30 s unless one was chosen, then decodes.

Audio longer than 30 s uses Whisper's own sequential long-form algorithm (`generate` on all the
features): each 30 s window is decoded with timestamp tokens and the next one starts at the last complete
segment, so no word is cut at a window edge (the ASR pipeline's `chunk_length_s` stitches overlapping
chunks instead: faster in GPU batches, no better on a 2-core CPU). Decoding is greedy without temperature
fallback: the same input gives the same transcript. A runaway model (one that keeps ending segments after
a few tenths of a second, as a random miniature can) is caught by a window budget and decoded in fixed
windows.

On a CPU the model runs on CTranslate2 where it is installed (pipelines/engines/ct2_whisper.py: about 0.4x the
time, the same words; `--engine torch` keeps transformers): the loader puts it beside the torch model, and
detection and decoding go to it, with the same features, prompts, token limits, window budget and segments.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass, replace

import numpy as np

from pipelines.core import checks
from pipelines.core.bundle import Bundle, LoadRequest, load_pretrained, pin_attention
from pipelines.core.checks import Progress, no_progress
from pipelines.core.errors import UserInputError
from pipelines.engines import ct2_whisper
from pipelines.inside import kept
from pipelines.readers import audio

log = logging.getLogger(__name__)
TASKS = ("transcribe", "translate")
DETECT = "detect"
# Whisper's 20 best-covered languages (its language tokens are ordered by hours of training audio).
# The dropdown offers these; the API also accepts any of Whisper's 99 codes or English names.
COMMON_LANGUAGES = (
    ("en", "English"), ("zh", "Chinese"), ("de", "German"), ("es", "Spanish"), ("ru", "Russian"),
    ("ko", "Korean"), ("fr", "French"), ("ja", "Japanese"), ("pt", "Portuguese"), ("tr", "Turkish"),
    ("pl", "Polish"), ("ca", "Catalan"), ("nl", "Dutch"), ("ar", "Arabic"), ("sv", "Swedish"),
    ("it", "Italian"), ("id", "Indonesian"), ("hi", "Hindi"), ("fi", "Finnish"), ("vi", "Vietnamese"),
)
WINDOW_S = 30  # Whisper sees 30 s at a time (3,000 mel frames, 1,500 encoder positions)
# openai/whisper's `sample_len`: at most half the 448-token decoder context per window. Real speech
# needs about 150 tokens per 30 s; the cap bounds the cost of a model that never stops.
MAX_NEW_TOKENS = 224
# Long-form decoding may restart a window at the last finished segment; allow an average advance of
# 7.5 s per window before switching to fixed windows (real speech advances about 25 s per window).
WINDOWS_PER_30S = 4


@dataclass(frozen=True)
class Defaults:
    """What the tab shows first and the API uses for parameters left out."""
    task: str = "transcribe"
    language: str = DETECT
    timestamps: bool = True


DEFAULTS = Defaults()


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the beginning of the recording
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: tuple[Segment, ...]  # empty when timestamps were not asked for (recordings <= 30 s)
    language: str  # ISO code of the spoken language (detected or chosen)
    language_name: str
    detected: bool  # True: the model detected the language; False: the user chose it
    language_probability: float | None  # the model's probability of that language (detected only)
    task: str
    duration_s: float
    windows: int  # 30 s decoding windows that were run
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    """A request that passed every check that needs no model: options valid, audio decoded."""
    samples: np.ndarray  # 16 kHz mono float32
    task: str
    language: str | None  # ISO code, or None to detect it
    model_id: str
    timestamps: bool = DEFAULTS.timestamps  # segments with times (recordings over 30 s always get them)


class _WhisperInternalNotice(logging.Filter):
    """Drops the one transformers notice no caller of Whisper's `generate` can avoid: on every window it
    passes `suppress_tokens` and `begin_suppress_tokens` next to a `generation_config` itself
    (huggingface/transformers#48108, in 5.24), and the generic `generate` then calls that combination
    deprecated. Only that notice, when it names just those two, is dropped; for any other it still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("Passing `generation_config` together with generation-related"):
            return True
        named = set(re.findall(r"'(\w+)'", message.partition("arguments=")[2].partition(")")[0]))
        return not named or not named <= {"suppress_tokens", "begin_suppress_tokens"}


def load(request: LoadRequest) -> Bundle:
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    logger = logging.getLogger("transformers.generation.utils")
    if not any(isinstance(f, _WhisperInternalNotice) for f in logger.filters):
        logger.addFilter(_WhisperInternalNotice())
    fast = ct2_whisper.applies(request)
    # With the engine, the torch model (kept for Look inside and the decoding page) stays at full precision, so
    # that what they show is the checkpoint's own numbers; the engine has its own quantized weights.
    full = replace(request, placement=replace(request.placement, quantize="none")) if fast else request
    whisper = load_pretrained(full, WhisperForConditionalGeneration, WhisperProcessor)
    # The decoding page and "Look inside" read the decoder's attention; the encoder's is never shown, so it
    # stays on fast sdpa attention even when the model is switched to eager for them.
    pin_attention(whisper.model.get_encoder(), "sdpa")
    if fast:  # built on the first transcription (Bundle.fast): the decoding page never needs it
        whisper.engine_builder = functools.partial(_engine, request, whisper)
    return whisper


def _engine(request: LoadRequest, whisper: Bundle):
    engine = ct2_whisper.load(request)
    engine.on_encoded = functools.partial(_keep_encoded, whisper)
    return engine


def _keep_encoded(whisper: Bundle, window, encoded) -> None:
    """Keep the engine's encoder output of a window for Look inside, by the window's features, as the torch path
    keeps its own (kept.keeping_encoder_outputs): the view then runs the torch decoder alone."""
    import torch

    kept.keep(whisper, kept.ENCODER_OUTPUT, (torch.from_numpy(window),), torch.from_numpy(encoded))


def is_multilingual(whisper: Bundle) -> bool:
    return getattr(whisper.model.generation_config, "is_multilingual", True)


def window_tokens(whisper: Bundle) -> int:
    """Tokens one 30 s window may decode: MAX_NEW_TOKENS, or fewer where the checkpoint's generation config
    says so (the hub's 448 is the whole decoder; the miniatures declare a few dozen, see their module).

    Passed to generate as `max_length`, which Whisper counts after each window's start/language/task
    prompt; transformers 5.24 adds that prompt again on each further window of one call, so each later
    window of a long recording may decode 3 tokens more than the one before (within the 448 positions)."""
    declared = whisper.model.generation_config.max_length
    return min(MAX_NEW_TOKENS, int(declared)) if declared else MAX_NEW_TOKENS


def check(models, audio_path, task: str | None = DEFAULTS.task, language: str | None = DEFAULTS.language,
          model_id: str | None = None, timestamps: bool = DEFAULTS.timestamps) -> Request:
    """Check the options and decode the audio, so that a bad request never loads a model."""
    model_id = models.checkpoint(model_id).repo_id
    task = checks.choice("Task", task or DEFAULTS.task, TASKS,
                         hint="Transcribe keeps the spoken language; translate writes English.")
    code = language_code(language)
    return Request(audio.decode(audio_path, models.settings.max_audio_s), task, code, model_id, bool(timestamps))


def run(models, request: Request, progress: Progress = no_progress) -> Transcript:
    if models.remote:  # an OpenAI-compatible server transcribes (pipelines/remote/): nothing loads here
        from pipelines.remote import openai_compat

        return openai_compat.transcript(models, request, request.timestamps, progress)
    whisper = models.bundle(request.model_id)
    return transcribe_samples(whisper, request.samples, request.task, request.language, request.timestamps,
                              progress)


def transcribe(models, audio_path, task: str | None = DEFAULTS.task, language: str | None = DEFAULTS.language,
               model_id: str | None = None, timestamps: bool = DEFAULTS.timestamps,
               progress: Progress = no_progress) -> Transcript:
    """check() then run(): transcribe (or translate to English) an audio file."""
    return run(models, check(models, audio_path, task, language, model_id, timestamps), progress)


def language_code(language: str | None) -> str | None:
    """ISO code for a language code or English name; None means detect it. (Not `checks.choice`: 99
    languages under two names are too many to list, so the message names common ones.)"""
    key = str(language or DETECT).strip().lower().strip("<|>")  # str(): the API may send a number
    if key in (DETECT, "auto", ""):
        return None
    from transformers.models.whisper.tokenization_whisper import LANGUAGES, TO_LANGUAGE_CODE

    code = key if key in LANGUAGES else TO_LANGUAGE_CODE.get(key)
    if code is None:
        common = ", ".join(f"{c} ({n})" for c, n in COMMON_LANGUAGES[:8])
        raise UserInputError(f"Unknown language {language!r}. Choose Detect, or a Whisper language code or "
                             f"English name, for example {common}.")
    return code


def language_name(code: str) -> str:
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    return LANGUAGES.get(code, code).title()


def transcribe_samples(whisper: Bundle, samples: np.ndarray, task: str = DEFAULTS.task,
                       language: str | None = None, timestamps: bool = DEFAULTS.timestamps,
                       progress: Progress = no_progress) -> Transcript:
    """The model part, on 16 kHz mono float32 samples (already checked by pipelines.readers.audio)."""
    import torch

    multilingual = is_multilingual(whisper)
    if not multilingual and (task == "translate" or language not in (None, "en")):
        raise UserInputError("This Whisper model knows English only: choose transcribe and English, "
                             "or pick a multilingual model.")
    duration = audio.duration_s(samples)
    long_form = duration > WINDOW_S
    features, attention = _features(whisper, samples)
    engine = whisper.fast()
    probability = None
    if language is None and not multilingual:
        language = "en"
    elif language is None and engine is not None and engine.detects_language:
        language, probability = engine.detect_language(features[..., : WINDOW_S * 100].numpy())
    elif language is None:
        language, probability = detect_language(whisper, features)
    if multilingual and f"<|{language}|>" not in whisper.model.generation_config.lang_to_id:
        raise UserInputError(f"{language_name(language)} is not one of this model's languages.")
    options = dict(task=task, language=language) if multilingual else {}
    # max_length, not max_new_tokens: generate always also has a max_length (the checkpoint's, else
    # transformers' 20), so max_new_tokens logged "Both ... seem to have been set" on every window.
    options["max_length"] = window_tokens(whisper)
    # "Look inside" reads the encoder's output for each 30 s window again: kept (pipelines/inside/kept.py).
    with torch.inference_mode(), kept.keeping_encoder_outputs(whisper, "input_features"):
        if timestamps or long_form:
            raw, windows = _with_timestamps(whisper, samples, features, attention, options, progress)
        elif engine is not None:
            ids = ct2_whisper.without_timestamps(engine, features.numpy(), whisper.model.generation_config, options)
            raw, windows = [(0.0, duration, ids)], 1
        else:
            ids = whisper.model.generate(features, return_timestamps=False, **options)[0]
            raw, windows = [(0.0, duration, ids)], 1
    segments = _clamped(whisper, raw, duration)
    # The text is decoded from all tokens at once (not the segment texts joined with spaces), so
    # languages written without spaces (Chinese, Japanese) come out right.
    text = _decode(whisper, [int(t) for _, _, ids in raw for t in ids])
    notes = () if text else ("No words were recognised in this recording.",)
    return Transcript(text, segments if (timestamps or long_form) else (), language, language_name(language),
                      probability is not None, probability, task, duration, windows, notes)


def detect_language(whisper: Bundle, features) -> tuple[str, float]:
    """The language Whisper hears in the first 30 s, and its probability: as transformers'
    `detect_language`, one decoder step after <|startoftranscript|>, softmax over the language tokens."""
    import torch

    config = whisper.model.generation_config
    start = torch.full((features.shape[0], 1), config.decoder_start_token_id, device=features.device)
    with torch.inference_mode():
        logits = whisper.model(input_features=features[..., : WINDOW_S * 100], decoder_input_ids=start,
                               use_cache=False).logits[0, -1]
    tokens, ids = zip(*config.lang_to_id.items())
    probs = logits[list(ids)].float().softmax(-1)
    best = int(probs.argmax())
    return tokens[best].strip("<|>"), float(probs[best])


class _Runaway(Exception):
    """Long-form decoding needed more windows than the budget allows."""


def _with_timestamps(whisper, samples, features, attention, options, progress):
    """(start, end, token ids) of each segment from Whisper's sequential long-form decoding (also used
    for short audio with timestamps), and the number of windows decoded."""
    total = features.shape[-1]
    budget = WINDOWS_PER_30S * math.ceil(total / (WINDOW_S * 100))
    windows = 0

    def monitor(seek_and_total) -> None:  # called by generate before each window
        nonlocal windows
        windows += 1
        if windows > budget:
            raise _Runaway
        seek, frames = (int(v) for v in seek_and_total[0])
        progress(seek / frames, f"Transcribing {seek / 100:.0f} s of {frames / 100:.0f} s")

    engine = whisper.fast()
    try:
        if engine is not None:
            config = whisper.model.generation_config
            return ct2_whisper.sequential(engine, features.numpy(), config, options, monitor), windows
        out = whisper.model.generate(features, attention_mask=attention, return_timestamps=True,
                                     return_segments=True, monitor_progress=monitor, **options)
    except _Runaway:
        raw = _fixed_windows(whisper, samples, options, progress)
        return raw, budget + math.ceil(samples.size / (WINDOW_S * audio.SAMPLE_RATE))
    return [(float(s["start"]), float(s["end"]), s["tokens"]) for s in out["segments"][0]], windows


def _fixed_windows(whisper, samples, options, progress):
    """Decode each 30 s window once, on its own: one generate call per window, whatever the model does."""
    raw = []
    step = WINDOW_S * audio.SAMPLE_RATE
    for start in range(0, samples.size, step):
        progress(start / samples.size, f"Transcribing {start // audio.SAMPLE_RATE} s of "
                                       f"{samples.size // audio.SAMPLE_RATE} s (fixed windows)")
        features, _ = _features(whisper, samples[start: start + step])
        offset = start / audio.SAMPLE_RATE
        raw += [(offset + s, offset + e, ids) for s, e, ids in _one_window(whisper, features, options)]
    return raw


def _one_window(whisper, features, options):
    """The segments of one generate call on one window (times from its start), on the engine or torch."""
    engine = whisper.fast()
    if engine is not None:
        return ct2_whisper.one_window(engine, features.numpy(), whisper.model.generation_config, options)
    out = whisper.model.generate(features, return_timestamps=True, return_segments=True,
                                 force_unique_generate_call=True, **options)
    return [(float(s["start"]), float(s["end"]), s["tokens"]) for s in out["segments"][0]]


def _features(whisper: Bundle, samples: np.ndarray):
    """Log-mel features: padded with silence to 30 s for short audio (as Whisper was trained), the
    whole recording for long audio (generate cuts it into windows itself)."""
    extractor = whisper.processor.feature_extractor
    if samples.size <= WINDOW_S * audio.SAMPLE_RATE:
        inputs = extractor(samples, sampling_rate=audio.SAMPLE_RATE, return_tensors="pt")
    else:
        inputs = extractor(samples, sampling_rate=audio.SAMPLE_RATE, return_tensors="pt", truncation=False,
                           padding="longest", return_attention_mask=True)
    features = inputs.input_features.to(whisper.device, whisper.model.dtype)
    attention = inputs.get("attention_mask")
    return features, (attention.to(whisper.device) if attention is not None else None)


def _decode(whisper: Bundle, ids) -> str:
    return whisper.tokenizer.decode(ids, skip_special_tokens=True).strip()


def _clamped(whisper: Bundle, raw, duration: float) -> tuple[Segment, ...]:
    """Segments with their times kept inside the recording (the last window is padded with silence,
    and a model may put a timestamp there), rounded to Whisper's 20 ms timestamp resolution."""
    last = math.floor(duration * 100) / 100  # the last 10 ms step inside the recording
    segments = []
    for start, end, ids in raw:
        start = min(round(max(start, 0.0), 2), last)
        segments.append(Segment(start, min(round(max(end, start), 2), last), _decode(whisper, ids)))
    return tuple(segments)
