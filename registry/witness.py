"""A transparency-log witness (issue 9, ``registry witness``; design note 0006).

A witness cosigns a log's checkpoint only if it extends the last checkpoint the
witness cosigned of that log (C2SP ``tlog-witness`` semantics,
https://c2sp.org/tlog-witness): it verifies the log's note signature, then
consistency from its remembered checkpoint to the new one with did_vault's
``check_consistency`` (a smaller tree is ``log.rollback``; the same size with
another root, or a proof that reaches the new root only, is ``log.fork``), then
remembers the new checkpoint, and only then returns the cosigned note
(``cosign_checkpoint``, a timestamped ``cosignature/v1``).

The state file holds the last cosigned note per log origin. Check and persist are
one step: an exclusive ``flock`` on ``<state>.lock`` is held from reading the state
to replacing it (temporary file, fsync, rename, fsync of the directory), so two
witness runs cannot both cosign diverging checkpoints, and a crash leaves the old
state or the new one. A cosignature is never handed out before the state that
commits the witness to it is on disk.
"""

import base64
import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from did_vault import (
    Checkpoint,
    LogProofError,
    MalformedCheckpointError,
    NoteKey,
    PrivateKey,
    check_consistency,
    cosign_checkpoint,
    parse_checkpoint,
    verify_checkpoint,
)
from registry.client import RegistryClient
from registry.errors import WitnessStateError

STATE_VERSION = 1

ConsistencyProofSource = Callable[[int, int], Sequence[bytes]]
"""``(old_size, new_size) -> proof``: called under the state lock, only when a
proof is needed (``0 < old_size < new_size``)."""


@dataclass(frozen=True, slots=True)
class WitnessResult:
    """One cosigning: the sizes compared and the cosigned note."""

    origin: str
    old_size: int | None  # None: the first checkpoint of this log the witness saw
    new_size: int
    root_hash: bytes
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "root_hash": base64.b64encode(self.root_hash).decode("ascii"),
            "note": self.note,
        }


@contextlib.contextmanager
def _locked(state_path: Path) -> Iterator[None]:
    state_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_path = state_path.with_name(state_path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def read_state(state_path: Path) -> dict[str, str]:
    """The last cosigned note per log origin (empty when there is no file yet).

    Raises:
        WitnessStateError: unreadable, or not a witness state.
    """
    try:
        document: Any = json.loads(state_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise WitnessStateError(
            f"cannot read the witness state {state_path}", file=str(state_path)
        ) from exc
    logs = document.get("logs") if isinstance(document, dict) else None
    if (
        not isinstance(document, dict)
        or document.get("version") != STATE_VERSION
        or not isinstance(logs, dict)
        or not all(isinstance(v, str) for v in logs.values())
    ):
        raise WitnessStateError(
            f"{state_path} is not a witness state", file=str(state_path)
        )
    return dict(logs)


def _write_state(state_path: Path, logs: dict[str, str]) -> None:
    """Replace the state file atomically and durably."""
    document = {"version": STATE_VERSION, "logs": logs}
    directory = state_path.parent
    fd, temporary = tempfile.mkstemp(
        prefix=state_path.name + ".", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, state_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def _remembered(note: str, state_path: Path) -> Checkpoint:
    try:
        return parse_checkpoint(note).checkpoint
    except MalformedCheckpointError as exc:
        raise WitnessStateError(
            f"{state_path} holds a checkpoint that does not parse",
            file=str(state_path),
        ) from exc


def witness(
    note: str,
    consistency_proof: ConsistencyProofSource,
    *,
    state_path: Path,
    key: PrivateKey,
    name: str,
    log_keys: Sequence[NoteKey],
    now: datetime | None = None,
) -> WitnessResult:
    """Cosign ``note`` if it extends the last checkpoint cosigned of its log.

    ``consistency_proof`` gives the proof from the remembered size to the new one;
    it is asked under the lock, so the proof always starts at the size checked.

    Raises:
        MalformedCheckpointError, CheckpointSignatureError,
        UntrustedCheckpointError: the note is not validly signed by a log key.
        LogRollbackError, LogForkError, LogProofError: it does not extend the
            checkpoint cosigned before (the state is left as it was).
        WitnessStateError: the state file cannot be read.
        UnsupportedAlgorithmError: the witness key is not Ed25519.
        ValueError: ``name`` is not a note key name (empty, a space or ``+``).
    """
    NoteKey(name, key.public_key)  # refuse a bad name or key before any I/O
    verified = verify_checkpoint(note, verifier_keys=log_keys)
    new = verified.checkpoint
    with _locked(state_path):
        logs = read_state(state_path)
        old_size: int | None = None
        if new.origin in logs:
            old = _remembered(logs[new.origin], state_path)
            proof: Sequence[bytes] = ()
            if 0 < old.tree_size < new.tree_size:
                proof = consistency_proof(old.tree_size, new.tree_size)
            check_consistency(old, new, proof)
            old_size = old.tree_size
        cosigned = cosign_checkpoint(verified.note, key, name=name, now=now)
        logs[new.origin] = cosigned
        _write_state(state_path, logs)
    return WitnessResult(new.origin, old_size, new.tree_size, new.root_hash, cosigned)


def _fetch_proof(client: RegistryClient) -> ConsistencyProofSource:
    def fetch(old_size: int, new_size: int) -> list[bytes]:
        answer = client.log_consistency(old_size, new_size)
        try:
            return [base64.b64decode(h, validate=True) for h in answer.proof]
        except ValueError as exc:
            raise LogProofError(
                "the consistency proof is not base64", kind="consistency"
            ) from exc

    return fetch


def witness_registry(
    client: RegistryClient,
    *,
    state_path: Path,
    key: PrivateKey,
    name: str,
    log_keys: Sequence[NoteKey],
    now: datetime | None = None,
) -> WitnessResult:
    """Fetch a registry's latest checkpoint and consistency proof, and ``witness``.

    Raises:
        RegistryProblem: the registry did not answer.
        everything ``witness`` raises.
    """
    note = client.log_checkpoint()
    return witness(
        note,
        _fetch_proof(client),
        state_path=state_path,
        key=key,
        name=name,
        log_keys=log_keys,
        now=now,
    )
