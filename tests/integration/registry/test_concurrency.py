"""Concurrent state changes on SQLite and PostgreSQL: exactly one winner.

Requests run from a thread pool against the ASGI app (the test client's portal
runs every sync route in the server's worker threads, each with its own session
and transaction). Every wait is bounded (``result(timeout=…)``).
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from registry import auth
from registry.models import TrustRole

from .conftest import START, make_key_holder
from .lifecycle_support import (
    EVIDENCE,
    bearer,
    build_app,
    item_subject,
    make_acceptance,
    make_offer,
    register,
    trust,
)

RACERS = 50
WAIT_SECONDS = 120


@pytest.fixture
def app(make_app, registry_engine, identity, clock):
    return build_app(make_app, registry_engine, identity, clock)


def _token(identity: Any, did: str) -> str:
    principal = auth.Principal(
        did=did,
        audience=identity.did,
        expires_at=START + timedelta(hours=1),
        token_id=uuid.uuid4().hex,
    )
    return auth.create_access_token(principal, identity=identity, now=START)


def _race(calls: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result(timeout=WAIT_SECONDS) for future in futures]


def _codes(responses: list[Any]) -> list[str]:
    return [str(r.json().get("code")) for r in responses if r.status_code >= 400]


def test_of_fifty_concurrent_transfers_exactly_one_wins(client, identity):
    seller = make_key_holder(41)
    seller_token = _token(identity, seller.did)
    item_did = register(client, seller_token, "SN-RACE-1")["item"]["did"]
    attempts = []
    for number in range(RACERS):
        buyer = make_key_holder(100 + number)
        offer = make_offer(seller, item_did=item_did, buyer=buyer.did)
        filed = client.post(
            "/v1/transfers/offers", json={"offer": offer}, headers=bearer(seller_token)
        )
        assert filed.status_code == 201, filed.text
        attempts.append(
            (
                filed.json()["id"],
                make_acceptance(buyer, offer),
                _token(identity, buyer.did),
            )
        )

    def accept(offer_id: str, acceptance: dict[str, Any], token: str) -> Any:
        return client.post(
            f"/v1/transfers/offers/{offer_id}/accept",
            json={"acceptance": acceptance},
            headers=bearer(token),
        )

    responses = _race([lambda a=a: accept(*a) for a in attempts])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), _codes(responses)
    assert set(_codes(responses)) == {"item.already-transferred"}
    winner = next(r for r in responses if r.status_code == 201).json()
    owned = client.get(
        "/v1/items", headers=bearer(_token(identity, winner["item"]["owner"]))
    )
    assert owned.json()["count"] == 1
    assert client.get("/v1/items", headers=bearer(seller_token)).json()["count"] == 0


def test_of_fifty_concurrent_registrations_of_one_serial_exactly_one_wins(
    client, identity
):
    body = {"self_asserted": {"item": item_subject("SN-RACE-2"), "evidence": EVIDENCE}}
    tokens = [_token(identity, make_key_holder(100 + n).did) for n in range(RACERS)]

    def register_one(token: str) -> Any:
        return client.post("/v1/items", json=body, headers=bearer(token))

    responses = _race([lambda t=t: register_one(t) for t in tokens])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), _codes(responses)
    assert set(_codes(responses)) == {"item.already-registered"}


@pytest.mark.parametrize("round_number", range(3))
def test_a_stolen_report_racing_a_transfer_never_leaves_it_transferred_while_stolen(
    client, identity, registry_engine, round_number
):
    seller = make_key_holder(51)
    buyer = make_key_holder(52)
    police = make_key_holder(53)
    trust(registry_engine, police.did, TrustRole.POLICE)
    seller_token = _token(identity, seller.did)
    item = register(client, seller_token, f"SN-RACE-3-{round_number}")["item"]
    offer = make_offer(seller, item_did=item["did"], buyer=buyer.did)
    offer_id = client.post(
        "/v1/transfers/offers", json={"offer": offer}, headers=bearer(seller_token)
    ).json()["id"]
    acceptance = make_acceptance(buyer, offer)

    def accept() -> Any:
        return client.post(
            f"/v1/transfers/offers/{offer_id}/accept",
            json={"acceptance": acceptance},
            headers=bearer(_token(identity, buyer.did)),
        )

    def confirm() -> Any:
        return client.post(
            f"/v1/items/{item['id']}/stolen",
            json={"reported_at": "2026-11-23T10:00:00Z", "police_report_number": "P"},
            headers=bearer(_token(identity, police.did), **{"If-Match": "*"}),
        )

    transfer, stolen = _race([accept, confirm])

    assert stolen.status_code == 200, stolen.text
    if transfer.status_code == 201:
        # the transfer committed first: the report came after it (version 2)
        assert stolen.json()["version"] == 2
    else:
        assert transfer.json()["code"] == "item.reported-stolen"
        assert stolen.json()["version"] == 1
