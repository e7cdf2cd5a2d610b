"""Keys: did_vault.keys (Multikey per W3C CID 1.0, JWK per RFC 7517 and RFC 8037).

Every negative case asserts the exact error ``code``; secrets never show in a repr,
a str or an error.
"""

import base64
import contextlib
from collections.abc import Mapping
from typing import Any

import nacl.bindings
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.errors import (
    DidVaultError,
    InvalidEncodingError,
    InvalidKeyError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey, VerifyBackend
from did_vault.primitives.b64 import b64url_encode
from did_vault.primitives.multikey import base58btc_encode, varint_encode

FUZZ = settings(database=None, deadline=None, max_examples=60)
P = 2**255 - 19
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED25519_D = (-121665 * pow(121666, P - 2, P)) % P
BACKENDS: tuple[VerifyBackend, ...] = ("cryptography", "sodium")
MESSAGE = b"register item gtin 09506000134352 serial 42"

# multicodec table codes (https://github.com/multiformats/multicodec/blob/master/table.csv)
ED25519_PUB, ED25519_PRIV = 0xED, 0x1300
P256_PUB, P256_PRIV = 0x1200, 0x1306
SECP256K1_PUB, SECP256K1_PRIV = 0xE7, 0x1301
X25519_PUB, X25519_PRIV = 0xEC, 0x1302

ed25519_seeds = st.binary(min_size=32, max_size=32)
p256_scalars = st.integers(min_value=1, max_value=P256_N - 1).map(
    lambda k: k.to_bytes(32, "big")
)
private_keys = st.one_of(
    ed25519_seeds.map(lambda s: PrivateKey(KeyAlgorithm.ED25519, s)),
    p256_scalars.map(lambda s: PrivateKey(KeyAlgorithm.P256, s)),
)


def _multikey(codec: int, raw: bytes) -> str:
    return base58btc_encode(varint_encode(codec) + raw)


def _ed25519_y(y: int, *, sign: int = 0) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


def _ed25519_y_without_x() -> int:
    for y in range(2, 100):
        x2 = (y * y - 1) * pow(ED25519_D * y * y + 1, P - 2, P) % P
        if pow(x2, (P - 1) // 2, P) == P - 1:
            return y
    raise AssertionError("no non-square found")


def _p256_x_without_y() -> bytes:
    for x in range(1, 100):
        if (
            pow((x**3 - 3 * x + P256_B) % P256_P, (P256_P - 1) // 2, P256_P)
            == P256_P - 1
        ):
            return x.to_bytes(32, "big")
    raise AssertionError("no non-square found")


def _flip_bit(data: bytes, index: int) -> bytes:
    flipped = bytearray(data)
    flipped[index // 8] ^= 1 << (index % 8)
    return bytes(flipped)


@pytest.fixture(params=list(KeyAlgorithm), ids=lambda a: a.value)
def key(request: pytest.FixtureRequest) -> PrivateKey:
    """One fixed key per algorithm (deterministic secrets, not generated)."""
    algorithm: KeyAlgorithm = request.param
    return PrivateKey(algorithm, bytes(range(1, 33)))


@pytest.fixture
def ed25519_key() -> PrivateKey:
    return PrivateKey(KeyAlgorithm.ED25519, bytes(range(1, 33)))


@pytest.fixture
def p256_key() -> PrivateKey:
    return PrivateKey(KeyAlgorithm.P256, bytes(range(1, 33)))


# --- KeyAlgorithm --------------------------------------------------------------------


def test_key_algorithm_values_are_the_curve_names() -> None:
    assert [a.value for a in KeyAlgorithm] == ["Ed25519", "P-256"]


def test_key_algorithm_names_its_jose_algorithm() -> None:
    assert KeyAlgorithm.ED25519.jws_algorithm == "EdDSA"
    assert KeyAlgorithm.P256.jws_algorithm == "ES256"


def test_key_algorithm_names_its_multicodecs() -> None:
    assert (KeyAlgorithm.ED25519.public_codec, KeyAlgorithm.ED25519.private_codec) == (
        ED25519_PUB,
        ED25519_PRIV,
    )
    assert (KeyAlgorithm.P256.public_codec, KeyAlgorithm.P256.private_codec) == (
        P256_PUB,
        P256_PRIV,
    )


# --- generate, sign, verify ----------------------------------------------------------


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_generate_makes_distinct_keys_of_the_algorithm(algorithm: KeyAlgorithm) -> None:
    first, second = PrivateKey.generate(algorithm), PrivateKey.generate(algorithm)
    assert first.algorithm is second.algorithm is algorithm
    assert first != second


def test_generate_defaults_to_ed25519() -> None:
    assert PrivateKey.generate().algorithm is KeyAlgorithm.ED25519


def test_multikey_prefixes_name_the_algorithm(
    ed25519_key: PrivateKey, p256_key: PrivateKey
) -> None:
    assert ed25519_key.public_key.to_multikey().startswith("z6Mk")
    assert p256_key.public_key.to_multikey().startswith("zDn")
    assert ed25519_key.to_multikey().startswith("z3u2")
    assert p256_key.to_multikey().startswith("z42t")


def test_sign_gives_a_64_byte_signature_that_verifies(key: PrivateKey) -> None:
    signature = key.sign(MESSAGE)
    assert len(signature) == 64
    key.public_key.verify(signature, MESSAGE)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ed25519_verifies_with_each_backend(
    ed25519_key: PrivateKey, backend: VerifyBackend
) -> None:
    ed25519_key.public_key.verify(ed25519_key.sign(MESSAGE), MESSAGE, backend=backend)


def test_p256_ignores_the_sodium_backend_choice(p256_key: PrivateKey) -> None:
    p256_key.public_key.verify(p256_key.sign(MESSAGE), MESSAGE, backend="sodium")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bit", [0, 100, 300, 511])
def test_verify_rejects_a_tampered_signature(
    key: PrivateKey, backend: VerifyBackend, bit: int
) -> None:
    signature = _flip_bit(key.sign(MESSAGE), bit)
    with pytest.raises(InvalidSignatureError) as caught:
        key.public_key.verify(signature, MESSAGE, backend=backend)
    assert caught.value.code == "proof.signature-invalid"


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_rejects_a_tampered_message(
    key: PrivateKey, backend: VerifyBackend
) -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        key.public_key.verify(key.sign(MESSAGE), MESSAGE + b" ", backend=backend)
    assert caught.value.code == "proof.signature-invalid"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("length", [0, 63, 65])
def test_verify_rejects_a_signature_of_the_wrong_length(
    key: PrivateKey, backend: VerifyBackend, length: int
) -> None:
    signature = (key.sign(MESSAGE) * 2)[:length]
    with pytest.raises(InvalidSignatureError):
        key.public_key.verify(signature, MESSAGE, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_rejects_a_signature_by_another_key(
    key: PrivateKey, backend: VerifyBackend
) -> None:
    other = PrivateKey(key.algorithm, bytes(range(2, 34)))
    with pytest.raises(InvalidSignatureError):
        key.public_key.verify(other.sign(MESSAGE), MESSAGE, backend=backend)


def test_invalid_signature_error_names_the_algorithm(key: PrivateKey) -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        key.public_key.verify(bytes(64), MESSAGE)
    assert caught.value.context == {"algorithm": key.algorithm.value}


# --- round trips (properties) --------------------------------------------------------


@FUZZ
@given(private_keys)
def test_public_multikey_round_trips(private: PrivateKey) -> None:
    public = private.public_key
    assert PublicKey.from_multikey(public.to_multikey()) == public


@FUZZ
@given(private_keys)
def test_private_multikey_round_trips(private: PrivateKey) -> None:
    parsed = PrivateKey.from_multikey(private.to_multikey())
    assert parsed == private
    assert parsed.public_key == private.public_key


@FUZZ
@given(private_keys)
def test_public_jwk_round_trips(private: PrivateKey) -> None:
    public = private.public_key
    assert PublicKey.from_jwk(public.to_jwk()) == public


@FUZZ
@given(private_keys)
def test_private_jwk_round_trips(private: PrivateKey) -> None:
    jwk = private.to_jwk()
    assert set(jwk) - set(private.public_key.to_jwk()) == {"d"}
    assert PrivateKey.from_jwk(jwk) == private


@FUZZ
@given(private_keys)
def test_jwk_thumbprint_ignores_optional_members(private: PrivateKey) -> None:
    public = private.public_key
    decorated = {
        **public.to_jwk(),
        "alg": private.algorithm.jws_algorithm,
        "kid": "k1",
        "use": "sig",
    }
    assert PublicKey.from_jwk(decorated).jwk_thumbprint() == public.jwk_thumbprint()


@FUZZ
@given(p256_scalars)
def test_p256_from_raw_accepts_the_uncompressed_point(scalar: bytes) -> None:
    public = PrivateKey(KeyAlgorithm.P256, scalar).public_key
    x, y = (base64.urlsafe_b64decode(public.to_jwk()[m] + "=") for m in ("x", "y"))
    assert PublicKey.from_raw(KeyAlgorithm.P256, b"\x04" + x + y) == public


def test_jwk_members_are_in_rfc7638_order(key: PrivateKey) -> None:
    members = list(key.public_key.to_jwk())
    assert members == sorted(members)


def test_public_key_is_a_frozen_value(ed25519_key: PrivateKey) -> None:
    public = ed25519_key.public_key
    copy = PublicKey(public.algorithm, public.raw)
    assert copy == public
    assert hash(copy) == hash(public)
    with pytest.raises(AttributeError):
        public.raw = bytes(32)  # type: ignore[misc]


# --- wrong multicodec ----------------------------------------------------------------


def test_public_key_from_multikey_rejects_a_private_key(key: PrivateKey) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_multikey(key.to_multikey())
    assert caught.value.code == "key.invalid"


def test_private_key_from_multikey_rejects_a_public_key(key: PrivateKey) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PrivateKey.from_multikey(key.public_key.to_multikey())
    assert caught.value.code == "key.invalid"


@pytest.mark.parametrize(
    "multikey",
    [
        pytest.param(
            _multikey(SECP256K1_PUB, b"\x02" + bytes(range(32))), id="secp256k1"
        ),
        pytest.param(_multikey(X25519_PUB, bytes(range(32))), id="x25519"),
        pytest.param(_multikey(0x1201, bytes(49)), id="p384"),
    ],
)
def test_public_key_from_multikey_rejects_other_key_types(multikey: str) -> None:
    with pytest.raises(UnsupportedAlgorithmError) as caught:
        PublicKey.from_multikey(multikey)
    assert caught.value.code == "key.algorithm-unsupported"


@pytest.mark.parametrize(
    "multikey",
    [
        pytest.param(_multikey(SECP256K1_PRIV, bytes(range(32))), id="secp256k1"),
        pytest.param(_multikey(X25519_PRIV, bytes(range(32))), id="x25519"),
    ],
)
def test_private_key_from_multikey_rejects_other_key_types(multikey: str) -> None:
    with pytest.raises(UnsupportedAlgorithmError) as caught:
        PrivateKey.from_multikey(multikey)
    assert caught.value.code == "key.algorithm-unsupported"


def test_x25519_multikey_is_not_accepted_as_an_ed25519_key(
    ed25519_key: PrivateKey,
) -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        PublicKey.from_multikey(ed25519_key.public_key.to_x25519_multikey())


# --- wrong lengths and bad points ----------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "size"),
    [
        (ED25519_PUB, 31),
        (ED25519_PUB, 33),
        (ED25519_PUB, 0),
        (P256_PUB, 32),
        (P256_PUB, 34),
    ],
)
def test_public_key_from_multikey_rejects_the_wrong_length(
    codec: int, size: int
) -> None:
    raw = (b"\x02" + bytes(range(1, 40)))[:size]
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_multikey(_multikey(codec, raw))
    assert caught.value.code == "key.invalid"


@pytest.mark.parametrize(
    ("codec", "size"),
    [(ED25519_PRIV, 31), (ED25519_PRIV, 33), (P256_PRIV, 31), (P256_PRIV, 64)],
)
def test_private_key_from_multikey_rejects_the_wrong_length(
    codec: int, size: int
) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PrivateKey.from_multikey(_multikey(codec, bytes(range(1, size + 1))))
    assert caught.value.code == "key.invalid"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_ed25519_y(P), id="y-equals-p"),
        pytest.param(_ed25519_y(2**255 - 1), id="y-above-p"),
        pytest.param(_ed25519_y(_ed25519_y_without_x()), id="y-without-x"),
        pytest.param(_ed25519_y(1, sign=1), id="x-zero-sign-set"),
    ],
)
def test_ed25519_public_key_rejects_points_off_the_curve(raw: bytes) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_multikey(_multikey(ED25519_PUB, raw))
    assert caught.value.code == "key.invalid"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x02" + _p256_x_without_y(), id="x-without-y"),
        pytest.param(b"\x03" + P256_P.to_bytes(32, "big"), id="x-equals-p"),
        pytest.param(b"\x05" + bytes(range(32)), id="bad-prefix"),
    ],
)
def test_p256_public_key_rejects_points_off_the_curve(raw: bytes) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_multikey(_multikey(P256_PUB, raw))
    assert caught.value.code == "key.invalid"


