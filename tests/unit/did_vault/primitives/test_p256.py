"""ECDSA P-256 primitives: did_vault.primitives.p256 (FIPS 186-5, SEC 1, RFC 7518)."""

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.primitives import p256

FUZZ = settings(database=None, deadline=None, max_examples=50)

# SEC 2 v2 §2.4.2 (secp256r1): field prime, order and generator.
P = 2**256 - 2**224 + 2**192 + 2**96 - 1
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
GX = bytes.fromhex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")
GY = bytes.fromhex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
MESSAGE = b"an ES256 message"
scalars = st.integers(min_value=1, max_value=N - 1).map(lambda k: k.to_bytes(32, "big"))


def _x_without_y() -> int:
    """The smallest x for which x³ - 3x + b is not a square mod p (Euler)."""
    for x in range(1, 100):
        if pow((x**3 - 3 * x + B) % P, (P - 1) // 2, P) == P - 1:
            return x
    raise AssertionError("no non-square found")


def _scalar(value: int) -> bytes:
    return value.to_bytes(32, "big")


def test_generate_scalar_returns_fresh_in_range_scalars() -> None:
    first, second = p256.generate_scalar(), p256.generate_scalar()
    assert len(first) == p256.SCALAR_SIZE
    assert 0 < int.from_bytes(first, "big") < N
    assert first != second


def test_public_from_scalar_one_is_the_compressed_generator() -> None:
    # G_y is odd, so SEC 1 §2.3.3 gives the 0x03 prefix.
    assert p256.public_from_scalar(_scalar(1)) == b"\x03" + GX


@pytest.mark.parametrize(
    "scalar",
    [
        pytest.param(_scalar(0), id="zero"),
        pytest.param(_scalar(N), id="order"),
        pytest.param(_scalar(N + 1), id="above-order"),
        pytest.param(b"\xff" * 32, id="all-ones"),
        pytest.param(_scalar(1)[1:], id="31-bytes"),
        pytest.param(b"\x00" + _scalar(1), id="33-bytes"),
    ],
)
def test_public_from_scalar_rejects_out_of_range_scalars(scalar: bytes) -> None:
    with pytest.raises(ValueError, match="out of range"):
        p256.public_from_scalar(scalar)


def test_coordinates_of_the_generator_are_the_sec2_constants() -> None:
    assert p256.coordinates(b"\x03" + GX) == (GX, GY)


def test_from_coordinates_compresses_the_generator() -> None:
    assert p256.from_coordinates(GX, GY) == b"\x03" + GX


def test_compress_normalises_an_uncompressed_point() -> None:
    assert p256.compress(b"\x04" + GX + GY) == b"\x03" + GX


@pytest.mark.parametrize(
    "point",
    [
        pytest.param(b"\x03" + GX[:-1], id="32-bytes"),
        pytest.param(b"\x04" + GX + GY[:-1], id="64-bytes"),
        pytest.param(b"", id="empty"),
    ],
)
def test_load_public_rejects_the_wrong_length(point: bytes) -> None:
    with pytest.raises(ValueError, match="wrong length"):
        p256.load_public(point)


@pytest.mark.parametrize(
    "point",
    [
        pytest.param(b"\x02" + _x_without_y().to_bytes(32, "big"), id="x-without-y"),
        pytest.param(b"\x02" + P.to_bytes(32, "big"), id="x-equals-p"),
        pytest.param(b"\x05" + GX, id="bad-prefix"),
        pytest.param(b"\x04" + GX + bytes(32)[:-1] + b"\x01", id="uncompressed-off"),
        pytest.param(b"\x00" + GX, id="infinity-prefix"),
    ],
)
def test_load_public_rejects_points_off_the_curve(point: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - cryptography's wording varies
        p256.load_public(point)


def test_from_coordinates_rejects_an_off_curve_y() -> None:
    y_plus_one = (int.from_bytes(GY, "big") + 1).to_bytes(32, "big")
    with pytest.raises(ValueError):  # noqa: PT011
        p256.from_coordinates(GX, y_plus_one)


@pytest.mark.parametrize(("x_size", "y_size"), [(31, 32), (32, 31), (33, 32)])
def test_from_coordinates_rejects_the_wrong_sizes(x_size: int, y_size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes each"):
        p256.from_coordinates(bytes(x_size), bytes(y_size))


@FUZZ
@given(scalars)
def test_coordinates_round_trip_through_from_coordinates(scalar: bytes) -> None:
    point = p256.public_from_scalar(scalar)
    x, y = p256.coordinates(point)
    assert p256.from_coordinates(x, y) == point


@FUZZ
@given(scalars, st.binary(max_size=64))
def test_sign_gives_a_64_byte_signature_that_verifies(
    scalar: bytes, message: bytes
) -> None:
    signature = p256.sign(scalar, message)
    assert len(signature) == p256.SIGNATURE_SIZE
    assert p256.verify(p256.public_from_scalar(scalar), signature, message)


def test_verify_accepts_a_signature_made_by_cryptography_directly() -> None:
    key = ec.derive_private_key(7, ec.SECP256R1())
    r, s = decode_dss_signature(key.sign(MESSAGE, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert p256.verify(p256.public_from_scalar(_scalar(7)), signature, MESSAGE)


@pytest.fixture
def signed() -> tuple[bytes, bytes]:
    scalar = _scalar(0xC0FFEE)
    return p256.public_from_scalar(scalar), p256.sign(scalar, MESSAGE)


def test_verify_rejects_another_message(signed: tuple[bytes, bytes]) -> None:
    point, signature = signed
    assert not p256.verify(point, signature, MESSAGE + b"!")


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_verify_rejects_a_tampered_signature(
    signed: tuple[bytes, bytes], index: int
) -> None:
    point, signature = signed
    tampered = bytearray(signature)
    tampered[index] ^= 0x01
    assert not p256.verify(point, bytes(tampered), MESSAGE)


@pytest.mark.parametrize(
    ("r", "s"),
    [
        pytest.param(0, 1, id="r-zero"),
        pytest.param(1, 0, id="s-zero"),
        pytest.param(N, 1, id="r-order"),
        pytest.param(1, N, id="s-order"),
    ],
)
def test_verify_rejects_out_of_range_r_or_s(
    signed: tuple[bytes, bytes], r: int, s: int
) -> None:
    point, _ = signed
    assert not p256.verify(point, _scalar(r) + _scalar(s), MESSAGE)


@pytest.mark.parametrize("length", [0, 63, 65])
def test_verify_rejects_the_wrong_signature_length(
    signed: tuple[bytes, bytes], length: int
) -> None:
    point, signature = signed
    assert not p256.verify(point, (signature * 2)[:length], MESSAGE)


def test_verify_rejects_a_der_encoded_signature(signed: tuple[bytes, bytes]) -> None:
    point, signature = signed
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    assert not p256.verify(point, der, MESSAGE)


def test_verify_rejects_another_key(signed: tuple[bytes, bytes]) -> None:
    _, signature = signed
    assert not p256.verify(b"\x03" + GX, signature, MESSAGE)


def test_verify_returns_false_for_an_off_curve_point(
    signed: tuple[bytes, bytes],
) -> None:
    _, signature = signed
    point = b"\x02" + _x_without_y().to_bytes(32, "big")
    assert not p256.verify(point, signature, MESSAGE)
