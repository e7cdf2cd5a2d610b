"""Reading inventories: Homebox CSV, generic CSV with a mapping, JSON inventories.

Every problem is reported with its row, line, column, pointer, rule and code; no
input, however broken, makes the reader raise.
"""

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from did_vault import (
    ImportReport,
    ImportTarget,
    load_mapping,
    neutralize_cell,
    read_csv,
    read_inventory,
    read_inventory_json,
    restore_cell,
)
from did_vault.errors import (
    ImportEncodingError,
    ImportHeaderError,
    ImportMappingError,
    ImportRowError,
    InventoryImportError,
    SchemaViolationError,
)
from did_vault.items.importing import CUSTOM_FIELD_NAMES, HOMEBOX_COLUMNS

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "fixtures" / "homebox"
EXAMPLE_EXPORT = ROOT / "specs" / "examples" / "inventory-export.json"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KNOWN_CODES = {
    "import.invalid",
    "import.encoding-invalid",
    "import.header-invalid",
    "import.row-invalid",
    "item.schema-invalid",
    "item.not-identifiable",
    "item.identifier-invalid",
    "item.gtin-invalid",
    "item.serial-invalid",
    "item.imei-invalid",
    "item.vin-invalid",
    "item.digital-link-invalid",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def homebox(name: str = "export.csv", **options) -> ImportReport:
    return read_csv(fixture(name), currency="EUR", now=NOW, **options)


def problems(report: ImportReport) -> list[tuple]:
    return [
        (p.row, p.line, p.column, p.pointer, p.rule, p.code) for p in report.problems
    ]


# --- Homebox -------------------------------------------------------------------------


def test_homebox_export_reads_into_drafts():
    report = homebox()
    assert report.is_valid, report.to_dict()
    assert report.source == "homebox"
    assert report.records == 5
    assert [r.row for r in report.rows] == [2, 3, 4, 5, 6]
    # the bike's notes hold a quoted newline: the phone starts a line later
    assert [r.line for r in report.rows] == [2, 3, 5, 6, 7]
    tv = report.rows[0].draft
    assert tv.item.name == "55-inch 4K television"
    assert tv.item.serial_number == "8KQ2-00042X"
    assert tv.item.model == "EV-55Q8"
    assert tv.item.manufacturer is not None
    assert tv.item.manufacturer.name == "Example Vision"
    assert tv.item.warranty is not None
    assert tv.item.warranty.warranty_expires == "2027-05-02"
    assert tv.ownership is not None
    assert tv.ownership.owned_from == "2025-05-02T00:00:00Z"
    assert tv.ownership.acquisition is not None
    assert tv.ownership.acquisition.price is not None
    assert tv.ownership.acquisition.price.amount == "1299"
    assert tv.ownership.acquisition.price.currency == "EUR"
    assert tv.import_ref == "tv-livingroom"
    assert tv.location == "Home / Living room"
    assert tv.tags == ("Electronics", "TV")
    assert tv.quantity == 1
    assert tv.extra["HB.insured"] == "true"
    assert report.rows[0].key == "ref:tv-livingroom"


def test_homebox_custom_fields_fill_typed_identifiers():
    bike, phone = homebox().rows[1].draft, homebox().rows[2].draft
    assert bike.item.identifier_value(ImportTarget.FRAME_NUMBER.value) == "WBK1234567"
    assert phone.item.identifier_value("imei") == "490154203237518"
    assert phone.ownership is not None
    assert phone.ownership.owned_through == "2025-09-01T00:00:00Z"
    assert phone.extra["HB.sold_to"] == "Bob"


def test_unrecognised_custom_fields_and_columns_are_kept_in_extra():
    watch = homebox().rows[4].draft
    assert watch.extra["HB.field.Purchase receipt"] == "+receipt in safe"
    assert watch.extra["HB.url"].startswith("https://homebox.example/item/")


def test_neutralised_formula_cells_are_restored():
    watch = homebox().rows[4].draft
    assert watch.notes == "=serviced 2024"
    assert watch.extra["HB.field.Purchase receipt"] == "+receipt in safe"


def test_homebox_zero_price_means_no_price_and_rows_without_ownership_have_none():
    chair = homebox().rows[3].draft
    assert chair.ownership is None
    assert chair.quantity == 4
    assert chair.extra["HB.low_stock_threshold"] == "2"


def test_price_without_currency_is_reported_per_row():
    report = read_csv(fixture("export.csv"), now=NOW)
    assert [r.row for r in report.rows] == [5]  # only the chair has no price
    assert problems(report)[0] == (
        2,
        2,
        "HB.purchase_price",
        "/ownership/acquisition/price/currency",
        "required",
        "item.schema-invalid",
    )
    assert [p.row for p in report.problems] == [2, 3, 4, 6]


@pytest.mark.parametrize(
    "name", ["export-bom-crlf.csv", "export-utf16.csv"], ids=["bom-crlf", "utf16"]
)
def test_bom_and_line_ends_do_not_change_the_result(name):
    plain, variant = homebox(), homebox(name)
    assert variant.is_valid
    assert [r.draft.content() for r in variant.rows] == [
        r.draft.content() for r in plain.rows
    ]


def test_wrong_encoding_is_reported_not_guessed():
    report = homebox("export-latin1.csv")
    assert report.rows == ()
    (problem,) = report.problems
    assert (problem.row, problem.line, problem.rule, problem.code) == (
        None,
        6,
        "encoding",
        "import.encoding-invalid",
    )
    assert "offset" in problem.message
    with pytest.raises(ImportEncodingError):
        report.raise_for_problems()
    named = homebox("export-latin1.csv", encoding="latin-1")
    assert named.is_valid
    assert named.rows[3].draft.item.description == "Teak geölt"


def test_unknown_encoding_is_reported():
    report = read_csv(b"HB.name\nx\n", encoding="no-such-codec")
    assert [p.code for p in report.problems] == ["import.encoding-invalid"]


def test_short_and_long_rows_are_reported_with_row_and_line():
    report = homebox("export-short-rows.csv")
    assert problems(report) == [
        (2, 2, None, "", "row-length", "import.row-invalid"),
        (6, 7, None, "", "row-length", "import.row-invalid"),
    ]
    assert [r.row for r in report.rows] == [3, 4, 5]
    with pytest.raises(ImportRowError) as exc_info:
        report.raise_for_problems()
    assert len(exc_info.value.problems) == 2
    body = exc_info.value.to_dict()
    assert body["code"] == "import.row-invalid"
    assert body["problems"][0]["rule"] == "row-length"


def test_bad_values_point_at_their_column_and_field():
    report = homebox("export-bad-values.csv")
    assert problems(report) == [
        (2, 2, "HB.field.GTIN", "/item/gtin", "gtin-check-digit", "item.gtin-invalid"),
        (
            4,
            5,
            "HB.field.IMEI",
            "/item/identifier/0/value",
            "luhn",
            "item.imei-invalid",
        ),
        (5, 6, "HB.quantity", "/quantity", "type", "item.schema-invalid"),
        (
            6,
            7,
            "HB.purchase_price",
            "/ownership/acquisition/price/amount",
            "pattern",
            "item.schema-invalid",
        ),
        (
            6,
            7,
            "HB.purchase_date",
            "/ownership/acquisition/purchaseDate",
            "format",
            "item.schema-invalid",
        ),
    ]
    assert [r.row for r in report.rows] == [3]


def test_the_first_problem_picks_the_error_class():
    report = homebox("export-bad-values.csv")
    with pytest.raises(InventoryImportError) as exc_info:
        report.raise_for_problems()
    assert type(exc_info.value) is InventoryImportError
    assert exc_info.value.code == "import.invalid"
    assert not isinstance(exc_info.value, SchemaViolationError)
    homebox().raise_for_problems()  # a clean report returns quietly


def test_repeated_rows_are_reported_as_duplicates():
    data = fixture("export.csv")
    header, first = data.decode().split("\n")[:2]
    report = read_csv(f"{header}\n{first}\n{first}\n".encode(), currency="EUR")
    assert problems(report) == [(3, 3, None, "", "duplicate-key", "import.row-invalid")]
    assert "row 2" in report.problems[0].message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no header row"),
        (b"\n\n", "no header row"),
        (b"HB.name,HB.name\nx,y\n", "a repeated column name"),
        (b"HB.name,,HB.notes\nx,,y\n", "a column has no name"),
        (b"HB.notes,HB.location\nx,y\n", "no column holds the item's name"),
    ],
    ids=["empty", "blank", "repeated", "unnamed", "no-name-column"],
)
def test_header_problems(data, message):
    report = read_csv(data)
    assert [p.message for p in report.problems] == [message]
    assert {p.code for p in report.problems} == {"import.header-invalid"}
    with pytest.raises(ImportHeaderError):
        report.raise_for_problems()


