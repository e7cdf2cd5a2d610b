"""Packed status storage shared by the W3C and IETF status lists, plus bounded inflate.

A status list is a byte array holding ``length`` entries of ``status_size`` bits each
(1, 2, 4 or 8, so an entry never straddles a byte). The two specifications pack the
entries into a byte in opposite directions:

- W3C Bitstring Status List 1.0 (https://www.w3.org/TR/vc-bitstring-status-list/,
  ``encodedList``): "the first index ... is located at the left-most bit in the
  bitstring", that is entry 0 starts at the most significant bit of byte 0
  (:attr:`BitOrder.MSB_FIRST`). An entry of ``statusSize`` bits is read left to right,
  its first bit the most significant bit of the value.
- IETF Token Status List (draft-ietf-oauth-status-list §4.1): "the blocks being packed
  into bytes from the least significant bit ("0") to the most significant bit ("7")",
  that is entry 0 is the ``bits`` lowest bits of byte 0 (:attr:`BitOrder.LSB_FIRST`);
  the draft's example packs statuses ``1,0,0,1,1,1,0,1`` into ``0xB9``.

Both are one shift and one mask per access; nothing loops over the whole list.
"""

import zlib
from enum import StrEnum
from typing import Self

from did_vault.errors import (
    InvalidEncodingError,
    StatusListInvalidError,
    StatusListTooLargeError,
)
from did_vault.primitives.b64 import b64url_decode

STATUS_SIZES = (1, 2, 4, 8)
"""Entry sizes in bits: an entry always sits inside a single byte."""

GZIP_WBITS = 16 + zlib.MAX_WBITS
"""zlib ``wbits`` for the GZIP container only (RFC 1952), as W3C lists use."""
ZLIB_WBITS = zlib.MAX_WBITS
"""zlib ``wbits`` for the ZLIB container only (RFC 1950), as IETF lists use."""


class BitOrder(StrEnum):
    """Where entry 0 sits inside byte 0."""

    MSB_FIRST = "msb-first"
    """W3C Bitstring Status List: entry 0 is the most significant bit(s) of byte 0."""
    LSB_FIRST = "lsb-first"
    """IETF Token Status List: entry 0 is the least significant bit(s) of byte 0."""


class InflateError(Exception):
    """Data that does not inflate (internal: callers map it to their own code)."""


class InflateLimitError(InflateError):
    """Inflated data larger than the caller's bound (a zip bomb, or just too big)."""


def inflate_bounded(data: bytes, *, wbits: int, max_size: int) -> bytes:
    """Decompress one complete stream, never producing more than ``max_size`` bytes.

    Raises:
        InflateLimitError: the output would exceed ``max_size``.
        InflateError: corrupt, truncated, wrong container, or trailing bytes.
    """
    decompressor = zlib.decompressobj(wbits=wbits)
    try:
        out = decompressor.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise InflateError(str(exc)) from exc
    if len(out) > max_size or (decompressor.unconsumed_tail and not decompressor.eof):
        raise InflateLimitError(f"inflates to more than {max_size} bytes")
    if not decompressor.eof:
        raise InflateError("truncated compressed stream")
    if decompressor.unused_data:
        raise InflateError("bytes after the end of the compressed stream")
    return out


def decode_list(
    text: str, *, wbits: int, max_bytes: int, member: str, container: str
) -> bytes:
    """base64url-decode and inflate a status list's compressed bytes (both formats).

    Raises:
        StatusListInvalidError: not unpadded base64url (reason ``encoding``), or not
            ``container`` data (reason ``compression``).
        StatusListTooLargeError: it inflates past ``max_bytes``.
    """
    try:
        compressed = b64url_decode(text)
    except InvalidEncodingError as exc:
        raise StatusListInvalidError(
            f"{member} is not unpadded base64url", reason="encoding"
        ) from exc
    try:
        return inflate_bounded(compressed, wbits=wbits, max_size=max_bytes)
    except InflateLimitError as exc:
        raise StatusListTooLargeError(
            "the status list inflates past the size bound", max_bytes=max_bytes
        ) from exc
    except InflateError as exc:
        raise StatusListInvalidError(
            f"{member} is not {container} data", reason="compression"
        ) from exc


class StatusBits:
    """A fixed-size array of ``length`` entries of ``status_size`` bits.

    ``length`` is a multiple of the entries per byte (``8 // status_size``), so the
    byte array has no partial last byte. Indexes and values outside the range are
    caller mistakes (``IndexError`` / ``ValueError``); status modules check the range
    first and raise their own error.
    """

    __slots__ = ("_data", "_length", "_mask", "_order", "_per_byte", "_size")

    def __init__(self, length: int, *, status_size: int = 1, order: BitOrder) -> None:
        _check_size(status_size)
        per_byte = 8 // status_size
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError("length must be a positive integer")
        if length % per_byte:
            raise ValueError(f"length must be a multiple of {per_byte}")
        self._data = bytearray(length // per_byte)
        self._length = length
        self._size = status_size
        self._per_byte = per_byte
        self._mask = (1 << status_size) - 1
        self._order = BitOrder(order)

    @classmethod
    def from_bytes(cls, data: bytes, *, status_size: int = 1, order: BitOrder) -> Self:
        """Wrap a copy of an uncompressed status byte array.

        Raises:
            ValueError: empty data or an unsupported ``status_size``.
        """
        _check_size(status_size)
        if not data:
            raise ValueError("a status list has at least one byte")
        bits = cls(len(data) * (8 // status_size), status_size=status_size, order=order)
        bits._data[:] = data
        return bits

    def to_bytes(self) -> bytes:
        """The uncompressed byte array."""
        return bytes(self._data)

    @property
    def status_size(self) -> int:
        return self._size

    @property
    def order(self) -> BitOrder:
        return self._order

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return (
            f"StatusBits(length={self._length}, status_size={self._size}, "
            f"order={self._order.value})"
        )

    def _locate(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError("an index is an int")
        if not 0 <= index < self._length:
            raise IndexError(f"index {index} outside 0..{self._length - 1}")
        byte, slot = divmod(index, self._per_byte)
        if self._order is BitOrder.LSB_FIRST:
            return byte, slot * self._size
        return byte, 8 - self._size - slot * self._size

    def get(self, index: int) -> int:
        """The value of entry ``index`` (0 … 2**status_size - 1).

        Raises:
            IndexError: ``index`` is outside the list.
        """
        byte, shift = self._locate(index)
        return (self._data[byte] >> shift) & self._mask

    def set(self, index: int, value: int) -> None:
        """Store ``value`` in entry ``index``.

        Raises:
            IndexError: ``index`` is outside the list.
            ValueError: ``value`` does not fit in ``status_size`` bits.
        """
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("a status value is an int")
        if not 0 <= value <= self._mask:
            raise ValueError(f"status value {value} does not fit in {self._size} bits")
        byte, shift = self._locate(index)
        self._data[byte] = (self._data[byte] & ~(self._mask << shift) & 0xFF) | (
            value << shift
        )

    def count_nonzero(self) -> int:
        """How many entries hold a non-zero value (for issuers' statistics)."""
        # One translate + sum runs in C: each byte maps to its count of non-zero
        # entries, so the cost does not grow with a Python loop over the list.
        per_byte = bytes(
            sum(
                1
                for slot in range(self._per_byte)
                if (b >> (slot * self._size)) & self._mask
            )
            for b in range(256)
        )
        return sum(self._data.translate(per_byte))


def _check_size(status_size: int) -> None:
    if isinstance(status_size, bool) or status_size not in STATUS_SIZES:
        raise ValueError(f"status_size must be one of {STATUS_SIZES}")
