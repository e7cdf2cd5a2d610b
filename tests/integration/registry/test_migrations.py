"""Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import registry.log_models  # the log's tables
import registry.models  # the tables
import registry.request_state  # noqa: F401  (idempotency, rate limits)
from registry import migrations


def test_fresh_database_has_no_revision(blank_engine):
    assert migrations.current_revision(blank_engine) is None
    assert not migrations.is_at_head(blank_engine)


def test_upgrade_reaches_head_and_matches_models(blank_engine):
    assert migrations.upgrade(blank_engine) == migrations.head_revision()
    with blank_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_is_idempotent_and_downgrade_empties(blank_engine):
    migrations.upgrade(blank_engine)
    migrations.upgrade(blank_engine)
    migrations.downgrade(blank_engine, "base")
    assert migrations.current_revision(blank_engine) is None
