"""Small helpers shared by the asset builders: paths, hashing, running tools."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def need_tool(name: str, hint: str) -> str:
    """Return the tool's path or stop with a message saying how to get it."""
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"'{name}' is needed to build these assets; install it with: {hint}")
    return found


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command quietly; on failure show its stderr, which says what went wrong."""
    done = subprocess.run(cmd, capture_output=True, **kwargs)
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace")[-2000:] if isinstance(done.stderr, bytes) else done.stderr
        raise RuntimeError(f"command failed ({done.returncode}): {' '.join(map(str, cmd))}\n{err}")
    return done


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with '\\n' line ends on every platform (so hashes are stable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
