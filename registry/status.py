"""The registry's hosted status lists: W3C Bitstring Status List 1.0 credentials and
IETF Token Status List tokens, one entry of each per issued OwnershipCredential.

- ``allocate``: the next entry of the current list of a kind. Entries are handed out
  in a keyed pseudo-random order (a Feistel permutation of the list's counter, keyed
  by the list's seed, cycle-walked into range), so neighbouring indexes tell nothing
  about registration order (herd privacy); a full list rolls over to the next one.
  The counter is bumped with one conditional ``UPDATE … RETURNING``, so concurrent
  registrations never share an entry.
- ``revoke``: marks an ownership's two entries revoked (the transfer flow calls it).
  Lists store no bits: the bit of an entry is set exactly when its ownership row is
  revoked, so the list and the records cannot disagree. Each change bumps the list's
  ``revision``.
- Suspension: the same Bitstring entry (list number and index) is also served as a
  ``suspension`` list at ``…/bitstring/{n}/suspension``, and the Token Status List
  entry takes value 2 (SUSPENDED). An entry is suspended exactly while its
  ownership is current (not revoked) and its item is reported missing or stolen
  (``item_state.condition``); ``suspension_changed`` bumps the lists when a report
  changes.
- ``StatusPublisher``: renders and signs a list with the registry's key on request,
  reusing the signed form while the revision is unchanged and it is younger than
  half the list's ``ttl``.
"""

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from did_vault import (
    ECDSA_JCS_2019,
    EDDSA_JCS_2022,
    BitstringStatusList,
    KeyAlgorithm,
    StatusPurpose,
    TokenStatus,
    TokenStatusList,
    build_status_list_credential,
    issue_credential,
    issue_status_list_token,
    make_status_entry,
)
from registry.errors import OwnershipNotFoundError, StatusListNotFoundError
from registry.identity import RegistryIdentity
from registry.models import ItemState, OwnershipRecord, StatusList, StatusListKind

STATUS_PATH = "/v1/status"
TOKEN_STATUS_BITS = 2
"""Two bits per Token Status List entry: VALID, INVALID and SUSPENDED."""
SUSPENSION_SEGMENT = "suspension"
SUSPENDED_CONDITIONS = ("missing", "stolen")
"""``item_state.condition`` values that suspend the current ownership credential."""
FEISTEL_ROUNDS = 4
SEED_BYTES = 16
TOKEN_LIFETIME = timedelta(hours=24)

SeedSource = Callable[[int], bytes]


def base_url(identity: RegistryIdentity) -> str:
    """``https://<domain>[:<port>]``, where the registry's did:web is served."""
    port = f":{identity.port}" if identity.port else ""
    return f"https://{identity.domain}{port}"


def list_url(identity: RegistryIdentity, kind: StatusListKind, number: int) -> str:
    """The URL a list is served at (and its credential ``id`` / token ``sub``)."""
    return f"{base_url(identity)}{STATUS_PATH}/{kind.value}/{number}"


def cryptosuite_for(identity: RegistryIdentity) -> str:
    """The JCS cryptosuite of the registry's key type."""
    if identity.key.algorithm is KeyAlgorithm.ED25519:
        return EDDSA_JCS_2022
    return ECDSA_JCS_2019


# --- allocation -----------------------------------------------------------------------


