"""SQLModel families of the registry: tables and their API shapes.

``XBase`` holds the shared fields, ``X`` is the table, ``XCreate`` the input,
``XPublic`` / ``XsPublic`` the output. Table names are explicit and singular; every
timestamp is stored and returned as an aware UTC datetime on SQLite and PostgreSQL.

Items and ownership (revision 0002): an item is stored under the keyed hash of its
uniqueness key (``registry.serial_keys``), never with its serial; a partial unique
index allows one current owner (``owned_through IS NULL``) per item. Status lists
hold no bits: an entry's bit is set exactly when its ownership row is revoked.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, StringConstraints, model_validator
from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from registry.db import UTCDateTime

DID_MAX_LENGTH = 2048
BRAND_MAX_LENGTH = 200


# --- DID authentication -----------------------------------------------------------


class AuthChallenge(SQLModel, table=True):
    """A single-use challenge; only its SHA-256 is stored."""

    __tablename__: ClassVar[str] = "auth_challenge"

    id: int | None = Field(default=None, primary_key=True)
    challenge_hash: str = Field(max_length=64, unique=True, index=True)
    did: str = Field(max_length=DID_MAX_LENGTH)
    audience: str = Field(max_length=DID_MAX_LENGTH)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChallengeCreate(SQLModel):
    """``POST /v1/auth/challenge``: the DID that will answer it."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    did: str = Field(min_length=7, max_length=DID_MAX_LENGTH)


class ChallengePublic(SQLModel):
    challenge: str
    audience: str
    expires_at: datetime


class TokenCreate(SQLModel):
    """``POST /v1/auth/token``: the challenge and a presentation signed over it.

    The presentation carries a Data Integrity proof with ``proofPurpose``
    ``authentication``, ``challenge`` the challenge and ``domain`` the audience.
    """

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    challenge: str = Field(min_length=16, max_length=128)
    presentation: dict[str, Any]


class TokenPublic(SQLModel):
    """An RFC 6749 §5.1 token response."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    did: str


class PrincipalPublic(SQLModel):
    """Who a token speaks for, and their trust-list roles."""

    did: str
    audience: str
    expires_at: datetime
    roles: list[str]


# --- trust list -------------------------------------------------------------------


class TrustRole(StrEnum):
    """What a trusted DID may do."""

    OPERATOR = "operator"
    BRAND_ISSUER = "brand-issuer"
    POLICE = "police"
    INSURER = "insurer"


STOLEN_CONFIRMER_ROLES = frozenset({TrustRole.POLICE, TrustRole.INSURER})
"""Roles whose DIDs may confirm a stolen report."""


class TrustEntryBase(SQLModel):
    did: str = Field(max_length=DID_MAX_LENGTH)
    role: TrustRole = Field(sa_type=String(32))
    # The brand a brand issuer issues for; empty for every other role.
    brand: str = Field(default="", max_length=BRAND_MAX_LENGTH)
    note: str = Field(default="", max_length=500)


class TrustEntry(TrustEntryBase, table=True):
    __tablename__: ClassVar[str] = "trust_entry"
    __table_args__ = (
        UniqueConstraint("did", "role", "brand", name="uq_trust_entry_did_role_brand"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class TrustEntryCreate(TrustEntryBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class TrustEntryPublic(TrustEntryBase):
    id: int
    created_at: datetime


class TrustEntriesPublic(SQLModel):
    data: list[TrustEntryPublic]
    count: int


# --- items and ownership ----------------------------------------------------------

IDENTITY_HASH_LENGTH = 64
ITEM_ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


class Assurance(StrEnum):
    """How much the registry vouches for a registration."""

    ISSUER_ATTESTED = "issuer-attested"
    """A trusted brand issuer signed the item credential."""
    SELF_ASSERTED = "self-asserted"
    """The owner claims it, with evidence digests."""


class StatusListKind(StrEnum):
    BITSTRING = "bitstring"
    TOKEN = "token"


class RegisteredItem(SQLModel, table=True):
    """One identifiable item; ``identity_hash`` is the keyed hash of its
    uniqueness key (GTIN + serial, brand DID + model + serial, IMEI, VIN)."""

    __tablename__: ClassVar[str] = "item"

    id: str = Field(primary_key=True, max_length=64)
    identity_hash: str = Field(max_length=IDENTITY_HASH_LENGTH, unique=True)
    item_did: str = Field(max_length=DID_MAX_LENGTH)
    name: str = Field(max_length=256)
    brand: str = Field(default="", max_length=BRAND_MAX_LENGTH)
    model: str = Field(default="", max_length=256)
    created_at: datetime = Field(sa_type=UTCDateTime)


class OwnershipRecord(SQLModel, table=True):
    """Who owns an item since when, and the status entries of the credentials the
    registry issued for it. ``public_json`` is the owner's view, serialised once."""

    __tablename__: ClassVar[str] = "ownership"
    __table_args__ = (
        Index(
            "uq_ownership_current_item",
            "item_id",
            unique=True,
            sqlite_where=text("owned_through IS NULL"),
            postgresql_where=text("owned_through IS NULL"),
        ),
        UniqueConstraint(
            "bitstring_list", "bitstring_index", name="uq_ownership_bitstring_entry"
        ),
        UniqueConstraint("token_list", "token_index", name="uq_ownership_token_entry"),
    )

    id: str = Field(primary_key=True, max_length=64)
    item_id: str = Field(foreign_key="item.id", max_length=64)
    owner_did: str = Field(max_length=DID_MAX_LENGTH, index=True)
    assurance: str = Field(max_length=32)
    issuer_did: str = Field(max_length=DID_MAX_LENGTH)
    owned_from: datetime = Field(sa_type=UTCDateTime)
    owned_through: datetime | None = Field(default=None, sa_type=UTCDateTime)
    credential_id: str = Field(max_length=128)
    bitstring_list: int
    bitstring_index: int
    token_list: int
    token_index: int
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    public_json: str = Field(sa_type=Text)


