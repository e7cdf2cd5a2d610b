"""Registration (``POST /v1/items``), listing and reading, on SQLite and PostgreSQL.

Every refusal is checked for its exact code and for storing nothing.
"""

import copy
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from did_vault import (
    SDJWT,
    CredentialRevokedError,
    KeyAlgorithm,
    PrivateKey,
    StatusListChecker,
    TokenStatusChecker,
    issue_credential,
    issue_sd_jwt_vc,
    items,
    present_sd_jwt,
    verify_credential,
    verify_sd_jwt,
)
from registry import crud, deps, status
from registry.identity import RegistryIdentity
from registry.models import TrustEntryCreate, TrustRole
from registry.serial_keys import SerialKey
from registry.trust import add_entry

from .conftest import START, Holder, WebDIDs

BRAND = "Example Vision"
OTHER_BRAND = "Other Optics"
GTIN = "09520123456788"
SERIAL = "8KQ2-00042X"
ITEM_VCT = "urn:did-vault:vct:ItemIdentityCredential"


@dataclass
class Brand:
    holder: Holder
    name: str

    @property
    def did(self) -> str:
        return self.holder.did


def item_subject(
    *, serial: str = SERIAL, brand: str = BRAND, **extra: Any
) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "id": "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2",
        "type": "IndividualProduct",
        "name": "55-inch 4K television",
        "gtin": GTIN,
        "serialNumber": serial,
        "brand": {"type": "Brand", "name": brand},
        "model": "EV-55Q8",
        "warranty": {"warrantyExpires": "2028-05-02"},
    }
    subject.update(extra)
    return subject


def brand_credential(brand: Brand, subject: dict[str, Any]) -> dict[str, Any]:
    unsigned = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://registry.example/ns/registry/v1",
        ],
        "type": ["VerifiableCredential", "ItemIdentityCredential"],
        "issuer": brand.did,
        "validFrom": "2026-11-01T00:00:00Z",
        "credentialSubject": subject,
    }
    return issue_credential(
        unsigned,
        key=brand.holder.key,
        verification_method=brand.holder.verification_method,
        created=START,
    )


