"""Disclosures: creating, parsing strictly, and digesting the string as received."""

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_vault.errors import (
    InvalidDisclosureError,
    MalformedInputError,
    ReservedClaimNameError,
    UnsupportedDigestAlgorithmError,
)
from did_vault.sd_jwt.disclosure import (
    Disclosure,
    decoy_digest,
    digest_of,
    random_salt,
)


def _encode(array: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(array).encode()).decode().rstrip("=")


def test_create_object_property_round_trips() -> None:
    disclosure = Disclosure.create(salt="s4lt", name="city", value={"a": [1, "ü"]})
    parsed = Disclosure.parse(disclosure.encoded)
    assert parsed == disclosure
    assert parsed.is_array_element is False
    assert json.loads(base64.urlsafe_b64decode(disclosure.encoded + "==")) == [
        "s4lt",
        "city",
        {"a": [1, "ü"]},
    ]


def test_create_array_element_round_trips() -> None:
    disclosure = Disclosure.create(salt="s4lt", name=None, value="FR")
    assert Disclosure.parse(disclosure.encoded) == disclosure
    assert disclosure.is_array_element is True


def test_digest_is_over_the_string_as_received() -> None:
    spaced = _encode(["s4lt", "city", "Berlin"])
    compact = Disclosure.create(salt="s4lt", name="city", value="Berlin")
    assert spaced != compact.encoded
    assert Disclosure.parse(spaced).digest() == digest_of(spaced)
    assert Disclosure.parse(spaced).digest() != compact.digest()


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_create_refuses_reserved_names(name: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        Disclosure.create(salt="s", name=name, value=1)


def test_create_refuses_an_empty_salt() -> None:
    with pytest.raises(ValueError, match="salt"):
        Disclosure.create(salt="", name="a", value=1)


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_parse_rejects_reserved_names(name: str) -> None:
    with pytest.raises(ReservedClaimNameError):
        Disclosure.parse(_encode(["s", name, 1]))


@pytest.mark.parametrize(
    "array",
    [[], ["s"], ["s", "n", 1, 2], [1, "n", 2], ["s", 1, 2], {"s": 1}, "s", None],
)
def test_parse_rejects_malformed_arrays(array: Any) -> None:
    with pytest.raises(InvalidDisclosureError):
        Disclosure.parse(_encode(array))


@pytest.mark.parametrize(
    "encoded",
    ["", "!!", _encode(["s", "n", 1]) + "=", "WyJzIiwgIm4iLCAxLCAxXQ=", 42],
)
def test_parse_rejects_bad_encodings(encoded: Any) -> None:
    with pytest.raises(InvalidDisclosureError):
        Disclosure.parse(encoded)


def test_parse_rejects_duplicate_members_in_values() -> None:
    raw = b'["s", "n", {"a": 1, "a": 2}]'
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(InvalidDisclosureError):
        Disclosure.parse(encoded)


def test_unsupported_digest_algorithm_is_refused() -> None:
    disclosure = Disclosure.create(salt="s", name="n", value=1)
    with pytest.raises(UnsupportedDigestAlgorithmError):
        disclosure.digest("sha-1")


def test_random_salts_carry_128_bits() -> None:
    salts = {random_salt() for _ in range(64)}
    assert len(salts) == 64
    assert all(len(base64.urlsafe_b64decode(s + "==")) == 16 for s in salts)


def test_decoy_digests_look_like_disclosure_digests() -> None:
    decoy = decoy_digest()
    assert len(decoy) == len(Disclosure.create(salt="s", name="n", value=1).digest())


def test_repr_shows_no_value_or_salt() -> None:
    disclosure = Disclosure.create(salt="secret-salt", name="ssn", value="123-45")
    assert "123-45" not in repr(disclosure)
    assert "secret-salt" not in repr(disclosure)


@given(st.text(max_size=120))
def test_parse_raises_only_malformed_input_on_any_text(text: str) -> None:
    try:
        Disclosure.parse(text)
    except MalformedInputError:
        return


@given(st.binary(max_size=120))
def test_parse_raises_only_malformed_input_on_any_bytes(data: bytes) -> None:
    try:
        Disclosure.parse(base64.urlsafe_b64encode(data).decode().rstrip("="))
    except MalformedInputError:
        return
