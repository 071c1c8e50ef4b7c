"""How many trainings run at once: one per visitor, and a few for the whole app.

A training holds the CPU for up to a minute and a half, so the fine-tuning page admits a bounded number
(`limit`, 1 on a CPU) and refuses the rest at once with a sentence, instead of queueing them silently
behind each other; a visitor who starts a second training while the first runs is told so. Nothing here
imports torch or gradio: the tab passes each request's session id.

A slot is released when its training ends, however it ends (`hold` is a context manager). A training
abandoned without being closed (a client that vanished) is forgotten GRACE_S after the longest a training
may run (`longest_s`), so a lost slot cannot lock the page for good.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time

from pipelines.core.errors import UserInputError

GRACE_S = 60


class TrainingSlots:
    def __init__(self, limit: int, longest_s: float, clock=time.monotonic):
        self.limit = limit
        self.longest_s = longest_s
        self.expire_s = longest_s + GRACE_S
        self._clock = clock
        self._lock = threading.Lock()
        self._held: dict[str, tuple[int, float]] = {}  # visitor -> (ticket, started)
        self._tickets = itertools.count()

    def running(self) -> int:
        with self._lock:
            self._forget_expired()
            return len(self._held)

    @contextlib.contextmanager
    def hold(self, visitor: str):
        """Run the body as `visitor`'s one training, or raise UserInputError saying why it cannot start."""
        with self._lock:
            self._forget_expired()
            if visitor in self._held:
                raise UserInputError("A training of yours is already running on this page: wait for it to "
                                     "finish or press Stop, then start another.")
            if len(self._held) >= self.limit:
                oldest = min(started for _, started in self._held.values())
                wait = max(5, round(self.longest_s - (self._clock() - oldest)))
                others = "another visitor's model" if self.limit == 1 else f"{self.limit} models for other visitors"
                raise UserInputError(f"The server is already fine-tuning {others}, as many as it runs at once. "
                                     f"Try again in about {wait} s.")
            ticket = next(self._tickets)
            self._held[visitor] = (ticket, self._clock())
        try:
            yield
        finally:
            with self._lock:
                if self._held.get(visitor, (None,))[0] == ticket:  # not a newer training of the same visitor
                    del self._held[visitor]

    def _forget_expired(self) -> None:
        now = self._clock()
        for visitor in [v for v, (_, started) in self._held.items() if now - started > self.expire_s]:
            del self._held[visitor]
