"""Storage health: can the configured database be reached, and which one is it."""

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from registry.db import make_engine


def check_database(url: str) -> dict[str, str]:
    """Connect, run a query, and describe the backend.

    Raises:
        sqlalchemy.exc.OperationalError: the database cannot be reached.
        ValueError: the URL names an unsupported database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None,
        "",
        ":memory:",
    ):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            version = connection.execute(
                text("SELECT sqlite_version()")
                if parsed.get_backend_name() == "sqlite"
                else text("SHOW server_version")
            ).scalar_one()
    finally:
        engine.dispose()
    return {
        "backend": parsed.get_backend_name(),
        "url": parsed.render_as_string(hide_password=True),
        "version": str(version),
    }