def test_header_only_file_has_nothing_to_import():
    report = read_csv(b"HB.name,HB.notes\n")
    assert report.is_valid
    assert report.rows == ()


def test_blank_lines_are_skipped_but_counted():
    report = read_csv(b"HB.name\nChair\n\nTable\n")
    assert [(r.row, r.line) for r in report.rows] == [(2, 2), (4, 4)]


def test_homebox_older_column_names_and_date_spellings():
    data = (
        b"HB.name,HB.purchase_time,HB.labels,HB.purchase_price,HB.lifetime_warranty\n"
        b"Drill,04/30/2024,Tools;  Garage ;,89.90,TRUE\n"
        b"Saw,2024/05/01,,,false\n"
        b"Plane,2024-05-02T21:10:30Z,,,\n"
    )
    report = read_csv(data, currency="CHF")
    assert report.is_valid, report.to_dict()
    drill, saw, plane = report.drafts()
    assert drill.ownership is not None
    assert drill.ownership.acquisition is not None
    assert drill.ownership.acquisition.purchase_date == "2024-04-30"
    assert drill.tags == ("Tools", "Garage")
    assert drill.item.warranty is not None
    assert drill.item.warranty.lifetime is True
    assert saw.item.warranty is None
    assert saw.ownership is not None
    assert saw.ownership.acquisition is not None
    assert saw.ownership.acquisition.purchase_date == "2024-05-01"
    assert plane.ownership is not None
    assert plane.ownership.acquisition is not None
    assert plane.ownership.acquisition.purchase_date == "2024-05-02"


