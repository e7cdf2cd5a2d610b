"""The pydantic models: same fields, requirements and patterns as the JSON Schemas,
lossless JSON, and the credentials built around them."""

import json
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from did_vault.errors import ItemNotIdentifiableError
from did_vault.items import (
    build_credential,
    build_item_identity_credential,
    format_date_time,
    parse_date_time,
)
from did_vault.items import model as m
from did_vault.items.schema import read_schema

EXAMPLES = Path(__file__).resolve().parents[4] / "specs" / "examples"

# (model, schema file stem, JSON pointer of the object schema in that file)
PAIRS = [
    (m.Item, "item", ""),
    (m.TypedIdentifier, "item", "/$defs/typedIdentifier"),
    (m.Warranty, "item", "/$defs/warranty"),
    (m.Ownership, "ownership", ""),
    (m.OwnershipInfo, "ownership", "/$defs/ownershipInfo"),
    (m.Acquisition, "ownership", "/$defs/acquisition"),
    (m.Valuation, "ownership", "/$defs/valuation"),
    (m.RegistryReceipt, "ownership", "/$defs/registryReceipt"),
    (m.StolenReport, "stolen-report", ""),
    (m.TransferOffer, "transfer-offer", ""),
    (m.TransferAcceptance, "transfer-acceptance", ""),
    (m.OfferReference, "transfer-acceptance", "/properties/offer"),
    (m.InventoryExport, "inventory-export", ""),
    (m.InventoryEntry, "inventory-export", "/$defs/entry"),
    (m.Money, "common", "/$defs/money"),
    (m.HashLink, "common", "/$defs/hashLink"),
    (m.Evidence, "common", "/$defs/evidence"),
    (m.Party, "common", "/$defs/party"),
]


def _at(document: Any, pointer: str) -> Any:
    for part in filter(None, pointer.split("/")):
        document = document[part]
    return document


