"""`manage.py worker` — finishes what a process could not: events, sends, downloads, profiles.

The fast path runs inside the web process right after each commit (livechat.jobs.background).
This worker is the safety net for work left behind by a crash or a LINE outage: webhook events
stored for later (the tail of a huge body) but never processed, outbound messages still `pending`
whose lease ran out or whose retry is due, media not yet downloaded, profiles never fetched.
It runs in the shared job loop (livechat.jobs.loop): every item is claimed with a conditional
UPDATE or a skipped row lock, so several workers can run side by side and each item is done once.
SIGTERM/SIGINT finish the current item and stop.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from livechat.delivery import outbox, sender
from livechat.jobs.loop import JobLoop
from livechat.line import inbound, media, profiles

# A deferred webhook event (the tail of a huge body) is processed right after the response by the
# process that took it; the worker steps in only when that has clearly not happened.
DEFERRED_GRACE_SECONDS = 60.0


def one_pass(loop: JobLoop) -> int:
    """One pass over every kind of due work; returns how many items were handled."""
    handled = 0
    deferred = inbound.deferred_event_ids(DEFERRED_GRACE_SECONDS)
    if deferred and not loop.stopping:
        inbound.process_deferred(deferred)
        handled += len(deferred)
    for message_id in outbox.due_message_ids():
        if loop.stopping:
            return handled
        sender.deliver(message_id)
        handled += 1
    for message_id in media.pending_ids():
        if loop.stopping:
            return handled
        media.download(message_id)
        handled += 1
    for contact_id in profiles.due_contact_ids():
        if loop.stopping:
            return handled
        profiles.refresh(contact_id)
        handled += 1
    return handled


class Command(BaseCommand):
    help = "Deliver pending outbound messages, download media and fetch profiles, forever."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Do one pass and exit (for cron).")
        parser.add_argument("--loop", action="store_true", help="Run until SIGTERM (the default).")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between passes.")

    def handle(self, *args: Any, once: bool = False, interval: float = 1.0, **options: Any) -> None:
        self.loop = JobLoop(one_pass, interval=interval)
        if once:
            self.stdout.write(f"worker: {self.loop.run_once()} item(s) handled")
            return
        self.loop.run()
