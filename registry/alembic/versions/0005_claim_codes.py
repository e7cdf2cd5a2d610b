"""Transfer offers to a one-time claim code: the buyer is unknown until the offer is
accepted, so ``transfer_offer.buyer_did`` becomes nullable and the offer keeps the
digest of its claim code (issue 8).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DID = 2048


def upgrade() -> None:
    with op.batch_alter_table("transfer_offer") as batch:
        batch.alter_column(
            "buyer_did", existing_type=sa.String(length=_DID), nullable=True
        )
        batch.add_column(
            sa.Column("claim_code_digest", sa.String(length=64), nullable=True)
        )


def downgrade() -> None:
    # Unclaimed claim-code offers have no buyer: they cannot survive the downgrade.
    op.execute("DELETE FROM transfer_offer WHERE buyer_did IS NULL")
    with op.batch_alter_table("transfer_offer") as batch:
        batch.drop_column("claim_code_digest")
        batch.alter_column(
            "buyer_did", existing_type=sa.String(length=_DID), nullable=False
        )
