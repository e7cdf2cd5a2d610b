"""Registration: ``record_claim`` verifies a submission with did_vault, checks the
issuer against the trust list, validates against the standard schema, and records
the item and its ownership through ``crud``, issuing the OwnershipCredential.

Three forms of submission, each leading to one item subject (``item.schema.json``):

- a Data Integrity ``ItemIdentityCredential`` signed by a brand issuer to a DID the
  buyer controls (``credentialSubject.id``: the item's own DID, or the buyer's),
  presented in a Verifiable Presentation whose ``holder`` is that DID, signed for
  ``authentication`` with ``challenge`` a nonce this registry issued to the owner and
  ``domain`` its DID: holder-bound, so a vendor who saw the credential cannot
  register it;
- an SD-JWT VC (``vct`` ``urn:did-vault:vct:ItemIdentityCredential``) presented with
  Key Binding to this registry (``aud`` its DID) and a nonce it issued to the owner,
  whose ``cnf`` key is one of the owner's DID document;
- a self-asserted item with evidence digests (receipt, photos), recorded with the
  lower assurance ``self-asserted``.

The item's uniqueness key is stored only as a keyed hash (``registry.serial_keys``);
one current owner per item is enforced by a unique index, so of two concurrent
registrations exactly one commits and the other answers ``item.already-registered``.
Every write happens in the caller's transaction: a refusal stores nothing.
"""

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from did_vault import (
    DIDDocumentResolver as Resolver,
)
from did_vault import (
    InvalidNonceError,
    NonceReplayedError,
    PublicKey,
    SchemaViolationError,
    StatusChecker,
    VerificationMethodNotFoundError,
    issue_credential,
    issue_sd_jwt_vc,
    items,
    verify_presentation,
    verify_sd_jwt,
)
from registry import crud, schemas, status, trust
from registry.errors import (
    CredentialTypeUnsupportedError,
    HolderKeyMismatchError,
    IssuerBrandMismatchError,
    IssuerUntrustedError,
    ItemAlreadyRegisteredError,
    RequestInvalidError,
)
from registry.identity import RegistryIdentity
from registry.models import (
    Assurance,
    ItemCreate,
    ItemPublic,
    OwnershipRecord,
    RegisteredItem,
    StatusListKind,
    TrustRole,
)
from registry.serial_keys import SerialKey

ITEM_VCT = "urn:did-vault:vct:ItemIdentityCredential"
OWNERSHIP_VCT = "urn:did-vault:vct:OwnershipCredential"
NONCE_BYTES = 32
SD_ITEM_FIELDS = (
    "name",
    "model",
    "gtin",
    "serialNumber",
    "mpn",
    "sku",
    "category",
    "color",
    "productionDate",
)
"""Item claims of the SD-JWT VC forms besides ``id``, ``brand`` and ``warranty``."""

IdSource = Callable[[], str]
RegistrationLogger = Callable[[str, str], Mapping[str, Any] | None]
"""``(item_id, ownership_id) -> owns.registryReceipt``: logs the registration in
the transparency log, in the caller's transaction (``registry.log.RegistrationLog``)."""


class TokenStatusCheck(Protocol):
    """What checks an SD-JWT VC ``status`` claim (``TokenStatusChecker`` fits)."""

    def check(self, status: Mapping[str, Any], *, now: datetime) -> object: ...


@dataclass(frozen=True, slots=True)
class Submission:
    """A verified submission: the item subject, who vouches for it, and how."""

    subject: dict[str, Any]
    issuer: str
    assurance: Assurance
    evidence: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Registration:
    """What a registration recorded and issued."""

    item: RegisteredItem
    ownership: OwnershipRecord
    public: ItemPublic
    credential: dict[str, Any]
    sd_jwt_credential: str


def _new_id() -> str:
    return uuid.uuid4().hex


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()


# --- nonces ---------------------------------------------------------------------------


def issue_nonce(
    *,
    session: Session,
    did: str,
    now: datetime,
    ttl: timedelta,
    token_source: Callable[[int], str] = secrets.token_urlsafe,
) -> tuple[str, datetime]:
    """A single-use nonce for ``did``'s next SD-JWT VC presentation (caller commits)."""
    crud.delete_expired_nonces(session=session, before=now)
    nonce = token_source(NONCE_BYTES)
    expires_at = now + ttl
    crud.create_nonce(
        session=session, nonce_hash=nonce_hash(nonce), did=did, expires_at=expires_at
    )
    return nonce, expires_at


