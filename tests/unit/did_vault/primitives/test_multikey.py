"""Varint, base58btc and multibase framing: did_vault.primitives.multikey."""

import contextlib

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.errors import DidVaultError, InvalidEncodingError
from did_vault.primitives.multikey import (
    ED25519_PRIV,
    ED25519_PUB,
    P256_PRIV,
    P256_PUB,
    SECP256K1_PUB,
    X25519_PUB,
    base58btc_decode,
    base58btc_encode,
    decode_multikey,
    encode_multikey,
    multibase_decode,
    multibase_encode,
    varint_decode,
    varint_encode,
)

FUZZ = settings(database=None, deadline=None, max_examples=300)
B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
MAX_VARINT = 2**63 - 1  # nine 7-bit groups, the multiformats unsigned-varint limit

# multiformats/unsigned-varint README examples, plus the multicodec headers we use.
VARINTS = [
    (0, "00"),
    (1, "01"),
    (127, "7f"),
    (128, "8001"),
    (255, "ff01"),
    (300, "ac02"),
    (16384, "808001"),
    (ED25519_PUB, "ed01"),
    (X25519_PUB, "ec01"),
    (SECP256K1_PUB, "e701"),
    (P256_PUB, "8024"),
    (ED25519_PRIV, "8026"),
    (P256_PRIV, "8626"),
]


# --- varint ------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "encoded"), VARINTS)
def test_varint_encode_matches_the_unsigned_varint_examples(
    value: int, encoded: str
) -> None:
    assert varint_encode(value).hex() == encoded


@pytest.mark.parametrize(("value", "encoded"), VARINTS)
def test_varint_decode_returns_value_and_length(value: int, encoded: str) -> None:
    data = bytes.fromhex(encoded)
    assert varint_decode(data + b"\xff\x00") == (value, len(data))


def test_varint_encode_rejects_negative_values() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        varint_encode(-1)


def test_varint_decode_accepts_the_largest_nine_byte_value() -> None:
    assert varint_decode(b"\xff" * 8 + b"\x7f") == (MAX_VARINT, 9)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x80", id="truncated"),
        pytest.param(b"\xed", id="truncated-codec"),
        pytest.param(b"\xff" * 9, id="ten-bytes-needed"),
        pytest.param(b"\xff" * 9 + b"\x01", id="oversized"),
        pytest.param(b"\x80\x00", id="non-minimal-zero"),
        pytest.param(b"\xed\x81\x00", id="non-minimal-padding"),
    ],
)
def test_varint_decode_rejects_truncated_oversized_or_non_minimal(data: bytes) -> None:
    with pytest.raises(InvalidEncodingError) as caught:
        varint_decode(data)
    assert caught.value.code == "encoding.invalid"


@FUZZ
@given(st.integers(min_value=0, max_value=MAX_VARINT), st.binary(max_size=8))
def test_varint_round_trips_any_value_before_trailing_bytes(
    value: int, trailing: bytes
) -> None:
    encoded = varint_encode(value)
    assert varint_decode(encoded + trailing) == (value, len(encoded))


@FUZZ
@given(st.binary(max_size=12))
def test_varint_decode_of_any_bytes_is_minimal_or_an_encoding_error(
    data: bytes,
) -> None:
    try:
        value, used = varint_decode(data)
    except InvalidEncodingError:
        return
    assert varint_encode(value) == data[:used]


# --- base58btc ---------------------------------------------------------------------


def test_base58btc_encode_prefixes_z() -> None:
    assert base58btc_encode(b"yes mani !") == "z7paNL19xttacUY"


