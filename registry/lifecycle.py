"""The ownership lifecycle: two-party transfer, custody, missing / stolen /
recovered, and the registry facts verifiers ask about (issue 8).

Every change runs in the caller's transaction and starts by locking the item's row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions already begin with
``BEGIN IMMEDIATE``, which serialises writers), so a transfer, a stolen report and
a custody change of one item never interleave: of concurrent transfers exactly one
finds the seller still the owner, and a transfer never commits over a stolen
report. Each change bumps ``item_state.version``, the item's ETag.

Transfer documents are W3C VCs with Data Integrity proofs (``assertionMethod``):
a ``TransferOfferCredential`` issued by the seller (``transfer-offer.schema.json``)
and a ``TransferAcceptanceCredential`` issued by the buyer naming the offer by id
and digest (``transfer-acceptance.schema.json``). Digests are SHA-256 multihashes,
multibase base64url (``u…``), over the document's canonical JSON (sorted keys, no
whitespace, UTF-8), computed by :func:`document_digest`.
"""

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from did_vault import (
    DIDDocumentResolver as Resolver,
)
from did_vault import (
    SchemaViolationError,
    issue_credential,
    issue_sd_jwt_vc,
    items,
    verify_credential,
)
from registry import claims, crud, log, schemas, status, trust
from registry.errors import (
    ClaimCodeInvalidError,
    CustodyStateError,
    ForbiddenError,
    ItemAlreadyTransferredError,
    ItemReportedMissingError,
    ItemReportedStolenError,
    NotFoundError,
    OfferNotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    ReportStateError,
    RequestInvalidError,
    TransferExpiredError,
    TransferMismatchError,
    TransferNotOwnerError,
    TransferReplayedError,
    TransferSelfError,
)
from registry.identity import RegistryIdentity
from registry.models import (
    Assurance,
    CustodyCreate,
    CustodyPublic,
    CustodyPurpose,
    CustodyRecord,
    ItemCondition,
    ItemPublic,
    ItemState,
    ItemStatePublic,
    MissingCreate,
    OfferPublic,
    OwnershipRecord,
    RegisteredItem,
    StatusListKind,
    StolenCheckStatus,
    StolenConfirm,
    TransferOfferRecord,
    TransferPublic,
    TransferRecord,
)
from registry.serial_keys import SerialKey

ITEM_DID_SEGMENT = ":items:"
SHA256_MULTIHASH_PREFIX = b"\x12\x20"
MULTIBASE_BASE64URL = "u"

IdSource = Callable[[], str]


def _new_id() -> str:
    return uuid.uuid4().hex


# --- digests and documents ------------------------------------------------------------


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes a transfer digest is over."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def document_digest(document: Mapping[str, Any]) -> str:
    """``digestMultibase`` of a document: multibase base64url of the SHA-256
    multihash of :func:`canonical_json`."""
    digest = SHA256_MULTIHASH_PREFIX + hashlib.sha256(canonical_json(document)).digest()
    encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return MULTIBASE_BASE64URL + encoded


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()


def item_id_of(item_did: str) -> str | None:
    """The registry item id in ``did:web:<host>:items:<id>``, or None."""
    if ITEM_DID_SEGMENT not in item_did:
        return None
    return item_did.rsplit(ITEM_DID_SEGMENT, 1)[1] or None


def _subject(
    document: Mapping[str, Any], credential_type: str, *, issuer_field: str
) -> dict[str, Any]:
    types = document.get("type")
    if not isinstance(types, list) or credential_type not in types:
        raise TransferMismatchError(f"expected a {credential_type}")
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict):
        raise TransferMismatchError("the credential has no subject object")
    if document.get("issuer") != subject.get(issuer_field):
        raise TransferMismatchError(
            f"the credential's issuer is not its subject's {issuer_field}"
        )
    return subject


def _verify_signed(
    document: Mapping[str, Any], *, resolver: Resolver, now: datetime
) -> None:
    # Offers carry a validThrough of their own; the credential has no status entry.
    verify_credential(document, resolver=resolver, now=now)


def _validate(model: Any, subject: Mapping[str, Any]) -> Any:
    try:
        return model.from_json(dict(subject))
    except ValidationError as exc:
        raise SchemaViolationError(
            "the transfer document breaks its schema", pointer="/credentialSubject"
        ) from exc


# --- locking and state ----------------------------------------------------------------


def lock_item(session: Session, item_id: str) -> RegisteredItem | None:
    """The item's row, locked until the transaction ends (PostgreSQL ``FOR
    UPDATE``; on SQLite the ``BEGIN IMMEDIATE`` write lock already covers it)."""
    statement = (
        select(RegisteredItem)
        .where(col(RegisteredItem.id) == item_id)
        .with_for_update()
    )
    return session.execute(statement).scalars().first()


