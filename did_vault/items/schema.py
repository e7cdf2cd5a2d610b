"""Validation against the standard item schema (JSON Schema 2020-12, ``specs/schemas``).

The schemas are read from the packaged ``specs`` copy through
``importlib.resources`` and never fetched: their ``$id`` URLs under
:data:`SCHEMA_BASE_URI` are names, resolved offline. A document that breaks a rule
fails with the JSON pointer (RFC 6901) of the offending field, the rule (the JSON
Schema keyword, or the named check of ``specs/schema.md`` for what JSON Schema
cannot say: check digits, Digital Link consistency, digests, date order) and the
most specific error code.

Patterns follow ECMA-262, as JSON Schema requires: ``$`` matches only at the very
end (Python's ``re`` would also match before a final newline).
"""

import json
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.validators import extend
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from did_vault.contexts import REGISTRY_V1_URL
from did_vault.errors import (
    InvalidDigitalLinkError,
    InvalidGTINError,
    InvalidIdentifierError,
    InvalidIMEIError,
    InvalidSerialError,
    InvalidVINError,
    ItemNotIdentifiableError,
    MalformedInputError,
    SchemaViolation,
    SchemaViolationError,
)
from did_vault.items import _checks
from did_vault.items._checks import ITEM_SCHEMA_INVALID, pointer_join

SCHEMA_BASE_URI = "https://registry.example/schemas/v1/"
VERIFIABLE_CREDENTIAL_TYPE = "VerifiableCredential"

_SCHEMAS_PACKAGE = "specs"
_SCHEMAS_DIR = "schemas"
_COMMON = "common"


class SchemaName(StrEnum):
    """The standard schemas, by file stem under ``specs/schemas``."""

    ITEM = "item"
    OWNERSHIP = "ownership"
    STOLEN_REPORT = "stolen-report"
    TRANSFER_OFFER = "transfer-offer"
    TRANSFER_ACCEPTANCE = "transfer-acceptance"
    INVENTORY_EXPORT = "inventory-export"

    @property
    def file_name(self) -> str:
        """The schema's file name, e.g. ``item.schema.json``."""
        return f"{self.value}.schema.json"

    @property
    def uri(self) -> str:
        """The schema's ``$id``."""
        return SCHEMA_BASE_URI + self.file_name


# Credential type -> the schema of its credentialSubject.
CREDENTIAL_TYPES: Mapping[str, SchemaName] = MappingProxyType(
    {
        "ItemIdentityCredential": SchemaName.ITEM,
        "OwnershipCredential": SchemaName.OWNERSHIP,
        "StolenReportCredential": SchemaName.STOLEN_REPORT,
        "TransferOfferCredential": SchemaName.TRANSFER_OFFER,
        "TransferAcceptanceCredential": SchemaName.TRANSFER_ACCEPTANCE,
    }
)

_CHECKS: Mapping[SchemaName, _checks.Checker] = MappingProxyType(
    {
        SchemaName.ITEM: _checks.check_item,
        SchemaName.OWNERSHIP: _checks.check_ownership,
        SchemaName.STOLEN_REPORT: _checks.check_stolen_report,
        SchemaName.TRANSFER_OFFER: _checks.check_transfer_offer,
        SchemaName.TRANSFER_ACCEPTANCE: _checks.check_transfer_acceptance,
        SchemaName.INVENTORY_EXPORT: _checks.check_inventory_export,
    }
)

_ERROR_BY_CODE: Mapping[str, type[SchemaViolationError]] = MappingProxyType(
    {
        cls.code: cls
        for cls in (
            SchemaViolationError,
            ItemNotIdentifiableError,
            InvalidIdentifierError,
            InvalidGTINError,
            InvalidSerialError,
            InvalidIMEIError,
            InvalidVINError,
            InvalidDigitalLinkError,
        )
    }
)


def read_schema(name: SchemaName | str) -> dict[str, Any]:
    """The packaged JSON Schema ``name`` (``item``, ``ownership``, …, or ``common``),
    parsed, as a fresh copy.

    Raises:
        ValueError: not one of the standard schemas.
        MalformedInputError: the packaged file is not a JSON object (a broken
            installation).
    """
    stem = _COMMON if name == _COMMON else SchemaName(name).value
    resource = resources.files(_SCHEMAS_PACKAGE).joinpath(
        _SCHEMAS_DIR, f"{stem}.schema.json"
    )
    try:
        document = json.loads(resource.read_bytes())
    except ValueError as exc:
        raise MalformedInputError(
            "a packaged JSON Schema is not valid JSON", schema=stem
        ) from exc
    if not isinstance(document, dict):
        raise MalformedInputError(
            "a packaged JSON Schema is not a JSON object", schema=stem
        )
    return document


