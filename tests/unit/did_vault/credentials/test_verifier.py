"""The verification pipeline: each check, and each failure with its exact code."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from did_vault.credentials.issuer import (
    create_presentation,
    issue_credential,
    sign_presentation,
)
from did_vault.credentials.proofs import add_proof
from did_vault.credentials.verifier import verify_credential, verify_presentation
from did_vault.dids import (
    DIDDocument,
    VerificationMethod,
    create_did_key,
    default_resolver,
)
from did_vault.errors import (
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    DidVaultError,
    HolderMismatchError,
    InvalidChallengeError,
    InvalidDomainError,
    IssuerMismatchError,
    MalformedCredentialError,
    ProofMissingError,
    ProofPurposeMismatchError,
    ProofRelationshipError,
    ProofVerificationError,
    StatusUncheckedError,
    UndefinedTermError,
    UnknownContextError,
    UnsupportedCryptosuiteError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 20, 9, 30, 0, tzinfo=UTC)
ISSUER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
HOLDER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(1, 33)))
OTHER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(2, 34)))
CHALLENGE = "c0ffee-1234"
DOMAIN = "https://verifier.example"


def _did(key: PrivateKey) -> str:
    return str(create_did_key(key.public_key))


def _method(key: PrivateKey) -> str:
    return f"{_did(key)}#{key.public_key.to_multikey()}"


ISSUER = _did(ISSUER_KEY)
HOLDER = _did(HOLDER_KEY)


def _credential(**changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0b9c8b5e-1111-4a5b-9c7d-000000000001",
        "type": ["VerifiableCredential", "OwnershipCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {
            "id": HOLDER,
            "item": {"gtin": "09506000134352", "serialNumber": "SN-1"},
        },
    }
    credential.update(changes)
    return {k: v for k, v in credential.items() if v is not None}


def _issued(**changes: Any) -> dict[str, Any]:
    return issue_credential(
        _credential(**changes),
        key=ISSUER_KEY,
        verification_method=_method(ISSUER_KEY),
        created=CREATED,
    )


def _presentation(
    credentials: list[dict[str, Any]] | None = None,
    *,
    challenge: str = CHALLENGE,
    domain: str = DOMAIN,
) -> dict[str, Any]:
    unsigned = create_presentation(
        [_issued()] if credentials is None else credentials, holder=HOLDER
    )
    return sign_presentation(
        unsigned,
        key=HOLDER_KEY,
        verification_method=_method(HOLDER_KEY),
        challenge=challenge,
        domain=domain,
        created=CREATED,
    )


class _Resolver:
    """did:key through the default resolver, plus fixed documents."""

    def __init__(self, *documents: DIDDocument) -> None:
        self._documents = {document.id: document for document in documents}
        self._fallback = default_resolver()

    def resolve(self, did: str) -> DIDDocument:
        if did in self._documents:
            return self._documents[did]
        return self._fallback.resolve(did)


class _Checker:
    def __init__(self, error: DidVaultError | None = None) -> None:
        self.error = error
        self.seen: list[Mapping[str, Any]] = []

    def check(self, entry: Mapping[str, Any], *, now: datetime, issuer: str) -> object:
        assert now == NOW
        self.seen.append(entry)
        if self.error is not None:
            raise self.error
        return None


def _verify(document: Any, **options: Any) -> Any:
    options.setdefault("resolver", _Resolver())
    options.setdefault("now", NOW)
    return verify_credential(document, **options)


def _fails(error: type[DidVaultError], document: Any, **options: Any) -> DidVaultError:
    with pytest.raises(error) as caught:
        _verify(document, **options)
    assert type(caught.value) is error
    return caught.value


# --- the happy path ----------------------------------------------------------------


def test_verify_credential_lists_every_check() -> None:
    issued = _issued()
    result = _verify(issued)
    assert [check.name for check in result.checks] == [
        "parse",
        "data-model",
        "proof",
        "validity",
        "status",
    ]
    assert result.document is issued
    assert result.credential.issuer_id == ISSUER
    assert result.proofs[0].controller == ISSUER


def test_verify_credential_accepts_json_text_as_received() -> None:
    text = json.dumps(_issued(), indent=4)
    result = _verify(text)
    assert result.document == json.loads(text)


def test_verify_credential_with_status_uses_the_checker() -> None:
    entry = {
        "id": "https://registry.example/status/1#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "42",
        "statusListCredential": "https://registry.example/status/1",
    }
    checker = _Checker()
    result = _verify(_issued(credentialStatus=entry), status_checker=checker)
    assert checker.seen == [entry]
    assert result.checks[-1].name == "status"


def test_verify_credential_allows_clock_leeway() -> None:
    issued = _issued(validFrom="2026-11-23T12:04:00Z")
    assert _verify(issued).checks
    _fails(CredentialNotYetValidError, issued, leeway=timedelta(minutes=1))


# --- failures, each with its code --------------------------------------------------


def test_verify_credential_rejects_expired() -> None:
    error = _fails(
        CredentialExpiredError, _issued(), now=datetime(2027, 6, 1, tzinfo=UTC)
    )
    assert error.code == "credential.expired"
    assert error.context["check"] == "validity"


def test_verify_credential_rejects_not_yet_valid() -> None:
    error = _fails(
        CredentialNotYetValidError,
        _issued(validFrom="2027-01-01T00:00:00Z", validUntil=None),
    )
    assert error.code == "credential.not-yet-valid"


def test_verify_credential_rejects_revoked() -> None:
    issued = _issued(
        credentialStatus={
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
        }
    )
    error = _fails(
        CredentialRevokedError,
        issued,
        status_checker=_Checker(CredentialRevokedError("revoked")),
    )
    assert error.context["check"] == "status"


def test_verify_credential_fails_closed_without_status_checker() -> None:
    issued = _issued(credentialStatus={"type": "BitstringStatusListEntry"})
    assert _fails(StatusUncheckedError, issued).code == "status.unchecked"


def test_verify_credential_rejects_issuer_not_controller() -> None:
    credential = _credential(issuer="did:example:someone-else")
    signed = add_proof(
        credential,
        key=ISSUER_KEY,
        verification_method=_method(ISSUER_KEY),
        created=CREATED,
    )
    error = _fails(IssuerMismatchError, signed)
    assert error.code == "credential.issuer-mismatch"
    assert error.context["check"] == "proof"


def test_verify_credential_rejects_method_not_under_assertion_method() -> None:
    did = "did:example:brand"
    method = VerificationMethod(
        id=f"{did}#key-1",
        type="Multikey",
        controller=did,
        public_key_multibase=ISSUER_KEY.public_key.to_multikey(),
    )
    document = DIDDocument(
        id=did, verification_method=[method], authentication=[f"{did}#key-1"]
    )
    signed = add_proof(
        _credential(issuer=did),
        key=ISSUER_KEY,
        verification_method=f"{did}#key-1",
        created=CREATED,
    )
    error = _fails(ProofRelationshipError, signed, resolver=_Resolver(document))
    assert error.code == "proof.relationship-invalid"
    listed = document.model_copy(update={"assertion_method": [f"{did}#key-1"]})
    assert _verify(signed, resolver=_Resolver(listed)).proofs[0].controller == did


def test_verify_credential_rejects_authentication_proof() -> None:
    signed = add_proof(
        _credential(),
        key=ISSUER_KEY,
        verification_method=_method(ISSUER_KEY),
        proof_purpose="authentication",
        created=CREATED,
    )
    assert _fails(ProofPurposeMismatchError, signed).code == "proof.purpose-mismatch"


def test_verify_credential_rejects_tampered_subject() -> None:
    issued = _issued()
    issued["credentialSubject"]["item"]["serialNumber"] = "SN-2"
    assert _fails(ProofVerificationError, issued).code == "proof.verification-failed"


def test_verify_credential_rejects_unsigned() -> None:
    assert _fails(ProofMissingError, _credential()).code == "proof.missing"


def test_verify_credential_rejects_unsupported_cryptosuite() -> None:
    issued = _issued()
    issued["proof"]["cryptosuite"] = "bbs-2023"
    error = _fails(UnsupportedCryptosuiteError, issued)
    assert error.code == "proof.cryptosuite-unsupported"


def test_verify_credential_rejects_unknown_context() -> None:
    issued = _issued()
    issued["@context"] = [*issued["@context"], "https://unknown.example/context/v1"]
    error = _fails(UnknownContextError, issued)
    assert error.code == "context.unknown"
    assert error.context["check"] == "data-model"


@pytest.mark.parametrize(
    "text",
    ['{"a": NaN}', '{"a": 1, "a": 2}', "[1, 2]", "not json"],
    ids=["nan", "duplicate-member", "array", "garbage"],
)
def test_verify_credential_rejects_malformed_json(text: str) -> None:
    error = _fails(MalformedCredentialError, text)
    assert error.code == "credential.malformed"
    assert error.context["check"] == "parse"


def test_verify_credential_rejects_undefined_term_when_asked() -> None:
    issued = _issued()  # "item" is not defined by the credentials v2 context
    assert _verify(issued).checks
    error = _fails(UndefinedTermError, issued, check_terms=True)
    assert error.code == "context.term-undefined"
    assert error.context["check"] == "data-model"


def test_verify_credential_rejects_undefined_term_under_rdfc() -> None:
    defined_only = _credential(
        type=["VerifiableCredential"],
        credentialSubject={"id": HOLDER, "name": "Bicycle"},
    )
    signed = add_proof(
        defined_only,
        key=ISSUER_KEY,
        verification_method=_method(ISSUER_KEY),
        cryptosuite="eddsa-rdfc-2022",
        created=CREATED,
    )
    assert _verify(signed).proofs[0].cryptosuite == "eddsa-rdfc-2022"
    # a term RDFC would silently drop from the signed data is refused, not ignored
    signed["credentialSubject"]["stolen"] = True
    error = _fails(UndefinedTermError, signed)
    assert error.context["check"] == "proof"


def test_verify_credential_rejects_data_model_violation() -> None:
    issued = _issued()
    issued["@context"] = list(reversed([*issued["@context"], {"x": "urn:x"}]))
    error = _fails(MalformedCredentialError, issued)
    assert error.context["check"] == "data-model"


# --- presentations -----------------------------------------------------------------


def _verify_vp(document: Any, **options: Any) -> Any:
    options.setdefault("resolver", _Resolver())
    options.setdefault("now", NOW)
    options.setdefault("challenge", CHALLENGE)
    options.setdefault("domain", DOMAIN)
    return verify_presentation(document, **options)


def _vp_fails(
    error: type[DidVaultError], document: Any, **options: Any
) -> DidVaultError:
    with pytest.raises(error) as caught:
        _verify_vp(document, **options)
    assert type(caught.value) is error
    return caught.value


def test_verify_presentation_checks_proof_and_each_credential() -> None:
    result = _verify_vp(_presentation())
    assert [check.name for check in result.checks] == [
        "parse",
        "data-model",
        "proof",
        "credentials",
    ]
    assert result.proofs[0].controller == HOLDER
    assert result.proofs[0].proof_purpose == "authentication"
    assert len(result.credentials) == 1
    assert result.credentials[0].credential.issuer_id == ISSUER


def test_verify_presentation_rejects_wrong_challenge() -> None:
    error = _vp_fails(InvalidChallengeError, _presentation(), challenge="other")
    assert error.code == "proof.challenge-invalid"


def test_verify_presentation_rejects_wrong_domain() -> None:
    error = _vp_fails(
        InvalidDomainError, _presentation(), domain="https://evil.example"
    )
    assert error.code == "proof.domain-invalid"


def test_verify_presentation_rejects_tampered_challenge_and_domain() -> None:
    presentation = _presentation()
    presentation["proof"]["challenge"] = "replayed"
    _vp_fails(InvalidChallengeError, presentation)
    # matching the tampered value does not help: the signature covers it
    _vp_fails(ProofVerificationError, presentation, challenge="replayed")
    presentation = _presentation()
    presentation["proof"]["domain"] = "https://evil.example"
    _vp_fails(InvalidDomainError, presentation)
    _vp_fails(ProofVerificationError, presentation, domain="https://evil.example")


def test_verify_presentation_rejects_replay_to_another_verifier() -> None:
    presentation = _presentation(domain="https://first.example")
    _vp_fails(InvalidDomainError, presentation)


def test_verify_presentation_rejects_holder_not_signer() -> None:
    unsigned = create_presentation([_issued()], holder=_did(OTHER_KEY))
    signed = add_proof(
        unsigned,
        key=HOLDER_KEY,
        verification_method=_method(HOLDER_KEY),
        proof_purpose="authentication",
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED,
    )
    error = _vp_fails(HolderMismatchError, signed)
    assert error.code == "presentation.holder-mismatch"


def test_verify_presentation_rejects_assertion_proof() -> None:
    unsigned = create_presentation([_issued()], holder=HOLDER)
    signed = add_proof(
        unsigned,
        key=HOLDER_KEY,
        verification_method=_method(HOLDER_KEY),
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED,
    )
    _vp_fails(ProofPurposeMismatchError, signed)


def test_verify_presentation_rejects_expired_credential_inside() -> None:
    expired = _issued(
        validFrom="2025-01-01T00:00:00Z", validUntil="2025-06-01T00:00:00Z"
    )
    error = _vp_fails(CredentialExpiredError, _presentation([expired]))
    assert error.context["check"] == "validity"


def test_verify_presentation_rejects_tampered_credential_inside() -> None:
    presentation = _presentation()
    presentation["verifiableCredential"][0]["credentialSubject"]["id"] = _did(OTHER_KEY)
    # the holder's proof covers the embedded credential too
    _vp_fails(ProofVerificationError, presentation)


def test_verify_presentation_requires_challenge_and_domain() -> None:
    with pytest.raises(ValueError, match="challenge"):
        _verify_vp(_presentation(), challenge="")