def get_state(session: Session, item_id: str, *, now: datetime) -> ItemState:
    """The item's state row (a fresh, unsaved ``clear`` one at version 0)."""
    db_state = session.get(ItemState, item_id)
    if db_state is None:
        db_state = ItemState(item_id=item_id, updated_at=now)
    return db_state


def etag_of(db_state: ItemState) -> str:
    return f'"{db_state.item_id}.{db_state.version}"'


def check_if_match(if_match: str | None, db_state: ItemState) -> None:
    """``If-Match`` must name the item's current ETag (or be ``*``).

    Raises:
        PreconditionRequiredError: no ``If-Match`` (428).
        PreconditionFailedError: a stale or foreign ETag (412).
    """
    if if_match is None or not if_match.strip():
        raise PreconditionRequiredError("send If-Match with the item's ETag")
    wanted = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in wanted or etag_of(db_state) in wanted:
        return
    raise PreconditionFailedError("the item changed since that ETag")


def _bump(session: Session, db_state: ItemState, *, now: datetime) -> None:
    db_state.version += 1
    db_state.updated_at = now
    session.add(db_state)
    session.flush()


def _check_not_reported(db_state: ItemState) -> None:
    if db_state.condition == ItemCondition.STOLEN.value:
        raise ItemReportedStolenError("the item is reported stolen")
    if db_state.condition == ItemCondition.MISSING.value:
        raise ItemReportedMissingError("the item is reported missing")


def _open_custody(session: Session, item_id: str) -> CustodyRecord | None:
    statement = select(CustodyRecord).where(
        col(CustodyRecord.item_id) == item_id,
        col(CustodyRecord.returned_at).is_(None),
    )
    return session.execute(statement).scalars().first()


def custody_public(db_custody: CustodyRecord) -> CustodyPublic:
    return CustodyPublic(
        id=db_custody.id,
        item_id=db_custody.item_id,
        owner=db_custody.owner_did,
        custodian=db_custody.custodian_did,
        purpose=CustodyPurpose(db_custody.purpose),
        note=db_custody.note,
        started_at=db_custody.started_at,
        expected_back=db_custody.expected_back,
        returned_at=db_custody.returned_at,
    )


def state_public(
    session: Session, db_item: RegisteredItem, db_state: ItemState
) -> ItemStatePublic:
    db_custody = _open_custody(session, db_item.id)
    return ItemStatePublic(
        item_id=db_item.id,
        item_did=db_item.item_did,
        condition=ItemCondition(db_state.condition),
        version=db_state.version,
        etag=etag_of(db_state),
        reported_by=db_state.reported_by,
        reported_at=db_state.reported_at,
        loss_date=db_state.loss_date,
        police_report_number=db_state.police_report_number,
        place=db_state.place,
        description=db_state.description,
        confirmed_by=db_state.confirmed_by,
        confirmed_at=db_state.confirmed_at,
        custody=None if db_custody is None else custody_public(db_custody),
    )


def _log(session: Session, kind: str, *, now: datetime, **fields: str) -> None:
    """Append a lifecycle event to the transparency log, in this transaction."""
    log.append_event(
        session, log.make_event(log.EventType(kind), time=now, **fields), now=now
    )


def _log_with_receipt(
    session: Session,
    kind: str,
    *,
    identity: RegistryIdentity | None,
    now: datetime,
    **fields: str,
) -> dict[str, Any]:
    """Append a lifecycle event and, with the registry's ``identity``, sign the
    checkpoint covering it: the ``receipt`` and ``opening`` for the answer (the
    caller's offline proof of when the registry recorded the report). Without an
    identity (the operator's command) the event is only appended."""
    if identity is None:
        _log(session, kind, now=now, **fields)
        return {}
    event = log.make_event(log.EventType(kind), time=now, **fields)
    logged = log.log_event(session, event, identity=identity, now=now)
    return {
        "receipt": logged.receipt_json(),
        "opening": logged.opening.to_json(),
    }


# --- reading --------------------------------------------------------------------------


def _may_see_state(session: Session, *, did: str, owner: str | None) -> bool:
    return did == owner or trust.may_confirm_stolen(session=session, did=did)


def read_state(
    *, session: Session, item_id: str, did: str, now: datetime
) -> tuple[ItemStatePublic, str]:
    """The item's state and ETag, for its current owner or a trusted confirmer.

    Raises:
        NotFoundError: no such item, or the caller may not see it.
    """
    db_item = session.get(RegisteredItem, item_id)
    if db_item is None:
        raise NotFoundError("no such item")
    current = crud.current_ownership(session=session, item_id=item_id)
    owner = current.owner_did if current is not None else None
    if not _may_see_state(session, did=did, owner=owner):
        raise NotFoundError("no such item")
    db_state = get_state(session, item_id, now=now)
    return state_public(session, db_item, db_state), etag_of(db_state)


# --- transfer -------------------------------------------------------------------------


