"""Transfer offers to a one-time claim code, on SQLite and PostgreSQL: whoever
accepts with the code becomes the buyer, once; a wrong or missing code changes
nothing."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from did_vault import items
from registry.lifecycle import document_digest
from registry.models import OwnershipRecord, TransferOfferRecord, TransferRecord

from .conftest import START
from .lifecycle_support import (
    CONTEXT,
    bearer,
    build_app,
    make_acceptance,
    make_offer,
    register,
    sign,
)

CODE = "K7QXM-3RT2A-VB6LN-Q4ZHD-E5W2P"


@pytest.fixture
def app(make_app, registry_engine, identity, clock):
    return build_app(make_app, registry_engine, identity, clock)


@pytest.fixture
def seller(make_holder):
    return make_holder(31)


@pytest.fixture
def buyer(make_holder):
    return make_holder(32)


@pytest.fixture
def seller_token(client, seller, authenticate):
    return authenticate(client, seller)


@pytest.fixture
def buyer_token(client, buyer, authenticate):
    return authenticate(client, buyer)


@pytest.fixture
def item_did(client, seller_token):
    return register(client, seller_token, "SN-CLAIM-1")["item"]["did"]


@pytest.fixture
def offered(client, seller, seller_token, item_did):
    """A filed offer to the claim code: (signed offer, offer id)."""
    signed = make_offer(seller, item_did=item_did, claim_code=CODE)
    filed = client.post(
        "/v1/transfers/offers", json={"offer": signed}, headers=bearer(seller_token)
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["buyer"] is None
    return signed, filed.json()["id"]


def _claim(client: Any, token: str, offer_id: str, code: str) -> Any:
    return client.post(
        f"/v1/transfers/offers/{offer_id}/claim",
        json={"claim_code": code},
        headers=bearer(token),
    )


def _accept(
    client: Any, token: str, offer_id: str, acceptance: Any, code: str | None
) -> Any:
    body: dict[str, Any] = {"acceptance": acceptance}
    if code is not None:
        body["claim_code"] = code
    return client.post(
        f"/v1/transfers/offers/{offer_id}/accept", json=body, headers=bearer(token)
    )


def _counts(engine: Any) -> tuple[int, int]:
    with Session(engine) as session:
        transfers = session.execute(select(func.count()).select_from(TransferRecord))
        ownerships = session.execute(select(func.count()).select_from(OwnershipRecord))
        return int(transfers.scalar_one()), int(ownerships.scalar_one())


def test_the_code_holder_reads_accepts_and_becomes_the_owner(
    client, seller, buyer, buyer_token, seller_token, offered, item_did
):
    signed, offer_id = offered
    # the buyer types the code loosely; it still opens the offer
    read = _claim(client, buyer_token, offer_id, CODE.lower().replace("-", " "))
    assert read.status_code == 200, read.text
    assert read.json()["offer"] == signed
    # reading claims nothing: the buyer is still open
    assert read.json()["buyer"] is None

    accepted = _accept(
        client, buyer_token, offer_id, make_acceptance(buyer, signed), CODE
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["item"]["owner"] == buyer.did
    assert body["transfer"]["buyer"] == buyer.did
    assert body["transfer"]["seller"] == seller.did
    owns = body["credential"]["credentialSubject"]["owns"]
    assert owns["acquiredFrom"] == {"id": seller.did}
    # the offer now names its buyer, who sees it like any other of their offers
    seen = client.get(f"/v1/transfers/offers/{offer_id}", headers=bearer(buyer_token))
    assert seen.status_code == 200
    assert seen.json()["buyer"] == buyer.did
    assert seen.json()["accepted"] is True


def test_the_signed_offer_carries_the_digest_not_the_code(offered):
    signed, _ = offered
    subject = signed["credentialSubject"]
    assert "buyer" not in subject
    assert CODE not in str(signed)
    assert subject["claimCodeDigest"] == items.claim_code_digest(
        CODE, nonce=subject["nonce"]
    )


@pytest.mark.parametrize("code", [None, "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "nonsense"])
def test_a_missing_or_wrong_code_is_refused_and_changes_nothing(
    client, buyer, buyer_token, offered, registry_engine, assert_problem, code
):
    signed, offer_id = offered
    before = _counts(registry_engine)
    refused = _accept(
        client, buyer_token, offer_id, make_acceptance(buyer, signed), code
    )
    assert_problem(refused, status=403, code="transfer.claim-code-invalid")
    assert _counts(registry_engine) == before
    if code is not None:
        assert_problem(
            _claim(client, buyer_token, offer_id, code),
            status=403,
            code="transfer.claim-code-invalid",
        )
    with Session(registry_engine) as session:
        db_offer = session.get(TransferOfferRecord, offer_id)
        assert db_offer is not None
        assert db_offer.buyer_did is None
        assert db_offer.accepted_at is None


def test_the_code_is_spent_with_the_first_acceptance(
    client, buyer, buyer_token, offered, make_holder, authenticate, assert_problem
):
    signed, offer_id = offered
    first = _accept(client, buyer_token, offer_id, make_acceptance(buyer, signed), CODE)
    assert first.status_code == 201, first.text
    late = make_holder(33)
    late_token = authenticate(client, late)
    assert_problem(
        _claim(client, late_token, offer_id, CODE),
        status=409,
        code="transfer.replayed",
    )
    assert_problem(
        _accept(client, late_token, offer_id, make_acceptance(late, signed), CODE),
        status=409,
        code="transfer.replayed",
    )


def test_the_seller_cannot_claim_their_own_offer(
    client, seller, seller_token, offered, assert_problem
):
    signed, offer_id = offered
    assert_problem(
        _claim(client, seller_token, offer_id, CODE), status=422, code="transfer.self"
    )
    # the schema already refuses an acceptance with seller = buyer; sign one by hand
    offered = signed["credentialSubject"]
    own = sign(
        seller,
        {
            "@context": list(CONTEXT),
            "type": ["VerifiableCredential", items.TRANSFER_ACCEPTANCE_CREDENTIAL],
            "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
            "issuer": seller.did,
            "validFrom": items.format_date_time(START - timedelta(minutes=1)),
            "credentialSubject": {
                "type": "TransferAcceptance",
                "item": offered["item"],
                "seller": seller.did,
                "buyer": seller.did,
                "nonce": offered["nonce"],
                "offer": {
                    "id": signed["id"],
                    "digestMultibase": document_digest(signed),
                },
                "acceptedAt": items.format_date_time(START),
            },
        },
    )
    assert_problem(
        _accept(client, seller_token, offer_id, own, CODE),
        status=422,
        code="transfer.self",
    )


def test_an_acceptance_naming_another_buyer_is_a_mismatch(
    client, buyer_token, offered, make_holder, assert_problem
):
    signed, offer_id = offered
    someone_else = make_acceptance(make_holder(34), signed)
    assert_problem(
        _accept(client, buyer_token, offer_id, someone_else, CODE),
        status=422,
        code="transfer.mismatch",
    )


def test_an_offer_to_a_named_buyer_takes_no_claim_code(
    client, seller, seller_token, buyer, buyer_token, item_did, assert_problem
):
    signed = make_offer(seller, item_did=item_did, buyer=buyer.did)
    filed = client.post(
        "/v1/transfers/offers", json={"offer": signed}, headers=bearer(seller_token)
    )
    offer_id = filed.json()["id"]
    assert_problem(
        _claim(client, buyer_token, offer_id, CODE),
        status=404,
        code="transfer.offer-not-found",
    )
    assert_problem(
        _accept(client, buyer_token, offer_id, make_acceptance(buyer, signed), CODE),
        status=400,
        code="request.invalid",
    )


def test_an_offer_with_both_buyer_and_code_is_refused(
    client, seller, seller_token, buyer, item_did, assert_problem
):
    signed = make_offer(seller, item_did=item_did, buyer=buyer.did, claim_code=CODE)
    refused = client.post(
        "/v1/transfers/offers", json={"offer": signed}, headers=bearer(seller_token)
    )
    assert_problem(refused, status=422, code="item.schema-invalid")


def test_unclaimed_offers_are_listed_for_the_seller_only(
    client, seller_token, buyer_token, offered
):
    _, offer_id = offered
    mine = client.get("/v1/transfers/offers", headers=bearer(seller_token)).json()
    assert [o["id"] for o in mine["data"]] == [offer_id]
    theirs = client.get("/v1/transfers/offers", headers=bearer(buyer_token)).json()
    assert theirs["data"] == []


def test_concurrent_claims_of_one_code_have_one_winner(
    client, offered, make_holder, authenticate, registry_engine
):
    signed, offer_id = offered
    claimants = [make_holder(40 + n) for n in range(8)]
    tokens = [authenticate(client, holder) for holder in claimants]
    acceptances = [make_acceptance(holder, signed) for holder in claimants]
    before = _counts(registry_engine)

    def attempt(n: int) -> int:
        response = _accept(client, tokens[n], offer_id, acceptances[n], CODE)
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert sorted(statuses) == [201] + [409] * 7
    transfers, ownerships = _counts(registry_engine)
    assert (transfers, ownerships) == (before[0] + 1, before[1] + 1)
