"""Typed models of the standard item schema (``specs/schemas``, ``specs/schema.md``).

One frozen pydantic model per schema object, field names in snake_case with the
schema's camelCase names as aliases (dump with :meth:`to_json`). Money is a decimal
string with an ISO 4217 code, instants are RFC 3339 UTC strings (``…Z``), calendar
dates RFC 3339 full-dates; evidence and images are URL + SHA-256 multihash, never
embedded bytes. The models enforce the same rules as the JSON Schemas, including
the named checks (check digits, Digital Link, digests, date order), so that both
accept and reject the same documents; ``tests/unit/did_vault/items/test_model.py``
fails if they drift apart.
"""

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from did_vault.errors import SchemaViolation
from did_vault.items import _checks
from did_vault.items.identifiers import uniqueness_key

# The schemas' patterns, verbatim (specs/schemas/common.schema.json and others).
DID_PATTERN = (
    r"^did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)*"
    r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})$"
)
TEXT_PATTERN = r"^[^\u0000-\u001F\u007F]+$"
LONG_TEXT_PATTERN = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]+$"
DATE_TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z$"
)
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
AMOUNT_PATTERN = r"^(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,4})?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
LINK_PATTERN = r"^(?:https://[^\s/?#]+[^\s]*|urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\s]+)$"
DIGEST_MULTIBASE_PATTERN = (
    r"^(?:uEi[A-D][A-Za-z0-9_-]{43}|zQm[1-9A-HJ-NP-Za-km-z]{44})$"
)
MEDIA_TYPE_PATTERN = (
    r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$"
)
NONCE_PATTERN = r"^[A-Za-z0-9_-]{22,128}$"
DIGITAL_LINK_PATTERN = r"^https?://[^\s]+$"
GTIN14_PATTERN = r"^[0-9]{14}$"
IMEI_PATTERN = r"^[0-9]{15}$"
VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"
INCLUSION_HASH_PATTERN = r"^[A-Za-z0-9+/]{43}=$"

INVENTORY_FORMAT = "did-vault-inventory"
INVENTORY_VERSION = 1


def _format(check: Callable[[str], bool], what: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if not check(value):
            raise ValueError(f"not {what}")
        return value

    return validate


DIDStr = Annotated[
    str, StringConstraints(strict=True, max_length=2048, pattern=DID_PATTERN)
]
Text = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=256, pattern=TEXT_PATTERN),
]
LongText = Annotated[
    str,
    StringConstraints(
        strict=True, min_length=1, max_length=4000, pattern=LONG_TEXT_PATTERN
    ),
]
DateTimeStr = Annotated[
    str,
    StringConstraints(strict=True, pattern=DATE_TIME_PATTERN),
    AfterValidator(_format(_checks.is_utc_date_time, "an RFC 3339 UTC date-time")),
]
DateStr = Annotated[
    str,
    StringConstraints(strict=True, pattern=DATE_PATTERN),
    AfterValidator(_format(_checks.is_calendar_date, "an RFC 3339 full-date")),
]
AmountStr = Annotated[
    str, StringConstraints(strict=True, max_length=20, pattern=AMOUNT_PATTERN)
]
CurrencyStr = Annotated[str, StringConstraints(strict=True, pattern=CURRENCY_PATTERN)]
LinkStr = Annotated[
    str, StringConstraints(strict=True, max_length=2048, pattern=LINK_PATTERN)
]
DigestStr = Annotated[
    str, StringConstraints(strict=True, pattern=DIGEST_MULTIBASE_PATTERN)
]
MediaTypeStr = Annotated[
    str, StringConstraints(strict=True, max_length=127, pattern=MEDIA_TYPE_PATTERN)
]
NonceStr = Annotated[str, StringConstraints(strict=True, pattern=NONCE_PATTERN)]


