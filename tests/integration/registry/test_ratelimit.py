"""The stolen-check's token buckets in the database, on SQLite and PostgreSQL:
shared by every limiter (worker) on one database, race-free, swept when full."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from registry.errors import RateLimitedError
from registry.ratelimit import RateLimiter, bucket_key
from registry.request_state import RateLimitBucket

from .conftest import START

RACERS = 8
WAIT_SECONDS = 60


def _tokens(engine: Any, client: str) -> float | None:
    with Session(engine) as session:
        db_bucket = session.get(RateLimitBucket, bucket_key(client))
        return None if db_bucket is None else db_bucket.tokens


def test_limiters_on_one_database_share_the_buckets(registry_engine):
    one, two = (RateLimiter(capacity=2, refill_per_second=0.5) for _ in range(2))
    one.take(registry_engine, "192.0.2.1", now=START)
    two.take(registry_engine, "192.0.2.1", now=START)
    with pytest.raises(RateLimitedError) as raised:
        one.take(registry_engine, "192.0.2.1", now=START + timedelta(seconds=1))
    assert raised.value.retry_after == 1
    two.take(registry_engine, "192.0.2.2", now=START)  # another client
    one.take(registry_engine, "192.0.2.1", now=START + timedelta(seconds=2))


def test_the_bucket_is_stored_under_a_digest_of_the_address(registry_engine):
    RateLimiter().take(registry_engine, "192.0.2.1", now=START)
    with Session(registry_engine) as session:
        keys = session.exec(select(RateLimitBucket.key)).all()
    assert keys == [bucket_key("192.0.2.1")]
    assert "192.0.2.1" not in keys[0]
    assert len(keys[0]) == 64


def test_of_concurrent_requests_only_the_capacity_passes(registry_engine):
    limiter = RateLimiter(capacity=5, refill_per_second=0.5)
    barrier = threading.Barrier(RACERS)

    def take() -> str:
        barrier.wait(timeout=WAIT_SECONDS)
        try:
            limiter.take(registry_engine, "192.0.2.1", now=START)
        except RateLimitedError as exc:
            return exc.code
        return "passed"

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        futures = [pool.submit(take) for _ in range(RACERS)]
        outcomes = sorted(future.result(timeout=WAIT_SECONDS) for future in futures)
    assert outcomes == ["passed"] * 5 + ["rate.limited"] * (RACERS - 5)
    assert _tokens(registry_engine, "192.0.2.1") == 0.0


def test_a_lagging_clock_refills_nothing(registry_engine):
    limiter = RateLimiter(capacity=2, refill_per_second=1)
    limiter.take(registry_engine, "192.0.2.1", now=START + timedelta(seconds=10))
    limiter.take(registry_engine, "192.0.2.1", now=START)  # a worker 10 s behind
    with pytest.raises(RateLimitedError):
        limiter.take(registry_engine, "192.0.2.1", now=START + timedelta(seconds=10))


def test_buckets_full_again_are_swept(registry_engine):
    limiter = RateLimiter(capacity=2, refill_per_second=0.5)  # full after 4 s
    limiter.take(registry_engine, "192.0.2.1", now=START)
    limiter.take(registry_engine, "192.0.2.2", now=START + timedelta(seconds=1))
    assert limiter.sweep(registry_engine, now=START + timedelta(seconds=4)) == 1
    with Session(registry_engine) as session:
        left = session.exec(select(col(RateLimitBucket.key))).all()
    assert left == [bucket_key("192.0.2.2")]
    # a swept bucket is a full one
    for _ in range(2):
        limiter.take(registry_engine, "192.0.2.1", now=START + timedelta(seconds=4))
