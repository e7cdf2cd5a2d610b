"""Cost of the shared request state: the stolen-check with and without its
database rate limiter, and with an ``Idempotency-Key`` (SQLite, PostgreSQL).

Run with ``python -m bench.request_state`` (``--postgres URL``). The app runs
in-process behind Starlette's test client (one thread, so the numbers include the
client's own overhead and compare rows, not servers). Per store, on a freshly
migrated database:

- **stolen-check, no limiter**: ``POST /v1/stolen-check`` with the limiter
  dependency overridden (one select);
- **stolen-check, DB limiter**: the same with the database limiter (capacity high
  enough never to refuse): one more transaction locking the client's bucket;
- **stolen-check + Idempotency-Key**: a fresh key per request: the claim and the
  stored response, two more transactions;
- **RateLimiter.take alone**: the limiter's transaction without HTTP.

PostgreSQL runs when ``--postgres`` or ``REGISTRY_TEST_POSTGRES_URL`` names a
reachable server (a scratch schema, dropped afterwards); otherwise its rows say why.
"""

import argparse
import itertools
import os
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bench.keys import Row, environment, measure, render
from registry import migrations
from registry.config import Settings
from registry.db import make_engine
from registry.main import create_app
from registry.ratelimit import RateLimiter, limit_stolen_check
from registry.serial_keys import SerialKey

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`"
    )
    from fastapi.testclient import TestClient

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHECK = {"gtin": "09520123456788", "serial": "SN-BENCH-1"}
PASSES = 2
NEVER_LIMITED = RateLimiter(capacity=10**9, refill_per_second=1.0)


def store_rows(
    engine: Engine, label: str, *, repeats: int, target_s: float
) -> list[Row]:
    """The four rows for one store."""
    apps = []
    for limited in (False, True):
        app = create_app(Settings(), engine=engine)
        app.state.serial_key = SerialKey(bytes(range(32)))
        app.state.stolen_check_limiter = NEVER_LIMITED
        if not limited:
            app.dependency_overrides[limit_stolen_check] = lambda: None
        apps.append(app)
    keys = (f"bench-{number}" for number in itertools.count())
    with TestClient(apps[0]) as plain, TestClient(apps[1]) as limited:

        def check(client: TestClient, **headers: str) -> None:
            response = client.post("/v1/stolen-check", json=CHECK, headers=headers)
            assert response.status_code == 200, response.text

        calls: dict[str, Callable[[], object]] = {
            "base": lambda: check(plain),
            "limit": lambda: check(limited),
            "key": lambda: check(limited, **{"Idempotency-Key": next(keys)}),
            "take": lambda: NEVER_LIMITED.take(
                engine, "192.0.2.1", now=datetime.now(UTC)
            ),
        }
        # Two interleaved passes, the better of each: other load on the machine
        # hits every row alike.
        best: dict[str, float] = {}
        for _ in range(PASSES):
            for name, call in calls.items():
                median = measure(
                    call, repeats=repeats, target_s=target_s, max_number=2_000
                )
                best[name] = min(best.get(name, median), median)
    base, with_limit, with_key, take = (best[name] for name in calls)
    return [
        Row(label, None, ""),
        Row("  stolen-check, no limiter", base),
        Row("  stolen-check, DB limiter", with_limit, _ratio(base, with_limit)),
        Row("  stolen-check + Idempotency-Key", with_key, _ratio(base, with_key)),
        Row("  RateLimiter.take alone", take),
    ]


def _ratio(base: float, other: float) -> str:
    return f"{base / other:.0%} of the no-limiter rate"


@contextmanager
def _sqlite() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        migrations.upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def _postgres(url: str) -> Iterator[Engine]:
    admin = make_engine(url)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped.render_as_string(hide_password=False))
    try:
        migrations.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.request_state", description=__doc__
    )
    parser.add_argument("--repeats", type=int, default=5, help="batches per row")
    parser.add_argument("--target-ms", type=float, default=200.0, help="ms per batch")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("REGISTRY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL URL (a scratch schema is created and dropped)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(environment())
    repeats, target_s = args.repeats, args.target_ms / 1000
    with _sqlite() as engine:
        rows = store_rows(
            engine, "SQLite (file, WAL)", repeats=repeats, target_s=target_s
        )
    try:
        with _postgres(args.postgres) as engine:
            rows += store_rows(engine, "PostgreSQL", repeats=repeats, target_s=target_s)
    except SQLAlchemyError as exc:  # no server: reported in the table, not fatal
        rows.append(Row("PostgreSQL", None, f"not run: {type(exc).__name__}"))
    print(render(rows))
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
