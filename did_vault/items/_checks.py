"""The rules of the standard item schema that JSON Schema cannot express.

Check digits (GTIN, IMEI, VIN), Digital Link consistency, multihash digests, date
order. Each check reads a document that already passed its JSON Schema and returns
the violations with JSON pointers relative to ``prefix``. Both the schema validator
(``did_vault.items.schema``) and the pydantic models (``did_vault.items.model``)
run these same functions, so the two accept and reject the same documents.
"""

import base64
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from did_vault.errors import (
    InvalidDigitalLinkError,
    InvalidEncodingError,
    InvalidGTINError,
    InvalidIdentifierError,
    InvalidIMEIError,
    InvalidSerialError,
    InvalidVINError,
    SchemaViolation,
)
from did_vault.items.identifiers import (
    DigitalLink,
    normalize_gtin,
    normalize_identifier,
    normalize_serial,
)
from did_vault.primitives.multikey import base58btc_decode

ITEM_SCHEMA_INVALID = "item.schema-invalid"

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z"
)
_SHA256_MULTIHASH_PREFIX = b"\x12\x20"
_SHA256_MULTIHASH_LENGTH = 34


def pointer_join(prefix: str, *parts: str | int) -> str:
    """``prefix`` extended by ``parts`` as RFC 6901 reference tokens."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/".join([prefix, *escaped]) if parts else prefix


def is_calendar_date(value: str) -> bool:
    """An RFC 3339 full-date naming a real day."""
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_utc_date_time(value: str) -> bool:
    """An RFC 3339 date-time in UTC (``Z``) naming a real instant."""
    if _DATE_TIME.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        return False
    return True


def is_sha256_multihash(value: str) -> bool:
    """A multibase (``u`` base64url or ``z`` base58btc) SHA-256 multihash."""
    try:
        if value.startswith("u"):
            body = value[1:]
            if "=" in body:
                return False
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        elif value.startswith("z"):
            raw = base58btc_decode(value)
        else:
            return False
    except (ValueError, InvalidEncodingError):
        return False
    return len(raw) == _SHA256_MULTIHASH_LENGTH and raw.startswith(
        _SHA256_MULTIHASH_PREFIX
    )


def _violation(
    pointer: str, rule: str, message: str, code: str = ITEM_SCHEMA_INVALID
) -> SchemaViolation:
    return SchemaViolation(pointer=pointer, rule=rule, code=code, message=message)


def _from_error(
    pointer: str,
    exc: InvalidGTINError
    | InvalidSerialError
    | InvalidIMEIError
    | InvalidVINError
    | InvalidDigitalLinkError
    | InvalidIdentifierError,
) -> SchemaViolation:
    rule = str(exc.context.get("rule", "identifier"))
    return _violation(pointer, rule, exc.detail, exc.code)


def _digests(
    items: Any, prefix: str, name: str = "digestMultibase"
) -> Iterator[SchemaViolation]:
    for i, entry in enumerate(items or ()):
        if not is_sha256_multihash(entry[name]):
            yield _violation(
                pointer_join(prefix, i, name),
                "digestMultibase",
                "not a multibase SHA-256 multihash",
            )


def _order(
    document: Mapping[str, Any], prefix: str, earlier: str, later: str
) -> Iterator[SchemaViolation]:
    if earlier not in document or later not in document:
        return
    first = datetime.fromisoformat(document[earlier][:-1] + "+00:00")
    second = datetime.fromisoformat(document[later][:-1] + "+00:00")
    if second < first:
        yield _violation(
            pointer_join(prefix, later), "date-order", f"{later} is before {earlier}"
        )


def check_item(item: Mapping[str, Any], prefix: str = "") -> list[SchemaViolation]:
    """Check digits, serial and identifier values, Digital Link, image digests."""
    found: list[SchemaViolation] = []
    gtin = item.get("gtin")
    if gtin is not None:
        try:
            normalize_gtin(gtin)
        except InvalidGTINError as exc:
            found.append(_from_error(pointer_join(prefix, "gtin"), exc))
    serial = item.get("serialNumber")
    normalized_serial: str | None = None
    if serial is not None:
        try:
            normalized_serial = normalize_serial(serial)
        except InvalidSerialError as exc:
            found.append(_from_error(pointer_join(prefix, "serialNumber"), exc))
    for i, identifier in enumerate(item.get("identifier", ())):
        pointer = pointer_join(prefix, "identifier", i, "value")
        try:
            normalized = normalize_identifier(
                identifier["propertyID"], identifier["value"]
            )
        except (InvalidIMEIError, InvalidVINError, InvalidIdentifierError) as exc:
            found.append(_from_error(pointer, exc))
            continue
        if (
            identifier["propertyID"] in {"imei", "vin"}
            and normalized != identifier["value"]
        ):
            found.append(_violation(pointer, "normalized", "not in normalised form"))
    link = item.get("digitalLink")
    if link is not None:
        found.extend(_check_link(link, gtin, normalized_serial, prefix))
    found.extend(_digests(item.get("image"), pointer_join(prefix, "image")))
    return found


def _check_link(
    link: str, gtin: str | None, serial: str | None, prefix: str
) -> Iterator[SchemaViolation]:
    pointer = pointer_join(prefix, "digitalLink")
    code = InvalidDigitalLinkError.code
    try:
        parsed = DigitalLink.from_uri(link)
    except InvalidDigitalLinkError as exc:
        yield _from_error(pointer, exc)
        return
    if gtin is not None and parsed.gtin != gtin:
        yield _violation(
            pointer, "digital-link-gtin", "the link's GTIN is not the item's", code
        )
    if parsed.serial is not None:
        try:
            link_serial = normalize_serial(parsed.serial)
        except InvalidSerialError:
            link_serial = None
        if serial is None or link_serial != serial:
            yield _violation(
                pointer,
                "digital-link-serial",
                "the link's serial is not the item's serialNumber",
                code,
            )


def check_ownership_info(
    info: Mapping[str, Any], prefix: str = ""
) -> list[SchemaViolation]:
    """Ownership dates in order, evidence digests, log index inside the tree."""
    found = list(_order(info, prefix, "ownedFrom", "ownedThrough"))
    found.extend(_digests(info.get("evidence"), pointer_join(prefix, "evidence")))
    receipt = info.get("registryReceipt")
    if receipt is not None and receipt["logIndex"] >= receipt["treeSize"]:
        found.append(
            _violation(
                pointer_join(prefix, "registryReceipt", "logIndex"),
                "log-index-in-tree",
                "logIndex must be below treeSize",
            )
        )
    return found


def check_ownership(
    subject: Mapping[str, Any], prefix: str = ""
) -> list[SchemaViolation]:
    """As :func:`check_ownership_info`, for an OwnershipCredential subject."""
    return check_ownership_info(subject["owns"], pointer_join(prefix, "owns"))


def check_stolen_report(
    report: Mapping[str, Any], prefix: str = ""
) -> list[SchemaViolation]:
    """The loss precedes the report; a confirmation follows it."""
    found = list(_order(report, prefix, "lossDate", "reportedAt"))
    found.extend(_order(report, prefix, "reportedAt", "confirmedAt"))
    return found


def _distinct_parties(
    document: Mapping[str, Any], prefix: str
) -> Iterator[SchemaViolation]:
    if document["seller"] == document.get("buyer"):
        yield _violation(
            pointer_join(prefix, "buyer"),
            "distinct-parties",
            "seller and buyer are the same DID",
        )


def check_transfer_offer(
    offer: Mapping[str, Any], prefix: str = ""
) -> list[SchemaViolation]:
    """Exactly one of buyer and claim code digest; seller and buyer differ; the
    claim code digest is a SHA-256 multihash."""
    found = list(_distinct_parties(offer, prefix))
    if ("buyer" in offer) == ("claimCodeDigest" in offer):
        found.append(
            _violation(
                pointer_join(prefix, "buyer"),
                "buyer-or-claim-code",
                "an offer names either a buyer or a claim code digest, not both",
            )
        )
    digest = offer.get("claimCodeDigest")
    if digest is not None and not is_sha256_multihash(digest):
        found.append(
            _violation(
                pointer_join(prefix, "claimCodeDigest"),
                "digestMultibase",
                "not a multibase SHA-256 multihash",
            )
        )
    return found


def check_transfer_acceptance(
    acceptance: Mapping[str, Any], prefix: str = ""
) -> list[SchemaViolation]:
    """Seller and buyer differ; the offer digest is a SHA-256 multihash."""
    found = list(_distinct_parties(acceptance, prefix))
    if not is_sha256_multihash(acceptance["offer"]["digestMultibase"]):
        found.append(
            _violation(
                pointer_join(prefix, "offer", "digestMultibase"),
                "digestMultibase",
                "not a multibase SHA-256 multihash",
            )
        )
    return found


def check_inventory_entry(
    entry: Mapping[str, Any], prefix: str = ""
) -> list[SchemaViolation]:
    """The item (and ownership) inside one export entry, and their ids."""
    found = check_item(entry["item"], pointer_join(prefix, "item"))
    if entry["item"]["id"] != entry["id"]:
        found.append(
            _violation(
                pointer_join(prefix, "item", "id"),
                "item-id-matches",
                "the item's id is not the entry's id",
            )
        )
    ownership = entry.get("ownership")
    if ownership is not None:
        found.extend(check_ownership_info(ownership, pointer_join(prefix, "ownership")))
        if ownership["typeOfGood"] != entry["id"]:
            found.append(
                _violation(
                    pointer_join(prefix, "ownership", "typeOfGood"),
                    "item-id-matches",
                    "the ownership is of another item",
                )
            )
    return found


def check_inventory_export(
    export: Mapping[str, Any], prefix: str = ""
) -> list[SchemaViolation]:
    """Every entry, and no item twice."""
    found: list[SchemaViolation] = []
    seen: set[str] = set()
    for i, entry in enumerate(export["items"]):
        entry_prefix = pointer_join(prefix, "items", i)
        found.extend(check_inventory_entry(entry, entry_prefix))
        if entry["id"] in seen:
            found.append(
                _violation(
                    pointer_join(entry_prefix, "id"),
                    "unique-items",
                    "the item is listed twice",
                )
            )
        seen.add(entry["id"])
    return found


Checker = Callable[[Mapping[str, Any], str], list[SchemaViolation]]
