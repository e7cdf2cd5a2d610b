"""Initial tables: DID authentication challenges and the trust list.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.db import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_challenge",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("did", sa.String(length=2048), nullable=False),
        sa.Column("audience", sa.String(length=2048), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_auth_challenge_challenge_hash",
        "auth_challenge",
        ["challenge_hash"],
        unique=True,
    )
    op.create_index("ix_auth_challenge_expires_at", "auth_challenge", ["expires_at"])
    op.create_table(
        "trust_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("did", sa.String(length=2048), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "did", "role", "brand", name="uq_trust_entry_did_role_brand"
        ),
    )


def downgrade() -> None:
    op.drop_table("trust_entry")
    op.drop_index("ix_auth_challenge_expires_at", table_name="auth_challenge")
    op.drop_index("ix_auth_challenge_challenge_hash", table_name="auth_challenge")
    op.drop_table("auth_challenge")
