"""The shared packed status storage: both bit orders, every size, bounded inflate."""

import gzip
import zlib

import pytest

from did_vault.credentials._bits import (
    GZIP_WBITS,
    STATUS_SIZES,
    ZLIB_WBITS,
    BitOrder,
    InflateError,
    InflateLimitError,
    StatusBits,
    inflate_bounded,
)


def test_msb_first_puts_entry_zero_in_the_top_bit() -> None:
    bits = StatusBits(16, order=BitOrder.MSB_FIRST)
    bits.set(0, 1)
    bits.set(9, 1)
    assert bits.to_bytes() == bytes([0b1000_0000, 0b0100_0000])


def test_lsb_first_puts_entry_zero_in_the_bottom_bit() -> None:
    # draft-ietf-oauth-status-list §4.1: statuses 1,0,0,1,1,1,0,1 -> 0xB9.
    bits = StatusBits(8, order=BitOrder.LSB_FIRST)
    for index, value in enumerate([1, 0, 0, 1, 1, 1, 0, 1]):
        bits.set(index, value)
    assert bits.to_bytes() == b"\xb9"


def test_two_bit_entries_in_each_order() -> None:
    msb = StatusBits(4, status_size=2, order=BitOrder.MSB_FIRST)
    lsb = StatusBits(4, status_size=2, order=BitOrder.LSB_FIRST)
    for bits in (msb, lsb):
        bits.set(0, 0b01)
        bits.set(1, 0b10)
        bits.set(3, 0b11)
    assert msb.to_bytes() == bytes([0b01_10_00_11])
    assert lsb.to_bytes() == bytes([0b11_00_10_01])


@pytest.mark.parametrize("order", list(BitOrder))
@pytest.mark.parametrize("size", STATUS_SIZES)
def test_set_get_round_trip_without_touching_neighbours(
    order: BitOrder, size: int
) -> None:
    bits = StatusBits(64, status_size=size, order=order)
    top = (1 << size) - 1
    for index in range(64):
        bits.set(index, index % (top + 1))
    bits.set(10, top)
    bits.set(10, 0)
    for index in range(64):
        expected = 0 if index == 10 else index % (top + 1)
        assert bits.get(index) == expected
    again = StatusBits.from_bytes(bits.to_bytes(), status_size=size, order=order)
    assert [again.get(i) for i in range(64)] == [bits.get(i) for i in range(64)]


@pytest.mark.parametrize("size", STATUS_SIZES)
def test_count_nonzero_counts_entries_not_bits(size: int) -> None:
    bits = StatusBits(64, status_size=size, order=BitOrder.LSB_FIRST)
    for index in (0, 5, 63):
        bits.set(index, (1 << size) - 1)
    assert bits.count_nonzero() == 3


def test_out_of_range_index_and_value_are_caller_mistakes() -> None:
    bits = StatusBits(8, status_size=2, order=BitOrder.MSB_FIRST)
    with pytest.raises(IndexError):
        bits.get(8)
    with pytest.raises(IndexError):
        bits.get(-1)
    with pytest.raises(ValueError, match="does not fit"):
        bits.set(0, 4)
    with pytest.raises(TypeError):
        bits.get(True)


@pytest.mark.parametrize("size", [0, 3, 5, 16])
def test_unsupported_sizes_are_refused(size: int) -> None:
    with pytest.raises(ValueError, match="status_size"):
        StatusBits(8, status_size=size, order=BitOrder.MSB_FIRST)


def test_length_must_fill_whole_bytes() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        StatusBits(12, order=BitOrder.MSB_FIRST)
    with pytest.raises(ValueError, match="positive"):
        StatusBits(0, order=BitOrder.MSB_FIRST)


def test_inflate_bounded_round_trips_both_containers() -> None:
    data = bytes(1000) + b"\x01"
    assert inflate_bounded(gzip.compress(data), wbits=GZIP_WBITS, max_size=2000) == data
    assert inflate_bounded(zlib.compress(data), wbits=ZLIB_WBITS, max_size=2000) == data


def test_inflate_bounded_stops_a_decompression_bomb() -> None:
    bomb = zlib.compress(bytes(64 * 1024 * 1024), 9)  # 64 MiB of zeros, ~64 KB
    with pytest.raises(InflateLimitError):
        inflate_bounded(bomb, wbits=ZLIB_WBITS, max_size=1024 * 1024)


def test_inflate_bounded_accepts_exactly_the_bound() -> None:
    data = bytes(4096)
    assert (
        len(inflate_bounded(zlib.compress(data), wbits=ZLIB_WBITS, max_size=4096))
        == 4096
    )


@pytest.mark.parametrize(
    ("blob", "wbits"),
    [
        (zlib.compress(b"status"), GZIP_WBITS),  # wrong container
        (gzip.compress(b"status"), ZLIB_WBITS),
        (zlib.compress(b"status")[:-3], ZLIB_WBITS),  # truncated
        (zlib.compress(b"status") + b"junk", ZLIB_WBITS),  # trailing bytes
        (b"not compressed at all", ZLIB_WBITS),
    ],
    ids=["zlib-as-gzip", "gzip-as-zlib", "truncated", "trailing", "garbage"],
)
def test_inflate_bounded_refuses_bad_streams(blob: bytes, wbits: int) -> None:
    with pytest.raises(InflateError):
        inflate_bounded(blob, wbits=wbits, max_size=1024)
