"""Alembic migrations, driven from code: the configuration lives in the package.

``upgrade`` is what ``registry db upgrade`` runs; nothing migrates on import or at
application start. ``/readyz`` compares ``current_revision`` with ``head_revision``.
"""

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

SCRIPT_LOCATION = "registry:alembic"


def alembic_config() -> Config:
    """The Alembic configuration (what an ``alembic.ini`` would hold)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


@cache
def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None before the first upgrade.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database cannot be reached.
    """
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    """Whether the database is migrated to this code's head revision."""
    return current_revision(engine) == head_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate the database to ``revision`` (default: head); return the new revision.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database cannot be reached or a
            migration failed (its transaction is rolled back).
    """
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    current = current_revision(engine)
    return current or ""


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``base`` empties it)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
