"""``registry log …``: the operator's commands on the stored transparency log.

Each opens the configured (migrated) database like the other operator commands in
``registry.service``. ``verify`` runs ``registry.log.verify_log``, which also signs
a checkpoint over an unsigned tail left by a crash; ``witness add|remove|list``
edits the witnesses whose cosignatures the registry keeps
(``registry.log_witnesses``).
"""

from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from registry import log, log_witnesses, service
from registry.config import Settings
from registry.errors import DatabaseUnavailableError
from registry.identity import load_identity
from registry.log_models import LogVerificationPublic, LogWitness, LogWitnessPublic


def verify_configured_log(
    settings: Settings, *, now: datetime
) -> LogVerificationPublic:
    """Verify the configured registry's log; sign its unsigned tail.

    Raises:
        ConfigurationError, DatabaseUnavailableError, DatabaseNotMigratedError;
        LogCorruptError: the stored log disagrees with itself or a checkpoint.
    """
    identity = load_identity(settings)
    engine = service._migrated_engine(settings)
    try:
        with Session(engine) as session:
            report = log.verify_log(session, identity=identity, now=now)
            session.commit()
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError(
            f"cannot read the log ({type(exc).__name__})"
        ) from exc
    finally:
        engine.dispose()
    vkey = log.note_key_of(identity).to_vkey() if log.can_sign(identity) else None
    return LogVerificationPublic.model_validate({**report.to_json(), "vkey": vkey})


def _public(db_witness: LogWitness) -> dict[str, Any]:
    return LogWitnessPublic.model_validate(db_witness).model_dump(mode="json")


def add_witness(
    settings: Settings, *, vkey: str, note: str = "", now: datetime
) -> dict[str, Any]:
    """Raises: as ``log_witnesses.add_witness``, plus the database errors."""
    engine = service._migrated_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            db_witness = log_witnesses.add_witness(
                session=session, vkey=vkey, note=note, now=now
            )
            session.commit()
            return _public(db_witness)
    finally:
        engine.dispose()


def remove_witness(settings: Settings, *, name_or_vkey: str) -> dict[str, Any]:
    """Raises: as ``log_witnesses.remove_witness``, plus the database errors."""
    engine = service._migrated_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            db_witness = log_witnesses.remove_witness(
                session=session, name_or_vkey=name_or_vkey
            )
            public = _public(db_witness)
            session.commit()
            return public
    finally:
        engine.dispose()


def list_witnesses(settings: Settings) -> list[dict[str, Any]]:
    engine = service._migrated_engine(settings)
    try:
        with Session(engine) as session:
            return [_public(w) for w in log_witnesses.list_witnesses(session)]
    finally:
        engine.dispose()
