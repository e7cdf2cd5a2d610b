"""vc-di-eddsa ``eddsa-jcs-2022`` test vectors, byte-exact at every stage.

The vector (W3C Recommendation, Appendix B.3) gives the canonical credential, its
hash, the canonical proof options, their hash, the combined hash, the signature and
the ``proofValue``; each stage is compared with what this library computes, then the
signed credential is recreated and verified, and every proof member is tampered with.
"""

import copy
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from did_vault.credentials.model import parse_date_time_stamp
from did_vault.credentials.proofs import (
    add_proof,
    create_proof,
    hash_data,
    verify_proofs,
)
from did_vault.credentials.suites import get_cryptosuite
from did_vault.dids import default_resolver
from did_vault.errors import (
    DidVaultError,
    MalformedProofError,
    ProofPurposeMismatchError,
    ProofVerificationError,
    UnsupportedCryptosuiteError,
)
from did_vault.keys import PrivateKey
from did_vault.primitives.jcs import canonicalize
from did_vault.primitives.multikey import base58btc_decode, base58btc_encode

pytestmark = pytest.mark.conformance

VECTORS_FILE = Path(__file__).parent / "vectors" / "vc-di-eddsa" / "eddsa-jcs-2022.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text("utf-8"))["vectors"]
IDS = [vector["name"] for vector in VECTORS]
SUITE = get_cryptosuite("eddsa-jcs-2022")
OTHER_DID_KEY = "did:key:z6MktgKTsu1QhX6QPbyqG6geXdw6FQCZBPq7uQpieWbiQiG7"


def _created(vector: dict[str, Any]) -> datetime:
    return parse_date_time_stamp(vector["proofOptions"]["created"])


def _key(vector: dict[str, Any]) -> PrivateKey:
    return PrivateKey.from_multikey(vector["keyPair"]["secretKeyMultibase"])


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_canonical_credential_and_its_hash(vector: dict[str, Any]) -> None:
    canonical = canonicalize(vector["credentialWithoutProof"])
    assert canonical == vector["canonicalCredential"].encode()
    assert hashlib.sha256(canonical).hexdigest() == vector["credentialHashHex"]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_canonical_proof_options_and_their_hash(vector: dict[str, Any]) -> None:
    canonical = canonicalize(vector["proofOptions"])
    assert canonical == vector["canonicalProofOptions"].encode()
    assert hashlib.sha256(canonical).hexdigest() == vector["proofOptionsHashHex"]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_combined_hash_signature_and_proof_value(vector: dict[str, Any]) -> None:
    combined = hash_data(
        vector["credentialWithoutProof"], vector["proofOptions"], SUITE
    )
    assert combined.hex() == vector["combinedHashHex"]
    signature = _key(vector).sign(combined)
    assert signature.hex() == vector["signatureHex"]
    assert base58btc_encode(signature) == vector["proofValue"]
    assert base58btc_decode(vector["proofValue"]) == signature


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_key_pair_matches(vector: dict[str, Any]) -> None:
    public = _key(vector).public_key.to_multikey()
    assert public == vector["keyPair"]["publicKeyMultibase"]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_create_proof_reproduces_the_signed_proof(vector: dict[str, Any]) -> None:
    proof = create_proof(
        vector["credentialWithoutProof"],
        key=_key(vector),
        verification_method=vector["proofOptions"]["verificationMethod"],
        created=_created(vector),
    )
    expected = vector["signedCredential"]["proof"]
    assert proof == expected
    assert canonicalize(proof) == canonicalize(expected)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_add_proof_reproduces_the_signed_credential(vector: dict[str, Any]) -> None:
    signed = add_proof(
        vector["credentialWithoutProof"],
        key=_key(vector),
        verification_method=vector["proofOptions"]["verificationMethod"],
        created=_created(vector),
    )
    assert canonicalize(signed) == canonicalize(vector["signedCredential"])


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_signed_credential_verifies(vector: dict[str, Any]) -> None:
    (verified,) = verify_proofs(
        vector["signedCredential"],
        resolver=default_resolver(),
        expected_purpose="assertionMethod",
    )
    assert verified.cryptosuite == "eddsa-jcs-2022"
    assert verified.controller == OTHER_DID_KEY.replace(
        "z6MktgKTsu1QhX6QPbyqG6geXdw6FQCZBPq7uQpieWbiQiG7",
        vector["keyPair"]["publicKeyMultibase"],
    )


def _other_method() -> str:
    return f"{OTHER_DID_KEY}#{OTHER_DID_KEY.removeprefix('did:key:')}"


TAMPERED_PROOF: list[tuple[str, Any, type[DidVaultError]]] = [
    ("type", "Ed25519Signature2020", UnsupportedCryptosuiteError),
    ("cryptosuite", "eddsa-jcs-2099", UnsupportedCryptosuiteError),
    ("cryptosuite", "ecdsa-jcs-2019", ProofVerificationError),
    ("created", "2023-02-24T23:36:39Z", ProofVerificationError),
    ("created", "yesterday", MalformedProofError),
    ("verificationMethod", _other_method(), ProofVerificationError),
    ("proofPurpose", "authentication", ProofPurposeMismatchError),
    ("proofValue", "z" + "1" * 87, ProofVerificationError),
    ("@context", ["https://www.w3.org/ns/credentials/v2"], ProofVerificationError),
    ("challenge", "added-after-signing", ProofVerificationError),
    ("domain", "added.example", ProofVerificationError),
]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
@pytest.mark.parametrize(
    ("member", "value", "error"),
    TAMPERED_PROOF,
    ids=[f"{member}={str(value)[:24]}" for member, value, _ in TAMPERED_PROOF],
)
def test_tampered_proof_member_is_refused_with_its_code(
    vector: dict[str, Any], member: str, value: Any, error: type[DidVaultError]
) -> None:
    document = copy.deepcopy(vector["signedCredential"])
    document["proof"][member] = value
    with pytest.raises(error) as caught:
        verify_proofs(
            document, resolver=default_resolver(), expected_purpose="assertionMethod"
        )
    assert type(caught.value) is error


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
@pytest.mark.parametrize(
    "path",
    [("name",), ("credentialSubject", "alumniOf"), ("issuer",), ("validFrom",)],
    ids=lambda path: "/".join(path),
)
def test_tampered_credential_is_refused(
    vector: dict[str, Any], path: tuple[str, ...]
) -> None:
    document = copy.deepcopy(vector["signedCredential"])
    target = document
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = target[path[-1]] + "x"
    with pytest.raises(ProofVerificationError):
        verify_proofs(
            document, resolver=default_resolver(), expected_purpose="assertionMethod"
        )


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_proof_value_flipped_in_one_character_is_refused(
    vector: dict[str, Any],
) -> None:
    document = copy.deepcopy(vector["signedCredential"])
    value = document["proof"]["proofValue"]
    document["proof"]["proofValue"] = (
        value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    )
    with pytest.raises(ProofVerificationError):
        verify_proofs(
            document, resolver=default_resolver(), expected_purpose="assertionMethod"
        )
