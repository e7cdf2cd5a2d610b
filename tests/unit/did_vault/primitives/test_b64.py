"""Unpadded base64url (RFC 4648 §5, JOSE style): did_vault.primitives.b64."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.errors import InvalidEncodingError
from did_vault.primitives.b64 import b64url_decode, b64url_encode

FUZZ = settings(database=None, deadline=None, max_examples=300)

# RFC 4648 §10 test vectors, with the padding JOSE strips.
RFC4648_VECTORS = [
    (b"", ""),
    (b"f", "Zg"),
    (b"fo", "Zm8"),
    (b"foo", "Zm9v"),
    (b"foob", "Zm9vYg"),
    (b"fooba", "Zm9vYmE"),
    (b"foobar", "Zm9vYmFy"),
]


@pytest.mark.parametrize(("data", "text"), RFC4648_VECTORS)
def test_b64url_encode_matches_rfc4648_without_padding(data: bytes, text: str) -> None:
    assert b64url_encode(data) == text


@pytest.mark.parametrize(("data", "text"), RFC4648_VECTORS)
def test_b64url_decode_matches_rfc4648_without_padding(data: bytes, text: str) -> None:
    assert b64url_decode(text) == data


def test_b64url_encode_uses_the_url_safe_alphabet() -> None:
    assert b64url_encode(b"\xfb\xff\xbf") == "-_-_"


def test_b64url_decode_accepts_the_url_safe_alphabet() -> None:
    assert b64url_decode("-_-_") == b"\xfb\xff\xbf"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Zg==", id="padding"),
        pytest.param("Zm8=", id="single-pad"),
        pytest.param("+/8", id="standard-alphabet"),
        pytest.param("Zm 9v", id="inner-space"),
        pytest.param("Zm9v\n", id="trailing-newline"),
        pytest.param("A", id="impossible-length"),
        pytest.param("Zm9vY", id="impossible-length-5"),
        pytest.param("Zh", id="non-canonical-trailing-bits-1"),
        pytest.param("Zm9", id="non-canonical-trailing-bits-2"),
        pytest.param("Zm9vYh", id="non-canonical-trailing-bits-3"),
        pytest.param("Zm9\u00e9", id="non-ascii"),
    ],
)
def test_b64url_decode_rejects_non_canonical_or_foreign_text(text: str) -> None:
    with pytest.raises(InvalidEncodingError) as caught:
        b64url_decode(text)
    assert caught.value.code == "encoding.invalid"


def test_b64url_decode_rejects_bytes_input() -> None:
    with pytest.raises(InvalidEncodingError):
        b64url_decode(b"Zm9v")  # type: ignore[arg-type]


@FUZZ
@given(st.binary(max_size=256))
def test_b64url_round_trips_any_bytes(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode(text) == data


@FUZZ
@given(st.text(max_size=64))
def test_b64url_decode_of_any_text_is_canonical_or_an_encoding_error(
    text: str,
) -> None:
    try:
        data = b64url_decode(text)
    except InvalidEncodingError:
        return
    assert b64url_encode(data) == text


@FUZZ
@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
)
def test_b64url_decode_of_alphabet_text_is_canonical_or_an_encoding_error(
    text: str,
) -> None:
    try:
        data = b64url_decode(text)
    except InvalidEncodingError:
        return
    assert b64url_encode(data) == text
