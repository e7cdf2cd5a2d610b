"""Shared pieces of the lifecycle tests (transfers, stolen, verification,
concurrency, authorization): an app with the state the hot paths read, signed
transfer documents, and registered items."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from did_vault import issue_credential, items
from registry.identity import RegistryIdentity
from registry.lifecycle import document_digest
from registry.models import TrustEntryCreate, TrustRole
from registry.serial_keys import SerialKey
from registry.trust import add_entry

from .conftest import START, Holder

GTIN = "09520123456788"
CONTEXT = (
    "https://www.w3.org/ns/credentials/v2",
    "https://registry.example/ns/registry/v1",
)
EVIDENCE = [
    {
        "type": "ReceiptEvidence",
        "id": "urn:uuid:6f1c3a52-0d8e-4b7a-9f3e-000000000099",
        "digestMultibase": "uEiBvMoYJEMoPsqIMf9oUNmawnb-NtSOBlckKWG-1Qv8MrQ",
    }
]


def build_app(
    make_app: Callable[..., FastAPI],
    registry_engine: Engine,
    identity: RegistryIdentity,
    clock: Any,
    **overrides: Any,
) -> FastAPI:
    app = make_app(**{"max_body_bytes": 65_536, **overrides})
    app.state.engine = registry_engine
    app.state.identity = identity
    app.state.clock = clock
    app.state.serial_key = SerialKey(bytes(range(32)))
    return app


def item_subject(serial: str, **extra: Any) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "id": "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2",
        "type": "IndividualProduct",
        "name": "City e-bike",
        "gtin": GTIN,
        "serialNumber": serial,
        "brand": {"type": "Brand", "name": "Velo"},
        "model": "C-7",
    }
    subject.update(extra)
    return subject


def register(
    client: Any,
    token: str,
    serial: str,
    *,
    acquisition: dict[str, Any] | None = None,
    **item_extra: Any,
) -> dict[str, Any]:
    """Register a self-asserted item; the registration answer."""
    body: dict[str, Any] = {
        "self_asserted": {
            "item": item_subject(serial, **item_extra),
            "evidence": EVIDENCE,
        }
    }
    if acquisition is not None:
        body["acquisition"] = acquisition
    response = client.post(
        "/v1/items", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def nonce() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


def sign(holder: Holder, unsigned: dict[str, Any]) -> dict[str, Any]:
    return issue_credential(
        unsigned,
        key=holder.key,
        verification_method=holder.verification_method,
        created=START,
    )


def make_offer(
    seller: Holder,
    *,
    item_did: str,
    buyer: str | None = None,
    claim_code: str | None = None,
    valid_through: datetime = START + timedelta(hours=1),
    offer_nonce: str | None = None,
    price: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A seller-signed offer to ``buyer``, or to ``claim_code`` (its digest)."""
    offer_nonce = offer_nonce or nonce()
    subject: dict[str, Any] = {
        "type": "TransferOffer",
        "item": item_did,
        "seller": seller.did,
        "nonce": offer_nonce,
        "validThrough": items.format_date_time(valid_through),
    }
    if buyer is not None:
        subject["buyer"] = buyer
    if claim_code is not None:
        subject["claimCodeDigest"] = items.claim_code_digest(
            claim_code, nonce=offer_nonce
        )
    if price is not None:
        subject["price"] = price
    # Built by hand, not through items.build_credential, so that tests can sign
    # offers the schema refuses (a self-transfer).
    unsigned = {
        "@context": list(CONTEXT),
        "type": ["VerifiableCredential", items.TRANSFER_OFFER_CREDENTIAL],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "issuer": seller.did,
        "validFrom": items.format_date_time(START - timedelta(minutes=1)),
        "credentialSubject": subject,
    }
    return sign(seller, unsigned)


def make_acceptance(
    buyer: Holder, offer: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    offered = offer["credentialSubject"]
    subject: dict[str, Any] = {
        "type": "TransferAcceptance",
        "item": offered["item"],
        "seller": offered["seller"],
        "buyer": buyer.did,
        "nonce": offered["nonce"],
        "offer": {"id": offer["id"], "digestMultibase": document_digest(offer)},
        "acceptedAt": items.format_date_time(START),
    }
    subject.update(changes)
    unsigned = items.build_credential(
        items.TransferAcceptance.from_json(subject),
        issuer=buyer.did,
        valid_from=START - timedelta(minutes=1),
        credential_id=f"urn:uuid:{uuid.uuid4()}",
    )
    return sign(buyer, unsigned)


def trust(engine: Engine, did: str, role: TrustRole, *, brand: str = "") -> None:
    with Session(engine) as session:
        add_entry(
            session=session,
            entry_in=TrustEntryCreate(did=did, role=role, brand=brand),
            now=START,
        )
        session.commit()
