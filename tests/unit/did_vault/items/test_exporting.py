"""Exports: versioned JSON, Homebox CSV (neutralised, lossless) and the insurer PDF."""

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from did_vault import (
    PENDING_ITEM_DID,
    ItemDraft,
    Wallet,
    inventory_csv,
    inventory_json,
    inventory_pdf,
    items,
    mask_serial,
    read_csv,
    read_inventory,
    read_inventory_json,
)
from did_vault.items import exporting
from did_vault.items.exporting import HOMEBOX_HEADER
from did_vault.keystore import KDFParameters

ROOT = Path(__file__).resolve().parents[4]
FIXTURE = ROOT / "tests" / "fixtures" / "homebox" / "export.csv"
EXAMPLE_EXPORT = ROOT / "specs" / "examples" / "inventory-export.json"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def new_wallet(tmp_path: Path):
    opened: list[Wallet] = []

    def make() -> Wallet:
        wallet = Wallet.create(
            tmp_path / f"w{len(opened)}", "pw", kdf=KDFParameters.TESTING, now=NOW
        )
        wallet.create_did("key", alias="alice", now=NOW)
        opened.append(wallet)
        return wallet

    yield make
    for wallet in opened:
        wallet.close()


def filled(new_wallet, drafts) -> Wallet:
    wallet = new_wallet()
    wallet.add_items(drafts, owner="alice", now=NOW)
    return wallet


def homebox_drafts() -> list[ItemDraft]:
    report = read_csv(FIXTURE.read_bytes(), currency="EUR", now=NOW)
    assert report.is_valid
    return report.drafts()


def example_drafts() -> list[ItemDraft]:
    report = read_inventory(EXAMPLE_EXPORT.read_bytes())
    assert report.is_valid
    return report.drafts()


def contents(drafts: list[ItemDraft]) -> list[dict]:
    return [d.content() for d in drafts]


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- JSON ----------------------------------------------------------------------------


def test_json_export_follows_the_schema_and_carries_credentials(new_wallet):
    wallet = filled(new_wallet, homebox_drafts())
    data = inventory_json(wallet.export_inventory(now=LATER))
    document = json.loads(data)
    items.validate_document(document, "inventory-export")
    assert document["format"] == "did-vault-inventory"
    assert document["version"] == 1
    assert document["exportedAt"] == "2026-11-30T08:00:00Z"
    for entry in document["items"]:
        (credential,) = entry["credentials"]
        assert credential["credentialSubject"]["id"] == entry["id"]
        assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
        assert credential == wallet.get_credential(credential["id"]).document()
    assert data.endswith(b"\n")


@pytest.mark.parametrize("source", ["homebox", "example"])
def test_json_round_trip_is_lossless(new_wallet, source):
    drafts = homebox_drafts() if source == "homebox" else example_drafts()
    first = filled(new_wallet, drafts)
    exported = inventory_json(first.export_inventory(now=LATER))
    report = read_inventory_json(exported)
    assert report.is_valid, report.to_dict()
    assert contents(report.drafts()) == contents(drafts)
    second = filled(new_wallet, report.drafts())
    again = json.loads(inventory_json(second.export_inventory(now=LATER)))
    before = json.loads(exported)
    for entry in (*before["items"], *again["items"]):
        entry.pop("credentials")
        for key in ("id",):
            entry.pop(key)
            entry["item"].pop(key)
        entry.get("ownership", {}).pop("typeOfGood", None)
    before.pop("owner"), again.pop("owner")
    assert again == before


# --- CSV -----------------------------------------------------------------------------


def test_csv_has_homebox_columns_in_homebox_order(new_wallet):
    wallet = filled(new_wallet, homebox_drafts())
    data = inventory_csv(wallet.export_inventory(now=NOW))
    header = next(csv.reader(io.StringIO(data.decode())))
    assert tuple(header[: len(HOMEBOX_HEADER)]) == HOMEBOX_HEADER
    custom = header[len(HOMEBOX_HEADER) :]
    assert custom == sorted(custom)
    assert all(name.startswith("HB.field.") for name in custom)


def test_csv_reproduces_the_homebox_columns_of_the_original(new_wallet):
    wallet = filled(new_wallet, homebox_drafts())
    exported = rows(inventory_csv(wallet.export_inventory(now=NOW)))
    original = rows(FIXTURE.read_bytes())
    for want, have in zip(original, exported, strict=True):
        assert {k: have[k] for k in want} == want


@pytest.mark.parametrize("source", ["homebox", "example"])
def test_csv_round_trip_is_lossless(new_wallet, source):
    drafts = homebox_drafts() if source == "homebox" else example_drafts()
    first = filled(new_wallet, drafts)
    exported = inventory_csv(first.export_inventory(now=NOW))
    report = read_csv(exported, now=LATER)
    assert report.is_valid, report.to_dict()
    assert contents(report.drafts()) == contents(drafts)
    second = filled(new_wallet, report.drafts())
    assert inventory_csv(second.export_inventory(now=LATER)) == exported


