"""Alembic environment: runs on the connection ``registry.migrations`` hands over.

Nothing here runs on import of the registry; only ``registry db upgrade`` (through
``registry.migrations.upgrade``) loads it.
"""

from alembic import context
from sqlmodel import SQLModel

import registry.log_models  # the transparency log's tables
import registry.models  # noqa: F401  (registers the tables on SQLModel.metadata)

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
