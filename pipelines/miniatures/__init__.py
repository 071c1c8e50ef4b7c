"""Tiny offline miniatures of the real checkpoints.

Each builder (`module:function`, named by a registry entry) writes a folder that `from_pretrained`
loads with the same model, tokenizer and processor classes as the real checkpoint, randomly
initialised and only a few layers deep. Builds are deterministic (seeded) and cached: the folder name
carries a hash of this package's files (builders and the data files beside them), so changing any of
them rebuilds the miniatures.

Builders receive an empty folder and must fill it; they run once per cache directory.
"""

from __future__ import annotations

import functools
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
    digest = _package_digest()
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


@functools.cache
def _package_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:10]


def _seeded(builder, folder: Path) -> None:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        builder(folder)


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())