def _consume_nonce(*, session: Session, nonce: str, did: str, now: datetime) -> None:
    hashed = nonce_hash(nonce)
    db_nonce = crud.get_nonce(session=session, nonce_hash=hashed)
    if db_nonce is None or db_nonce.did != did or db_nonce.expires_at <= now:
        raise InvalidNonceError("the nonce is unknown, another DID's, or expired")
    if db_nonce.used_at is not None or not crud.consume_nonce(
        session=session, nonce_hash=hashed, now=now
    ):
        raise NonceReplayedError("the nonce was already used")


# --- verification ---------------------------------------------------------------------


def _credential_types(document: Mapping[str, Any]) -> list[str]:
    types = document.get("type")
    if isinstance(types, str):
        return [types]
    return [t for t in types if isinstance(t, str)] if isinstance(types, list) else []


HOLDER_HINT = (
    "ask the brand to issue the credential to your item's DID or yours, and present "
    "it signed by that DID"
)


def verify_item_presentation(
    presentation: Mapping[str, Any],
    *,
    nonce: str,
    session: Session,
    owner: str,
    identity: RegistryIdentity,
    resolver: Resolver,
    status_checker: StatusChecker | None,
    now: datetime,
) -> Submission:
    """A brand's Data Integrity ItemIdentityCredential, presented by its subject.

    The presentation is signed for ``authentication`` by its ``holder``, with
    ``challenge`` ``nonce`` (issued to ``owner``) and ``domain`` this registry's DID;
    it holds exactly one credential, whose ``credentialSubject.id`` is the holder.

    Raises:
        did_vault's verification errors (the presentation's proof, challenge and
        domain; the credential's signature, issuer, validity, status);
        CredentialTypeUnsupportedError: not exactly one ItemIdentityCredential;
        HolderKeyMismatchError: the credential names no subject DID, or the holder
            is not its subject;
        InvalidNonceError, NonceReplayedError: the nonce is not an unused one
            issued to the owner;
        SchemaViolationError: the credential breaks the standard schema.
    """
    verified = verify_presentation(
        presentation,
        resolver=resolver,
        challenge=nonce,
        domain=identity.did,
        now=now,
        status_checker=status_checker,
    )
    if len(verified.credentials) != 1:
        raise CredentialTypeUnsupportedError(
            "present exactly one ItemIdentityCredential",
            count=len(verified.credentials),
        )
    credential = verified.credentials[0]
    document = credential.document
    if items.ITEM_IDENTITY_CREDENTIAL not in _credential_types(document):
        raise CredentialTypeUnsupportedError("register with an ItemIdentityCredential")
    subject = document.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, Mapping) else None
    if not isinstance(subject_id, str) or not subject_id:
        raise HolderKeyMismatchError(
            f"the credential names no subject DID, so no one can present it; "
            f"{HOLDER_HINT}"
        )
    if verified.presentation.holder_id != subject_id:
        raise HolderKeyMismatchError(
            f"the presentation's holder is not the credential's subject; {HOLDER_HINT}"
        )
    _consume_nonce(session=session, nonce=nonce, did=owner, now=now)
    schemas.validate_credential(document)
    assert isinstance(subject, Mapping)  # checked with its id above
    return Submission(
        subject=dict(subject),
        issuer=credential.credential.issuer_id,
        assurance=Assurance.ISSUER_ATTESTED,
    )


def subject_from_sd_jwt_item(
    claims: Mapping[str, Any], *, fallback_id: str
) -> dict[str, Any]:
    """The ``item.schema.json`` subject for an SD-JWT VC's ``item`` claim.

    The SD-JWT VC form names the brand by name (``brand``: a string, or a party
    object) and the warranty's end as ``warranty.validUntil``.

    Raises:
        SchemaViolationError: no ``item`` object.
    """
    item = claims.get("item")
    if not isinstance(item, Mapping):
        raise SchemaViolationError(
            "the SD-JWT VC has no disclosed 'item' object", pointer="/item"
        )
    subject: dict[str, Any] = {
        "id": item.get("id") if isinstance(item.get("id"), str) else fallback_id,
        "type": "IndividualProduct",
    }
    for name in SD_ITEM_FIELDS:
        if name in item:
            subject[name] = item[name]
    brand = item.get("brand")
    if isinstance(brand, str):
        subject["brand"] = {"type": "Brand", "name": brand}
    elif brand is not None:
        subject["brand"] = brand
    if "name" not in subject:
        label = " ".join(
            str(part)
            for part in (
                subject.get("brand", {}).get("name")
                if isinstance(subject.get("brand"), Mapping)
                else None,
                subject.get("model"),
            )
            if isinstance(part, str)
        )
        subject["name"] = label or "item"
    warranty = item.get("warranty")
    if isinstance(warranty, Mapping):
        converted = {k: v for k, v in warranty.items() if k != "validUntil"}
        if "validUntil" in warranty:
            converted["warrantyExpires"] = warranty["validUntil"]
        subject["warranty"] = converted
    return subject


