"""When the database could not be reached: what every caller does about it.

PostgreSQL restarting (or failing over) leaves every idle connection in a process's pool dead,
and the pool would hand each of them out once more — one failed request per connection. The
first failure sends the pool through its idle connections instead: dead ones are replaced, live
ones kept. Checking every connection before each use would cost a round trip per request; this
costs nothing until something goes wrong.
"""

import logging

from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

# The database is down, restarting or out of connections: nothing was stored, and the caller
# should answer 503 (or wait and try again). Data the database refuses — DataError,
# IntegrityError — is not this: it would be refused again every time.
UNREACHABLE = (OperationalError, InterfaceError)


def after_unreachable() -> None:
    """Drop this thread's dead connection and have the pool weed out the other dead ones."""
    for connection in connections.all(initialized_only=True):
        pool = getattr(connection, "pool", None)  # PostgreSQL with Django's pool only
        try:
            connection.close()
            if pool is not None:
                pool.check()
        except Exception:  # the database is still away: the next attempt will tell
            logger.debug("pool check after an unreachable database failed", exc_info=True)
