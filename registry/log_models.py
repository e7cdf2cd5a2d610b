"""Tables of the transparency log (revision 0003; issue 9).

``LogLeaf`` holds each leaf's data (the 32-byte salted commitment to an event) and
its RFC 9162 leaf hash; ``LogNode`` every complete subtree (``level``, ``position``:
the ``2**level`` leaves from ``position * 2**level``), the ``NodeStore`` of
``specs/design/0005-transparency-log.md``; ``LogCheckpoint`` one signed C2SP
checkpoint per tree size.
"""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import BigInteger, LargeBinary, SmallInteger, Text
from sqlmodel import Field, SQLModel

from registry.db import UTCDateTime


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