def permute(counter: int, *, length: int, seed: bytes) -> int:
    """A keyed bijection of ``range(length)`` (balanced Feistel, cycle-walking)."""
    if not 0 <= counter < length:
        raise ValueError("counter outside the list")
    bits = max(2, (length - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = (1 << half) - 1
    value = counter
    while True:
        left, right = value >> half, value & mask
        for round_number in range(FEISTEL_ROUNDS):
            digest = hmac.new(
                seed, f"{round_number}:{right}".encode("ascii"), hashlib.sha256
            ).digest()
            left, right = right, left ^ (int.from_bytes(digest[:8], "big") & mask)
        value = (left << half) | right
        if value < length:
            return value


def _insert_list(
    session: Session,
    *,
    kind: StatusListKind,
    number: int,
    length: int,
    seed: str,
    now: datetime,
) -> None:
    values = {
        "kind": kind.value,
        "number": number,
        "length": length,
        "allocated": 0,
        "seed": seed,
        "revision": 0,
        "created_at": now,
    }
    table = StatusList.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(table).values(values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).values(values).on_conflict_do_nothing()
    session.execute(statement)


def allocate(
    *,
    session: Session,
    kind: StatusListKind,
    length: int,
    now: datetime,
    seed_source: SeedSource = secrets.token_bytes,
) -> tuple[int, int]:
    """``(list number, index)`` of a fresh entry (the caller commits).

    New lists get ``length`` entries; a list keeps the length it was created with.
    """
    while True:
        number = session.execute(
            select(col(StatusList.number))
            .where(
                col(StatusList.kind) == kind.value,
                col(StatusList.allocated) < col(StatusList.length),
            )
            .order_by(col(StatusList.number))
            .limit(1)
        ).scalar()
        if number is None:
            last = session.execute(
                select(func.max(StatusList.number)).where(
                    col(StatusList.kind) == kind.value
                )
            ).scalar()
            _insert_list(
                session,
                kind=kind,
                number=(last or 0) + 1,
                length=length,
                seed=seed_source(SEED_BYTES).hex(),
                now=now,
            )
            continue
        taken = session.execute(
            update(StatusList)
            .where(
                col(StatusList.kind) == kind.value,
                col(StatusList.number) == number,
                col(StatusList.allocated) < col(StatusList.length),
            )
            .values(allocated=col(StatusList.allocated) + 1)
            .returning(
                col(StatusList.allocated), col(StatusList.length), col(StatusList.seed)
            )
        ).first()
        if taken is None:  # filled up by a concurrent registration
            continue
        allocated, list_length, seed = taken
        index = permute(allocated - 1, length=list_length, seed=bytes.fromhex(seed))
        return int(number), index


def suspension_list_url(identity: RegistryIdentity, number: int) -> str:
    """The URL of Bitstring list ``number``'s suspension form."""
    bitstring = list_url(identity, StatusListKind.BITSTRING, number)
    return f"{bitstring}/{SUSPENSION_SEGMENT}"


def bitstring_entry(
    identity: RegistryIdentity, *, number: int, index: int
) -> list[dict[str, Any]]:
    """The ``credentialStatus`` of an OwnershipCredential: a revocation and a
    suspension entry, at the same index of the list's two forms."""
    return [
        make_status_entry(
            status_list_credential=list_url(identity, StatusListKind.BITSTRING, number),
            index=index,
            purpose=StatusPurpose.REVOCATION,
        ).to_dict(),
        make_status_entry(
            status_list_credential=suspension_list_url(identity, number),
            index=index,
            purpose=StatusPurpose.SUSPENSION,
        ).to_dict(),
    ]


def token_reference(
    identity: RegistryIdentity, *, number: int, index: int
) -> dict[str, Any]:
    """The ``status`` claim of an SD-JWT VC (Token Status List §6.1)."""
    return {
        "status_list": {
            "idx": index,
            "uri": list_url(identity, StatusListKind.TOKEN, number),
        }
    }


# --- changes --------------------------------------------------------------------------


def _bump(session: Session, *, kind: StatusListKind, number: int) -> None:
    session.execute(
        update(StatusList)
        .where(col(StatusList.kind) == kind.value, col(StatusList.number) == number)
        .values(revision=col(StatusList.revision) + 1)
    )


def revoke(*, session: Session, ownership_id: str, now: datetime) -> OwnershipRecord:
    """Revoke the credentials issued for an ownership (both status entries); the
    caller commits. Revoking twice changes nothing.

    Raises:
        OwnershipNotFoundError: no ownership with that id.
    """
    db_ownership = session.get(OwnershipRecord, ownership_id)
    if db_ownership is None:
        raise OwnershipNotFoundError("no ownership with that id")
    if db_ownership.revoked_at is None:
        db_ownership.revoked_at = now
        session.add(db_ownership)
        session.flush()
        _bump(
            session, kind=StatusListKind.BITSTRING, number=db_ownership.bitstring_list
        )
        _bump(session, kind=StatusListKind.TOKEN, number=db_ownership.token_list)
    return db_ownership


def suspension_changed(*, session: Session, item_id: str) -> None:
    """An item's missing/stolen report changed: bump the lists of its current
    ownership's entries so that they are re-made (the caller commits; call after
    logging the change, as the lock order is log before status lists)."""
    db_ownership = session.execute(
        select(OwnershipRecord).where(
            col(OwnershipRecord.item_id) == item_id,
            col(OwnershipRecord.revoked_at).is_(None),
        )
    ).scalar()
    if db_ownership is None:
        return
    _bump(session, kind=StatusListKind.BITSTRING, number=db_ownership.bitstring_list)
    _bump(session, kind=StatusListKind.TOKEN, number=db_ownership.token_list)


# --- publishing -----------------------------------------------------------------------


def _columns(kind: StatusListKind) -> tuple[Any, Any]:
    """An ownership's (index, list number) columns for a kind of list."""
    if kind is StatusListKind.BITSTRING:
        return col(OwnershipRecord.bitstring_index), col(OwnershipRecord.bitstring_list)
    return col(OwnershipRecord.token_index), col(OwnershipRecord.token_list)


@dataclass(frozen=True, slots=True)
class _Rendered:
    revision: int
    made_at: datetime
    body: bytes


class StatusPublisher:
    """Signed lists, re-made when their revision changes or they age (thread-safe)."""

    def __init__(self, *, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds
        self._cache: dict[tuple[str, int, str], _Rendered] = {}
        self._lock = threading.Lock()

    def _list(self, session: Session, kind: StatusListKind, number: int) -> StatusList:
        db_list = session.get(StatusList, (kind.value, number))
        if db_list is None:
            raise StatusListNotFoundError("no such status list")
        return db_list

    def _revoked(
        self, session: Session, kind: StatusListKind, number: int
    ) -> list[int]:
        index_column, list_column = _columns(kind)
        statement = select(index_column).where(
            list_column == number, col(OwnershipRecord.revoked_at).is_not(None)
        )
        return [int(index) for index in session.execute(statement).scalars()]

    def _suspended(
        self, session: Session, kind: StatusListKind, number: int
    ) -> list[int]:
        index_column, list_column = _columns(kind)
        statement = (
            select(index_column)
            .join(ItemState, col(ItemState.item_id) == col(OwnershipRecord.item_id))
            .where(
                list_column == number,
                col(OwnershipRecord.revoked_at).is_(None),
                col(ItemState.condition).in_(SUSPENDED_CONDITIONS),
            )
        )
        return [int(index) for index in session.execute(statement).scalars()]

    def _cached(
        self, key: tuple[str, int, str], revision: int, now: datetime
    ) -> bytes | None:
        hit = self._cache.get(key)
        if hit is None or hit.revision != revision:
            return None
        if now - hit.made_at >= timedelta(seconds=self.ttl_seconds / 2):
            return None
        return hit.body

    def _store(
        self, key: tuple[str, int, str], revision: int, now: datetime, body: bytes
    ) -> None:
        with self._lock:
            self._cache[key] = _Rendered(revision, now, body)

    def bitstring_credential(
        self,
        *,
        session: Session,
        identity: RegistryIdentity,
        number: int,
        now: datetime,
        purpose: StatusPurpose = StatusPurpose.REVOCATION,
    ) -> bytes:
        """The signed BitstringStatusListCredential (JSON bytes) of ``purpose``
        (``revocation`` or ``suspension``).

        Raises:
            StatusListNotFoundError: no such list.
        """
        kind = StatusListKind.BITSTRING
        db_list = self._list(session, kind, number)
        key = (kind.value, number, purpose.value)
        cached = self._cached(key, db_list.revision, now)
        if cached is not None:
            return cached
        bits = BitstringStatusList(db_list.length)
        is_suspension = purpose is StatusPurpose.SUSPENSION
        set_bits = (self._suspended if is_suspension else self._revoked)(
            session, kind, number
        )
        for index in set_bits:
            bits.set(index)
        unsigned = build_status_list_credential(
            credential_id=suspension_list_url(identity, number)
            if is_suspension
            else list_url(identity, kind, number),
            issuer=identity.did,
            status_list=bits,
            purpose=purpose,
            valid_from=now,
            ttl_ms=self.ttl_seconds * 1000,
        )
        signed = issue_credential(
            unsigned,
            key=identity.key,
            verification_method=identity.verification_method,
            cryptosuite=cryptosuite_for(identity),
            created=now,
        )
        body = json.dumps(signed, separators=(",", ":")).encode("utf-8")
        self._store(key, db_list.revision, now, body)
        return body

    def token(
        self,
        *,
        session: Session,
        identity: RegistryIdentity,
        number: int,
        now: datetime,
    ) -> bytes:
        """The signed Status List Token (``statuslist+jwt``, compact JWS bytes).

        Raises:
            StatusListNotFoundError: no such list.
        """
        kind = StatusListKind.TOKEN
        db_list = self._list(session, kind, number)
        key = (kind.value, number, "")
        cached = self._cached(key, db_list.revision, now)
        if cached is not None:
            return cached
        statuses = TokenStatusList(db_list.length, bits=TOKEN_STATUS_BITS)
        for index in self._revoked(session, kind, number):
            statuses.set(index, TokenStatus.INVALID)
        for index in self._suspended(session, kind, number):
            statuses.set(index, TokenStatus.SUSPENDED)
        token = issue_status_list_token(
            statuses,
            key=identity.key,
            sub=list_url(identity, kind, number),
            iat=now,
            exp=now + TOKEN_LIFETIME,
            ttl=self.ttl_seconds,
            kid=identity.verification_method,
            iss=identity.did,
        )
        body = token.encode("ascii")
        self._store(key, db_list.revision, now, body)
        return body
