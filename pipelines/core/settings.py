"""Settings, read once in `app.main()` and passed down as a frozen object.

Every setting has a command-line flag and an environment variable (flag wins), so the same app runs
from a terminal, a Docker image and a Hugging Face Space (where only environment variables exist):

    python app.py --model-source tiny --memory-budget-gb 4
    PLAYGROUND_MODEL_SOURCE=tiny python app.py
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path

ENV_PREFIX = "PLAYGROUND_"
MODEL_SOURCES = ("auto", "hub", "tiny")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "float16", "bfloat16")
LOAD_MODES = ("auto", "lazy", "eager")
# An origin a browser compares frame ancestors with: scheme://host[:port], "*." wildcards allowed.
# Anything else (";", quotes, paths) could smuggle other directives into the CSP header.
_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:(\d{1,5}|\*))?/?$")


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "transformer-playground"


@dataclass(frozen=True)
class Settings:
    # Where weights come from. "auto": the hub when reachable or already cached, otherwise the tiny
    # offline miniature (with a notice in the tab). "hub": never fall back. "tiny": never touch the hub.
    model_source: str = "auto"
    # "auto" picks CUDA, then Apple MPS, then CPU.
    device: str = "auto"
    # "auto" is half precision on a GPU and float32 on CPU (our CPUs have no fast bf16).
    dtype: str = "auto"
    # Memory the loaded models may use together, in GB. None derives it from free RAM/VRAM at start-up.
    memory_budget_gb: float | None = None
    # "lazy" loads a model on its tab's first request. "eager" loads the defaults at start-up
    # (what ZeroGPU Spaces want). "auto" is eager on ZeroGPU, lazy elsewhere.
    load_mode: str = "auto"
    # Miniatures and other things we build live here; HF downloads use the normal HF cache.
    cache_dir: Path = _default_cache_dir()
    # Seconds to wait when checking once whether the hub answers.
    hub_timeout_s: float = 2.0
    # Bounded queue: beyond this many waiting requests a user is told to come back shortly.
    queue_size: int = 16
    # Model calls allowed to run at once per tab. None: 1 on CPU (2 cores are shared), 2 on a GPU.
    concurrency: int | None = None
    # Longest text a user may submit to a text tab, in characters.
    max_input_chars: int = 20_000
    # Longest context question answering reads (in overlapping windows, with progress): a short book
    # chapter. It costs about one forward pass of the reader per 1,000 characters.
    max_context_chars: int = 200_000
    # Longest audio accepted by the speech tab, in seconds.
    max_audio_s: float = 600.0
    # Origins allowed to embed the app in an iframe; empty means any site may.
    frame_ancestors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_choice("model_source", self.model_source, MODEL_SOURCES)
        _check_choice("device", self.device, DEVICES)
        _check_choice("dtype", self.dtype, DTYPES)
        _check_choice("load_mode", self.load_mode, LOAD_MODES)
        if self.memory_budget_gb is not None and self.memory_budget_gb <= 0:
            raise ValueError("memory_budget_gb must be positive")
        bad = [o for o in self.frame_ancestors if not _ORIGIN.match(o)]
        if bad:
            raise ValueError(f"frame_ancestors must be origins like https://course.example.org; got {bad}")

    @classmethod
    def from_args(cls, argv: list[str] | None = None, env: dict[str, str] | None = None) -> "Settings":
        """Flags override environment variables, which override the defaults above."""
        return cls.from_namespace(build_parser().parse_args(argv), env)

    @classmethod
    def from_namespace(cls, args: argparse.Namespace, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        values = {}
        for f in fields(cls):
            raw = getattr(args, f.name, None)
            if raw is None:
                raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw)
        return cls(**values)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _convert(name: str, raw):
    if not isinstance(raw, str):
        return raw
    if name == "cache_dir":
        return Path(raw).expanduser()
    if name == "frame_ancestors":
        return tuple(o for o in raw.replace(",", " ").split() if o)
    if name in ("memory_budget_gb", "hub_timeout_s", "max_audio_s"):
        return float(raw)
    if name in ("queue_size", "concurrency", "max_input_chars", "max_context_chars"):
        return int(raw)
    return raw


def build_parser() -> argparse.ArgumentParser:
    """One flag per setting; every default is None so unset flags fall through to the environment."""
    p = argparse.ArgumentParser(
        description="Transformer Playground. Each flag also reads PLAYGROUND_<NAME> from the environment.",
    )
    p.add_argument("--model-source", dest="model_source", choices=MODEL_SOURCES)
    p.add_argument("--device", choices=DEVICES)
    p.add_argument("--dtype", choices=DTYPES)
    p.add_argument("--memory-budget-gb", dest="memory_budget_gb", type=float)
    p.add_argument("--load-mode", dest="load_mode", choices=LOAD_MODES)
    p.add_argument("--cache-dir", dest="cache_dir")
    p.add_argument("--hub-timeout-s", dest="hub_timeout_s", type=float)
    p.add_argument("--queue-size", dest="queue_size", type=int)
    p.add_argument("--concurrency", type=int)
    p.add_argument("--max-input-chars", dest="max_input_chars", type=int)
    p.add_argument("--max-context-chars", dest="max_context_chars", type=int,
                   help="longest context question answering reads (default 200000)")
    p.add_argument("--max-audio-s", dest="max_audio_s", type=float)
    p.add_argument("--frame-ancestors", dest="frame_ancestors",
                   help="space- or comma-separated origins allowed to embed the app (default: any)")
    p.add_argument("--download", action="store_true",
                   help="download every default checkpoint into the Hugging Face cache, then exit")
    return p
