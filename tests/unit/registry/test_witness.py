"""The witness cosigns only checkpoints that extend the last one it cosigned."""

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from did_vault import (
    Checkpoint,
    InMemoryNodeStore,
    KeyAlgorithm,
    LogForkError,
    LogProofError,
    LogRollbackError,
    NoteKey,
    PrivateKey,
    UnsupportedAlgorithmError,
    UntrustedCheckpointError,
    consistency_proof,
    hash_leaf,
    root_at,
    sign_checkpoint,
    verify_checkpoint,
)
from registry.errors import WitnessStateError
from registry.witness import ConsistencyProofSource, read_state, witness

ORIGIN = "registry.example/log"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
LOG_KEY = PrivateKey.generate()
WITNESS_KEY = PrivateKey.generate()
WITNESS_NAME = "witness.example/w1"
LOG_NOTE_KEY = NoteKey(ORIGIN, LOG_KEY.public_key)
WITNESS_NOTE_KEY = NoteKey(WITNESS_NAME, WITNESS_KEY.public_key)


class Log:
    """A log in memory, signing checkpoints of any size it has reached."""

    def __init__(self, prefix: bytes = b"leaf") -> None:
        self.store = InMemoryNodeStore()
        self.prefix = prefix

    def grow(self, size: int) -> "Log":
        while self.store.size < size:
            self.store.append(hash_leaf(self.prefix + b"%d" % self.store.size))
        return self

    def checkpoint(self, size: int, *, origin: str = ORIGIN) -> str:
        body = Checkpoint(origin, size, root_at(self.store, size))
        return sign_checkpoint(body, LOG_KEY, now=NOW)

    def proofs(self) -> ConsistencyProofSource:
        return lambda old, new: consistency_proof(self.store, old, new)


def _witness(note: str, proofs: ConsistencyProofSource, state: Path) -> str:
    return witness(
        note,
        proofs,
        state_path=state,
        key=WITNESS_KEY,
        name=WITNESS_NAME,
        log_keys=[LOG_NOTE_KEY],
        now=NOW,
    ).note


def _no_proof(old: int, new: int) -> list[bytes]:
    raise AssertionError("no proof is needed here")


def test_witness_cosigns_first_checkpoint_and_remembers_it(tmp_path):
    log, state = Log().grow(5), tmp_path / "witness.json"
    cosigned = _witness(log.checkpoint(5), _no_proof, state)
    checked = verify_checkpoint(
        cosigned, verifier_keys=[LOG_NOTE_KEY], witness_keys=[WITNESS_NOTE_KEY]
    )
    assert [c.name for c in checked.cosignatures if not c.by_log] == [WITNESS_NAME]
    assert read_state(state) == {ORIGIN: cosigned}


def test_witness_cosigns_extension_and_advances_state(tmp_path):
    log, state = Log().grow(9), tmp_path / "witness.json"
    _witness(log.checkpoint(3), _no_proof, state)
    result = witness(
        log.checkpoint(9),
        log.proofs(),
        state_path=state,
        key=WITNESS_KEY,
        name=WITNESS_NAME,
        log_keys=[LOG_NOTE_KEY],
        now=NOW,
    )
    assert (result.old_size, result.new_size) == (3, 9)
    assert read_state(state) == {ORIGIN: result.note}


def test_witness_recosigns_same_checkpoint(tmp_path):
    log, state = Log().grow(4), tmp_path / "witness.json"
    _witness(log.checkpoint(4), _no_proof, state)
    cosigned = _witness(log.checkpoint(4), _no_proof, state)
    assert read_state(state) == {ORIGIN: cosigned}


def test_witness_refuses_rollback_and_keeps_state(tmp_path):
    log, state = Log().grow(8), tmp_path / "witness.json"
    _witness(log.checkpoint(8), _no_proof, state)
    before = state.read_bytes()
    with pytest.raises(LogRollbackError):
        _witness(log.checkpoint(5), _no_proof, state)
    assert state.read_bytes() == before


def test_witness_refuses_fork_of_same_size_and_keeps_state(tmp_path):
    honest, forked, state = Log().grow(6), Log(b"other").grow(6), tmp_path / "w.json"
    _witness(honest.checkpoint(6), _no_proof, state)
    before = state.read_bytes()
    with pytest.raises(LogForkError):
        _witness(forked.checkpoint(6), _no_proof, state)
    assert state.read_bytes() == before


def test_witness_refuses_extension_of_another_history(tmp_path):
    honest, forked, state = Log().grow(4), Log(b"other").grow(9), tmp_path / "w.json"
    _witness(honest.checkpoint(4), _no_proof, state)
    before = state.read_bytes()
    with pytest.raises((LogForkError, LogProofError)):
        _witness(forked.checkpoint(9), forked.proofs(), state)
    assert state.read_bytes() == before


