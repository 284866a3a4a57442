"""`manage.py check_sla` — records SLA warnings and breaches once each and alerts on them.

By default one pass, for cron every minute; `--loop` runs passes in the shared job loop
(livechat.jobs.loop) until SIGTERM/SIGINT. Each alert is inserted with ON CONFLICT DO NOTHING
(livechat.conversations.sla), so several checkers — cron on several machines, loops — can run at
once and each warning or breach is recorded and sent once. `--dry-run` lists what a pass would
record, and records and sends nothing.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from livechat.conversations import sla
from livechat.jobs.loop import JobLoop


def one_pass(loop: JobLoop) -> int:
    """Record (and send) every warning and breach reached; returns how many this pass recorded."""
    recorded = 0
    for alert in sla.due_alerts():
        if loop.stopping:
            break
        if sla.record(alert) is not None:
            recorded += 1
    return recorded


class Command(BaseCommand):
    help = "Record SLA warnings and breaches once each and alert the holder and the supervisors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop", action="store_true", help="Run until SIGTERM (default: one pass, for cron)."
        )
        parser.add_argument(
            "--interval", type=float, default=30.0, help="Seconds between passes with --loop."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be recorded; record nothing."
        )

    def handle(
        self, *args: Any, loop: bool = False, interval: float = 30.0, dry_run: bool = False, **options: Any
    ) -> None:
        if dry_run:
            due = sla.due_alerts()
            for alert in due:
                self.stdout.write(alert.describe())
            self.stdout.write(f"check_sla: {len(due)} alert(s) would be recorded (dry run)")
            return
        self.loop = JobLoop(one_pass, interval=interval)
        if loop:
            self.loop.run()
            return
        self.stdout.write(f"check_sla: {self.loop.run_once()} alert(s) recorded")
