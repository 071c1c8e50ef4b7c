"""Build-once cache folders that never appear half written."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def build_once(final: Path, build: Callable[[Path], None]) -> Path:
    """Return `final`, first filling it with `build(tmp_dir)` if it does not exist yet.

    The build writes into a temporary sibling folder that is renamed into place at the end, so a
    killed run leaves no half folder behind under the final name, and when two runs race the
    first rename wins and the loser's copy is thrown away.
    """
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        build(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it owner-only; the cache is shared
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():  # a real failure, not a lost race
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
