"""Write an owner's inventory out: JSON, Homebox-compatible CSV, and a PDF for insurers.

All three take an ``InventoryExport`` (``Wallet.export_inventory``) and return bytes.

- **JSON** follows ``specs/schemas/inventory-export.schema.json`` (versioned; each
  item with its credentials exactly as held).
- **CSV** has Homebox's export columns in Homebox's order (``ExportCSVRow``), then
  one ``HB.field.<name>`` custom field per further schema field in use (``GTIN``,
  ``Brand``, ``IMEI``, …, see ``importing.CUSTOM_FIELD_NAMES``) and per extra
  column kept from an earlier import, and last ``HB.field.did-vault``: compact JSON
  of whatever the other columns cannot say exactly (brand DIDs, images, evidence,
  registry receipts, …), so that exporting and importing again loses nothing. Text
  cells that a spreadsheet would run as a formula get a leading ``'`` (OWASP CSV
  injection); the importer removes it.
- **PDF** lists, per item: name, brand, model, *masked* serial and identifiers,
  purchase date and price, valuation with basis and date, evidence digests and
  registry status. It embeds DejaVu Sans (bundled in ``did_vault/items/fonts``,
  Bitstream Vera license), so Latin, Greek and Cyrillic text prints as written; a
  character the font lacks (e.g. CJK) prints as ``?``. Full serials, Digital Links
  and evidence URLs are never printed.
"""

import csv
import functools
import io
import json
from collections.abc import Mapping
from datetime import UTC
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from did_vault.items.importing import (
    CUSTOM_FIELD_NAMES,
    HOMEBOX_FIELD_PREFIX,
    HOMEBOX_PREFIX,
    REMAINDER_COLUMN,
    Target,
    build_entry,
    neutralize_cell,
)
from did_vault.items.model import InventoryEntry, InventoryExport, parse_date_time

# Homebox's export header, in its order (ExportCSVRow's primary csv tags).
HOMEBOX_HEADER: tuple[str, ...] = (
    "HB.purchase_date",
    "HB.warranty_expires",
    "HB.sold_date",
    "HB.import_ref",
    "HB.parent_import_ref",
    "HB.url",
    "HB.name",
    "HB.description",
    "HB.notes",
    "HB.purchase_from",
    "HB.manufacturer",
    "HB.model_number",
    "HB.serial_number",
    "HB.warranty_details",
    "HB.sold_to",
    "HB.sold_notes",
    "HB.location",
    "HB.tags",
    "HB.asset_id",
    "HB.quantity",
    "HB.low_stock_threshold",
    "HB.purchase_price",
    "HB.sold_price",
    "HB.archived",
    "HB.insured",
    "HB.lifetime_warranty",
)
# Numbers and flags: written as they are (a negative number is not a formula).
NUMERIC_COLUMNS = frozenset(
    {
        "HB.asset_id",
        "HB.quantity",
        "HB.low_stock_threshold",
        "HB.purchase_price",
        "HB.sold_price",
        "HB.archived",
        "HB.insured",
        "HB.lifetime_warranty",
    }
)
MASK_CHARACTER = "*"
_MISSING = ""  # an ownedFrom no real entry has: makes the remainder keep it


# --- JSON --------------------------------------------------------------------------


