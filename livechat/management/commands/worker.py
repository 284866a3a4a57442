"""`manage.py worker` — finishes what a process could not: sends, downloads, profile fetches.

The fast path runs inside the web process right after each commit (livechat.jobs.background). This
worker is the safety net for work left behind by a crash or a LINE outage: outbound messages
still `pending` whose lease ran out or whose retry is due, media not yet downloaded, profiles
never fetched. Every item is claimed with a conditional UPDATE, so several workers can run side
by side and each item is done once. SIGTERM/SIGINT finish the current item and stop.
"""

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from livechat.delivery import sender
from livechat.line import media, profiles


class Command(BaseCommand):
    help = "Deliver pending outbound messages, download media and fetch profiles, forever."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Do one pass and exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between passes.")

    stopping = False

    def handle(self, *args: Any, once: bool = False, interval: float = 1.0, **options: Any) -> None:
        self.stopping = False
        # Put the caller's handlers back afterwards (call_command from tests or a shell).
        previous = {s: signal.signal(s, self.on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping:
                done = self.run_once()
                if once:
                    self.stdout.write(f"worker: {done} item(s) handled")
                    return
                close_old_connections()
                if not done:
                    time.sleep(interval)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run_once(self) -> int:
        """One pass over every kind of due work; returns how many items were handled."""
        handled = 0
        for message_id in sender.due_message_ids():
            if self.stopping:
                break
            sender.deliver(message_id)
            handled += 1
        for message_id in media.pending_ids():
            if self.stopping:
                break
            media.download(message_id)
            handled += 1
        for contact_id in profiles.due_contact_ids():
            if self.stopping:
                break
            profiles.refresh(contact_id)
            handled += 1
        return handled
