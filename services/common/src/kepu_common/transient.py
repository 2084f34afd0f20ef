"""Which failures are transient (a part is unavailable: wait and try again) and which are not.

A consumer retries a transient failure with backoff for as long as it lasts and never
dead-letters the event for it: a database restart or a broker outage is not the event's fault.
Only a failure that repeats while every part is up (a bug, a malformed payload) goes to the DLQ.
The gRPC servicers map the same failures to ``UNAVAILABLE`` (the gateway answers 503).
"""

from __future__ import annotations

import random

import psycopg
from kafka.errors import KafkaError
from sqlalchemy import exc as sa_exc

# psycopg's OperationalError covers a refused or broken connection, an admin shutdown, a
# serialization failure and a deadlock (all: try the transaction again).
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # no pooled connection came free in time
    KafkaError,
    ConnectionError,
    TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) says a part is unavailable, not that the work is bad."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UNAVAILABLE_ERRORS):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def backoff(attempt: int, *, base: float = 0.2, cap: float = 5.0) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): exponential with jitter, capped."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not cryptography
