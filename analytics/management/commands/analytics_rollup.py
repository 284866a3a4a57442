"""`manage.py analytics_rollup [--rebuild --start YYYY-MM-DD --end YYYY-MM-DD]` — counts the daily
LINE sends (analytics.rollup) again from the messages: by default the recent days (what `cleanup`
does on each pass), with --rebuild the days asked (only days already over are written)."""

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from analytics import rollup


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Count the analytics daily rollups again from the rows (recent days, or --rebuild a range)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Count the days --start … --end again.")
        parser.add_argument("--start", help="First local date (YYYY-MM-DD); default a year ago.")
        parser.add_argument("--end", help="Last local date (YYYY-MM-DD); default yesterday.")

    def handle(self, *args: Any, rebuild: bool = False, **options: Any) -> None:
        start: str | None = options.get("start")
        end: str | None = options.get("end")
        now = timezone.now()
        if not rebuild:
            if start or end:
                raise CommandError("--start and --end go with --rebuild.")
            days = rollup.refresh(now)
        else:
            last = _date(end) if end else rollup.last_closed_day(now)
            first = _date(start) if start else last - timedelta(days=365)
            if last < first:
                raise CommandError("--end must not be before --start.")
            days = rollup.rebuild(first, last, now)
        self.stdout.write(f"analytics_rollup: {days} day(s) counted")
