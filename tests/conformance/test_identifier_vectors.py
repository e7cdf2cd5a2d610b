"""GTIN, GS1 Digital Link, IMEI and VIN against published examples.

Vectors: ``vectors/gs1`` (GS1 Syntax Engine unit tests), ``vectors/imei`` and
``vectors/vin`` (worked examples); each directory's SOURCE.md names the origin.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from did_vault.errors import (
    InvalidDigitalLinkError,
    InvalidGTINError,
    InvalidIMEIError,
    InvalidVINError,
)
from did_vault.items import identifiers
from did_vault.items.identifiers import (
    DigitalLink,
    gs1_check_digit,
    is_valid_gtin,
    luhn_check_digit,
    normalize_gtin,
    normalize_imei,
    normalize_vin,
    parse_digital_link,
    vin_check_digit,
)

pytestmark = pytest.mark.conformance

VECTORS = Path(__file__).parent / "vectors"


def _load(*parts: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(VECTORS.joinpath(*parts).read_text("utf-8"))
    return result


GTIN = _load("gs1", "gtin-check-digits.json")
DL = _load("gs1", "digital-link.json")
IMEI = _load("imei", "imei.json")
VIN = _load("vin", "vin.json")


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


@pytest.mark.parametrize("case", GTIN["valid"], ids=_ids(GTIN["valid"]))
def test_published_gtin_is_valid_and_normalises_to_gtin14(case):
    assert is_valid_gtin(case["value"])
    assert gs1_check_digit(case["value"][:-1]) == case["value"][-1]
    assert normalize_gtin(case["value"]) == case["gtin14"]


@pytest.mark.parametrize("case", GTIN["invalid"], ids=_ids(GTIN["invalid"]))
def test_published_wrong_check_digit_is_refused(case):
    assert not is_valid_gtin(case["value"])
    with pytest.raises(InvalidGTINError) as info:
        normalize_gtin(case["value"])
    assert info.value.context["rule"] == "gtin-check-digit"


@pytest.mark.parametrize(
    "case", GTIN["check_digit_only"], ids=_ids(GTIN["check_digit_only"])
)
def test_gs1_check_digit_covers_other_gs1_keys(case):
    assert gs1_check_digit(case["value"][:-1]) == case["value"][-1]


@pytest.mark.parametrize("case", DL["parse_valid"], ids=_ids(DL["parse_valid"]))
def test_published_digital_link_parses(case):
    link = parse_digital_link(case["uri"])
    assert link.gtin == case["gtin"]
    assert link.serial == case.get("serial")
    assert link.batch == case.get("batch")
    assert link.variant == case.get("variant")
    assert [list(pair) for pair in link.attributes] == case.get("attributes", [])
    if "stem" in case:
        assert link.stem == case["stem"]
    # What we build from it parses back to the same link.
    assert DigitalLink.from_uri(link.to_uri()) == link


@pytest.mark.parametrize("case", DL["parse_invalid"], ids=_ids(DL["parse_invalid"]))
def test_published_invalid_digital_link_is_refused(case):
    with pytest.raises(InvalidDigitalLinkError):
        parse_digital_link(case["uri"])


@pytest.mark.parametrize("case", DL["escape"], ids=_ids(DL["escape"]))
def test_digital_link_path_escaping_matches_the_reference(case):
    assert identifiers._dl_encode(case["value"]) == case["path"]
    assert identifiers._dl_decode(case["path"], query=False) == case["value"]


def test_published_digital_link_serial_uri_is_what_we_build():
    assert (
        identifiers.build_digital_link("09520123456788", "12345")
        == "https://id.gs1.org/01/09520123456788/21/12345"
    )


@pytest.mark.parametrize("case", IMEI["valid"], ids=_ids(IMEI["valid"]))
def test_published_imei_check_digit(case):
    assert luhn_check_digit(case["body"]) == case["check_digit"]
    assert normalize_imei(case["imei"]) == case["imei"]


@pytest.mark.parametrize("case", IMEI["valid"], ids=_ids(IMEI["valid"]))
def test_published_imei_with_another_check_digit_is_refused(case):
    wrong = case["body"] + str((int(case["check_digit"]) + 1) % 10)
    with pytest.raises(InvalidIMEIError) as info:
        normalize_imei(wrong)
    assert info.value.context["rule"] == "luhn"


@pytest.mark.parametrize("case", IMEI["formatted"], ids=_ids(IMEI["formatted"]))
def test_published_imei_presentation_normalises(case):
    assert normalize_imei(case["text"]) == case["imei"]


@pytest.mark.parametrize("case", VIN["valid"], ids=_ids(VIN["valid"]))
def test_published_vin_check_digit(case):
    vin = case["vin"]
    weighted = sum(
        identifiers._VIN_VALUES[ch] * weight
        for ch, weight in zip(vin, identifiers._VIN_WEIGHTS, strict=True)
    )
    assert weighted == case["weighted_sum"]
    assert vin_check_digit(vin) == case["check_digit"]
    assert normalize_vin(vin) == vin


@pytest.mark.parametrize("case", VIN["invalid"], ids=_ids(VIN["invalid"]))
def test_published_vin_with_wrong_check_digit_is_refused(case):
    with pytest.raises(InvalidVINError) as info:
        normalize_vin(case["vin"])
    assert info.value.context["rule"] == "vin-check-digit"
    assert normalize_vin(case["vin"], require_check_digit=False) == case["vin"]
