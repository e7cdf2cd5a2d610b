"""RFC 8785 canonicalization: the fast path equals the reference path everywhere."""

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.errors import CanonicalizationError
from did_vault.primitives.jcs import (
    MAX_EXACT_INTEGER,
    canonicalize,
    canonicalize_reference,
    format_number,
)

# every Unicode scalar value (no lone surrogates), with the awkward ranges favoured
_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.characters(min_codepoint=0, max_codepoint=0x20),
        st.characters(min_codepoint=0xE000, max_codepoint=0xFFFF),
        st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
        st.sampled_from('"\\/\b\f\n\r\t\x7f\u2028\u2029'),
    ),
    max_size=8,
)
_NUMBERS = st.one_of(
    st.integers(min_value=-MAX_EXACT_INTEGER, max_value=MAX_EXACT_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [0.0, -0.0, 1e21, 1e-7, 1e-6, 1e16, 5e-324, 1.7976931348623157e308]
    ),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | _NUMBERS | _TEXT,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(_TEXT, children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(JSON_VALUES)
def test_fast_path_equals_reference_on_random_json(value: Any) -> None:
    assert canonicalize(value) == canonicalize_reference(value)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_canonical_form_round_trips_and_is_idempotent(value: Any) -> None:
    canonical = canonicalize(value)
    parsed = json.loads(canonical)
    assert canonicalize(parsed) == canonical


@settings(max_examples=1000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_round_trips_to_the_same_double(number: float) -> None:
    text = format_number(number)
    assert float(text) == number
    # shortest: no more significant digits than Python's shortest repr
    digits = text.lstrip("-").split("e")[0].replace(".", "").strip("0")
    shortest = repr(abs(number)).split("e")[0].replace(".", "").strip("0")
    assert len(digits) <= max(len(shortest), 1)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (56.0, "56"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (123e-20, "1.23e-18"),
        (-1.5, "-1.5"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"),
    ],
)
def test_format_number_follows_ecmascript(number: float, text: str) -> None:
    assert format_number(number) == text


def test_member_names_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is the surrogate pair D83D DE00, below U+FFFD in UTF-16 order
    value = {"\ufffd": 1, "\U0001f600": 2}
    expected = '{"\U0001f600":2,"\ufffd":1}'.encode()
    assert canonicalize(value) == expected
    assert canonicalize_reference(value) == expected


def test_controls_are_escaped_in_lowercase_hex_and_others_are_raw() -> None:
    assert (
        canonicalize(["\x00\x1f\x7f\u2028/é"])
        == '["\\u0000\\u001f\x7f\u2028/é"]'.encode()
    )


@pytest.mark.parametrize(
    "value",
    [
        ["\ud800"],
        {"\udfff": 1},
        [math.nan],
        [math.inf],
        [-math.inf],
        [10**400],
        [-(10**309)],
        {1: "x"},
        {None: "x"},
    ],
    ids=[
        "lone-high-surrogate",
        "lone-low-surrogate-key",
        "nan",
        "inf",
        "minus-inf",
        "int-overflows-double",
        "negative-int-overflows-double",
        "int-key",
        "none-key",
    ],
)
def test_canonicalize_rejects_what_rfc8785_cannot_express(value: Any) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(value)
    with pytest.raises(CanonicalizationError):
        canonicalize_reference(value)


@pytest.mark.parametrize(
    ("integer", "text"),
    [
        (2**53, b"[9007199254740992]"),
        (2**53 + 1, b"[9007199254740992]"),
        (-(2**60), b"[-1152921504606847000]"),
        (44018112844198930, b"[44018112844198930]"),
        (10**22, b"[1e+22]"),
    ],
)
def test_integers_are_read_as_the_nearest_double(integer: int, text: bytes) -> None:
    assert canonicalize([integer]) == text
    assert canonicalize_reference([integer]) == text


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object()])
def test_canonicalize_rejects_non_json_types_as_caller_mistakes(value: Any) -> None:
    with pytest.raises(TypeError):
        canonicalize([value])


def test_canonicalize_rejects_deep_nesting() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(CanonicalizationError):
        canonicalize(value)


def test_canonicalize_rejects_cycles() -> None:
    value: dict[str, Any] = {}
    value["self"] = value
    with pytest.raises(CanonicalizationError):
        canonicalize(value)


def test_tuples_and_mappings_are_json_arrays_and_objects() -> None:
    from types import MappingProxyType

    assert canonicalize(MappingProxyType({"b": (1, 2), "a": True})) == (
        b'{"a":true,"b":[1,2]}'
    )
