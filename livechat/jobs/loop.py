"""The loop every worker-style command runs: `worker` today, `check_sla` and `cleanup` next.

A command gives it one pass of work (a function that returns how many items it handled). The
loop runs passes until SIGTERM/SIGINT, which let the current item finish; it sleeps only when a
pass found nothing to do, and gives its database connections back between passes. Each item of
work is claimed with a conditional UPDATE by the pass itself, so any number of these loops (and
cron runs with `--once`) can share the database, and each item is done once.
"""

import signal
import time
from collections.abc import Callable
from types import FrameType

from django.db import close_old_connections


class JobLoop:
    """Runs `one_pass(loop)` until stopped; `loop.stopping` tells a pass to finish early."""

    def __init__(self, one_pass: Callable[["JobLoop"], int], *, interval: float = 1.0) -> None:
        self.one_pass = one_pass
        self.interval = interval
        self.stopping = False

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
                done = self.run_once()
                total += done
                close_old_connections()
                if not done and not self.stopping:
                    time.sleep(self.interval)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return total

    def stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        self.stopping = True