def test_rows_without_a_purchase_date_are_owned_from_the_import_time():
    report = read_csv(b"HB.name,HB.purchase_from\nLamp,Flea market\n", now=NOW)
    (lamp,) = report.drafts()
    assert lamp.ownership is not None
    assert lamp.ownership.owned_from == "2026-11-23T12:00:00Z"


def test_every_homebox_column_and_custom_field_name_has_a_target():
    assert set(HOMEBOX_COLUMNS.values()) <= set(ImportTarget)
    assert all(names for names in CUSTOM_FIELD_NAMES.values())


# --- generic CSV with a mapping ------------------------------------------------------

GENERIC = (
    "Item,Brand,Serial no.,EAN,Bought,Paid,Room,Labels,Remark\n"
    "Road bike,Example Bikes,FR-2231,4006381333931,15.06.2024,1499.00,Cellar,"
    '"sport, bike",ok\n'
)


def generic_mapping(**overrides) -> dict:
    mapping = {
        "format": "did-vault-csv-mapping",
        "version": 1,
        "columns": {
            "Item": "name",
            "Brand": "brand",
            "Serial no.": "serialNumber",
            "EAN": "gtin",
            "Bought": "purchaseDate",
            "Paid": "purchasePrice",
            "Room": "location",
            "Labels": "tags",
        },
        "currency": "EUR",
        "dateFormats": ["%d.%m.%Y"],
        "tagSeparator": ",",
    }
    mapping.update(overrides)
    return mapping


