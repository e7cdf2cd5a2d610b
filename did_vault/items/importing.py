"""Read an inventory file into wallet item drafts, checking the whole file first.

Three sources: a **Homebox** CSV export (``HB.*`` headers, as written by Homebox's
``ExportCSVRow``; ``specs/schema.md`` has the crosswalk), a **generic CSV** with a
column mapping (a JSON object, :func:`load_mapping`), and a **did-vault JSON
inventory** (``specs/schemas/inventory-export.schema.json``). Every row becomes an
inventory entry (item, ownership, location, tags, …), checked against the standard
schema; the answer is an :class:`ImportReport` with the valid rows as
``did_vault.wallet.ItemDraft`` objects and every problem found, each with its row,
physical line, column, JSON pointer (into the row's entry), rule and code. Nothing
here writes: hand ``report.drafts()`` to ``Wallet.add_items`` once the report is
clean.

Bytes are decoded strictly (UTF-8 with or without a BOM, UTF-16 with a BOM, or the
encoding the caller names); a file that does not decode is reported, never guessed
at. Cells that were neutralised against formula injection (a ``'`` before ``= + - @``
tab or CR, see ``exporting.neutralize_cell``) are restored. Quoted newlines are
data; a record with fewer or more cells than the header is reported.
"""

import codecs
import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from pydantic import ValidationError

from did_vault.errors import (
    DidVaultError,
    ImportEncodingError,
    ImportHeaderError,
    ImportMappingError,
    ImportProblem,
    ImportRowError,
    InventoryImportError,
    SchemaViolation,
)
from did_vault.items.identifiers import normalize_gtin, normalize_imei, normalize_vin
from did_vault.items.model import (
    INVENTORY_FORMAT,
    INVENTORY_VERSION,
    Item,
    OwnershipInfo,
    ValuationBasis,
    format_date_time,
)
from did_vault.items.schema import SchemaName, check_document
from did_vault.wallet import PENDING_ITEM_DID, ItemDraft

FORMULA_TRIGGERS = "=+-@\t\r"
HOMEBOX_PREFIX = "HB."
HOMEBOX_FIELD_PREFIX = "HB.field."
# The custom field where an export keeps what no other column can say (JSON).
REMAINDER_COLUMN = "HB.field.did-vault"
MAPPING_FORMAT = "did-vault-csv-mapping"
DEFAULT_TAG_SEPARATOR = ";"
DEFAULT_VALUATION_BASIS = ValuationBasis.OWNER_ESTIMATE
# Date spellings Homebox reads (types.DateFromString), tried after the mapping's own.
HOMEBOX_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d")
_VALIDATION_EXPORTED_AT = "1970-01-01T00:00:00Z"
_ENTRY_MEMBERS = frozenset(
    {"item", "ownership", "importRef", "location", "tags", "quantity", "notes", "extra"}
)
_TRUE = frozenset({"1", "t", "true"})
_FALSE = frozenset({"0", "f", "false"})
_POSITIVE_INT = re.compile(r"[1-9][0-9]{0,8}")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")

Source = Literal["homebox", "csv", "inventory-json"]


# --- formula injection -------------------------------------------------------------


def needs_neutralizing(text: str) -> bool:
    """True if a spreadsheet would read ``text`` as a formula, or if it already
    looks neutralised (quotes before a trigger), so that every value round-trips."""
    rest = text.lstrip("'")
    return rest != "" and rest[0] in FORMULA_TRIGGERS


def neutralize_cell(text: str) -> str:
    """``text`` with a ``'`` in front when a spreadsheet would evaluate it
    (OWASP CSV injection, CWE-1236); :func:`restore_cell` undoes it."""
    return "'" + text if needs_neutralizing(text) else text


def restore_cell(text: str) -> str:
    """Undo :func:`neutralize_cell` (``restore_cell(neutralize_cell(s)) == s``)."""
    if len(text) > 1 and text[0] == "'" and needs_neutralizing(text[1:]):
        return text[1:]
    return text


# --- the fields a column can fill --------------------------------------------------


class Target(StrEnum):
    """What a CSV column fills (the values of a mapping file's ``columns``)."""

    NAME = "name"
    DESCRIPTION = "description"
    SERIAL_NUMBER = "serialNumber"
    GTIN = "gtin"
    DIGITAL_LINK = "digitalLink"
    BRAND = "brand"
    BRAND_DID = "brandDid"
    MANUFACTURER = "manufacturer"
    MODEL = "model"
    MPN = "mpn"
    SKU = "sku"
    CATEGORY = "category"
    COLOR = "color"
    PRODUCTION_DATE = "productionDate"
    IMEI = "imei"
    VIN = "vin"
    FRAME_NUMBER = "frameNumber"
    CASE_NUMBER = "caseNumber"
    MOVEMENT_NUMBER = "movementNumber"
    WARRANTY_EXPIRES = "warrantyExpires"
    LIFETIME_WARRANTY = "lifetimeWarranty"
    WARRANTY_DETAILS = "warrantyDetails"
    PURCHASE_DATE = "purchaseDate"
    PURCHASE_PRICE = "purchasePrice"
    CURRENCY = "currency"
    PURCHASE_FROM = "purchaseFrom"
    SOLD_DATE = "soldDate"
    VALUATION = "valuation"
    VALUATION_BASIS = "valuationBasis"
    VALUATION_DATE = "valuationDate"
    IMPORT_REF = "importRef"
    LOCATION = "location"
    TAGS = "tags"
    QUANTITY = "quantity"
    NOTES = "notes"
    EXTRA = "extra"  # kept under the column's header in the entry's ``extra``
    IGNORE = "ignore"
    REMAINDER = "remainder"  # the JSON an export could not put in other columns


