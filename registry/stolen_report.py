"""``registry stolen confirm|show``: the operator applies a confirmer-signed
``StolenReportCredential`` (``stolen-report.schema.json``) and reads an item's
lifecycle state.

The operator never marks an item stolen on their own word: the report must be a
Data Integrity credential (``assertionMethod``) issued by a police or insurer DID on
the trust list, naming itself as ``confirmedBy``. It is checked and applied in one
transaction with the same state change and log event as ``POST
/v1/items/{id}/stolen`` (``lifecycle.confirm_stolen``). A report is applied at most
once: its ``confirmedAt`` must be later than the item's last lifecycle change, so
an old report cannot re-mark an item stolen after its recovery (``report.stale``).
See ``specs/design/0007-ownership-lifecycle.md``.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from did_vault import (
    CachingResolver,
    DIDDocumentResolver,
    HttpxFetcher,
    SchemaViolationError,
    default_resolver,
    items,
    verify_credential,
)
from registry import lifecycle, service, trust
from registry.config import Settings
from registry.errors import (
    DatabaseUnavailableError,
    NotFoundError,
    ReportIssuerUntrustedError,
    ReportMismatchError,
    ReportStaleError,
    ReportStateError,
)
from registry.identity import SelfResolver, load_identity
from registry.models import (
    ItemCondition,
    ItemState,
    ItemStatePublic,
    RegisteredItem,
    StolenConfirm,
)


def _issuer_id(report: Mapping[str, Any]) -> Any:
    issuer = report.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


def _subject(report: Mapping[str, Any]) -> Mapping[str, Any]:
    types = report.get("type")
    if not isinstance(types, list) or items.STOLEN_REPORT_CREDENTIAL not in types:
        raise ReportMismatchError(f"expected a {items.STOLEN_REPORT_CREDENTIAL}")
    subject = report.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise ReportMismatchError("the credential has no subject object")
    if subject.get("reportStatus") != items.ReportStatus.STOLEN.value:
        raise ReportMismatchError("the report's reportStatus is not 'stolen'")
    return subject


def _terms(subject: Mapping[str, Any]) -> items.StolenReport:
    try:
        return items.StolenReport.from_json(subject)
    except ValidationError as exc:
        raise SchemaViolationError(
            "the stolen report breaks its schema", pointer="/credentialSubject"
        ) from exc


def _confirmation(terms: items.StolenReport, *, number: str) -> StolenConfirm:
    try:
        return StolenConfirm(
            reported_at=items.parse_date_time(terms.reported_at),
            police_report_number=number,
            place=terms.place,
            description=terms.description,
        )
    except ValidationError as exc:
        raise SchemaViolationError(
            "the stolen report breaks its schema", pointer="/credentialSubject"
        ) from exc


def apply_stolen_report(
    *,
    session: Session,
    report: Mapping[str, Any],
    resolver: DIDDocumentResolver,
    now: datetime,
) -> ItemStatePublic:
    """Verify a confirmer-signed stolen report and mark its item stolen (the caller
    commits; nothing is written when it raises).

    Raises:
        ReportMismatchError: not a StolenReportCredential with ``reportStatus``
            ``stolen``, an issuer other than ``confirmedBy``, no
            ``policeReportNumber``, or a ``confirmedAt`` after ``now``;
        did_vault's verification errors (a bad signature …) and
        SchemaViolationError; ReportIssuerUntrustedError: the issuer is no
        trusted police or insurer DID; NotFoundError: no such item;
        ReportStateError: already stolen; ReportStaleError: ``confirmedAt`` is
        not later than the item's last change.
    """
    subject = _subject(report)
    verify_credential(report, resolver=resolver, now=now)
    terms = _terms(subject)
    confirmer = _issuer_id(report)
    if confirmer != terms.confirmed_by or not isinstance(confirmer, str):
        raise ReportMismatchError("the report's issuer is not its confirmedBy")
    number = terms.police_report_number
    if number is None:
        raise ReportMismatchError("the report names no policeReportNumber")
    assert terms.confirmed_at is not None  # a stolen report is confirmed
    confirmed_at = items.parse_date_time(terms.confirmed_at)
    if confirmed_at > now:
        raise ReportMismatchError("the report's confirmedAt lies in the future")
    confirmation = _confirmation(terms, number=number)
    if not trust.may_confirm_stolen(session=session, did=confirmer):
        raise ReportIssuerUntrustedError(
            "the report's issuer is no police or insurer DID on the trust list"
        )
    item_id = lifecycle.item_id_of(terms.item)
    db_item = lifecycle.lock_item(session, item_id) if item_id else None
    if db_item is None or db_item.item_did != terms.item:
        raise NotFoundError("no such item")
    db_state = session.get(ItemState, db_item.id)
    if db_state is not None and db_state.condition == ItemCondition.STOLEN.value:
        raise ReportStateError("the item is already reported stolen")
    last_change = db_item.created_at if db_state is None else db_state.updated_at
    if confirmed_at <= last_change:
        raise ReportStaleError(
            "the report was confirmed before the item's last change; "
            "have the confirmer sign a new one"
        )
    return lifecycle.confirm_stolen(
        session=session,
        item_id=db_item.id,
        confirmer=confirmer,
        report=confirmation,
        if_match=None,
        now=now,
        require_if_match=False,
        confirmed_at=confirmed_at,
    )


def read_item_state(
    *, session: Session, item_id: str, now: datetime
) -> ItemStatePublic:
    """An item's lifecycle state, for the operator.

    Raises:
        NotFoundError.
    """
    db_item = session.get(RegisteredItem, item_id)
    if db_item is None:
        raise NotFoundError("no such item")
    db_state = lifecycle.get_state(session, item_id, now=now)
    return lifecycle.state_public(session, db_item, db_state)


def configured_resolver(settings: Settings) -> DIDDocumentResolver:
    """The resolver the service builds (``registry.deps.get_resolver``): did:key,
    did:jwk, did:web over HTTPS, and the registry's own DID locally.

    Raises:
        ConfigurationError: a bad key file or domain.
    """
    fetcher = HttpxFetcher(allow_loopback=settings.allow_loopback)
    return CachingResolver(
        SelfResolver(load_identity(settings), default_resolver(fetcher))
    )


def confirm_configured(
    settings: Settings,
    *,
    report: Mapping[str, Any],
    now: datetime,
    resolver: DIDDocumentResolver | None = None,
) -> dict[str, Any]:
    """Apply a signed stolen report to the configured registry's database.

    Raises:
        as ``apply_stolen_report``; ConfigurationError, DatabaseUnavailableError,
        DatabaseNotMigratedError.
    """
    resolver = resolver or configured_resolver(settings)
    engine = service._migrated_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            state = apply_stolen_report(
                session=session, report=report, resolver=resolver, now=now
            )
            session.commit()
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError(
            f"cannot apply the report ({type(exc).__name__})"
        ) from exc
    finally:
        engine.dispose()
    return state.model_dump(mode="json")


def show_configured(
    settings: Settings, *, item_id: str, now: datetime
) -> dict[str, Any]:
    """The configured registry's state of one item.

    Raises:
        NotFoundError; ConfigurationError, DatabaseUnavailableError,
        DatabaseNotMigratedError.
    """
    engine = service._migrated_engine(settings)
    try:
        with Session(engine) as session:
            state = read_item_state(session=session, item_id=item_id, now=now)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError(
            f"cannot read the item ({type(exc).__name__})"
        ) from exc
    finally:
        engine.dispose()
    return state.model_dump(mode="json")
