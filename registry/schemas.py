"""The standard item schema as the registry applies it (``specs/schemas``).

The schemas, models and checks live in ``did_vault.items`` because the wallet
needs them too; this module is the registry's one door to them (STYLE: runtime
code reads ``specs/`` only through ``did_vault/contexts.py`` and here). A
violation raises ``SchemaViolationError`` (``item.schema-invalid``, HTTP 422 via
``registry.problems``) or a more specific subclass, with the JSON pointer and
rule of the first offending field in ``context`` and all of them in
``violations``.
"""

from collections.abc import Mapping
from typing import Any

from did_vault import SchemaViolation, items

SchemaName = items.SchemaName
CREDENTIAL_TYPES = items.CREDENTIAL_TYPES


def validate_credential(credential: Mapping[str, Any]) -> items.SchemaName:
    """Check a registry credential's type, context and subject; return the schema
    its subject follows.

    Raises:
        SchemaViolationError: or a subclass (``item.gtin-invalid`` …).
    """
    return items.validate_credential(credential)


def check_credential(credential: Mapping[str, Any]) -> tuple[SchemaViolation, ...]:
    """Every violation in a registry credential (nothing raised)."""
    return items.check_credential(credential)


def validate_document(document: Any, schema: items.SchemaName | str) -> None:
    """Check a bare document (subject, export) against one schema.

    Raises:
        SchemaViolationError: or a subclass.
        ValueError: ``schema`` is not one of the standard schemas.
    """
    items.validate_document(document, schema)


def item_uniqueness_key(subject: Mapping[str, Any]) -> str:
    """The key under which the registry allows one current owner per item.

    Raises:
        SchemaViolationError: the subject breaks the item schema.
        ItemNotIdentifiableError: it carries no GTIN + serial, brand DID + model +
            serial, IMEI or VIN.
    """
    items.validate_document(subject, items.SchemaName.ITEM)
    return items.Item.from_json(subject).uniqueness_key()
