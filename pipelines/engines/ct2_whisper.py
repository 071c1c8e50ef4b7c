"""Whisper on CTranslate2: the checkpoint converted once into CTranslate2's format (int8 weights by default), whose
C++ kernels run the encoder, language detection and greedy decoding with Whisper's timestamp rules.

Why this engine (bench/engines_speech.py, bench/results/engines_speech.md; Whisper base, real weights, 2 cores):
the tab's request (language detected, timestamps) takes about 0.4x the time of transformers' float32 `generate`
on a quiet machine (0.15-0.25x when other work competes for the cores), with the same words. faster-whisper runs
the same kernels under its own pipeline (its features, segment rules and fallbacks) at about 0.7x; torch's dynamic
int8 about 0.6x with more word errors; onnxruntime-genai's Whisper did the bare work (language given, no
timestamps) about 20 % faster than this engine, but has no timestamp rules, token suppression or language
detection: those would be Python code over the 51,865 logits of every step. It installs from one wheel.

The app keeps everything around the model (pipelines/tasks/speech.py): the log-mel features (transformers'
WhisperFeatureExtractor, so the engine reads the torch path's inputs), the prompt (start, language and task
tokens), the tokenizer, the checks and the window budget. Here: each 30 s window is encoded and decoded, and
transformers' sequential long-form algorithm is repeated on token lists (`sequential`, `split_segments`):
segments end at pairs of timestamp tokens and the next window starts at the last complete one. So every feature
of the speech tab runs on the engine: timestamps, long recordings, language detection, translation, progress per
window. What reads inside the model (Look inside's cross-attention, the decoding page) stays on the torch model,
loaded beside it at full precision; Look inside reads the engine's encoder output of each window, kept by the
run (`on_encoded`), with the torch decoder: where the words sit in the audio as this run's encoder heard it.

Not here: beam search and temperature fallback (the app decodes greedily); int4 (CTranslate2 has no 4-bit CPU
kernels, so `quantize` int4 runs int8); language detection for a vocabulary other than the hub checkpoints' 51,865
tokens (CTranslate2 refuses it: the miniatures detect on the torch model, then decode here).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from pipelines.engines.built import build_once, folder_bytes, folder_digest, local_folder

log = logging.getLogger(__name__)
NAME = "ctranslate2"
# Settings.quantize -> CTranslate2's weight type. "auto" is int8: measured to keep the words of float32
# (bench/results/engines_speech.md; tests/test_speech_real.py holds it to raw + 1 point of WER).
PRECISION = {"auto": "int8", "int8": "int8", "int4": "int8", "none": "float32"}
WINDOW_FRAMES = 3000  # 30 s of log-mel frames
FRAMES_PER_S = 100
TIMESTAMP_S = 0.02  # Whisper's timestamp tokens: <|0.00|>, <|0.02|>, ... <|30.00|>

Segments = list[tuple[float, float, list[int]]]  # (start s, end s, token ids with their timestamp tokens)


def installed() -> bool:
    return importlib.util.find_spec("ctranslate2") is not None


def applies(request) -> bool:
    """Whether this engine answers the request's Whisper checkpoint: on a CPU, engine auto or asked for by name,
    and the package installed."""
    placement = request.placement
    if placement.device != "cpu" or placement.engine not in ("auto", NAME):
        return False
    if not installed():
        if placement.engine == NAME:
            log.warning("%s is not installed (pip install -r requirements.txt); %s runs on torch", NAME,
                        request.checkpoint.repo_id)
        return False
    return True


class WhisperEngine:
    """One converted checkpoint. CTranslate2 runs one request at a time per model (inter_threads=1); each uses
    the app's torch thread count."""

    engine_name = NAME

    def __init__(self, folder: Path, precision: str, threads: int):
        import ctranslate2

        self._model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type=precision,
                                                 intra_threads=threads, inter_threads=1)
        self.folder, self.precision = folder, precision
        self.label = f"{NAME} {precision}"
        self.nbytes = folder_bytes(folder)
        # CTranslate2 detects languages only for the multilingual vocabulary of 51,865 tokens (whisper.cc), the
        # hub checkpoints'; the miniatures number their tokens as the English-only ones do (51,864).
        self.detects_language = bool(self._model.is_multilingual)
        self._last: tuple[bytes, object] | None = None  # (digest of a window, its encoder output)
        self._lock = threading.Lock()
        # Called with (window, encoder output as an array) after each new encoder pass: the speech loader keeps
        # it for Look inside (pipelines/inside/kept.py), which then runs the torch decoder alone.
        self.on_encoded: Callable[[np.ndarray, np.ndarray], None] | None = None

    def encode(self, window: np.ndarray):
        """The encoder's output for one window of features, (1, mels, 3000). The last one is kept: language
        detection and the first window's decoding share one encoder pass (transformers runs two)."""
        import ctranslate2

        window = np.ascontiguousarray(window, dtype=np.float32)
        key = hashlib.blake2b(window.tobytes(), digest_size=16).digest()
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
        encoded = self._model.encode(ctranslate2.StorageView.from_array(window))
        with self._lock:
            self._last = (key, encoded)
        if self.on_encoded is not None:
            self.on_encoded(window, np.array(encoded))
        return encoded

    def detect_language(self, window: np.ndarray) -> tuple[str, float]:
        """The likeliest language code and its probability: as transformers' `detect_language`, one decoder
        step after <|startoftranscript|>, softmax over the language tokens."""
        token, probability = self._model.detect_language(self.encode(window))[0][0]
        return token.strip("<|>"), float(probability)

    def decode(self, window: np.ndarray, prompt: list[int], max_new_tokens: int,
               max_initial_timestamp_index: int = 50) -> list[int]:
        """Greedy token ids after `prompt`, end of text left out. Unless the prompt ends with <|notimestamps|>,
        CTranslate2 applies Whisper's timestamp rules (openai/whisper's ApplyTimestampRules, as transformers'
        WhisperTimeStampLogitsProcessor); the checkpoint's suppressed tokens and blank-at-start rule always."""
        # CTranslate2 decodes at most min(max_length / 2, max_length - prompt steps) new tokens (whisper.cc).
        steps = len(prompt) - 1
        result = self._model.generate(self.encode(window), [prompt], beam_size=1,
                                      max_length=max(2 * max_new_tokens, max_new_tokens + steps),
                                      max_initial_timestamp_index=max_initial_timestamp_index,
                                      suppress_blank=True, suppress_tokens=[-1])
        return [int(t) for t in result[0].sequences_ids[0]]


