"""VC-API issue and verify endpoints over did_vault, on SQLite and PostgreSQL."""

import pytest

from did_vault import (
    KeyAlgorithm,
    PrivateKey,
    create_presentation,
    sign_presentation,
)
from registry import deps
from registry.vcapi import VCAPIIssuer

CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "did:example:subject"},
}


@pytest.fixture
def issuers():
    return (
        VCAPIIssuer.from_key(
            "eddsa-jcs",
            PrivateKey(KeyAlgorithm.ED25519, bytes([3]) * 32),
            cryptosuite="eddsa-jcs-2022",
        ),
        VCAPIIssuer.from_key(
            "ecdsa-jcs",
            PrivateKey(KeyAlgorithm.P256, bytes([4]) * 32),
            cryptosuite="ecdsa-jcs-2019",
        ),
    )


@pytest.fixture
def open_client(make_app, issuers):
    from fastapi.testclient import TestClient

    app = make_app(vcapi_open_issue=True)
    app.dependency_overrides[deps.get_vcapi_issuers] = lambda: issuers
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def _issue(client, issuer_did):
    response = client.post(
        "/v1/credentials/issue",
        json={"credential": {**CREDENTIAL, "issuer": issuer_did}, "options": {}},
    )
    assert response.status_code == 201, response.text
    return response.json()["verifiableCredential"]


@pytest.mark.parametrize("index", [0, 1], ids=["eddsa-jcs-2022", "ecdsa-jcs-2019"])
def test_issued_credential_verifies(open_client, issuers, index):
    credential = _issue(open_client, issuers[index].did)
    assert credential["proof"]["cryptosuite"] == issuers[index].cryptosuite

    response = open_client.post(
        "/v1/credentials/verify", json={"verifiableCredential": credential}
    )

    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    assert "proof" in response.json()["checks"]


def test_named_issuer_fills_in_issuer(open_client, issuers):
    response = open_client.post(
        "/v1/issuers/ecdsa-jcs/credentials/issue", json={"credential": CREDENTIAL}
    )
    assert response.status_code == 201, response.text
    assert response.json()["verifiableCredential"]["issuer"] == issuers[1].did


def test_tampered_credential_fails_verification(open_client, issuers, assert_problem):
    credential = _issue(open_client, issuers[0].did)
    credential["credentialSubject"]["id"] = "did:example:mallory"

    response = open_client.post(
        "/v1/credentials/verify", json={"verifiableCredential": credential}
    )

    assert_problem(response, status=422, code="proof.verification-failed")


def test_unknown_issuer_is_refused(open_client, assert_problem):
    response = open_client.post(
        "/v1/credentials/issue",
        json={"credential": {**CREDENTIAL, "issuer": "did:example:stranger"}},
    )
    assert_problem(response, status=400, code="vcapi.issuer-unknown")


def test_issue_needs_operator_unless_open(client, issuers, app, assert_problem):
    app.dependency_overrides[deps.get_vcapi_issuers] = lambda: issuers
    response = client.post(
        "/v1/credentials/issue",
        json={"credential": {**CREDENTIAL, "issuer": issuers[0].did}},
    )
    assert_problem(response, status=401, code="auth.required")


def test_presentation_verifies_with_challenge_and_domain(open_client, issuers, holder):
    credential = _issue(open_client, issuers[0].did)
    presentation = sign_presentation(
        create_presentation([credential], holder=holder.did),
        key=holder.key,
        verification_method=holder.verification_method,
        challenge="c-123",
        domain="verifier.example",
    )

    response = open_client.post(
        "/v1/presentations/verify",
        json={
            "verifiablePresentation": presentation,
            "options": {
                "challenge": "c-123",
                "domain": "verifier.example",
                "returnPresentation": True,
            },
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    assert response.json()["verifiablePresentation"] == presentation


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (
            {"challenge": "other", "domain": "verifier.example"},
            "proof.challenge-invalid",
        ),
        ({"challenge": "c-123", "domain": "other.example"}, "proof.domain-invalid"),
    ],
    ids=["challenge", "domain"],
)
def test_presentation_for_another_verifier_fails(
    open_client, holder, assert_problem, options, code
):
    presentation = sign_presentation(
        create_presentation([], holder=holder.did),
        key=holder.key,
        verification_method=holder.verification_method,
        challenge="c-123",
        domain="verifier.example",
    )
    response = open_client.post(
        "/v1/presentations/verify",
        json={"verifiablePresentation": presentation, "options": options},
    )
    assert_problem(response, status=422, code=code)


def test_presentation_without_challenge_is_invalid_request(open_client, assert_problem):
    response = open_client.post(
        "/v1/presentations/verify",
        json={"verifiablePresentation": {}, "options": {"domain": "x"}},
    )
    assert_problem(response, status=400, code="request.invalid")