def inventory_json(export: InventoryExport) -> bytes:
    """The inventory as UTF-8 JSON (2-space indent, final newline)."""
    text = json.dumps(export.to_json(), indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


# --- CSV ---------------------------------------------------------------------------


def _get(document: Mapping[str, Any], *path: str) -> Any:
    value: Any = document
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _identifier(item: Mapping[str, Any], kind: str) -> str | None:
    for identifier in item.get("identifier", ()):
        if identifier.get("propertyID") == kind:
            return str(identifier["value"])
    return None


_IDENTIFIER_KINDS: Mapping[Target, str] = MappingProxyType(
    {
        Target.IMEI: "imei",
        Target.VIN: "vin",
        Target.FRAME_NUMBER: "frameNumber",
        Target.CASE_NUMBER: "caseNumber",
        Target.MOVEMENT_NUMBER: "movementNumber",
    }
)


def _custom_fields(entry: Mapping[str, Any]) -> dict[Target, str]:
    """The schema fields that go to ``HB.field.*`` columns, by target."""
    item = entry["item"]
    ownership = entry.get("ownership", {})
    price_currency = _get(ownership, "acquisition", "price", "currency")
    valuation = ownership.get("valuation") or {}
    values: dict[Target, Any] = {
        Target.GTIN: item.get("gtin"),
        Target.BRAND: _get(item, "brand", "name"),
        Target.BRAND_DID: _get(item, "brand", "id"),
        Target.CATEGORY: item.get("category"),
        Target.COLOR: item.get("color"),
        Target.MPN: item.get("mpn"),
        Target.SKU: item.get("sku"),
        Target.PRODUCTION_DATE: item.get("productionDate"),
        Target.DIGITAL_LINK: item.get("digitalLink"),
        Target.CURRENCY: price_currency or valuation.get("currency"),
        Target.VALUATION: valuation.get("amount"),
        Target.VALUATION_BASIS: valuation.get("basis"),
        Target.VALUATION_DATE: valuation.get("asOf"),
    }
    for target, kind in _IDENTIFIER_KINDS.items():
        values[target] = _identifier(item, kind)
    return {target: str(v) for target, v in values.items() if v is not None}


def _homebox_cells(entry: Mapping[str, Any]) -> dict[str, str]:
    """Homebox's own columns for an entry (extra values fill what is empty)."""
    item = entry["item"]
    ownership = entry.get("ownership", {})
    acquisition = ownership.get("acquisition", {})
    seller = _get(acquisition, "seller", "name") or _get(
        ownership, "acquiredFrom", "name"
    )
    sold = ownership.get("ownedThrough")
    quantity = entry.get("quantity")
    cells = {
        "HB.purchase_date": acquisition.get("purchaseDate"),
        "HB.warranty_expires": _get(item, "warranty", "warrantyExpires"),
        "HB.sold_date": sold[:10] if sold else None,
        "HB.import_ref": entry.get("importRef"),
        "HB.name": item["name"],
        "HB.description": item.get("description"),
        "HB.notes": entry.get("notes"),
        "HB.purchase_from": seller,
        "HB.manufacturer": _get(item, "manufacturer", "name"),
        "HB.model_number": item.get("model"),
        "HB.serial_number": item.get("serialNumber"),
        "HB.warranty_details": _get(item, "warranty", "description"),
        "HB.location": entry.get("location"),
        "HB.tags": "; ".join(entry.get("tags", ())) or None,
        "HB.quantity": str(quantity) if quantity is not None else None,
        # Homebox writes 0 for "no price" and false for "no lifetime warranty"
        "HB.purchase_price": _get(acquisition, "price", "amount") or "0",
        "HB.lifetime_warranty": "true"
        if _get(item, "warranty", "lifetime") is True
        else "false",
    }
    extra = entry.get("extra", {})
    return {
        column: cells.get(column) or extra.get(column) or ""
        for column in HOMEBOX_HEADER
    }


def _custom_header(key: str) -> str:
    """The column an extra value goes to (non-Homebox columns become custom fields)."""
    if key.startswith(HOMEBOX_PREFIX):
        return key
    return HOMEBOX_FIELD_PREFIX + key


def _remainder(
    entry: Mapping[str, Any], read_back: Mapping[str, Any]
) -> dict[str, Any]:
    """What must be added to ``read_back`` (the row as an importer reads it) to
    give ``entry`` again: changed members of item and ownership, other members."""
    remainder: dict[str, Any] = {}
    for name in ("item", "ownership"):
        want, have = entry.get(name), read_back.get(name)
        if want == have:
            continue
        if want is None:
            remainder[name] = None
            continue
        have = have or {}
        part = {
            key: value
            for key, value in want.items()
            if have.get(key) != value and key not in ("id", "typeOfGood")
        }
        part.update({key: None for key in have if key not in want})
        remainder[name] = part
    for name in ("importRef", "location", "tags", "quantity", "notes", "extra"):
        if entry.get(name) != read_back.get(name):
            remainder[name] = entry.get(name)
    return remainder


def _comparable(entry: InventoryEntry) -> dict[str, Any]:
    document = entry.to_json()
    for name in ("id", "credentials", "registryStatus"):
        document.pop(name, None)
    document["item"].pop("id")
    if "ownership" in document:
        document["ownership"].pop("typeOfGood")
    return document


def _strip_ids(entry: dict[str, Any]) -> dict[str, Any]:
    for name in ("id", "credentials", "registryStatus"):
        entry.pop(name, None)
    entry["item"].pop("id", None)
    if "ownership" in entry:
        entry["ownership"].pop("typeOfGood", None)
    return entry


def inventory_csv(export: InventoryExport) -> bytes:
    """The inventory as a Homebox-compatible CSV (UTF-8, CRLF line ends), text
    cells neutralised against formula injection, lossless through
    ``importing.read_csv``."""
    rows: list[dict[str, str]] = []
    for entry in export.items:
        document = entry.to_json()
        cells = _homebox_cells(document)
        names = {target: names[0] for target, names in CUSTOM_FIELD_NAMES.items()}
        for target, value in _custom_fields(document).items():
            cells[HOMEBOX_FIELD_PREFIX + names[target]] = value
        for key, value in document.get("extra", {}).items():
            header = _custom_header(key)
            if header not in cells or not cells[header]:
                cells[header] = value
        written = {k: _cell(k, v) for k, v in cells.items()}
        read_back = _strip_ids(build_entry(written, now_text=_MISSING))
        remainder = _remainder(_comparable(entry), read_back)
        if remainder:
            written[REMAINDER_COLUMN] = json.dumps(
                remainder, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            )
        rows.append(written)
    custom = sorted(
        {k for row in rows for k in row} - set(HOMEBOX_HEADER) - {REMAINDER_COLUMN}
    )
    columns = [*HOMEBOX_HEADER, *custom]
    if any(REMAINDER_COLUMN in row for row in rows):
        columns.append(REMAINDER_COLUMN)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # quotes CR and LF in cells
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode("utf-8")


def _cell(column: str, value: str) -> str:
    return value if column in NUMERIC_COLUMNS else neutralize_cell(value)


# --- PDF ---------------------------------------------------------------------------


def mask_serial(serial: str) -> str:
    """A serial with all but its last characters masked: the last 4 of 8 or more,
    at most a third of a shorter one (``8KQ2-00042X`` becomes ``*******042X``)."""
    visible = 4 if len(serial) >= 8 else len(serial) // 3
    hidden = len(serial) - visible
    return MASK_CHARACTER * hidden + serial[hidden:]


FONT_FAMILY = "DejaVuSans"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


@functools.cache
def _font_paths() -> dict[str, Path]:
    """The bundled font files by style (``""`` regular, ``"B"`` bold)."""
    folder = resources.files("did_vault.items").joinpath("fonts")
    return {
        style: Path(str(folder.joinpath(name))) for style, name in _FONT_FILES.items()
    }


@functools.cache
def _covered() -> frozenset[int]:
    """The code points both bundled fonts draw."""
    points: set[int] | None = None
    for path in _font_paths().values():
        with TTFont(path) as font:
            drawn = set(font.getBestCmap())
        points = drawn if points is None else points & drawn
    return frozenset(points or ())


def _printable(text: str) -> str:
    """``text`` with each character the font cannot draw replaced by ``?``."""
    covered = _covered()
    return "".join(
        char if ord(char) in covered or char in "\n\t" else "?" for char in text
    )


def _money(value: Mapping[str, Any] | None) -> str | None:
    if not value:
        return None
    return f"{value['amount']} {value['currency']}"


def _item_lines(entry: InventoryEntry) -> list[tuple[str, str]]:
    document = entry.to_json()
    item, ownership = document["item"], document.get("ownership", {})
    acquisition = ownership.get("acquisition", {})
    lines: list[tuple[str, Any]] = [
        ("Item DID", item["id"]),
        ("Brand", _get(item, "brand", "name") or _get(item, "brand", "id")),
        ("Manufacturer", _get(item, "manufacturer", "name")),
        ("Model", item.get("model")),
        ("Category", item.get("category")),
        ("GTIN", item.get("gtin")),
        (
            "Serial number",
            mask_serial(item["serialNumber"]) if "serialNumber" in item else None,
        ),
    ]
    for identifier in item.get("identifier", ()):
        lines.append((identifier["propertyID"], mask_serial(identifier["value"])))
    lines += [
        ("Purchase date", acquisition.get("purchaseDate")),
        ("Purchase price", _money(acquisition.get("price"))),
        ("Bought from", _get(acquisition, "seller", "name")),
        ("Owned from", ownership.get("ownedFrom", "")[:10] or None),
        ("Owned through", (ownership.get("ownedThrough") or "")[:10] or None),
    ]
    valuation = ownership.get("valuation")
    if valuation:
        lines.append(
            (
                "Valuation",
                f"{valuation['amount']} {valuation['currency']} "
                f"(basis: {valuation['basis']}, as of {valuation['asOf']})",
            )
        )
    for evidence in ownership.get("evidence", ()):
        lines.append(
            (f"Evidence ({evidence['type']})", f"SHA-256 {evidence['digestMultibase']}")
        )
    for image in item.get("image", ()):
        lines.append(("Photo", f"SHA-256 {image['digestMultibase']}"))
    status = document["registryStatus"]
    receipt = ownership.get("registryReceipt")
    if receipt:
        status += f" (log index {receipt['logIndex']} of {receipt['treeSize']})"
    lines.append(("Registry status", status))
    lines.append(("Location", document.get("location")))
    return [(label, str(value)) for label, value in lines if value]


def inventory_pdf(export: InventoryExport) -> bytes:
    """The inventory as a PDF for insurers (A4, one block per item), dated with
    the export's time so the same inventory gives the same document."""
    exported = parse_date_time(export.exported_at)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(exported)
    pdf.set_title("Inventory")
    pdf.set_author(export.owner)
    pdf.set_creator("did-vault")
    pdf.set_auto_page_break(auto=True, margin=15)
    for style, path in _font_paths().items():
        pdf.add_font(FONT_FAMILY, style, path)
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, style="B", size=16)
    pdf.cell(0, 10, "Inventory for insurance", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, size=9)
    totals: dict[str, float] = {}
    for entry in export.items:
        valuation = entry.ownership.valuation if entry.ownership else None
        if valuation is not None:
            totals[valuation.currency] = totals.get(valuation.currency, 0.0) + float(
                valuation.amount
            )
    header = [
        ("Owner", export.owner),
        ("Exported", exported.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("Items", str(len(export.items))),
    ]
    for currency, total in sorted(totals.items()):
        header.append((f"Total valuation ({currency})", f"{total:.2f}"))
    for label, value in header:
        _line(pdf, label, value)
    for number, entry in enumerate(export.items, start=1):
        pdf.ln(3)
        pdf.set_font(FONT_FAMILY, style="B", size=11)
        pdf.multi_cell(
            0,
            6,
            _printable(f"{number}. {entry.item.name}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_font(FONT_FAMILY, size=9)
        for label, value in _item_lines(entry):
            _line(pdf, label, value)
    return bytes(pdf.output())


def _line(pdf: FPDF, label: str, value: str) -> None:
    pdf.multi_cell(
        0,
        4.5,
        _printable(f"{label}: {value}"),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