def test_what_homebox_cannot_say_goes_to_the_did_vault_cell(new_wallet):
    wallet = filled(new_wallet, example_drafts())
    (tv, *_) = rows(inventory_csv(wallet.export_inventory(now=NOW)))
    remainder = json.loads(tv["HB.field.did-vault"])
    assert "brand" not in remainder["item"]  # the Brand and Brand DID fields say it
    assert tv["HB.field.Brand DID"] == "did:web:tv-brand.example"
    assert remainder["item"]["image"][0]["digestMultibase"].startswith("uEi")
    assert remainder["ownership"]["registryReceipt"]["logIndex"] == 41
    assert "id" not in remainder["item"]
    assert tv["HB.field.GTIN"] == "09520123456788"
    assert tv["HB.field.Brand"] == "Example Vision"
    assert tv["HB.field.Valuation basis"] == "replacement-cost"


def formula_draft(**fields) -> ItemDraft:
    item = items.Item.from_json(
        {
            "id": PENDING_ITEM_DID,
            "type": "IndividualProduct",
            "name": '=HYPERLINK("https://evil.example","click")',
            "description": "@SUM(1+1)*cmd|' /C calc'!A0",
            "model": "-2+3",
        }
    )
    return ItemDraft(
        item=item,
        notes="+31 20 555 0100",
        location="'=already quoted",
        tags=("=tag", "plain"),
        extra={"HB.field.Code": "\tTAB", "HB.sold_price": "-5"},
        **fields,
    )


def test_csv_neutralises_formula_cells_and_import_restores_them(new_wallet):
    draft = formula_draft()
    wallet = filled(new_wallet, [draft])
    data = inventory_csv(wallet.export_inventory(now=NOW))
    (row,) = rows(data)
    assert row["HB.name"].startswith("'=")
    assert row["HB.description"].startswith("'@")
    assert row["HB.model_number"] == "'-2+3"
    assert row["HB.notes"] == "'+31 20 555 0100"
    assert row["HB.location"] == "''=already quoted"
    assert row["HB.tags"] == "'=tag; plain"
    assert row["HB.field.Code"] == "'\tTAB"
    assert row["HB.sold_price"] == "-5"  # a number stays a number
    for value in row.values():
        assert not value or value[0] not in "=+@\t\r" or value == "-5"
    (back,) = read_csv(data, now=NOW).drafts()
    assert back.content() == draft.content()


# --- PDF -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "masked"),
    [
        ("8KQ2-00042X", "*******042X"),
        ("ABCDEFGH", "****EFGH"),
        ("SN12345", "*****45"),
        ("AB1", "**1"),
        ("X", "*"),
    ],
)
def test_mask_serial(serial, masked):
    assert mask_serial(serial) == masked
    assert len(mask_serial(serial)) == len(serial)


def test_pdf_lists_what_the_insurer_needs_with_masked_serials(new_wallet):
    wallet = filled(new_wallet, example_drafts())
    inventory = wallet.export_inventory(now=LATER)
    data = inventory_pdf(inventory)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    example = json.loads(EXAMPLE_EXPORT.read_text())
    for entry in example["items"]:
        item = entry["item"]
        assert item["name"] in text
        if "serialNumber" in item:
            assert mask_serial(item["serialNumber"]) in text
            assert item["serialNumber"] not in text
        for identifier in item.get("identifier", ()):
            assert identifier["value"] not in text
        if "model" in item:
            assert item["model"] in text
        ownership = entry.get("ownership", {})
        acquisition = ownership.get("acquisition", {})
        if "purchaseDate" in acquisition:
            assert acquisition["purchaseDate"] in text
        if "price" in acquisition:
            price = acquisition["price"]
            assert f"{price['amount']} {price['currency']}" in text
        valuation = ownership.get("valuation")
        if valuation:
            assert (
                f"{valuation['amount']} {valuation['currency']} "
                f"(basis: {valuation['basis']}, as of {valuation['asOf']})"
            ) in text
        for evidence in ownership.get("evidence", ()):
            assert evidence["digestMultibase"] in text
            assert evidence["id"] not in text  # digests, not where the files are
        if "digitalLink" in item:
            assert item["digitalLink"] not in text
    assert "Registry status: unregistered" in text
    assert inventory.owner in text
    assert "Exported: 2026-11-30 08:00 UTC" in text


def test_pdf_is_deterministic_and_survives_non_latin_text(new_wallet):
    draft = ItemDraft(
        item=items.Item.from_json(
            {
                "id": PENDING_ITEM_DID,
                "type": "IndividualProduct",
                "name": "Teekanne 茶壺 — Ø 12 cm, Łódź, Ελλάδα, Москва",
                "serialNumber": "TK-0001-ÄÖ",
            }
        )
    )
    wallet = filled(new_wallet, [draft])
    inventory = wallet.export_inventory(now=LATER)
    assert inventory_pdf(inventory) == inventory_pdf(inventory)
    text = pdf_text(inventory_pdf(inventory))
    # Latin, Greek and Cyrillic print as written; what the font lacks prints as ?
    assert "Teekanne ?? — Ø 12 cm, Łódź, Ελλάδα, Москва" in text
    assert "TK-0001-ÄÖ" not in text
    assert "******1-ÄÖ" in text


def test_pdf_fonts_are_the_bundled_unmodified_files():
    folder = Path(exporting.__file__).parent / "fonts"
    license_text = (folder / "LICENSE.txt").read_text(encoding="utf-8")
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert f"{digest}    {name}" in license_text
    assert "bitstream-vera" in license_text


def test_pdf_of_an_empty_inventory(new_wallet):
    wallet = new_wallet()
    text = pdf_text(inventory_pdf(wallet.export_inventory(now=NOW)))
    assert "Items: 0" in text
