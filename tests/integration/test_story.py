"""The whole ownership story (``make run``) on each store: SQLite and PostgreSQL.

The registry runs as ``registry serve`` in a subprocess over HTTPS on 127.0.0.1;
the commands run in this interpreter (the same code as the console scripts).
PostgreSQL uses a fresh database on the server at ``REGISTRY_TEST_POSTGRES_URL``;
without a reachable server the case is skipped with the reason, unless
``REQUIRE_POSTGRES=1``. Steps whose registry capability is not merged yet must be
reported pending; every other step must pass.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from cli.commands.lifecycle import available_capabilities
from cli.demo import STEPS, StepStatus, run_in_process, story
from cli.output import Output

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    url = make_url(os.environ.get("REGISTRY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"story_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        reason = (
            f"PostgreSQL is not reachable at {url.render_as_string()} "
            f"({type(exc).__name__}); start it or set REGISTRY_TEST_POSTGRES_URL"
        )
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tell(tmp_path: Path, database_url: str | None) -> None:
    report = story(
        Output(as_json=False),
        tmp_path,
        insecure_test_kdf=True,
        database_url=database_url,
        runner=run_in_process,
    )

    assert [s.key for s in report.steps] == [s.key for s in STEPS]
    capabilities = available_capabilities()
    passed: set[str] = set()
    for step, result in zip(STEPS, report.steps, strict=True):
        runnable = all(need in capabilities for need in step.needs) and all(
            earlier in passed for earlier in step.after
        )
        expected = StepStatus.PASSED if runnable else StepStatus.PENDING
        assert result.status is expected, result
        if runnable:
            passed.add(step.key)


def test_story_on_sqlite(tmp_path: Path) -> None:
    _tell(tmp_path, None)


@pytest.mark.postgres
def test_story_on_postgresql(tmp_path: Path, postgres_database: str) -> None:
    _tell(tmp_path, postgres_database)
