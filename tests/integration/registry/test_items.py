"""Registration (``POST /v1/items``), listing and reading, on SQLite and PostgreSQL.

A brand's Data Integrity credential is registered only in a presentation by its
subject (the item's own DID, or the owner's), bound to a registry nonce and DID.
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
    create_presentation,
    issue_credential,
    issue_sd_jwt_vc,
    items,
    present_sd_jwt,
    sign_presentation,
    verify_credential,
    verify_sd_jwt,
)
from registry import crud, deps, status
from registry.identity import RegistryIdentity
from registry.models import TrustEntryCreate, TrustRole
from registry.serial_keys import SerialKey
from registry.trust import add_entry

from .conftest import START, Holder, WebDIDs, make_key_holder

BRAND = "Example Vision"
OTHER_BRAND = "Other Optics"
GTIN = "09520123456788"
SERIAL = "8KQ2-00042X"
ITEM_VCT = "urn:did-vault:vct:ItemIdentityCredential"
EVIDENCE = [
    {
        "type": "ReceiptEvidence",
        "id": "urn:uuid:6f1c3a52-0d8e-4b7a-9f3e-000000000099",
        "digestMultibase": "uEiBvMoYJEMoPsqIMf9oUNmawnb-NtSOBlckKWG-1Qv8MrQ",
    }
]
ITEM = make_key_holder(21)
"""The item's own did:key, minted by the buyer's wallet: the brand issues to it."""


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
        "id": ITEM.did,
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


def present(
    credentials: list[dict[str, Any]],
    by: Holder,
    *,
    challenge: str,
    domain: str,
) -> dict[str, Any]:
    """A presentation of ``credentials`` signed by ``by`` (its holder)."""
    return sign_presentation(
        create_presentation(credentials, holder=by.did),
        key=by.key,
        verification_method=by.verification_method,
        challenge=challenge,
        domain=domain,
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


def _nonce(client, token: str) -> tuple[str, str]:
    """A registry nonce for the token's DID, and the registry's DID."""
    issued = client.post("/v1/items/nonce", headers=_auth(token))
    assert issued.status_code == 201, issued.text
    return issued.json()["nonce"], issued.json()["audience"]


@pytest.fixture
def presented(client, owner_token) -> Callable[..., dict[str, Any]]:
    """``presented(credential, by=ITEM, token=…, challenge=…, domain=…)``: a
    registration body presenting the credential(s), signed by ``by`` with a fresh
    nonce of the token's DID (the owner's by default) and the registry's DID."""

    def build(
        credential: dict[str, Any] | list[dict[str, Any]],
        *,
        by: Holder = ITEM,
        token: str = "",
        challenge: str = "",
        domain: str = "",
    ) -> dict[str, Any]:
        nonce, audience = _nonce(client, token or owner_token)
        credentials = credential if isinstance(credential, list) else [credential]
        presentation = present(
            credentials, by, challenge=challenge or nonce, domain=domain or audience
        )
        return {"presentation": presentation, "nonce": nonce}

    return build


def _resolver_with_registry(app: FastAPI, identity: RegistryIdentity, web_dids):
    web_dids.documents[identity.did] = identity.document
    return app.dependency_overrides[deps.get_resolver]()


# --- success --------------------------------------------------------------------------


