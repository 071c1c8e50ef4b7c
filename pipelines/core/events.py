"""What happens inside the model side, told to whoever listens (metrics, logs), without knowing them.

    models.events.subscribe(lambda name, fields: print(name, fields))
    models.events.emit("loaded", repo_id="openai/whisper-base", seconds=1.2, nbytes=290_000_000)

Names in use: "loaded" (repo_id, task_id, seconds, nbytes), "evicted" (repo_id, nbytes),
"remote_call" (task_id, endpoint, seconds, ok). A listener that raises is logged and skipped: an
observer must never break a request.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)
Listener = Callable[[str, dict[str, Any]], None]


class Events:
    def __init__(self):
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def emit(self, name: str, **fields: Any) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(name, fields)
            except Exception:  # noqa: BLE001 - see the module docstring
                log.exception("event listener failed on %s", name)