def test_generic_csv_with_a_mapping():
    mapping = load_mapping(json.dumps(generic_mapping()))
    report = read_csv(GENERIC.encode(), mapping=mapping, now=NOW)
    assert report.is_valid, report.to_dict()
    assert report.source == "csv"
    (bike,) = report.drafts()
    assert bike.item.gtin == "04006381333931"  # EAN-13 padded to GTIN-14
    assert bike.item.brand is not None
    assert bike.item.brand.name == "Example Bikes"
    assert bike.ownership is not None
    assert bike.ownership.acquisition is not None
    assert bike.ownership.acquisition.purchase_date == "2024-06-15"
    assert bike.tags == ("sport", "bike")
    assert bike.location == "Cellar"
    assert dict(bike.extra) == {"Remark": "ok"}
    assert report.rows[0].key == "key:01/04006381333931/21/fr-2231"


def test_unmapped_columns_can_be_ignored():
    mapping = load_mapping(generic_mapping(unmapped="ignore"))
    (bike,) = read_csv(GENERIC.encode(), mapping=mapping, now=NOW).drafts()
    assert dict(bike.extra) == {}


def test_a_mapped_column_missing_from_the_file_is_a_header_problem():
    mapping = load_mapping(generic_mapping(columns={"Item": "name", "Colour": "color"}))
    report = read_csv(GENERIC.encode(), mapping=mapping)
    assert problems(report) == [(1, 1, "Colour", "", "header", "import.header-invalid")]


def test_generic_csv_without_a_mapping_reads_target_names():
    data = (
        b"name,serial number,GTIN,IMEI,notes,Shelf\nPhone,S1,,49-015420-323751-8,x,B2\n"
    )
    (phone,) = read_csv(data).drafts()
    assert phone.item.serial_number == "S1"
    assert phone.item.identifier_value("imei") == "490154203237518"
    assert dict(phone.extra) == {"Shelf": "B2"}


@pytest.mark.parametrize(
    ("source", "pointer"),
    [
        (b"not json", ""),
        (b"[]", ""),
        (json.dumps({"columns": {"A": "name"}, "colour": 1}), "/colour"),
        (json.dumps({"format": "other", "columns": {"A": "name"}}), "/format"),
        (json.dumps({"version": 2, "columns": {"A": "name"}}), "/version"),
        (json.dumps({"columns": {}}), "/columns"),
        (json.dumps({"columns": {"A/B": "nmae"}}), "/columns/A~1B"),
        (json.dumps({"columns": {"A": "name"}, "currency": "euro"}), "/currency"),
        (json.dumps({"columns": {"A": "name"}, "dateFormats": "%d"}), "/dateFormats"),
        (json.dumps({"columns": {"A": "name"}, "tagSeparator": ""}), "/tagSeparator"),
        (json.dumps({"columns": {"A": "name"}, "unmapped": "drop"}), "/unmapped"),
    ],
)
def test_bad_mappings_are_refused_with_a_pointer(source, pointer):
    with pytest.raises(ImportMappingError) as exc_info:
        load_mapping(source)
    assert exc_info.value.code == "import.mapping-invalid"
    assert exc_info.value.context["pointer"] == pointer
    assert exc_info.value.problems[0].pointer == pointer


# --- JSON inventories ----------------------------------------------------------------


def test_the_spec_example_inventory_reads_back():
    report = read_inventory(EXAMPLE_EXPORT.read_bytes())
    assert report.source == "inventory-json"
    assert report.is_valid, report.to_dict()
    example = json.loads(EXAMPLE_EXPORT.read_text())
    assert report.records == len(example["items"])
    first = report.rows[0].draft
    assert first.item.name == example["items"][0]["item"]["name"]
    assert first.item.id != example["items"][0]["id"]  # the wallet mints a new DID


