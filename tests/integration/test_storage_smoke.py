"""Storage smoke test: each supported store commits, reads back and rolls back.

This proves the PostgreSQL path (driver, URL, transactions) before the registry's
models depend on it.
"""

import uuid

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError


def _scratch_table() -> tuple[MetaData, Table]:
    metadata = MetaData()
    table = Table(
        f"smoke_{uuid.uuid4().hex[:12]}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(64), nullable=False, unique=True),
    )
    return metadata, table


def test_store_commits_reads_back_and_rolls_back(engine: Engine) -> None:
    metadata, table = _scratch_table()
    metadata.create_all(engine)
    try:
        with engine.begin() as connection:
            connection.execute(table.insert().values(id=1, name="bike"))

        def insert_then_fail() -> None:
            with engine.begin() as connection:
                connection.execute(table.insert().values(id=2, name="watch"))
                raise RuntimeError("abort the transaction")

        with pytest.raises(RuntimeError):
            insert_then_fail()

        with engine.connect() as connection:
            names = connection.execute(select(table.c.name)).scalars().all()
        assert names == ["bike"]
    finally:
        metadata.drop_all(engine)


def test_store_enforces_unique_constraint_without_partial_write(engine: Engine) -> None:
    metadata, table = _scratch_table()
    metadata.create_all(engine)
    try:
        with engine.begin() as connection:
            connection.execute(table.insert().values(id=1, name="tv"))

        def insert_duplicate() -> None:
            with engine.begin() as connection:
                connection.execute(table.insert().values(id=2, name="phone"))
                connection.execute(table.insert().values(id=3, name="tv"))

        with pytest.raises(IntegrityError):
            insert_duplicate()
        with engine.connect() as connection:
            rows = connection.execute(select(table.c.id).order_by(table.c.id)).all()
        assert [row.id for row in rows] == [1]
    finally:
        metadata.drop_all(engine)
