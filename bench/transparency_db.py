"""Transparency log benchmark on the registry's database (SQLite, PostgreSQL).

Run with ``python -m bench.transparency_db`` (``--sizes``, ``--postgres URL``). For
each size the log is bulk-loaded with synthetic leaves and every complete subtree
(computed in memory, inserted in batches: no per-leaf transactions), then:

- **append**: ``registry.log.append_event`` plus commit, one transaction per event
  (SQLite in WAL mode with ``synchronous=NORMAL``, as the registry runs it);
- **append + checkpoint + receipt**: ``log_event``, what a registration adds;
- **inclusion / consistency proof, generate**: ``registry.log.inclusion`` /
  ``consistency`` at the full size: one ``SELECT max(index)`` and one
  ``SELECT … WHERE (level, position) IN (…)`` each;
- **verify_log**: the full recomputation ``registry log verify`` does (one run).

PostgreSQL runs when ``--postgres`` or ``REGISTRY_TEST_POSTGRES_URL`` names a
reachable server (a scratch schema, dropped afterwards); otherwise its rows say why.
"""

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bench.keys import Row, environment, measure, measure_slow, render
from did_vault import KeyAlgorithm, NodeID, PrivateKey
from did_vault.transparency.merkle import InMemoryNodeStore, hash_leaf
from registry import log, migrations
from registry.db import make_engine
from registry.identity import RegistryIdentity
from registry.log_models import LogCheckpoint, LogLeaf, LogNode

SIZES = (10_000, 100_000)
SAMPLES = 64
BATCH = 5_000
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _identity() -> RegistryIdentity:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
    return RegistryIdentity.from_key(key, domain="registry.bench")


def _load(engine: Engine, size: int) -> float:
    """Bulk-load ``size`` synthetic leaves and their subtrees; seconds taken."""
    started = time.perf_counter()
    store = InMemoryNodeStore()
    data = [i.to_bytes(32, "big") for i in range(size)]
    for leaf in data:
        store.append(hash_leaf(leaf))
    with engine.begin() as connection:
        for table in (LogCheckpoint, LogNode, LogLeaf):
            connection.execute(text(f"DELETE FROM {table.__tablename__}"))
        for start in range(0, size, BATCH):
            connection.execute(
                insert(LogLeaf),
                [
                    {
                        "index": i,
                        "leaf_hash": hash_leaf(data[i]),
                        "leaf_data": data[i],
                        "created_at": NOW,
                    }
                    for i in range(start, min(size, start + BATCH))
                ],
            )
        for level in range(size.bit_length()):
            count = size >> level
            for start in range(0, count, BATCH):
                ids = [
                    NodeID(level, p) for p in range(start, min(count, start + BATCH))
                ]
                connection.execute(
                    insert(LogNode),
                    [
                        {"level": n.level, "position": n.position, "hash": h}
                        for n, h in zip(ids, store.get_nodes(ids), strict=True)
                    ],
                )
    with Session(engine) as session:
        log.checkpoint(session, identity=_identity(), now=NOW)
        session.commit()
    return time.perf_counter() - started


def _cycle(items: list[int]) -> Callable[[], int]:
    position = [0]

    def next_item() -> int:
        position[0] = (position[0] + 1) % len(items)
        return items[position[0]]

    return next_item


def size_rows(
    engine: Engine, label: str, size: int, *, repeats: int, target_s: float
) -> list[Row]:
    load_s = _load(engine, size)
    identity = _identity()
    rows = [Row(f"{label}, {size:,} leaves: bulk load", load_s, "one run")]
    step = size // SAMPLES
    indices = [i * step + (i * 7919) % step for i in range(SAMPLES)]
    olds = [max(1, i * step + (i * 104_729) % step) for i in range(SAMPLES)]
    next_index, next_old = _cycle(indices), _cycle(olds)
    counter = [0]

    def append() -> None:
        counter[0] += 1
        event = {"type": "bench", "n": counter[0]}
        with Session(engine) as session:
            log.append_event(session, event, now=NOW)
            session.commit()

    def append_and_receipt() -> None:
        counter[0] += 1
        event = {"type": "bench", "n": counter[0]}
        with Session(engine) as session:
            log.log_event(session, event, identity=identity, now=NOW)
            session.commit()

    with Session(engine) as session:

        def gen_inclusion() -> object:
            return log.inclusion(session, leaf_index=next_index(), tree_size=size)

        def gen_consistency() -> object:
            return log.consistency(session, old_size=next_old(), new_size=size)

        inclusion_s = measure(gen_inclusion, repeats=repeats, target_s=target_s)
        consistency_s = measure(gen_consistency, repeats=repeats, target_s=target_s)
        session.rollback()

    rows += [
        Row("  inclusion proof, generate", inclusion_s, "2 queries"),
        Row("  consistency proof, generate", consistency_s, "2 queries"),
        Row(
            "  append (own transaction)",
            measure(append, repeats=repeats, target_s=target_s, max_number=200),
        ),
        Row(
            "  append + checkpoint + receipt",
            measure(
                append_and_receipt, repeats=repeats, target_s=target_s, max_number=200
            ),
        ),
    ]

    def verify() -> None:
        with Session(engine) as session:
            log.verify_log(session, identity=identity, now=NOW, sign_tail=False)

    rows.append(Row("  verify_log (full recompute)", measure_slow(verify, runs=1)))
    return rows


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
        prog="python -m bench.transparency_db", description=__doc__
    )
    parser.add_argument("--repeats", type=int, default=5, help="batches per row")
    parser.add_argument("--target-ms", type=float, default=40.0, help="ms per batch")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--postgres",
        default=os.environ.get("REGISTRY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL URL (a scratch schema is created and dropped)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(environment())
    rows: list[Row] = []
    target_s = args.target_ms / 1000
    with _sqlite() as engine:
        for size in args.sizes:
            rows += size_rows(
                engine, "SQLite", size, repeats=args.repeats, target_s=target_s
            )
    try:
        with _postgres(args.postgres) as engine:
            for size in args.sizes:
                rows += size_rows(
                    engine, "PostgreSQL", size, repeats=args.repeats, target_s=target_s
                )
    except SQLAlchemyError as exc:  # no server: reported in the table, not fatal
        rows.append(Row("PostgreSQL", None, f"not run: {type(exc).__name__}"))
    print(render(rows))
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
