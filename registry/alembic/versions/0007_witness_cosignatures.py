"""Witness cosignatures: the witnesses the registry trusts (``log_witness``) and
their verified cosignatures of its checkpoints (``log_cosignature``, one per witness
and tree size; design note 0006).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_witness",
        sa.Column("vkey", sa.String(length=300), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_log_witness_name"),
    )
    op.create_table(
        "log_cosignature",
        sa.Column(
            "tree_size",
            sa.BigInteger(),
            sa.ForeignKey("log_checkpoint.tree_size"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("vkey", sa.String(length=300), primary_key=True),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    # Drops the cosignatures: the checkpoints stay as the registry signed them.
    op.drop_table("log_cosignature")
    op.drop_table("log_witness")
