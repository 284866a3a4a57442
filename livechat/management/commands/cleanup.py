"""`manage.py cleanup` — closes conversations nobody writes in any more and forgets old contents.

One pass: warn and close inactive conversations (livechat.conversations.inactivity), remove the
message contents and webhook bodies past their retention (livechat.conversations.retention), and
assign whoever still waits to an operator with room, when auto-assignment is on (the web
processes do that as things happen; this is the safety net for a process that died meanwhile).
By default it does one pass and exits — for cron, every minute; `--loop` runs passes until
SIGTERM/SIGINT in the shared job loop (livechat.jobs.loop), like `worker`. Several may run at
once, on several machines: each conversation is closed once and each warning sent once (decided
under the conversation's row lock). `--dry-run` lists what a pass would do and changes nothing.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from livechat.conversations import assignment, inactivity, retention
from livechat.jobs.loop import JobLoop
from livechat.jobs.signals import cleanup_pass


class Command(BaseCommand):
    help = "Close inactive conversations and remove contents past their retention (one pass, or --loop)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Run passes until SIGTERM/SIGINT.")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds between passes with --loop (default 60)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what a pass would do; change nothing."
        )

    def handle(
        self, *args: Any, loop: bool = False, interval: float = 60.0, dry_run: bool = False, **options: Any
    ) -> None:
        self.dry_run = dry_run
        self.loop = JobLoop(self.one_pass, interval=interval)
        if loop and not dry_run:
            self.loop.run()
        else:
            self.loop.run_once()

    def one_pass(self, loop: JobLoop) -> int:
        """Everything due now; returns how many items it handled (0: the loop sleeps)."""
        now = timezone.now()
        stopping = lambda: loop.stopping  # noqa: E731
        steps = inactivity.run(now, dry_run=self.dry_run, stopping=stopping)
        removed = retention.run(now, dry_run=self.dry_run, stopping=stopping)
        assigned = 0 if self.dry_run or loop.stopping else assignment.assign_waiting()
        # Whatever other apps keep current per pass (analytics' daily rollups).
        cleanup_pass.send(sender=self.__class__, now=now, dry_run=self.dry_run)
        if assigned:
            self.stdout.write(f"cleanup: {assigned} waiting conversation(s) assigned")
        self.report(steps, removed)
        return len(steps) + removed.total + assigned

    def report(self, steps: list[inactivity.Step], removed: retention.Removed) -> None:
        verbs = {inactivity.WARN: "warned", inactivity.CLOSE: "closed"}
        if self.dry_run:
            verbs = {inactivity.WARN: "would warn", inactivity.CLOSE: "would close"}
        for step in steps:
            self.stdout.write(
                f"{verbs[step.action]} #{step.conversation_id} {step.contact} "
                f"({step.status}, quiet since {timezone.localtime(step.quiet_since):%Y-%m-%d %H:%M})"
            )
        if not (self.dry_run or steps or removed.total):
            return  # cron every minute: no line when there was nothing to do
        closed = sum(step.action == inactivity.CLOSE for step in steps)
        summary = (
            f"{closed} closed, {len(steps) - closed} warned; contents of {removed.conversations} "
            f"conversation(s) removed ({removed.messages} message(s), {removed.files} file(s)); "
            f"{removed.webhook_events} webhook event body(ies) emptied"
        )
        self.stdout.write(f"cleanup{' (dry run, nothing changed)' if self.dry_run else ''}: {summary}")
