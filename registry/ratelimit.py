"""Per-client rate limiting: a token bucket per client address, in the registry
database.

Used by the public stolen-check (``POST /v1/stolen-check``). Each client gets
``capacity`` requests at once and ``refill_per_second`` more per second; a request
over the limit answers 429 ``rate.limited`` with ``Retry-After`` (whole seconds).
Time comes from the caller (the app's injectable clock), so tests move it by hand.

The buckets live in the registry database (``registry.request_state``), so every
worker and instance on it spends from the same bucket: the limit holds for the
deployment, not per worker. A request is one short transaction that locks the
client's bucket (``SELECT … FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` serialises
writers); on PostgreSQL it commits without waiting for the WAL flush, since a crash
losing the last updates only refills buckets. The stolen-check keys a bucket by a
keyed pseudonym of the client address (HMAC with the registry's serial key,
``SerialKey.pseudonym``), stored as its SHA-256: never the address, and not
reversible by trying every IPv4 address without the key. A bucket untouched for as
long as it takes to refill is full, the same as no bucket: such rows are swept now
and then, a bounded batch at a time.
"""

import hashlib
import math
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from registry.db import backend_name
from registry.deps import ClockDep, EngineDep, _lazy
from registry.errors import RateLimitedError
from registry.request_state import (
    RateLimitBucket,
    SweepSchedule,
    delete_rate_limit_buckets,
)
from registry.routes.items import SerialKeyDep

RATE_LIMIT_PURPOSE = "rate-limit"
DEFAULT_CAPACITY = 30
DEFAULT_REFILL_PER_SECOND = 0.5


def bucket_key(client: str) -> str:
    """The stored key of ``client``'s bucket: the SHA-256 (hex) of its address."""
    return hashlib.sha256(client.encode("utf-8")).hexdigest()


class RateLimiter:
    """Token buckets per client, in the registry database (shared by every worker)."""

    def __init__(
        self,
        *,
        capacity: int = DEFAULT_CAPACITY,
        refill_per_second: float = DEFAULT_REFILL_PER_SECOND,
    ) -> None:
        if capacity < 1 or refill_per_second <= 0:
            raise ValueError("capacity ≥ 1 and a positive refill rate")
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self.sweeps = SweepSchedule()

    def take(self, engine: Engine, client: str, *, now: datetime) -> None:
        """Spend one token of ``client``'s bucket.

        Raises:
            RateLimitedError: the bucket is empty (``retry_after`` in seconds).
        """
        key = bucket_key(client)
        try:
            wait = self._take(engine, key, now=now)
        except IntegrityError:
            # Another worker made this client's first bucket meanwhile: spend from it.
            wait = self._take(engine, key, now=now)
        if self.sweeps.is_due(now):
            self.sweep(engine, now=now)
        if wait:
            raise RateLimitedError("too many requests; retry later", retry_after=wait)

    def _take(self, engine: Engine, key: str, *, now: datetime) -> int:
        """Spend a token in one transaction; 0, or the seconds until one is back."""
        with Session(engine) as session, session.begin():
            if backend_name(engine) == "postgresql":
                # Buckets are transient: a crash losing the last updates only
                # refills them, so the commit need not wait for the WAL flush.
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            statement = (
                select(RateLimitBucket)
                .where(col(RateLimitBucket.key) == key)
                .with_for_update()
            )
            db_bucket = session.exec(statement).first()
            if db_bucket is None:
                db_bucket = RateLimitBucket(
                    key=key, tokens=float(self.capacity), updated_at=now
                )
                session.add(db_bucket)
            elapsed = max(0.0, (now - db_bucket.updated_at).total_seconds())
            db_bucket.tokens = min(
                float(self.capacity),
                db_bucket.tokens + elapsed * self.refill_per_second,
            )
            # Never back in time: a worker whose clock lags refills nothing.
            db_bucket.updated_at = max(db_bucket.updated_at, now)
            if db_bucket.tokens >= 1.0:
                db_bucket.tokens -= 1.0
                return 0
            return math.ceil((1.0 - db_bucket.tokens) / self.refill_per_second)

    def sweep(self, engine: Engine, *, now: datetime) -> int:
        """Delete a batch of buckets that are full again; how many."""
        refill_time = timedelta(seconds=self.capacity / self.refill_per_second)
        with Session(engine) as session, session.begin():
            deleted = delete_rate_limit_buckets(
                session, updated_before=now - refill_time
            )
        self.sweeps.record(deleted, now=now)
        return deleted


def client_key(request: Request) -> str:
    """The client's IP address (the peer; no proxy header is trusted)."""
    return request.client.host if request.client is not None else "unknown"


def get_stolen_check_limiter(request: Request) -> RateLimiter:
    """The app's limiter for the stolen-check (tests may set
    ``app.state.stolen_check_limiter``)."""
    limiter = _lazy(request, "stolen_check_limiter", RateLimiter)
    assert isinstance(limiter, RateLimiter)
    return limiter


def limit_stolen_check(
    request: Request,
    clock: ClockDep,
    engine: EngineDep,
    serial_key: SerialKeyDep,
    limiter: Annotated[RateLimiter, Depends(get_stolen_check_limiter)],
) -> None:
    """Dependency: one token per stolen-check request, from the bucket of the
    client address's keyed pseudonym.

    Raises:
        RateLimitedError.
    """
    client = serial_key.pseudonym(RATE_LIMIT_PURPOSE, client_key(request))
    limiter.take(engine, client, now=clock())


StolenCheckLimitDep = Annotated[None, Depends(limit_stolen_check)]