def offer_public(db_offer: TransferOfferRecord, *, item_did: str) -> OfferPublic:
    return OfferPublic(
        id=db_offer.id,
        item_id=db_offer.item_id,
        item_did=item_did,
        seller=db_offer.seller_did,
        buyer=db_offer.buyer_did,
        valid_through=db_offer.valid_through,
        digest=db_offer.digest,
        accepted=db_offer.accepted_at is not None,
        offer=json.loads(db_offer.offer_json),
    )


def create_offer(
    *,
    session: Session,
    offer: Mapping[str, Any],
    seller: str,
    resolver: Resolver,
    now: datetime,
    id_source: IdSource = _new_id,
) -> tuple[TransferOfferRecord, RegisteredItem]:
    """Check and record a seller's signed offer (the caller commits).

    Raises:
        TransferMismatchError: not a TransferOfferCredential issued by its seller,
            or no ``id``; ForbiddenError: the caller is not the seller;
        TransferSelfError, TransferExpiredError (422); NotFoundError: no such item;
        TransferNotOwnerError, ItemReportedMissingError, ItemReportedStolenError,
        TransferReplayedError (409); did_vault's verification errors (422).
    """
    subject = _subject(offer, items.TRANSFER_OFFER_CREDENTIAL, issuer_field="seller")
    if subject.get("seller") != seller:
        raise ForbiddenError("only the seller may file an offer")
    if subject.get("buyer") == seller:
        raise TransferSelfError("seller and buyer are the same DID")
    if not isinstance(offer.get("id"), str):
        raise TransferMismatchError("the offer credential needs an id")
    _verify_signed(offer, resolver=resolver, now=now)
    terms = _validate(items.TransferOffer, subject)
    valid_through = datetime.fromisoformat(terms.valid_through.replace("Z", "+00:00"))
    if valid_through <= now:
        raise TransferExpiredError("the offer expired")
    item_id = item_id_of(terms.item)
    db_item = lock_item(session, item_id) if item_id else None
    if db_item is None or db_item.item_did != terms.item:
        raise NotFoundError("no such item")
    current = crud.current_ownership(session=session, item_id=db_item.id)
    if current is None or current.owner_did != seller:
        raise TransferNotOwnerError("the seller is not the item's current owner")
    _check_not_reported(get_state(session, db_item.id, now=now))
    hashed = nonce_hash(terms.nonce)
    replay = select(TransferOfferRecord.id).where(  # type: ignore[call-overload]
        col(TransferOfferRecord.nonce_hash) == hashed
    )
    if session.execute(replay).first() is not None:
        raise TransferReplayedError("an offer with this nonce was already filed")
    db_offer = TransferOfferRecord(
        id=id_source(),
        item_id=db_item.id,
        seller_did=seller,
        buyer_did=terms.buyer,
        claim_code_digest=terms.claim_code_digest,
        nonce_hash=hashed,
        digest=document_digest(offer),
        valid_through=valid_through,
        offer_json=json.dumps(dict(offer), separators=(",", ":")),
        created_at=now,
    )
    session.add(db_offer)
    try:
        session.flush()
    except IntegrityError as exc:
        raise TransferReplayedError("an offer with this nonce was filed") from exc
    return db_offer, db_item


def read_offer(
    *, session: Session, offer_id: str, did: str
) -> tuple[TransferOfferRecord, RegisteredItem]:
    """An offer, for its seller or buyer only (anyone else: not found; an offer to
    a claim code has no buyer until it is accepted, see :func:`claim_offer`).

    Raises:
        OfferNotFoundError.
    """
    db_offer = session.get(TransferOfferRecord, offer_id)
    if db_offer is None or did not in (db_offer.seller_did, db_offer.buyer_did):
        raise OfferNotFoundError("no such offer")
    db_item = session.get(RegisteredItem, db_offer.item_id)
    assert db_item is not None
    return db_offer, db_item


def _check_claim_code(db_offer: TransferOfferRecord, claim_code: str | None) -> None:
    assert db_offer.claim_code_digest is not None
    if claim_code is None:
        raise ClaimCodeInvalidError(
            "this offer is made to a claim code: give the code the seller handed you"
        )
    offered = json.loads(db_offer.offer_json)["credentialSubject"]
    if not items.claim_code_matches(
        claim_code, nonce=offered["nonce"], digest=db_offer.claim_code_digest
    ):
        raise ClaimCodeInvalidError(
            "the claim code does not match this offer; check the code the seller "
            "gave you (case, spaces and dashes do not matter)"
        )


def claim_offer(
    *, session: Session, offer_id: str, claim_code: str, did: str
) -> tuple[TransferOfferRecord, RegisteredItem]:
    """An offer to a claim code, for a caller who holds the code (to read its terms
    before signing the acceptance). Reading claims nothing: the offer stays open to
    the code until someone accepts it.

    Raises:
        OfferNotFoundError: no such offer, or an offer to a named buyer;
        ClaimCodeInvalidError: the code does not open it; TransferReplayedError: it
        was accepted already (the code is spent); TransferSelfError: the caller is
        the seller.
    """
    db_offer = session.get(TransferOfferRecord, offer_id)
    if db_offer is None or db_offer.claim_code_digest is None:
        raise OfferNotFoundError("no such offer to a claim code")
    _check_claim_code(db_offer, claim_code)
    if db_offer.accepted_at is not None:
        raise TransferReplayedError("the offer was accepted already; the code is spent")
    if did == db_offer.seller_did:
        raise TransferSelfError("the seller cannot claim their own offer")
    db_item = session.get(RegisteredItem, db_offer.item_id)
    assert db_item is not None
    return db_offer, db_item


