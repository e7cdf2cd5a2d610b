"""Compact JWS: strict parsing, the algorithm policy, signing and verifying."""

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_vault.errors import (
    InvalidEncodingError,
    InvalidKeyError,
    InvalidSignatureError,
    JWSAlgorithmMismatchError,
    MalformedInputError,
    MalformedJWSError,
    UnsupportedAlgorithmError,
    UnsupportedCriticalHeaderError,
    UnsupportedJWSAlgorithmError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.primitives import b64
from did_vault.primitives.jws import (
    VerificationKey,
    b64url_decode,
    decode_json,
    encode_json,
    parse_compact,
    sign_compact,
    verify_compact,
)

KEYS = {
    KeyAlgorithm.ED25519: PrivateKey(KeyAlgorithm.ED25519, bytes(range(32))),
    KeyAlgorithm.P256: PrivateKey(KeyAlgorithm.P256, bytes(31) + b"\x03"),
}
OTHER = {
    KeyAlgorithm.ED25519: PrivateKey(KeyAlgorithm.ED25519, bytes([9]) * 32),
    KeyAlgorithm.P256: PrivateKey(KeyAlgorithm.P256, bytes(31) + b"\x04"),
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _segment(value: Any) -> str:
    return _b64(json.dumps(value).encode())


DUPLICATE_ALG = _b64(b'{"alg":"EdDSA","alg":"none"}')


@pytest.fixture(params=list(KeyAlgorithm), ids=str)
def key(request: pytest.FixtureRequest) -> PrivateKey:
    return KEYS[request.param]


def test_sign_compact_round_trips_and_verifies(key: PrivateKey) -> None:
    token = sign_compact({"typ": "kb+jwt", "kid": "k"}, {"a": "ü", "n": 1}, key)
    jws = parse_compact(token)
    assert jws.header == {
        "alg": key.algorithm.jws_algorithm,
        "typ": "kb+jwt",
        "kid": "k",
    }
    assert jws.payload_object() == {"a": "ü", "n": 1}
    verify_compact(jws, key.public_key)
    verify_compact(jws, VerificationKey.from_public_key(key.public_key))
    verify_compact(jws, VerificationKey.from_jwk(key.public_key.to_jwk()))


def test_sign_compact_uses_compact_utf8_json(key: PrivateKey) -> None:
    token = sign_compact({}, {"name": "Möbius", "list": [1, 2]}, key)
    payload = b64url_decode(token.split(".")[1])
    assert payload == '{"name":"Möbius","list":[1,2]}'.encode()


def test_sign_compact_refuses_another_alg_and_crit(key: PrivateKey) -> None:
    with pytest.raises(ValueError, match="signs"):
        sign_compact({"alg": "HS256"}, {}, key)
    with pytest.raises(ValueError, match="crit"):
        sign_compact({"crit": ["exp"]}, {}, key)


def test_verify_compact_rejects_another_key(key: PrivateKey) -> None:
    jws = parse_compact(sign_compact({}, {"a": 1}, key))
    other = OTHER[key.algorithm].public_key
    with pytest.raises(InvalidSignatureError):
        verify_compact(jws, other)
    with pytest.raises(InvalidSignatureError):
        verify_compact(jws, VerificationKey.from_public_key(other))


def test_verify_compact_binds_the_alg_to_the_key_type() -> None:
    jws = parse_compact(sign_compact({}, {"a": 1}, KEYS[KeyAlgorithm.ED25519]))
    with pytest.raises(JWSAlgorithmMismatchError):
        verify_compact(jws, KEYS[KeyAlgorithm.P256].public_key)


def test_verify_compact_rejects_a_changed_payload(key: PrivateKey) -> None:
    header, _, signature = sign_compact({}, {"a": 1}, key).split(".")
    jws = parse_compact(f"{header}.{_segment({'a': 2})}.{signature}")
    with pytest.raises(InvalidSignatureError):
        verify_compact(jws, key.public_key)


@pytest.mark.parametrize(
    "signature",
    [b"", b"\x00" * 64, b"\xff" * 64, b"\x01" * 63, b"\x01" * 65],
    ids=["empty", "zero", "over-order", "short", "long"],
)
def test_verification_key_rejects_impossible_signatures(
    key: PrivateKey, signature: bytes
) -> None:
    with pytest.raises(InvalidSignatureError):
        VerificationKey.from_public_key(key.public_key).verify(signature, b"m")


@pytest.mark.parametrize(
    "alg", ["none", "None", "HS256", "HS512", "RS256", "PS256", "ES384", "ES256K"]
)
def test_parse_compact_refuses_algorithms_outside_the_allow_list(alg: str) -> None:
    token = f"{_segment({'alg': alg})}.{_segment({})}.{_b64(b'sig')}"
    with pytest.raises(UnsupportedJWSAlgorithmError):
        parse_compact(token)


def test_parse_compact_refuses_crit() -> None:
    token = f"{_segment({'alg': 'EdDSA', 'crit': ['x'], 'x': 1})}.{_segment({})}.AA"
    with pytest.raises(UnsupportedCriticalHeaderError):
        parse_compact(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        f"{_b64(b'not json')}.{_segment({})}.AA",
        f"{_segment([1])}.{_segment({})}.AA",
        f"{_segment({'typ': 'JWT'})}.{_segment({})}.AA",
        f"{_segment({'alg': 5})}.{_segment({})}.AA",
        f"{DUPLICATE_ALG}.{_segment({})}.AA",
        f"{_segment({'alg': 'EdDSA'})}.{_segment({})}.",
        f"{_segment({'alg': 'EdDSA'})}..AA",
        f"{_segment({'alg': 'EdDSA'})}.{_segment({})}.A=",
        f"{_segment({'alg': 'EdDSA'})}=.{_segment({})}.AA",
    ],
    ids=[
        "empty",
        "two-segments",
        "four-segments",
        "header-not-json",
        "header-not-object",
        "no-alg",
        "alg-not-string",
        "duplicate-alg",
        "empty-signature",
        "empty-payload",
        "padded-signature",
        "padded-header",
    ],
)
def test_parse_compact_rejects_malformed_tokens(token: str) -> None:
    with pytest.raises(MalformedJWSError):
        parse_compact(token)


@pytest.mark.parametrize(
    "payload",
    [b"[1]", b'{"a":1,"a":2}', b'{"a":NaN}', b'{"a":Infinity}', b"\xff", b"{"],
    ids=["array", "duplicate", "nan", "infinity", "not-utf8", "truncated"],
)
def test_payload_object_is_strict(key: PrivateKey, payload: bytes) -> None:
    token = sign_compact({}, payload, key)
    with pytest.raises(MalformedJWSError):
        parse_compact(token).payload_object()


def test_decode_json_rejects_deep_nesting() -> None:
    with pytest.raises(ValueError, match="recursion"):
        decode_json("[" * 100_000 + "]" * 100_000)


def test_encode_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        encode_json({"a": float("nan")})


@pytest.mark.parametrize("text", ["", "AA", "AAA", "AAAA", "-_-_", "QUJD", "QUI"])
def test_b64url_decode_agrees_with_the_reference_decoder(text: str) -> None:
    assert b64url_decode(text) == b64.b64url_decode(text)


@pytest.mark.parametrize(
    "text", ["A", "AB", "AAB", "QUJD=", "QU JD", "QU+D", "QU/D", "QUé", "QUJD\n"]
)
def test_b64url_decode_rejects_what_the_reference_decoder_rejects(text: str) -> None:
    with pytest.raises(InvalidEncodingError):
        b64.b64url_decode(text)
    with pytest.raises(InvalidEncodingError):
        b64url_decode(text)


@given(st.binary(max_size=80))
def test_b64url_decode_round_trips(data: bytes) -> None:
    assert b64url_decode(b64.b64url_encode(data)) == data


@given(st.text(max_size=40))
def test_b64url_decode_matches_the_reference_on_any_text(text: str) -> None:
    try:
        expected: bytes | None = b64.b64url_decode(text)
    except InvalidEncodingError:
        expected = None
    try:
        actual: bytes | None = b64url_decode(text)
    except InvalidEncodingError:
        actual = None
    assert actual == expected


@given(st.text(max_size=200))
def test_parse_compact_raises_only_malformed_input_on_any_text(text: str) -> None:
    with pytest.raises(MalformedInputError):
        parse_compact(text)


def test_verification_key_from_jwk_checks_like_public_key_from_jwk() -> None:
    jwk = KEYS[KeyAlgorithm.P256].public_key.to_jwk()
    with pytest.raises(InvalidKeyError):
        VerificationKey.from_jwk({**jwk, "d": "AA"})
    with pytest.raises(InvalidKeyError):
        VerificationKey.from_jwk({**jwk, "alg": "EdDSA"})
    with pytest.raises(InvalidKeyError):
        VerificationKey.from_jwk({**jwk, "y": jwk["x"]})  # off the curve
    with pytest.raises(InvalidKeyError):
        VerificationKey.from_jwk({**jwk, "x": "AAAA"})
    with pytest.raises(InvalidKeyError):
        VerificationKey.from_jwk({"kty": "EC", "crv": "P-256", "x": 1, "y": 2})
    with pytest.raises(InvalidKeyError):
        VerificationKey.from_jwk([])  # type: ignore[arg-type]
    with pytest.raises(UnsupportedAlgorithmError):
        VerificationKey.from_jwk({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"})
    small_order = {"kty": "OKP", "crv": "Ed25519", "x": _b64(bytes(32))}
    with pytest.raises(InvalidKeyError):
        VerificationKey.from_jwk(small_order)
