"""Work that must not hold up a response: LINE sends, media downloads, profile fetches.

Jobs are handed to a small thread pool after the transaction commits. The pool is only the
fast path: every job's state is in the database first, so if this process dies the `worker`
management command finds the unfinished rows and completes them.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connections, transaction

logger = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="livechat-bg")
_pending: set[Future[None]] = set()
_lock = threading.Lock()


def _run(job: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        job(*args)
    except Exception:
        logger.exception("background job %s failed", getattr(job, "__name__", job))
    finally:
        # Each pool thread has its own connections; give them back (to the pool, on PostgreSQL).
        connections.close_all()


def submit(job: Callable[..., Any], *args: Any) -> None:
    future = _executor.submit(_run, job, args)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _lock:
        _pending.discard(future)


def submit_on_commit(job: Callable[..., Any], *args: Any) -> None:
    transaction.on_commit(lambda: submit(job, *args))


def wait_until_idle(timeout: float = 30.0) -> bool:
    """Wait for every job submitted so far (and those they submit). For tests and shutdown."""
    deadline = threading.Event()
    timer = threading.Timer(timeout, deadline.set)
    timer.start()
    try:
        while not deadline.is_set():
            with _lock:
                futures = list(_pending)
            if not futures:
                return True
            for f in futures:
                try:
                    f.result(timeout=max(0.01, timeout / 10))
                except Exception:  # noqa: S110 - _run already logged the job's failure
                    pass
        return False
    finally:
        timer.cancel()