def list_offers(*, session: Session, did: str) -> list[OfferPublic]:
    """Open offers the DID made or received."""
    statement = (
        select(TransferOfferRecord, col(RegisteredItem.item_did))
        .join(
            RegisteredItem, col(RegisteredItem.id) == col(TransferOfferRecord.item_id)
        )
        .where(
            (col(TransferOfferRecord.seller_did) == did)
            | (col(TransferOfferRecord.buyer_did) == did),
            col(TransferOfferRecord.accepted_at).is_(None),
        )
        .order_by(col(TransferOfferRecord.created_at))
    )
    return [
        offer_public(db_offer, item_did=item_did)
        for db_offer, item_did in session.execute(statement).all()
    ]


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    transfer: TransferRecord
    item: RegisteredItem
    public: ItemPublic
    credential: dict[str, Any]
    sd_jwt_credential: str
    logged: log.LoggedEvent


def transfer_public(db_transfer: TransferRecord, *, item_did: str) -> TransferPublic:
    return TransferPublic(
        id=db_transfer.id,
        item_id=db_transfer.item_id,
        item_did=item_did,
        seller=db_transfer.seller_did,
        buyer=db_transfer.buyer_did,
        transferred_at=db_transfer.transferred_at,
        offer_digest=db_transfer.offer_digest,
        acceptance_digest=db_transfer.acceptance_digest,
    )


def list_transfers(*, session: Session, did: str) -> list[TransferPublic]:
    """Transfers the DID sold or bought (its own history only)."""
    statement = (
        select(TransferRecord, col(RegisteredItem.item_did))
        .join(RegisteredItem, col(RegisteredItem.id) == col(TransferRecord.item_id))
        .where(
            (col(TransferRecord.seller_did) == did)
            | (col(TransferRecord.buyer_did) == did)
        )
        .order_by(col(TransferRecord.transferred_at))
    )
    return [
        transfer_public(db_transfer, item_did=item_did)
        for db_transfer, item_did in session.execute(statement).all()
    ]


def _issue_ownership(
    *,
    session: Session,
    db_item: RegisteredItem,
    owner: str,
    seller: str,
    assurance: Assurance,
    acquisition: Mapping[str, Any] | None,
    evidence: list[dict[str, Any]],
    identity: RegistryIdentity,
    resolver: Resolver,
    now: datetime,
    status_list_length: int,
    id_source: IdSource,
    ownership_id: str,
    receipt: Mapping[str, Any] | None,
) -> tuple[OwnershipRecord, ItemPublic, dict[str, Any], str]:
    """The buyer's ownership record and OwnershipCredential in both forms (as
    registration issues them; ``acquiredFrom`` the seller, ``evidence`` the
    transfer documents' digests, ``registryReceipt`` the transfer's log receipt)."""
    owns: dict[str, Any] = {
        "type": "OwnershipInfo",
        "typeOfGood": db_item.item_did,
        "ownedFrom": items.format_date_time(now),
        "acquiredFrom": {"id": seller},
        "evidence": evidence,
    }
    if acquisition:
        owns["acquisition"] = dict(acquisition)
    if receipt:
        owns["registryReceipt"] = dict(receipt)
    document = {"id": owner, "owns": owns}
    schemas.validate_document(document, schemas.SchemaName.OWNERSHIP)
    try:
        ownership_doc = items.Ownership.from_json(document)
    except ValidationError as exc:  # pragma: no cover - the schema caught it
        raise SchemaViolationError("the ownership breaks the schema") from exc
    bit_list, bit_index = status.allocate(
        session=session,
        kind=StatusListKind.BITSTRING,
        length=status_list_length,
        now=now,
    )
    token_list, token_index = status.allocate(
        session=session, kind=StatusListKind.TOKEN, length=status_list_length, now=now
    )
    credential_id = f"urn:uuid:{uuid.UUID(hex=id_source())}"
    unsigned = items.build_credential(
        ownership_doc, issuer=identity.did, valid_from=now, credential_id=credential_id
    )
    unsigned["credentialStatus"] = status.bitstring_entry(
        identity, number=bit_list, index=bit_index
    )
    credential = issue_credential(
        unsigned,
        key=identity.key,
        verification_method=identity.verification_method,
        cryptosuite=status.cryptosuite_for(identity),
        created=now,
    )
    subject: dict[str, Any] = {"name": db_item.name}
    if db_item.model:
        subject["model"] = db_item.model
    if db_item.brand:
        subject["brand"] = {"type": "Brand", "name": db_item.brand}
    sd_claims, disclosable = claims._sd_claims(
        subject=subject,
        item_did=db_item.item_did,
        owner=owner,
        now=now,
        assurance=assurance,
        acquisition=acquisition,
    )
    sd_claims["acquiredFrom"] = {"id": seller}
    disclosable.append(("acquiredFrom",))
    if receipt:
        sd_claims["registryReceipt"] = dict(receipt)
        disclosable.append(("registryReceipt",))
    sd_jwt_credential = issue_sd_jwt_vc(
        vct=claims.OWNERSHIP_VCT,
        issuer_did=identity.did,
        key=identity.key,
        kid=identity.verification_method,
        claims=sd_claims,
        disclosable=disclosable,
        holder_key=claims._holder_key_of(owner, resolver),
        valid_from=now,
        status=status.token_reference(identity, number=token_list, index=token_index),
        now=now,
    )
    public = ItemPublic(
        id=db_item.id,
        did=db_item.item_did,
        name=db_item.name,
        brand=db_item.brand,
        model=db_item.model,
        owner=owner,
        assurance=assurance,
        owned_from=now,
        ownership_id=ownership_id,
        credential_id=credential_id,
    )
    db_ownership = OwnershipRecord(
        id=ownership_id,
        item_id=db_item.id,
        owner_did=owner,
        assurance=assurance.value,
        issuer_did=identity.did,
        owned_from=now,
        credential_id=credential_id,
        bitstring_list=bit_list,
        bitstring_index=bit_index,
        token_list=token_list,
        token_index=token_index,
        public_json=public.model_dump_json(),
    )
    return db_ownership, public, credential, sd_jwt_credential