class StatusList(SQLModel, table=True):
    """A hosted status list: how many entries are handed out, in a keyed random
    order (``seed``), and a revision bumped on every change to its bits."""

    __tablename__: ClassVar[str] = "status_list"

    kind: str = Field(primary_key=True, max_length=16)
    number: int = Field(primary_key=True)
    length: int
    allocated: int = 0
    seed: str = Field(max_length=64)
    revision: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)


class RegistrationNonce(SQLModel, table=True):
    """A single-use nonce for an SD-JWT VC presentation; only its SHA-256 is kept."""

    __tablename__: ClassVar[str] = "registration_nonce"

    nonce_hash: str = Field(primary_key=True, max_length=64)
    did: str = Field(max_length=DID_MAX_LENGTH)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


BARE_CREDENTIAL_REFUSED = (
    "a bare 'credential' is no longer accepted: present it in a 'presentation' "
    "signed by its subject's DID, with a 'nonce' from POST /v1/items/nonce as the "
    "challenge and this registry's DID as the domain"
)


class SelfAssertedClaim(SQLModel):
    """An owner's own claim: the item (``item.schema.json``) and evidence digests
    (receipt, photos: ``Evidence`` hash links, at least one)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    item: dict[str, Any]
    evidence: list[dict[str, Any]] = Field(min_length=1, max_length=32)


class ItemCreate(SQLModel):
    """``POST /v1/items``: exactly one of ``presentation`` (a Verifiable Presentation
    of a Data Integrity ItemIdentityCredential by its subject, with ``challenge``
    ``nonce`` and ``domain`` this registry's DID), ``sd_jwt`` (an SD-JWT VC
    presentation with Key Binding to this registry and ``nonce``) or
    ``self_asserted``. ``acquisition`` (price, purchase date, seller) is carried into
    the ownership credential."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    presentation: dict[str, Any] | None = None
    sd_jwt: str | None = Field(default=None, max_length=65_536)
    nonce: str | None = Field(default=None, max_length=128)
    self_asserted: SelfAssertedClaim | None = None
    acquisition: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_bare_credential(cls, data: Any) -> Any:
        # A bare credential is a bearer token: whoever saw it could register it.
        if isinstance(data, dict) and "credential" in data:
            raise ValueError(BARE_CREDENTIAL_REFUSED)
        return data


