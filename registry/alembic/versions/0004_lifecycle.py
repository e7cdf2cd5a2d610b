"""Ownership lifecycle: item state (missing, stolen), transfer offers and transfers,
custody hand-overs (issue 8).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DID = 2048


def upgrade() -> None:
    op.create_table(
        "item_state",
        sa.Column(
            "item_id", sa.String(length=64), sa.ForeignKey("item.id"), primary_key=True
        ),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reported_by", sa.String(length=_DID), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        sa.Column("loss_date", UTCDateTime(), nullable=True),
        sa.Column("police_report_number", sa.String(length=64), nullable=True),
        sa.Column("place", sa.String(length=500), nullable=True),
        sa.Column("description", sa.String(length=4000), nullable=True),
        sa.Column("confirmed_by", sa.String(length=_DID), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "transfer_offer",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column(
            "item_id", sa.String(length=64), sa.ForeignKey("item.id"), nullable=False
        ),
        sa.Column("seller_did", sa.String(length=_DID), nullable=False),
        sa.Column("buyer_did", sa.String(length=_DID), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("valid_through", UTCDateTime(), nullable=False),
        sa.Column("offer_json", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("nonce_hash"),
    )
    op.create_index("ix_transfer_offer_item_id", "transfer_offer", ["item_id"])
    op.create_index("ix_transfer_offer_buyer_did", "transfer_offer", ["buyer_did"])
    op.create_table(
        "transfer",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column(
            "item_id", sa.String(length=64), sa.ForeignKey("item.id"), nullable=False
        ),
        sa.Column(
            "offer_id",
            sa.String(length=64),
            sa.ForeignKey("transfer_offer.id"),
            nullable=False,
        ),
        sa.Column("seller_did", sa.String(length=_DID), nullable=False),
        sa.Column("buyer_did", sa.String(length=_DID), nullable=False),
        sa.Column(
            "from_ownership_id",
            sa.String(length=64),
            sa.ForeignKey("ownership.id"),
            nullable=False,
        ),
        sa.Column(
            "to_ownership_id",
            sa.String(length=64),
            sa.ForeignKey("ownership.id"),
            nullable=False,
        ),
        sa.Column("offer_digest", sa.String(length=64), nullable=False),
        sa.Column("acceptance_digest", sa.String(length=64), nullable=False),
        sa.Column("transferred_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("offer_id"),
    )
    op.create_index("ix_transfer_item_id", "transfer", ["item_id"])
    op.create_index("ix_transfer_seller_did", "transfer", ["seller_did"])
    op.create_index("ix_transfer_buyer_did", "transfer", ["buyer_did"])
    op.create_table(
        "custody",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column(
            "item_id", sa.String(length=64), sa.ForeignKey("item.id"), nullable=False
        ),
        sa.Column("owner_did", sa.String(length=_DID), nullable=False),
        sa.Column("custodian_did", sa.String(length=_DID), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("expected_back", UTCDateTime(), nullable=True),
        sa.Column("returned_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_custody_item_id", "custody", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_custody_item_id", table_name="custody")
    op.drop_table("custody")
    for name in (
        "ix_transfer_buyer_did",
        "ix_transfer_seller_did",
        "ix_transfer_item_id",
    ):
        op.drop_index(name, table_name="transfer")
    op.drop_table("transfer")
    op.drop_index("ix_transfer_offer_buyer_did", table_name="transfer_offer")
    op.drop_index("ix_transfer_offer_item_id", table_name="transfer_offer")
    op.drop_table("transfer_offer")
    op.drop_table("item_state")