def test_p256_from_raw_rejects_an_uncompressed_point_off_the_curve(
    p256_key: PrivateKey,
) -> None:
    jwk = p256_key.public_key.to_jwk()
    x = base64.urlsafe_b64decode(jwk["x"] + "=")
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_raw(KeyAlgorithm.P256, b"\x04" + x + bytes(31) + b"\x01")
    assert caught.value.code == "key.invalid"


@pytest.mark.parametrize("scalar", [0, P256_N, P256_N + 1, 2**256 - 1])
def test_p256_private_key_rejects_a_scalar_out_of_range(scalar: int) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PrivateKey(KeyAlgorithm.P256, scalar.to_bytes(32, "big"))
    assert caught.value.code == "key.invalid"


# --- multibase text errors -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", id="missing-z"),
        pytest.param("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0", id="zero"),
        pytest.param(
            "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQO", id="capital-o"
        ),
        pytest.param("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQl", id="lower-l"),
        pytest.param("uAO0BAgM", id="base64url-multibase"),
        pytest.param("z", id="empty-body"),
        pytest.param("", id="empty"),
    ],
)
def test_from_multikey_rejects_text_that_is_not_base58btc(text: str) -> None:
    for parse in (PublicKey.from_multikey, PrivateKey.from_multikey):
        with pytest.raises(InvalidEncodingError) as caught:
            parse(text)
        assert caught.value.code == "encoding.invalid"