def window(features: np.ndarray, seek: int) -> tuple[np.ndarray, int]:
    """The 30 s window of `features` (1, mels, frames) starting at frame `seek`, zero-padded to 3,000 frames as
    transformers pads it, and how many frames of it are the recording's."""
    frames = min(features.shape[-1] - seek, WINDOW_FRAMES)
    out = np.zeros((features.shape[0], features.shape[1], WINDOW_FRAMES), np.float32)
    out[..., :frames] = features[..., seek: seek + frames]
    return out, frames


def prompt(config, options: dict, timestamps: bool) -> list[int]:
    """The decoder prompt transformers' generate builds from `options` (pipelines/tasks/speech.py): start,
    language and task (multilingual checkpoints), then <|notimestamps|> unless timestamps are decoded."""
    ids = [config.decoder_start_token_id]
    if "language" in options:
        ids += [config.lang_to_id[f"<|{options['language']}|>"], config.task_to_id[options["task"]]]
    return ids if timestamps else ids + [config.no_timestamps_token_id]


def _decode(engine: WhisperEngine, padded: np.ndarray, config, options: dict, timestamps: bool) -> list[int]:
    # generation config's max_initial_timestamp_index: None is no limit, in transformers' timestamp rules
    initial = getattr(config, "max_initial_timestamp_index", None)
    return engine.decode(padded, prompt(config, options, timestamps), options["max_length"],
                         WINDOW_FRAMES // 2 if initial is None else initial)


def without_timestamps(engine: WhisperEngine, features: np.ndarray, config, options: dict) -> list[int]:
    """The token ids of a recording of at most 30 s (features padded to 3,000 frames), no timestamps."""
    return _decode(engine, features, config, options, False)


def one_window(engine: WhisperEngine, features: np.ndarray, config, options: dict) -> Segments:
    """The segments of one 30 s window decoded once, with times from its start (the fixed-window fallback)."""
    tokens = _decode(engine, features, config, options, True)
    return split_segments(tokens, config.no_timestamps_token_id + 1, 0.0, features.shape[-1])[0]


def sequential(engine: WhisperEngine, features: np.ndarray, config, options: dict, monitor: Callable) -> Segments:
    """Sequential long-form decoding with timestamps, as transformers' WhisperGenerationMixin.generate (5.24)
    runs it greedily: decode the window at `seek`; move `seek` to the end of its last complete segment (or past
    the window when it ended with a single timestamp). `monitor([(seek, frames)])` is called before each window,
    as generate's `monitor_progress`; it may raise to stop."""
    total, seek, segments = features.shape[-1], 0, []
    while seek < total:
        monitor([(seek, total)])
        padded, frames = window(features, seek)
        tokens = _decode(engine, padded, config, options, True)
        found, advance = split_segments(tokens, config.no_timestamps_token_id + 1, seek / FRAMES_PER_S, frames)
        segments += found
        seek += advance
    return segments


def split_segments(tokens: list[int], timestamp_begin: int, offset_s: float, frames: int) -> tuple[Segments, int]:
    """One window's tokens cut into segments at each pair of consecutive timestamp tokens, with times from
    `offset_s`, and the frames to advance: transformers' `_retrieve_segment` on lists. After a single final
    timestamp the whole window was heard; otherwise the unfinished text after the last pair is dropped and
    the next window starts at that pair."""
    stamp = [t >= timestamp_begin for t in tokens]
    single_ending = stamp[-2:] == [False, True]
    pairs = [i + 1 for i in range(len(tokens) - 1) if stamp[i] and stamp[i + 1]]

    def time(token: int) -> float:
        return offset_s + (token - timestamp_begin) * TIMESTAMP_S

    if not pairs:  # one segment: to the last timestamp when there is one, else to the window's end
        stamps = [t for t in tokens if t >= timestamp_begin]
        end = stamps[-1] if stamps and stamps[-1] != timestamp_begin else timestamp_begin + frames // 2
        return [(offset_s, time(end), list(tokens))], frames
    cuts = pairs + [len(tokens)] if single_ending else pairs[:-1] + [pairs[-1] + 1]
    segments, last = [], 0
    for n, cut in enumerate(cuts):
        piece = tokens[last:cut]
        end = piece[-1] if n < len(cuts) - 1 or single_ending else piece[-2]
        segments.append((time(piece[0]), time(end), list(piece)))
        last = cut
    return segments, frames if single_ending else (tokens[last - 2] - timestamp_begin) * 2


def load(request) -> WhisperEngine:
    """The converted model for the request's checkpoint, building it into the cache on first use."""
    import torch

    precision = PRECISION[request.placement.quantize]
    if request.placement.quantize == "int4":
        log.info("%s has no int4 CPU kernels: %s runs int8", NAME, request.checkpoint.repo_id)
    source = local_folder(request)
    cache = Path(request.cache_dir or Path.home() / ".cache" / "transformer-playground")
    name = request.checkpoint.repo_id.replace("/", "--")
    target = cache / "engines" / NAME / f"{name}-{precision}-{folder_digest(source)}"
    build_once(target, lambda staging: convert(source, staging, precision))
    return WhisperEngine(target, precision, torch.get_num_threads())


def convert(source: Path, out: Path, precision: str) -> None:
    """CTranslate2's own converter on the checkpoint folder. It loads a second copy of the model for the few
    seconds it takes, on purpose: its int8 quantization rewrites some weights in place, so it must never be
    handed the model the app keeps for Look inside."""
    from ctranslate2.converters import TransformersConverter

    log.info("converting %s for %s (%s), once", source, NAME, precision)
    TransformersConverter(str(source)).convert(str(out), quantization=precision, force=True)