def accept_offer(
    *,
    session: Session,
    offer_id: str,
    acceptance: Mapping[str, Any],
    buyer: str,
    identity: RegistryIdentity,
    resolver: Resolver,
    now: datetime,
    status_list_length: int,
    claim_code: str | None = None,
    id_source: IdSource = _new_id,
) -> TransferOutcome:
    """Complete a transfer in one transaction (the caller commits): check both
    signed documents, lock the item, check the seller still owns it and it is not
    reported, end and revoke the seller's ownership, issue the buyer's.

    An offer to a claim code is accepted by whoever gives the code (``claim_code``);
    the caller becomes its buyer, once.

    Raises:
        OfferNotFoundError: no such offer, or the caller is not its buyer;
        ClaimCodeInvalidError: an offer to a claim code without the right code;
        RequestInvalidError: a claim code for an offer that names its buyer;
        TransferMismatchError, TransferExpiredError, TransferSelfError (422);
        TransferReplayedError: the offer was accepted already;
        ItemAlreadyTransferredError: the seller no longer owns the item;
        ItemReportedMissingError, ItemReportedStolenError (409); did_vault's
        verification errors (422).
    """
    db_offer = session.get(TransferOfferRecord, offer_id)
    if db_offer is None:
        raise OfferNotFoundError("no such offer")
    if db_offer.claim_code_digest is not None:
        _check_claim_code(db_offer, claim_code)
        if buyer == db_offer.seller_did:
            raise TransferSelfError("the seller cannot accept their own offer")
    elif db_offer.buyer_did != buyer:
        raise OfferNotFoundError("no such offer")
    elif claim_code is not None:
        raise RequestInvalidError("this offer names its buyer: send no claim code")
    subject = _subject(
        acceptance, items.TRANSFER_ACCEPTANCE_CREDENTIAL, issuer_field="buyer"
    )
    _verify_signed(acceptance, resolver=resolver, now=now)
    terms = _validate(items.TransferAcceptance, subject)
    offer = json.loads(db_offer.offer_json)
    offered = offer["credentialSubject"]
    if (
        terms.buyer != buyer
        or terms.seller != db_offer.seller_did
        or terms.item != offered["item"]
        or terms.nonce != offered["nonce"]
        or terms.offer.id != offer.get("id")
        or terms.offer.digest_multibase != db_offer.digest
    ):
        raise TransferMismatchError("the acceptance does not name this offer")
    db_item = lock_item(session, db_offer.item_id)
    assert db_item is not None
    session.refresh(db_offer)
    if db_offer.accepted_at is not None:
        raise TransferReplayedError("the offer was accepted already")
    if db_offer.valid_through <= now:
        raise TransferExpiredError("the offer expired")
    current = crud.current_ownership(session=session, item_id=db_item.id)
    if current is None or current.owner_did != db_offer.seller_did:
        raise ItemAlreadyTransferredError("the seller no longer owns the item")
    db_state = get_state(session, db_item.id, now=now)
    _check_not_reported(db_state)

    crud.end_ownership(session=session, db_ownership=current, now=now)
    # Lock order (registry/log.py): the log before the status lists, as registration
    # does, or a transfer and a registration can deadlock on PostgreSQL.
    log.lock(session)
    status.revoke(session=session, ownership_id=current.id, now=now)
    acceptance_digest = document_digest(acceptance)
    evidence = [
        {
            "type": "TransferEvidence",
            "id": str(offer["id"]),
            "digestMultibase": db_offer.digest,
            "name": "transfer offer",
        },
        {
            "type": "TransferEvidence",
            "id": str(acceptance.get("id") or f"urn:uuid:{uuid.uuid4()}"),
            "digestMultibase": acceptance_digest,
            "name": "transfer acceptance",
        },
    ]
    acquisition: dict[str, Any] = {
        "purchaseDate": now.date().isoformat(),
        "seller": {"id": db_offer.seller_did},
    }
    if isinstance(offered.get("price"), dict):
        acquisition["price"] = offered["price"]
    transfer_id, ownership_id = id_source(), id_source()
    logged = log.log_event(
        session,
        log.make_event(
            log.EventType.TRANSFER,
            time=now,
            itemId=db_item.id,
            transferId=transfer_id,
            ownershipId=ownership_id,
        ),
        identity=identity,
        now=now,
    )
    db_ownership, public, credential, sd_jwt_credential = _issue_ownership(
        session=session,
        db_item=db_item,
        owner=buyer,
        seller=db_offer.seller_did,
        assurance=Assurance(current.assurance),
        acquisition=acquisition,
        evidence=evidence,
        identity=identity,
        resolver=resolver,
        now=now,
        status_list_length=status_list_length,
        id_source=id_source,
        ownership_id=ownership_id,
        receipt=(
            None if logged.receipt is None else log.registry_receipt(logged.receipt)
        ),
    )
    try:
        crud.create_ownership(session=session, db_ownership=db_ownership)
    except IntegrityError as exc:
        raise ItemAlreadyTransferredError("the item changed hands") from exc
    db_offer.accepted_at = now
    db_offer.buyer_did = buyer
    session.add(db_offer)
    db_transfer = TransferRecord(
        id=transfer_id,
        item_id=db_item.id,
        offer_id=db_offer.id,
        seller_did=db_offer.seller_did,
        buyer_did=buyer,
        from_ownership_id=current.id,
        to_ownership_id=db_ownership.id,
        offer_digest=db_offer.digest,
        acceptance_digest=acceptance_digest,
        transferred_at=now,
    )
    session.add(db_transfer)
    db_custody = _open_custody(session, db_item.id)
    if db_custody is not None:
        db_custody.returned_at = now
        session.add(db_custody)
    _bump(session, db_state, now=now)
    return TransferOutcome(
        transfer=db_transfer,
        item=db_item,
        public=public,
        credential=credential,
        sd_jwt_credential=sd_jwt_credential,
        logged=logged,
    )