def test_from_multikey_rejects_a_truncated_codec_varint() -> None:
    with pytest.raises(InvalidEncodingError) as caught:
        PublicKey.from_multikey(base58btc_encode(b"\xed"))
    assert caught.value.code == "encoding.invalid"


# --- JWK errors ----------------------------------------------------------------------


def test_public_key_from_jwk_rejects_private_material(key: PrivateKey) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_jwk(key.to_jwk())
    assert caught.value.code == "key.invalid"


@pytest.mark.parametrize(
    ("algorithm", "alg"),
    [
        (KeyAlgorithm.ED25519, "ES256"),
        (KeyAlgorithm.ED25519, "Ed25519"),
        (KeyAlgorithm.P256, "EdDSA"),
        (KeyAlgorithm.P256, "ES384"),
    ],
)
def test_from_jwk_rejects_an_alg_that_does_not_match_the_curve(
    algorithm: KeyAlgorithm, alg: str
) -> None:
    private = PrivateKey(algorithm, bytes(range(1, 33)))
    for parse, jwk in (
        (PublicKey.from_jwk, private.public_key.to_jwk()),
        (PrivateKey.from_jwk, private.to_jwk()),
    ):
        with pytest.raises(InvalidKeyError) as caught:
            parse({**jwk, "alg": alg})
        assert caught.value.code == "key.invalid"


