"""Tables of the transparency log (revision 0003; issue 9).

``LogLeaf`` holds each leaf's data (the 32-byte salted commitment to an event) and
its RFC 9162 leaf hash; ``LogNode`` every complete subtree (``level``, ``position``:
the ``2**level`` leaves from ``position * 2**level``), the ``NodeStore`` of
``specs/design/0005-transparency-log.md``; ``LogCheckpoint`` one signed C2SP
checkpoint per tree size. ``LogWitness`` lists the witnesses whose cosignatures the
registry keeps (revision 0007), ``LogCosignature`` one witness cosignature per
witness and tree size (design note 0006, "Witness cosignatures").
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from registry.db import UTCDateTime
from registry.models import ItemRegistrationPublic


class LogLeaf(SQLModel, table=True):
    __tablename__: ClassVar[str] = "log_leaf"

    index: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    leaf_hash: bytes = Field(sa_type=LargeBinary)
    leaf_data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime)


class LogNode(SQLModel, table=True):
    __tablename__: ClassVar[str] = "log_node"

    level: int = Field(
        primary_key=True,
        sa_type=SmallInteger,
        sa_column_kwargs={"autoincrement": False},
    )
    position: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    hash: bytes = Field(sa_type=LargeBinary)


class LogCheckpoint(SQLModel, table=True):
    __tablename__: ClassVar[str] = "log_checkpoint"

    tree_size: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    note: str = Field(sa_type=Text)
    root_hash: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime)


WITNESS_NAME_MAX_LENGTH = 200
VKEY_MAX_LENGTH = 300
"""A vkey is the name, ``+``, 8 hex digits, ``+`` and 44 base64 characters."""


class LogWitness(SQLModel, table=True):
    """A witness the registry trusts: its C2SP note key (``vkey``, as Go's
    ``golang.org/x/mod/sumdb/note`` writes it) and that key's name."""

    __tablename__: ClassVar[str] = "log_witness"
    __table_args__ = (UniqueConstraint("name", name="uq_log_witness_name"),)

    vkey: str = Field(primary_key=True, sa_type=String(VKEY_MAX_LENGTH))
    name: str = Field(sa_type=String(WITNESS_NAME_MAX_LENGTH))
    note: str = Field(default="", sa_type=String(500))
    added_at: datetime = Field(sa_type=UTCDateTime)


class LogCosignature(SQLModel, table=True):
    """A trusted witness's verified ``cosignature/v1`` of one stored checkpoint:
    the signature line as the witness wrote it, and the time it states."""

    __tablename__: ClassVar[str] = "log_cosignature"

    tree_size: int = Field(
        primary_key=True,
        foreign_key="log_checkpoint.tree_size",
        sa_type=BigInteger,
        sa_column_kwargs={"autoincrement": False},
    )
    vkey: str = Field(primary_key=True, sa_type=String(VKEY_MAX_LENGTH))
    signature: str = Field(sa_type=Text, description="the note's signature line")
    timestamp: int = Field(sa_type=BigInteger, description="POSIX seconds")
    created_at: datetime = Field(sa_type=UTCDateTime)


# --- API shapes -----------------------------------------------------------------------


class LoggedRegistrationPublic(ItemRegistrationPublic):
    """``POST /v1/items``: the registration, and where the log holds it.

    ``receipt`` (``leafIndex``, ``leafData``, ``checkpoint``, ``inclusionProof``;
    did_vault's ``Receipt.to_json``) proves the registration event is in the log
    under a signed checkpoint; ``opening`` (``salt``, ``event``) is what the leaf
    commits to. Only the owner gets the opening: keep both in the wallet.
    ``receipt`` is null when the registry's key cannot sign checkpoints (P-256).
    """

    receipt: dict[str, Any] | None = None
    opening: dict[str, Any]


class InclusionProofPublic(SQLModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(description="standard base64")
    proof: list[str] = Field(description="RFC 9162 inclusion path, base64")


class ConsistencyProofPublic(SQLModel):
    old_size: int
    new_size: int
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64")


class LeafPublic(SQLModel):
    index: int
    leaf_hash: str = Field(description="RFC 9162 leaf hash, base64")
    leaf_data: str = Field(
        description="the 32-byte salted commitment to the event, base64"
    )


class LeavesPublic(SQLModel):
    start: int
    end: int
    data: list[LeafPublic]


class LogVerificationPublic(SQLModel):
    """``registry log verify``: what was checked and signed."""

    size: int
    root_hash: str
    checkpoints: int
    latest_checkpoint: int | None
    signed_tail: int | None
    vkey: str | None = Field(
        default=None,
        description="the C2SP verifier key of the checkpoints, to compare with "
        "what auditors pinned on first use",
    )


class LogWitnessPublic(SQLModel):
    """A trusted witness (``registry log witness list``)."""

    name: str
    vkey: str
    note: str
    added_at: datetime


class WitnessCosignaturePublic(SQLModel):
    witness: str = Field(description="the witness's key name")
    vkey: str = Field(description="the witness's C2SP verifier key")
    time: datetime = Field(description="the time the cosignature states")
    stored: bool = Field(
        description="true: stored by this request; false: this witness's "
        "cosignature of this tree size was stored before (kept as it was)"
    )


class CosignaturesPublic(SQLModel):
    """``POST /v1/log/cosignatures``: the trusted witnesses' cosignatures found."""

    origin: str
    tree_size: int
    cosignatures: list[WitnessCosignaturePublic]
    ignored: int = Field(
        description="signature lines by keys that are neither the registry's nor "
        "a trusted witness's (C2SP signed-note: unknown signatures are ignored)"
    )
