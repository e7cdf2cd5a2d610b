"""Per-client rate limiting: an in-memory token bucket keyed by client IP.

Used by the public stolen-check (``POST /v1/stolen-check``). Each client gets
``capacity`` requests at once and ``refill_per_second`` more per second; a request
over the limit answers 429 ``rate.limited`` with ``Retry-After`` (whole seconds).
Time comes from the caller (the app's injectable clock), so tests move it by hand.
The buckets live in one process: behind several workers or instances each keeps its
own, so the effective limit is per worker (documented in design note 0007).
"""

import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from registry.deps import ClockDep, _lazy
from registry.errors import RateLimitedError

DEFAULT_CAPACITY = 30
DEFAULT_REFILL_PER_SECOND = 0.5
MAX_CLIENTS = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: datetime


class RateLimiter:
    """Token buckets per key (thread-safe)."""

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
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, *, now: datetime) -> None:
        """Spend one token of ``key``'s bucket.

        Raises:
            RateLimitedError: the bucket is empty (``retry_after`` in seconds).
        """
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_CLIENTS:
                    self._buckets.clear()
                bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
            elapsed = max(0.0, (now - bucket.updated).total_seconds())
            bucket.tokens = min(
                float(self.capacity), bucket.tokens + elapsed * self.refill_per_second
            )
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            wait = math.ceil((1.0 - bucket.tokens) / self.refill_per_second)
        raise RateLimitedError("too many requests; retry later", retry_after=wait)


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
    limiter: Annotated[RateLimiter, Depends(get_stolen_check_limiter)],
) -> None:
    """Dependency: one token per stolen-check request.

    Raises:
        RateLimitedError.
    """
    limiter.take(client_key(request), now=clock())


StolenCheckLimitDep = Annotated[None, Depends(limit_stolen_check)]
