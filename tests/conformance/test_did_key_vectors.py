"""did:key spec test vectors (w3c-ccg/did-method-key, test-vectors/); see SOURCE.md."""

import json
from pathlib import Path

import base58
import pytest

from did_vault.dids.did import DID
from did_vault.dids.methods.key import create_did_key, resolve_did_key
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.primitives.multikey import X25519_PUB, decode_multikey

VECTORS = Path(__file__).parent / "vectors" / "did-key"
ED25519 = json.loads((VECTORS / "ed25519-x25519.json").read_text())
P256 = json.loads((VECTORS / "nist-curves-p256.json").read_text())

pytestmark = pytest.mark.conformance


def _ed25519_cases():
    return [pytest.param(did, vector, id=did) for did, vector in ED25519.items()]


def _p256_cases():
    return [pytest.param(did, vector, id=did) for did, vector in P256.items()]


@pytest.mark.parametrize(("did", "vector"), _ed25519_cases())
def test_ed25519_seed_gives_the_vector_did(did, vector):
    key = PrivateKey(KeyAlgorithm.ED25519, bytes.fromhex(vector["seed"]))

    assert str(create_did_key(key.public_key)) == did
    assert key.public_key.raw == base58.b58decode(
        vector["verificationKeyPair"]["publicKeyBase58"]
    )


@pytest.mark.parametrize(("did", "vector"), _ed25519_cases())
def test_ed25519_did_resolves_to_the_vector_verification_key(did, vector):
    document = resolve_did_key(did)

    (method,) = document.verification_method or []
    assert method.id == did + vector["verificationKeyPair"]["id"]
    assert method.controller == vector["verificationKeyPair"]["controller"]
    assert method.public_key().raw == base58.b58decode(
        vector["verificationKeyPair"]["publicKeyBase58"]
    )
    for relationship in (
        "authentication",
        "assertionMethod",
        "capabilityInvocation",
        "capabilityDelegation",
    ):
        assert document.methods_for(relationship) == [method]


@pytest.mark.parametrize(("did", "vector"), _ed25519_cases())
def test_ed25519_did_resolves_to_the_vector_x25519_key_agreement_key(did, vector):
    expected = vector["keyAgreementKeyPair"]

    (agreement,) = resolve_did_key(did).methods_for("keyAgreement")

    assert agreement.id == did + expected["id"]
    assert agreement.type == "Multikey"
    assert agreement.controller == expected["controller"]
    codec, raw = decode_multikey(agreement.public_key_multibase or "")
    assert codec == X25519_PUB
    assert raw == base58.b58decode(expected["publicKeyBase58"])


@pytest.mark.parametrize(("did", "vector"), _ed25519_cases())
def test_ed25519_seed_gives_the_vector_x25519_private_key(did, vector):
    key = PrivateKey(KeyAlgorithm.ED25519, bytes.fromhex(vector["seed"]))

    assert key.x25519_secret() == base58.b58decode(
        vector["keyAgreementKeyPair"]["privateKeyBase58"]
    )


@pytest.mark.parametrize(("did", "vector"), _p256_cases())
def test_p256_public_jwk_gives_the_vector_did(did, vector):
    public_key = PublicKey.from_jwk(vector["publicKey"]["publicKeyJwk"])

    assert str(create_did_key(public_key)) == did


@pytest.mark.parametrize(("did", "vector"), _p256_cases())
def test_p256_private_jwk_gives_the_vector_did(did, vector):
    key = PrivateKey.from_jwk(vector["publicKey"]["privateKeyJwk"])

    assert str(create_did_key(key.public_key)) == did


@pytest.mark.parametrize(("did", "vector"), _p256_cases())
def test_p256_did_resolves_to_the_vector_jwk(did, vector):
    document = resolve_did_key(DID.parse(did))

    (method,) = document.verification_method or []
    assert method.id == did + vector["publicKey"]["id"]
    assert method.type == "Multikey"
    jwk = vector["publicKey"]["publicKeyJwk"]
    assert method.public_key().to_jwk() == {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    assert document.key_agreement is None
