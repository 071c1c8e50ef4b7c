"""Where a checkpoint's files come from: the hub, the local Hugging Face cache, or a tiny miniature.

The loading code is always the real `from_pretrained(location.source)`; only `source` changes (a repo
id, a cached snapshot folder, or the folder of a locally built miniature).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from pipelines import miniatures
from pipelines.core.registry import Checkpoint
from pipelines.core.settings import Settings

HUB_URL = "https://huggingface.co"
# A failed hub check is trusted this long before asking again, so an outage costs one short wait
# every few minutes instead of a timeout on every request.
NEGATIVE_PROBE_TTL_S = 300.0


@dataclass(frozen=True)
class Location:
    repo_id: str
    source: str  # what to pass to from_pretrained
    revision: str | None  # only for hub downloads; local folders have none
    kind: str  # "hub", "cache" or "miniature"

    @property
    def is_miniature(self) -> bool:
        return self.kind == "miniature"

    @property
    def pretrained_kwargs(self) -> dict:
        return {"revision": self.revision} if self.revision else {}


class HubProbe:
    """Answers "can the hub be reached?" once (a couple of seconds at most) and remembers it."""

    def __init__(self, timeout_s: float):
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._answer: bool | None = None
        self._checked_at = 0.0

    def reachable(self) -> bool:
        with self._lock:
            stale = self._answer is False and time.monotonic() - self._checked_at > NEGATIVE_PROBE_TTL_S
            if self._answer is None or stale:
                self._answer = self._ask()
                self._checked_at = time.monotonic()
            return self._answer

    def _ask(self) -> bool:
        if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
            return False
        import urllib.request

        try:
            urllib.request.urlopen(urllib.request.Request(HUB_URL, method="HEAD"), timeout=self._timeout_s)
            return True
        except Exception:  # any failure (DNS, refused, timeout, TLS) means "not reachable"
            return False


def cached_snapshot(ckpt: Checkpoint) -> str | None:
    """The local folder of a previously downloaded checkpoint, without touching the network."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(ckpt.repo_id, revision=ckpt.revision, local_files_only=True)
    except Exception:  # not in the cache (or an incomplete one): treat as absent
        return None


class SourceResolver:
    def __init__(self, settings: Settings):
        self._settings = settings
        self.probe = HubProbe(settings.hub_timeout_s)

    def resolve(self, ckpt: Checkpoint) -> Location:
        mode = self._settings.model_source
        if mode == "tiny":
            return self.miniature(ckpt)
        if mode == "hub":
            return Location(ckpt.repo_id, ckpt.repo_id, ckpt.revision, "hub")
        local = cached_snapshot(ckpt)
        if local:
            return Location(ckpt.repo_id, local, None, "cache")
        if self.probe.reachable():
            return Location(ckpt.repo_id, ckpt.repo_id, ckpt.revision, "hub")
        return self.miniature(ckpt)

    def miniature(self, ckpt: Checkpoint) -> Location:
        folder = miniatures.build(ckpt.miniature, self._settings.cache_dir / "miniatures")
        return Location(ckpt.repo_id, str(folder), None, "miniature")