def _check_holder_key(
    holder_key: PublicKey | None, *, owner: str, resolver: Resolver
) -> None:
    if holder_key is None:
        raise HolderKeyMismatchError("the SD-JWT VC names no holder key")
    document = resolver.resolve(owner)
    wanted = holder_key.to_multikey()
    for relationship in ("authentication", "assertionMethod"):
        try:
            methods = document.methods_for(relationship)
        except VerificationMethodNotFoundError:
            continue
        for method in methods:
            try:
                if method.public_key().to_multikey() == wanted:
                    return
            except (ValueError, SchemaViolationError):
                continue
    raise HolderKeyMismatchError(
        "the SD-JWT VC is bound to a key that is not the owner's"
    )


def verify_sd_jwt_vc(
    presentation: str,
    *,
    nonce: str,
    session: Session,
    owner: str,
    identity: RegistryIdentity,
    resolver: Resolver,
    token_status_checker: TokenStatusCheck | None,
    now: datetime,
    fallback_item_id: str,
) -> Submission:
    """A brand's SD-JWT VC, presented with Key Binding to this registry and ``nonce``.

    Raises:
        did_vault's SD-JWT verification errors; InvalidNonceError,
        NonceReplayedError: the nonce is not an unused one issued to the owner;
        CredentialTypeUnsupportedError, HolderKeyMismatchError, SchemaViolationError.
    """
    verified = verify_sd_jwt(
        presentation,
        audience=identity.did,
        nonce=nonce,
        resolver=resolver,
        now=now,
        status_checker=token_status_checker,
    )
    if verified.vct != ITEM_VCT:
        raise CredentialTypeUnsupportedError(
            "register with an ItemIdentityCredential SD-JWT VC", vct=ITEM_VCT
        )
    _check_holder_key(verified.holder_key, owner=owner, resolver=resolver)
    _consume_nonce(session=session, nonce=nonce, did=owner, now=now)
    subject = subject_from_sd_jwt_item(verified.claims, fallback_id=fallback_item_id)
    schemas.validate_document(subject, schemas.SchemaName.ITEM)
    return Submission(
        subject=subject,
        issuer=str(verified.issuer),
        assurance=Assurance.ISSUER_ATTESTED,
    )


def self_asserted(
    item: Mapping[str, Any], evidence: list[dict[str, Any]], *, owner: str
) -> Submission:
    """The owner's own claim (its evidence is checked with the ownership credential).

    Raises:
        SchemaViolationError: the item breaks the standard schema.
    """
    schemas.validate_document(dict(item), schemas.SchemaName.ITEM)
    return Submission(
        subject=dict(item),
        issuer=owner,
        assurance=Assurance.SELF_ASSERTED,
        evidence=tuple(dict(entry) for entry in evidence),
    )


def brand_of(subject: Mapping[str, Any]) -> tuple[str, str]:
    """``(name, DID)`` of the subject's brand; either may be empty."""
    brand = subject.get("brand")
    if not isinstance(brand, Mapping):
        return "", ""
    name, did = brand.get("name"), brand.get("id")
    return (
        name if isinstance(name, str) else "",
        did if isinstance(did, str) else "",
    )


def check_issuer(*, session: Session, submission: Submission) -> None:
    """A brand credential's issuer must be a trusted brand issuer for its brand.

    Raises:
        IssuerUntrustedError: the issuer is no brand issuer on the trust list.
        IssuerBrandMismatchError: it is, but not for this brand (or none is named).
    """
    if submission.assurance is Assurance.SELF_ASSERTED:
        return
    issuer = submission.issuer
    if not trust.has_role(session=session, did=issuer, role=TrustRole.BRAND_ISSUER):
        raise IssuerUntrustedError("the issuer is not a trusted brand issuer")
    name, did = brand_of(submission.subject)
    if any(
        trust.may_issue_for_brand(session=session, did=issuer, brand=brand)
        for brand in (name, did)
        if brand
    ):
        return
    raise IssuerBrandMismatchError(
        "the issuer is not trusted to issue for this item's brand"
    )


