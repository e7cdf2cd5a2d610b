"""Vendor and insurer verification (``/v1/verify/…``), on SQLite and PostgreSQL."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from did_vault import (
    UnsatisfiableQueryError,
    create_presentation,
    present_sd_jwt,
    sign_presentation,
)
from registry.models import TrustRole
from registry.problems import status_for

from .conftest import START
from .lifecycle_support import (
    CONTEXT,
    bearer,
    build_app,
    make_acceptance,
    make_offer,
    register,
    sign,
    trust,
)

WARRANTY = {"warrantyExpires": "2028-05-02"}
ACQUISITION = {
    "price": {"amount": "1200.00", "currency": "EUR"},
    "purchaseDate": "2026-05-02",
}


@pytest.fixture
def app(make_app, registry_engine, identity, clock, web_dids):
    web_dids.documents[identity.did] = identity.document
    return build_app(make_app, registry_engine, identity, clock)


@pytest.fixture
def owner(make_holder):
    return make_holder(31)


@pytest.fixture
def vendor(make_holder):
    return make_holder(32)


@pytest.fixture
def insurer(make_holder, registry_engine):
    holder = make_holder(33)
    trust(registry_engine, holder.did, TrustRole.INSURER)
    return holder


@pytest.fixture
def owner_token(client, owner, authenticate):
    return authenticate(client, owner)


@pytest.fixture
def vendor_token(client, vendor, authenticate):
    return authenticate(client, vendor)


@pytest.fixture
def insurer_token(client, insurer, authenticate):
    return authenticate(client, insurer)


@pytest.fixture
def registered(client, owner_token):
    return register(
        client, owner_token, "SN-V-1", acquisition=ACQUISITION, warranty=WARRANTY
    )


def _present(
    registration: Any, owner: Any, disclose: Any, *, audience: str, nonce: str
) -> str:
    return present_sd_jwt(
        registration["sd_jwt_credential"],
        disclose=disclose,
        holder_key=owner.key,
        audience=audience,
        nonce=nonce,
        now=START,
    )


WARRANTY_PATHS = [
    ("item", "brand"),
    ("item", "model"),
    ("item", "warranty", "validUntil"),
]


def _verify(client: Any, token: str, **body: Any) -> Any:
    return client.post("/v1/verify/presentation", json=body, headers=bearer(token))


def test_vendor_warranty_check_reports_claims_and_registry_facts(
    client, owner, vendor, vendor_token, registered
):
    nonce = uuid.uuid4().hex
    shown = _present(
        registered, owner, WARRANTY_PATHS, audience=vendor.did, nonce=nonce
    )
    response = _verify(
        client,
        vendor_token,
        sd_jwt=shown,
        nonce=nonce,
        audience=vendor.did,
        template="warranty-check",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True
    assert body["disclosed"]["item"]["brand"] == "Velo"
    assert body["disclosed"]["item"]["warranty"] == {"validUntil": "2028-05-02"}
    assert "owner" not in body["disclosed"]
    assert "acquisition" not in body["disclosed"]
    facts = body["facts"]
    assert facts["current_owner"] is True
    assert facts["revoked"] is False
    assert facts["reported_stolen"] is False


def test_presentation_that_does_not_answer_the_template_is_refused(
    client, owner, vendor, vendor_token, registered, assert_problem
):
    nonce = uuid.uuid4().hex
    shown = _present(
        registered, owner, [("item", "brand")], audience=vendor.did, nonce=nonce
    )
    assert_problem(
        _verify(
            client,
            vendor_token,
            sd_jwt=shown,
            nonce=nonce,
            audience=vendor.did,
            template="warranty-check",
        ),
        status=422,
        code="dcql.unsatisfiable",
    )


def test_presentation_for_another_audience_is_forbidden(
    client, owner, make_holder, vendor_token, registered, assert_problem
):
    other = make_holder(34)
    nonce = uuid.uuid4().hex
    shown = _present(registered, owner, WARRANTY_PATHS, audience=other.did, nonce=nonce)
    assert_problem(
        _verify(client, vendor_token, sd_jwt=shown, nonce=nonce, audience=other.did),
        status=403,
        code="auth.forbidden",
    )


def test_presentation_with_another_nonce_fails(
    client, owner, vendor, vendor_token, registered
):
    shown = _present(
        registered, owner, WARRANTY_PATHS, audience=vendor.did, nonce="a" * 32
    )
    response = _verify(
        client, vendor_token, sd_jwt=shown, nonce="b" * 32, audience=vendor.did
    )
    assert response.status_code == 422
    assert response.json()["code"].startswith("sdjwt.")


def test_sellers_old_proof_fails_after_transfer(
    client,
    owner,
    owner_token,
    vendor,
    vendor_token,
    registered,
    make_holder,
    authenticate,
    assert_problem,
):
    buyer = make_holder(35)
    buyer_token = authenticate(client, buyer)
    offer = make_offer(owner, item_did=registered["item"]["did"], buyer=buyer.did)
    offer_id = client.post(
        "/v1/transfers/offers", json={"offer": offer}, headers=bearer(owner_token)
    ).json()["id"]
    accepted = client.post(
        f"/v1/transfers/offers/{offer_id}/accept",
        json={"acceptance": make_acceptance(buyer, offer)},
        headers=bearer(buyer_token),
    )
    assert accepted.status_code == 201, accepted.text
    nonce = uuid.uuid4().hex
    shown = _present(
        registered, owner, WARRANTY_PATHS, audience=vendor.did, nonce=nonce
    )
    assert_problem(
        _verify(client, vendor_token, sd_jwt=shown, nonce=nonce, audience=vendor.did),
        status=422,
        code="credential.revoked",
    )
    # the buyer's new credential verifies, and the buyer is the current owner
    new = accepted.json()
    shown = _present(new, buyer, [("item", "brand")], audience=vendor.did, nonce=nonce)
    fresh = _verify(
        client, vendor_token, sd_jwt=shown, nonce=nonce, audience=vendor.did
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["facts"]["current_owner"] is True


def test_facts_show_a_stolen_report(
    client,
    owner,
    vendor,
    vendor_token,
    registered,
    make_holder,
    registry_engine,
    authenticate,
):
    police = make_holder(36)
    trust(registry_engine, police.did, TrustRole.POLICE)
    police_token = authenticate(client, police)
    item_id = registered["item"]["id"]
    confirmed = client.post(
        f"/v1/items/{item_id}/stolen",
        json={"reported_at": "2026-11-23T10:00:00Z", "police_report_number": "P-1"},
        headers=bearer(police_token, **{"If-Match": "*"}),
    )
    assert confirmed.status_code == 200, confirmed.text
    nonce = uuid.uuid4().hex
    shown = _present(
        registered, owner, [("item", "brand")], audience=vendor.did, nonce=nonce
    )
    response = _verify(
        client, vendor_token, sd_jwt=shown, nonce=nonce, audience=vendor.did
    )
    assert response.status_code == 200, response.text
    assert response.json()["facts"]["reported_stolen"] is True


def test_data_integrity_presentation_is_verified(
    client, owner, vendor, vendor_token, registered
):
    nonce = uuid.uuid4().hex
    presentation = sign_presentation(
        create_presentation([registered["credential"]], holder=owner.did),
        key=owner.key,
        verification_method=owner.verification_method,
        challenge=nonce,
        domain=vendor.did,
        created=START,
    )
    response = _verify(
        client,
        vendor_token,
        presentation=presentation,
        nonce=nonce,
        audience=vendor.did,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "ldp_vp"
    assert body["holder"] == owner.did
    assert body["facts"]["current_owner"] is True
    assert body["facts"]["item_did"] == registered["item"]["did"]


def test_a_data_integrity_presentation_of_a_stolen_item_reports_it(
    client,
    owner,
    vendor,
    vendor_token,
    registered,
    make_holder,
    registry_engine,
    authenticate,
):
    # the credential's suspension entry points at this registry: its own check
    # reports the theft in the facts rather than failing on the suspension
    police = make_holder(37)
    trust(registry_engine, police.did, TrustRole.POLICE)
    confirmed = client.post(
        f"/v1/items/{registered['item']['id']}/stolen",
        json={"reported_at": "2026-11-23T10:00:00Z", "police_report_number": "P-2"},
        headers=bearer(authenticate(client, police), **{"If-Match": "*"}),
    )
    assert confirmed.status_code == 200, confirmed.text
    statuses = registered["credential"]["credentialStatus"]
    assert [e["statusPurpose"] for e in statuses] == ["revocation", "suspension"]
    nonce = uuid.uuid4().hex
    presentation = sign_presentation(
        create_presentation([registered["credential"]], holder=owner.did),
        key=owner.key,
        verification_method=owner.verification_method,
        challenge=nonce,
        domain=vendor.did,
        created=START,
    )

    response = _verify(
        client,
        vendor_token,
        presentation=presentation,
        nonce=nonce,
        audience=vendor.did,
    )

    assert response.status_code == 200, response.text
    assert response.json()["facts"]["reported_stolen"] is True


def _di_present(registration: Any, owner: Any, *, domain: str, nonce: str) -> Any:
    return sign_presentation(
        create_presentation([registration["credential"]], holder=owner.did),
        key=owner.key,
        verification_method=owner.verification_method,
        challenge=nonce,
        domain=domain,
        created=START,
    )


def _ldp_query(*paths: list[Any]) -> dict[str, Any]:
    return {
        "credentials": [
            {
                "id": "ownership",
                "format": "ldp_vc",
                "meta": {
                    "type_values": [["VerifiableCredential", "OwnershipCredential"]]
                },
                "claims": [{"path": path} for path in paths],
            }
        ]
    }


def test_data_integrity_presentation_answering_an_ldp_vc_query_is_verified(
    client, owner, vendor, vendor_token, registered
):
    nonce = uuid.uuid4().hex
    response = _verify(
        client,
        vendor_token,
        presentation=_di_present(registered, owner, domain=vendor.did, nonce=nonce),
        nonce=nonce,
        audience=vendor.did,
        dcql=_ldp_query(
            ["credentialSubject", "owns", "typeOfGood"],
            ["credentialSubject", "owns", "ownedFrom"],
        ),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "ldp_vp"
    assert body["facts"]["current_owner"] is True
    assert body["facts"]["reported_stolen"] is False


def test_data_integrity_presentation_against_a_template_is_unsatisfiable(
    client, owner, vendor, vendor_token, registered, assert_problem
):
    # the templates ask for SD-JWT VCs; a Data Integrity VP never answers one
    nonce = uuid.uuid4().hex
    assert_problem(
        _verify(
            client,
            vendor_token,
            presentation=_di_present(registered, owner, domain=vendor.did, nonce=nonce),
            nonce=nonce,
            audience=vendor.did,
            template="warranty-check",
        ),
        status=status_for(UnsatisfiableQueryError),
        code="dcql.unsatisfiable",
    )


def test_data_integrity_presentation_missing_a_requested_claim_is_unsatisfiable(
    client, owner, vendor, vendor_token, registered, assert_problem
):
    nonce = uuid.uuid4().hex
    assert_problem(
        _verify(
            client,
            vendor_token,
            presentation=_di_present(registered, owner, domain=vendor.did, nonce=nonce),
            nonce=nonce,
            audience=vendor.did,
            dcql=_ldp_query(["credentialSubject", "owns", "serialNumber"]),
        ),
        status=status_for(UnsatisfiableQueryError),
        code="dcql.unsatisfiable",
    )


def test_verification_needs_a_token(client, assert_problem):
    assert_problem(
        client.post(
            "/v1/verify/presentation",
            json={"sd_jwt": "x", "nonce": "n" * 16, "audience": "did:example:x"},
        ),
        status=401,
        code="auth.required",
    )


# --- insurer ------------------------------------------------------------------------

INSURER_PATHS = [
    ("item", "brand"),
    ("acquisition", "price"),
    ("acquisition", "purchaseDate"),
    ("ownedFrom",),
]


def _insurer(client: Any, token: str, **body: Any) -> Any:
    return client.post("/v1/verify/insurer", json=body, headers=bearer(token))


def test_insurer_learns_ownership_value_and_registration_date(
    client, owner, insurer, insurer_token, registered
):
    nonce = uuid.uuid4().hex
    shown = _present(
        registered, owner, INSURER_PATHS, audience=insurer.did, nonce=nonce
    )
    loss = START + timedelta(days=3)
    response = _insurer(
        client, insurer_token, sd_jwt=shown, nonce=nonce, before=loss.isoformat()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["current_owner"] is True
    assert body["owner"] == owner.did
    assert body["value"] == ACQUISITION["price"]
    assert body["purchase_date"] == ACQUISITION["purchaseDate"]
    assert body["registered_before"] is True
    assert body["evidence"] == "presentation"
    earlier = _insurer(
        client,
        insurer_token,
        sd_jwt=shown,
        nonce=nonce,
        before=(START - timedelta(days=1)).isoformat(),
    )
    assert earlier.json()["registered_before"] is False


def test_insurer_without_consent_is_refused(client, insurer_token, assert_problem):
    assert_problem(_insurer(client, insurer_token), status=403, code="consent.required")


def _consent(
    owner: Any,
    *,
    item_did: str,
    insurer: str,
    valid_until: str = "2026-11-30T00:00:00Z",
) -> dict[str, Any]:
    return sign(
        owner,
        {
            "@context": list(CONTEXT),
            "type": ["VerifiableCredential", "OwnershipDisclosureConsent"],
            "issuer": owner.did,
            "validFrom": "2026-11-23T00:00:00Z",
            "validUntil": valid_until,
            "credentialSubject": {
                "type": "OwnershipDisclosureConsent",
                "item": item_did,
                "insurer": insurer,
            },
        },
    )


def test_insurer_with_owner_consent_learns_ownership(
    client, owner, insurer, insurer_token, registered
):
    consent = _consent(owner, item_did=registered["item"]["did"], insurer=insurer.did)
    response = _insurer(client, insurer_token, consent=consent)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["current_owner"] is True
    assert body["evidence"] == "consent"
    assert body["value"] is None


def test_consent_for_another_insurer_is_refused(
    client, owner, make_holder, insurer_token, registered, assert_problem
):
    consent = _consent(
        owner, item_did=registered["item"]["did"], insurer=make_holder(37).did
    )
    assert_problem(
        _insurer(client, insurer_token, consent=consent),
        status=403,
        code="consent.required",
    )


def test_expired_consent_is_refused(
    client, owner, insurer, insurer_token, registered, assert_problem
):
    consent = _consent(
        owner,
        item_did=registered["item"]["did"],
        insurer=insurer.did,
        valid_until="2026-11-23T11:00:00Z",
    )
    assert_problem(
        _insurer(client, insurer_token, consent=consent),
        status=422,
        code="credential.expired",
    )


def test_someone_elses_ownership_credential_in_a_presentation_is_refused(
    client, vendor, vendor_token, registered, make_holder, assert_problem
):
    """A credential seen once (it travels whole in a DI VP) presented by another
    DID: the VP verifies as a VP, but it is not about its holder."""
    mallory = make_holder(59)
    nonce = uuid.uuid4().hex
    response = _verify(
        client,
        vendor_token,
        presentation=_di_present(registered, mallory, domain=vendor.did, nonce=nonce),
        nonce=nonce,
        audience=vendor.did,
    )
    assert_problem(response, status=422, code="presentation.holder-mismatch")