# --- the validator -----------------------------------------------------------------


def _ecma_pattern(pattern: str) -> str:
    # JSON Schema patterns are ECMA-262: '$' (unescaped, at the end) is the end of
    # input. Python's '$' also matches before a trailing newline; '\Z' does not.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def _pattern_keyword(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not re.search(
        _ecma_pattern(pattern), instance
    ):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date")(_checks.is_calendar_date)
    checker.checks("date-time")(_checks.is_utc_date_time)
    return checker


_Validator = extend(Draft202012Validator, {"pattern": _pattern_keyword})


class SchemaSet:
    """The standard schemas, compiled once per instance.

    Holds nothing but parsed copies of the immutable packaged files, so one shared
    instance (:func:`packaged_schemas`) serves every caller.
    """

    def __init__(self) -> None:
        documents = {name: read_schema(name) for name in SchemaName}
        common = read_schema(_COMMON)
        registry: Registry[Any] = Registry().with_resources(
            [
                (doc["$id"], DRAFT202012.create_resource(doc))
                for doc in [common, *documents.values()]
            ]
        )
        checker = _format_checker()
        self._validators = MappingProxyType(
            {
                name: _Validator(doc, registry=registry, format_checker=checker)
                for name, doc in documents.items()
            }
        )

    def check(
        self, document: Any, name: SchemaName, *, prefix: str = ""
    ) -> tuple[SchemaViolation, ...]:
        """Every violation of schema ``name`` in ``document``; empty if it is valid.

        Structural rules (JSON Schema) come first; the named checks run only on a
        document that passes them. Pointers start with ``prefix``.
        """
        errors = sorted(
            self._validators[name].iter_errors(document),
            key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)),
        )
        if errors:
            return tuple(_to_violation(document, e, prefix) for e in errors)
        return tuple(_CHECKS[name](document, prefix))


def packaged_schemas() -> SchemaSet:
    """The shared, compiled set of the packaged schemas."""
    return _PACKAGED


def _missing(error: ValidationError, names: Any) -> str | None:
    instance = error.instance
    if isinstance(instance, Mapping):
        for name in names:
            if name not in instance:
                return str(name)
    return None


def _to_violation(
    document: Any, error: ValidationError, prefix: str
) -> SchemaViolation:
    path = list(error.absolute_path)
    keyword = str(error.validator)
    message = error.message[:300]
    if keyword == "oneOf":
        names = _one_of_names(error.validator_value)
        if names:
            message = f"exactly one of {', '.join(names)} is required"
    elif keyword == "required":
        name = _missing(error, error.validator_value)
        if name is not None:
            path.append(name)
    elif keyword == "dependentRequired":
        for trigger, needed in error.validator_value.items():
            if isinstance(error.instance, Mapping) and trigger in error.instance:
                name = _missing(error, needed)
                if name is not None:
                    path.append(name)
                    break
    elif keyword == "additionalProperties" and isinstance(error.instance, Mapping):
        known = error.schema.get("properties", {})
        extras = sorted(k for k in error.instance if k not in known)
        if extras:
            path.append(extras[0])
    return SchemaViolation(
        pointer=pointer_join(prefix, *path),
        rule=keyword,
        code=_code_for(document, path),
        message=message,
    )


def _one_of_names(branches: Any) -> list[str]:
    """The property names of a ``oneOf`` made only of one-name ``required``
    branches (``[{"required": ["buyer"]}, …]``), else nothing."""
    names: list[str] = []
    for branch in branches if isinstance(branches, list) else []:
        required = branch.get("required") if isinstance(branch, Mapping) else None
        if set(branch) != {"required"} or not isinstance(required, list):
            return []
        if len(required) != 1 or not isinstance(required[0], str):
            return []
        names.append(required[0])
    return names


