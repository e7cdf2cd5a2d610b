"""Key test vectors: RFC 8032 §7.1, RFC 8037 Appendix A, W3C Multikey examples, did:key.

Every expected value comes from the vendored files under ``vectors/`` (see each
folder's SOURCE.md); nothing here is computed by the code under test and then trusted.
"""

import json
from pathlib import Path
from typing import Any

import base58
import pytest

from did_vault.errors import UnsupportedAlgorithmError
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey, VerifyBackend
from did_vault.primitives.b64 import b64url_decode, b64url_encode

pytestmark = pytest.mark.conformance

VECTORS = Path(__file__).parent / "vectors"
BACKENDS: tuple[VerifyBackend, ...] = ("cryptography", "sodium")


def _load(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTORS / relative).read_text("utf-8"))
    return loaded


RFC8032 = _load("rfc8032/ed25519.json")["vectors"]
RFC8037 = _load("rfc8037/ed25519-jwk.json")
EDDSA_PAIRS = _load("multikey/vc-di-eddsa.json")["key_pairs"]
ECDSA_PAIRS = _load("multikey/vc-di-ecdsa.json")["key_pairs"]
DID_KEY = _load("multikey/did-key.json")


def _params(vectors: list[dict[str, Any]], id_key: str) -> list[Any]:
    return [pytest.param(v, id=v[id_key]) for v in vectors]


def _did_key_multikey(did: str) -> str:
    return did.removeprefix("did:key:")


# --- RFC 8032 §7.1 ------------------------------------------------------------------


@pytest.mark.parametrize("vector", _params(RFC8032, "name"))
def test_rfc8032_secret_key_derives_the_vector_public_key(
    vector: dict[str, Any],
) -> None:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes.fromhex(vector["secret_key"]))
    assert key.public_key.raw.hex() == vector["public_key"]


