"""Item identifiers: GTIN, GS1 Digital Link, serials, IMEI, VIN and the registry key.

- GTIN-8/12/13/14 check digits and the GTIN-14 form: GS1 General Specifications,
  "Standard check digit calculations for GS1 data structures".
- GS1 Digital Link URIs: GS1 Digital Link Standard: URI Syntax, release 1.2 (path
  ``/01/{gtin}[/22/{cpv}][/10/{batch}][/21/{serial}]``, data attributes such as
  ``17`` in the query string, every character outside ``A-Z a-z 0-9 - . _ ~``
  percent-encoded).
- IMEI: 3GPP TS 23.003 (15 digits, the last a Luhn check digit).
- VIN: ISO 3779 (17 characters, no I, O or Q) with the North American check digit
  in position 9 (49 CFR 565.15).

Serials, models and free-form numbers (bike frames, watch cases and movements) are
compared after :func:`normalize_serial`, so that variants of one serial typed,
scanned or pasted differently collapse to one key.
"""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Self
from urllib.parse import quote, urlsplit

from did_vault.errors import (
    InvalidDigitalLinkError,
    InvalidGTINError,
    InvalidIdentifierError,
    InvalidIMEIError,
    InvalidSerialError,
    InvalidVINError,
    ItemNotIdentifiableError,
)

GS1_RESOLVER = "https://id.gs1.org"
GTIN_LENGTHS = (8, 12, 13, 14)

# GS1 Application Identifiers used here (GS1 General Specifications §3.2).
AI_GTIN = "01"
AI_BATCH = "10"
AI_PRODUCTION_DATE = "11"
AI_EXPIRY_DATE = "17"
AI_SERIAL = "21"
AI_CONSUMER_PRODUCT_VARIANT = "22"

# Key qualifiers of AI (01) in the order the DL URI path must give them.
_GTIN_QUALIFIERS = (AI_CONSUMER_PRODUCT_VARIANT, AI_BATCH, AI_SERIAL)
# Data attributes whose value is a date YYMMDD (production, packaging, best before,
# sell by, expiry).
_DATE_ATTRIBUTES = frozenset({"11", "13", "15", "16", "17"})
# GS1 AI encodable character set 82 (General Specifications, Figure 7.11-1).
_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
    "abcdefghijklmnopqrstuvwxyz"
)
_CSET82_MAX = 20  # AI (10), (21) and (22) are X..20
# RFC 3986 unreserved characters: the only ones a DL URI value carries unencoded.
_UNRESERVED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_AI_NAME = re.compile(r"[0-9]{2,4}")
_DIGITS = re.compile(r"[0-9]+")
_MAX_URI_LENGTH = 2048

IMEI_LENGTH = 15
VIN_LENGTH = 17
_VIN_ALPHABET = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
# ISO 3779 / 49 CFR 565.15 transliteration and position weights.
_VIN_VALUES: Mapping[str, int] = MappingProxyType(
    {
        **{str(d): d for d in range(10)},
        **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
        **dict(zip("JKLMN", range(1, 6), strict=True)),
        "P": 7,
        "R": 9,
        **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
    }
)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_CHECK_POSITION = 8  # zero-based: the 9th character

# Unicode categories dropped from serials: controls, format characters (zero-width
# space and joiners, BOM, soft hyphen, bidi marks), surrogates, private use,
# unassigned, and every separator (spaces, line and paragraph separators).
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
_NORMALIZE_ROUNDS = 8


# --- GTIN ----------------------------------------------------------------------


def gs1_check_digit(digits: str) -> str:
    """The GS1 standard check digit for ``digits`` (the key without its check digit).

    Weights 3 and 1 alternate from the rightmost digit, which weighs 3.

    Raises:
        ValueError: ``digits`` is empty or not all ASCII digits.
    """
    if not digits or _DIGITS.fullmatch(digits) is None:
        raise ValueError("a GS1 check digit is computed over ASCII digits")
    total = sum(
        int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits))
    )
    return str((10 - total % 10) % 10)


def is_valid_gtin(value: str) -> bool:
    """Whether ``value`` is a GTIN-8, -12, -13 or -14 with a correct check digit."""
    return (
        isinstance(value, str)
        and len(value) in GTIN_LENGTHS
        and _DIGITS.fullmatch(value) is not None
        and gs1_check_digit(value[:-1]) == value[-1]
    )