def format_date_time(moment: datetime) -> str:
    """An aware datetime as the schema's RFC 3339 UTC form (``…Z``, at most µs).

    Raises:
        ValueError: ``moment`` is naive.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no instant; give it a time zone")
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def parse_date_time(text: str) -> datetime:
    """The aware UTC datetime of a schema date-time string.

    Raises:
        ValueError: not an RFC 3339 UTC date-time.
    """
    if not _checks.is_utc_date_time(text):
        raise ValueError("not an RFC 3339 UTC date-time")
    return datetime.fromisoformat(text[:-1] + "+00:00")


def _raise_first(violations: list[SchemaViolation]) -> None:
    if violations:
        first = violations[0]
        where = first.pointer or "/"
        raise ValueError(f"{first.code} at {where} ({first.rule}): {first.message}")


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        serialize_by_alias=True,
    )

    def to_json(self) -> dict[str, Any]:
        """The schema's JSON form: camelCase names, no absent (None) members."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Validate a parsed JSON object.

        Raises:
            pydantic.ValidationError: it breaks the schema (use
                ``did_vault.items.schema.check_document`` for pointers and codes).
        """
        return cls.model_validate(dict(data))


# --- shared building blocks --------------------------------------------------------


class Money(_Model):
    """An amount of money: a decimal string and an ISO 4217 code."""

    amount: AmountStr
    currency: CurrencyStr

    @property
    def value(self) -> Decimal:
        """The amount as a Decimal."""
        return Decimal(self.amount)


class HashLink(_Model):
    """A hash-linked resource (an image): where it is, and the SHA-256 of its bytes."""

    id: LinkStr
    digest_multibase: DigestStr
    media_type: MediaTypeStr | None = None
    name: Text | None = None

    @model_validator(mode="after")
    def _digest(self) -> Self:
        if not _checks.is_sha256_multihash(self.digest_multibase):
            raise ValueError("digestMultibase is not a multibase SHA-256 multihash")
        return self


class EvidenceType(StrEnum):
    RECEIPT = "ReceiptEvidence"
    PHOTO = "PhotoEvidence"
    TRANSFER = "TransferEvidence"
    APPRAISAL = "AppraisalEvidence"
    POLICE_REPORT = "PoliceReportEvidence"
    WARRANTY = "WarrantyEvidence"


class Evidence(HashLink):
    """A hash-linked document supporting a claim."""

    type: EvidenceType


class PartyType(StrEnum):
    BRAND = "Brand"
    ORGANIZATION = "Organization"
    PERSON = "Person"


class Party(_Model):
    """A brand, organization or person: a DID, a name, or both."""

    type: PartyType | None = None
    id: DIDStr | None = None
    name: Text | None = None

    @model_validator(mode="after")
    def _named(self) -> Self:
        if self.id is None and self.name is None:
            raise ValueError("a party needs an id (DID) or a name")
        return self


# --- item --------------------------------------------------------------------------


class IdentifierKind(StrEnum):
    """``propertyID`` values of typed identifiers."""

    IMEI = "imei"
    VIN = "vin"
    FRAME_NUMBER = "frameNumber"
    CASE_NUMBER = "caseNumber"
    MOVEMENT_NUMBER = "movementNumber"


_IDENTIFIER_SHAPES: Mapping[IdentifierKind, re.Pattern[str]] = MappingProxyType(
    {
        IdentifierKind.IMEI: re.compile(IMEI_PATTERN[1:-1]),
        IdentifierKind.VIN: re.compile(VIN_PATTERN[1:-1]),
    }
)


class TypedIdentifier(_Model):
    """A further identifier of an item (schema.org PropertyValue)."""

    type: Literal["PropertyValue"] | None = None
    property_id: IdentifierKind = Field(alias="propertyID")
    value: Annotated[
        str,
        StringConstraints(
            strict=True, min_length=1, max_length=64, pattern=TEXT_PATTERN
        ),
    ]

    @model_validator(mode="after")
    def _shape(self) -> Self:
        shape = _IDENTIFIER_SHAPES.get(self.property_id)
        if shape is not None and shape.fullmatch(self.value) is None:
            raise ValueError(f"{self.property_id.value} value has the wrong shape")
        return self


class Warranty(_Model):
    warranty_expires: DateStr | None = None
    lifetime: StrictBool | None = None
    warrantor: Party | None = None
    description: LongText | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if all(
            v is None
            for v in (
                self.warranty_expires,
                self.lifetime,
                self.warrantor,
                self.description,
            )
        ):
            raise ValueError("a warranty states at least one thing")
        return self


class Item(_Model):
    """One physical thing: the subject of an ItemIdentityCredential."""

    id: DIDStr
    type: Literal["IndividualProduct"]
    name: Text
    description: LongText | None = None
    digital_link: (
        Annotated[
            str,
            StringConstraints(
                strict=True, max_length=2048, pattern=DIGITAL_LINK_PATTERN
            ),
        ]
        | None
    ) = None
    gtin: (
        Annotated[str, StringConstraints(strict=True, pattern=GTIN14_PATTERN)] | None
    ) = None
    serial_number: (
        Annotated[
            str,
            StringConstraints(
                strict=True, min_length=1, max_length=128, pattern=TEXT_PATTERN
            ),
        ]
        | None
    ) = None
    identifier: Annotated[tuple[TypedIdentifier, ...], Field(max_length=16)] | None = (
        None
    )
    brand: Party | None = None
    manufacturer: Party | None = None
    model: Text | None = None
    mpn: Text | None = None
    sku: Text | None = None
    category: Text | None = None
    production_date: DateStr | None = None
    color: Text | None = None
    image: Annotated[tuple[HashLink, ...], Field(max_length=32)] | None = None
    warranty: Warranty | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.digital_link is not None and self.gtin is None:
            raise ValueError("digitalLink needs gtin")
        _raise_first(_checks.check_item(self.to_json()))
        return self

    def identifier_value(self, kind: IdentifierKind) -> str | None:
        """The value of the first typed identifier of ``kind``, if any."""
        for identifier in self.identifier or ():
            if identifier.property_id == kind:
                return identifier.value
        return None

    def uniqueness_key(self) -> str:
        """The registry's key for this item (see ``identifiers.uniqueness_key``).

        Raises:
            ItemNotIdentifiableError: no GTIN + serial, brand DID + model + serial,
                IMEI or VIN.
        """
        return uniqueness_key(
            gtin=self.gtin,
            serial=self.serial_number,
            brand_did=self.brand.id if self.brand is not None else None,
            model=self.model,
            imei=self.identifier_value(IdentifierKind.IMEI),
            vin=self.identifier_value(IdentifierKind.VIN),
        )


# --- ownership ---------------------------------------------------------------------


class Acquisition(_Model):
    price: Money | None = None
    purchase_date: DateStr | None = None
    seller: Party | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.price is None and self.purchase_date is None and self.seller is None:
            raise ValueError("an acquisition states at least one thing")
        return self


class ValuationBasis(StrEnum):
    PURCHASE_PRICE = "purchase-price"
    REPLACEMENT_COST = "replacement-cost"
    MARKET_VALUE = "market-value"
    APPRAISAL = "appraisal"
    OWNER_ESTIMATE = "owner-estimate"


class Valuation(_Model):
    amount: AmountStr
    currency: CurrencyStr
    basis: ValuationBasis
    as_of: DateStr


class RegistryReceipt(_Model):
    """Where the registry logged the ownership: RFC 9162 leaf index, tree size,
    the signed checkpoint (C2SP note text) and the inclusion proof hashes."""

    log_index: Annotated[StrictInt, Field(ge=0)]
    tree_size: Annotated[StrictInt, Field(ge=1)]
    checkpoint: Annotated[
        str, StringConstraints(strict=True, min_length=1, max_length=8192)
    ]
    inclusion_proof: Annotated[
        tuple[
            Annotated[
                str, StringConstraints(strict=True, pattern=INCLUSION_HASH_PATTERN)
            ],
            ...,
        ],
        Field(max_length=64),
    ]


class OwnershipInfo(_Model):
    """schema.org OwnershipInfo: who owns which item since when, and the proof."""

    type: Literal["OwnershipInfo"]
    type_of_good: DIDStr
    owned_from: DateTimeStr
    owned_through: DateTimeStr | None = None
    acquired_from: Party | None = None
    acquisition: Acquisition | None = None
    evidence: Annotated[tuple[Evidence, ...], Field(max_length=32)] | None = None
    valuation: Valuation | None = None
    registry_receipt: RegistryReceipt | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _raise_first(_checks.check_ownership_info(self.to_json()))
        return self


class Ownership(_Model):
    """The subject of an OwnershipCredential: ``id`` (the owner's DID) owns ``owns``."""

    id: DIDStr
    owns: OwnershipInfo


# --- stolen reports and transfers --------------------------------------------------


class ReportStatus(StrEnum):
    MISSING = "missing"
    STOLEN = "stolen"
    RECOVERED = "recovered"


class StolenReport(_Model):
    """The subject of a StolenReportCredential."""

    type: Literal["StolenReport"]
    item: DIDStr
    report_status: ReportStatus
    reported_by: DIDStr
    reported_at: DateTimeStr
    loss_date: DateTimeStr | None = None
    police_report_number: (
        Annotated[
            str,
            StringConstraints(
                strict=True, min_length=1, max_length=64, pattern=TEXT_PATTERN
            ),
        ]
        | None
    ) = None
    place: Text | None = None
    description: LongText | None = None
    confirmed_by: DIDStr | None = None
    confirmed_at: DateTimeStr | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if (self.confirmed_by is None) != (self.confirmed_at is None):
            raise ValueError("confirmedBy and confirmedAt come together")
        if self.report_status == ReportStatus.STOLEN and self.confirmed_by is None:
            raise ValueError("a stolen report is confirmed by a trusted party")
        _raise_first(_checks.check_stolen_report(self.to_json()))
        return self


class TransferOffer(_Model):
    """The subject of a TransferOfferCredential (signed by the seller): to ``buyer``,
    or to whoever holds the one-time claim code whose ``claim_code_digest`` it
    carries (``did_vault.items.claim_code``); exactly one of the two."""

    type: Literal["TransferOffer"]
    item: DIDStr
    seller: DIDStr
    buyer: DIDStr | None = None
    claim_code_digest: DigestStr | None = None
    nonce: NonceStr
    valid_through: DateTimeStr
    price: Money | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _raise_first(_checks.check_transfer_offer(self.to_json()))
        return self


class OfferReference(_Model):
    """The accepted offer credential: its id and the digest of its exact bytes."""

    id: LinkStr
    digest_multibase: DigestStr


class TransferAcceptance(_Model):
    """The subject of a TransferAcceptanceCredential (signed by the buyer)."""

    type: Literal["TransferAcceptance"]
    item: DIDStr
    seller: DIDStr
    buyer: DIDStr
    nonce: NonceStr
    offer: OfferReference
    accepted_at: DateTimeStr

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _raise_first(_checks.check_transfer_acceptance(self.to_json()))
        return self


# --- inventory export --------------------------------------------------------------


class RegistryStatus(StrEnum):
    UNREGISTERED = "unregistered"
    REGISTERED = "registered"
    REPORTED_MISSING = "reported-missing"
    REPORTED_STOLEN = "reported-stolen"
    TRANSFERRED = "transferred"


def _credential(value: dict[str, Any]) -> dict[str, Any]:
    missing = [
        k for k in ("@context", "type", "issuer", "credentialSubject") if k not in value
    ]
    if missing:
        raise ValueError(f"a credential has {', '.join(missing)}")
    if not isinstance(value["@context"], list) or not value["@context"]:
        raise ValueError("a credential's @context is a non-empty array")
    if (
        not isinstance(value["type"], list)
        or "VerifiableCredential" not in value["type"]
    ):
        raise ValueError("a credential's type array holds VerifiableCredential")
    return value


class InventoryEntry(_Model):
    """One item of an inventory export, with its credentials as held."""

    id: DIDStr
    item: Item
    ownership: OwnershipInfo | None = None
    credentials: Annotated[
        tuple[Annotated[dict[str, Any], AfterValidator(_credential)], ...],
        Field(max_length=256),
    ]
    registry_status: RegistryStatus
    import_ref: Text | None = None
    location: Text | None = None
    tags: Annotated[tuple[Text, ...], Field(max_length=64)] | None = None
    quantity: Annotated[StrictInt, Field(ge=1)] | None = None
    notes: LongText | None = None
    extra: (
        Annotated[
            dict[Text, Annotated[str, StringConstraints(strict=True, max_length=4000)]],
            Field(max_length=64),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _raise_first(_checks.check_inventory_entry(self.to_json()))
        return self


class InventoryExport(_Model):
    """An owner's inventory as one versioned JSON document."""

    format: Literal["did-vault-inventory"]
    version: Annotated[StrictInt, Field(ge=INVENTORY_VERSION, le=INVENTORY_VERSION)]
    exported_at: DateTimeStr
    owner: DIDStr
    items: Annotated[tuple[InventoryEntry, ...], Field(max_length=100000)]

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _raise_first(_checks.check_inventory_export(self.to_json()))
        return self
