"""The registry's transparency log in its database (issue 9; design notes 0005, 0006).

``DatabaseNodeStore`` is did_vault's ``NodeStore`` over ``log_node``: one
``SELECT … WHERE (level, position) IN (…)`` per proof, the size read in the same
transaction. ``append_event`` commits to an event (salted, did_vault's
``commit_event``) and appends the leaf and the nodes it completes in the caller's
transaction; ``checkpoint`` signs one C2SP checkpoint per tree size with the
registry's key; ``receipt_for`` proves a leaf against the first checkpoint that
covers it; ``verify_log`` recomputes everything from the stored leaves.

Appends are serialised by the database's write lock: SQLite transactions begin
``BEGIN IMMEDIATE`` (``registry.db``), PostgreSQL takes a transaction-scoped
advisory lock (``pg_advisory_xact_lock``) before reading the next index, held to
commit or rollback. So leaf indices are contiguous, and a rolled-back event leaves
no leaf behind. Checkpoints take the same lock.
"""

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from did_vault import (
    Checkpoint,
    InMemoryNodeStore,
    KeyAlgorithm,
    LogRangeError,
    NodeID,
    NoteKey,
    Opening,
    Receipt,
    append_siblings,
    commit_event,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    items,
    make_receipt,
    nodes_for_append,
    parse_checkpoint,
    root_at,
    sign_checkpoint,
    verify_checkpoint,
)
from registry.errors import LogCheckpointNotFoundError, LogCorruptError
from registry.identity import RegistryIdentity
from registry.log_models import LogCheckpoint, LogLeaf, LogNode

ADVISORY_LOCK_KEY = 0x6C6F67  # "log": one lock for every append and checkpoint
MAX_LEAVES_PER_PAGE = 1000
LOG_PATH = "log"
_SIZE_SQL = 'SELECT max("index") FROM log_leaf'


class EventType(StrEnum):
    """The kinds of registry event the log records (one leaf each)."""

    REGISTRATION = "registration"
    TRANSFER = "transfer"
    CUSTODY_CHANGE = "custody-change"
    MISSING = "missing"
    STOLEN = "stolen"
    RECOVERED = "recovered"
    REVOCATION = "revocation"
    TRUST_ADDED = "trust-added"
    TRUST_REMOVED = "trust-removed"


def make_event(
    kind: EventType, *, time: datetime, **fields: str | int
) -> dict[str, Any]:
    """A minimal event: its type, its time (RFC 3339, UTC) and identifiers only.

    Put no serial, owner or price in an event: the leaf hides it, but the owner's
    opening carries it wherever they show it.
    """
    return {"type": kind.value, "time": items.format_date_time(time), **fields}


def origin_of(identity: RegistryIdentity) -> str:
    """The log's C2SP origin (and note key name): ``<host>[:port]/log``."""
    host = (
        identity.domain
        if identity.port is None
        else f"{identity.domain}:{identity.port}"
    )
    return f"{host}/{LOG_PATH}"


def note_key_of(identity: RegistryIdentity) -> NoteKey:
    """The key that verifies the registry's checkpoints.

    Raises:
        UnsupportedAlgorithmError: the registry key is not Ed25519.
    """
    return NoteKey(origin_of(identity), identity.key.public_key)


def can_sign(identity: RegistryIdentity) -> bool:
    """Whether the registry's key can sign checkpoints (C2SP notes need Ed25519)."""
    return identity.key.algorithm is KeyAlgorithm.ED25519


# --- the node store -------------------------------------------------------------------