class ItemPublic(SQLModel):
    """The owner's view of one registered item (no serial)."""

    id: str
    did: str
    name: str
    brand: str
    model: str
    owner: str
    assurance: Assurance
    owned_from: datetime
    ownership_id: str
    credential_id: str


class ItemsPublic(SQLModel):
    data: list[ItemPublic]
    count: int


class ItemRegistrationPublic(SQLModel):
    """A registration's answer: the item and the OwnershipCredential in both forms."""

    item: ItemPublic
    credential: dict[str, Any]
    sd_jwt_credential: str


class NoncePublic(SQLModel):
    nonce: str
    audience: str
    expires_at: datetime


# --- lifecycle: transfers, custody, missing and stolen (revision 0004) -------------

TRANSFER_TEXT_MAX = 500
# Free text in requests follows the standard item schema's text rules
# (specs/schemas/common.schema.json): one line has no control characters, several
# lines may also hold tabs and line breaks. PostgreSQL text cannot hold a NUL at all.
SingleLineText = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")]
MultiLineText = Annotated[
    str, StringConstraints(pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
]


class ItemCondition(StrEnum):
    """An item's standing with the registry (``item_state.condition``)."""

    CLEAR = "clear"
    MISSING = "missing"
    STOLEN = "stolen"


class ItemState(SQLModel, table=True):
    """The lifecycle state of an item: missing or stolen, the open report, and a
    ``version`` bumped on every change (the item's ETag). One row per item, made on
    the first change; no row means ``clear`` at version 0."""

    __tablename__: ClassVar[str] = "item_state"

    item_id: str = Field(primary_key=True, foreign_key="item.id", max_length=64)
    condition: str = Field(default=ItemCondition.CLEAR.value, max_length=16)
    version: int = 0
    reported_by: str | None = Field(default=None, max_length=DID_MAX_LENGTH)
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    loss_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    police_report_number: str | None = Field(default=None, max_length=64)
    place: str | None = Field(default=None, max_length=TRANSFER_TEXT_MAX)
    description: str | None = Field(default=None, max_length=4000)
    confirmed_by: str | None = Field(default=None, max_length=DID_MAX_LENGTH)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TransferOfferRecord(SQLModel, table=True):
    """A seller's signed offer, kept until it is accepted or voided. The nonce is
    unique, so an offer is recorded once (``transfer.replayed``)."""

    __tablename__: ClassVar[str] = "transfer_offer"

    id: str = Field(primary_key=True, max_length=64)
    item_id: str = Field(foreign_key="item.id", max_length=64, index=True)
    seller_did: str = Field(max_length=DID_MAX_LENGTH)
    # None for an offer to a claim code until someone accepts it with the code.
    buyer_did: str | None = Field(default=None, max_length=DID_MAX_LENGTH, index=True)
    claim_code_digest: str | None = Field(default=None, max_length=64)
    nonce_hash: str = Field(max_length=64, unique=True)
    digest: str = Field(max_length=64)
    valid_through: datetime = Field(sa_type=UTCDateTime)
    offer_json: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TransferRecord(SQLModel, table=True):
    """A completed transfer: one per offer (unique), the ownerships it closed and
    opened, and the digests of the signed offer and acceptance."""

    __tablename__: ClassVar[str] = "transfer"

    id: str = Field(primary_key=True, max_length=64)
    item_id: str = Field(foreign_key="item.id", max_length=64, index=True)
    offer_id: str = Field(foreign_key="transfer_offer.id", max_length=64, unique=True)
    seller_did: str = Field(max_length=DID_MAX_LENGTH, index=True)
    buyer_did: str = Field(max_length=DID_MAX_LENGTH, index=True)
    from_ownership_id: str = Field(foreign_key="ownership.id", max_length=64)
    to_ownership_id: str = Field(foreign_key="ownership.id", max_length=64)
    offer_digest: str = Field(max_length=64)
    acceptance_digest: str = Field(max_length=64)
    transferred_at: datetime = Field(sa_type=UTCDateTime)


class CustodyPurpose(StrEnum):
    REPAIR = "repair"
    LOAN = "loan"
    STORAGE = "storage"


class CustodyRecord(SQLModel, table=True):
    """A hand-over that is not a sale: the owner stays the owner."""

    __tablename__: ClassVar[str] = "custody"

    id: str = Field(primary_key=True, max_length=64)
    item_id: str = Field(foreign_key="item.id", max_length=64, index=True)
    owner_did: str = Field(max_length=DID_MAX_LENGTH)
    custodian_did: str = Field(max_length=DID_MAX_LENGTH)
    purpose: str = Field(max_length=16)
    note: str = Field(default="", max_length=TRANSFER_TEXT_MAX)
    started_at: datetime = Field(sa_type=UTCDateTime)
    expected_back: datetime | None = Field(default=None, sa_type=UTCDateTime)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- lifecycle API shapes -----------------------------------------------------------


class OfferCreate(SQLModel):
    """``POST /v1/transfers/offers``: a TransferOfferCredential signed by the
    seller (``assertionMethod``, Data Integrity)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    offer: dict[str, Any]


class OfferPublic(SQLModel):
    id: str
    item_id: str
    item_did: str
    seller: str
    # None while an offer to a claim code is unclaimed; then whoever accepted it.
    buyer: str | None
    valid_through: datetime
    digest: str
    accepted: bool
    offer: dict[str, Any]


class OffersPublic(SQLModel):
    data: list[OfferPublic]
    count: int


class AcceptanceCreate(SQLModel):
    """``POST /v1/transfers/offers/{id}/accept``: a TransferAcceptanceCredential
    signed by the buyer, naming the offer by id and digest."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    acceptance: dict[str, Any]
    # For an offer to a claim code: the code the seller handed over (printed form
    # or not; case, spaces and dashes are ignored).
    claim_code: str | None = Field(default=None, min_length=1, max_length=64)


class ClaimCodeCreate(SQLModel):
    """``POST /v1/transfers/offers/{id}/claim``: the one-time claim code that opens
    an offer made to a claim code (in the body, never in a URL)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    claim_code: str = Field(min_length=1, max_length=64)


class TransferPublic(SQLModel):
    id: str
    item_id: str
    item_did: str
    seller: str
    buyer: str
    transferred_at: datetime
    offer_digest: str
    acceptance_digest: str


class TransfersPublic(SQLModel):
    data: list[TransferPublic]
    count: int


class TransferResultPublic(SQLModel):
    """A transfer's answer: the record, the buyer's OwnershipCredential, and where
    the log holds the transfer (``receipt``, null when the registry's key cannot
    sign checkpoints; ``opening``, the buyer's to keep), as at registration."""

    transfer: TransferPublic
    item: ItemPublic
    credential: dict[str, Any]
    sd_jwt_credential: str
    receipt: dict[str, Any] | None = None
    opening: dict[str, Any] | None = None


class CustodyCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    custodian: str = Field(min_length=7, max_length=DID_MAX_LENGTH)
    purpose: CustodyPurpose
    note: MultiLineText = Field(default="", max_length=TRANSFER_TEXT_MAX)
    expected_back: datetime | None = None


class CustodyPublic(SQLModel):
    id: str
    item_id: str
    owner: str
    custodian: str
    purpose: CustodyPurpose
    note: str
    started_at: datetime
    expected_back: datetime | None
    returned_at: datetime | None


class CustodiesPublic(SQLModel):
    data: list[CustodyPublic]
    count: int


class MissingCreate(SQLModel):
    """``POST /v1/items/{id}/missing``: the owner's report."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    loss_date: datetime | None = None
    place: SingleLineText | None = Field(default=None, max_length=TRANSFER_TEXT_MAX)
    description: MultiLineText | None = Field(default=None, max_length=4000)


class StolenConfirm(SQLModel):
    """``POST /v1/items/{id}/stolen``: a trusted confirmer's report."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    reported_at: datetime
    police_report_number: SingleLineText = Field(min_length=1, max_length=64)
    place: SingleLineText | None = Field(default=None, max_length=TRANSFER_TEXT_MAX)
    description: MultiLineText | None = Field(default=None, max_length=4000)


class ItemStatePublic(SQLModel):
    """The lifecycle state of an item, for its owner and trusted confirmers; its
    ``etag`` goes into ``If-Match`` on the next change."""

    item_id: str
    item_did: str
    condition: ItemCondition
    version: int
    etag: str
    reported_by: str | None = None
    reported_at: datetime | None = None
    loss_date: datetime | None = None
    police_report_number: str | None = None
    place: str | None = None
    description: str | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    custody: CustodyPublic | None = None
    # In the answer to a missing / stolen / recovered change only: the log receipt
    # of that event and the caller's private opening of its salted leaf, the
    # offline proof of when the registry recorded the report (null when the
    # registry's key cannot sign checkpoints).
    receipt: dict[str, Any] | None = None
    opening: dict[str, Any] | None = None


class StolenCheck(SQLModel):
    """``POST /v1/stolen-check``: GTIN + serial, or a GS1 Digital Link URI."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    gtin: str | None = Field(default=None, max_length=14)
    serial: str | None = Field(default=None, max_length=128)
    digital_link: str | None = Field(default=None, max_length=2048)


class StolenCheckStatus(StrEnum):
    CLEAR = "clear"
    REPORTED_STOLEN = "reported_stolen"
    UNKNOWN = "unknown"


class StolenCheckPublic(SQLModel):
    status: StolenCheckStatus


class PresentationVerify(SQLModel):
    """``POST /v1/verify/presentation``: an SD-JWT VC presentation (``sd_jwt``) or
    a Data Integrity VP (``presentation``), the ``nonce`` and ``audience`` it must be
    bound to, and what was asked: a ``template`` name or a ``dcql`` query."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    sd_jwt: str | None = Field(default=None, max_length=65_536)
    presentation: dict[str, Any] | None = None
    nonce: str = Field(min_length=8, max_length=128)
    audience: str = Field(min_length=7, max_length=DID_MAX_LENGTH)
    template: str | None = Field(default=None, max_length=64)
    dcql: dict[str, Any] | None = None


class RegistryFacts(SQLModel):
    item_did: str | None
    registered: bool
    current_owner: bool
    revoked: bool
    reported_stolen: bool
    reported_missing: bool
    owned_from: datetime | None = None
    registered_at: datetime | None = None


class PresentationVerification(SQLModel):
    verified: bool
    format: str
    holder: str | None
    disclosed: dict[str, Any]
    facts: RegistryFacts


class InsurerVerify(SQLModel):
    """``POST /v1/verify/insurer``: the owner's presentation bound to the insurer
    (``audience`` = the insurer's DID, ``nonce``), or an owner-signed ``consent``
    (a Data Integrity signed ``OwnershipDisclosureConsent`` naming item, insurer and
    expiry), and optionally the ``before`` date the registration must precede."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    sd_jwt: str | None = Field(default=None, max_length=65_536)
    nonce: str | None = Field(default=None, max_length=128)
    consent: dict[str, Any] | None = None
    before: datetime | None = None


class InsurerVerification(SQLModel):
    item_did: str
    owner: str
    current_owner: bool
    owned_from: datetime | None
    registered_at: datetime | None
    registered_before: bool | None
    reported_stolen: bool
    reported_missing: bool
    value: dict[str, Any] | None = None
    purchase_date: str | None = None
    disclosed: dict[str, Any]
    evidence: str
