"""Unpadded base64url (RFC 4648 §5) as used by JOSE (RFC 7515 §2)."""

import base64
import binascii
import re
from typing import Final

from did_vault.errors import InvalidEncodingError

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_TO_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")


def b64url_encode_bytes(data: bytes) -> bytes:
    """Unpadded base64url as ASCII bytes (to hash or join without a str detour)."""
    # binascii in C: several times faster than base64.urlsafe_b64encode, which
    # goes through a Python-level translate wrapper on every call.
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE)


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return (
        binascii.b2a_base64(data, newline=False)
        .rstrip(b"=")
        .translate(_TO_URLSAFE)
        .decode("ascii")
    )


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url text strictly.

    Raises:
        InvalidEncodingError: padding, characters outside the alphabet, an impossible
            length, or non-zero trailing bits (a non-canonical encoding).
    """
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise InvalidEncodingError("not unpadded base64url text")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidEncodingError("not unpadded base64url text") from exc
    if b64url_encode(data) != text:
        raise InvalidEncodingError("non-canonical base64url (trailing bits set)")
    return data
