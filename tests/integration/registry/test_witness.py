"""A witness cosigning a registry's checkpoints over HTTP, on SQLite and PostgreSQL.

It cosigns the first checkpoint and every extension, refuses a rolled-back one
with its state unchanged, and concurrent runs leave one valid state.
"""

import base64
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli import registry_main
from did_vault import (
    LogRollbackError,
    NoteKey,
    PrivateKey,
    parse_checkpoint,
    verify_checkpoint,
)
from registry import log
from registry.client import RegistryClient
from registry.identity import RegistryIdentity, write_key_file
from registry.witness import read_state, witness, witness_registry

from .conftest import START

WITNESS_NAME = "witness.example/w1"
THREADS = 8


def _append(engine: Engine, identity: RegistryIdentity, count: int) -> None:
    with Session(engine) as session:
        for n in range(count):
            event = log.make_event(
                log.EventType.TRANSFER, time=START, itemId=f"item-{n}"
            )
            log.log_event(session, event, identity=identity, now=START)
        session.commit()


@pytest.fixture
def witness_key() -> PrivateKey:
    return PrivateKey.generate()


def _run(client, identity, state: Path, key: PrivateKey) -> Any:
    return witness_registry(
        RegistryClient(client),
        state_path=state,
        key=key,
        name=WITNESS_NAME,
        log_keys=[log.note_key_of(identity)],
        now=START,
    )


def _size(note: str) -> int:
    return parse_checkpoint(note).checkpoint.tree_size


def test_witness_cosigns_the_registry_checkpoint_and_each_extension(
    client, registry_engine, identity, witness_key, tmp_path
):
    state = tmp_path / "witness.json"
    _append(registry_engine, identity, 3)
    first = _run(client, identity, state, witness_key)
    _append(registry_engine, identity, 4)
    second = _run(client, identity, state, witness_key)

    assert (first.old_size, first.new_size) == (None, 3)
    assert (second.old_size, second.new_size) == (3, 7)
    checked = verify_checkpoint(
        second.note,
        verifier_keys=[log.note_key_of(identity)],
        witness_keys=[NoteKey(WITNESS_NAME, witness_key.public_key)],
    )
    assert any(c.name == WITNESS_NAME and not c.by_log for c in checked.cosignatures)
    assert read_state(state) == {log.origin_of(identity): second.note}


def test_witness_refuses_a_rolled_back_checkpoint(
    client, registry_engine, identity, witness_key, tmp_path
):
    state = tmp_path / "witness.json"
    _append(registry_engine, identity, 6)
    _run(client, identity, state, witness_key)
    before = state.read_bytes()
    older = client.get("/v1/log/checkpoint/2")
    assert older.status_code == 200, older.text

    with pytest.raises(LogRollbackError):
        witness(
            older.text,
            lambda old, new: [],
            state_path=state,
            key=witness_key,
            name=WITNESS_NAME,
            log_keys=[log.note_key_of(identity)],
            now=START,
        )
    assert state.read_bytes() == before


def test_concurrent_witness_runs_leave_one_valid_state(
    client, registry_engine, identity, witness_key, tmp_path
):
    state = tmp_path / "witness.json"
    _append(registry_engine, identity, THREADS)
    notes = [client.get(f"/v1/log/checkpoint/{n}").text for n in range(1, THREADS + 1)]
    rest = RegistryClient(client)

    def proof(old: int, new: int) -> list[bytes]:
        answer = rest.log_consistency(old, new)
        return [base64.b64decode(h) for h in answer.proof]

    outcomes: list[Any] = []
    barrier = threading.Barrier(THREADS)

    def run(note: str) -> None:
        barrier.wait()
        try:
            outcomes.append(
                witness(
                    note,
                    proof,
                    state_path=state,
                    key=witness_key,
                    name=WITNESS_NAME,
                    log_keys=[log.note_key_of(identity)],
                    now=START,
                )
            )
        except LogRollbackError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(note,)) for note in reversed(notes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == THREADS
    cosigned = [o for o in outcomes if not isinstance(o, Exception)]
    assert THREADS in {o.new_size for o in cosigned}
    # Each cosigning extended the one before it: sizes grow in cosigning order.
    assert all(o.old_size is None or o.old_size < o.new_size for o in cosigned)
    remembered = read_state(state)[log.origin_of(identity)]
    assert _size(remembered) == THREADS
    verify_checkpoint(remembered, verifier_keys=[log.note_key_of(identity)])
    assert not list(tmp_path.glob("*.tmp"))


def test_registry_witness_command_prints_the_cosigned_note(
    client, registry_engine, identity, witness_key, tmp_path, monkeypatch
):
    key_file, state = tmp_path / "witness.key", tmp_path / "witness.json"
    write_key_file(key_file, witness_key)
    monkeypatch.setattr(
        RegistryClient, "connect", classmethod(lambda cls, url: cls(client))
    )
    _append(registry_engine, identity, 5)
    arguments = [
        "witness",
        "--registry",
        "http://registry.test",
        "--key-file",
        str(key_file),
        "--state-file",
        str(state),
        "--log-key",
        log.note_key_of(identity).to_vkey(),
        "--name",
        WITNESS_NAME,
    ]

    result = CliRunner().invoke(registry_main.app, arguments)

    assert result.exit_code == 0, result.output
    assert _size(result.stdout) == 5
    verify_checkpoint(
        result.stdout,
        verifier_keys=[log.note_key_of(identity)],
        witness_keys=[NoteKey(WITNESS_NAME, witness_key.public_key)],
    )
    assert read_state(state) == {log.origin_of(identity): result.stdout}


def test_registry_witness_command_exits_1_on_a_rollback(
    client, registry_engine, identity, witness_key, tmp_path, monkeypatch
):
    key_file, state = tmp_path / "witness.key", tmp_path / "witness.json"
    write_key_file(key_file, witness_key)
    _append(registry_engine, identity, 5)
    _run(client, identity, state, witness_key)
    before = state.read_bytes()
    older = client.get("/v1/log/checkpoint/3").text

    class RolledBack(RegistryClient):
        def log_checkpoint(self, tree_size: int | None = None) -> str:
            return older

    monkeypatch.setattr(
        RegistryClient, "connect", classmethod(lambda cls, url: RolledBack(client))
    )
    arguments = [
        "witness",
        "--registry",
        "http://registry.test",
        "--key-file",
        str(key_file),
        "--state-file",
        str(state),
        "--log-key",
        log.note_key_of(identity).to_vkey(),
        "--name",
        WITNESS_NAME,
        "--json",
    ]

    result = CliRunner().invoke(registry_main.app, arguments)

    assert result.exit_code == 1, result.output
    assert '"log.rollback"' in result.output
    assert state.read_bytes() == before
