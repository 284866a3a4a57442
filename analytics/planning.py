"""Analytics queries are planned for their own parameters, every time.

psycopg prepares a statement on a connection once it ran there DB_PREPARE_THRESHOLD times
(config/settings.py: a gain for the webhook's small hot statements). PostgreSQL may then plan a
prepared statement once for any parameters — and a plan for "some dates" is the wrong one for a
year (a nested loop where a hash join belongs; bench/analytics.py saw the summary's queries get
slower from the sixth run on). Reports turn preparing off on their connection while they run.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django.db import connection


@contextmanager
def unprepared() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw: Any = connection.connection
    saved = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = saved


def planned_each_time[**P, R](report: Callable[P, R]) -> Callable[P, R]:
    @wraps(report)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with unprepared():
            return report(*args, **kwargs)

    return run
