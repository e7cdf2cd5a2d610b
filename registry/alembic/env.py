"""Alembic environment: runs on the connection ``registry.migrations`` hands over.

Nothing here runs on import of the registry; only ``registry db upgrade`` (through
``registry.migrations.upgrade``) loads it.
"""

from alembic import context
from sqlmodel import SQLModel

import registry.log_models  # the transparency log's tables
import registry.models  # the registry's tables (all register on SQLModel.metadata)
import registry.request_state  # noqa: F401  (idempotency records, rate-limit buckets)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through registry.migrations.upgrade()")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
