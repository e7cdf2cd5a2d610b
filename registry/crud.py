"""Database functions: keyword-only, no HTTP, no verification.

Callers own the transaction: these functions add, flush and query, and the caller
commits (so that a rejected request stores nothing).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from registry.models import (
    AuthChallenge,
    OwnershipRecord,
    RegisteredItem,
    RegistrationNonce,
    TrustEntry,
    TrustEntryCreate,
    TrustRole,
)

# --- DID authentication -----------------------------------------------------------


def create_challenge(
    *,
    session: Session,
    challenge_hash: str,
    did: str,
    audience: str,
    now: datetime,
    expires_at: datetime,
) -> AuthChallenge:
    db_challenge = AuthChallenge(
        challenge_hash=challenge_hash,
        did=did,
        audience=audience,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(db_challenge)
    session.flush()
    return db_challenge


def get_challenge(*, session: Session, challenge_hash: str) -> AuthChallenge | None:
    statement = select(AuthChallenge).where(
        AuthChallenge.challenge_hash == challenge_hash
    )
    return session.exec(statement).first()


def consume_challenge(*, session: Session, challenge_id: int, now: datetime) -> bool:
    """Mark a challenge used; False when another request used it first."""
    statement = (
        update(AuthChallenge)
        .where(col(AuthChallenge.id) == challenge_id)
        .where(col(AuthChallenge.used_at).is_(None))
        .values(used_at=now)
    )
    result = session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def delete_expired_challenges(*, session: Session, before: datetime) -> int:
    statement = delete(AuthChallenge).where(col(AuthChallenge.expires_at) < before)
    result = session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


def count_challenges(*, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuthChallenge)).one())


# --- trust list -------------------------------------------------------------------


def create_trust_entry(
    *, session: Session, entry_in: TrustEntryCreate, now: datetime
) -> TrustEntry:
    db_entry = TrustEntry.model_validate(entry_in, update={"created_at": now})
    session.add(db_entry)
    session.flush()
    return db_entry


def get_trust_entry(*, session: Session, entry_id: int) -> TrustEntry | None:
    return session.get(TrustEntry, entry_id)


def find_trust_entry(
    *, session: Session, did: str, role: TrustRole, brand: str
) -> TrustEntry | None:
    statement = select(TrustEntry).where(
        TrustEntry.did == did, TrustEntry.role == role, TrustEntry.brand == brand
    )
    return session.exec(statement).first()


def list_trust_entries(
    *, session: Session, role: TrustRole | None = None, did: str | None = None
) -> Sequence[TrustEntry]:
    statement = select(TrustEntry).order_by(col(TrustEntry.id))
    if role is not None:
        statement = statement.where(TrustEntry.role == role)
    if did is not None:
        statement = statement.where(TrustEntry.did == did)
    return session.exec(statement).all()


def delete_trust_entry(*, session: Session, db_entry: TrustEntry) -> None:
    session.delete(db_entry)
    session.flush()


def count_trust_entries(*, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(TrustEntry)).one())


# --- items and ownership ----------------------------------------------------------


def get_item_by_identity(
    *, session: Session, identity_hash: str
) -> RegisteredItem | None:
    statement = select(RegisteredItem).where(
        RegisteredItem.identity_hash == identity_hash
    )
    return session.exec(statement).first()


def create_item(*, session: Session, db_item: RegisteredItem) -> RegisteredItem:
    """Insert an item (raises ``IntegrityError`` at flush on a duplicate identity)."""
    session.add(db_item)
    session.flush()
    return db_item


def current_ownership(*, session: Session, item_id: str) -> OwnershipRecord | None:
    statement = select(OwnershipRecord).where(
        OwnershipRecord.item_id == item_id,
        col(OwnershipRecord.owned_through).is_(None),
    )
    return session.exec(statement).first()


def create_ownership(
    *, session: Session, db_ownership: OwnershipRecord
) -> OwnershipRecord:
    """Insert an ownership (``IntegrityError`` at flush when the item has a current
    owner already)."""
    session.add(db_ownership)
    session.flush()
    return db_ownership


def end_ownership(
    *, session: Session, db_ownership: OwnershipRecord, now: datetime
) -> OwnershipRecord:
    db_ownership.owned_through = now
    session.add(db_ownership)
    session.flush()
    return db_ownership


def list_current_public_json(*, session: Session, owner_did: str) -> list[str]:
    """The owner's current items, as their stored public JSON, oldest first."""
    statement = (
        select(OwnershipRecord.public_json)
        .where(
            OwnershipRecord.owner_did == owner_did,
            col(OwnershipRecord.owned_through).is_(None),
        )
        .order_by(col(OwnershipRecord.owned_from), col(OwnershipRecord.id))
    )
    return list(session.exec(statement).all())


def count_items(*, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(RegisteredItem)).one())


def count_ownerships(*, session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(OwnershipRecord)).one())


# --- registration nonces -----------------------------------------------------------


def create_nonce(
    *, session: Session, nonce_hash: str, did: str, expires_at: datetime
) -> RegistrationNonce:
    db_nonce = RegistrationNonce(nonce_hash=nonce_hash, did=did, expires_at=expires_at)
    session.add(db_nonce)
    session.flush()
    return db_nonce


def get_nonce(*, session: Session, nonce_hash: str) -> RegistrationNonce | None:
    return session.get(RegistrationNonce, nonce_hash)


def consume_nonce(*, session: Session, nonce_hash: str, now: datetime) -> bool:
    """Mark a nonce used; False when another request used it first."""
    statement = (
        update(RegistrationNonce)
        .where(col(RegistrationNonce.nonce_hash) == nonce_hash)
        .where(col(RegistrationNonce.used_at).is_(None))
        .values(used_at=now)
    )
    result = session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def delete_expired_nonces(*, session: Session, before: datetime) -> int:
    statement = delete(RegistrationNonce).where(
        col(RegistrationNonce.expires_at) < before
    )
    result = session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]