def normalize_gtin(value: str) -> str:
    """The GTIN-14 form of a GTIN-8, -12, -13 or -14 (left zero padding).

    Surrounding whitespace is ignored; nothing inside the number is.

    Raises:
        InvalidGTINError: wrong length, a non-digit, or a wrong check digit.
    """
    if not isinstance(value, str):
        raise TypeError("a GTIN is a string of digits")
    text = value.strip()
    if _DIGITS.fullmatch(text) is None:
        raise InvalidGTINError("a GTIN has only digits", rule="gtin-digits")
    if len(text) not in GTIN_LENGTHS:
        raise InvalidGTINError(
            "a GTIN has 8, 12, 13 or 14 digits", rule="gtin-length", length=len(text)
        )
    if gs1_check_digit(text[:-1]) != text[-1]:
        raise InvalidGTINError(
            "the GTIN's check digit is wrong", rule="gtin-check-digit"
        )
    return text.zfill(14)


# --- serials and free-form numbers -----------------------------------------------


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in _DROPPED_CATEGORIES and not ch.isspace()
    )
    return unicodedata.normalize("NFKC", text)


def normalize_serial(value: str) -> str:
    """The comparison form of a serial, model or free-form number.

    Unicode NFKC (full-width and compatibility forms fold to their plain letters),
    case folded, with whitespace, zero-width, control and other invisible
    characters removed; repeated to a fixed point, so the result is idempotent.

    Raises:
        InvalidSerialError: nothing is left after normalisation.
    """
    if not isinstance(value, str):
        raise TypeError("a serial is a string")
    text = value
    for _ in range(_NORMALIZE_ROUNDS):
        step = _normalize_once(text)
        if step == text:
            break
        text = step
    if not text:
        raise InvalidSerialError(
            "the serial is empty after normalisation", rule="serial-empty"
        )
    return text


def check_gs1_serial(value: str) -> str:
    """``value`` if it can be a GS1 AI (21) serial: 1-20 characters of set 82.

    Raises:
        InvalidSerialError: empty, too long, or a character outside set 82.
    """
    if not value or len(value) > _CSET82_MAX:
        raise InvalidSerialError(
            "a GS1 serial (AI 21) has 1 to 20 characters", rule="gs1-serial-length"
        )
    if not set(value) <= _CSET82:
        raise InvalidSerialError(
            "a GS1 serial (AI 21) uses only GS1 character set 82",
            rule="gs1-character-set",
        )
    return value


# --- IMEI --------------------------------------------------------------------------


def luhn_check_digit(digits: str) -> str:
    """The Luhn (ISO/IEC 7812-1) check digit for ``digits``.

    Raises:
        ValueError: ``digits`` is empty or not all ASCII digits.
    """
    if not digits or _DIGITS.fullmatch(digits) is None:
        raise ValueError("a Luhn check digit is computed over ASCII digits")
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:  # doubled: the digit next to the check digit, and every 2nd
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def normalize_imei(value: str) -> str:
    """The 15-digit form of an IMEI, its Luhn check digit verified.

    Spaces, hyphens, dots and slashes between the digit groups are dropped
    (``49-015420-323751-8`` becomes ``490154203237518``).

    Raises:
        InvalidIMEIError: not 15 digits, or the check digit is wrong.
    """
    if not isinstance(value, str):
        raise TypeError("an IMEI is a string")
    text = re.sub(r"[\s\-./]", "", value)
    if _DIGITS.fullmatch(text) is None or len(text) != IMEI_LENGTH:
        raise InvalidIMEIError("an IMEI has 15 digits", rule="imei-length")
    if luhn_check_digit(text[:-1]) != text[-1]:
        raise InvalidIMEIError("the IMEI's check digit is wrong", rule="luhn")
    return text


# --- VIN ---------------------------------------------------------------------------


