"""RFC 8785 test data (cyberphone/json-canonicalization ``testdata``).

Each ``input/<name>.json`` parsed and canonicalized must give ``output/<name>.json``
byte for byte, on the fast path and on the reference path alike.
"""

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from did_vault.primitives.jcs import canonicalize, canonicalize_reference, format_number

pytestmark = pytest.mark.conformance

VECTORS = Path(__file__).parent / "vectors" / "rfc8785"
NAMES = sorted(path.stem for path in (VECTORS / "input").glob("*.json"))
NUMBERS: list[list[str]] = json.loads((VECTORS / "numbers.json").read_text("utf-8"))[
    "samples"
]


def _load(name: str) -> tuple[Any, bytes]:
    value = json.loads((VECTORS / "input" / f"{name}.json").read_bytes())
    return value, (VECTORS / "output" / f"{name}.json").read_bytes()


def test_every_input_has_an_output() -> None:
    assert sorted(path.stem for path in (VECTORS / "output").glob("*.json")) == NAMES
    assert len(NAMES) == 7


@pytest.mark.parametrize("name", NAMES)
def test_canonicalize_matches_rfc8785_output(name: str) -> None:
    value, expected = _load(name)
    assert canonicalize(value) == expected


@pytest.mark.parametrize("name", NAMES)
def test_reference_matches_rfc8785_output(name: str) -> None:
    value, expected = _load(name)
    assert canonicalize_reference(value) == expected


@pytest.mark.parametrize(("ieee_hex", "expected"), NUMBERS, ids=[n[0] for n in NUMBERS])
def test_number_serialization_sample(ieee_hex: str, expected: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(ieee_hex.rjust(16, "0")))
    assert format_number(number) == expected
    assert canonicalize([number]) == f"[{expected}]".encode()
    assert canonicalize_reference([number]) == f"[{expected}]".encode()
