"""Request state every worker shares (revision 0006): the ``Idempotency-Key`` records
of ``registry.idempotency`` and the token buckets of ``registry.ratelimit``.

Both live in the registry database, so every worker and instance on one database
sees the same keys and the same limits. Neither table holds a raw identifier: keys
are SHA-256 digests (of caller, path and key; of the client address). Old rows are
swept now and then, a bounded batch at a time (``SweepSchedule``, ``delete_*``).
"""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Float, LargeBinary, Text, delete, select
from sqlmodel import Field, Session, SQLModel, col

from registry.db import UTCDateTime

SWEEP_INTERVAL = timedelta(minutes=5)
SWEEP_BATCH = 1_000


class IdempotencyRecord(SQLModel, table=True):
    """A request under an ``Idempotency-Key``: in flight while ``status`` is None,
    then its stored response (the headers as a JSON list of ``[name, value]``)."""

    __tablename__: ClassVar[str] = "idempotency_record"

    key: str = Field(primary_key=True, max_length=64)
    fingerprint: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    status: int | None = None
    headers: str = Field(default="[]", sa_type=Text)
    body: bytes = Field(default=b"", sa_type=LargeBinary)


class RateLimitBucket(SQLModel, table=True):
    """One client's token bucket, as of ``updated_at``."""

    __tablename__: ClassVar[str] = "rate_limit_bucket"

    key: str = Field(primary_key=True, max_length=64)
    tokens: float = Field(sa_type=Float)
    updated_at: datetime = Field(sa_type=UTCDateTime, index=True)


class SweepSchedule:
    """When this process sweeps next: every ``interval``, and again at once after a
    full batch (thread-safe; each worker keeps its own schedule)."""

    def __init__(self, *, interval: timedelta = SWEEP_INTERVAL) -> None:
        self.interval = interval
        self._next = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def is_due(self, now: datetime) -> bool:
        """True (and the next sweep scheduled) when a sweep is due at ``now``."""
        with self._lock:
            if now < self._next:
                return False
            self._next = now + self.interval
            return True

    def record(self, deleted: int, *, now: datetime) -> None:
        """A full batch leaves more behind: sweep again on the next request."""
        if deleted >= SWEEP_BATCH:
            with self._lock:
                self._next = now


def delete_idempotency_records(session: Session, *, created_before: datetime) -> int:
    """Delete up to ``SWEEP_BATCH`` records created at or before ``created_before``."""
    return _delete_batch(
        session,
        IdempotencyRecord,
        key=col(IdempotencyRecord.key),
        stamp=col(IdempotencyRecord.created_at),
        before=created_before,
    )


def delete_rate_limit_buckets(session: Session, *, updated_before: datetime) -> int:
    """Delete up to ``SWEEP_BATCH`` buckets untouched since ``updated_before``."""
    return _delete_batch(
        session,
        RateLimitBucket,
        key=col(RateLimitBucket.key),
        stamp=col(RateLimitBucket.updated_at),
        before=updated_before,
    )


def _delete_batch(
    session: Session,
    model: type[SQLModel],
    *,
    key: Any,
    stamp: Any,
    before: datetime,
) -> int:
    # Rows are picked FOR UPDATE SKIP LOCKED on PostgreSQL, so workers sweeping at
    # once neither wait for nor deadlock on each other (SQLite serialises writers).
    picked = (
        select(key)
        .where(stamp <= before)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(delete(model).where(key.in_(picked)))
    return int(result.rowcount)  # type: ignore[attr-defined]
