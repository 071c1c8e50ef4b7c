"""Converted model files, built once into the cache and found again; never used half written."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def folder_digest(folder: str | Path) -> str:
    """A short digest of a checkpoint folder's file names, sizes and modification times: a converted copy is
    rebuilt when its source changes (a new download, a rebuilt miniature)."""
    h = hashlib.sha256()
    root = Path(folder)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            h.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def build_once(target: Path, build: Callable[[Path], None]) -> Path:
    """`target`, first built by `build(staging_folder)` if missing. The build writes into a temporary sibling
    renamed into place at the end: a killed build leaves no folder under the final name, and of two processes
    racing, the first rename wins and the other's copy is thrown away. Threads of one process wait for the
    first one's build."""
    with _guard:
        lock = _locks.setdefault(str(target), threading.Lock())
    with lock:
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            build(staging)
            staging.chmod(0o755)
            try:
                os.rename(staging, target)
            except OSError:
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def local_folder(request) -> Path:
    """The request's checkpoint as a folder on disk (converters read files, not a hub id); a hub checkpoint is
    already in the download cache, from_pretrained having put it there."""
    location = request.location
    if Path(location.source).is_dir():
        return Path(location.source)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(location.source, revision=location.revision,
                                  allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja"]))