@pytest.mark.parametrize("vector", _params(RFC8032, "name"))
def test_rfc8032_signature_matches_the_vector_exactly(vector: dict[str, Any]) -> None:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes.fromhex(vector["secret_key"]))
    assert key.sign(bytes.fromhex(vector["message"])).hex() == vector["signature"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("vector", _params(RFC8032, "name"))
def test_rfc8032_signature_verifies_with_each_backend(
    vector: dict[str, Any], backend: VerifyBackend
) -> None:
    public = PublicKey.from_raw(
        KeyAlgorithm.ED25519, bytes.fromhex(vector["public_key"])
    )
    public.verify(
        bytes.fromhex(vector["signature"]),
        bytes.fromhex(vector["message"]),
        backend=backend,
    )


# --- RFC 8037 Appendix A -------------------------------------------------------------


def test_rfc8037_private_jwk_parses_to_the_rfc8032_test1_key() -> None:
    key = PrivateKey.from_jwk(RFC8037["private_jwk"])
    assert key.secret.hex() == RFC8032[0]["secret_key"]
    assert key.public_key.raw.hex() == RFC8032[0]["public_key"]


def test_rfc8037_private_jwk_round_trips_through_to_jwk() -> None:
    key = PrivateKey.from_jwk(RFC8037["private_jwk"])
    assert key.to_jwk() == RFC8037["private_jwk"]


def test_rfc8037_public_jwk_round_trips_through_to_jwk() -> None:
    public = PublicKey.from_jwk(RFC8037["public_jwk"])
    assert public.to_jwk() == RFC8037["public_jwk"]


def test_rfc8037_public_jwk_has_the_appendix_a3_thumbprint() -> None:
    public = PublicKey.from_jwk(RFC8037["public_jwk"])
    assert public.jwk_thumbprint() == RFC8037["thumbprint_sha256"]


def test_rfc8037_signing_input_is_header_and_payload_in_base64url() -> None:
    jws = RFC8037["jws"]
    header, payload = jws["signing_input"].split(".")
    assert b64url_decode(header).decode() == jws["protected_header"]
    assert b64url_decode(payload).decode() == jws["payload"]


def test_rfc8037_signature_matches_appendix_a4_exactly() -> None:
    key = PrivateKey.from_jwk(RFC8037["private_jwk"])
    signature = key.sign(RFC8037["jws"]["signing_input"].encode("ascii"))
    assert b64url_encode(signature) == RFC8037["jws"]["signature"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_rfc8037_signature_verifies_with_each_backend(backend: VerifyBackend) -> None:
    public = PublicKey.from_jwk(RFC8037["public_jwk"])
    public.verify(
        b64url_decode(RFC8037["jws"]["signature"]),
        RFC8037["jws"]["signing_input"].encode("ascii"),
        backend=backend,
    )


# --- W3C Multikey examples (vc-di-eddsa, vc-di-ecdsa) -------------------------------


MULTIKEY_PAIRS = [
    pytest.param(pair, KeyAlgorithm.ED25519, id=f"vc-di-eddsa/{pair['name']}")
    for pair in EDDSA_PAIRS
] + [
    pytest.param(pair, KeyAlgorithm.P256, id=f"vc-di-ecdsa/{pair['name']}")
    for pair in ECDSA_PAIRS
]


@pytest.mark.parametrize(("pair", "algorithm"), MULTIKEY_PAIRS)
def test_multikey_secret_key_pairs_with_its_public_key(
    pair: dict[str, str], algorithm: KeyAlgorithm
) -> None:
    key = PrivateKey.from_multikey(pair["secretKeyMultibase"])
    assert key.algorithm is algorithm
    assert key.public_key.to_multikey() == pair["publicKeyMultibase"]


@pytest.mark.parametrize(("pair", "algorithm"), MULTIKEY_PAIRS)
def test_multikey_values_round_trip_unchanged(
    pair: dict[str, str], algorithm: KeyAlgorithm
) -> None:
    public = PublicKey.from_multikey(pair["publicKeyMultibase"])
    assert public.algorithm is algorithm
    assert public.to_multikey() == pair["publicKeyMultibase"]
    secret = PrivateKey.from_multikey(pair["secretKeyMultibase"])
    assert secret.to_multikey() == pair["secretKeyMultibase"]


@pytest.mark.parametrize(("pair", "algorithm"), MULTIKEY_PAIRS)
def test_multikey_pair_signs_and_verifies(
    pair: dict[str, str], algorithm: KeyAlgorithm
) -> None:
    key = PrivateKey.from_multikey(pair["secretKeyMultibase"])
    public = PublicKey.from_multikey(pair["publicKeyMultibase"])
    message = b"conformance: the pair belongs together"
    public.verify(key.sign(message), message)


def test_multikey_prefixes_are_the_documented_headers() -> None:
    # W3C Controlled Identifiers §2.2.2: Ed25519 "z6Mk", P-256 "zDn".
    assert all(p["publicKeyMultibase"].startswith("z6Mk") for p in EDDSA_PAIRS)
    assert all(p["publicKeyMultibase"].startswith("zDn") for p in ECDSA_PAIRS)


# --- did:key method test vectors -----------------------------------------------------


@pytest.mark.parametrize("vector", _params(DID_KEY["ed25519"], "did"))
def test_did_key_seed_gives_the_vector_multikey(vector: dict[str, Any]) -> None:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes.fromhex(vector["seed"]))
    assert key.public_key.to_multikey() == _did_key_multikey(vector["did"])
    assert key.public_key.raw == base58.b58decode(vector["publicKeyBase58"])


@pytest.mark.parametrize("vector", _params(DID_KEY["ed25519"], "did"))
def test_did_key_ed25519_maps_to_the_vector_x25519_key(vector: dict[str, Any]) -> None:
    public = PublicKey.from_multikey(_did_key_multikey(vector["did"]))
    assert public.to_x25519_multikey() == vector["x25519PublicKeyMultibase"]


@pytest.mark.parametrize("vector", _params(DID_KEY["ed25519"], "did"))
def test_did_key_seed_maps_to_the_vector_x25519_secret(vector: dict[str, Any]) -> None:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes.fromhex(vector["seed"]))
    assert key.x25519_secret() == base58.b58decode(vector["x25519PrivateKeyBase58"])


@pytest.mark.parametrize("vector", _params(DID_KEY["p256"], "did"))
def test_did_key_p256_jwk_gives_the_vector_multikey(vector: dict[str, Any]) -> None:
    key = PrivateKey.from_jwk(vector["privateKeyJwk"])
    assert key.public_key.to_multikey() == _did_key_multikey(vector["did"])
    assert key.to_jwk() == vector["privateKeyJwk"]


@pytest.mark.parametrize("vector", _params(DID_KEY["p256"], "did"))
def test_did_key_p256_multikey_gives_the_vector_public_jwk(
    vector: dict[str, Any],
) -> None:
    public = PublicKey.from_multikey(_did_key_multikey(vector["did"]))
    expected = {k: v for k, v in vector["privateKeyJwk"].items() if k != "d"}
    assert public.to_jwk() == expected


@pytest.mark.parametrize("vector", _params(DID_KEY["unsupported"], "did"))
def test_did_key_of_another_curve_is_an_unsupported_algorithm(
    vector: dict[str, Any],
) -> None:
    with pytest.raises(UnsupportedAlgorithmError) as caught:
        PublicKey.from_multikey(_did_key_multikey(vector["did"]))
    assert caught.value.code == "key.algorithm-unsupported"
