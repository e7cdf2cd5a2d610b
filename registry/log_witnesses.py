"""Witness cosignatures of the registry's checkpoints (design note 0006).

The registry keeps a list of witnesses it trusts (``log_witness``: a C2SP note key,
``vkey``, and its name, which is unique in the list), managed by
``registry log witness add|remove|list``. ``store_cosignatures`` takes a checkpoint
note a witness cosigned (``POST /v1/log/cosignatures``): the note must carry the
registry's own signature and be, byte for byte in its body, the checkpoint the
registry stored for that tree size; each ``cosignature/v1`` line by a trusted
witness must verify (C2SP tlog-cosignature) and state a time between the
checkpoint's signing and now, give or take ``CLOCK_SKEW``. New ones are stored, one
per witness and tree size (the first stays: a repeat changes nothing); lines by
other keys are ignored, as C2SP signed-note asks, but a note with no trusted
witness's cosignature at all is refused (``witness.untrusted``), so a witness learns
that the registry does not list it.

``cosigned`` adds the stored cosignatures of currently trusted witnesses to a
checkpoint note, as extra signature lines: the registry's checkpoint endpoints and
receipts serve notes that way. A relying party verifies them with the witness keys
it trusts itself; the registry's list only decides what it keeps and shows.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from did_vault import (
    MalformedCheckpointError,
    NoteKey,
    parse_checkpoint,
    verify_checkpoint,
)
from registry import log
from registry.errors import (
    LogCheckpointNotFoundError,
    LogCheckpointUnknownError,
    WitnessExistsError,
    WitnessNotFoundError,
    WitnessTimeInvalidError,
    WitnessUntrustedError,
)
from registry.identity import RegistryIdentity
from registry.log_models import (
    WITNESS_NAME_MAX_LENGTH,
    CosignaturesPublic,
    LogCheckpoint,
    LogCosignature,
    LogWitness,
    WitnessCosignaturePublic,
)

CLOCK_SKEW = timedelta(minutes=5)
"""How far a witness's clock may be ahead of the registry's (or behind it)."""
MAX_NOTE_BYTES = 16 * 1024
"""The largest cosigned note ``POST /v1/log/cosignatures`` reads (100 signature
lines with reasonable key names fit in about 15 KiB)."""
MAX_SERVED_COSIGNATURES = 64
"""Witness lines added to a served note at most (C2SP notes carry at most 100)."""


# --- the trusted witnesses ------------------------------------------------------------


def parse_witness_key(vkey: str) -> NoteKey:
    """The witness's note key from its ``vkey``.

    Raises:
        MalformedCheckpointError: not an Ed25519 verifier key, or a key name longer
            than the registry stores.
    """
    key = NoteKey.from_vkey(vkey.strip())
    if len(key.name) > WITNESS_NAME_MAX_LENGTH:
        raise MalformedCheckpointError(
            "the witness's key name is too long", limit=WITNESS_NAME_MAX_LENGTH
        )
    return key


def add_witness(
    *, session: Session, vkey: str, note: str = "", now: datetime
) -> LogWitness:
    """Trust a witness (the caller commits).

    Raises:
        MalformedCheckpointError: as ``parse_witness_key``.
        WitnessExistsError: a witness with that key name is listed already.
    """
    key = parse_witness_key(vkey)
    existing = session.exec(
        select(LogWitness).where(col(LogWitness.name) == key.name)
    ).first()
    if existing is not None:
        raise WitnessExistsError(
            "a witness with that key name is trusted already", name=key.name
        )
    db_witness = LogWitness(
        vkey=key.to_vkey(), name=key.name, note=note.strip()[:500], added_at=now
    )
    session.add(db_witness)
    session.flush()
    return db_witness


def remove_witness(*, session: Session, name_or_vkey: str) -> LogWitness:
    """Stop trusting a witness, named by its key name or vkey (the caller commits).

    Its stored cosignatures stay in the database but are no longer served.

    Raises:
        WitnessNotFoundError: no such witness.
    """
    wanted = name_or_vkey.strip()
    column = LogWitness.vkey if "+" in wanted else LogWitness.name
    db_witness = session.exec(select(LogWitness).where(col(column) == wanted)).first()
    if db_witness is None:
        raise WitnessNotFoundError("no trusted witness by that name or key")
    session.delete(db_witness)
    session.flush()
    return db_witness


def list_witnesses(session: Session) -> Sequence[LogWitness]:
    return session.exec(select(LogWitness).order_by(col(LogWitness.name))).all()


# --- storing cosignatures -------------------------------------------------------------


def store_cosignatures(
    session: Session, note: str, *, identity: RegistryIdentity, now: datetime
) -> CosignaturesPublic:
    """Verify a cosigned checkpoint note and store its trusted witnesses'
    cosignatures (the caller commits).

    Raises:
        MalformedCheckpointError: not a checkpoint note (or a malformed cosignature
            by a trusted witness).
        UntrustedCheckpointError: no registry signature on it.
        CheckpointSignatureError: the registry's or a trusted witness's signature
            does not verify.
        UnsupportedAlgorithmError: the registry's key cannot sign notes.
        LogCheckpointNotFoundError: the registry signed no checkpoint of that size.
        LogCheckpointUnknownError: it is not the checkpoint stored for that size.
        WitnessUntrustedError: no cosignature by a trusted witness.
        WitnessTimeInvalidError: a trusted witness's time is out of bounds.
    """
    registry_key = log.note_key_of(identity)
    witnesses = {
        db_witness.name: db_witness
        for db_witness in list_witnesses(session)
        if NoteKey.from_vkey(db_witness.vkey) != registry_key
    }
    keys = [NoteKey.from_vkey(w.vkey) for w in witnesses.values()]
    verified = verify_checkpoint(note, verifier_keys=[registry_key], witness_keys=keys)
    body = verified.checkpoint
    log.lock(session)  # one writer: a concurrent repeat finds the stored row
    row = session.get(LogCheckpoint, body.tree_size)
    if row is None:
        raise LogCheckpointNotFoundError(
            "the registry signed no checkpoint of that size", tree_size=body.tree_size
        )
    if parse_checkpoint(row.note).checkpoint != body:
        raise LogCheckpointUnknownError(
            "not the checkpoint the registry signed for that size",
            tree_size=body.tree_size,
        )
    earliest = int((row.created_at - CLOCK_SKEW).timestamp())
    latest = int((now + CLOCK_SKEW).timestamp())
    found: dict[str, tuple[int, str]] = {}  # name → (earliest time, its line)
    for cosignature in verified.cosignatures:
        if cosignature.by_log:
            continue
        if not earliest <= cosignature.timestamp <= latest:
            raise WitnessTimeInvalidError(
                "the cosignature's time is before the checkpoint or in the future",
                witness=cosignature.name,
                time=cosignature.timestamp,
            )
        seen = found.get(cosignature.name)
        if seen is None or cosignature.timestamp < seen[0]:
            found[cosignature.name] = (cosignature.timestamp, cosignature.line)
    if not found:
        raise WitnessUntrustedError(
            "the note carries no cosignature by a witness this registry trusts"
        )
    answers = []
    for name, (timestamp, line) in sorted(found.items()):
        vkey = witnesses[name].vkey
        stored = session.get(LogCosignature, (body.tree_size, vkey))
        if stored is None:
            session.add(
                LogCosignature(
                    tree_size=body.tree_size,
                    vkey=vkey,
                    signature=line,
                    timestamp=timestamp,
                    created_at=now,
                )
            )
        else:
            timestamp = stored.timestamp
        answers.append(
            WitnessCosignaturePublic(
                witness=name,
                vkey=vkey,
                time=datetime.fromtimestamp(timestamp, UTC),
                stored=stored is None,
            )
        )
    session.flush()
    known = {c.line for c in verified.cosignatures}
    ignored = [
        sig
        for sig in parse_checkpoint(note).signatures
        if sig.to_line() not in known
        and (sig.name, sig.key_id) != (registry_key.name, registry_key.key_id())
    ]
    return CosignaturesPublic(
        origin=body.origin,
        tree_size=body.tree_size,
        cosignatures=answers,
        ignored=len(ignored),
    )


# --- serving --------------------------------------------------------------------------


def cosigned(session: Session, note: str) -> str:
    """``note`` (a checkpoint the registry stored) with the stored cosignatures of
    its tree size by currently trusted witnesses, one signature line each."""
    tree_size = parse_checkpoint(note).checkpoint.tree_size
    lines = session.exec(
        select(LogCosignature.signature)
        .where(
            col(LogCosignature.tree_size) == tree_size,
            col(LogCosignature.vkey).in_(select(LogWitness.vkey)),
        )
        .order_by(col(LogCosignature.created_at), col(LogCosignature.vkey))
        .limit(MAX_SERVED_COSIGNATURES)
    ).all()
    return note + "".join(line + "\n" for line in lines)
