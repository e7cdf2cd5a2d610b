"""Issuing credentials and building, signing presentations."""

from datetime import UTC, datetime
from typing import Any

import pytest

from did_vault.credentials.issuer import (
    create_presentation,
    issue_credential,
    sign_presentation,
)
from did_vault.dids import create_did_key
from did_vault.errors import (
    HolderMismatchError,
    IssuerMismatchError,
    MalformedCredentialError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey

CREATED = datetime(2026, 11, 20, 9, 30, 0, tzinfo=UTC)
ISSUER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes([9]) * 32)
ISSUER = str(create_did_key(ISSUER_KEY.public_key))
ISSUER_METHOD = f"{ISSUER}#{ISSUER_KEY.public_key.to_multikey()}"
P256_KEY = PrivateKey(KeyAlgorithm.P256, bytes([5]) * 32)
P256_ISSUER = str(create_did_key(P256_KEY.public_key))


def _credential(**changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "credentialSubject": {"id": "did:example:owner"},
    }
    credential.update(changes)
    return credential


def test_issue_credential_adds_an_assertion_proof_and_keeps_the_rest() -> None:
    credential = _credential()
    issued = issue_credential(
        credential, key=ISSUER_KEY, verification_method=ISSUER_METHOD, created=CREATED
    )
    assert {k: v for k, v in issued.items() if k != "proof"} == credential
    assert "proof" not in credential
    proof = issued["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["created"] == "2026-11-20T09:30:00Z"
    assert proof["verificationMethod"] == ISSUER_METHOD
    assert proof["proofValue"].startswith("z")


def test_issue_credential_with_ecdsa() -> None:
    method = f"{P256_ISSUER}#{P256_KEY.public_key.to_multikey()}"
    issued = issue_credential(
        _credential(issuer={"id": P256_ISSUER}),
        key=P256_KEY,
        verification_method=method,
        cryptosuite="ecdsa-jcs-2019",
        created=CREATED,
    )
    assert issued["proof"]["cryptosuite"] == "ecdsa-jcs-2019"


def test_issue_credential_refuses_key_of_another_issuer() -> None:
    with pytest.raises(IssuerMismatchError):
        issue_credential(
            _credential(issuer="did:example:brand"),
            key=ISSUER_KEY,
            verification_method=ISSUER_METHOD,
        )


def test_issue_credential_refuses_invalid_credentials_and_methods() -> None:
    with pytest.raises(MalformedCredentialError):
        issue_credential(
            _credential(credentialSubject={}),
            key=ISSUER_KEY,
            verification_method=ISSUER_METHOD,
        )
    with pytest.raises(IssuerMismatchError):
        issue_credential(
            _credential(), key=ISSUER_KEY, verification_method="https://x.example#k"
        )
    with pytest.raises(ValueError, match="fragment"):
        issue_credential(_credential(), key=ISSUER_KEY, verification_method=ISSUER)


def test_create_presentation_embeds_credentials_unchanged() -> None:
    issued = issue_credential(
        _credential(),
        key=ISSUER_KEY,
        verification_method=ISSUER_METHOD,
        created=CREATED,
    )
    presentation = create_presentation(
        [issued], holder="did:example:owner", presentation_id="urn:uuid:vp-1"
    )
    assert presentation == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "id": "urn:uuid:vp-1",
        "holder": "did:example:owner",
        "verifiableCredential": [issued],
    }
    with pytest.raises(MalformedCredentialError):
        create_presentation([], holder="not a url")


def test_sign_presentation_binds_challenge_and_domain() -> None:
    presentation = create_presentation([], holder=ISSUER)
    signed = sign_presentation(
        presentation,
        key=ISSUER_KEY,
        verification_method=ISSUER_METHOD,
        challenge="n-0S6_WzA2Mj",
        domain="https://verifier.example",
        created=CREATED,
    )
    proof = signed["proof"]
    assert proof["proofPurpose"] == "authentication"
    assert proof["challenge"] == "n-0S6_WzA2Mj"
    assert proof["domain"] == "https://verifier.example"


def test_sign_presentation_refuses_missing_binding_or_other_holder() -> None:
    presentation = create_presentation([], holder="did:example:someone")
    with pytest.raises(HolderMismatchError):
        sign_presentation(
            presentation,
            key=ISSUER_KEY,
            verification_method=ISSUER_METHOD,
            challenge="c",
            domain="d",
        )
    with pytest.raises(ValueError, match="challenge"):
        sign_presentation(
            create_presentation([]),
            key=ISSUER_KEY,
            verification_method=ISSUER_METHOD,
            challenge="",
            domain="d",
        )