def _code_for(document: Any, path: list[str | int]) -> str:
    """The most specific code for a structural violation at ``path``."""
    if not path:
        return ITEM_SCHEMA_INVALID
    last = path[-1]
    if last == "gtin":
        return InvalidGTINError.code
    if last == "digitalLink":
        return InvalidDigitalLinkError.code
    if last == "serialNumber":
        return InvalidSerialError.code
    if last == "value" and len(path) >= 3 and path[-3] == "identifier":
        parent: Any = document
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return ITEM_SCHEMA_INVALID
        kind = parent.get("propertyID") if isinstance(parent, Mapping) else None
        if kind == "imei":
            return InvalidIMEIError.code
        if kind == "vin":
            return InvalidVINError.code
        return InvalidIdentifierError.code
    return ITEM_SCHEMA_INVALID


# --- the public calls --------------------------------------------------------------


def check_document(
    document: Any, schema: SchemaName | str, *, prefix: str = ""
) -> tuple[SchemaViolation, ...]:
    """Every violation of ``schema`` in ``document`` (a parsed JSON value); empty
    when it is valid. For row-by-row reports: nothing is raised.

    Raises:
        ValueError: ``schema`` is not one of the standard schemas.
    """
    return packaged_schemas().check(document, SchemaName(schema), prefix=prefix)


def raise_violations(violations: tuple[SchemaViolation, ...], what: str) -> None:
    """Raise the error of the first violation, carrying them all (no-op if none).

    Raises:
        SchemaViolationError: or its subclass for the first violation's code.
    """
    if not violations:
        return
    first = violations[0]
    cls = _ERROR_BY_CODE.get(first.code, SchemaViolationError)
    raise cls(
        f"{what} breaks the standard item schema at {first.pointer or '/'}: "
        f"{first.message}",
        violations=violations,
        pointer=first.pointer,
        rule=first.rule,
    )


def validate_document(document: Any, schema: SchemaName | str) -> None:
    """Check ``document`` against ``schema``; return quietly if it is valid.

    Raises:
        SchemaViolationError: the first violation (a subclass such as
            InvalidGTINError when one is more specific); ``violations`` has all.
        ValueError: ``schema`` is not one of the standard schemas.
    """
    name = SchemaName(schema)
    raise_violations(check_document(document, name), f"the {name.value} document")


def credential_schema(credential: Mapping[str, Any]) -> SchemaName | None:
    """The schema of ``credential``'s subject, from its ``type``; None if it is not
    one of the registry's credential types."""
    types = credential.get("type")
    if not isinstance(types, list):
        return None
    found = [CREDENTIAL_TYPES[t] for t in types if t in CREDENTIAL_TYPES]
    return found[0] if len(found) == 1 else None


def check_credential(credential: Any) -> tuple[SchemaViolation, ...]:
    """Every violation in a registry credential: its type, context and subject.

    The credential's VCDM 2.0 rules and proofs are the verifier's business
    (``verify_credential``); this checks what the standard item schema adds.
    """
    if not isinstance(credential, Mapping):
        return (_violation("", "type", "a credential is a JSON object"),)
    name = credential_schema(credential)
    found: list[SchemaViolation] = []
    types = credential.get("type")
    if (
        name is None
        or not isinstance(types, list)
        or VERIFIABLE_CREDENTIAL_TYPE not in types
    ):
        found.append(
            _violation(
                "/type",
                "contains",
                "type must hold VerifiableCredential and exactly one of "
                + ", ".join(CREDENTIAL_TYPES),
            )
        )
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or REGISTRY_V1_URL not in contexts:
        found.append(
            _violation("/@context", "contains", f"@context must hold {REGISTRY_V1_URL}")
        )
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        found.append(
            _violation(
                "/credentialSubject",
                "type",
                "credentialSubject must be one JSON object",
            )
        )
    elif name is not None:
        found.extend(check_document(subject, name, prefix="/credentialSubject"))
    return tuple(found)


def validate_credential(credential: Any) -> SchemaName:
    """Check a registry credential; return the schema its subject follows.

    Raises:
        SchemaViolationError: the first violation (or a more specific subclass);
            ``violations`` holds all of them.
    """
    raise_violations(check_credential(credential), "the credential")
    name = credential_schema(credential)
    assert name is not None  # check_credential reported it otherwise
    return name


def _violation(pointer: str, rule: str, message: str) -> SchemaViolation:
    return SchemaViolation(
        pointer=pointer, rule=rule, code=ITEM_SCHEMA_INVALID, message=message
    )


_PACKAGED = SchemaSet()
