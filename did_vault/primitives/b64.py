"""Unpadded base64url (RFC 4648 §5) as used by JOSE (RFC 7515 §2)."""

import base64
import binascii
import re

from did_vault.errors import InvalidEncodingError

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


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
