"""``Idempotency-Key`` on POSTs: replay, mismatch, in flight; and ``If-Match``.

The records are in the registry database, so two apps over one database (two
workers) share them; every test runs on SQLite and PostgreSQL.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import func
from sqlmodel import Session, select

from registry import deps
from registry.errors import IdempotencyInFlightError, IdempotencyMismatchError
from registry.idempotency import (
    DEFAULT_LEASE,
    DEFAULT_TTL,
    Claim,
    IdempotencyMiddleware,
    IdempotencyStore,
    StoredResponse,
)
from registry.problems import install_handlers
from registry.request_state import IdempotencyRecord

from .conftest import (  # type: ignore[attr-defined]
    START,
    TestClient,
)
from .lifecycle_support import bearer, build_app, make_offer, register

WAIT_SECONDS = 60
RACERS = 8


@pytest.fixture
def app(make_app, registry_engine, identity, clock):
    return build_app(make_app, registry_engine, identity, clock)


@pytest.fixture
def seller(make_holder):
    return make_holder(61)


@pytest.fixture
def seller_token(client, seller, authenticate):
    return authenticate(client, seller)


@pytest.fixture
def item_did(client, seller_token):
    return register(client, seller_token, "SN-IDEM-1")["item"]["did"]


def _file(client: Any, token: str, offer: Any, key: str) -> Any:
    return client.post(
        "/v1/transfers/offers",
        json={"offer": offer},
        headers=bearer(token, **{"Idempotency-Key": key}),
    )


def test_same_key_and_body_replays_the_stored_response(
    client, seller, seller_token, item_did, make_holder
):
    offer = make_offer(seller, item_did=item_did, buyer=make_holder(62).did)
    first = _file(client, seller_token, offer, "key-1")
    again = _file(client, seller_token, offer, "key-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # without the key the same offer is a replay the registry refuses
    plain = client.post(
        "/v1/transfers/offers", json={"offer": offer}, headers=bearer(seller_token)
    )
    assert plain.json()["code"] == "transfer.replayed"


def test_same_key_with_another_body_is_refused(
    client, seller, seller_token, item_did, make_holder, assert_problem
):
    buyer = make_holder(62).did
    first = make_offer(seller, item_did=item_did, buyer=buyer)
    second = make_offer(seller, item_did=item_did, buyer=buyer)
    assert _file(client, seller_token, first, "key-2").status_code == 201
    assert_problem(
        _file(client, seller_token, second, "key-2"),
        status=422,
        code="idempotency.mismatch",
    )


def test_keys_are_per_caller(
    client, seller, seller_token, item_did, make_holder, authenticate
):
    offer = make_offer(seller, item_did=item_did, buyer=make_holder(62).did)
    assert _file(client, seller_token, offer, "key-3").status_code == 201
    other = authenticate(client, make_holder(63))
    # another caller's identical key runs anew (and is refused on its merits)
    assert _file(client, other, offer, "key-3").json()["code"] == "auth.forbidden"


def test_an_empty_key_is_refused(client, assert_problem):
    # an invalid key is refused before anything runs
    assert_problem(
        client.post("/v1/stolen-check", json={}, headers={"Idempotency-Key": ""}),
        status=400,
        code="request.invalid",
    )


def test_a_key_used_on_one_worker_replays_on_another(
    make_app, registry_engine, identity, clock, seller, make_holder, authenticate
):
    # two registry apps over one database: two workers behind a balancer
    first, second = (
        build_app(make_app, registry_engine, identity, clock) for _ in range(2)
    )
    with _client(first) as one, _client(second) as two:
        token = authenticate(one, seller)
        item_did = register(one, token, "SN-IDEM-2")["item"]["did"]
        offer = make_offer(seller, item_did=item_did, buyer=make_holder(62).did)
        filed = _file(one, token, offer, "key-w")
        again = _file(two, token, offer, "key-w")
    assert filed.status_code == again.status_code == 201
    assert again.json() == filed.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Content-Type"] == filed.headers["Content-Type"]


@dataclass
class Operation:
    """A POST handler that counts its runs; ``hold_first`` keeps the first one
    running until ``release``."""

    runs: int = 0
    hold_first: bool = False
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> dict[str, int]:
        with self.lock:
            self.runs += 1
            run = self.runs
        if self.hold_first and run == 1:
            self.entered.set()
            assert self.release.wait(timeout=WAIT_SECONDS)
        return {"run": run}


@pytest.fixture
def operation() -> Operation:
    return Operation()


@pytest.fixture
def worker_app(registry_engine, settings, clock, operation) -> Callable[[], FastAPI]:
    """``worker_app()``: a small app with the middleware over the test database, on
    the test's clock (through the app's ``get_clock``, as the registry app)."""

    def build() -> FastAPI:
        app = FastAPI()
        install_handlers(app)
        app.state.problem_base_uri = settings.problem_base_uri
        app.state.settings = settings
        app.state.engine = registry_engine
        app.dependency_overrides[deps.get_clock] = lambda: clock
        app.post("/run")(operation)
        app.add_middleware(IdempotencyMiddleware)
        return app

    return build


def _client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


def _run(client: Any, key: str = "k", body: Any = None) -> Any:
    return client.post("/run", json=body or {"a": 1}, headers={"Idempotency-Key": key})


def test_a_request_in_flight_blocks_its_retry(worker_app, operation):
    operation.hold_first = True
    with _client(worker_app()) as client, ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(_run, client)
        assert operation.entered.wait(timeout=WAIT_SECONDS)
        retry = _run(client)
        operation.release.set()
        assert first.result(timeout=WAIT_SECONDS).status_code == 200
    assert retry.status_code == 409
    assert retry.json()["code"] == "idempotency.in-flight"


def test_a_request_in_flight_on_one_worker_blocks_its_retry_on_another(
    worker_app, operation
):
    operation.hold_first = True
    with (
        _client(worker_app()) as one,
        _client(worker_app()) as two,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        first = pool.submit(_run, one)
        assert operation.entered.wait(timeout=WAIT_SECONDS)
        retry = _run(two)
        operation.release.set()
        assert first.result(timeout=WAIT_SECONDS).json() == {"run": 1}
        replayed = _run(two)
    assert retry.status_code == 409
    assert retry.json()["code"] == "idempotency.in-flight"
    assert replayed.json() == {"run": 1}
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert operation.runs == 1


def test_another_body_on_another_worker_is_a_mismatch(worker_app, assert_problem):
    with _client(worker_app()) as one, _client(worker_app()) as two:
        assert _run(one, body={"a": 1}).status_code == 200
        assert_problem(
            _run(two, body={"a": 2}), status=422, code="idempotency.mismatch"
        )


def test_concurrent_retries_run_the_operation_once(worker_app, operation):
    apps = [worker_app(), worker_app()]
    with _client(apps[0]) as one, _client(apps[1]) as two:
        clients = [one, two] * (RACERS // 2)
        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            futures = [pool.submit(_run, client) for client in clients]
            responses = [future.result(timeout=WAIT_SECONDS) for future in futures]
    assert operation.runs == 1
    assert {r.status_code for r in responses} <= {200, 409}
    first_runs = [
        r
        for r in responses
        if r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    ]
    assert len(first_runs) == 1
    assert all(r.json() == {"run": 1} for r in responses if r.status_code == 200)


def test_a_failed_request_forgets_its_key(worker_app, operation, registry_engine):
    failing = {"fail": True}

    def flaky() -> dict[str, int]:
        if failing["fail"]:
            raise RuntimeError("the operation failed")
        return operation()

    app = worker_app()
    app.post("/flaky")(flaky)
    with TestClient(
        app, base_url="http://127.0.0.1", raise_server_exceptions=False
    ) as client:
        headers = {"Idempotency-Key": "k-flaky"}
        assert client.post("/flaky", json={}, headers=headers).status_code == 500
        assert _count(registry_engine) == 0
        failing["fail"] = False
        retried = client.post("/flaky", json={}, headers=headers)
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried.headers


@pytest.mark.parametrize("status", [429, 503])
def test_a_429_or_5xx_answer_is_not_stored(worker_app, operation, status):
    answers = [status, 200]

    def unavailable() -> JSONResponse:
        operation()
        return JSONResponse({}, status_code=answers.pop(0))

    app = worker_app()
    app.post("/unavailable")(unavailable)
    with _client(app) as client:
        headers = {"Idempotency-Key": "k-unavailable"}
        assert client.post("/unavailable", json={}, headers=headers).status_code == (
            status
        )
        retried = client.post("/unavailable", json={}, headers=headers)
    assert retried.status_code == 200
    assert operation.runs == 2


def test_an_abandoned_request_is_taken_over_after_the_lease(
    worker_app, operation, clock
):
    # The first worker holds the key past the lease (as if it had died with it):
    # the second takes the key over; the first's late answer is not stored.
    operation.hold_first = True
    with (
        _client(worker_app()) as one,
        _client(worker_app()) as two,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        first = pool.submit(_run, one)
        assert operation.entered.wait(timeout=WAIT_SECONDS)
        clock.advance(DEFAULT_LEASE.total_seconds() - 1)
        assert _run(two).status_code == 409
        clock.advance(1)
        taken_over = _run(two)
        operation.release.set()
        assert first.result(timeout=WAIT_SECONDS).json() == {"run": 1}
        replayed = _run(one)
    assert taken_over.json() == {"run": 2}
    assert "Idempotent-Replayed" not in taken_over.headers
    assert replayed.json() == {"run": 2}
    assert replayed.headers["Idempotent-Replayed"] == "true"


def test_an_expired_key_runs_again(worker_app, operation, clock):
    with _client(worker_app()) as client:
        assert _run(client).json() == {"run": 1}
        clock.advance(DEFAULT_TTL.total_seconds() - 1)
        assert _run(client).headers["Idempotent-Replayed"] == "true"
        clock.advance(1)
        again = _run(client, body={"another": "body"})
    assert again.json() == {"run": 2}
    assert "Idempotent-Replayed" not in again.headers


def test_stored_keys_expire(registry_engine):
    store = IdempotencyStore(ttl=timedelta(hours=1))
    claim = store.begin(registry_engine, "k", fingerprint="body", now=START)
    assert claim == Claim("k", START)
    store.finish(
        registry_engine,
        claim,
        status=201,
        headers=[(b"content-type", b"application/json")],
        body=b"{}",
    )
    assert store.begin(
        registry_engine, "k", fingerprint="body", now=START
    ) == StoredResponse(201, ((b"content-type", b"application/json"),), b"{}")
    with pytest.raises(IdempotencyMismatchError):
        store.begin(registry_engine, "k", fingerprint="other", now=START)
    later = START + timedelta(hours=1)
    assert store.begin(registry_engine, "k", fingerprint="other", now=later) == Claim(
        "k", later
    )


def test_a_lost_claim_stores_and_forgets_nothing(registry_engine):
    store = IdempotencyStore()
    stale = store.begin(registry_engine, "k", fingerprint="body", now=START)
    assert isinstance(stale, Claim)
    with pytest.raises(IdempotencyInFlightError):
        store.begin(
            registry_engine, "k", fingerprint="body", now=START + DEFAULT_LEASE / 2
        )
    later = START + DEFAULT_LEASE
    current = store.begin(registry_engine, "k", fingerprint="body", now=later)
    assert current == Claim("k", later)
    store.finish(registry_engine, stale, status=201, headers=[], body=b"stale")
    store.forget(registry_engine, stale)
    with pytest.raises(IdempotencyInFlightError):
        store.begin(registry_engine, "k", fingerprint="body", now=later)
    store.finish(registry_engine, current, status=201, headers=[], body=b"current")
    replay = store.begin(registry_engine, "k", fingerprint="body", now=later)
    assert replay == StoredResponse(201, (), b"current")


def test_of_concurrent_claims_of_one_key_exactly_one_wins(registry_engine):
    store = IdempotencyStore()
    barrier = threading.Barrier(RACERS)

    def claim() -> str:
        barrier.wait(timeout=WAIT_SECONDS)
        try:
            store.begin(registry_engine, "k", fingerprint="body", now=START)
        except IdempotencyInFlightError as exc:
            return exc.code
        return "claimed"

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        futures = [pool.submit(claim) for _ in range(RACERS)]
        outcomes = sorted(future.result(timeout=WAIT_SECONDS) for future in futures)
    assert outcomes == ["claimed"] + ["idempotency.in-flight"] * (RACERS - 1)


def test_expired_records_are_swept_in_bounded_batches(registry_engine):
    store = IdempotencyStore(ttl=timedelta(hours=1))
    for number in range(3):
        claim = store.begin(
            registry_engine, f"k{number}", fingerprint="body", now=START
        )
        assert isinstance(claim, Claim)
        store.finish(registry_engine, claim, status=200, headers=[], body=b"")
    fresh = START + timedelta(minutes=30)
    assert isinstance(
        store.begin(registry_engine, "fresh", fingerprint="body", now=fresh), Claim
    )
    assert store.sweep(registry_engine, now=START + timedelta(minutes=59)) == 0
    assert store.sweep(registry_engine, now=START + timedelta(hours=1)) == 3
    assert _count(registry_engine) == 1


def test_claims_sweep_now_and_then_not_on_every_request(registry_engine):
    store = IdempotencyStore(ttl=timedelta(hours=1))

    def claim(key: str, minutes: int) -> None:
        now = START + timedelta(minutes=minutes)
        assert isinstance(
            store.begin(registry_engine, key, fingerprint="b", now=now), Claim
        )

    claim("old", 0)  # sweeps (nothing yet); the next sweep is due in 5 minutes
    claim("mid", 2)
    claim("a", 60)  # sweeps "old"
    assert _count(registry_engine) == 2
    claim("b", 63)  # "mid" has expired, but no sweep is due
    assert _count(registry_engine) == 3
    claim("c", 65)  # sweeps "mid"
    assert _count(registry_engine) == 3


def _count(engine: Any) -> int:
    with Session(engine) as session:
        return int(
            session.exec(select(func.count()).select_from(IdempotencyRecord)).one()
        )
