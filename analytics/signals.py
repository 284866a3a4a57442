"""What analytics keeps current alongside the background jobs (connected in AnalyticsConfig)."""

from datetime import datetime
from typing import Any

from analytics import rollup


def count_recent_days(sender: Any, now: datetime, dry_run: bool, **kwargs: Any) -> None:
    """After each `cleanup` pass: the days just over get their LINE sends rolled up."""
    if not dry_run:
        rollup.refresh(now)
