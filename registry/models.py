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
from typing import Any, ClassVar

from pydantic import ConfigDict
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


class SelfAssertedClaim(SQLModel):
    """An owner's own claim: the item (``item.schema.json``) and evidence digests
    (receipt, photos: ``Evidence`` hash links, at least one)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    item: dict[str, Any]
    evidence: list[dict[str, Any]] = Field(min_length=1, max_length=32)


class ItemCreate(SQLModel):
    """``POST /v1/items``: exactly one of ``credential`` (a Data Integrity
    ItemIdentityCredential), ``sd_jwt`` (an SD-JWT VC presentation with Key Binding
    to this registry and ``nonce``) or ``self_asserted``. ``acquisition`` (price,
    purchase date, seller) is carried into the ownership credential."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    credential: dict[str, Any] | None = None
    sd_jwt: str | None = Field(default=None, max_length=65_536)
    nonce: str | None = Field(default=None, max_length=128)
    self_asserted: SelfAssertedClaim | None = None
    acquisition: dict[str, Any] | None = None


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