class ClientFetcher:
    """Fetches the registry's own URLs from the app under test (no network)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def fetch(self, url: str) -> bytes:
        response = self.client.get(urlsplit(url).path)
        assert response.status_code == 200, response.text
        return bytes(response.content)


@pytest.fixture
def app(
    make_app: Callable[..., FastAPI],
    registry_engine: Engine,
    identity: RegistryIdentity,
    clock: Any,
) -> FastAPI:
    app = make_app()
    # The hot read path takes these from the app state, not from dependencies.
    app.state.engine = registry_engine
    app.state.identity = identity
    app.state.clock = clock
    app.state.serial_key = SerialKey(bytes(range(32)))
    return app


@pytest.fixture
def session(registry_engine: Engine) -> Iterator[Session]:
    with Session(registry_engine) as db:
        yield db


def _trust(engine: Engine, did: str, brand: str) -> None:
    with Session(engine) as db:
        add_entry(
            session=db,
            entry_in=TrustEntryCreate(
                did=did, role=TrustRole.BRAND_ISSUER, brand=brand
            ),
            now=START,
        )
        db.commit()


@pytest.fixture
def brand(web_dids: WebDIDs, registry_engine: Engine) -> Brand:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes([41]) * 32)
    holder = web_dids.add(
        key, name="vision", relationships=("assertionMethod", "authentication")
    )
    _trust(registry_engine, holder.did, BRAND)
    return Brand(holder, BRAND)


@pytest.fixture
def other_brand(web_dids: WebDIDs, registry_engine: Engine) -> Brand:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes([42]) * 32)
    holder = web_dids.add(
        key, name="optics", relationships=("assertionMethod", "authentication")
    )
    _trust(registry_engine, holder.did, OTHER_BRAND)
    return Brand(holder, OTHER_BRAND)


@pytest.fixture
def owner_token(client, holder, authenticate) -> str:
    return str(authenticate(client, holder))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as db:
        return crud.count_items(session=db), crud.count_ownerships(session=db)


def _register(client, token: str, body: dict[str, Any]) -> Any:
    return client.post("/v1/items", json=body, headers=_auth(token))


def _resolver_with_registry(app: FastAPI, identity: RegistryIdentity, web_dids):
    web_dids.documents[identity.did] = identity.document
    return app.dependency_overrides[deps.get_resolver]()


# --- success --------------------------------------------------------------------------


def test_register_brand_credential_issues_ownership_in_both_forms(
    app, client, brand, holder, owner_token, identity, web_dids, clock
):
    response = _register(
        client,
        owner_token,
        {
            "credential": brand_credential(brand, item_subject()),
            "acquisition": {"price": {"amount": "1299.00", "currency": "EUR"}},
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    item = body["item"]
    assert item["owner"] == holder.did
    assert item["assurance"] == "issuer-attested"
    assert item["brand"] == BRAND
    assert item["did"] == identity.item_did(item["id"])
    assert SERIAL not in response.text.replace(body["sd_jwt_credential"], "")

    resolver = _resolver_with_registry(app, identity, web_dids)
    checker = StatusListChecker(
        fetcher=ClientFetcher(client),
        verify_list=lambda c, *, now: verify_credential(c, resolver=resolver, now=now),
        clock=clock,
    )
    credential = body["credential"]
    verified = verify_credential(
        credential, resolver=resolver, now=clock(), status_checker=checker
    )
    assert verified.credential.issuer_id == identity.did
    assert "OwnershipCredential" in credential["type"]
    assert credential["credentialSubject"]["id"] == holder.did
    assert credential["credentialSubject"]["owns"]["typeOfGood"] == item["did"]
    items.validate_credential(credential)

    token_checker = TokenStatusChecker(
        fetcher=ClientFetcher(client),
        resolve_key=lambda _uri, kid: (
            resolver.resolve(kid.split("#")[0])
            .find_verification_method(kid)
            .public_key()
        ),
        clock=clock,
    )
    presented = present_sd_jwt(
        body["sd_jwt_credential"],
        disclose=[("item", "brand"), ("item", "serialNumber"), ("ownedFrom",)],
        holder_key=holder.key,
        audience="did:web:pawnshop.test",
        nonce="nonce-0123456789abcdef",
        now=clock(),
    )
    sd = verify_sd_jwt(
        presented,
        audience="did:web:pawnshop.test",
        nonce="nonce-0123456789abcdef",
        resolver=resolver,
        now=clock(),
        status_checker=token_checker,
    )
    assert sd.vct == "urn:did-vault:vct:OwnershipCredential"
    assert sd.issuer == identity.did
    assert sd.claims["item"] == {"brand": BRAND, "serialNumber": SERIAL}
    assert sd.holder_key is not None
    assert sd.holder_key.to_multikey() == holder.key.public_key.to_multikey()


def test_owner_lists_and_reads_only_own_items(
    client, brand, holder, owner_token, authenticate, make_holder
):
    registered = _register(
        client, owner_token, {"credential": brand_credential(brand, item_subject())}
    ).json()["item"]

    listed = client.get("/v1/items", headers=_auth(owner_token))
    read = client.get(f"/v1/items/{registered['id']}", headers=_auth(owner_token))

    assert listed.status_code == 200
    assert listed.json() == {"data": [registered], "count": 1}
    assert read.status_code == 200
    assert read.json() == registered

    other = authenticate(client, make_holder(8))
    theirs = client.get(f"/v1/items/{registered['id']}", headers=_auth(other))
    missing = client.get("/v1/items/0123456789abcdef", headers=_auth(other))
    assert client.get("/v1/items", headers=_auth(other)).json() == {
        "data": [],
        "count": 0,
    }
    assert theirs.status_code == missing.status_code == 404
    strip = {"instance"}
    assert {k: v for k, v in theirs.json().items() if k not in strip} == {
        k: v for k, v in missing.json().items() if k not in strip
    }
    assert theirs.headers["content-type"] == missing.headers["content-type"]


def test_self_asserted_claim_is_recorded_with_lower_assurance(
    client, holder, owner_token
):
    evidence = [
        {
            "type": "ReceiptEvidence",
            "id": "urn:uuid:6f1c3a52-0d8e-4b7a-9f3e-000000000099",
            "digestMultibase": "uEiBvMoYJEMoPsqIMf9oUNmawnb-NtSOBlckKWG-1Qv8MrQ",
        }
    ]
    response = _register(
        client,
        owner_token,
        {"self_asserted": {"item": item_subject(), "evidence": evidence}},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["item"]["assurance"] == "self-asserted"
    assert body["credential"]["credentialSubject"]["owns"]["evidence"] == evidence


def test_register_sd_jwt_vc_with_key_binding_to_the_registry(
    client, brand, holder, owner_token, identity, clock
):
    sd_jwt = issue_sd_jwt_vc(
        vct=ITEM_VCT,
        issuer_did=brand.did,
        key=brand.holder.key,
        kid=brand.holder.verification_method,
        claims={
            "item": {
                "brand": BRAND,
                "model": "EV-55Q8",
                "gtin": GTIN,
                "serialNumber": SERIAL,
            }
        },
        disclosable=[("item", "serialNumber"), ("item", "model")],
        holder_key=holder.key.public_key,
        now=clock(),
    )
    issued = client.post("/v1/items/nonce", headers=_auth(owner_token))
    assert issued.status_code == 201, issued.text
    nonce = issued.json()["nonce"]
    assert issued.json()["audience"] == identity.did
    presented = present_sd_jwt(
        sd_jwt,
        disclose=[("item", "serialNumber"), ("item", "model")],
        holder_key=holder.key,
        audience=identity.did,
        nonce=nonce,
        now=clock(),
    )

    response = _register(client, owner_token, {"sd_jwt": presented, "nonce": nonce})
    replay = _register(client, owner_token, {"sd_jwt": presented, "nonce": nonce})

    assert response.status_code == 201, response.text
    assert response.json()["item"]["assurance"] == "issuer-attested"
    assert replay.json()["code"] == "sdjwt.nonce-replayed"


# --- refusals: exact code, nothing stored ---------------------------------------------


@pytest.fixture
def refused(client, owner_token, registry_engine, assert_problem):
    """``refused(body, status, code)``: the request fails so and stores nothing."""

    def check(body: dict[str, Any], *, status: int, code: str, token: str = "") -> None:
        before = _counts(registry_engine)
        response = _register(client, token or owner_token, body)
        assert_problem(response, status=status, code=code)
        assert _counts(registry_engine) == before

    return check


def test_untrusted_brand_is_refused(refused, web_dids):
    stranger = web_dids.add(
        PrivateKey(KeyAlgorithm.ED25519, bytes([43]) * 32),
        name="stranger",
        relationships=("assertionMethod",),
    )
    document = brand_credential(Brand(stranger, BRAND), item_subject())
    refused({"credential": document}, status=422, code="issuer.untrusted")


def test_brand_x_issuing_for_brand_y_is_refused(refused, brand, other_brand):
    document = brand_credential(other_brand, item_subject(brand=BRAND))
    refused({"credential": document}, status=422, code="issuer.brand-mismatch")


def test_forged_credential_is_refused(refused, brand):
    document = brand_credential(brand, item_subject())
    forged = copy.deepcopy(document)
    forged["credentialSubject"]["serialNumber"] = "STOLEN-1"
    refused({"credential": forged}, status=422, code="proof.verification-failed")


def test_schema_violation_is_refused(refused, brand):
    document = brand_credential(brand, item_subject(colour="red"))
    refused({"credential": document}, status=422, code="item.schema-invalid")


def test_unidentifiable_item_is_refused(refused, brand):
    subject = item_subject()
    del subject["serialNumber"]
    document = brand_credential(brand, subject)
    refused({"credential": document}, status=422, code="item.not-identifiable")


@pytest.mark.parametrize(
    "variant",
    [SERIAL, "8kq2-00042x", " 8KQ2-0004 2X", "\uff18\uff2b\uff31\uff12-00042X"],
)
def test_double_registration_is_refused_for_serial_variants(
    client, brand, owner_token, refused, authenticate, make_holder, variant
):
    first = _register(
        client, owner_token, {"credential": brand_credential(brand, item_subject())}
    )
    assert first.status_code == 201, first.text
    second_owner = authenticate(client, make_holder(9))

    document = brand_credential(brand, item_subject(serial=variant))
    refused(
        {"credential": document},
        status=409,
        code="item.already-registered",
        token=second_owner,
    )


def test_expired_token_is_refused(client, brand, owner_token, clock, refused):
    clock.advance(3600)
    refused(
        {"credential": brand_credential(brand, item_subject())},
        status=401,
        code="auth.token-expired",
    )


def test_missing_token_is_refused(client, brand, registry_engine, assert_problem):
    before = _counts(registry_engine)
    response = client.post(
        "/v1/items", json={"credential": brand_credential(brand, item_subject())}
    )
    assert_problem(response, status=401, code="auth.required")
    assert _counts(registry_engine) == before


def test_replayed_auth_challenge_is_refused(client, holder, assert_problem):
    issued = client.post("/v1/auth/challenge", json={"did": holder.did}).json()
    answer = holder.answer(issued["challenge"], domain=issued["audience"])
    body = {"challenge": issued["challenge"], "presentation": answer}
    assert client.post("/v1/auth/token", json=body).status_code == 200
    assert_problem(
        client.post("/v1/auth/token", json=body),
        status=401,
        code="auth.challenge-replayed",
    )


def test_sd_jwt_for_another_audience_is_refused(
    client, brand, holder, owner_token, clock, refused
):
    sd_jwt = issue_sd_jwt_vc(
        vct=ITEM_VCT,
        issuer_did=brand.did,
        key=brand.holder.key,
        kid=brand.holder.verification_method,
        claims={"item": {"brand": BRAND, "gtin": GTIN, "serialNumber": SERIAL}},
        disclosable=[("item", "serialNumber")],
        holder_key=holder.key.public_key,
        now=clock(),
    )
    nonce = client.post("/v1/items/nonce", headers=_auth(owner_token)).json()["nonce"]
    presented = present_sd_jwt(
        sd_jwt,
        disclose=[("item", "serialNumber")],
        holder_key=holder.key,
        audience="did:web:elsewhere.test",
        nonce=nonce,
        now=clock(),
    )
    refused(
        {"sd_jwt": presented, "nonce": nonce},
        status=422,
        code="sdjwt.audience-invalid",
    )


def test_sd_jwt_bound_to_another_key_is_refused(
    client, brand, owner_token, clock, refused, make_holder, identity
):
    stranger = make_holder(12)
    sd_jwt = issue_sd_jwt_vc(
        vct=ITEM_VCT,
        issuer_did=brand.did,
        key=brand.holder.key,
        kid=brand.holder.verification_method,
        claims={"item": {"brand": BRAND, "gtin": GTIN, "serialNumber": SERIAL}},
        disclosable=[("item", "serialNumber")],
        holder_key=stranger.key.public_key,
        now=clock(),
    )
    nonce = client.post("/v1/items/nonce", headers=_auth(owner_token)).json()["nonce"]
    presented = present_sd_jwt(
        sd_jwt,
        disclose=[("item", "serialNumber")],
        holder_key=stranger.key,
        audience=identity.did,
        nonce=nonce,
        now=clock(),
    )
    refused(
        {"sd_jwt": presented, "nonce": nonce}, status=422, code="item.holder-mismatch"
    )


def test_two_forms_at_once_are_refused(refused, brand):
    document = brand_credential(brand, item_subject())
    refused(
        {
            "credential": document,
            "self_asserted": {"item": item_subject(), "evidence": []},
        },
        status=400,
        code="request.invalid",
    )


def test_serial_never_reaches_the_logs(client, brand, owner_token, caplog):
    caplog.set_level(logging.DEBUG)
    _register(
        client, owner_token, {"credential": brand_credential(brand, item_subject())}
    )
    _register(
        client, owner_token, {"credential": brand_credential(brand, item_subject())}
    )

    for record in caplog.records:
        assert SERIAL not in record.getMessage()
        assert SERIAL not in repr(getattr(record, "fields", ""))


# --- revocation -----------------------------------------------------------------------


def test_revoke_sets_both_status_entries(
    app, client, brand, owner_token, registry_engine, identity, web_dids, clock
):
    body = _register(
        client, owner_token, {"credential": brand_credential(brand, item_subject())}
    ).json()
    resolver = _resolver_with_registry(app, identity, web_dids)

    with Session(registry_engine) as db:
        status.revoke(
            session=db, ownership_id=body["item"]["ownership_id"], now=clock()
        )
        db.commit()

    checker = StatusListChecker(
        fetcher=ClientFetcher(client),
        verify_list=lambda c, *, now: verify_credential(c, resolver=resolver, now=now),
        clock=clock,
    )
    with pytest.raises(CredentialRevokedError):
        verify_credential(
            body["credential"], resolver=resolver, now=clock(), status_checker=checker
        )
    token_checker = TokenStatusChecker(
        fetcher=ClientFetcher(client),
        resolve_key=lambda _uri, kid: identity.key.public_key,
        clock=clock,
    )
    sd_status = SDJWT.parse(body["sd_jwt_credential"])
    with pytest.raises(CredentialRevokedError):
        token_checker.check(sd_status.claims()["status"], now=clock())