# Where each target lands in the entry (for pointing a violation at its column).
_POINTERS: Mapping[Target, tuple[str, ...]] = MappingProxyType(
    {
        Target.NAME: ("/item/name",),
        Target.DESCRIPTION: ("/item/description",),
        Target.SERIAL_NUMBER: ("/item/serialNumber",),
        Target.GTIN: ("/item/gtin",),
        Target.DIGITAL_LINK: ("/item/digitalLink",),
        Target.BRAND: ("/item/brand",),
        Target.BRAND_DID: ("/item/brand/id",),
        Target.MANUFACTURER: ("/item/manufacturer",),
        Target.MODEL: ("/item/model",),
        Target.MPN: ("/item/mpn",),
        Target.SKU: ("/item/sku",),
        Target.CATEGORY: ("/item/category",),
        Target.COLOR: ("/item/color",),
        Target.PRODUCTION_DATE: ("/item/productionDate",),
        Target.WARRANTY_EXPIRES: ("/item/warranty/warrantyExpires",),
        Target.LIFETIME_WARRANTY: ("/item/warranty/lifetime",),
        Target.WARRANTY_DETAILS: ("/item/warranty/description",),
        Target.PURCHASE_DATE: ("/ownership/acquisition/purchaseDate",),
        Target.PURCHASE_PRICE: ("/ownership/acquisition/price",),
        Target.CURRENCY: (
            "/ownership/acquisition/price/currency",
            "/ownership/valuation/currency",
        ),
        Target.PURCHASE_FROM: (
            "/ownership/acquisition/seller",
            "/ownership/acquiredFrom",
        ),
        Target.SOLD_DATE: ("/ownership/ownedThrough",),
        Target.VALUATION: ("/ownership/valuation",),
        Target.VALUATION_BASIS: ("/ownership/valuation/basis",),
        Target.VALUATION_DATE: ("/ownership/valuation/asOf",),
        Target.IMPORT_REF: ("/importRef",),
        Target.LOCATION: ("/location",),
        Target.TAGS: ("/tags",),
        Target.QUANTITY: ("/quantity",),
        Target.NOTES: ("/notes",),
    }
)

_IDENTIFIER_TARGETS: tuple[tuple[Target, str], ...] = (
    (Target.IMEI, "imei"),
    (Target.VIN, "vin"),
    (Target.FRAME_NUMBER, "frameNumber"),
    (Target.CASE_NUMBER, "caseNumber"),
    (Target.MOVEMENT_NUMBER, "movementNumber"),
)

# Homebox's own columns (ExportCSVRow, with the older names it still reads).
HOMEBOX_COLUMNS: Mapping[str, Target] = MappingProxyType(
    {
        "HB.purchase_date": Target.PURCHASE_DATE,
        "HB.purchase_time": Target.PURCHASE_DATE,
        "HB.warranty_expires": Target.WARRANTY_EXPIRES,
        "HB.sold_date": Target.SOLD_DATE,
        "HB.sold_time": Target.SOLD_DATE,
        "HB.import_ref": Target.IMPORT_REF,
        "HB.name": Target.NAME,
        "HB.description": Target.DESCRIPTION,
        "HB.notes": Target.NOTES,
        "HB.purchase_from": Target.PURCHASE_FROM,
        "HB.manufacturer": Target.MANUFACTURER,
        "HB.model_number": Target.MODEL,
        "HB.serial_number": Target.SERIAL_NUMBER,
        "HB.warranty_details": Target.WARRANTY_DETAILS,
        "HB.location": Target.LOCATION,
        "HB.tags": Target.TAGS,
        "HB.labels": Target.TAGS,
        "HB.quantity": Target.QUANTITY,
        "HB.purchase_price": Target.PURCHASE_PRICE,
        "HB.lifetime_warranty": Target.LIFETIME_WARRANTY,
    }
)

