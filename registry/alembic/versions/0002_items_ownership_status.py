"""Items (by keyed identity hash), ownership, hosted status lists, registration nonces.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.db import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CURRENT = sa.text("owned_through IS NULL")


def upgrade() -> None:
    op.create_table(
        "item",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("identity_hash", sa.String(length=64), nullable=False),
        sa.Column("item_did", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("identity_hash"),
    )
    op.create_table(
        "ownership",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column(
            "item_id", sa.String(length=64), sa.ForeignKey("item.id"), nullable=False
        ),
        sa.Column("owner_did", sa.String(length=2048), nullable=False),
        sa.Column("assurance", sa.String(length=32), nullable=False),
        sa.Column("issuer_did", sa.String(length=2048), nullable=False),
        sa.Column("owned_from", UTCDateTime(), nullable=False),
        sa.Column("owned_through", UTCDateTime(), nullable=True),
        sa.Column("credential_id", sa.String(length=128), nullable=False),
        sa.Column("bitstring_list", sa.Integer(), nullable=False),
        sa.Column("bitstring_index", sa.Integer(), nullable=False),
        sa.Column("token_list", sa.Integer(), nullable=False),
        sa.Column("token_index", sa.Integer(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("public_json", sa.Text(), nullable=False),
        sa.UniqueConstraint(
            "bitstring_list", "bitstring_index", name="uq_ownership_bitstring_entry"
        ),
        sa.UniqueConstraint(
            "token_list", "token_index", name="uq_ownership_token_entry"
        ),
    )
    op.create_index("ix_ownership_owner_did", "ownership", ["owner_did"])
    op.create_index(
        "uq_ownership_current_item",
        "ownership",
        ["item_id"],
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )
    op.create_table(
        "status_list",
        sa.Column("kind", sa.String(length=16), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "registration_nonce",
        sa.Column("nonce_hash", sa.String(length=64), primary_key=True),
        sa.Column("did", sa.String(length=2048), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_registration_nonce_expires_at", "registration_nonce", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_registration_nonce_expires_at", table_name="registration_nonce")
    op.drop_table("registration_nonce")
    op.drop_table("status_list")
    op.drop_index("uq_ownership_current_item", table_name="ownership")
    op.drop_index("ix_ownership_owner_did", table_name="ownership")
    op.drop_table("ownership")
    op.drop_table("item")