def test_from_jwk_accepts_the_matching_alg(key: PrivateKey) -> None:
    jwk = {**key.public_key.to_jwk(), "alg": key.algorithm.jws_algorithm}
    assert PublicKey.from_jwk(jwk) == key.public_key


@pytest.mark.parametrize(
    "jwk",
    [
        pytest.param(
            {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}, id="secp256k1"
        ),
        pytest.param({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}, id="p384"),
        pytest.param({"kty": "OKP", "crv": "X25519", "x": "AA"}, id="x25519"),
        pytest.param({"kty": "OKP", "crv": "Ed448", "x": "AA"}, id="ed448"),
        pytest.param({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, id="rsa"),
        pytest.param({"kty": "oct", "k": "AA"}, id="oct"),
    ],
)
def test_from_jwk_rejects_other_key_types(jwk: dict[str, str]) -> None:
    for parse in (PublicKey.from_jwk, PrivateKey.from_jwk):
        with pytest.raises(UnsupportedAlgorithmError) as caught:
            parse(jwk)
        assert caught.value.code == "key.algorithm-unsupported"


@pytest.mark.parametrize(
    "jwk",
    [
        pytest.param({"crv": "Ed25519", "x": "AA"}, id="no-kty"),
        pytest.param({"kty": "Ed25519", "x": "AA"}, id="unknown-kty"),
        pytest.param({"kty": "OKP", "crv": "Ed25519"}, id="no-x"),
        pytest.param({"kty": "OKP", "crv": "Ed25519", "x": 7}, id="x-not-a-string"),
        pytest.param({"kty": "EC", "crv": "P-256", "x": "AA"}, id="no-y"),
    ],
)
def test_public_key_from_jwk_rejects_missing_members(jwk: dict[str, Any]) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_jwk(jwk)
    assert caught.value.code == "key.invalid"


@pytest.mark.parametrize("not_a_mapping", [["kty", "OKP"], "OKP", None])
def test_from_jwk_rejects_a_value_that_is_not_an_object(not_a_mapping: Any) -> None:
    with pytest.raises(InvalidKeyError):
        PublicKey.from_jwk(not_a_mapping)


def test_public_key_from_jwk_rejects_the_wrong_ed25519_length(
    ed25519_key: PrivateKey,
) -> None:
    jwk = {**ed25519_key.public_key.to_jwk(), "x": b64url_encode(bytes(range(31)))}
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_jwk(jwk)
    assert caught.value.code == "key.invalid"


@pytest.mark.parametrize("member", ["x", "y"])
def test_public_key_from_jwk_rejects_short_p256_coordinates(
    p256_key: PrivateKey, member: str
) -> None:
    jwk = {**p256_key.public_key.to_jwk(), member: b64url_encode(bytes(range(1, 32)))}
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_jwk(jwk)
    assert caught.value.code == "key.invalid"


def test_public_key_from_jwk_rejects_a_p256_point_off_the_curve(
    p256_key: PrivateKey,
) -> None:
    jwk = {**p256_key.public_key.to_jwk(), "y": b64url_encode(bytes(31) + b"\x01")}
    with pytest.raises(InvalidKeyError) as caught:
        PublicKey.from_jwk(jwk)
    assert caught.value.code == "key.invalid"


def _non_canonical(member: str) -> str:
    """Same bytes' length, but the last character carries set trailing bits."""
    last = member[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return member[:-1] + alphabet[alphabet.index(last) + 1]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(_non_canonical, id="trailing-bits"),
        pytest.param(lambda v: v + "=", id="padded"),
        pytest.param(lambda v: v.replace(v[0], "+", 1), id="standard-alphabet"),
    ],
)
def test_public_key_from_jwk_rejects_non_canonical_base64url(
    key: PrivateKey, mangle: Any
) -> None:
    jwk = key.public_key.to_jwk()
    with pytest.raises(InvalidEncodingError) as caught:
        PublicKey.from_jwk({**jwk, "x": mangle(jwk["x"])})
    assert caught.value.code == "encoding.invalid"