# --- missing, stolen, recovered -------------------------------------------------------


def _locked_owned(
    session: Session, item_id: str, *, owner: str
) -> tuple[RegisteredItem, OwnershipRecord]:
    db_item = lock_item(session, item_id)
    current = (
        crud.current_ownership(session=session, item_id=item_id) if db_item else None
    )
    if db_item is None or current is None or current.owner_did != owner:
        raise NotFoundError("no such item")
    return db_item, current


def report_missing(
    *,
    session: Session,
    item_id: str,
    owner: str,
    report: MissingCreate,
    if_match: str | None,
    now: datetime,
    identity: RegistryIdentity | None = None,
) -> ItemStatePublic:
    """The owner marks the item missing (the caller commits).

    Raises:
        NotFoundError: not the caller's item; PreconditionRequiredError,
        PreconditionFailedError; ReportStateError: already reported.
    """
    db_item, _ = _locked_owned(session, item_id, owner=owner)
    db_state = get_state(session, item_id, now=now)
    check_if_match(if_match, db_state)
    if db_state.condition != ItemCondition.CLEAR.value:
        raise ReportStateError("the item is already reported")
    db_state.condition = ItemCondition.MISSING.value
    db_state.reported_by = owner
    db_state.reported_at = now
    db_state.loss_date = report.loss_date
    db_state.place = report.place
    db_state.description = report.description
    _bump(session, db_state, now=now)
    logged = _log_with_receipt(
        session, "missing", identity=identity, now=now, itemId=item_id
    )
    status.suspension_changed(session=session, item_id=item_id)
    return state_public(session, db_item, db_state).model_copy(update=logged)


