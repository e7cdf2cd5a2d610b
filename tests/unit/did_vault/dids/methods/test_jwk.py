"""did:jwk create and resolve (quartzjer/did-jwk spec)."""

import json

import pytest

from did_vault.dids.document import DID_CONTEXT_V1, JWS_2020_CONTEXT_V1
from did_vault.dids.methods.jwk import create_did_jwk, did_jwk_jwk, resolve_did_jwk
from did_vault.errors import (
    InvalidDIDError,
    InvalidKeyError,
    UnsupportedAlgorithmError,
    UnsupportedDIDMethodError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.primitives.b64 import b64url_encode

# The spec's P-256 example (spec.md, "Examples / P-256").
SPEC_P256_DID = (
    "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBU"
    "dFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtn"
    "cmwyR3pIM25TRSJ9"
)
SPEC_P256_JWK = {
    "crv": "P-256",
    "kty": "EC",
    "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0",
    "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE",
}


def _did(jwk: object) -> str:
    return "did:jwk:" + b64url_encode(json.dumps(jwk).encode())


def test_resolve_did_jwk_matches_the_spec_p256_example():
    document = resolve_did_jwk(SPEC_P256_DID)

    vm_id = f"{SPEC_P256_DID}#0"
    assert document.to_json() == {
        "@context": [DID_CONTEXT_V1, JWS_2020_CONTEXT_V1],
        "id": SPEC_P256_DID,
        "verificationMethod": [
            {
                "id": vm_id,
                "type": "JsonWebKey2020",
                "controller": SPEC_P256_DID,
                "publicKeyJwk": SPEC_P256_JWK,
            }
        ],
        "assertionMethod": [vm_id],
        "authentication": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
        "keyAgreement": [vm_id],
    }


def test_create_did_jwk_reproduces_the_spec_p256_example():
    public_key = (
        resolve_did_jwk(SPEC_P256_DID).find_verification_method("#0").public_key()
    )

    assert str(create_did_jwk(public_key)) == SPEC_P256_DID


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_create_then_resolve_round_trips_the_key(algorithm):
    public_key = PrivateKey.generate(algorithm).public_key

    document = resolve_did_jwk(create_did_jwk(public_key))

    assert document.find_verification_method("#0").public_key() == public_key


def test_use_sig_leaves_out_key_agreement():
    jwk = {**PrivateKey.generate().public_key.to_jwk(), "use": "sig"}

    document = resolve_did_jwk(_did(jwk))

    assert document.key_agreement is None
    assert document.assertion_method == [f"{document.id}#0"]


def test_use_enc_lists_only_key_agreement():
    jwk = {**PrivateKey.generate(KeyAlgorithm.P256).public_key.to_jwk(), "use": "enc"}

    document = resolve_did_jwk(_did(jwk))

    assert document.key_agreement == [f"{document.id}#0"]
    assert document.authentication is None
    assert document.assertion_method is None


def test_custom_jwk_members_are_kept_in_the_verification_method():
    jwk = {**PrivateKey.generate().public_key.to_jwk(), "kid": "ignored", "x-ext": 1}

    (method,) = resolve_did_jwk(_did(jwk)).verification_method or []

    assert method.public_key_jwk == jwk
    assert method.id.endswith("#0")


def test_did_jwk_jwk_returns_the_decoded_jwk():
    assert did_jwk_jwk(SPEC_P256_DID) == SPEC_P256_JWK


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_resolve_rejects_a_private_jwk_with_key_invalid(algorithm):
    private_jwk = PrivateKey.generate(algorithm).to_jwk()

    with pytest.raises(InvalidKeyError) as exc_info:
        resolve_did_jwk(_did(private_jwk))

    assert exc_info.value.code == "key.invalid"


BAD_DIDS = {
    "not-base64url-chars": ("did:jwk:!!!", "did.invalid"),
    "padding": ("did:jwk:eyJ=", "did.invalid"),
    "not-utf8": ("did:jwk:" + b64url_encode(b"\xff\xfe"), "did.invalid"),
    "not-json": ("did:jwk:" + b64url_encode(b"{not json"), "did.invalid"),
    "json-array": (_did([1, 2]), "did.invalid"),
    "x25519": (
        _did({"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(32))}),
        "key.algorithm-unsupported",
    ),
    "p384": (
        _did({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
        "key.algorithm-unsupported",
    ),
    "rsa": (
        _did({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
        "key.algorithm-unsupported",
    ),
    "symmetric-key": (_did({"kty": "oct", "k": "c2VjcmV0"}), "key.invalid"),
    "ed25519-short": (
        _did({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(31))}),
        "key.invalid",
    ),
    "x-not-base64url": (
        _did({"kty": "OKP", "crv": "Ed25519", "x": "not base64!"}),
        "key.invalid",
    ),
    "p256-off-curve": (
        _did(
            {
                "kty": "EC",
                "crv": "P-256",
                "x": b64url_encode(bytes(32)),
                "y": b64url_encode(bytes(32)),
            }
        ),
        "key.invalid",
    ),
    "no-kty": (_did({"crv": "Ed25519"}), "key.invalid"),
    "other-method": (
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "did.method-unsupported",
    ),
}


@pytest.mark.parametrize(
    ("did", "code"),
    [pytest.param(*case, id=name) for name, case in BAD_DIDS.items()],
)
def test_resolve_did_jwk_rejects_bad_dids_with_the_exact_code(did, code):
    with pytest.raises(
        (
            InvalidDIDError,
            InvalidKeyError,
            UnsupportedAlgorithmError,
            UnsupportedDIDMethodError,
        )
    ) as exc_info:
        resolve_did_jwk(did)

    assert exc_info.value.code == code
