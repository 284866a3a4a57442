"""The loop every worker-style command runs: `worker` today, `check_sla` and `cleanup` next.

A command gives it one pass of work (a function that returns how many items it handled). The
loop runs passes until SIGTERM/SIGINT, which let the current item finish; it sleeps only when a
pass found nothing to do, and gives its database connections back between passes. Each item of
work is claimed with a conditional UPDATE by the pass itself, so any number of these loops (and
cron runs with `--once`) can share the database, and each item is done once.

When the database cannot be reached (restarting, failing over, out of connections) the loop
logs it, waits — 1 s, then twice as long each time up to a minute — and carries on where it was:
a worker outlives its database.
"""

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType

from django.db import close_old_connections

from livechat.jobs import database

logger = logging.getLogger(__name__)

UNREACHABLE_BACKOFF_SECONDS = (1.0, 60.0)  # first wait, longest wait


class JobLoop:
    """Runs `one_pass(loop)` until stopped; `loop.stopping` tells a pass to finish early."""

    def __init__(self, one_pass: Callable[["JobLoop"], int], *, interval: float = 1.0) -> None:
        self.one_pass = one_pass
        self.interval = interval
        self.stopping = False
        self.unreachable_since: float | None = None
        self._backoff = UNREACHABLE_BACKOFF_SECONDS[0]

    def run_once(self) -> int:
        return self.one_pass(self)

    def run(self) -> int:
        """Pass after pass until a signal; returns the items handled in all."""
        self.stopping = False
        total = 0
        # Put the caller's handlers back afterwards (call_command from tests or a shell).
        previous = {s: signal.signal(s, self.stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping:
                try:
                    done = self.run_once()
                except database.UNREACHABLE as exc:
                    self._wait_for_database(exc)
                    continue
                self._database_is_back()
                total += done
                close_old_connections()
                if not done and not self.stopping:
                    self._sleep(self.interval)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return total

    def stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        self.stopping = True

    def _wait_for_database(self, exc: Exception) -> None:
        if self.unreachable_since is None:
            self.unreachable_since = time.monotonic()
        logger.warning("database unreachable (%s); trying again in %.0f s", exc, self._backoff)
        database.after_unreachable()
        self._sleep(self._backoff)
        self._backoff = min(self._backoff * 2, UNREACHABLE_BACKOFF_SECONDS[1])

    def _database_is_back(self) -> None:
        if self.unreachable_since is not None:
            logger.warning("database reachable again after %.0f s", time.monotonic() - self.unreachable_since)
            self.unreachable_since = None
            self._backoff = UNREACHABLE_BACKOFF_SECONDS[0]

    def _sleep(self, seconds: float) -> None:
        """Sleep, but wake within a tenth of a second of a stop signal."""
        deadline = time.monotonic() + seconds
        while not self.stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
