"""Multibase base58btc + multicodec varints (W3C Controlled Identifiers, Multikey).

The only module that imports ``base58`` and ``multiformats``. The hot path (``z``
base58btc) uses the ``base58`` package, about 20x faster here than the generic codec;
``multibase_decode`` covers every other multibase prefix through ``multiformats``.
"""

import base58
from multiformats import multibase

from did_vault.errors import InvalidEncodingError

# multicodec table entries (https://github.com/multiformats/multicodec)
ED25519_PUB = 0xED
X25519_PUB = 0xEC
P256_PUB = 0x1200
SECP256K1_PUB = 0xE7
ED25519_PRIV = 0x1300
X25519_PRIV = 0x1302
P256_PRIV = 0x1306
SECP256K1_PRIV = 0x1301
JWK_JCS_PUB = 0xEB51

BASE58BTC_PREFIX = "z"
_BASE8_PREFIX = "7"
_B58_ALPHABET = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


def varint_encode(value: int) -> bytes:
    """Unsigned LEB128 varint, as multicodec uses."""
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes) -> tuple[int, int]:
    """Decode a minimal unsigned varint; return (value, bytes consumed).

    Raises:
        InvalidEncodingError: truncated, over 9 bytes, or not minimally encoded.
    """
    value = 0
    for i, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i > 0 and byte == 0:
                raise InvalidEncodingError("varint is not minimally encoded")
            return value, i + 1
    raise InvalidEncodingError("truncated or oversized varint")


def base58btc_encode(data: bytes) -> str:
    """Multibase base58btc: ``z`` + base58 (Bitcoin alphabet)."""
    return BASE58BTC_PREFIX + base58.b58encode(data).decode("ascii")


def base58btc_decode(text: str) -> bytes:
    """Decode ``z``-prefixed multibase base58btc text.

    Raises:
        InvalidEncodingError: wrong prefix or characters outside the alphabet.
    """
    if not isinstance(text, str) or not text.startswith(BASE58BTC_PREFIX):
        raise InvalidEncodingError("expected multibase base58btc ('z' prefix)")
    body = text[1:]
    if not set(body) <= _B58_ALPHABET:
        raise InvalidEncodingError("invalid base58btc characters")
    return base58.b58decode(body)


def multibase_decode(text: str) -> bytes:
    """Decode text in any multibase encoding (generic, slower than base58btc).

    Raises:
        InvalidEncodingError: unknown prefix or invalid text for that base.
    """
    if isinstance(text, str) and text.startswith(BASE58BTC_PREFIX):
        return base58btc_decode(text)
    if isinstance(text, str) and text.startswith(_BASE8_PREFIX):
        # multiformats 0.3.1 implements an older base8 layout that mis-decodes the
        # spec's vectors; refusing is better than returning the wrong bytes.
        raise InvalidEncodingError("multibase base8 is not supported")
    try:
        return bytes(multibase.decode(text))
    except Exception as exc:  # multiformats raises a mix of KeyError/ValueError
        raise InvalidEncodingError("invalid multibase text") from exc


def multibase_encode(data: bytes, base: str = "base58btc") -> str:
    """Encode bytes in a named multibase encoding."""
    if base == "base58btc":
        return base58btc_encode(data)
    try:
        return str(multibase.encode(data, base))
    except Exception as exc:
        raise ValueError(f"unknown multibase encoding {base!r}") from exc


def encode_multikey(codec: int, raw: bytes) -> str:
    """``z`` + base58btc(varint(codec) || raw)."""
    return base58btc_encode(varint_encode(codec) + raw)


def decode_multikey(text: str) -> tuple[int, bytes]:
    """Split a Multikey value into (multicodec, raw key bytes).

    Raises:
        InvalidEncodingError: not base58btc multibase, or a bad varint.
    """
    data = base58btc_decode(text)
    codec, used = varint_decode(data)
    return codec, data[used:]
