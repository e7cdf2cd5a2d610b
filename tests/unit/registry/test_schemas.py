"""registry.schemas: the standard item schema as the registry applies it."""

import json
from pathlib import Path

import pytest

from did_vault import (
    InvalidDigitalLinkError,
    InvalidGTINError,
    InvalidIMEIError,
    ItemNotIdentifiableError,
    SchemaViolationError,
)
from registry import schemas
from registry.problems import status_for

EXAMPLES = Path(__file__).resolve().parents[3] / "specs" / "examples"


def _example(name: str) -> dict:
    result: dict = json.loads((EXAMPLES / name).read_text("utf-8"))
    return result


def test_validate_credential_returns_the_subject_schema():
    assert schemas.validate_credential(_example("stolen-report-bike.json")) == (
        schemas.SchemaName.STOLEN_REPORT
    )


def test_item_uniqueness_key_of_a_subject():
    subject = _example("item-phone.json")["credentialSubject"]
    assert schemas.item_uniqueness_key(subject) == "01/09521234543213/21/f2lxk1abcdef"


def test_item_uniqueness_key_refuses_an_unidentifiable_item():
    subject = {"id": "did:key:z6Mkabc", "type": "IndividualProduct", "name": "Chair"}
    with pytest.raises(ItemNotIdentifiableError):
        schemas.item_uniqueness_key(subject)


def test_check_credential_lists_violations_without_raising():
    credential = _example("item-tv.json")
    del credential["credentialSubject"]["name"]
    (violation,) = schemas.check_credential(credential)
    assert violation.pointer == "/credentialSubject/name"


@pytest.mark.parametrize(
    "error",
    [
        SchemaViolationError,
        ItemNotIdentifiableError,
        InvalidGTINError,
        InvalidIMEIError,
        InvalidDigitalLinkError,
    ],
)
def test_schema_violations_answer_422(error):
    assert status_for(error) == 422


def test_validate_document_raises_with_pointer_and_rule():
    with pytest.raises(SchemaViolationError) as info:
        schemas.validate_document({"format": "did-vault-inventory"}, "inventory-export")
    assert info.value.code == "item.schema-invalid"
    assert info.value.context["rule"] == "required"
