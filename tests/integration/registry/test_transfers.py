"""Two-party transfer (``/v1/transfers``) and custody, on SQLite and PostgreSQL:
each rule with its code, and a refused transfer changes nothing."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from did_vault import (
    CredentialRevokedError,
    Resolver,
    StatusListChecker,
    resolve_did_key,
    verify_credential,
)
from registry.models import OwnershipRecord, TransferRecord

from .conftest import START
from .lifecycle_support import (
    bearer,
    build_app,
    make_acceptance,
    make_offer,
    register,
)
from .test_items import ClientFetcher


@pytest.fixture
def app(make_app, registry_engine, identity, clock):
    return build_app(make_app, registry_engine, identity, clock)


@pytest.fixture
def seller(make_holder):
    return make_holder(11)


@pytest.fixture
def buyer(make_holder):
    return make_holder(12)


@pytest.fixture
def seller_token(client, seller, authenticate):
    return authenticate(client, seller)


@pytest.fixture
def buyer_token(client, buyer, authenticate):
    return authenticate(client, buyer)


@pytest.fixture
def registered(client, seller_token):
    return register(
        client,
        seller_token,
        "SN-1",
        acquisition={"price": {"amount": "1200.00", "currency": "EUR"}},
    )


def _file(client: Any, token: str, offer: dict[str, Any]) -> Any:
    return client.post(
        "/v1/transfers/offers", json={"offer": offer}, headers=bearer(token)
    )


def _accept(client: Any, token: str, offer_id: str, acceptance: dict[str, Any]) -> Any:
    return client.post(
        f"/v1/transfers/offers/{offer_id}/accept",
        json={"acceptance": acceptance},
        headers=bearer(token),
    )


def _transfer(
    client: Any,
    seller: Any,
    seller_token: str,
    buyer: Any,
    buyer_token: str,
    item_did: str,
    **offer: Any,
) -> Any:
    signed = make_offer(seller, item_did=item_did, buyer=buyer.did, **offer)
    filed = _file(client, seller_token, signed)
    assert filed.status_code == 201, filed.text
    return _accept(
        client, buyer_token, filed.json()["id"], make_acceptance(buyer, signed)
    )


def _counts(engine: Any) -> tuple[int, int]:
    with Session(engine) as session:
        transfers = session.execute(select(func.count()).select_from(TransferRecord))
        ownerships = session.execute(select(func.count()).select_from(OwnershipRecord))
        return int(transfers.scalar_one()), int(ownerships.scalar_one())


def test_transfer_moves_ownership_revokes_seller_and_issues_buyer_credential(
    client, seller, buyer, seller_token, buyer_token, registered, identity
):
    item_did = registered["item"]["did"]
    price = {"amount": "950.00", "currency": "EUR"}
    response = _transfer(
        client, seller, seller_token, buyer, buyer_token, item_did, price=price
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["transfer"]["seller"] == seller.did
    assert body["transfer"]["buyer"] == buyer.did
    assert body["item"]["owner"] == buyer.did
    owns = body["credential"]["credentialSubject"]["owns"]
    assert body["credential"]["credentialSubject"]["id"] == buyer.did
    assert owns["acquiredFrom"] == {"id": seller.did}
    assert owns["acquisition"]["price"] == price
    assert [e["digestMultibase"] for e in owns["evidence"]] == [
        body["transfer"]["offer_digest"],
        body["transfer"]["acceptance_digest"],
    ]
    assert body["sd_jwt_credential"].count("~") > 1
    # the seller no longer sees it; the buyer does
    assert client.get("/v1/items", headers=bearer(seller_token)).json()["count"] == 0
    mine = client.get("/v1/items", headers=bearer(buyer_token)).json()
    assert [entry["did"] for entry in mine["data"]] == [item_did]
    # both parties see the transfer in their history
    for token in (seller_token, buyer_token):
        history = client.get("/v1/transfers", headers=bearer(token)).json()
        assert history["count"] == 1


def test_transfer_revokes_the_sellers_credential_in_the_status_list(
    client, seller, buyer, seller_token, buyer_token, registered, identity, clock
):
    old = registered["credential"]
    response = _transfer(
        client, seller, seller_token, buyer, buyer_token, registered["item"]["did"]
    )
    assert response.status_code == 201, response.text
    resolver = Resolver({"key": resolve_did_key, "web": lambda _did: identity.document})
    checker = StatusListChecker(
        fetcher=ClientFetcher(client),
        verify_list=lambda c, *, now: verify_credential(c, resolver=resolver, now=now),
        clock=clock,
    )
    with pytest.raises(CredentialRevokedError):
        verify_credential(old, resolver=resolver, now=clock(), status_checker=checker)
    verify_credential(
        response.json()["credential"],
        resolver=resolver,
        now=clock(),
        status_checker=checker,
    )


def test_refused_acceptance_stores_nothing(
    client,
    seller,
    buyer,
    seller_token,
    buyer_token,
    registered,
    registry_engine,
    assert_problem,
):
    before = _counts(registry_engine)
    signed = make_offer(seller, item_did=registered["item"]["did"], buyer=buyer.did)
    filed = _file(client, seller_token, signed).json()
    bad = make_acceptance(buyer, signed, nonce="x" * 32)
    assert_problem(
        _accept(client, buyer_token, filed["id"], bad),
        status=422,
        code="transfer.mismatch",
    )
    assert _counts(registry_engine) == before


def test_replayed_offer_is_refused(
    client, seller, buyer, seller_token, registered, assert_problem
):
    signed = make_offer(seller, item_did=registered["item"]["did"], buyer=buyer.did)
    assert _file(client, seller_token, signed).status_code == 201
    assert_problem(
        _file(client, seller_token, signed), status=409, code="transfer.replayed"
    )


def test_accepting_twice_is_refused_as_replayed(
    client, seller, buyer, seller_token, buyer_token, registered, assert_problem
):
    signed = make_offer(seller, item_did=registered["item"]["did"], buyer=buyer.did)
    offer_id = _file(client, seller_token, signed).json()["id"]
    acceptance = make_acceptance(buyer, signed)
    assert _accept(client, buyer_token, offer_id, acceptance).status_code == 201
    assert_problem(
        _accept(client, buyer_token, offer_id, acceptance),
        status=409,
        code="transfer.replayed",
    )


def test_expired_offer_is_refused_when_filed(
    client, seller, buyer, seller_token, registered, assert_problem
):
    signed = make_offer(
        seller,
        item_did=registered["item"]["did"],
        buyer=buyer.did,
        valid_through=START - timedelta(seconds=1),
    )
    assert_problem(
        _file(client, seller_token, signed), status=422, code="transfer.expired"
    )


def test_offer_expiring_before_acceptance_is_refused(
    client, seller, buyer, seller_token, buyer_token, registered, clock, assert_problem
):
    signed = make_offer(
        seller,
        item_did=registered["item"]["did"],
        buyer=buyer.did,
        valid_through=START + timedelta(minutes=5),
    )
    offer_id = _file(client, seller_token, signed).json()["id"]
    clock.advance(301)
    assert_problem(
        _accept(client, buyer_token, offer_id, make_acceptance(buyer, signed)),
        status=422,
        code="transfer.expired",
    )


def test_self_transfer_is_refused(
    client, seller, seller_token, registered, assert_problem
):
    signed = make_offer(seller, item_did=registered["item"]["did"], buyer=seller.did)
    assert_problem(
        _file(client, seller_token, signed), status=422, code="transfer.self"
    )


def test_offer_by_someone_who_does_not_own_the_item_is_refused(
    client, seller, buyer, buyer_token, registered, make_holder, assert_problem
):
    # the buyer signs an offer for the seller's item
    third = make_holder(13)
    signed = make_offer(buyer, item_did=registered["item"]["did"], buyer=third.did)
    assert_problem(
        _file(client, buyer_token, signed), status=409, code="transfer.not-owner"
    )


def test_offer_filed_by_another_did_than_its_seller_is_forbidden(
    client, seller, buyer, buyer_token, registered, assert_problem
):
    signed = make_offer(seller, item_did=registered["item"]["did"], buyer=buyer.did)
    assert_problem(
        _file(client, buyer_token, signed), status=403, code="auth.forbidden"
    )


def test_double_transfer_is_refused(
    client,
    seller,
    buyer,
    seller_token,
    buyer_token,
    registered,
    make_holder,
    authenticate,
    assert_problem,
):
    item_did = registered["item"]["did"]
    other = make_holder(14)
    other_token = authenticate(client, other)
    first = make_offer(seller, item_did=item_did, buyer=buyer.did)
    second = make_offer(seller, item_did=item_did, buyer=other.did)
    first_id = _file(client, seller_token, first).json()["id"]
    second_id = _file(client, seller_token, second).json()["id"]
    ok = _accept(client, buyer_token, first_id, make_acceptance(buyer, first))
    assert ok.status_code == 201, ok.text
    assert_problem(
        _accept(client, other_token, second_id, make_acceptance(other, second)),
        status=409,
        code="item.already-transferred",
    )


def test_offer_for_unknown_item_is_not_found(
    client, seller, buyer, seller_token, registered, assert_problem
):
    signed = make_offer(
        seller, item_did="did:web:registry.test:items:nosuchitem0000", buyer=buyer.did
    )
    assert_problem(
        _file(client, seller_token, signed), status=404, code="item.not-found"
    )


def test_acceptance_by_another_did_finds_no_offer(
    client,
    seller,
    buyer,
    seller_token,
    registered,
    make_holder,
    authenticate,
    assert_problem,
):
    signed = make_offer(seller, item_did=registered["item"]["did"], buyer=buyer.did)
    offer_id = _file(client, seller_token, signed).json()["id"]
    intruder = make_holder(15)
    token = authenticate(client, intruder)
    assert_problem(
        _accept(client, token, offer_id, make_acceptance(intruder, signed)),
        status=404,
        code="transfer.offer-not-found",
    )
    assert_problem(
        client.get(f"/v1/transfers/offers/{offer_id}", headers=bearer(token)),
        status=404,
        code="transfer.offer-not-found",
    )


def test_tampered_offer_signature_is_refused(
    client, seller, buyer, seller_token, registered, assert_problem
):
    signed = make_offer(seller, item_did=registered["item"]["did"], buyer=buyer.did)
    signed["credentialSubject"]["price"] = {"amount": "1.00", "currency": "EUR"}
    response = _file(client, seller_token, signed)
    assert response.status_code == 422
    assert response.json()["code"].startswith("proof.")


def test_buyer_sees_the_offer_and_lists_it(
    client, seller, buyer, seller_token, buyer_token, registered
):
    signed = make_offer(seller, item_did=registered["item"]["did"], buyer=buyer.did)
    offer_id = _file(client, seller_token, signed).json()["id"]
    read = client.get(f"/v1/transfers/offers/{offer_id}", headers=bearer(buyer_token))
    assert read.status_code == 200
    assert read.json()["offer"] == signed
    listed = client.get("/v1/transfers/offers", headers=bearer(buyer_token)).json()
    assert [entry["id"] for entry in listed["data"]] == [offer_id]


def test_transfer_needs_a_token(client, assert_problem):
    assert_problem(
        client.post("/v1/transfers/offers", json={"offer": {}}),
        status=401,
        code="auth.required",
    )


# --- custody ------------------------------------------------------------------------


def _etag(client: Any, token: str, item_id: str) -> str:
    response = client.get(f"/v1/items/{item_id}/state", headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.headers["ETag"])


def test_custody_is_recorded_without_changing_the_owner(
    client, seller, seller_token, registered, make_holder, authenticate
):
    item_id = registered["item"]["id"]
    repairer = make_holder(16)
    started = client.post(
        f"/v1/items/{item_id}/custody",
        json={"custodian": repairer.did, "purpose": "repair"},
        headers=bearer(
            seller_token, **{"If-Match": _etag(client, seller_token, item_id)}
        ),
    )
    assert started.status_code == 201, started.text
    assert started.json()["custodian"] == repairer.did
    # still the owner's item
    assert client.get("/v1/items", headers=bearer(seller_token)).json()["count"] == 1
    state = client.get(f"/v1/items/{item_id}/state", headers=bearer(seller_token))
    assert state.json()["custody"]["purpose"] == "repair"
    # the custodian records the return
    repairer_token = authenticate(client, repairer)
    returned = client.post(
        f"/v1/items/{item_id}/custody/return",
        headers=bearer(
            repairer_token, **{"If-Match": _etag(client, seller_token, item_id)}
        ),
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["returned_at"] is not None
    history = client.get(f"/v1/items/{item_id}/custody", headers=bearer(seller_token))
    assert history.json()["count"] == 1


def test_custody_twice_is_refused(
    client, seller_token, registered, make_holder, assert_problem
):
    item_id = registered["item"]["id"]
    body = {"custodian": make_holder(16).did, "purpose": "loan"}
    first = client.post(
        f"/v1/items/{item_id}/custody",
        json=body,
        headers=bearer(seller_token, **{"If-Match": "*"}),
    )
    assert first.status_code == 201
    assert_problem(
        client.post(
            f"/v1/items/{item_id}/custody",
            json=body,
            headers=bearer(seller_token, **{"If-Match": "*"}),
        ),
        status=409,
        code="custody.state-invalid",
    )


@pytest.mark.parametrize("note", ["left at\x00the shop", "bell\x07"])
def test_custody_note_with_a_control_character_is_a_request_problem(
    client, seller_token, registered, make_holder, assert_problem, note
):
    # Found by the API fuzzer's probes: a NUL answered 500 on PostgreSQL.
    item_id = registered["item"]["id"]
    body = {"custodian": make_holder(16).did, "purpose": "repair", "note": note}
    assert_problem(
        client.post(
            f"/v1/items/{item_id}/custody",
            json=body,
            headers=bearer(seller_token, **{"If-Match": "*"}),
        ),
        status=400,
        code="request.invalid",
    )
    history = client.get(f"/v1/items/{item_id}/custody", headers=bearer(seller_token))
    assert history.json()["count"] == 0


def test_custody_needs_if_match(
    client, seller_token, registered, make_holder, assert_problem
):
    item_id = registered["item"]["id"]
    body = {"custodian": make_holder(16).did, "purpose": "loan"}
    assert_problem(
        client.post(
            f"/v1/items/{item_id}/custody", json=body, headers=bearer(seller_token)
        ),
        status=428,
        code="precondition.required",
    )
    assert_problem(
        client.post(
            f"/v1/items/{item_id}/custody",
            json=body,
            headers=bearer(seller_token, **{"If-Match": '"stale.99"'}),
        ),
        status=412,
        code="precondition.failed",
    )


def test_registry_client_drives_a_transfer(
    client, seller, buyer, seller_token, buyer_token, registered
):
    from registry.client import RegistryClient

    calls = RegistryClient(client)
    offer = make_offer(seller, item_did=registered["item"]["did"], buyer=buyer.did)
    filed = calls.create_offer(seller_token, offer, idempotency_key="k-1")
    assert calls.get_offer(buyer_token, filed.id).offer == offer
    result = calls.accept_offer(buyer_token, filed.id, make_acceptance(buyer, offer))
    assert result.item.owner == buyer.did
    assert calls.transfers(seller_token).count == 1
    assert calls.list_offers(buyer_token).count == 0


def test_item_did_document_names_the_current_owner_as_controller(
    client, seller, buyer, seller_token, buyer_token, registered, identity
):
    item = registered["item"]
    before = client.get(f"/items/{item['id']}/did.json").json()
    assert before["id"] == item["did"]
    assert before["controller"] == [identity.did, seller.did]
    response = _transfer(client, seller, seller_token, buyer, buyer_token, item["did"])
    assert response.status_code == 201
    after = client.get(f"/items/{item['id']}/did.json").json()
    assert after["controller"] == [identity.did, buyer.did]


def test_transfer_is_logged_with_a_receipt_for_the_buyer(
    client, seller, buyer, seller_token, buyer_token, registered
):
    response = _transfer(
        client, seller, seller_token, buyer, buyer_token, registered["item"]["did"]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["opening"]["event"]["type"] == "transfer"
    assert body["opening"]["event"]["itemId"] == registered["item"]["id"]
    assert body["receipt"]["leafIndex"] > registered["receipt"]["leafIndex"]


def test_buyers_credential_carries_the_transfer_receipt(
    client, seller, buyer, seller_token, buyer_token, registered
):
    body = _transfer(
        client, seller, seller_token, buyer, buyer_token, registered["item"]["did"]
    ).json()
    receipt = body["credential"]["credentialSubject"]["owns"]["registryReceipt"]
    assert receipt["logIndex"] == body["receipt"]["leafIndex"]