def confirm_stolen(
    *,
    session: Session,
    item_id: str,
    confirmer: str,
    report: StolenConfirm,
    if_match: str | None,
    now: datetime,
    require_if_match: bool = True,
    confirmed_at: datetime | None = None,
    identity: RegistryIdentity | None = None,
) -> ItemStatePublic:
    """A trusted confirmer (police or insurer on the trust list) confirms the item
    stolen, from missing or directly (the caller commits).

    ``require_if_match=False`` is for the operator applying a confirmer-signed
    report (``registry.stolen_report``), which has no ETag: the row lock taken here
    still serialises it with every other change. ``confirmed_at`` is when the
    confirmer confirmed (default: ``now``).

    Raises:
        ForbiddenError: the caller is no trusted confirmer; NotFoundError;
        PreconditionRequiredError, PreconditionFailedError; ReportStateError:
        already stolen.
    """
    if not trust.may_confirm_stolen(session=session, did=confirmer):
        raise ForbiddenError("only a trusted police or insurer DID may confirm")
    db_item = lock_item(session, item_id)
    if db_item is None:
        raise NotFoundError("no such item")
    db_state = get_state(session, item_id, now=now)
    if require_if_match:
        check_if_match(if_match, db_state)
    if db_state.condition == ItemCondition.STOLEN.value:
        raise ReportStateError("the item is already reported stolen")
    db_state.condition = ItemCondition.STOLEN.value
    if db_state.reported_by is None:
        db_state.reported_by = confirmer
    db_state.reported_at = report.reported_at
    db_state.police_report_number = report.police_report_number
    if report.place is not None:
        db_state.place = report.place
    if report.description is not None:
        db_state.description = report.description
    db_state.confirmed_by = confirmer
    db_state.confirmed_at = confirmed_at or now
    _bump(session, db_state, now=now)
    logged = _log_with_receipt(
        session, "stolen", identity=identity, now=now, itemId=item_id
    )
    status.suspension_changed(session=session, item_id=item_id)
    return state_public(session, db_item, db_state).model_copy(update=logged)


def mark_recovered(
    *,
    session: Session,
    item_id: str,
    did: str,
    if_match: str | None,
    now: datetime,
    identity: RegistryIdentity | None = None,
) -> ItemStatePublic:
    """The owner or a trusted confirmer clears a missing or stolen report.

    Raises:
        NotFoundError: no such item, or the caller is neither; ReportStateError:
        nothing is reported; PreconditionRequiredError, PreconditionFailedError.
    """
    db_item = lock_item(session, item_id)
    if db_item is None:
        raise NotFoundError("no such item")
    current = crud.current_ownership(session=session, item_id=item_id)
    owner = current.owner_did if current is not None else None
    if not _may_see_state(session, did=did, owner=owner):
        raise NotFoundError("no such item")
    db_state = get_state(session, item_id, now=now)
    check_if_match(if_match, db_state)
    if db_state.condition == ItemCondition.CLEAR.value:
        raise ReportStateError("the item is not reported")
    for name in (
        "reported_by",
        "reported_at",
        "loss_date",
        "police_report_number",
        "place",
        "description",
        "confirmed_by",
        "confirmed_at",
    ):
        setattr(db_state, name, None)
    db_state.condition = ItemCondition.CLEAR.value
    _bump(session, db_state, now=now)
    logged = _log_with_receipt(
        session, "recovered", identity=identity, now=now, itemId=item_id
    )
    status.suspension_changed(session=session, item_id=item_id)
    return state_public(session, db_item, db_state).model_copy(update=logged)


# --- custody --------------------------------------------------------------------------


def start_custody(
    *,
    session: Session,
    item_id: str,
    owner: str,
    custody_in: CustodyCreate,
    if_match: str | None,
    now: datetime,
    id_source: IdSource = _new_id,
) -> CustodyPublic:
    """Hand the item to a custodian (repair, loan, storage); ownership is unchanged.

    Raises:
        NotFoundError; PreconditionRequiredError, PreconditionFailedError;
        CustodyStateError: already in custody, or the custodian is the owner.
    """
    _locked_owned(session, item_id, owner=owner)
    db_state = get_state(session, item_id, now=now)
    check_if_match(if_match, db_state)
    if custody_in.custodian == owner:
        raise CustodyStateError("the owner cannot be the custodian")
    if _open_custody(session, item_id) is not None:
        raise CustodyStateError("the item is already in custody")
    db_custody = CustodyRecord(
        id=id_source(),
        item_id=item_id,
        owner_did=owner,
        custodian_did=custody_in.custodian,
        purpose=custody_in.purpose.value,
        note=custody_in.note,
        started_at=now,
        expected_back=custody_in.expected_back,
    )
    session.add(db_custody)
    _bump(session, db_state, now=now)
    _log(session, "custody-change", now=now, itemId=item_id, custodyId=db_custody.id)
    return custody_public(db_custody)


