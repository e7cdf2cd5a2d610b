"""The standard item schema: examples validate; every rule fails with pointer + code."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from did_vault import (
    EDDSA_RDFC_2022,
    KeyAlgorithm,
    PrivateKey,
    create_did_key,
    default_resolver,
    issue_credential,
    verify_credential,
)
from did_vault.contexts import REGISTRY_V1_URL
from did_vault.credentials.rdfc import find_undefined_terms
from did_vault.errors import (
    InvalidGTINError,
    SchemaViolationError,
    UndefinedTermError,
)
from did_vault.items.model import (
    InventoryExport,
    Item,
    Ownership,
    StolenReport,
    TransferAcceptance,
    TransferOffer,
)
from did_vault.items.schema import (
    SCHEMA_BASE_URI,
    SchemaName,
    check_credential,
    check_document,
    read_schema,
    validate_credential,
    validate_document,
)

SPECS = Path(__file__).resolve().parents[4] / "specs"
EXAMPLES = SPECS / "examples"
CREDENTIAL_EXAMPLES = sorted(
    p.name for p in EXAMPLES.glob("*.json") if p.name != "inventory-export.json"
)
DELETE = object()
OTHER_DID = "did:key:z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z"


def _example(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((EXAMPLES / name).read_text("utf-8"))
    return result


def _set(document: Any, pointer: str, value: Any) -> None:
    *parents, last = [
        p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")
    ]
    for part in parents:
        document = document[int(part)] if isinstance(document, list) else document[part]
    if isinstance(document, list):
        document[int(last)] = value
    elif value is DELETE:
        del document[last]
    else:
        document[last] = value


def _mutated(name: str, *changes: tuple[str, Any]) -> dict[str, Any]:
    document = _example(name)
    for pointer, value in changes:
        _set(document, pointer, value)
    return document


def _check(document: dict[str, Any]) -> Any:
    if "credentialSubject" in document:
        return check_credential(document)
    return check_document(document, SchemaName.INVENTORY_EXPORT)


# --- the schema files ------------------------------------------------------------


@pytest.mark.parametrize("name", [*SchemaName, "common"])
def test_schema_file_is_a_valid_2020_12_schema_with_its_id(name):
    schema = read_schema(name)
    Draft202012Validator.check_schema(schema)
    stem = name.value if isinstance(name, SchemaName) else name
    assert schema["$id"] == f"{SCHEMA_BASE_URI}{stem}.schema.json"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_schema_file_in_specs_is_known():
    names = {p.name for p in (SPECS / "schemas").glob("*.json")}
    assert names == {n.file_name for n in SchemaName} | {"common.schema.json"}


def test_read_schema_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="not a valid SchemaName"):
        read_schema("passport")


# --- examples --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_example_validates(name):
    assert _check(_example(name)) == ()


@pytest.mark.parametrize("name", CREDENTIAL_EXAMPLES)
def test_example_credential_has_no_undefined_json_ld_term(name):
    find_undefined_terms(_example(name))


@pytest.mark.parametrize("name", CREDENTIAL_EXAMPLES)
def test_example_credential_signs_and_verifies_with_eddsa_rdfc_2022(name):
    key = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
    did = str(create_did_key(key.public_key))
    credential = _example(name)
    credential["issuer"] = did
    signed = issue_credential(
        credential,
        key=key,
        verification_method=f"{did}#{did.split(':')[2]}",
        cryptosuite=EDDSA_RDFC_2022,
    )
    verify_credential(signed, resolver=default_resolver(), check_terms=True)


def test_a_term_outside_the_context_is_undefined():
    credential = _example("item-tv.json")
    credential["credentialSubject"]["colour"] = "black"
    with pytest.raises(UndefinedTermError):
        find_undefined_terms(credential)


def test_validate_credential_returns_the_subject_schema():
    assert validate_credential(_example("item-bike.json")) == SchemaName.ITEM
    assert validate_credential(_example("ownership-tv.json")) == SchemaName.OWNERSHIP


# --- every rule fails with its pointer, rule and code ------------------------------

S = "/credentialSubject"
ITEM_RULES = [
    # (example, changes, pointer, rule, code)
    ("item-tv.json", [(f"{S}/name", DELETE)], f"{S}/name", "required", None),
    (
        "item-tv.json",
        [(f"{S}/colour", "black")],
        f"{S}/colour",
        "additionalProperties",
        None,
    ),
    ("item-tv.json", [(f"{S}/type", "Product")], f"{S}/type", "const", None),
    ("item-tv.json", [(f"{S}/id", "urn:uuid:1")], f"{S}/id", "pattern", None),
    ("item-tv.json", [(f"{S}/name", "a\nb")], f"{S}/name", "pattern", None),
    ("item-tv.json", [(f"{S}/name", "x" * 257)], f"{S}/name", "maxLength", None),
    (
        "item-tv.json",
        [(f"{S}/gtin", "9520123456788")],
        f"{S}/gtin",
        "pattern",
        "item.gtin-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/gtin", "09520123456788\n")],
        f"{S}/gtin",
        "pattern",
        "item.gtin-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/gtin", "09520123456789")],
        f"{S}/gtin",
        "gtin-check-digit",
        "item.gtin-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/gtin", DELETE)],
        f"{S}/gtin",
        "dependentRequired",
        "item.gtin-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/digitalLink", "https://id.gs1.org/01/09520123456788/21/OTHER")],
        f"{S}/digitalLink",
        "digital-link-serial",
        "item.digital-link-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/digitalLink", "https://id.gs1.org/01/09521234543213/21/8KQ2-00042X")],
        f"{S}/digitalLink",
        "digital-link-gtin",
        "item.digital-link-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/digitalLink", "https://id.gs1.org/01/09520123456788/21/a/10/b")],
        f"{S}/digitalLink",
        "qualifier-order",
        "item.digital-link-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/digitalLink", "urn:epc:id:sgtin:1")],
        f"{S}/digitalLink",
        "pattern",
        "item.digital-link-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/serialNumber", "")],
        f"{S}/serialNumber",
        "minLength",
        "item.serial-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/serialNumber", "\u200b\u2060")],
        f"{S}/serialNumber",
        "serial-empty",
        "item.serial-invalid",
    ),
    (
        "item-tv.json",
        [(f"{S}/productionDate", "2024-02-30")],
        f"{S}/productionDate",
        "format",
        None,
    ),
    (
        "item-tv.json",
        [(f"{S}/productionDate", "2024-03-11T00:00:00Z")],
        f"{S}/productionDate",
        "format",
        None,
    ),
    (
        "item-tv.json",
        [(f"{S}/image/0/digestMultibase", "sha256-abc")],
        f"{S}/image/0/digestMultibase",
        "pattern",
        None,
    ),
    (
        "item-tv.json",
        [(f"{S}/image/0/digestMultibase", "zQm" + "1" * 44)],
        f"{S}/image/0/digestMultibase",
        "digestMultibase",
        None,
    ),
    (
        "item-tv.json",
        [(f"{S}/image/0/id", "data:image/png;base64,AAAA")],
        f"{S}/image/0/id",
        "pattern",
        None,
    ),
    (
        "item-tv.json",
        [(f"{S}/image/0/mediaType", "JPEG")],
        f"{S}/image/0/mediaType",
        "pattern",
        None,
    ),
    ("item-tv.json", [(f"{S}/brand", {"type": "Brand"})], f"{S}/brand", "anyOf", None),
    ("item-tv.json", [(f"{S}/brand/type", "Maker")], f"{S}/brand/type", "enum", None),
    ("item-tv.json", [(f"{S}/warranty", {})], f"{S}/warranty", "minProperties", None),
    (
        "item-tv.json",
        [(f"{S}/warranty/lifetime", "yes")],
        f"{S}/warranty/lifetime",
        "type",
        None,
    ),
    (
        "item-phone.json",
        [(f"{S}/identifier/0/value", "490154203237519")],
        f"{S}/identifier/0/value",
        "luhn",
        "item.imei-invalid",
    ),
    (
        "item-phone.json",
        [(f"{S}/identifier/0/value", "49015420323751")],
        f"{S}/identifier/0/value",
        "pattern",
        "item.imei-invalid",
    ),
    (
        "item-phone.json",
        [(f"{S}/identifier/0/propertyID", "serial")],
        f"{S}/identifier/0/propertyID",
        "enum",
        None,
    ),
    (
        "item-bike.json",
        [(f"{S}/identifier/0", {"propertyID": "vin", "value": "1M8GDM9A0KP042788"})],
        f"{S}/identifier/0/value",
        "vin-check-digit",
        "item.vin-invalid",
    ),
    (
        "item-bike.json",
        [(f"{S}/identifier/0", {"propertyID": "vin", "value": "1M8GDM9AXKP04278O"})],
        f"{S}/identifier/0/value",
        "pattern",
        "item.vin-invalid",
    ),
    (
        "item-bike.json",
        [(f"{S}/identifier/0/value", "\u200b")],
        f"{S}/identifier/0/value",
        "identifier-empty",
        "item.identifier-invalid",
    ),
]
OWNERSHIP_RULES = [
    (
        "ownership-tv.json",
        [(f"{S}/owns/typeOfGood", DELETE)],
        f"{S}/owns/typeOfGood",
        "required",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/ownedFrom", "2025-05-02T00:00:00+02:00")],
        f"{S}/owns/ownedFrom",
        "format",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/ownedFrom", "2025-13-02T00:00:00Z")],
        f"{S}/owns/ownedFrom",
        "format",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/ownedThrough", "2025-05-01T23:59:59Z")],
        f"{S}/owns/ownedThrough",
        "date-order",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/acquisition/price/amount", 1299)],
        f"{S}/owns/acquisition/price/amount",
        "type",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/acquisition/price/amount", "12.34567")],
        f"{S}/owns/acquisition/price/amount",
        "pattern",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/acquisition/price/amount", "-1")],
        f"{S}/owns/acquisition/price/amount",
        "pattern",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/acquisition/price/currency", "eur")],
        f"{S}/owns/acquisition/price/currency",
        "pattern",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/acquisition", {})],
        f"{S}/owns/acquisition",
        "minProperties",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/valuation/basis", "guess")],
        f"{S}/owns/valuation/basis",
        "enum",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/valuation/asOf", DELETE)],
        f"{S}/owns/valuation/asOf",
        "required",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/evidence/0/type", "Invoice")],
        f"{S}/owns/evidence/0/type",
        "enum",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/evidence/0/digestMultibase", DELETE)],
        f"{S}/owns/evidence/0/digestMultibase",
        "required",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/registryReceipt/logIndex", 42)],
        f"{S}/owns/registryReceipt/logIndex",
        "log-index-in-tree",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/registryReceipt/logIndex", -1)],
        f"{S}/owns/registryReceipt/logIndex",
        "minimum",
        None,
    ),
    (
        "ownership-tv.json",
        [(f"{S}/owns/registryReceipt/inclusionProof/0", "abc")],
        f"{S}/owns/registryReceipt/inclusionProof/0",
        "pattern",
        None,
    ),
]
REPORT_AND_TRANSFER_RULES = [
    (
        "stolen-report-bike.json",
        [(f"{S}/confirmedBy", DELETE), (f"{S}/confirmedAt", DELETE)],
        f"{S}/confirmedBy",
        "required",
        None,
    ),
    (
        "stolen-report-bike.json",
        [(f"{S}/reportStatus", "missing"), (f"{S}/confirmedAt", DELETE)],
        f"{S}/confirmedAt",
        "dependentRequired",
        None,
    ),
    (
        "stolen-report-bike.json",
        [(f"{S}/reportStatus", "found")],
        f"{S}/reportStatus",
        "enum",
        None,
    ),
    (
        "stolen-report-bike.json",
        [(f"{S}/lossDate", "2026-02-02T00:00:00Z")],
        f"{S}/reportedAt",
        "date-order",
        None,
    ),
    (
        "stolen-report-bike.json",
        [(f"{S}/confirmedAt", "2026-01-01T00:00:00Z")],
        f"{S}/confirmedAt",
        "date-order",
        None,
    ),
    (
        "stolen-report-bike.json",
        [(f"{S}/policeReportNumber", "x" * 65)],
        f"{S}/policeReportNumber",
        "maxLength",
        None,
    ),
    (
        "transfer-offer-phone.json",
        [(f"{S}/buyer", "did:key:z6Mkon3Necd6NkkyfoGoHxid2znGc59LU3K7mubaRcFbLfLX")],
        f"{S}/buyer",
        "distinct-parties",
        None,
    ),
    (
        "transfer-offer-claim-code.json",
        [(f"{S}/buyer", "did:key:z6Mko9hTggMwjSTEaJaPUfE6tqcy2xvU6BnNq3e3o8qVBiyH")],
        S,
        "oneOf",
        None,
    ),
    (
        "transfer-offer-phone.json",
        [(f"{S}/buyer", DELETE)],
        S,
        "oneOf",
        None,
    ),
    (
        "transfer-offer-claim-code.json",
        [(f"{S}/claimCodeDigest", "uEiA" + "x" * 42)],
        f"{S}/claimCodeDigest",
        "pattern",
        None,
    ),
    (
        "transfer-offer-phone.json",
        [(f"{S}/nonce", "short")],
        f"{S}/nonce",
        "pattern",
        None,
    ),
    (
        "transfer-offer-phone.json",
        [(f"{S}/validThrough", "2026-03-02")],
        f"{S}/validThrough",
        "format",
        None,
    ),
    (
        "transfer-offer-phone.json",
        [(f"{S}/price", {"amount": "1"})],
        f"{S}/price/currency",
        "required",
        None,
    ),
    (
        "transfer-acceptance-phone.json",
        [(f"{S}/acceptedAt", DELETE)],
        f"{S}/acceptedAt",
        "required",
        None,
    ),
    (
        "transfer-acceptance-phone.json",
        [(f"{S}/offer/digestMultibase", "zQm" + "1" * 44)],
        f"{S}/offer/digestMultibase",
        "digestMultibase",
        None,
    ),
    (
        "transfer-acceptance-phone.json",
        [(f"{S}/offer/id", "ftp://x")],
        f"{S}/offer/id",
        "pattern",
        None,
    ),
]
CREDENTIAL_RULES = [
    ("item-tv.json", [("/type", ["VerifiableCredential"])], "/type", "contains", None),
    (
        "item-tv.json",
        [
            (
                "/type",
                [
                    "VerifiableCredential",
                    "ItemIdentityCredential",
                    "OwnershipCredential",
                ],
            )
        ],
        "/type",
        "contains",
        None,
    ),
    (
        "item-tv.json",
        [("/@context", ["https://www.w3.org/ns/credentials/v2"])],
        "/@context",
        "contains",
        None,
    ),
    ("item-tv.json", [("/credentialSubject", [])], "/credentialSubject", "type", None),
]
EXPORT_RULES = [
    ("inventory-export.json", [("/version", 2)], "/version", "const", None),
    ("inventory-export.json", [("/version", True)], "/version", "const", None),
    (
        "inventory-export.json",
        [("/items/0/registryStatus", "lost")],
        "/items/0/registryStatus",
        "enum",
        None,
    ),
    (
        "inventory-export.json",
        [("/items/0/item/id", OTHER_DID)],
        "/items/0/item/id",
        "item-id-matches",
        None,
    ),
    (
        "inventory-export.json",
        [("/items/0/ownership/typeOfGood", OTHER_DID)],
        "/items/0/ownership/typeOfGood",
        "item-id-matches",
        None,
    ),
    (
        "inventory-export.json",
        [("/items/0/item/gtin", "09520123456789")],
        "/items/0/item/gtin",
        "gtin-check-digit",
        "item.gtin-invalid",
    ),
    (
        "inventory-export.json",
        [("/items/0/credentials/0/type", ["Foo"])],
        "/items/0/credentials/0/type",
        "contains",
        None,
    ),
    (
        "inventory-export.json",
        [("/items/0/credentials/0/issuer", DELETE)],
        "/items/0/credentials/0/issuer",
        "required",
        None,
    ),
    (
        "inventory-export.json",
        [("/items/0/extra", {"HB.field.x": 1})],
        "/items/0/extra/HB.field.x",
        "type",
        None,
    ),
    (
        "inventory-export.json",
        [("/items/0/quantity", 0)],
        "/items/0/quantity",
        "minimum",
        None,
    ),
    (
        "inventory-export.json",
        [("/items/0/tags/0", "")],
        "/items/0/tags/0",
        "minLength",
        None,
    ),
]
RULES = (
    ITEM_RULES
    + OWNERSHIP_RULES
    + REPORT_AND_TRANSFER_RULES
    + CREDENTIAL_RULES
    + EXPORT_RULES
)


def _rule_id(case: tuple[Any, ...]) -> str:
    return f"{case[0].removesuffix('.json')}:{case[2]}:{case[3]}"


@pytest.mark.parametrize("case", RULES, ids=[_rule_id(c) for c in RULES])
def test_rule_fails_with_pointer_rule_and_code(case):
    name, changes, pointer, rule, code = case
    violations = _check(_mutated(name, *changes))
    assert violations, "the mutated example should fail"
    first = violations[0]
    assert (first.pointer, first.rule, first.code) == (
        pointer,
        rule,
        code or "item.schema-invalid",
    )


def test_duplicate_item_in_an_export_points_at_the_second():
    export = _example("inventory-export.json")
    export["items"][1] = copy.deepcopy(export["items"][0])
    violations = check_document(export, SchemaName.INVENTORY_EXPORT)
    assert [(v.pointer, v.rule) for v in violations] == [
        ("/items/1/id", "unique-items")
    ]


def test_named_checks_wait_for_the_structure():
    credential = _mutated(
        "item-tv.json", (f"{S}/gtin", "09520123456789"), (f"{S}/name", DELETE)
    )
    assert [v.rule for v in check_credential(credential)] == ["required"]


def test_every_violation_is_reported():
    credential = _mutated(
        "item-phone.json",
        (f"{S}/gtin", "09521234543214"),
        (f"{S}/identifier/0/value", "490154203237519"),
    )
    assert [(v.pointer, v.code) for v in check_credential(credential)] == [
        (f"{S}/gtin", "item.gtin-invalid"),
        (f"{S}/identifier/0/value", "item.imei-invalid"),
        (f"{S}/digitalLink", "item.digital-link-invalid"),
    ]


def test_validate_raises_the_most_specific_error_with_every_violation():
    credential = _mutated("item-phone.json", (f"{S}/gtin", "09521234543214"))
    with pytest.raises(InvalidGTINError) as info:
        validate_credential(credential)
    error = info.value
    assert error.code == "item.gtin-invalid"
    assert error.context == {"pointer": f"{S}/gtin", "rule": "gtin-check-digit"}
    body = error.to_dict()
    assert body["violations"][0] == {
        "pointer": f"{S}/gtin",
        "rule": "gtin-check-digit",
        "code": "item.gtin-invalid",
        "message": "the GTIN's check digit is wrong",
    }
    assert len(error.violations) == 2  # the Digital Link no longer matches either


def test_validate_document_raises_schema_violation_for_structure():
    with pytest.raises(SchemaViolationError) as info:
        validate_document({"type": "StolenReport"}, "stolen-report")
    assert type(info.value) is SchemaViolationError
    assert info.value.context["rule"] == "required"


def test_validate_document_accepts_a_bare_subject():
    validate_document(_example("item-watch.json")["credentialSubject"], "item")


def test_check_credential_refuses_a_non_object():
    assert [v.pointer for v in check_credential(["not", "a", "credential"])] == [""]


def test_registry_context_url_is_packaged():
    assert REGISTRY_V1_URL == "https://registry.example/ns/registry/v1"


# --- the models agree with the schemas on every rule (drift, behaviour) -----------

MODEL_BY_CREDENTIAL_TYPE = {
    "ItemIdentityCredential": Item,
    "OwnershipCredential": Ownership,
    "StolenReportCredential": StolenReport,
    "TransferOfferCredential": TransferOffer,
    "TransferAcceptanceCredential": TransferAcceptance,
}


def _model_accepts(document: dict[str, Any]) -> bool:
    if "credentialSubject" in document:
        model = MODEL_BY_CREDENTIAL_TYPE[document["type"][1]]
        data = document["credentialSubject"]
    else:
        model, data = InventoryExport, document
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_models_accept_every_example(name):
    assert _model_accepts(_example(name))


MODEL_RULES = [c for c in RULES if c not in CREDENTIAL_RULES]


@pytest.mark.parametrize("case", MODEL_RULES, ids=[_rule_id(c) for c in MODEL_RULES])
def test_models_reject_what_the_schema_rejects(case):
    name, changes, *_ = case
    assert not _model_accepts(_mutated(name, *changes))
