"""Shared fixtures: a fixed clock, seeded keys, and the database stores under test.

PostgreSQL-backed tests use ``REGISTRY_TEST_POSTGRES_URL`` (default: the local server
on 127.0.0.1:5432, database ``test``). Without a reachable server they are skipped with
the reason; with ``REQUIRE_POSTGRES=1`` (set by ``.ci/run``) they fail instead.
"""

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from registry.db import make_engine

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FIXED_NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    """The fixed clock every unit test uses."""
    return FIXED_NOW


@pytest.fixture
def seed32() -> bytes:
    """A fixed 32-byte seed (0x00…00, the did:key spec's first vector seed)."""
    return bytes(32)


def _postgres_engine() -> Engine:
    url = os.environ.get("REGISTRY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    required = os.environ.get("REQUIRE_POSTGRES") == "1"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        reason = (
            f"PostgreSQL is not reachable at {engine.url.render_as_string()} "
            f"({type(exc).__name__}); start it or set REGISTRY_TEST_POSTGRES_URL"
        )
        if required:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    return engine


@pytest.fixture(
    params=[
        "sqlite-file",
        "sqlite-memory",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine for each store the registry supports."""
    if request.param == "postgresql":
        db_engine = _postgres_engine()
    elif request.param == "sqlite-file":
        path = tmp_path_factory.mktemp("db") / "registry.sqlite3"
        db_engine = make_engine(f"sqlite:///{path}")
    else:
        db_engine = make_engine("sqlite://")
    yield db_engine
    db_engine.dispose()