def end_custody(
    *,
    session: Session,
    item_id: str,
    did: str,
    if_match: str | None,
    now: datetime,
) -> CustodyPublic:
    """The owner or the custodian records the item's return.

    Raises:
        NotFoundError: no such item, or the caller is neither; CustodyStateError:
        not in custody; PreconditionRequiredError, PreconditionFailedError.
    """
    db_item = lock_item(session, item_id)
    db_custody = _open_custody(session, item_id) if db_item else None
    if db_custody is None:
        if db_item is not None:
            current = crud.current_ownership(session=session, item_id=item_id)
            if current is not None and current.owner_did == did:
                raise CustodyStateError("the item is not in custody")
        raise NotFoundError("no such item")
    if did not in (db_custody.owner_did, db_custody.custodian_did):
        raise NotFoundError("no such item")
    db_state = get_state(session, item_id, now=now)
    check_if_match(if_match, db_state)
    db_custody.returned_at = now
    session.add(db_custody)
    _bump(session, db_state, now=now)
    _log(session, "custody-change", now=now, itemId=item_id, custodyId=db_custody.id)
    return custody_public(db_custody)


def list_custody(*, session: Session, item_id: str, did: str) -> list[CustodyPublic]:
    """The item's custody history, for its current owner.

    Raises:
        NotFoundError.
    """
    current = crud.current_ownership(session=session, item_id=item_id)
    if current is None or current.owner_did != did:
        raise NotFoundError("no such item")
    statement = (
        select(CustodyRecord)
        .where(col(CustodyRecord.item_id) == item_id)
        .order_by(col(CustodyRecord.started_at))
    )
    return [custody_public(row) for row in session.execute(statement).scalars()]


# --- facts verifiers ask about --------------------------------------------------------


def stolen_check(
    *,
    session: Session,
    serial_key: SerialKey,
    gtin: str | None,
    serial: str | None,
    digital_link: str | None,
) -> StolenCheckStatus:
    """``clear`` / ``reported_stolen`` / ``unknown`` for GTIN + serial or a GS1
    Digital Link; nothing else (no owner, no history). Missing counts as clear: only
    a confirmed report is public.

    Raises:
        RequestInvalidError: neither form, or both.
        did_vault's identifier errors (a bad GTIN check digit …).
    """
    if (digital_link is None) == (gtin is None or serial is None):
        raise RequestInvalidError("give gtin and serial, or digital_link")
    if digital_link is not None:
        link = items.parse_digital_link(digital_link)
        gtin, serial = link.gtin, link.serial
        if serial is None:
            raise RequestInvalidError("the Digital Link names no serial (AI 21)")
    key = items.uniqueness_key(gtin=gtin, serial=serial)
    db_item = crud.get_item_by_identity(
        session=session, identity_hash=serial_key.identity_hash(key)
    )
    if db_item is None:
        return StolenCheckStatus.UNKNOWN
    db_state = session.get(ItemState, db_item.id)
    if db_state is not None and db_state.condition == ItemCondition.STOLEN.value:
        return StolenCheckStatus.REPORTED_STOLEN
    return StolenCheckStatus.CLEAR


@dataclass(frozen=True, slots=True)
class Facts:
    """What the registry knows about an item and a claimed owner."""

    item: RegisteredItem | None
    current: OwnershipRecord | None
    holder_ownership: OwnershipRecord | None
    condition: ItemCondition

    @property
    def is_current_owner(self) -> bool:
        return (
            self.holder_ownership is not None
            and self.current is not None
            and self.holder_ownership.id == self.current.id
        )

    @property
    def first_registered_at(self) -> datetime | None:
        return None if self.item is None else self.item.created_at


def facts_for(
    *,
    session: Session,
    item_did: str | None,
    holder: str | None,
    credential_id: str | None = None,
) -> Facts:
    """The registry's facts about ``item_did`` and ``holder`` (no locking)."""
    item_id = item_id_of(item_did) if item_did else None
    db_item = session.get(RegisteredItem, item_id) if item_id else None
    if db_item is None or db_item.item_did != item_did:
        return Facts(None, None, None, ItemCondition.CLEAR)
    current = crud.current_ownership(session=session, item_id=db_item.id)
    holder_ownership: OwnershipRecord | None = None
    if holder is not None:
        statement = select(OwnershipRecord).where(
            col(OwnershipRecord.item_id) == db_item.id,
            col(OwnershipRecord.owner_did) == holder,
        )
        if credential_id is not None:
            statement = statement.where(
                col(OwnershipRecord.credential_id) == credential_id
            )
        rows = list(session.execute(statement).scalars())
        holder_ownership = next(
            (row for row in rows if row.owned_through is None),
            rows[-1] if rows else None,
        )
    db_state = session.get(ItemState, db_item.id)
    condition = ItemCondition(db_state.condition) if db_state else ItemCondition.CLEAR
    return Facts(db_item, current, holder_ownership, condition)


def ownership_by_status_entry(
    session: Session, *, kind: StatusListKind, number: int, index: int
) -> OwnershipRecord | None:
    """The ownership a status entry of ours belongs to."""
    if kind is StatusListKind.TOKEN:
        where = (
            col(OwnershipRecord.token_list) == number,
            col(OwnershipRecord.token_index) == index,
        )
    else:
        where = (
            col(OwnershipRecord.bitstring_list) == number,
            col(OwnershipRecord.bitstring_index) == index,
        )
    return session.execute(select(OwnershipRecord).where(*where)).scalars().first()
