"""Ed25519 primitives: did_vault.primitives.ed25519 (RFC 8032, RFC 7748 §4.1 map).

libsodium (through PyNaCl) serves as the independent reference for the X25519 maps.
"""

import nacl.bindings
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.primitives import ed25519

FUZZ = settings(database=None, deadline=None, max_examples=100)
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P

# RFC 8032 §7.1 TEST 2 (also vendored under tests/conformance/vectors/rfc8032).
SEED = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
PUBLIC = bytes.fromhex(
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
)
MESSAGE = b"\x72"
BACKENDS = ("cryptography", "sodium")
seeds = st.binary(min_size=32, max_size=32)


def _encode_y(y: int, *, sign: int = 0) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


def _y_without_x() -> int:
    """The smallest y for which x² = (y² - 1) / (d y² + 1) has no root (Euler)."""
    for y in range(2, 100):
        x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
        if pow(x2, (P - 1) // 2, P) == P - 1:
            return y
    raise AssertionError("no non-square found")


def _flip_bit(data: bytes, index: int) -> bytes:
    flipped = bytearray(data)
    flipped[index // 8] ^= 1 << (index % 8)
    return bytes(flipped)


def test_generate_seed_returns_fresh_32_byte_seeds() -> None:
    first, second = ed25519.generate_seed(), ed25519.generate_seed()
    assert len(first) == len(second) == ed25519.SEED_SIZE
    assert first != second


def test_public_from_seed_matches_rfc8032() -> None:
    assert ed25519.public_from_seed(SEED) == PUBLIC


def test_sign_is_deterministic_and_64_bytes() -> None:
    signature = ed25519.sign(SEED, MESSAGE)
    assert len(signature) == ed25519.SIGNATURE_SIZE
    assert ed25519.sign(SEED, MESSAGE) == signature


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_accepts_a_valid_signature(backend: ed25519.Backend) -> None:
    signature = ed25519.sign(SEED, MESSAGE)
    assert ed25519.verify(PUBLIC, signature, MESSAGE, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bit", [0, 255, 256, 511])
def test_verify_rejects_a_signature_with_a_flipped_bit(
    backend: ed25519.Backend, bit: int
) -> None:
    signature = _flip_bit(ed25519.sign(SEED, MESSAGE), bit)
    assert not ed25519.verify(PUBLIC, signature, MESSAGE, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_rejects_another_message(backend: ed25519.Backend) -> None:
    signature = ed25519.sign(SEED, MESSAGE)
    assert not ed25519.verify(PUBLIC, signature, b"\x73", backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_rejects_another_key(backend: ed25519.Backend) -> None:
    other = ed25519.public_from_seed(bytes(32))
    signature = ed25519.sign(SEED, MESSAGE)
    assert not ed25519.verify(other, signature, MESSAGE, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("length", [0, 63, 65, 128])
def test_verify_rejects_a_signature_of_the_wrong_length(
    backend: ed25519.Backend, length: int
) -> None:
    signature = (ed25519.sign(SEED, MESSAGE) * 2)[:length]
    assert not ed25519.verify(PUBLIC, signature, MESSAGE, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("length", [0, 31, 33])
def test_verify_rejects_a_public_key_of_the_wrong_length(
    backend: ed25519.Backend, length: int
) -> None:
    signature = ed25519.sign(SEED, MESSAGE)
    public = (PUBLIC * 2)[:length]
    assert not ed25519.verify(public, signature, MESSAGE, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_rejects_a_non_canonical_s(backend: ed25519.Backend) -> None:
    signature = ed25519.sign(SEED, MESSAGE)
    s = int.from_bytes(signature[32:], "little") + L
    malleated = signature[:32] + s.to_bytes(32, "little")
    assert not ed25519.verify(PUBLIC, malleated, MESSAGE, backend=backend)


@FUZZ
@given(seeds, st.binary(max_size=64))
def test_both_backends_verify_what_sign_produces(seed: bytes, message: bytes) -> None:
    public = ed25519.public_from_seed(seed)
    signature = ed25519.sign(seed, message)
    assert ed25519.verify(public, signature, message, backend="cryptography")
    assert ed25519.verify(public, signature, message, backend="sodium")


@FUZZ
@given(seeds, st.binary(min_size=64, max_size=64))
def test_both_backends_agree_on_random_signatures(
    seed: bytes, signature: bytes
) -> None:
    public = ed25519.public_from_seed(seed)
    by_cryptography = ed25519.verify(public, signature, b"m", backend="cryptography")
    by_sodium = ed25519.verify(public, signature, b"m", backend="sodium")
    assert by_cryptography == by_sodium


# --- point decoding ------------------------------------------------------------------


def test_is_on_curve_accepts_real_public_keys() -> None:
    assert ed25519.is_on_curve(PUBLIC)


@FUZZ
@given(seeds)
def test_is_on_curve_accepts_every_derived_public_key(seed: bytes) -> None:
    assert ed25519.is_on_curve(ed25519.public_from_seed(seed))


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(_encode_y(P), id="y-equals-p"),
        pytest.param(_encode_y(P + 1), id="y-p-plus-1"),
        pytest.param(_encode_y(2**255 - 1), id="y-all-ones"),
        pytest.param(_encode_y(P, sign=1), id="y-equals-p-sign-set"),
    ],
)
def test_is_on_curve_rejects_a_non_canonical_y(encoded: bytes) -> None:
    assert not ed25519.is_on_curve(encoded)


def test_is_on_curve_rejects_a_y_without_an_x() -> None:
    assert not ed25519.is_on_curve(_encode_y(_y_without_x()))


def test_is_on_curve_rejects_x_zero_with_the_sign_bit_set() -> None:
    # y = 1 gives x = 0, whose only encoding has the sign bit clear (RFC 8032 §5.1.3).
    assert not ed25519.is_on_curve(_encode_y(1, sign=1))


@pytest.mark.parametrize("length", [0, 31, 33])
def test_is_on_curve_rejects_the_wrong_length(length: int) -> None:
    assert not ed25519.is_on_curve((PUBLIC * 2)[:length])


@FUZZ
@given(st.binary(min_size=32, max_size=32))
def test_is_on_curve_agrees_with_libsodium_on_large_order_points(
    encoded: bytes,
) -> None:
    # libsodium's check also refuses small-order points, which random bytes hit with
    # negligible probability; "valid for libsodium" therefore implies "on the curve".
    if nacl.bindings.crypto_core_ed25519_is_valid_point(encoded):
        assert ed25519.is_on_curve(encoded)


# --- X25519 maps ---------------------------------------------------------------------


@FUZZ
@given(seeds)
def test_to_x25519_public_matches_libsodium(seed: bytes) -> None:
    public = ed25519.public_from_seed(seed)
    expected = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public)
    assert ed25519.to_x25519_public(public) == expected


@FUZZ
@given(seeds)
def test_to_x25519_private_matches_libsodium(seed: bytes) -> None:
    _, secret64 = nacl.bindings.crypto_sign_seed_keypair(seed)
    expected = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(secret64)
    assert ed25519.to_x25519_private(seed) == expected


@FUZZ
@given(seeds)
def test_x25519_private_and_public_maps_form_a_key_pair(seed: bytes) -> None:
    scalar = ed25519.to_x25519_private(seed)
    derived = (
        X25519PrivateKey.from_private_bytes(scalar)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    assert derived == ed25519.to_x25519_public(ed25519.public_from_seed(seed))


def test_to_x25519_public_refuses_y_equal_one() -> None:
    with pytest.raises(ValueError, match="no X25519 equivalent"):
        ed25519.to_x25519_public(_encode_y(1))


@pytest.mark.parametrize("length", [31, 33])
def test_to_x25519_public_refuses_the_wrong_length(length: int) -> None:
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        ed25519.to_x25519_public((PUBLIC * 2)[:length])


# --- small-order points --------------------------------------------------------------

# The identity (y = 1), the point of order 2 (y = p - 1) and the two of order 4 (y = 0).
SMALL_ORDER = [
    pytest.param(_encode_y(1), id="identity"),
    pytest.param(_encode_y(P - 1), id="order-2"),
    pytest.param(_encode_y(0), id="order-4"),
    pytest.param(_encode_y(0, sign=1), id="order-4-negated"),
]


@pytest.mark.parametrize("encoded", SMALL_ORDER)
def test_torsion_points_are_on_the_curve_but_not_valid_public_keys(
    encoded: bytes,
) -> None:
    assert ed25519.is_on_curve(encoded)
    assert not ed25519.is_valid_public_key(encoded)


def test_bytes_that_are_not_a_point_are_not_valid_public_keys() -> None:
    assert not ed25519.is_valid_public_key(_encode_y(_y_without_x()))
    assert not ed25519.is_valid_public_key(PUBLIC[:31])


@FUZZ
@given(seeds)
def test_every_derived_public_key_is_valid(seed: bytes) -> None:
    assert ed25519.is_valid_public_key(ed25519.public_from_seed(seed))