def _resolve(stem: str, node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    while "$ref" in node:
        ref = node["$ref"]
        target, _, fragment = ref.partition("#")
        if target:
            stem = target.removesuffix(".schema.json")
        node = _at(read_schema(stem), fragment)
    return stem, node


def _schema_patterns(stem: str, node: dict[str, Any]) -> set[str]:
    stem, node = _resolve(stem, node)
    if node.get("type") == "array":
        return _schema_patterns(stem, node["items"])
    return {node["pattern"]} if "pattern" in node else set()


def _model_patterns(node: Any, defs: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            if target.get("type") != "object":
                found |= _model_patterns(target, defs)
            return found
        if "pattern" in node:
            found.add(node["pattern"])
        for key in ("anyOf", "items"):
            if key in node:
                found |= _model_patterns(node[key], defs)
    elif isinstance(node, list):
        for entry in node:
            found |= _model_patterns(entry, defs)
    return found


def _enum_values(annotation: Any) -> set[str] | None:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, Enum):
            return {e.value for e in arg}
    return None


@pytest.mark.parametrize(("model", "stem", "pointer"), PAIRS, ids=lambda p: str(p))
def test_model_fields_match_the_schema(model: type[BaseModel], stem, pointer):
    _, schema = _resolve(stem, _at(read_schema(stem), pointer))
    fields = {f.alias or name: f for name, f in model.model_fields.items()}
    assert set(fields) == set(schema["properties"])
    required = {alias for alias, f in fields.items() if f.is_required()}
    assert required == set(schema.get("required", ()))
    assert schema.get("additionalProperties") is False
    assert model.model_config.get("extra") == "forbid"


@pytest.mark.parametrize(("model", "stem", "pointer"), PAIRS, ids=lambda p: str(p))
def test_model_patterns_and_enums_match_the_schema(
    model: type[BaseModel], stem, pointer
):
    _, schema = _resolve(stem, _at(read_schema(stem), pointer))
    generated = model.model_json_schema(by_alias=True)
    defs = generated.get("$defs", {})
    fields = {f.alias or name: f for name, f in model.model_fields.items()}
    for name, prop in schema["properties"].items():
        assert _model_patterns(generated["properties"][name], defs) == _schema_patterns(
            stem, prop
        ), name
        _, resolved = _resolve(stem, prop)
        if "enum" in resolved:
            assert _enum_values(fields[name].annotation) == set(resolved["enum"]), name


# --- JSON in and out ---------------------------------------------------------------

SUBJECT_MODELS = {
    "ItemIdentityCredential": m.Item,
    "OwnershipCredential": m.Ownership,
    "StolenReportCredential": m.StolenReport,
    "TransferOfferCredential": m.TransferOffer,
    "TransferAcceptanceCredential": m.TransferAcceptance,
}


def _example(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((EXAMPLES / name).read_text("utf-8"))
    return result


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_example_round_trips_through_its_model_losslessly(name):
    document = _example(name)
    if "credentialSubject" in document:
        subject = document["credentialSubject"]
        assert (
            SUBJECT_MODELS[document["type"][1]].from_json(subject).to_json() == subject
        )
    else:
        assert m.InventoryExport.from_json(document).to_json() == document


def test_models_are_frozen():
    item = m.Item.from_json(_example("item-bike.json")["credentialSubject"])
    with pytest.raises(ValidationError):
        item.name = "another"  # type: ignore[misc]


def test_models_take_snake_case_names_and_dump_camel_case():
    money = m.Money(amount="19.90", currency="EUR")
    info = m.OwnershipInfo(
        type="OwnershipInfo",
        type_of_good="did:web:item.example",
        owned_from="2026-01-01T00:00:00Z",
        acquisition=m.Acquisition(price=money, purchase_date="2026-01-01"),
    )
    assert info.to_json()["acquisition"] == {
        "price": {"amount": "19.90", "currency": "EUR"},
        "purchaseDate": "2026-01-01",
    }
    assert money.value == Decimal("19.90")


def test_money_refuses_a_float_amount():
    with pytest.raises(ValidationError):
        m.Money.model_validate({"amount": 19.9, "currency": "EUR"})


def test_item_uniqueness_keys_of_the_examples():
    keys = {
        name: m.Item.from_json(
            _example(f"item-{name}.json")["credentialSubject"]
        ).uniqueness_key()
        for name in ("tv", "bike", "watch", "phone")
    }
    assert keys == {
        "tv": "01/09520123456788/21/8kq2-00042x",
        "bike": (
            "brand/did%3Aweb%3Abikes.example/model/trailblazer29/serial/wtu238c1234d"
        ),
        "watch": (
            "brand/did%3Aweb%3Awatches.example/model/deep300ref.210.30/serial/81234567"
        ),
        "phone": "01/09521234543213/21/f2lxk1abcdef",
    }


def test_item_without_identifiers_is_valid_but_not_identifiable():
    item = m.Item(id="did:key:z6Mkabc", type="IndividualProduct", name="Armchair")
    with pytest.raises(ItemNotIdentifiableError):
        item.uniqueness_key()


def test_format_and_parse_date_time_round_trip_in_utc():
    moment = datetime(
        2026, 3, 1, 19, 45, 0, 120000, tzinfo=timezone(timedelta(hours=1))
    )
    text = format_date_time(moment)
    assert text == "2026-03-01T18:45:00.120000Z"
    assert parse_date_time(text) == moment
    with pytest.raises(ValueError, match="naive"):
        format_date_time(datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="UTC"):
        parse_date_time("2026-03-01T18:45:00+00:00")


# --- credentials -------------------------------------------------------------------

ALICE = "did:key:z6Mkon3Necd6NkkyfoGoHxid2znGc59LU3K7mubaRcFbLfLX"


def test_build_item_identity_credential_is_the_example():
    example = _example("item-tv.json")
    item = m.Item.from_json(example["credentialSubject"])
    built = build_item_identity_credential(
        item,
        owner=ALICE,
        valid_from=datetime(2025, 5, 2, 10, tzinfo=UTC),
        credential_id=example["id"],
    )
    assert built == example


def test_build_credential_names_the_type_for_the_subject():
    example = _example("ownership-tv.json")
    ownership = m.Ownership.from_json(example["credentialSubject"])
    built = build_credential(
        ownership,
        issuer="did:web:registry.example",
        valid_from=datetime(2025, 5, 2, 10, 5, tzinfo=UTC),
        credential_id=example["id"],
    )
    assert built == example


def test_build_credential_without_id_or_dates_omits_them():
    offer = m.TransferOffer.from_json(
        _example("transfer-offer-phone.json")["credentialSubject"]
    )
    built = build_credential(
        offer,
        issuer=ALICE,
        valid_until=datetime(2026, 3, 2, 12, tzinfo=UTC),
    )
    assert set(built) == {
        "@context",
        "type",
        "issuer",
        "validUntil",
        "credentialSubject",
    }
    assert built["type"] == ["VerifiableCredential", "TransferOfferCredential"]
