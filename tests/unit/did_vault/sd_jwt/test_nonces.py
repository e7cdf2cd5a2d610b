"""Single-use nonces with a short lifetime."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from did_vault.sd_jwt.nonces import InMemoryNonceStore, NonceState

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = NOW

    def __call__(self) -> datetime:
        return self.moment


def test_a_nonce_is_accepted_once_then_replayed() -> None:
    store = InMemoryNonceStore(clock=Clock())
    nonce = store.issue()
    assert store.consume(nonce, now=NOW) == NonceState.ACCEPTED
    assert store.consume(nonce, now=NOW) == NonceState.REPLAYED


def test_an_unknown_nonce_is_unknown() -> None:
    store = InMemoryNonceStore(clock=Clock())
    assert store.consume("never-issued", now=NOW) == NonceState.UNKNOWN


def test_a_nonce_expires_after_its_lifetime() -> None:
    store = InMemoryNonceStore(ttl=timedelta(minutes=2), clock=Clock())
    nonce = store.issue()
    later = NOW + timedelta(minutes=2)
    assert store.consume(nonce, now=later) == NonceState.EXPIRED
    assert store.consume(nonce, now=later) == NonceState.UNKNOWN


def test_nonces_are_fresh_and_carry_128_bits() -> None:
    store = InMemoryNonceStore(clock=Clock())
    nonces = {store.issue() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(nonce) >= 22 for nonce in nonces)
    assert len(store) == 100


def test_expired_nonces_are_forgotten_when_issuing() -> None:
    clock = Clock()
    store = InMemoryNonceStore(ttl=timedelta(minutes=1), clock=clock)
    used = store.issue()
    store.consume(used, now=NOW)
    store.issue()
    clock.moment = NOW + timedelta(minutes=5)
    store.issue()
    assert len(store) == 1
    assert store.consume(used, now=clock.moment) == NonceState.UNKNOWN


def test_the_store_is_bounded() -> None:
    store = InMemoryNonceStore(clock=Clock(), max_nonces=3)
    first = store.issue()
    for _ in range(3):
        store.issue()
    assert len(store) == 3
    assert store.consume(first, now=NOW) == NonceState.UNKNOWN


def test_concurrent_consumers_accept_a_nonce_once() -> None:
    store = InMemoryNonceStore(clock=Clock())
    nonce = store.issue()
    results: list[NonceState] = []
    barrier = threading.Barrier(8)

    def consume() -> None:
        barrier.wait()
        results.append(store.consume(nonce, now=NOW))

    threads = [threading.Thread(target=consume) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(NonceState.ACCEPTED) == 1
    assert results.count(NonceState.REPLAYED) == 7


@pytest.mark.parametrize(
    ("ttl", "max_nonces"), [(timedelta(0), 10), (timedelta(minutes=1), 0)]
)
def test_the_store_refuses_nonsense_settings(ttl: timedelta, max_nonces: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        InMemoryNonceStore(ttl=ttl, max_nonces=max_nonces)