def test_witness_refuses_bad_proof(tmp_path):
    log, state = Log().grow(9), tmp_path / "witness.json"
    _witness(log.checkpoint(3), _no_proof, state)
    before = state.read_bytes()
    with pytest.raises(LogProofError):
        _witness(log.checkpoint(9), lambda old, new: [], state)
    assert state.read_bytes() == before


def test_witness_refuses_note_not_signed_by_log_key(tmp_path):
    log, state = Log().grow(3), tmp_path / "witness.json"
    body = Checkpoint(ORIGIN, 3, root_at(log.store, 3))
    note = sign_checkpoint(body, PrivateKey.generate(), now=NOW)
    with pytest.raises(UntrustedCheckpointError):
        _witness(note, _no_proof, state)
    assert not state.exists()


def test_witness_keeps_one_state_per_origin(tmp_path):
    log, state = Log().grow(5), tmp_path / "witness.json"
    first = _witness(log.checkpoint(5), _no_proof, state)
    other = "other.example/log"
    key = NoteKey(other, LOG_KEY.public_key)
    second = witness(
        sign_checkpoint(Checkpoint(other, 2, root_at(log.store, 2)), LOG_KEY, now=NOW),
        _no_proof,
        state_path=state,
        key=WITNESS_KEY,
        name=WITNESS_NAME,
        log_keys=[key],
        now=NOW,
    ).note
    assert read_state(state) == {ORIGIN: first, other: second}


def test_witness_refuses_unreadable_state(tmp_path):
    log, state = Log().grow(2), tmp_path / "witness.json"
    state.write_text(json.dumps({"version": 1, "logs": []}), encoding="utf-8")
    with pytest.raises(WitnessStateError):
        _witness(log.checkpoint(2), _no_proof, state)
    state.write_text("{", encoding="utf-8")
    with pytest.raises(WitnessStateError):
        _witness(log.checkpoint(2), _no_proof, state)


def test_witness_refuses_state_with_a_broken_checkpoint(tmp_path):
    log, state = Log().grow(2), tmp_path / "witness.json"
    state.write_text(
        json.dumps({"version": 1, "logs": {ORIGIN: "not a note"}}), encoding="utf-8"
    )
    with pytest.raises(WitnessStateError):
        _witness(log.checkpoint(2), _no_proof, state)


def test_witness_fetches_proof_under_the_lock(tmp_path):
    """A run that starts while another holds the lock sees the state it left."""
    log, state = Log().grow(10), tmp_path / "witness.json"
    _witness(log.checkpoint(2), _no_proof, state)
    inside, release = threading.Event(), threading.Event()
    asked: list[tuple[int, int]] = []

    def slow_proof(old: int, new: int) -> list[bytes]:
        asked.append((old, new))
        inside.set()
        assert release.wait(timeout=10)
        return consistency_proof(log.store, old, new)

    def recording(old: int, new: int) -> list[bytes]:
        asked.append((old, new))
        return consistency_proof(log.store, old, new)

    first = threading.Thread(
        target=_witness, args=(log.checkpoint(6), slow_proof, state)
    )
    first.start()
    assert inside.wait(timeout=10)
    second_done: list[str] = []
    second = threading.Thread(
        target=lambda: second_done.append(
            _witness(log.checkpoint(10), recording, state)
        )
    )
    second.start()
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert asked == [(2, 6), (6, 10)]
    assert read_state(state) == {ORIGIN: second_done[0]}


def test_witness_refuses_other_origin_without_its_key(tmp_path):
    log, state = Log().grow(3), tmp_path / "witness.json"
    _witness(log.checkpoint(3), _no_proof, state)
    with pytest.raises(UntrustedCheckpointError):
        _witness(log.checkpoint(3, origin="evil.example/log"), _no_proof, state)
    assert list(read_state(state)) == [ORIGIN]


def test_witness_extends_an_empty_tree_without_a_proof(tmp_path):
    log, state = Log().grow(4), tmp_path / "witness.json"
    _witness(log.checkpoint(0), _no_proof, state)
    cosigned = _witness(log.checkpoint(4), _no_proof, state)
    assert read_state(state) == {ORIGIN: cosigned}


@pytest.mark.parametrize("name", ["", "two words", "a+b"])
def test_witness_refuses_a_bad_name_before_touching_state(tmp_path, name):
    log, state = Log().grow(2), tmp_path / "witness.json"
    with pytest.raises(ValueError, match="key name"):
        witness(
            log.checkpoint(2),
            _no_proof,
            state_path=state,
            key=WITNESS_KEY,
            name=name,
            log_keys=[LOG_NOTE_KEY],
        )
    assert not state.exists()


def test_witness_refuses_a_p256_key(tmp_path):
    log, state = Log().grow(2), tmp_path / "witness.json"
    with pytest.raises(UnsupportedAlgorithmError):
        witness(
            log.checkpoint(2),
            _no_proof,
            state_path=state,
            key=PrivateKey.generate(KeyAlgorithm.P256),
            name=WITNESS_NAME,
            log_keys=[LOG_NOTE_KEY],
        )
    assert not state.exists()