def test_private_key_from_jwk_rejects_a_non_canonical_d(key: PrivateKey) -> None:
    jwk = key.to_jwk()
    with pytest.raises(InvalidKeyError) as caught:
        PrivateKey.from_jwk({**jwk, "d": _non_canonical(jwk["d"])})
    assert caught.value.code == "key.invalid"


def test_private_key_from_jwk_requires_d(key: PrivateKey) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        PrivateKey.from_jwk(key.public_key.to_jwk())
    assert caught.value.code == "key.invalid"


def test_private_key_from_jwk_rejects_public_members_of_another_key(
    key: PrivateKey,
) -> None:
    other = PrivateKey(key.algorithm, bytes(range(2, 34)))
    jwk = {**other.public_key.to_jwk(), "d": key.to_jwk()["d"]}
    with pytest.raises(InvalidKeyError) as caught:
        PrivateKey.from_jwk(jwk)
    assert caught.value.code == "key.invalid"


# --- X25519 --------------------------------------------------------------------------


def test_to_x25519_multikey_matches_libsodium(ed25519_key: PrivateKey) -> None:
    public = ed25519_key.public_key
    expected = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public.raw)
    assert public.to_x25519_multikey() == _multikey(X25519_PUB, expected)
    assert public.to_x25519_multikey().startswith("z6LS")


def test_x25519_is_refused_for_p256(p256_key: PrivateKey) -> None:
    with pytest.raises(UnsupportedAlgorithmError) as caught:
        p256_key.public_key.to_x25519_multikey()
    assert caught.value.code == "key.algorithm-unsupported"
    with pytest.raises(UnsupportedAlgorithmError):
        p256_key.x25519_secret()


