"""Tiny offline miniatures of the real checkpoints.

Each builder (`module:function`, named by a registry entry) writes a folder that `from_pretrained`
loads with the same model, tokenizer and processor classes as the real checkpoint, randomly
initialised and only a few layers deep. Builds are deterministic (seeded) and cached: the folder name
carries a hash of the builder's source file, so changing a builder rebuilds its miniatures.

Builders receive an empty folder and must fill it; they run once per cache directory.
"""

from __future__ import annotations

import hashlib
import importlib
import shutil
import tempfile
import threading
from pathlib import Path

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def build(key: str, cache_root: Path) -> Path:
    """Return the folder of miniature `key` ("module:function"), building it on first use."""
    module_name, func_name = key.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    digest = hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()[:10]
    target = cache_root / f"{module_name}-{func_name}-{digest}"
    with _lock_for(str(target)):
        if target.is_dir():
            return target
        cache_root.mkdir(parents=True, exist_ok=True)
        # Build beside the target and rename: another process (or a killed run) never sees half a
        # folder, and if two processes race, the loser's copy is simply discarded.
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache_root))
        try:
            _seeded(getattr(module, func_name), staging)
            try:
                staging.rename(target)
            except OSError:
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _seeded(builder, folder: Path) -> None:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        builder(folder)


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())
