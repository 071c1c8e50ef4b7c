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
from urllib.parse import urlsplit

from pipelines.core.registry import TASKS

ENV_PREFIX = "PLAYGROUND_"
MODEL_SOURCES = ("auto", "hub", "tiny")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "float16", "bfloat16")
LOAD_MODES = ("auto", "lazy", "eager")
# What runs a model: "auto" picks, on a CPU, the fastest engine measured for each task that keeps its answers
# (bench/results/engines.md), and torch on a GPU. "torch": transformers/diffusers everywhere.
ENGINES = ("auto", "torch", "onnxruntime-genai", "ctranslate2")
# Weight precision on a CPU: "auto" is each engine's measured default (int4 for onnxruntime-genai's language
# models, none for torch); "int8" on the torch path is dynamic int8 quantization of the Linear layers.
QUANTIZE = ("auto", "none", "int8", "int4")
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
    # Engine and weight precision (ENGINES, QUANTIZE above); each tab's status line shows what ran.
    engine: str = "auto"
    quantize: str = "auto"
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
    # Serve every public endpoint as a tool for AI assistants (Model Context Protocol, /gradio_api/mcp/).
    mcp: bool = True
    # Tasks whose default model loads at start-up even in lazy mode ("all": every task): a first call
    # that loads a model can outlast an assistant's 60 s tool timeout.
    preload: tuple[str, ...] = ()
    # Serving engines: a default endpoint for every task that can call one, and one per task
    # (PLAYGROUND_REMOTE_<TASK_ID>, --remote-<task-id>), which wins. See pipelines/remote/.
    remote_url: str | None = None
    remotes: tuple[tuple[str, str], ...] = ()  # (task id, URL) pairs
    # Token for the serving engines; falls back to HF_TOKEN. Never shown in a page, never logged.
    remote_token: str | None = None
    # Seconds a remote call may take before the tab says the engine did not answer.
    remote_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        _check_choice("model_source", self.model_source, MODEL_SOURCES)
        _check_choice("device", self.device, DEVICES)
        _check_choice("dtype", self.dtype, DTYPES)
        _check_choice("load_mode", self.load_mode, LOAD_MODES)
        _check_choice("engine", self.engine, ENGINES)
        _check_choice("quantize", self.quantize, QUANTIZE)
        if self.memory_budget_gb is not None and self.memory_budget_gb <= 0:
            raise ValueError("memory_budget_gb must be positive")
        bad = [o for o in self.frame_ancestors if not _ORIGIN.match(o)]
        if bad:
            raise ValueError(f"frame_ancestors must be origins like https://course.example.org; got {bad}")
        known = {spec.id for spec in TASKS}
        unknown = [t for t in (*self.preload, *(t for t, _ in self.remotes)) if t not in known and t != "all"]
        if unknown:
            raise ValueError(f"unknown task ids {unknown}; known: {', '.join(sorted(known))}")
        bad = [u for u in (self.remote_url, *(url for _, url in self.remotes)) if u is not None and not _is_url(u)]
        if bad:
            raise ValueError(f"remote endpoints must be http(s) URLs with a host (and a numeric port, if any) "
                             f"like http://gpu-box:8000/v1; got {bad}")

    def remote_for(self, task_id: str) -> str | None:
        """The serving engine a task calls (its own setting, else the default), or None: load locally."""
        return dict(self.remotes).get(task_id) or self.remote_url

    def preloaded(self) -> list[str]:
        """Task ids whose default model loads at start-up."""
        return [spec.id for spec in TASKS] if "all" in self.preload else list(self.preload)

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
        remotes = []
        for spec in TASKS:  # one setting per task: --remote-text-generation, PLAYGROUND_REMOTE_TEXT_GENERATION
            name = "remote_" + spec.id.replace("-", "_")
            url = getattr(args, name, None) or env.get(ENV_PREFIX + name.upper())
            if url:
                remotes.append((spec.id, url))
        if remotes:
            values["remotes"] = tuple(remotes)
        return cls(**values)


def _is_url(url: str) -> bool:
    """An http(s) URL a client can call: a scheme, a host, and a port that is a number, if given."""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or 0 < parts.port
    except ValueError:  # "gpu-box:80x0" or a port over 65535
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port_ok and " " not in url


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _convert(name: str, raw):
    if not isinstance(raw, str):
        return raw
    if name == "cache_dir":
        return Path(raw).expanduser()
    if name in ("frame_ancestors", "preload"):
        return tuple(o for o in raw.replace(",", " ").split() if o)
    if name == "mcp":
        if raw.strip().lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ValueError(f"mcp must be on or off; got {raw!r}")
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name in ("memory_budget_gb", "hub_timeout_s", "max_audio_s", "remote_timeout_s"):
        return float(raw)
    if name in ("queue_size", "concurrency", "max_input_chars", "max_context_chars"):
        return int(raw)
    return raw


def build_parser() -> argparse.ArgumentParser:
    """One flag per setting; every default is None so unset flags fall through to the environment."""
    p = argparse.ArgumentParser(
        description="Transformer Playground. Each flag also reads PLAYGROUND_<NAME> from the environment.",
        # Per-task engines are eleven flags, listed once here. The engines' token has no flag on purpose:
        # a command line is visible to every user of the machine (ps); set PLAYGROUND_REMOTE_TOKEN or HF_TOKEN.
        epilog="--remote-<task-id> URL: a serving engine for one task, e.g. --remote-text-generation "
               "http://gpu-box:8000/v1 (PLAYGROUND_REMOTE_TEXT_GENERATION). The engines' token comes from "
               "PLAYGROUND_REMOTE_TOKEN or HF_TOKEN, never from a flag.",
    )
    p.add_argument("--model-source", dest="model_source", choices=MODEL_SOURCES)
    p.add_argument("--device", choices=DEVICES)
    p.add_argument("--dtype", choices=DTYPES)
    p.add_argument("--engine", choices=ENGINES,
                   help="what runs the models on a CPU (default auto: the fastest measured per task)")
    p.add_argument("--quantize", choices=QUANTIZE,
                   help="weight precision on a CPU (default auto: each engine's measured default)")
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
    p.add_argument("--mcp", choices=("on", "off"), help="serve the endpoints as MCP tools (default on)")
    p.add_argument("--preload", help="task ids (or all) whose default model loads at start-up")
    p.add_argument("--remote", dest="remote_url", help="serving engine for every task that can use one")
    for spec in TASKS:
        p.add_argument(f"--remote-{spec.id}", dest="remote_" + spec.id.replace("-", "_"),
                       help=argparse.SUPPRESS)  # listed once below, not eleven times

    p.add_argument("--remote-timeout-s", dest="remote_timeout_s", type=float)
    p.add_argument("--download", action="store_true",
                   help="download every default checkpoint into the Hugging Face cache, then exit")
    return p