# Homebox custom fields (HB.field.<name>) read as schema fields, by their name
# lower-cased without spaces or punctuation; the first name is the one exported.
CUSTOM_FIELD_NAMES: Mapping[Target, tuple[str, ...]] = MappingProxyType(
    {
        Target.GTIN: ("GTIN", "EAN", "UPC"),
        Target.BRAND: ("Brand",),
        Target.BRAND_DID: ("Brand DID",),
        Target.CATEGORY: ("Category",),
        Target.COLOR: ("Color", "Colour"),
        Target.MPN: ("MPN",),
        Target.SKU: ("SKU",),
        Target.IMEI: ("IMEI",),
        Target.VIN: ("VIN",),
        Target.FRAME_NUMBER: ("Frame number",),
        Target.CASE_NUMBER: ("Case number",),
        Target.MOVEMENT_NUMBER: ("Movement number",),
        Target.PRODUCTION_DATE: ("Production date",),
        Target.DIGITAL_LINK: ("Digital link",),
        Target.CURRENCY: ("Currency",),
        Target.VALUATION: ("Valuation",),
        Target.VALUATION_BASIS: ("Valuation basis",),
        Target.VALUATION_DATE: ("Valuation date",),
    }
)


def _squash(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


_CUSTOM_FIELD_TARGETS: Mapping[str, Target] = MappingProxyType(
    {_squash(n): t for t, names in CUSTOM_FIELD_NAMES.items() for n in names}
)
_GENERIC_TARGETS: Mapping[str, Target] = MappingProxyType(
    {
        _squash(t.value): t
        for t in Target
        if t not in (Target.EXTRA, Target.IGNORE, Target.REMAINDER)
    }
)


# --- mapping files -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CSVMapping:
    """How the columns of a generic CSV fill an inventory entry.

    The JSON form (:func:`load_mapping`)::

        {"format": "did-vault-csv-mapping", "version": 1,
         "columns": {"Item": "name", "Serial no.": "serialNumber", …},
         "currency": "EUR", "dateFormats": ["%d.%m.%Y"], "tagSeparator": ";",
         "unmapped": "extra"}

    ``columns`` maps headers to :class:`Target` values; columns it does not name go
    to ``extra`` (or are ignored with ``"unmapped": "ignore"``). ``dateFormats``
    are ``strptime`` formats tried before ISO 8601 and Homebox's spellings.
    """

    columns: Mapping[str, Target]
    currency: str | None = None
    date_formats: tuple[str, ...] = ()
    tag_separator: str = DEFAULT_TAG_SEPARATOR
    unmapped: Literal["extra", "ignore"] = "extra"


_MAPPING_KEYS = frozenset(
    {"format", "version", "columns", "currency", "dateFormats", "tagSeparator"}
    | {"unmapped"}
)


def _mapping_error(detail: str, pointer: str) -> ImportMappingError:
    problem = ImportProblem(
        row=None,
        line=None,
        column=None,
        pointer=pointer,
        rule="mapping",
        code=ImportMappingError.code,
        message=detail,
    )
    return ImportMappingError(detail, problems=[problem], pointer=pointer)


def load_mapping(source: bytes | str | Mapping[str, Any]) -> CSVMapping:
    """A column mapping from its JSON text (or parsed object).

    Raises:
        ImportMappingError: not JSON, not an object of the documented shape, or a
            column mapped to an unknown target.
    """
    if isinstance(source, Mapping):
        document: Any = dict(source)
    else:
        try:
            document = json.loads(source)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _mapping_error("the mapping is not JSON", "") from exc
    if not isinstance(document, dict):
        raise _mapping_error("the mapping is a JSON object", "")
    unknown = sorted(set(document) - _MAPPING_KEYS)
    if unknown:
        raise _mapping_error(f"unknown member {unknown[0]!r}", f"/{unknown[0]}")
    if document.get("format", MAPPING_FORMAT) != MAPPING_FORMAT:
        raise _mapping_error(f"format must be {MAPPING_FORMAT!r}", "/format")
    if document.get("version", 1) != 1:
        raise _mapping_error("this version reads mapping version 1", "/version")
    columns = document.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise _mapping_error("columns is a non-empty object", "/columns")
    targets: dict[str, Target] = {}
    for header, target in columns.items():
        escaped = header.replace("~", "~0").replace("/", "~1")
        try:
            targets[header.strip()] = Target(target)
        except ValueError as exc:
            raise _mapping_error(
                f"column {header!r} maps to an unknown field {target!r}",
                f"/columns/{escaped}",
            ) from exc
    currency = document.get("currency")
    if currency is not None and (
        not isinstance(currency, str) or re.fullmatch(r"[A-Z]{3}", currency) is None
    ):
        raise _mapping_error("currency is an ISO 4217 code", "/currency")
    formats = document.get("dateFormats", [])
    if not isinstance(formats, list) or not all(
        isinstance(f, str) and f for f in formats
    ):
        raise _mapping_error("dateFormats is an array of strings", "/dateFormats")
    separator = document.get("tagSeparator", DEFAULT_TAG_SEPARATOR)
    if not isinstance(separator, str) or not separator:
        raise _mapping_error("tagSeparator is a non-empty string", "/tagSeparator")
    unmapped = document.get("unmapped", "extra")
    if unmapped not in ("extra", "ignore"):
        raise _mapping_error('unmapped is "extra" or "ignore"', "/unmapped")
    return CSVMapping(
        columns=MappingProxyType(targets),
        currency=currency,
        date_formats=tuple(formats),
        tag_separator=separator,
        unmapped=unmapped,
    )


# --- the report --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportedRow:
    """A valid row: where it was, and the draft to hand to ``Wallet.add_items``."""

    row: int
    line: int | None
    draft: ItemDraft
    key: str


_ERROR_BY_CODE: Mapping[str, type[InventoryImportError]] = MappingProxyType(
    {
        cls.code: cls
        for cls in (
            ImportEncodingError,
            ImportHeaderError,
            ImportRowError,
            ImportMappingError,
        )
    }
)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What reading a file found: the valid rows and every problem."""

    source: Source
    columns: tuple[str, ...]
    records: int  # data records read (blank lines not counted)
    rows: tuple[ImportedRow, ...]
    problems: tuple[ImportProblem, ...] = field(default=())

    @property
    def is_valid(self) -> bool:
        return not self.problems

    def drafts(self) -> list[ItemDraft]:
        """The drafts of the valid rows, in file order."""
        return [row.draft for row in self.rows]

    def raise_for_problems(self) -> None:
        """Return quietly if the file is clean.

        Raises:
            InventoryImportError: or the subclass of the first problem's code
                (``ImportEncodingError``, ``ImportHeaderError``, …); ``problems``
                holds all of them.
        """
        if not self.problems:
            return
        first = self.problems[0]
        cls = _ERROR_BY_CODE.get(first.code, InventoryImportError)
        where = f"row {first.row}" if first.row is not None else "the file"
        raise cls(
            f"{len(self.problems)} problem(s); the first, at {where}: {first.message}",
            problems=self.problems,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary with every problem."""
        return {
            "source": self.source,
            "records": self.records,
            "valid_rows": len(self.rows),
            "problems": [p.to_dict() for p in self.problems],
        }


def _problem(
    *,
    row: int | None,
    line: int | None,
    rule: str,
    code: str,
    message: str,
    column: str | None = None,
    pointer: str = "",
) -> ImportProblem:
    return ImportProblem(
        row=row,
        line=line,
        column=column,
        pointer=pointer,
        rule=rule,
        code=code,
        message=message[:300],
    )


# --- building an entry from cells --------------------------------------------------


@dataclass(slots=True)
class _Cells:
    """One row's cells sorted by target: scalar targets (first non-empty wins),
    the extra columns and the remainder."""

    values: dict[Target, tuple[str, str]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    remainder: tuple[str, str] | None = None

    def get(self, target: Target) -> str | None:
        found = self.values.get(target)
        return found[1] if found else None


def _date(text: str, formats: Sequence[str]) -> str:
    """The ISO full-date of ``text`` in one of the formats, else ``text`` as is
    (the schema then reports it)."""
    for spelling in (*formats, *HOMEBOX_DATE_FORMATS):
        try:
            return datetime.strptime(text, spelling).date().isoformat()
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return moment.date().isoformat()


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) is not None


def _try(normalize: Any, value: str) -> str:
    try:
        result: str = normalize(value)
    except DidVaultError:
        return value
    return result


@dataclass(frozen=True, slots=True)
class _Options:
    currency: str | None
    date_formats: tuple[str, ...]
    tag_separator: str
    now_text: str


def _build_item(cells: _Cells, options: _Options) -> dict[str, Any]:
    value = cells.get
    item: dict[str, Any] = {"id": PENDING_ITEM_DID, "type": "IndividualProduct"}
    item["name"] = value(Target.NAME) or ""
    simple = (
        ("description", Target.DESCRIPTION),
        ("digitalLink", Target.DIGITAL_LINK),
        ("serialNumber", Target.SERIAL_NUMBER),
        ("model", Target.MODEL),
        ("mpn", Target.MPN),
        ("sku", Target.SKU),
        ("category", Target.CATEGORY),
        ("color", Target.COLOR),
    )
    for name, target in simple:
        if value(target):
            item[name] = value(target)
    gtin = value(Target.GTIN)
    if gtin:
        item["gtin"] = _try(normalize_gtin, gtin)
    identifiers = []
    for target, kind in _IDENTIFIER_TARGETS:
        text = value(target)
        if not text:
            continue
        if target is Target.IMEI:
            text = _try(normalize_imei, text)
        elif target is Target.VIN:
            text = _try(normalize_vin, text)
        identifiers.append({"propertyID": kind, "value": text})
    if identifiers:
        item["identifier"] = identifiers
    brand: dict[str, Any] = {}
    if value(Target.BRAND_DID):
        brand["id"] = value(Target.BRAND_DID)
    if value(Target.BRAND):
        brand["name"] = value(Target.BRAND)
    if brand:
        item["brand"] = {"type": "Brand", **brand}
    if value(Target.MANUFACTURER):
        item["manufacturer"] = {"name": value(Target.MANUFACTURER)}
    produced = value(Target.PRODUCTION_DATE)
    if produced:
        item["productionDate"] = _date(produced, options.date_formats)
    warranty: dict[str, Any] = {}
    expires = value(Target.WARRANTY_EXPIRES)
    if expires:
        warranty["warrantyExpires"] = _date(expires, options.date_formats)
    lifetime = value(Target.LIFETIME_WARRANTY)
    if lifetime:
        if lifetime.lower() in _TRUE:
            warranty["lifetime"] = True
        elif lifetime.lower() not in _FALSE:
            warranty["lifetime"] = lifetime  # not a boolean: the schema says so
    if value(Target.WARRANTY_DETAILS):
        warranty["description"] = value(Target.WARRANTY_DETAILS)
    if warranty:
        item["warranty"] = warranty
    return item


def _build_ownership(cells: _Cells, options: _Options) -> dict[str, Any] | None:
    value = cells.get
    currency = value(Target.CURRENCY) or options.currency
    acquisition: dict[str, Any] = {}
    purchased = value(Target.PURCHASE_DATE)
    if purchased:
        purchased = _date(purchased, options.date_formats)
        acquisition["purchaseDate"] = purchased
    price = value(Target.PURCHASE_PRICE)
    if price and not (_NUMBER.fullmatch(price) and float(price) == 0):
        # Homebox writes 0 for "no price"
        acquisition["price"] = {"amount": price}
        if currency:
            acquisition["price"]["currency"] = currency
    seller = value(Target.PURCHASE_FROM)
    if seller:
        acquisition["seller"] = {"name": seller}
    ownership: dict[str, Any] = {
        "type": "OwnershipInfo",
        "typeOfGood": PENDING_ITEM_DID,
    }
    if purchased and _is_date(purchased):
        ownership["ownedFrom"] = f"{purchased}T00:00:00Z"
    else:
        ownership["ownedFrom"] = options.now_text
    sold = value(Target.SOLD_DATE)
    if sold:
        sold = _date(sold, options.date_formats)
        ownership["ownedThrough"] = f"{sold}T00:00:00Z" if _is_date(sold) else sold
    if seller:
        ownership["acquiredFrom"] = {"name": seller}
    if acquisition:
        ownership["acquisition"] = acquisition
    amount = value(Target.VALUATION)
    if amount:
        as_of = value(Target.VALUATION_DATE)
        valuation: dict[str, Any] = {
            "amount": amount,
            "basis": value(Target.VALUATION_BASIS) or DEFAULT_VALUATION_BASIS.value,
            "asOf": _date(as_of, options.date_formats)
            if as_of
            else options.now_text[:10],
        }
        if currency:
            valuation["currency"] = currency
        ownership["valuation"] = valuation
    if len(ownership) == 3:  # type, typeOfGood, ownedFrom: nothing was said
        return None
    return ownership


def _build_entry(cells: _Cells, options: _Options) -> dict[str, Any]:
    """The inventory entry a row describes (item id a placeholder; no credentials)."""
    value = cells.get
    entry: dict[str, Any] = {
        "id": PENDING_ITEM_DID,
        "item": _build_item(cells, options),
        "credentials": [],
        "registryStatus": "unregistered",
    }
    ownership = _build_ownership(cells, options)
    if ownership is not None:
        entry["ownership"] = ownership
    for name, target in (
        ("importRef", Target.IMPORT_REF),
        ("location", Target.LOCATION),
        ("notes", Target.NOTES),
    ):
        if value(target):
            entry[name] = value(target)
    tags = value(Target.TAGS)
    if tags:
        split = [t.strip() for t in tags.split(options.tag_separator) if t.strip()]
        if split:
            entry["tags"] = split
    extra = dict(cells.extra)
    quantity = value(Target.QUANTITY)
    if quantity:
        if _POSITIVE_INT.fullmatch(quantity):
            entry["quantity"] = int(quantity)
        elif _NUMBER.fullmatch(quantity) and "HB.quantity" not in extra:
            # 0 or a fraction: no schema quantity, but kept for the round trip
            extra["HB.quantity"] = quantity
        else:
            entry["quantity"] = quantity  # the schema reports it
    if extra:
        entry["extra"] = extra
    return entry


def _merge_remainder(entry: dict[str, Any], remainder: Mapping[str, Any]) -> None:
    for name, value in remainder.items():
        if name in ("item", "ownership") and isinstance(value, dict):
            base = entry.get(name)
            if not isinstance(base, dict):
                base = {"type": "OwnershipInfo", "typeOfGood": PENDING_ITEM_DID}
            for key, part in value.items():
                if part is None:
                    base.pop(key, None)
                else:
                    base[key] = part
            entry[name] = base
        elif value is None:
            entry.pop(name, None)
        else:
            entry[name] = value


def _check_remainder(text: str) -> dict[str, Any] | str:
    """The remainder's JSON object, or why it is not one."""
    try:
        document = json.loads(text)
    except ValueError:
        return "the did-vault cell is not JSON"
    if not isinstance(document, dict) or not set(document) <= _ENTRY_MEMBERS:
        return "the did-vault cell is not an object of entry members"
    for name in ("item", "ownership"):
        part = document.get(name)
        if part is not None and not isinstance(part, dict):
            return f"the did-vault cell's {name} is not an object"
        if isinstance(part, dict) and ({"id", "typeOfGood"} & set(part)):
            return "the did-vault cell may not set the item's DID"
    return document


def build_entry(
    cells: Mapping[str, str],
    *,
    columns: Mapping[str, Target] | None = None,
    currency: str | None = None,
    now_text: str,
) -> dict[str, Any]:
    """The inventory entry (JSON, item DID a placeholder) of one row of cells
    keyed by header, read as Homebox (or with ``columns``). Used by the exporter to
    see what a row it writes will read back as.

    Raises:
        ValueError: a remainder cell that is not an object of entry members.
    """
    sorted_cells = _sort_cells(
        list(cells), list(cells.values()), _column_targets(list(cells), columns)
    )
    entry = _build_entry(
        sorted_cells,
        _Options(
            currency=currency,
            date_formats=(),
            tag_separator=DEFAULT_TAG_SEPARATOR,
            now_text=now_text,
        ),
    )
    if sorted_cells.remainder is not None:
        remainder = _check_remainder(sorted_cells.remainder[1])
        if isinstance(remainder, str):
            raise ValueError(remainder)
        _merge_remainder(entry, remainder)
    return entry


# --- columns -----------------------------------------------------------------------


def _homebox_target(header: str) -> Target:
    if header in HOMEBOX_COLUMNS:
        return HOMEBOX_COLUMNS[header]
    if header == REMAINDER_COLUMN:
        return Target.REMAINDER
    if header.startswith(HOMEBOX_FIELD_PREFIX):
        name = _squash(header.removeprefix(HOMEBOX_FIELD_PREFIX))
        return _CUSTOM_FIELD_TARGETS.get(name, Target.EXTRA)
    return Target.EXTRA


def _column_targets(
    headers: Sequence[str],
    columns: Mapping[str, Target] | None,
    *,
    unmapped: Literal["extra", "ignore"] = "extra",
) -> list[Target]:
    if columns is not None:
        return [
            columns.get(h, Target.EXTRA if unmapped == "extra" else Target.IGNORE)
            for h in headers
        ]
    if any(h.startswith(HOMEBOX_PREFIX) for h in headers):
        return [_homebox_target(h) for h in headers]
    return [_GENERIC_TARGETS.get(_squash(h), Target.EXTRA) for h in headers]


def _sort_cells(
    headers: Sequence[str], cells: Sequence[str], targets: Sequence[Target]
) -> _Cells:
    sorted_cells = _Cells()
    for header, raw, target in zip(headers, cells, targets, strict=True):
        text = restore_cell(raw)
        if target is Target.IGNORE:
            continue
        if target is Target.REMAINDER:
            if text.strip():
                sorted_cells.remainder = (header, text)
            continue
        if target is Target.EXTRA:
            if text != "":
                sorted_cells.extra[header] = text
            continue
        text = text.strip()
        if text and target not in sorted_cells.values:
            sorted_cells.values[target] = (header, text)
    return sorted_cells


# --- checking an entry -------------------------------------------------------------


def _under(pointer: str, prefix: str) -> bool:
    return pointer == prefix or pointer.startswith(prefix + "/")


def _column_for(pointer: str, cells: _Cells) -> str | None:
    """The column to blame for a violation at ``pointer`` (longest match)."""
    best: tuple[int, str] | None = None
    for target, (header, _) in cells.values.items():
        for prefix in _POINTERS.get(target, ()):
            if _under(pointer, prefix) or _under(prefix, pointer):
                score = len(prefix) if _under(pointer, prefix) else len(pointer)
                if best is None or score > best[0]:
                    best = (score, header)
    if best is None and pointer.startswith("/item/identifier"):
        for target, _ in _IDENTIFIER_TARGETS:
            if target in cells.values:
                return cells.values[target][0]
    if best is None and pointer.startswith("/extra/"):
        name = pointer.removeprefix("/extra/").replace("~1", "/").replace("~0", "~")
        return name.split("/")[0] if name.split("/")[0] in cells.extra else None
    if best is None and cells.remainder is not None:
        return cells.remainder[0]
    return best[1] if best else None


def _check_entry(entry: dict[str, Any]) -> tuple[SchemaViolation, ...]:
    export = {
        "format": INVENTORY_FORMAT,
        "version": INVENTORY_VERSION,
        "exportedAt": _VALIDATION_EXPORTED_AT,
        "owner": PENDING_ITEM_DID,
        "items": [entry],
    }
    violations = check_document(export, SchemaName.INVENTORY_EXPORT)
    return tuple(
        SchemaViolation(
            pointer=v.pointer.removeprefix("/items/0"),
            rule=v.rule,
            code=v.code,
            message=v.message,
        )
        for v in violations
    )


def _draft(entry: Mapping[str, Any]) -> ItemDraft:
    """The draft of a checked entry.

    Raises:
        pydantic.ValidationError: the models refuse it (they follow the schema, so
            only if the two drift apart).
    """
    ownership = entry.get("ownership")
    return ItemDraft(
        item=Item.from_json(entry["item"]),
        ownership=OwnershipInfo.from_json(ownership) if ownership else None,
        import_ref=entry.get("importRef"),
        location=entry.get("location"),
        tags=tuple(entry.get("tags", ())),
        quantity=entry.get("quantity"),
        notes=entry.get("notes"),
        extra=MappingProxyType(dict(entry.get("extra", {}))),
    )


class _Collector:
    """Gathers valid rows and problems, and refuses repeated import keys."""

    def __init__(self) -> None:
        self.rows: list[ImportedRow] = []
        self.problems: list[ImportProblem] = []
        self._keys: dict[str, int] = {}

    def add(
        self,
        entry: dict[str, Any],
        *,
        row: int,
        line: int | None,
        blame: Any = None,
    ) -> None:
        violations = _check_entry(entry)
        for v in violations:
            self.problems.append(
                _problem(
                    row=row,
                    line=line,
                    column=blame(v.pointer) if blame else None,
                    pointer=v.pointer,
                    rule=v.rule,
                    code=v.code,
                    message=v.message,
                )
            )
        if violations:
            return
        try:
            draft = _draft(entry)
        except ValidationError as exc:
            self.problems.append(
                _problem(
                    row=row,
                    line=line,
                    rule="model",
                    code="item.schema-invalid",
                    message=str(exc.errors()[0].get("msg", "invalid")),
                )
            )
            return
        key = draft.key()
        if key in self._keys:
            self.problems.append(
                _problem(
                    row=row,
                    line=line,
                    rule="duplicate-key",
                    code=ImportRowError.code,
                    message=f"the same item as row {self._keys[key]} "
                    "(same import reference, identifiers or content)",
                )
            )
            return
        self._keys[key] = row
        self.rows.append(ImportedRow(row=row, line=line, draft=draft, key=key))


# --- decoding ----------------------------------------------------------------------


def _decode(data: bytes, encoding: str | None) -> tuple[str, ImportProblem | None]:
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    encoding = encoding or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        return "", _problem(
            row=None,
            line=None,
            rule="encoding",
            code=ImportEncodingError.code,
            message=f"unknown encoding {encoding[:40]!r}",
        )
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return "", _problem(
            row=None,
            line=line,
            rule="encoding",
            code=ImportEncodingError.code,
            message=f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not "
            f"valid {encoding}; save the file as UTF-8 or name its encoding",
        )


# --- CSV ---------------------------------------------------------------------------


def _header_problem(message: str, *, column: str | None = None) -> ImportProblem:
    return _problem(
        row=1,
        line=1,
        column=column,
        rule="header",
        code=ImportHeaderError.code,
        message=message,
    )


def _check_header(
    headers: list[str], mapping: CSVMapping | None, targets: list[Target]
) -> list[ImportProblem]:
    problems = []
    seen: set[str] = set()
    for header in headers:
        if not header:
            problems.append(_header_problem("a column has no name"))
        elif header in seen:
            problems.append(_header_problem("a repeated column name", column=header))
        seen.add(header)
    if mapping is not None:
        for header in mapping.columns:
            if header not in seen:
                problems.append(
                    _header_problem("the mapping names a missing column", column=header)
                )
    if Target.NAME not in targets and not any(t is Target.REMAINDER for t in targets):
        problems.append(_header_problem("no column holds the item's name"))
    return problems


def read_csv(
    data: bytes,
    *,
    mapping: CSVMapping | None = None,
    currency: str | None = None,
    encoding: str | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Read and check a whole CSV file: Homebox (``HB.*`` headers), or generic
    with ``mapping`` (without one, headers named like :class:`Target` values are
    recognised and the rest kept in ``extra``).

    ``currency`` (ISO 4217) is for prices and valuations when neither the file nor
    the mapping names one. ``now`` is the ownership start of rows without a
    purchase date, and the valuation date when none is given. Never raises for
    the file's content: every problem is in the report.
    """
    moment = datetime.now(UTC) if now is None else now
    options = _Options(
        currency=currency or (mapping.currency if mapping else None),
        date_formats=mapping.date_formats if mapping else (),
        tag_separator=mapping.tag_separator if mapping else DEFAULT_TAG_SEPARATOR,
        now_text=format_date_time(moment.replace(microsecond=0)),
    )
    text, problem = _decode(data, encoding)
    if problem is not None:
        return ImportReport(
            source="csv", columns=(), records=0, rows=(), problems=(problem,)
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    collector = _Collector()
    try:
        header = next(reader, None)
    except csv.Error as exc:
        header, problem = None, _header_problem(f"the header is not CSV: {exc}")
    if header is None or not any(h.strip() for h in header):
        return ImportReport(
            source="csv",
            columns=(),
            records=0,
            rows=(),
            problems=(problem or _header_problem("no header row"),),
        )
    headers = [restore_cell(h).strip() for h in header]
    columns = mapping.columns if mapping else None
    targets = _column_targets(
        headers, columns, unmapped=mapping.unmapped if mapping else "extra"
    )
    source: Source = (
        "homebox"
        if mapping is None and any(h.startswith(HOMEBOX_PREFIX) for h in headers)
        else "csv"
    )
    header_problems = _check_header(headers, mapping, targets)
    if header_problems:
        return ImportReport(
            source=source,
            columns=tuple(headers),
            records=0,
            rows=(),
            problems=tuple(header_problems),
        )
    row, records, line = 1, 0, reader.line_num + 1
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            collector.problems.append(
                _problem(
                    row=row + 1,
                    line=line,
                    rule="csv-syntax",
                    code=ImportRowError.code,
                    message=f"not CSV from here on: {exc}",
                )
            )
            records += 1
            break
        if cells is None:
            break
        row += 1
        start, line = line, reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line
        records += 1
        if len(cells) != len(headers):
            collector.problems.append(
                _problem(
                    row=row,
                    line=start,
                    rule="row-length",
                    code=ImportRowError.code,
                    message=f"{len(cells)} cells where the header has {len(headers)}",
                )
            )
            continue
        sorted_cells = _sort_cells(headers, cells, targets)
        entry = _build_entry(sorted_cells, options)
        if sorted_cells.remainder is not None:
            remainder = _check_remainder(sorted_cells.remainder[1])
            if isinstance(remainder, str):
                collector.problems.append(
                    _problem(
                        row=row,
                        line=start,
                        column=sorted_cells.remainder[0],
                        rule="remainder",
                        code=ImportRowError.code,
                        message=remainder,
                    )
                )
                continue
            _merge_remainder(entry, remainder)

        def blame(pointer: str, cells: _Cells = sorted_cells) -> str | None:
            return _column_for(pointer, cells)

        collector.add(entry, row=row, line=start, blame=blame)
    return ImportReport(
        source=source,
        columns=tuple(headers),
        records=records,
        rows=tuple(collector.rows),
        problems=tuple(collector.problems),
    )


# --- JSON inventory ----------------------------------------------------------------


def read_inventory_json(data: bytes, *, encoding: str | None = None) -> ImportReport:
    """Read and check a did-vault JSON inventory export. Items keep everything but
    their DIDs, registry status and credentials: the importing wallet mints new
    DIDs and issues its own ItemIdentityCredentials. ``row`` in a problem is the
    entry's position (1-based). Never raises for the file's content."""
    text, problem = _decode(data, encoding)
    if problem is not None:
        return ImportReport(
            source="inventory-json", columns=(), records=0, rows=(), problems=(problem,)
        )
    try:
        document = json.loads(text)
    except ValueError as exc:
        return ImportReport(
            source="inventory-json",
            columns=(),
            records=0,
            rows=(),
            problems=(
                _problem(
                    row=None,
                    line=getattr(exc, "lineno", None),
                    rule="json",
                    code=InventoryImportError.code,
                    message=f"not JSON: {exc}",
                ),
            ),
        )
    collector = _Collector()
    violations = check_document(document, SchemaName.INVENTORY_EXPORT)
    entries = document.get("items") if isinstance(document, dict) else None
    records = len(entries) if isinstance(entries, list) else 0
    if violations:
        for v in violations:
            match = re.match(r"^/items/([0-9]+)(/.*)?$", v.pointer)
            collector.problems.append(
                _problem(
                    row=int(match.group(1)) + 1 if match else None,
                    line=None,
                    pointer=(match.group(2) or "") if match else v.pointer,
                    rule=v.rule,
                    code=v.code,
                    message=v.message,
                )
            )
        return ImportReport(
            source="inventory-json",
            columns=(),
            records=records,
            rows=(),
            problems=tuple(collector.problems),
        )
    assert isinstance(entries, list)  # the schema said so
    for index, raw in enumerate(entries):
        entry = {k: v for k, v in raw.items() if k not in ("credentials",)}
        entry["id"] = PENDING_ITEM_DID
        entry["item"] = {**raw["item"], "id": PENDING_ITEM_DID}
        entry["credentials"] = []
        entry["registryStatus"] = "unregistered"
        if "ownership" in raw:
            entry["ownership"] = {**raw["ownership"], "typeOfGood": PENDING_ITEM_DID}
        collector.add(entry, row=index + 1, line=None)
    return ImportReport(
        source="inventory-json",
        columns=(),
        records=records,
        rows=tuple(collector.rows),
        problems=tuple(collector.problems),
    )


def read_inventory(
    data: bytes,
    *,
    mapping: CSVMapping | None = None,
    currency: str | None = None,
    encoding: str | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Read a JSON inventory export (text starting with ``{``) or a CSV file
    (see :func:`read_csv`). Never raises for the file's content."""
    head = data.lstrip(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"{") and mapping is None:
        return read_inventory_json(data, encoding=encoding)
    return read_csv(
        data, mapping=mapping, currency=currency, encoding=encoding, now=now
    )