# --- secrets stay secret -------------------------------------------------------------


def _secret_forms(private: PrivateKey) -> list[str]:
    return [
        private.to_multikey(),
        private.to_multikey()[1:],
        private.secret.hex(),
        private.to_jwk()["d"],
        repr(private.secret),
    ]


def _error_text(exc: BaseException) -> str:
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        parts += [str(current), repr(current)]
        if isinstance(current, DidVaultError):
            parts.append(repr(current.to_dict()))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def test_private_key_repr_and_str_show_only_the_public_key(key: PrivateKey) -> None:
    for text in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert key.public_key.to_multikey() in text
        for secret in _secret_forms(key):
            assert secret not in text


def test_private_key_in_a_container_repr_hides_the_secret(key: PrivateKey) -> None:
    text = repr({"keys": [key]})
    for secret in _secret_forms(key):
        assert secret not in text


def test_error_for_a_mismatched_private_jwk_hides_the_secret(key: PrivateKey) -> None:
    other = PrivateKey(key.algorithm, bytes(range(2, 34)))
    jwk = {**other.public_key.to_jwk(), "d": key.to_jwk()["d"]}
    with pytest.raises(DidVaultError) as caught:
        PrivateKey.from_jwk(jwk)
    for secret in _secret_forms(key):
        assert secret not in _error_text(caught.value)


def test_error_for_an_unsupported_private_multikey_hides_the_secret() -> None:
    secret = bytes(range(7, 39))
    multikey = _multikey(SECP256K1_PRIV, secret)
    with pytest.raises(DidVaultError) as caught:
        PrivateKey.from_multikey(multikey)
    text = _error_text(caught.value)
    assert multikey not in text
    assert secret.hex() not in text


def test_error_for_a_short_private_key_hides_the_secret() -> None:
    secret = bytes(range(9, 40))
    with pytest.raises(DidVaultError) as caught:
        PrivateKey.from_multikey(_multikey(ED25519_PRIV, secret))
    text = _error_text(caught.value)
    assert secret.hex() not in text
    assert _multikey(ED25519_PRIV, secret) not in text


def test_error_for_an_out_of_range_p256_scalar_hides_the_secret() -> None:
    secret = (P256_N + 5).to_bytes(32, "big")
    with pytest.raises(DidVaultError) as caught:
        PrivateKey.from_jwk(
            {
                "kty": "EC",
                "crv": "P-256",
                "x": "AA",
                "y": "AA",
                "d": b64url_encode(secret),
            }
        )
    text = _error_text(caught.value)
    assert secret.hex() not in text
    assert b64url_encode(secret) not in text


def test_error_for_a_non_canonical_d_hides_the_secret(key: PrivateKey) -> None:
    bad_d = _non_canonical(key.to_jwk()["d"])
    with pytest.raises(DidVaultError) as caught:
        PrivateKey.from_jwk({**key.to_jwk(), "d": bad_d})
    assert bad_d not in _error_text(caught.value)


# --- arbitrary input only fails with DidVaultError ------------------------------------

b58_text = st.text(
    alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", max_size=70
)
framed = st.builds(
    _multikey,
    st.sampled_from(
        [
            ED25519_PUB,
            ED25519_PRIV,
            P256_PUB,
            P256_PRIV,
            SECP256K1_PUB,
            X25519_PUB,
            0,
            0x55,
        ]
    ),
    st.binary(max_size=40),
)
multikey_like = st.one_of(st.text(max_size=70), b58_text.map(lambda t: "z" + t), framed)
b64_member = st.one_of(
    st.text(max_size=50),
    st.binary(max_size=40).map(b64url_encode),
    st.integers(),
    st.none(),
)
jwk_like = st.fixed_dictionaries(
    {
        "kty": st.sampled_from(["OKP", "EC", "RSA", "oct", "", "x"]),
        "crv": st.sampled_from(["Ed25519", "P-256", "secp256k1", "X25519", ""]),
    },
    optional={
        "x": b64_member,
        "y": b64_member,
        "d": b64_member,
        "alg": st.sampled_from(["EdDSA", "ES256", "none"]),
    },
)


def _only_did_vault_errors(parse: Any, value: Any) -> None:
    with contextlib.suppress(DidVaultError):
        parse(value)


