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
from pathlib import Path

from pipelines.engines.built import build_once

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def build(key: str, cache_root: Path) -> Path:
    """Return the folder of miniature `key` ("module:function"), building it on first use."""
    module_name, func_name = key.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    digest = _package_digest()
    target = cache_root / f"{module_name}-{func_name}-{digest}"
    # Built beside the target and renamed (pipelines/engines/built.py): another process (or a killed run) never
    # sees half a folder, and if two processes race, the loser's copy is simply discarded.
    return build_once(target, lambda staging: _seeded(getattr(module, func_name), staging))


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