def test_register_brand_credential_issues_ownership_in_both_forms(
    app, client, brand, holder, owner_token, identity, web_dids, clock, presented
):
    response = _register(
        client,
        owner_token,
        {
            **presented(brand_credential(brand, item_subject())),
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
    client, brand, holder, owner_token, authenticate, make_holder, presented
):
    registered = _register(
        client, owner_token, presented(brand_credential(brand, item_subject()))
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
    evidence = EVIDENCE
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


def test_untrusted_brand_is_refused(refused, web_dids, presented):
    stranger = web_dids.add(
        PrivateKey(KeyAlgorithm.ED25519, bytes([43]) * 32),
        name="stranger",
        relationships=("assertionMethod",),
    )
    document = brand_credential(Brand(stranger, BRAND), item_subject())
    refused(presented(document), status=422, code="issuer.untrusted")


def test_brand_x_issuing_for_brand_y_is_refused(refused, brand, other_brand, presented):
    document = brand_credential(other_brand, item_subject(brand=BRAND))
    refused(presented(document), status=422, code="issuer.brand-mismatch")


def test_forged_credential_is_refused(refused, brand, presented):
    document = brand_credential(brand, item_subject())
    forged = copy.deepcopy(document)
    forged["credentialSubject"]["serialNumber"] = "STOLEN-1"
    refused(presented(forged), status=422, code="proof.verification-failed")


def test_schema_violation_is_refused(refused, brand, presented):
    document = brand_credential(brand, item_subject(colour="red"))
    refused(presented(document), status=422, code="item.schema-invalid")


def test_unidentifiable_item_is_refused(refused, brand, presented):
    subject = item_subject()
    del subject["serialNumber"]
    document = brand_credential(brand, subject)
    refused(presented(document), status=422, code="item.not-identifiable")


@pytest.mark.parametrize(
    "variant",
    [SERIAL, "8kq2-00042x", " 8KQ2-0004 2X", "\uff18\uff2b\uff31\uff12-00042X"],
)
def test_double_registration_is_refused_for_serial_variants(
    client, brand, owner_token, refused, authenticate, make_holder, variant, presented
):
    first = _register(
        client, owner_token, presented(brand_credential(brand, item_subject()))
    )
    assert first.status_code == 201, first.text
    second_owner = authenticate(client, make_holder(9))

    document = brand_credential(brand, item_subject(serial=variant))
    refused(
        presented(document, token=second_owner),
        status=409,
        code="item.already-registered",
        token=second_owner,
    )


def test_expired_token_is_refused(
    client, brand, owner_token, clock, refused, presented
):
    body = presented(brand_credential(brand, item_subject()))
    clock.advance(3600)
    refused(body, status=401, code="auth.token-expired")


def test_missing_token_is_refused(
    client, brand, registry_engine, assert_problem, presented
):
    before = _counts(registry_engine)
    response = client.post(
        "/v1/items", json=presented(brand_credential(brand, item_subject()))
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


# --- Data Integrity: holder binding by the credential's subject --------------------


def test_owner_registers_a_credential_issued_to_their_own_did(
    client, brand, holder, owner_token, presented
):
    document = brand_credential(brand, item_subject(id=holder.did))

    response = _register(client, owner_token, presented(document, by=holder))

    assert response.status_code == 201, response.text
    assert response.json()["item"]["owner"] == holder.did
    assert response.json()["item"]["assurance"] == "issuer-attested"


def test_another_dids_presentation_of_the_credential_is_refused(
    client, brand, refused, authenticate, make_holder, presented
):
    # A vendor who saw the credential in one of the owner's presentations wraps it
    # in a presentation of their own.
    vendor = make_holder(13)
    vendor_token = authenticate(client, vendor)
    document = brand_credential(brand, item_subject())

    refused(
        presented(document, by=vendor, token=vendor_token),
        status=422,
        code="item.holder-mismatch",
        token=vendor_token,
    )


def test_the_owners_presentation_of_their_items_credential_is_refused(
    brand, holder, refused, presented
):
    # The owner's own DID may present only what was issued to it.
    document = brand_credential(brand, item_subject())
    refused(presented(document, by=holder), status=422, code="item.holder-mismatch")


def test_credential_without_subject_id_is_refused(brand, refused, presented):
    subject = item_subject()
    del subject["id"]
    document = brand_credential(brand, subject)
    refused(presented(document), status=422, code="item.holder-mismatch")


def test_presentation_for_another_domain_is_refused(brand, refused, presented):
    document = brand_credential(brand, item_subject())
    refused(
        presented(document, domain="did:web:pawnshop.test"),
        status=422,
        code="proof.domain-invalid",
    )


def test_presentation_for_another_challenge_is_refused(brand, refused, presented):
    document = brand_credential(brand, item_subject())
    refused(
        presented(document, challenge="another-challenge-0123456789"),
        status=422,
        code="proof.challenge-invalid",
    )


def test_replayed_nonce_is_refused(client, brand, owner_token, refused, presented):
    first = presented(brand_credential(brand, item_subject()))
    assert _register(client, owner_token, first).status_code == 201
    second = presented(brand_credential(brand, item_subject(serial="8KQ2-00043X")))
    replay = {
        "presentation": present(
            second["presentation"]["verifiableCredential"],
            ITEM,
            challenge=first["nonce"],
            domain=first["presentation"]["proof"]["domain"],
        ),
        "nonce": first["nonce"],
    }

    refused(replay, status=422, code="sdjwt.nonce-replayed")
    refused(first, status=422, code="sdjwt.nonce-replayed")


def test_another_dids_nonce_is_refused(
    client, brand, refused, authenticate, make_holder, presented
):
    others = authenticate(client, make_holder(14))
    refused(
        presented(brand_credential(brand, item_subject()), token=others),
        status=422,
        code="sdjwt.nonce-invalid",
    )


def test_unknown_nonce_is_refused(brand, refused, presented):
    body = presented(brand_credential(brand, item_subject()))
    unknown = "unknown-nonce-0123456789abcdef"
    body["presentation"] = present(
        body["presentation"]["verifiableCredential"],
        ITEM,
        challenge=unknown,
        domain=body["presentation"]["proof"]["domain"],
    )
    body["nonce"] = unknown
    refused(body, status=422, code="sdjwt.nonce-invalid")


def test_presentation_of_two_credentials_is_refused(brand, refused, presented):
    documents = [
        brand_credential(brand, item_subject()),
        brand_credential(brand, item_subject(serial="8KQ2-00043X")),
    ]
    refused(presented(documents), status=422, code="item.credential-unsupported")


def test_presentation_of_another_credential_type_is_refused(brand, refused, presented):
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": brand.did,
        "validFrom": "2026-11-01T00:00:00Z",
        "credentialSubject": {"id": ITEM.did},
    }
    document = issue_credential(
        unsigned,
        key=brand.holder.key,
        verification_method=brand.holder.verification_method,
        created=START,
    )
    refused(presented(document), status=422, code="item.credential-unsupported")


def test_presentation_without_nonce_is_refused(brand, refused, presented):
    body = presented(brand_credential(brand, item_subject()))
    del body["nonce"]
    refused(body, status=400, code="request.invalid")


def test_bare_credential_is_refused_with_what_to_do_instead(brand, refused):
    # The bearer form is gone: the problem says how to present the credential.
    document = brand_credential(brand, item_subject())
    refused({"credential": document}, status=400, code="request.invalid")


def test_bare_credential_problem_names_the_presentation_and_nonce(
    client, brand, owner_token, assert_problem
):
    document = brand_credential(brand, item_subject())
    problem = assert_problem(
        _register(client, owner_token, {"credential": document}),
        status=400,
        code="request.invalid",
    )
    [issue] = problem["errors"]
    assert "'presentation'" in issue["msg"]
    assert "'nonce'" in issue["msg"]
    assert SERIAL not in str(problem)


def test_two_forms_at_once_are_refused(refused, brand, presented):
    document = brand_credential(brand, item_subject())
    refused(
        {
            **presented(document),
            "self_asserted": {"item": item_subject(), "evidence": EVIDENCE},
        },
        status=400,
        code="request.invalid",
    )


def test_serial_never_reaches_the_logs(client, brand, owner_token, caplog, presented):
    caplog.set_level(logging.DEBUG)
    _register(client, owner_token, presented(brand_credential(brand, item_subject())))
    _register(client, owner_token, presented(brand_credential(brand, item_subject())))

    for record in caplog.records:
        assert SERIAL not in record.getMessage()
        assert SERIAL not in repr(getattr(record, "fields", ""))


# --- revocation -----------------------------------------------------------------------


def test_revoke_sets_both_status_entries(
    app,
    client,
    brand,
    owner_token,
    registry_engine,
    identity,
    web_dids,
    clock,
    presented,
):
    body = _register(
        client, owner_token, presented(brand_credential(brand, item_subject()))
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
