"""``registry log verify``: the operator's check of the stored transparency log.

Opens the configured (migrated) database like the other operator commands in
``registry.service`` and runs ``registry.log.verify_log``, which also signs a
checkpoint over an unsigned tail left by a crash.
"""

from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from registry import log, service
from registry.config import Settings
from registry.errors import DatabaseUnavailableError
from registry.identity import load_identity
from registry.log_models import LogVerificationPublic


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