def test_a_broken_json_inventory_is_reported_per_entry():
    example = json.loads(EXAMPLE_EXPORT.read_text())
    example["items"][1]["item"]["gtin"] = "12345678901234"
    report = read_inventory_json(json.dumps(example).encode())
    assert problems(report) == [
        (2, None, None, "/item/gtin", "gtin-check-digit", "item.gtin-invalid")
    ]
    assert read_inventory_json(b"{oops").problems[0].rule == "json"
    not_export = read_inventory_json(b'{"format": "x"}')
    assert {p.row for p in not_export.problems} == {None}


# --- formula neutralisation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+31 20 123", "'+31 20 123"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=already", "''=already"),
        ("'plain", "'plain"),
        ("plain", "plain"),
        ("", ""),
        ("'", "'"),
    ],
)
def test_neutralize_cell(text, written):
    assert neutralize_cell(text) == written
    assert restore_cell(written) == text


@given(st.text())
def test_restore_undoes_neutralize(text):
    assert restore_cell(neutralize_cell(text)) == text
    neutral = neutralize_cell(text)
    assert not neutral or neutral[0] not in "=+-@\t\r"


# --- fuzzing: a report, never a crash ------------------------------------------------


def _check_report(report: ImportReport, max_row: int | None = None) -> None:
    assert isinstance(report, ImportReport)
    for problem in report.problems:
        assert problem.code in KNOWN_CODES, problem
        assert problem.rule
        if problem.row is not None and max_row is not None:
            assert 1 <= problem.row <= max_row
    if report.problems:
        with pytest.raises(InventoryImportError):
            report.raise_for_problems()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_report(data):
    _check_report(read_inventory(data, now=NOW))
    _check_report(read_inventory(b"HB.name,HB.notes\n" + data, now=NOW))


HEADERS = [
    "HB.name",
    "HB.serial_number",
    "HB.purchase_date",
    "HB.purchase_price",
    "HB.quantity",
    "HB.tags",
    "HB.lifetime_warranty",
    "HB.field.IMEI",
    "HB.field.GTIN",
    "HB.field.did-vault",
    "HB.notes",
]
CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "=cmd|' /C calc'!A0",
            "'=1+1",
            "+1",
            "-1",
            "@x",
            "0",
            "12.50",
            "2024-02-30",
            "01/02/2024",
            "true",
            "490154203237518",
            "09520123456788",
            '{"item":{"name":"x"}}',
            "{}",
            "[1]",
            "a\nb",
            "\x00",
            "\u200b",
        ]
    ),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.lists(CELLS, min_size=len(HEADERS) - 2, max_size=len(HEADERS) + 1),
        max_size=8,
    ),
    bom=st.booleans(),
    crlf=st.booleans(),
    latin1=st.booleans(),
)
def test_random_rows_give_a_per_row_report(rows, bom, crlf, latin1):
    buffer = io.StringIO()
    # quote every cell: a bare CR inside a cell would end the record early
    csv.writer(
        buffer, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_ALL
    ).writerows([HEADERS, *rows])
    text = buffer.getvalue()
    data = text.encode("latin-1", "replace") if latin1 else text.encode()
    if bom:
        data = b"\xef\xbb\xbf" + data
    report = read_csv(data, currency="EUR", now=NOW)
    _check_report(report, max_row=len(rows) + 1)
    if not report.problems or all(p.row is not None for p in report.problems):
        bad_rows = {p.row for p in report.problems}
        good_rows = {r.row for r in report.rows}
        assert not bad_rows & good_rows
        for row, cells in enumerate(rows, start=2):
            if len(cells) != len(HEADERS):
                assert row in bad_rows