def lock(session: Session) -> None:
    """Take the log's write lock for the rest of the transaction (idempotent).

    Lock order: a transaction that will append should take this lock before it
    writes rows other transactions also write (status lists above all), e.g.
    before ``status.revoke``. ``append_event`` takes it too, but a transaction
    that holds a status-list row and then waits for the log, while the log's holder
    waits for that row, deadlocks on PostgreSQL (SQLite serialises whole
    transactions and cannot).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        )


def log_size(session: Session) -> int:
    """How many leaves the log holds (in the session's transaction)."""
    last = session.connection().exec_driver_sql(_SIZE_SQL).scalar()
    return 0 if last is None else int(last) + 1


class DatabaseNodeStore:
    """did_vault's ``NodeStore`` over ``log_node``, read in one transaction."""

    def __init__(self, session: Session, *, size: int | None = None) -> None:
        self.session = session
        self._size = log_size(session) if size is None else size

    @property
    def size(self) -> int:
        return self._size

    def get_nodes(self, ids: Sequence[NodeID], /) -> list[bytes]:
        """The hashes of ``ids``, in order (one query).

        Raises:
            LogCorruptError: a node the tree must have is missing.
        """
        if not ids:
            return []
        wanted = list(dict.fromkeys((node.level, node.position) for node in ids))
        connection = self.session.connection()
        # Plain driver SQL: building a SQLAlchemy expression per node cost more than
        # the query. SQLite scans the table for a row-value IN list, so it gets an
        # OR of primary-key equalities (a MULTI-INDEX OR: one index search each).
        if connection.dialect.name == "sqlite":
            term, joiner = "(level = ? AND position = ?)", " OR "
            sql = "SELECT level, position, hash FROM log_node WHERE "
            sql += joiner.join([term] * len(wanted))
        else:
            sql = "SELECT level, position, hash FROM log_node WHERE "
            sql += (
                "(level, position) IN (" + ", ".join(["(%s, %s)"] * len(wanted)) + ")"
            )
        parameters = tuple(value for pair in wanted for value in pair)
        rows = connection.exec_driver_sql(sql, parameters).all()
        found = {(level, position): bytes(hash_) for level, position, hash_ in rows}
        try:
            return [found[(node.level, node.position)] for node in ids]
        except KeyError as exc:
            raise LogCorruptError(
                "a node of the log's tree is missing", node=str(exc.args[0])
            ) from None


# --- appending ------------------------------------------------------------------------


def append_event(
    session: Session,
    event: Mapping[str, Any],
    *,
    now: datetime | None = None,
    salt: bytes | None = None,
) -> tuple[int, Opening]:
    """Commit to ``event`` and append it as the next leaf (the caller commits).

    Returns the leaf index and the opening (salt and event), which only the party
    the event concerns should keep.

    Raises:
        CanonicalizationError: the event is not I-JSON.
        LogCorruptError: a node the append needs is missing.
    """
    lock(session)
    store = DatabaseNodeStore(session)
    index = store.size
    leaf_data, opening = commit_event(event, salt=salt)
    leaf_hash = hash_leaf(leaf_data)
    siblings = store.get_nodes(append_siblings(index))
    session.add(
        LogLeaf(
            index=index,
            leaf_hash=leaf_hash,
            leaf_data=leaf_data,
            created_at=now or datetime.now(UTC),
        )
    )
    session.add_all(
        LogNode(level=node.level, position=node.position, hash=hash_)
        for node, hash_ in nodes_for_append(index, leaf_hash, siblings)
    )
    session.flush()
    return index, opening


# --- checkpoints ----------------------------------------------------------------------


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.exec(
        select(LogCheckpoint).order_by(col(LogCheckpoint.tree_size).desc()).limit(1)
    ).first()


def checkpoint_note(session: Session, tree_size: int | None = None) -> str:
    """The signed checkpoint of ``tree_size`` (default: the latest).

    Raises:
        LogCheckpointNotFoundError: none signed (for that size).
    """
    if tree_size is None:
        row = latest_checkpoint(session)
    else:
        row = session.get(LogCheckpoint, tree_size)
    if row is None:
        raise LogCheckpointNotFoundError("no checkpoint signed for that size")
    return row.note


def checkpoint(session: Session, *, identity: RegistryIdentity, now: datetime) -> str:
    """Sign a checkpoint of the current tree if it grew; return the latest note.

    One checkpoint per tree size, sizes strictly growing; a new one is signed only
    after checking that the tree still has the previous checkpoint's root, so a
    signed history is never contradicted (the caller commits).

    Raises:
        LogCorruptError: the stored tree disagrees with the last checkpoint.
        UnsupportedAlgorithmError: the registry key is not Ed25519.
    """
    lock(session)
    store = DatabaseNodeStore(session)
    previous = latest_checkpoint(session)
    if previous is not None:
        if previous.tree_size > store.size:
            raise LogCorruptError(
                "the log has fewer leaves than its last checkpoint",
                tree_size=previous.tree_size,
                log_size=store.size,
            )
        if root_at(store, previous.tree_size) != bytes(previous.root_hash):
            raise LogCorruptError(
                "the stored tree disagrees with the last checkpoint",
                tree_size=previous.tree_size,
            )
        if previous.tree_size == store.size:
            return previous.note
    root = root_at(store, store.size)
    body = Checkpoint(origin_of(identity), store.size, root)
    note = sign_checkpoint(body, identity.key, now=now)
    session.add(
        LogCheckpoint(tree_size=store.size, note=note, root_hash=root, created_at=now)
    )
    session.flush()
    return note


def receipt_for(
    session: Session,
    leaf_index: int,
    *,
    identity: RegistryIdentity,
    now: datetime,
    opening: Opening | None = None,
) -> Receipt:
    """The receipt of a leaf against the first checkpoint that covers it (signing
    one if none does yet; the caller commits).

    Raises:
        LogRangeError: no such leaf.
        LogCorruptError: as ``checkpoint``.
    """
    leaf = session.get(LogLeaf, leaf_index)
    if leaf is None:
        store = DatabaseNodeStore(session)
        inclusion_proof(store, leaf_index, store.size)  # raises LogRangeError
        raise LogCorruptError("a leaf of the log is missing", index=leaf_index)
    row = session.exec(
        select(LogCheckpoint)
        .where(col(LogCheckpoint.tree_size) > leaf_index)
        .order_by(col(LogCheckpoint.tree_size))
        .limit(1)
    ).first()
    note = (
        row.note if row is not None else checkpoint(session, identity=identity, now=now)
    )
    return make_receipt(
        DatabaseNodeStore(session),
        leaf_index=leaf_index,
        leaf_data=bytes(leaf.leaf_data),
        checkpoint=note,
        opening=opening,
    )


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An appended event: its leaf, the opening, and a receipt (None when the
    registry's key cannot sign checkpoints)."""

    leaf_index: int
    opening: Opening
    receipt: Receipt | None

    def receipt_json(self) -> dict[str, Any] | None:
        return None if self.receipt is None else self.receipt.to_json()


def log_event(
    session: Session,
    event: Mapping[str, Any],
    *,
    identity: RegistryIdentity,
    now: datetime,
) -> LoggedEvent:
    """Append ``event``, sign the checkpoint that covers it, and build its receipt,
    all in the caller's transaction.

    Raises:
        as ``append_event`` and ``checkpoint``.
    """
    index, opening = append_event(session, event, now=now)
    if not can_sign(identity):
        return LoggedEvent(index, opening, None)
    receipt = receipt_for(session, index, identity=identity, now=now)
    return LoggedEvent(index, opening, receipt)


def log_registration(
    session: Session,
    *,
    item_id: str,
    ownership_id: str,
    identity: RegistryIdentity,
    now: datetime,
) -> LoggedEvent:
    """Log a registration: item and ownership ids and the time, nothing else."""
    event = make_event(
        EventType.REGISTRATION, time=now, itemId=item_id, ownershipId=ownership_id
    )
    return log_event(session, event, identity=identity, now=now)


def registry_receipt(receipt: Receipt) -> dict[str, Any]:
    """A receipt as the ownership schema's ``owns.registryReceipt`` (no leaf data:
    the owner's opening recomputes it)."""
    return {
        "logIndex": receipt.leaf_index,
        "treeSize": parse_checkpoint(receipt.checkpoint).checkpoint.tree_size,
        "checkpoint": receipt.checkpoint,
        "inclusionProof": [
            base64.b64encode(h).decode("ascii") for h in receipt.inclusion_proof
        ],
    }


class RegistrationLog:
    """Logs a registration from inside ``claims.record_claim`` (its
    ``log_registration`` hook), so the OwnershipCredential can carry the receipt;
    ``event`` holds what was logged."""

    def __init__(
        self, session: Session, *, identity: RegistryIdentity, now: datetime
    ) -> None:
        self.session, self.identity, self.now = session, identity, now
        self.event: LoggedEvent | None = None

    def __call__(self, item_id: str, ownership_id: str) -> dict[str, Any] | None:
        """Append the registration; its ``registryReceipt`` (None without one)."""
        self.event = log_registration(
            self.session,
            item_id=item_id,
            ownership_id=ownership_id,
            identity=self.identity,
            now=self.now,
        )
        receipt = self.event.receipt
        return None if receipt is None else registry_receipt(receipt)


# --- proofs and leaves ----------------------------------------------------------------


def inclusion(session: Session, *, leaf_index: int, tree_size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of a leaf in the tree of ``tree_size`` leaves.

    Raises:
        LogRangeError: the leaf or size is outside the log.
    """
    return inclusion_proof(DatabaseNodeStore(session), leaf_index, tree_size)


def consistency(session: Session, *, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 consistency proof between two tree sizes.

    Raises:
        LogRangeError: a size outside the log, or ``old_size > new_size``.
    """
    return consistency_proof(DatabaseNodeStore(session), old_size, new_size)


def leaves(session: Session, *, start: int, end: int) -> list[LogLeaf]:
    """Leaves ``[start, end)``; at most ``MAX_LEAVES_PER_PAGE``.

    Raises:
        LogRangeError: an empty, reversed, oversized or out-of-log range.
    """
    size = log_size(session)
    if not 0 <= start < end <= size or end - start > MAX_LEAVES_PER_PAGE:
        raise LogRangeError(
            "leaf range outside the log or too long",
            start=start,
            end=end,
            log_size=size,
        )
    return list(
        session.exec(
            select(LogLeaf)
            .where(col(LogLeaf.index) >= start, col(LogLeaf.index) < end)
            .order_by(col(LogLeaf.index))
        ).all()
    )


# --- verification ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogReport:
    """What ``verify_log`` checked."""

    size: int
    root_hash: bytes
    checkpoints: int
    latest_checkpoint: int | None
    signed_tail: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root_hash": base64.b64encode(self.root_hash).decode("ascii"),
            "checkpoints": self.checkpoints,
            "latest_checkpoint": self.latest_checkpoint,
            "signed_tail": self.signed_tail,
        }


def _batches(session: Session, model: Any, order: Any) -> Iterator[Any]:
    offset, batch = 0, 10_000
    while True:
        rows = session.exec(
            select(model).order_by(*order).offset(offset).limit(batch)
        ).all()
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def verify_log(
    session: Session,
    *,
    identity: RegistryIdentity,
    now: datetime,
    sign_tail: bool = True,
) -> LogReport:
    """Recompute the tree from the stored leaves and check every stored row.

    Checks that leaf indices are contiguous, each leaf hash is the hash of its
    data, every stored node equals the recomputed one, ``root_at`` over the stored
    nodes equals the recomputed root, and every checkpoint is signed by the
    registry and has the recomputed root of its size. With ``sign_tail``, leaves
    past the last checkpoint (a crash between append and checkpoint) are signed
    in a new checkpoint, consistent with the previous one by the checks above
    (the caller commits).

    Raises:
        LogCorruptError: any mismatch (``context.kind`` says which).
        did_vault's checkpoint errors: a checkpoint that does not verify.
    """
    lock(session)
    memory = InMemoryNodeStore()
    for position, leaf in enumerate(_batches(session, LogLeaf, [col(LogLeaf.index)])):
        if leaf.index != position:
            raise LogCorruptError(
                "leaf indices are not contiguous", kind="leaf", index=position
            )
        leaf_hash = hash_leaf(bytes(leaf.leaf_data))
        if bytes(leaf.leaf_hash) != leaf_hash:
            raise LogCorruptError(
                "a leaf hash does not match its data", kind="leaf", index=position
            )
        memory.append(leaf_hash)
    size = memory.size
    nodes = 0
    for node in _batches(session, LogNode, [col(LogNode.level), col(LogNode.position)]):
        nodes += 1
        if node.position + 1 > size >> node.level:
            raise LogCorruptError(
                "a node outside the tree",
                kind="node",
                level=node.level,
                position=node.position,
            )
        (expected,) = memory.get_nodes([NodeID(node.level, node.position)])
        if bytes(node.hash) != expected:
            raise LogCorruptError(
                "a stored node differs from the recomputed one",
                kind="node",
                level=node.level,
                position=node.position,
            )
    expected_nodes = sum(size >> level for level in range(size.bit_length()))
    if nodes != expected_nodes:
        raise LogCorruptError(
            "nodes are missing from the tree",
            kind="node",
            stored=nodes,
            expected=expected_nodes,
        )
    store = DatabaseNodeStore(session, size=size)
    root = root_at(memory, size)
    if root_at(store, size) != root:
        raise LogCorruptError(
            "the stored tree's root differs from the leaves'", kind="root"
        )
    key = note_key_of(identity) if can_sign(identity) else None
    count = 0
    latest: int | None = None
    for row in _batches(session, LogCheckpoint, [col(LogCheckpoint.tree_size)]):
        count += 1
        if key is not None:
            body = verify_checkpoint(row.note, verifier_keys=[key]).checkpoint
        else:
            body = parse_checkpoint(row.note).checkpoint
        if body.tree_size != row.tree_size or body.root_hash != bytes(row.root_hash):
            raise LogCorruptError(
                "a checkpoint row disagrees with its note",
                kind="checkpoint",
                tree_size=row.tree_size,
            )
        if body.tree_size > size or root_at(memory, body.tree_size) != body.root_hash:
            raise LogCorruptError(
                "a checkpoint disagrees with the stored leaves",
                kind="checkpoint",
                tree_size=row.tree_size,
            )
        latest = body.tree_size
    signed_tail = None
    if sign_tail and key is not None and size > (latest or 0):
        checkpoint(session, identity=identity, now=now)
        signed_tail, latest, count = size, size, count + 1
    return LogReport(size, root, count, latest, signed_tail)
