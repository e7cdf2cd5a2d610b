"""Request state shared by every worker: ``Idempotency-Key`` records and the
stolen-check's rate-limit buckets, until now kept in memory per process.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    op.create_index(
        "ix_idempotency_record_created_at", "idempotency_record", ["created_at"]
    )
    op.create_table(
        "rate_limit_bucket",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_rate_limit_bucket_updated_at", "rate_limit_bucket", ["updated_at"]
    )


def downgrade() -> None:
    # Only transient state lives here: dropping it forgets stored responses and
    # refills every bucket, nothing more.
    op.drop_index("ix_rate_limit_bucket_updated_at", table_name="rate_limit_bucket")
    op.drop_table("rate_limit_bucket")
    op.drop_index("ix_idempotency_record_created_at", table_name="idempotency_record")
    op.drop_table("idempotency_record")