def vin_check_digit(vin: str) -> str:
    """The check digit (``0``-``9`` or ``X``) a 17-character VIN must carry in
    position 9 (49 CFR 565.15; position 9 itself weighs 0).

    Raises:
        ValueError: not 17 characters of the VIN alphabet.
    """
    if _VIN_ALPHABET.fullmatch(vin) is None:
        raise ValueError("a VIN has 17 characters of A-Z (no I, O, Q) and 0-9")
    total = sum(
        _VIN_VALUES[ch] * weight for ch, weight in zip(vin, _VIN_WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_vin(value: str, *, require_check_digit: bool = True) -> str:
    """The upper-case 17-character form of a VIN.

    Whitespace and hyphens are dropped. The position-9 check digit is mandatory
    for vehicles sold in North America; ``require_check_digit=False`` accepts a
    VIN from a market where position 9 is not a check digit.

    Raises:
        InvalidVINError: wrong length, a character outside ISO 3779 (I, O and Q
            never occur), or a wrong check digit.
    """
    if not isinstance(value, str):
        raise TypeError("a VIN is a string")
    text = re.sub(r"[\s\-]", "", value).upper()
    if len(text) != VIN_LENGTH:
        raise InvalidVINError("a VIN has 17 characters", rule="vin-length")
    if _VIN_ALPHABET.fullmatch(text) is None:
        raise InvalidVINError(
            "a VIN uses A-Z without I, O, Q, and 0-9", rule="vin-alphabet"
        )
    if require_check_digit and vin_check_digit(text) != text[_VIN_CHECK_POSITION]:
        raise InvalidVINError("the VIN's check digit is wrong", rule="vin-check-digit")
    return text


# --- GS1 Digital Link --------------------------------------------------------------


def _dl_encode(value: str) -> str:
    return "".join(
        ch if ch in _UNRESERVED else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in value
    )


def _dl_decode(value: str, *, query: bool) -> str:
    if query:
        value = value.replace("+", " ")  # '+' is a space only in the query string
    out = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "%":
            pair = value[i + 1 : i + 3]
            if len(pair) != 2 or not all(c in "0123456789abcdefABCDEF" for c in pair):
                raise InvalidDigitalLinkError(
                    "a '%' must start a percent-encoded byte", rule="percent-encoding"
                )
            out.append(int(pair, 16))
            i += 3
        else:
            out.extend(ch.encode("utf-8"))
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidDigitalLinkError(
            "a percent-encoded value is not UTF-8", rule="percent-encoding"
        ) from exc


def _check_ai_value(ai: str, value: str) -> str:
    if ai in _DATE_ATTRIBUTES:
        if re.fullmatch(r"[0-9]{6}", value) is None:
            raise InvalidDigitalLinkError(
                f"AI ({ai}) is a date YYMMDD", rule="ai-value", ai=ai
            )
        return value
    if ai in _GTIN_QUALIFIERS:
        if not value or len(value) > _CSET82_MAX or not set(value) <= _CSET82:
            raise InvalidDigitalLinkError(
                f"AI ({ai}) has 1 to 20 characters of GS1 character set 82",
                rule="ai-value",
                ai=ai,
            )
        return value
    # Every other AI's value is numeric or from set 82 (or its subsets 39 and 64).
    if not value or len(value) > 90 or not set(value) <= _CSET82:
        raise InvalidDigitalLinkError(
            f"AI ({ai}) has 1 to 90 characters of GS1 character set 82",
            rule="ai-value",
            ai=ai,
        )
    return value


def _check_stem(stem: str) -> str:
    parts = urlsplit(stem)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
        or stem.endswith("/")
        or any(ch.isspace() for ch in stem)
    ):
        raise InvalidDigitalLinkError(
            "a Digital Link stem is http(s)://host[/path] without a trailing '/'",
            rule="stem",
        )
    return stem


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A GS1 Digital Link URI for a GTIN, parsed or to be built.

    ``gtin`` is always the GTIN-14 form. ``serial`` (AI 21), ``batch`` (AI 10) and
    ``variant`` (AI 22) are the path key qualifiers; ``attributes`` are the GS1 data
    attributes of the query string as ``(ai, value)`` pairs in order (e.g.
    ``(("17", "261231"),)``), unencoded. ``stem``
    is the resolver: scheme, host and any path before ``/01/``.
    """

    gtin: str
    serial: str | None = None
    batch: str | None = None
    variant: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    stem: str = GS1_RESOLVER

    def __post_init__(self) -> None:
        try:
            gtin = normalize_gtin(self.gtin)
        except InvalidGTINError as exc:
            raise InvalidDigitalLinkError(
                f"AI (01): {exc.detail}", rule=str(exc.context.get("rule", "gtin"))
            ) from None
        object.__setattr__(self, "gtin", gtin)
        for ai, value in (
            (AI_CONSUMER_PRODUCT_VARIANT, self.variant),
            (AI_BATCH, self.batch),
            (AI_SERIAL, self.serial),
        ):
            if value is not None:
                _check_ai_value(ai, value)
        attributes = tuple((str(ai), str(value)) for ai, value in self.attributes)
        if len({ai for ai, _ in attributes}) != len(attributes):
            raise InvalidDigitalLinkError(
                "a data attribute appears twice", rule="duplicate-ai"
            )
        for ai, value in attributes:
            if _AI_NAME.fullmatch(ai) is None:
                raise InvalidDigitalLinkError(
                    "a data attribute is named by its numeric AI", rule="ai-name"
                )
            if ai == AI_GTIN or ai in _GTIN_QUALIFIERS:
                raise InvalidDigitalLinkError(
                    f"AI ({ai}) belongs in the path, not the query string",
                    rule="qualifier-in-query",
                    ai=ai,
                )
            _check_ai_value(ai, value)
        object.__setattr__(self, "attributes", attributes)
        _check_stem(self.stem)

    @classmethod
    def from_uri(cls, uri: str) -> Self:
        """Parse a GS1 Digital Link URI (uncompressed) whose primary key is a GTIN.

        A GTIN-8/12/13 in the path is accepted and padded to 14 digits. Query
        parameters that are not numeric (e.g. ``linkType``) and the fragment are
        ignored, as the standard says.

        Raises:
            InvalidDigitalLinkError: not http(s), no ``/01/{gtin}``, qualifiers out
                of order, repeated, unknown or in the query string, a bad value.
        """
        if not isinstance(uri, str):
            raise TypeError("a Digital Link URI is a string")
        if len(uri) > _MAX_URI_LENGTH or any(
            ch.isspace() or ord(ch) > 0x7E for ch in uri
        ):
            raise InvalidDigitalLinkError(
                "a Digital Link URI is at most 2048 printable ASCII characters",
                rule="uri-syntax",
            )
        parts = urlsplit(uri)
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            raise InvalidDigitalLinkError(
                "a Digital Link URI is http(s)://host/…", rule="uri-syntax"
            )
        segments = parts.path.split("/")[1:] if parts.path else []
        start = _find_primary_key(segments)
        prefix = "/".join(segments[:start])
        stem = f"{parts.scheme.lower()}://{parts.netloc}" + (
            f"/{prefix}" if prefix else ""
        )
        values: dict[str, str] = {}
        for ai, raw in zip(
            segments[start + 2 :: 2], segments[start + 3 :: 2], strict=True
        ):
            values[ai] = _dl_decode(raw, query=False)
        attributes: dict[str, str] = {}
        for param in parts.query.split("&"):
            name, sep, raw = param.partition("=")
            if not sep or _DIGITS.fullmatch(name) is None:
                continue  # singletons and non-GS1 parameters (linkType, …)
            if name in attributes or name in values or name == AI_GTIN:
                raise InvalidDigitalLinkError(
                    f"AI ({name}) appears twice", rule="duplicate-ai", ai=name
                )
            attributes[name] = _dl_decode(raw, query=True)
        return cls(
            gtin=_dl_decode(segments[start + 1], query=False),
            serial=values.get(AI_SERIAL),
            batch=values.get(AI_BATCH),
            variant=values.get(AI_CONSUMER_PRODUCT_VARIANT),
            attributes=tuple(attributes.items()),
            stem=stem,
        )

    def to_uri(self) -> str:
        """The URI: qualifiers in the standard's order, values percent-encoded."""
        path = f"/{AI_GTIN}/{self.gtin}"
        for ai, value in (
            (AI_CONSUMER_PRODUCT_VARIANT, self.variant),
            (AI_BATCH, self.batch),
            (AI_SERIAL, self.serial),
        ):
            if value is not None:
                path += f"/{ai}/{_dl_encode(value)}"
        query = "&".join(f"{ai}={_dl_encode(value)}" for ai, value in self.attributes)
        return self.stem + path + (f"?{query}" if query else "")


def _find_primary_key(segments: Sequence[str]) -> int:
    """Index of the ``01`` segment that starts the DL path (searched from the end)."""
    for start in range(len(segments) - 2, -1, -1):
        if segments[start] != AI_GTIN or (len(segments) - start) % 2:
            continue
        keys = list(segments[start + 2 :: 2])
        if all(key in _GTIN_QUALIFIERS for key in keys):
            order = [_GTIN_QUALIFIERS.index(key) for key in keys]
            if order != sorted(set(order)):
                raise InvalidDigitalLinkError(
                    "key qualifiers must follow AI (01) once each, in the order "
                    "22, 10, 21",
                    rule="qualifier-order",
                )
            return start
    raise InvalidDigitalLinkError(
        "no /01/{gtin} path with known key qualifiers (22, 10, 21)",
        rule="primary-key",
    )


def parse_digital_link(uri: str) -> DigitalLink:
    """Parse a GS1 Digital Link URI (see :meth:`DigitalLink.from_uri`).

    Raises:
        InvalidDigitalLinkError: as :meth:`DigitalLink.from_uri`.
    """
    return DigitalLink.from_uri(uri)


def build_digital_link(
    gtin: str,
    serial: str | None = None,
    *,
    batch: str | None = None,
    attributes: Mapping[str, str] | None = None,
    stem: str = GS1_RESOLVER,
) -> str:
    """The Digital Link URI of a GTIN, optionally with batch, serial and attributes.

    ``build_digital_link("09520123456788", "12345")`` is
    ``https://id.gs1.org/01/09520123456788/21/12345``.

    Raises:
        InvalidDigitalLinkError: a bad GTIN, a serial or batch that cannot be a GS1
            AI value, a bad attribute or stem.
    """
    return DigitalLink(
        gtin=gtin,
        serial=serial,
        batch=batch,
        attributes=tuple((attributes or {}).items()),
        stem=stem,
    ).to_uri()


# --- the registry's uniqueness key -------------------------------------------------


def _part(text: str) -> str:
    return quote(text, safe="")


def uniqueness_key(
    *,
    gtin: str | None = None,
    serial: str | None = None,
    brand_did: str | None = None,
    model: str | None = None,
    imei: str | None = None,
    vin: str | None = None,
) -> str:
    """The key under which the registry allows one current owner per item.

    In order of preference:

    - ``01/{gtin14}/21/{serial}``: GTIN-14 and normalised serial;
    - ``brand/{brand DID}/model/{model}/serial/{serial}``: items without a GTIN,
      by the brand's DID, normalised model and normalised serial;
    - ``imei/{imei}`` or ``vin/{vin}``: globally unique by their own standards.

    Components are percent-encoded, so no two different inputs share a key.

    Raises:
        ItemNotIdentifiableError: none of these combinations is given.
        InvalidGTINError, InvalidSerialError, InvalidIMEIError, InvalidVINError:
            a given component is invalid.
    """
    if serial is not None and gtin is not None:
        return f"01/{normalize_gtin(gtin)}/21/{_part(normalize_serial(serial))}"
    if serial is not None and brand_did is not None and model is not None:
        return (
            f"brand/{_part(brand_did)}/model/{_part(normalize_serial(model))}"
            f"/serial/{_part(normalize_serial(serial))}"
        )
    if imei is not None:
        return f"imei/{normalize_imei(imei)}"
    if vin is not None:
        return f"vin/{normalize_vin(vin)}"
    raise ItemNotIdentifiableError(
        "an item is identified by GTIN + serial, brand DID + model + serial, "
        "IMEI or VIN",
        rule="identifiable",
    )


def normalize_identifier(property_id: str, value: str) -> str:
    """The comparison form of a typed identifier's value.

    ``imei`` and ``vin`` get their standard form (and check digit); frame, case
    and movement numbers, and any other kind, get :func:`normalize_serial`.

    Raises:
        InvalidIMEIError, InvalidVINError: a bad IMEI or VIN.
        InvalidIdentifierError: nothing left of a free-form number.
    """
    if property_id == "imei":
        return normalize_imei(value)
    if property_id == "vin":
        return normalize_vin(value)
    try:
        return normalize_serial(value)
    except InvalidSerialError as exc:
        raise InvalidIdentifierError(
            f"{property_id} is empty after normalisation", rule="identifier-empty"
        ) from exc