@FUZZ
@given(multikey_like)
def test_public_key_from_multikey_fails_only_with_did_vault_errors(text: str) -> None:
    _only_did_vault_errors(PublicKey.from_multikey, text)


@FUZZ
@given(multikey_like)
def test_private_key_from_multikey_fails_only_with_did_vault_errors(text: str) -> None:
    _only_did_vault_errors(PrivateKey.from_multikey, text)


@FUZZ
@given(jwk_like)
def test_public_key_from_jwk_fails_only_with_did_vault_errors(
    jwk: Mapping[str, Any],
) -> None:
    _only_did_vault_errors(PublicKey.from_jwk, jwk)


@FUZZ
@given(jwk_like)
def test_private_key_from_jwk_fails_only_with_did_vault_errors(
    jwk: Mapping[str, Any],
) -> None:
    _only_did_vault_errors(PrivateKey.from_jwk, jwk)


@FUZZ
@given(st.sampled_from(list(KeyAlgorithm)), st.binary(max_size=70))
def test_public_key_from_raw_fails_only_with_did_vault_errors(
    algorithm: KeyAlgorithm, raw: bytes
) -> None:
    with contextlib.suppress(DidVaultError):
        PublicKey.from_raw(algorithm, raw)


# --- defects found by these tests, now fixed in did_vault.keys ---------------------

# Ed25519 points of small order (RFC 8032 §5.1.3 decodes them fine): the identity
# (y = 1, order 1), (0, -1) (y = p - 1, order 2) and (±sqrt(-1), 0) (y = 0, order 4).
SMALL_ORDER = [
    pytest.param(_ed25519_y(1), id="identity"),
    pytest.param(_ed25519_y(P - 1), id="order-2"),
    pytest.param(_ed25519_y(0), id="order-4"),
    pytest.param(_ed25519_y(0, sign=1), id="order-4-negated"),
]


@pytest.mark.parametrize("raw", SMALL_ORDER)
def test_small_order_points_are_not_valid_keys_for_libsodium(raw: bytes) -> None:
    assert not nacl.bindings.crypto_core_ed25519_is_valid_point(raw)


@pytest.mark.parametrize("raw", SMALL_ORDER)
def test_ed25519_public_key_rejects_small_order_points(raw: bytes) -> None:
    with pytest.raises(InvalidKeyError):
        PublicKey.from_raw(KeyAlgorithm.ED25519, raw)


@pytest.mark.parametrize(
    "message", [b"", b"transfer item to mallory"], ids=["empty", "any"]
)
def test_identity_public_key_does_not_verify_a_forged_signature(
    message: bytes,
) -> None:
    identity = _ed25519_y(1)
    forged = identity + bytes(32)
    with pytest.raises((InvalidKeyError, InvalidSignatureError)):
        PublicKey.from_raw(KeyAlgorithm.ED25519, identity).verify(
            forged, message, backend="cryptography"
        )


def test_x25519_of_the_identity_point_fails_with_a_did_vault_error() -> None:
    with pytest.raises(DidVaultError):
        PublicKey.from_raw(KeyAlgorithm.ED25519, _ed25519_y(1)).to_x25519_multikey()


def test_private_key_with_a_plain_algorithm_string_is_not_silently_p256() -> None:
    seed = bytes(range(1, 33))
    try:
        key = PrivateKey("Ed25519", seed)  # type: ignore[arg-type]
    except TypeError:
        return
    assert key.public_key.raw == PrivateKey(KeyAlgorithm.ED25519, seed).public_key.raw


def test_verify_uses_the_default_backend(
    ed25519_key: PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from did_vault import keys
    from did_vault.primitives import ed25519

    assert keys.DEFAULT_VERIFY_BACKEND == "sodium"
    seen: list[str] = []
    original = ed25519.verify_with

    def spy(*args: object, backend: str, **kwargs: object) -> bool:
        seen.append(backend)
        return original(*args, backend=backend, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ed25519, "verify_with", spy)
    signature = ed25519_key.sign(MESSAGE)
    ed25519_key.public_key.verify(signature, MESSAGE)
    monkeypatch.setattr(keys, "DEFAULT_VERIFY_BACKEND", "cryptography")
    ed25519_key.public_key.verify(signature, MESSAGE)
    ed25519_key.public_key.verify(signature, MESSAGE, backend="sodium")
    assert seen == ["sodium", "cryptography", "sodium"]
