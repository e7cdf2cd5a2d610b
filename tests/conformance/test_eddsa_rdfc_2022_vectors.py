"""vc-di-eddsa eddsa-rdfc-2022 test vectors (W3C REC 2025-05-15, Appendix B.1).

Every stage of the spec's example is checked byte for byte: the canonical N-Quads of
the credential and of the proof options, both SHA-256 hashes, their concatenation,
the Ed25519 signature, its multibase proofValue; then the signed credential is
verified by the Data Integrity algorithm (vc-di-eddsa §3.2.2: transformation,
proof configuration, hashing, verification) and fails once tampered.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from did_vault.contexts import ContextLoader
from did_vault.credentials.rdfc import canonicalize_rdfc
from did_vault.errors import InvalidSignatureError, UnknownContextError
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.primitives.multikey import multibase_decode, multibase_encode

pytestmark = pytest.mark.conformance

VECTORS = Path(__file__).parent / "vectors" / "vc-di-eddsa-rdfc"
EXAMPLES_V2_URL = "https://www.w3.org/ns/credentials/examples/v2"


def _json(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _bytes(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def _hex(name: str) -> bytes:
    return bytes.fromhex((VECTORS / name).read_text(encoding="ascii").strip())


def _text(name: str) -> str:
    return (VECTORS / name).read_text(encoding="ascii").strip()


@pytest.fixture(scope="module")
def loader() -> ContextLoader:
    """The packaged contexts plus the spec examples' own context (test data)."""
    return ContextLoader(extra={EXAMPLES_V2_URL: _json("examples-v2.jsonld")})


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    pair: dict[str, str] = _json("keys.json")
    return pair


def _proof_hash(proof_options: dict[str, Any], loader: ContextLoader) -> bytes:
    return hashlib.sha256(canonicalize_rdfc(proof_options, loader=loader)).digest()


def _document_hash(document: dict[str, Any], loader: ContextLoader) -> bytes:
    return hashlib.sha256(canonicalize_rdfc(document, loader=loader)).digest()


def test_canonical_credential_matches_example_9(loader):
    document = _json("credential-without-proof.json")
    assert canonicalize_rdfc(document, loader=loader) == _bytes(
        "canonical-credential.nq"
    )


def test_credential_hash_matches_example_10(loader):
    document = _json("credential-without-proof.json")
    assert _document_hash(document, loader) == _hex("credential-hash.txt")


def test_canonical_proof_options_match_example_12(loader):
    proof_options = _json("proof-options.json")
    canonical = canonicalize_rdfc(proof_options, loader=loader)
    assert canonical == _bytes("canonical-proof-options.nq")


def test_proof_options_hash_matches_example_13(loader):
    proof_options = _json("proof-options.json")
    assert _proof_hash(proof_options, loader) == _hex("proof-options-hash.txt")


def test_combined_hash_matches_example_14(loader):
    combined = _proof_hash(_json("proof-options.json"), loader) + _document_hash(
        _json("credential-without-proof.json"), loader
    )
    assert combined == _hex("combined-hash.txt")


def test_key_pair_of_example_7_is_consistent(keys):
    private = PrivateKey.from_multikey(keys["secretKeyMultibase"])
    assert private.algorithm is KeyAlgorithm.ED25519
    assert private.public_key.to_multikey() == keys["publicKeyMultibase"]


def test_signature_matches_example_15(keys):
    private = PrivateKey.from_multikey(keys["secretKeyMultibase"])
    assert private.sign(_hex("combined-hash.txt")) == _hex("signature.txt")


def test_proof_value_matches_example_16():
    signature = _hex("signature.txt")
    assert multibase_encode(signature, "base58btc") == _text("proof-value.txt")
    assert multibase_decode(_text("proof-value.txt")) == signature


def test_signed_credential_of_example_17_assembles_from_the_stages():
    signed = _json("signed-credential.json")
    unsigned = _json("credential-without-proof.json")
    proof_options = _json("proof-options.json")
    expected_proof = {k: v for k, v in proof_options.items() if k != "@context"}
    expected_proof["proofValue"] = _text("proof-value.txt")
    assert signed == {**unsigned, "proof": expected_proof}


def _verify(signed: dict[str, Any], loader: ContextLoader) -> None:
    """vc-di-eddsa §3.2.2 Verify Proof (eddsa-rdfc-2022), for a did:key method."""
    document = {k: v for k, v in signed.items() if k != "proof"}
    proof = dict(signed["proof"])
    proof_value = proof.pop("proofValue")
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    proof_config = {**proof, "@context": document["@context"]}
    hash_data = _proof_hash(proof_config, loader) + _document_hash(document, loader)
    did, fragment = proof["verificationMethod"].split("#")
    assert did == f"did:key:{fragment}"
    public_key = PublicKey.from_multikey(fragment)
    public_key.verify(multibase_decode(proof_value), hash_data)


def test_signed_credential_of_example_17_verifies(loader):
    _verify(_json("signed-credential.json"), loader)


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        (("credentialSubject", "alumniOf"), "The School of Tampering"),
        (("validFrom",), "2023-01-01T00:00:01Z"),
        (("issuer",), "https://vc.example/issuers/5679"),
        (("proof", "created"), "2023-02-24T23:36:39Z"),
        (("proof", "proofPurpose"), "authentication"),
    ],
    ids=lambda part: "/".join(part) if isinstance(part, tuple) else None,
)
def test_tampered_signed_credential_fails(loader, pointer, value):
    signed = _json("signed-credential.json")
    target = signed
    for key in pointer[:-1]:
        target = target[key]
    target[pointer[-1]] = value
    with pytest.raises(InvalidSignatureError):
        _verify(signed, loader)


def test_vector_needs_the_examples_context_which_is_not_packaged():
    with pytest.raises(UnknownContextError) as caught:
        canonicalize_rdfc(_json("credential-without-proof.json"))
    assert caught.value.code == "context.unknown"
    assert caught.value.context["url"] == EXAMPLES_V2_URL