# --- the ownership credential ---------------------------------------------------------


def _ownership_document(
    *,
    owner: str,
    item_did: str,
    now: datetime,
    acquisition: Mapping[str, Any] | None,
    evidence: tuple[dict[str, Any], ...],
    receipt: Mapping[str, Any] | None = None,
) -> items.Ownership:
    owns: dict[str, Any] = {
        "type": "OwnershipInfo",
        "typeOfGood": item_did,
        "ownedFrom": items.format_date_time(now),
    }
    if acquisition:
        owns["acquisition"] = dict(acquisition)
    if evidence:
        owns["evidence"] = list(evidence)
    if receipt:
        owns["registryReceipt"] = dict(receipt)
    document = {"id": owner, "owns": owns}
    schemas.validate_document(document, schemas.SchemaName.OWNERSHIP)
    try:
        return items.Ownership.from_json(document)
    except ValidationError as exc:  # pragma: no cover - the schema caught it first
        raise SchemaViolationError("the ownership breaks the schema") from exc


def _sd_claims(
    *,
    subject: Mapping[str, Any],
    item_did: str,
    owner: str,
    now: datetime,
    assurance: Assurance,
    acquisition: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    item: dict[str, Any] = {"id": item_did}
    for name in SD_ITEM_FIELDS:
        if name in subject:
            item[name] = subject[name]
    brand_name, brand_did = brand_of(subject)
    if brand_name or brand_did:
        item["brand"] = brand_name or brand_did
    warranty = subject.get("warranty")
    if isinstance(warranty, Mapping) and "warrantyExpires" in warranty:
        item["warranty"] = {"validUntil": warranty["warrantyExpires"]}
    claims: dict[str, Any] = {
        "assurance": assurance.value,
        "item": item,
        "owner": {"id": owner},
        "ownedFrom": items.format_date_time(now),
    }
    disclosable: list[tuple[str, ...]] = [("item",), ("owner",), ("ownedFrom",)]
    disclosable += [("item", name) for name in item]
    if acquisition:
        claims["acquisition"] = dict(acquisition)
        disclosable.append(("acquisition",))
        disclosable += [("acquisition", name) for name in acquisition]
    return claims, disclosable


def _holder_key_of(owner: str, resolver: Resolver) -> PublicKey:
    """The owner's first authentication key (the ``cnf`` of their SD-JWT VC)."""
    document = resolver.resolve(owner)
    methods = document.methods_for("authentication")
    if not methods:
        raise HolderKeyMismatchError(
            "the owner's DID document has no authentication key"
        )
    return methods[0].public_key()


# --- recording ------------------------------------------------------------------------


def record_claim(
    *,
    session: Session,
    claim_in: ItemCreate,
    owner: str,
    identity: RegistryIdentity,
    serial_key: SerialKey,
    resolver: Resolver,
    now: datetime,
    status_list_length: int,
    status_checker: StatusChecker | None = None,
    token_status_checker: TokenStatusCheck | None = None,
    id_source: IdSource = _new_id,
    log_registration: RegistrationLogger | None = None,
) -> Registration:
    """Verify, check and record a registration; issue the OwnershipCredential in both
    forms (the caller commits). With ``log_registration`` the event is logged once
    every check has passed, and the credential carries its ``registryReceipt``.

    Raises:
        RequestInvalidError: not exactly one of ``presentation``, ``sd_jwt`` and
            ``self_asserted``, or a presentation without ``nonce``.
        did_vault's verification errors (422), ``ResolutionError`` (502);
        CredentialTypeUnsupportedError, HolderKeyMismatchError, IssuerUntrustedError,
        IssuerBrandMismatchError (422); SchemaViolationError and its subclasses
        (``item.not-identifiable`` …, 422);
        ItemAlreadyRegisteredError: the item has a current owner (409).
    """
    forms = [
        claim_in.presentation is not None,
        claim_in.sd_jwt is not None,
        claim_in.self_asserted is not None,
    ]
    if sum(forms) != 1:
        raise RequestInvalidError(
            "give exactly one of presentation, sd_jwt and self_asserted"
        )
    new_item_id = id_source()
    if claim_in.presentation is not None:
        if not claim_in.nonce:
            raise RequestInvalidError("a presentation needs its nonce")
        submission = verify_item_presentation(
            claim_in.presentation,
            nonce=claim_in.nonce,
            session=session,
            owner=owner,
            identity=identity,
            resolver=resolver,
            status_checker=status_checker,
            now=now,
        )
    elif claim_in.sd_jwt is not None:
        if not claim_in.nonce:
            raise RequestInvalidError("an SD-JWT VC presentation needs its nonce")
        submission = verify_sd_jwt_vc(
            claim_in.sd_jwt,
            nonce=claim_in.nonce,
            session=session,
            owner=owner,
            identity=identity,
            resolver=resolver,
            token_status_checker=token_status_checker,
            now=now,
            fallback_item_id=identity.item_did(new_item_id),
        )
    else:
        assert claim_in.self_asserted is not None
        submission = self_asserted(
            claim_in.self_asserted.item,
            claim_in.self_asserted.evidence,
            owner=owner,
        )
    check_issuer(session=session, submission=submission)
    identity_hash = serial_key.identity_hash(
        schemas.item_uniqueness_key(submission.subject)
    )

    db_item = crud.get_item_by_identity(session=session, identity_hash=identity_hash)
    if db_item is not None and crud.current_ownership(
        session=session, item_id=db_item.id
    ):
        raise ItemAlreadyRegisteredError("this item is registered to an owner")
    brand_name, brand_did = brand_of(submission.subject)
    if db_item is None:
        db_item = RegisteredItem(
            id=new_item_id,
            identity_hash=identity_hash,
            item_did=identity.item_did(new_item_id),
            name=str(submission.subject.get("name", ""))[:256],
            brand=(brand_name or brand_did)[:200],
            model=str(submission.subject.get("model", ""))[:256],
            created_at=now,
        )
        try:
            crud.create_item(session=session, db_item=db_item)
        except IntegrityError as exc:
            raise ItemAlreadyRegisteredError(
                "this item is registered to an owner"
            ) from exc

    ownership_id = id_source()
    receipt = (
        None if log_registration is None else log_registration(db_item.id, ownership_id)
    )
    ownership_doc = _ownership_document(
        owner=owner,
        item_did=db_item.item_did,
        now=now,
        acquisition=claim_in.acquisition,
        evidence=submission.evidence,
        receipt=receipt,
    )
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
        ownership_doc,
        issuer=identity.did,
        valid_from=now,
        credential_id=credential_id,
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
    claims, disclosable = _sd_claims(
        subject=submission.subject,
        item_did=db_item.item_did,
        owner=owner,
        now=now,
        assurance=submission.assurance,
        acquisition=claim_in.acquisition,
    )
    if receipt:
        # The log receipt of this registration, disclosed only when the owner
        # chooses (an insurer's "registered before" check).
        claims["registryReceipt"] = dict(receipt)
        disclosable.append(("registryReceipt",))
    sd_jwt_credential = issue_sd_jwt_vc(
        vct=OWNERSHIP_VCT,
        issuer_did=identity.did,
        key=identity.key,
        kid=identity.verification_method,
        claims=claims,
        disclosable=disclosable,
        holder_key=_holder_key_of(owner, resolver),
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
        assurance=submission.assurance,
        owned_from=now,
        ownership_id=ownership_id,
        credential_id=credential_id,
    )
    db_ownership = OwnershipRecord(
        id=ownership_id,
        item_id=db_item.id,
        owner_did=owner,
        assurance=submission.assurance.value,
        issuer_did=submission.issuer,
        owned_from=now,
        credential_id=credential_id,
        bitstring_list=bit_list,
        bitstring_index=bit_index,
        token_list=token_list,
        token_index=token_index,
        public_json=public.model_dump_json(),
    )
    try:
        crud.create_ownership(session=session, db_ownership=db_ownership)
    except IntegrityError as exc:
        raise ItemAlreadyRegisteredError("this item is registered to an owner") from exc
    return Registration(
        item=db_item,
        ownership=db_ownership,
        public=public,
        credential=credential,
        sd_jwt_credential=sd_jwt_credential,
    )


def commit_registration(session: Session) -> None:
    """Commit a registration.

    Raises:
        ItemAlreadyRegisteredError: a concurrent registration of the same item won.
    """
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ItemAlreadyRegisteredError("this item is registered to an owner") from exc


def public_items(*, session: Session, owner: str) -> list[dict[str, Any]]:
    """The owner's current items (their stored public JSON, parsed)."""
    return [
        json.loads(text)
        for text in crud.list_current_public_json(session=session, owner_did=owner)
    ]
