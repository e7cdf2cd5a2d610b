"""SQLModel families of the registry: tables and their API shapes.

``XBase`` holds the shared fields, ``X`` is the table, ``XCreate`` the input,
``XPublic`` / ``XsPublic`` the output. Table names are explicit and singular; every
timestamp is stored and returned as an aware UTC datetime on SQLite and PostgreSQL.

Items, ownership and keyed serial hashes arrive with the schema issue (see
``specs/design/0003-registry-service.md``); their tables go here and into a new
Alembic revision.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import ConfigDict
from sqlalchemy import String, UniqueConstraint
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
