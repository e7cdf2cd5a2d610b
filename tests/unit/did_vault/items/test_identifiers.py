"""GTIN, Digital Link, serial normalisation, IMEI, VIN and the uniqueness key."""

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_vault.errors import (
    InvalidDigitalLinkError,
    InvalidGTINError,
    InvalidIdentifierError,
    InvalidIMEIError,
    InvalidSerialError,
    InvalidVINError,
    ItemNotIdentifiableError,
)
from did_vault.items.identifiers import (
    DigitalLink,
    build_digital_link,
    check_gs1_serial,
    gs1_check_digit,
    is_valid_gtin,
    luhn_check_digit,
    normalize_gtin,
    normalize_identifier,
    normalize_imei,
    normalize_serial,
    normalize_vin,
    parse_digital_link,
    uniqueness_key,
    vin_check_digit,
)

CSET82 = (
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
    "abcdefghijklmnopqrstuvwxyz"
)
GS1_VALUES = st.text(alphabet=CSET82, min_size=1, max_size=20)


def _gtin(body: str) -> str:
    return body + gs1_check_digit(body)


GTINS = st.sampled_from([7, 11, 12, 13]).flatmap(
    lambda n: st.text(alphabet=string.digits, min_size=n, max_size=n).map(_gtin)
)


# --- GTIN ----------------------------------------------------------------------


@given(GTINS)
def test_every_gtin_normalises_to_a_valid_gtin14_that_is_a_fixed_point(gtin):
    gtin14 = normalize_gtin(gtin)
    assert len(gtin14) == 14
    assert gtin14.lstrip("0") == gtin.lstrip("0")
    assert is_valid_gtin(gtin14)
    assert normalize_gtin(gtin14) == gtin14


@given(GTINS, st.integers(min_value=1, max_value=9))
def test_gtin_with_any_other_check_digit_is_refused(gtin, shift):
    wrong = gtin[:-1] + str((int(gtin[-1]) + shift) % 10)
    with pytest.raises(InvalidGTINError):
        normalize_gtin(wrong)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("123456789", "gtin-length"),
        ("", "gtin-digits"),
        ("0952012345678A", "gtin-digits"),
        ("\uff10\uff19" + "52012345678" + "\uff18", "gtin-digits"),
        ("0952 0123456788", "gtin-digits"),
    ],
)
def test_normalize_gtin_rejects_with_the_rule(value, rule):
    with pytest.raises(InvalidGTINError) as info:
        normalize_gtin(value)
    assert info.value.context["rule"] == rule
    assert info.value.code == "item.gtin-invalid"


def test_normalize_gtin_ignores_surrounding_whitespace_only():
    assert normalize_gtin(" 9520123456788\n") == "09520123456788"


def test_gs1_check_digit_refuses_non_digits():
    with pytest.raises(ValueError, match="ASCII digits"):
        gs1_check_digit("12a")


# --- serials -------------------------------------------------------------------


@given(st.text(max_size=40))
def test_normalize_serial_is_idempotent(text):
    try:
        once = normalize_serial(text)
    except InvalidSerialError:
        return
    assert normalize_serial(once) == once


@given(st.text(alphabet=string.ascii_letters + string.digits + "-/.", min_size=1))
def test_serial_variants_collapse_to_one_key(serial):
    variants = [
        serial.upper(),
        serial.lower(),
        f"  {serial}\t",
        "\u200b".join(serial),  # zero-width spaces between every character
        serial.translate({ord(c): ord(c) + 0xFEE0 for c in string.ascii_letters}),
        "\ufeff" + serial + "\u00ad",  # BOM and soft hyphen
    ]
    keys = {normalize_serial(v) for v in variants}
    assert keys == {normalize_serial(serial)}


@pytest.mark.parametrize("value", ["", "   ", "\u200b\u200c", "\x00\x1f"])
def test_normalize_serial_refuses_what_is_empty_after_normalisation(value):
    with pytest.raises(InvalidSerialError) as info:
        normalize_serial(value)
    assert info.value.code == "item.serial-invalid"


def test_normalize_serial_keeps_hyphens_and_accents_apart():
    assert normalize_serial("AB-12") != normalize_serial("AB12")
    assert normalize_serial("Café") == normalize_serial("CAFE\u0301")
    assert normalize_serial("Café") != normalize_serial("Cafe")


def test_check_gs1_serial_enforces_character_set_82_and_length():
    assert check_gs1_serial("ABC-123/x") == "ABC-123/x"
    with pytest.raises(InvalidSerialError, match="character set 82"):
        check_gs1_serial("ABC 123")
    with pytest.raises(InvalidSerialError, match="1 to 20"):
        check_gs1_serial("A" * 21)


# --- Digital Link ----------------------------------------------------------------


@given(
    GTINS,
    st.none() | GS1_VALUES,
    st.none() | GS1_VALUES,
    st.none() | GS1_VALUES,
    st.sampled_from(["https://id.gs1.org", "https://brand.example/p/q", "http://x.y"]),
)
def test_digital_link_round_trips(gtin, serial, batch, variant, stem):
    link = DigitalLink(
        gtin=gtin,
        serial=serial,
        batch=batch,
        variant=variant,
        attributes=(("17", "261231"),),
        stem=stem,
    )
    uri = link.to_uri()
    assert parse_digital_link(uri) == link
    assert link.gtin == normalize_gtin(gtin)


def test_build_digital_link_percent_encodes_the_serial():
    assert (
        build_digital_link("9520123456788", "A/B%C")
        == "https://id.gs1.org/01/09520123456788/21/A%2FB%25C"
    )


def test_build_digital_link_with_batch_and_attributes_uses_the_standard_order():
    uri = build_digital_link(
        "09520123456788",
        "12345",
        batch="ABC1",
        attributes={"17": "180426"},
        stem="https://brand.example",
    )
    assert uri == "https://brand.example/01/09520123456788/10/ABC1/21/12345?17=180426"


