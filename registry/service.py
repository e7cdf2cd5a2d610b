"""Operator operations behind the ``registry`` command: serve, migrate, trust list.

Each opens the configured database through the registry's own code; the command
line only parses and renders. Bad configuration raises ``ConfigurationError``
before anything starts.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from registry import migrations, trust
from registry.config import Settings
from registry.db import ensure_database_folder, make_engine
from registry.errors import (
    ConfigurationError,
    DatabaseNotMigratedError,
    DatabaseUnavailableError,
)
from registry.identity import load_identity
from registry.logging import configure_logging
from registry.models import TrustEntry, TrustEntryCreate, TrustEntryPublic, TrustRole
from registry.serial_keys import load_serial_key
from registry.vcapi import load_issuers

logger = logging.getLogger("registry.service")


def open_engine(settings: Settings) -> Engine:
    """The configured database's engine (its SQLite folder created).

    Raises:
        ConfigurationError: an unsupported database URL.
    """
    url = settings.resolved_database_url()
    try:
        ensure_database_folder(url)
        return make_engine(url)
    except (ValueError, OSError) as exc:
        raise ConfigurationError(
            "REGISTRY_DATABASE_URL cannot be used", setting="REGISTRY_DATABASE_URL"
        ) from exc


def upgrade_database(settings: Settings) -> dict[str, str]:
    """Run the migrations to head.

    Raises:
        ConfigurationError, DatabaseUnavailableError.
    """
    engine = open_engine(settings)
    try:
        before = migrations.current_revision(engine) or "none"
        after = migrations.upgrade(engine)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError(
            f"cannot migrate the database ({type(exc).__name__})"
        ) from exc
    finally:
        engine.dispose()
    return {"from": before, "to": after, "head": migrations.head_revision()}


def _migrated_engine(settings: Settings) -> Engine:
    engine = open_engine(settings)
    try:
        at_head = migrations.is_at_head(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseUnavailableError(
            f"cannot reach the database ({type(exc).__name__})"
        ) from exc
    if not at_head:
        engine.dispose()
        raise DatabaseNotMigratedError(
            "the database is not at the head revision; run 'registry db upgrade'"
        )
    return engine


def _public(entry: TrustEntry) -> dict[str, Any]:
    return TrustEntryPublic.model_validate(entry).model_dump(mode="json")


def add_trust_entry(
    settings: Settings,
    *,
    did: str,
    role: TrustRole,
    brand: str = "",
    note: str = "",
    now: datetime,
) -> dict[str, Any]:
    """Raises: as ``trust.add_entry``, plus the database errors."""
    engine = _migrated_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            entry = trust.add_entry(
                session=session,
                entry_in=TrustEntryCreate(did=did, role=role, brand=brand, note=note),
                now=now,
            )
            session.commit()
            return _public(entry)
    finally:
        engine.dispose()


def remove_trust_entry(
    settings: Settings, *, did: str, role: TrustRole, brand: str = ""
) -> dict[str, Any]:
    """Raises: as ``trust.remove_matching``, plus the database errors."""
    engine = _migrated_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            entry = trust.remove_matching(
                session=session, did=did, role=role, brand=brand
            )
            public = _public(entry)
            session.commit()
            return public
    finally:
        engine.dispose()


def list_trust_entries(
    settings: Settings, *, role: TrustRole | None = None
) -> list[dict[str, Any]]:
    engine = _migrated_engine(settings)
    try:
        with Session(engine) as session:
            return [_public(e) for e in trust.list_entries(session=session, role=role)]
    finally:
        engine.dispose()


def serve(settings: Settings, *, host: str, port: int) -> None:
    """Validate the configuration, then run the service under uvicorn until stopped.

    Raises:
        ConfigurationError: a bad key file, VC-API issuer or database URL.
    """
    import uvicorn

    from registry.main import create_app

    configure_logging(settings.log_level)
    engine = open_engine(settings)
    identity = load_identity(settings)
    issuers = load_issuers(settings)
    load_serial_key(settings)  # a bad key file stops the start (exit 78), not a request
    if settings.vcapi_open_issue:
        logger.warning(
            "REGISTRY_VCAPI_OPEN_ISSUE is set: anyone may issue with the VC-API "
            "issuers; use it only for conformance test suites"
        )
    try:
        if not migrations.is_at_head(engine):
            logger.warning(
                "the database is not at the head revision: /readyz answers 503 "
                "until 'registry db upgrade' runs"
            )
    except SQLAlchemyError:
        logger.warning("the database cannot be reached yet: /readyz answers 503")
    app = create_app(settings, engine=engine, identity=identity, vcapi_issuers=issuers)
    logger.info(
        "registry starting",
        extra={"fields": {"did": identity.did, "host": host, "port": port}},
    )
    tls: dict[str, Any] = {}
    if settings.has_tls():
        tls = {
            "ssl_certfile": str(settings.tls_cert_file),
            "ssl_keyfile": str(settings.tls_key_file),
            "ssl_keyfile_password": (
                settings.tls_key_password.get_secret_value()
                if settings.tls_key_password
                else None
            ),
        }
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        **tls,
    )