def test_base58btc_keeps_leading_zero_bytes_as_ones() -> None:
    assert base58btc_encode(b"\x00\x00\x01") == "z112"
    assert base58btc_decode("z112") == b"\x00\x00\x01"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("7paNL19xttacUY", id="missing-z"),
        pytest.param("Z7paNL19xttacUY", id="flickr-prefix"),
        pytest.param("", id="empty"),
        pytest.param("z7paNL19xttac0Y", id="zero"),
        pytest.param("z7paNL19xttacOY", id="capital-o"),
        pytest.param("z7paNL19xttacIY", id="capital-i"),
        pytest.param("z7paNL19xttaclY", id="lower-l"),
        pytest.param("z7paNL19xttac+Y", id="plus"),
        pytest.param("z7paNL19 xttacUY", id="space"),
        pytest.param("z7paNL19xttacUY\n", id="newline"),
    ],
)
def test_base58btc_decode_rejects_bad_prefix_or_characters(text: str) -> None:
    with pytest.raises(InvalidEncodingError) as caught:
        base58btc_decode(text)
    assert caught.value.code == "encoding.invalid"


@FUZZ
@given(st.binary(min_size=1, max_size=80))
def test_base58btc_round_trips_any_non_empty_bytes(data: bytes) -> None:
    text = base58btc_encode(data)
    assert text.startswith("z")
    assert base58btc_decode(text) == data


@FUZZ
@given(st.text(alphabet=B58_ALPHABET, min_size=1, max_size=60))
def test_base58btc_decode_agrees_with_the_base58_package(body: str) -> None:
    assert base58btc_decode("z" + body) == base58.b58decode(body)


# --- generic multibase -------------------------------------------------------------


def test_multibase_decode_takes_the_base58btc_fast_path() -> None:
    assert multibase_decode("z7paNL19xttacUY") == b"yes mani !"


def test_multibase_decode_reads_base64url() -> None:
    assert multibase_decode("ueWVzIG1hbmkgIQ") == b"yes mani !"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("q123", id="unknown-prefix"),
        pytest.param("z0OIl", id="bad-base58btc"),
        pytest.param("f0g", id="bad-base16"),
        pytest.param("ueWVz!", id="bad-base64url"),
    ],
)
def test_multibase_decode_rejects_unknown_prefix_or_bad_text(text: str) -> None:
    with pytest.raises(InvalidEncodingError) as caught:
        multibase_decode(text)
    assert caught.value.code == "encoding.invalid"


@pytest.mark.parametrize("base", ["base58btc", "base64url", "base16", "base32"])
def test_multibase_encode_round_trips_through_decode(base: str) -> None:
    data = b"\x00\x01Decentralize everything!!"
    assert multibase_decode(multibase_encode(data, base)) == data


def test_multibase_encode_rejects_an_unknown_base_name() -> None:
    with pytest.raises(ValueError, match="unknown multibase encoding"):
        multibase_encode(b"x", "base99")


@FUZZ
@given(st.text(max_size=40))
def test_multibase_decode_of_any_text_fails_only_with_encoding_errors(
    text: str,
) -> None:
    with contextlib.suppress(InvalidEncodingError):
        multibase_decode(text)


# --- Multikey framing --------------------------------------------------------------


def test_encode_multikey_gives_the_ed25519_header() -> None:
    assert encode_multikey(ED25519_PUB, bytes(32)).startswith("z6Mk")


def test_encode_multikey_gives_the_p256_header() -> None:
    assert encode_multikey(P256_PUB, b"\x02" + bytes(32)).startswith("zDn")


@FUZZ
@given(
    st.sampled_from([ED25519_PUB, ED25519_PRIV, P256_PUB, P256_PRIV, X25519_PUB]),
    st.binary(max_size=48),
)
def test_multikey_framing_round_trips(codec: int, raw: bytes) -> None:
    assert decode_multikey(encode_multikey(codec, raw)) == (codec, raw)


def test_decode_multikey_rejects_a_truncated_codec() -> None:
    with pytest.raises(InvalidEncodingError):
        decode_multikey(base58btc_encode(b"\xed"))


@FUZZ
@given(st.text(max_size=60))
def test_decode_multikey_of_any_text_fails_only_with_did_vault_errors(
    text: str,
) -> None:
    with contextlib.suppress(DidVaultError):
        decode_multikey(text)


def test_base58btc_of_empty_bytes_round_trips() -> None:
    assert base58btc_encode(b"") == "z"
    assert base58btc_decode("z") == b""