@pytest.mark.parametrize(
    ("uri", "rule"),
    [
        ("ftp://id.gs1.org/01/09520123456788", "uri-syntax"),
        ("https:///01/09520123456788", "uri-syntax"),
        ("https://id.gs1.org/01/09520123456788/21/a b", "uri-syntax"),
        ("https://id.gs1.org/01/09520123456788/21/é", "uri-syntax"),
        ("https://id.gs1.org/gtin/09520123456788", "primary-key"),
        ("https://id.gs1.org/01/09520123456788/21", "primary-key"),
        ("https://id.gs1.org/01/09520123456788/21/1/21/2", "qualifier-order"),
        ("https://id.gs1.org/01/09520123456789", "gtin-check-digit"),
        ("https://id.gs1.org/01/09520123456788/21/%ZZ", "percent-encoding"),
        ("https://id.gs1.org/01/09520123456788/21/%C3%28", "percent-encoding"),
        ("https://id.gs1.org/01/09520123456788/21/" + "A" * 21, "ai-value"),
        ("https://id.gs1.org/01/09520123456788?17=2612", "ai-value"),
        ("https://id.gs1.org/01/09520123456788?21=1", "qualifier-in-query"),
    ],
)
def test_parse_digital_link_rejects_with_the_rule(uri, rule):
    with pytest.raises(InvalidDigitalLinkError) as info:
        parse_digital_link(uri)
    assert info.value.context["rule"] == rule
    assert info.value.code == "item.digital-link-invalid"


@pytest.mark.parametrize(
    "stem", ["https://id.gs1.org/", "https://u@x.org", "https://x.org?q=1", "x.org"]
)
def test_digital_link_refuses_a_bad_stem(stem):
    with pytest.raises(InvalidDigitalLinkError):
        DigitalLink(gtin="09520123456788", stem=stem)


def test_digital_link_refuses_a_gs1_serial_outside_character_set_82():
    with pytest.raises(InvalidDigitalLinkError):
        build_digital_link("09520123456788", "SN 1")


# --- IMEI and VIN ----------------------------------------------------------------


@given(st.text(alphabet=string.digits, min_size=14, max_size=14))
def test_luhn_check_digit_makes_a_valid_imei(body):
    imei = body + luhn_check_digit(body)
    assert normalize_imei(imei) == imei


@pytest.mark.parametrize(
    ("value", "rule"),
    [("49015420323751", "imei-length"), ("4901542032375189", "imei-length")],
)
def test_normalize_imei_rejects_with_the_rule(value, rule):
    with pytest.raises(InvalidIMEIError) as info:
        normalize_imei(value)
    assert info.value.context["rule"] == rule


def test_normalize_vin_upper_cases_and_strips_separators():
    assert normalize_vin(" 1m8gdm9a-xkp042788 ") == "1M8GDM9AXKP042788"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("1M8GDM9AXKP04278", "vin-length"),
        ("1M8GDM9AXKP0427O8", "vin-alphabet"),
        ("1M8GDM9AXKP0427Q8", "vin-alphabet"),
    ],
)
def test_normalize_vin_rejects_with_the_rule(value, rule):
    with pytest.raises(InvalidVINError) as info:
        normalize_vin(value)
    assert info.value.context["rule"] == rule


def test_vin_check_digit_refuses_letters_outside_iso_3779():
    with pytest.raises(ValueError, match="17 characters"):
        vin_check_digit("IM8GDM9AXKP042788")


def test_normalize_identifier_by_kind():
    assert normalize_identifier("imei", "49 015420 323751 8") == "490154203237518"
    assert normalize_identifier("vin", "1m8gdm9axkp042788") == "1M8GDM9AXKP042788"
    assert normalize_identifier("frameNumber", " wtu 238c ") == "wtu238c"
    with pytest.raises(InvalidIdentifierError) as info:
        normalize_identifier("caseNumber", "\u200b")
    assert info.value.code == "item.identifier-invalid"


# --- uniqueness key --------------------------------------------------------------


def test_uniqueness_key_prefers_gtin_and_serial():
    key = uniqueness_key(
        gtin="9520123456788", serial="ab 12", brand_did="did:web:b.example", model="M"
    )
    assert key == "01/09520123456788/21/ab12"


def test_uniqueness_key_of_variants_of_one_item_is_one_key():
    full_width = "\uff21\uff22\uff11\uff12"
    plain = uniqueness_key(gtin="9520123456788", serial=" ab\u200b12 ")
    assert uniqueness_key(gtin="09520123456788", serial=full_width) == plain


def test_uniqueness_key_without_gtin_uses_brand_did_model_and_serial():
    key = uniqueness_key(
        brand_did="did:web:bikes.example", model="Trail 29", serial="X/1"
    )
    assert key == "brand/did%3Aweb%3Abikes.example/model/trail29/serial/x%2F1"


def test_uniqueness_key_falls_back_to_imei_then_vin():
    assert uniqueness_key(imei="49-015420-323751-8") == "imei/490154203237518"
    assert uniqueness_key(vin="1m8gdm9axkp042788") == "vin/1M8GDM9AXKP042788"


def test_uniqueness_key_components_cannot_collide():
    a = uniqueness_key(brand_did="did:web:a", model="b/model/c", serial="d")
    b = uniqueness_key(brand_did="did:web:a/model/b", model="c", serial="d")
    assert a != b


def test_uniqueness_key_refuses_an_item_it_cannot_tell_apart():
    with pytest.raises(ItemNotIdentifiableError) as info:
        uniqueness_key(gtin="09520123456788", model="M")
    assert info.value.code == "item.not-identifiable"
