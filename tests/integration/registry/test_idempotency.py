"""``Idempotency-Key`` on POSTs: replay, mismatch, in flight; and ``If-Match``."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from registry.idempotency import IdempotencyMiddleware, IdempotencyStore
from registry.problems import install_handlers

from .conftest import (  # type: ignore[attr-defined]
    START,
    TestClient,
)
from .lifecycle_support import bearer, build_app, make_offer, register


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


def test_a_request_in_flight_blocks_its_retry():
    entered, release = threading.Event(), threading.Event()
    app = FastAPI()
    install_handlers(app)
    app.state.problem_base_uri = "https://registry.test/problems/"

    @app.post("/slow")
    def slow() -> dict[str, str]:
        entered.set()
        assert release.wait(timeout=60)
        return {"done": "yes"}

    app.add_middleware(IdempotencyMiddleware)
    headers = {"Idempotency-Key": "k"}
    with (
        TestClient(app, base_url="http://127.0.0.1") as client,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        first = pool.submit(client.post, "/slow", json={"a": 1}, headers=headers)
        assert entered.wait(timeout=60)
        retry = client.post("/slow", json={"a": 1}, headers=headers)
        release.set()
        assert first.result(timeout=60).status_code == 200
    assert retry.status_code == 409
    assert retry.json()["code"] == "idempotency.in-flight"


def test_stored_keys_expire():
    store = IdempotencyStore(ttl=timedelta(hours=1))
    assert store.begin("k", "body", now=START) is None
    store.finish("k", status=201, headers=[], body=b"{}")
    assert store.begin("k", "body", now=START) is not None
    assert store.begin("k", "other", now=START + timedelta(hours=2)) is None
