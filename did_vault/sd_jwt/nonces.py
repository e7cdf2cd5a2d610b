"""Single-use verifier nonces with a short lifetime (RFC 9901 §7.3, §9.5).

A verifier issues a fresh nonce per presentation request and accepts each at most
once, before it expires: a replayed presentation is refused the second time.
:class:`NonceStore` is the protocol the SD-JWT verifier consumes nonces through;
:class:`InMemoryNonceStore` keeps them in memory, for one process (the registry
provides a database-backed store with the same protocol).
"""

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol

DEFAULT_NONCE_TTL: Final = timedelta(minutes=5)
NONCE_BYTES: Final = 16
DEFAULT_MAX_NONCES: Final = 100_000


class NonceState(StrEnum):
    """What consuming a nonce found."""

    ACCEPTED = "accepted"
    """Issued, unexpired and unused; now used."""
    REPLAYED = "replayed"
    """Already used."""
    EXPIRED = "expired"
    """Issued, but its lifetime has passed."""
    UNKNOWN = "unknown"
    """Never issued here (or forgotten long after expiry)."""


class NonceStore(Protocol):
    """Issues nonces and consumes each at most once."""

    def issue(self, *, now: datetime | None = None) -> str:
        """A fresh nonce, valid from ``now`` for the store's lifetime."""
        ...

    def consume(self, nonce: str, *, now: datetime) -> NonceState:
        """Use ``nonce`` at ``now``; only the first use of a live nonce is ACCEPTED.

        Must be atomic: of two concurrent consumers, one gets REPLAYED.
        """
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InMemoryNonceStore:
    """A thread-safe, bounded, in-process :class:`NonceStore`.

    Nonces are 128 bits from ``secrets``. Used nonces are remembered until they would
    have expired, so a replay is told apart from a nonce that was never issued. When
    ``max_nonces`` are outstanding, the oldest is forgotten.
    """

    def __init__(
        self,
        *,
        ttl: timedelta = DEFAULT_NONCE_TTL,
        clock: Callable[[], datetime] = _utc_now,
        max_nonces: int = DEFAULT_MAX_NONCES,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        if max_nonces < 1:
            raise ValueError("max_nonces must be positive")
        self._ttl = ttl
        self._clock = clock
        self._max = max_nonces
        self._issued: dict[str, datetime] = {}
        self._used: dict[str, datetime] = {}
        self._lock = threading.Lock()

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def issue(self, *, now: datetime | None = None) -> str:
        """A fresh nonce, valid for ``ttl`` from ``now`` (the clock by default)."""
        moment = now or self._clock()
        nonce = secrets.token_urlsafe(NONCE_BYTES)
        with self._lock:
            self._prune(moment)
            while len(self._issued) >= self._max:
                del self._issued[next(iter(self._issued))]
            self._issued[nonce] = moment + self._ttl
        return nonce

    def consume(self, nonce: str, *, now: datetime) -> NonceState:
        """Use ``nonce`` once (see :class:`NonceState`)."""
        with self._lock:
            expires = self._issued.pop(nonce, None)
            if expires is None:
                return (
                    NonceState.REPLAYED if nonce in self._used else NonceState.UNKNOWN
                )
            if now >= expires:
                return NonceState.EXPIRED
            self._used[nonce] = expires
            while len(self._used) > self._max:
                del self._used[next(iter(self._used))]
            return NonceState.ACCEPTED

    def _prune(self, now: datetime) -> None:
        # Insertion order is (nearly) expiry order: drop from the front until a
        # live entry; a straggler behind it goes at the next prune or by the bound.
        for table in (self._issued, self._used):
            while table:
                oldest = next(iter(table))
                if now < table[oldest]:
                    break
                del table[oldest]

    def __len__(self) -> int:
        """How many nonces are outstanding (issued, not yet used)."""
        with self._lock:
            return len(self._issued)
