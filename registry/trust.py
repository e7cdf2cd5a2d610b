"""The trust list: which DIDs may act as operators, brand issuers (for which brand)
and stolen-report confirmers (police, insurers).

Both the operator API (``routes/trust.py``) and ``registry trust …`` go through these
functions; they validate, call ``crud`` and leave the commit to the caller.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import Session

from did_vault import DID
from registry import crud, log
from registry.errors import (
    TrustEntryExistsError,
    TrustEntryInvalidError,
    TrustEntryNotFoundError,
)
from registry.models import (
    STOLEN_CONFIRMER_ROLES,
    TrustEntry,
    TrustEntryCreate,
    TrustRole,
)

# The standard item schema's text rules (specs/schemas/common.schema.json): a brand
# is one line; a note may also hold tabs and line breaks. PostgreSQL text cannot
# hold a NUL at all.
_BRAND_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_NOTE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_entry(entry_in: TrustEntryCreate) -> TrustEntryCreate:
    """The entry with a checked DID and a brand exactly where the role needs one.

    Raises:
        InvalidDIDError: the DID is not a DID.
        TrustEntryInvalidError: a brand issuer without a brand, a brand on
            another role, or a control character in the brand or note.
    """
    did = str(DID.parse(entry_in.did))
    brand = " ".join(entry_in.brand.split())
    note = entry_in.note.strip()
    if entry_in.role is TrustRole.BRAND_ISSUER and not brand:
        raise TrustEntryInvalidError("a brand issuer needs the brand it issues for")
    if entry_in.role is not TrustRole.BRAND_ISSUER and brand:
        raise TrustEntryInvalidError("only a brand issuer has a brand")
    if _BRAND_FORBIDDEN.search(brand):
        raise TrustEntryInvalidError(
            "the brand holds a control character", field="brand"
        )
    if _NOTE_FORBIDDEN.search(note):
        raise TrustEntryInvalidError(
            "the note holds a control character other than a tab or line break",
            field="note",
        )
    return TrustEntryCreate(did=did, role=entry_in.role, brand=brand, note=note)


def _log_change(
    session: Session, kind: log.EventType, db_entry: TrustEntry, *, now: datetime
) -> None:
    """Append a trust-list change to the transparency log (same transaction)."""
    event = log.make_event(
        kind,
        time=now,
        entryId=db_entry.id or 0,
        did=db_entry.did,
        role=str(db_entry.role),
        brand=db_entry.brand,
    )
    log.append_event(session, event, now=now)


def add_entry(
    *, session: Session, entry_in: TrustEntryCreate, now: datetime
) -> TrustEntry:
    """Add a trust entry (the caller commits).

    Raises:
        InvalidDIDError, TrustEntryInvalidError: as ``normalise_entry``.
        TrustEntryExistsError: the same DID, role and brand is listed already.
    """
    entry = normalise_entry(entry_in)
    if crud.find_trust_entry(
        session=session, did=entry.did, role=entry.role, brand=entry.brand
    ):
        raise TrustEntryExistsError(
            "that DID already has this role", role=entry.role.value
        )
    db_entry = crud.create_trust_entry(session=session, entry_in=entry, now=now)
    _log_change(session, log.EventType.TRUST_ADDED, db_entry, now=now)
    return db_entry


def remove_entry(
    *, session: Session, entry_id: int, now: datetime | None = None
) -> TrustEntry:
    """Remove a trust entry by id (the caller commits).

    Raises:
        TrustEntryNotFoundError: no entry has that id.
    """
    db_entry = crud.get_trust_entry(session=session, entry_id=entry_id)
    if db_entry is None:
        raise TrustEntryNotFoundError("no trust entry with that id", id=entry_id)
    crud.delete_trust_entry(session=session, db_entry=db_entry)
    _log_change(
        session, log.EventType.TRUST_REMOVED, db_entry, now=now or datetime.now(UTC)
    )
    return db_entry


def remove_matching(
    *,
    session: Session,
    did: str,
    role: TrustRole,
    brand: str = "",
    now: datetime | None = None,
) -> TrustEntry:
    """Remove the entry for a DID, role and brand (the caller commits).

    Raises:
        InvalidDIDError: not a DID.
        TrustEntryNotFoundError: no such entry.
    """
    subject = str(DID.parse(did))
    db_entry = crud.find_trust_entry(
        session=session, did=subject, role=role, brand=" ".join(brand.split())
    )
    if db_entry is None:
        raise TrustEntryNotFoundError("that DID does not have this role")
    crud.delete_trust_entry(session=session, db_entry=db_entry)
    _log_change(
        session, log.EventType.TRUST_REMOVED, db_entry, now=now or datetime.now(UTC)
    )
    return db_entry


def list_entries(
    *, session: Session, role: TrustRole | None = None, did: str | None = None
) -> Sequence[TrustEntry]:
    return crud.list_trust_entries(session=session, role=role, did=did)


def roles_of(*, session: Session, did: str) -> list[str]:
    """The distinct roles a DID holds, sorted."""
    return sorted({e.role for e in crud.list_trust_entries(session=session, did=did)})


def has_role(*, session: Session, did: str, role: TrustRole) -> bool:
    return bool(crud.list_trust_entries(session=session, role=role, did=did))


def may_issue_for_brand(*, session: Session, did: str, brand: str) -> bool:
    """Whether ``did`` is a trusted brand issuer for ``brand``."""
    wanted = " ".join(brand.split())
    return (
        crud.find_trust_entry(
            session=session, did=did, role=TrustRole.BRAND_ISSUER, brand=wanted
        )
        is not None
    )


def may_confirm_stolen(*, session: Session, did: str) -> bool:
    """Whether ``did`` is trusted to confirm stolen reports (police, insurer)."""
    return any(
        has_role(session=session, did=did, role=role) for role in STOLEN_CONFIRMER_ROLES
    )
