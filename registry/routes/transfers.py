"""Transfers and custody: ``/v1/transfers`` (offers, acceptance, history) and
``/v1/items/{id}/custody`` (hand-overs that are not sales).

A transfer takes two signed documents: the seller files a
``TransferOfferCredential`` (``POST /v1/transfers/offers``), the buyer answers with
a ``TransferAcceptanceCredential`` (``POST /v1/transfers/offers/{id}/accept``), and
the registry moves the ownership in one transaction (``registry.lifecycle``).
Offers are visible to their seller and buyer only.
"""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status
from sqlalchemy.exc import IntegrityError

from did_vault import (
    CredentialExpiredError,
    CredentialNotYetValidError,
    IssuerMismatchError,
    MalformedCredentialError,
    ProofVerificationError,
    ResolutionError,
    SchemaViolationError,
)
from registry import lifecycle
from registry.deps import (
    ClockDep,
    IdentityDep,
    PrincipalDep,
    ResolverDep,
    SessionDep,
    SettingsDep,
)
from registry.errors import (
    AuthRequiredError,
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
    RequestInvalidError,
    TokenExpiredError,
    TokenInvalidError,
    TransferExpiredError,
    TransferMismatchError,
    TransferNotOwnerError,
    TransferReplayedError,
    TransferSelfError,
)
from registry.models import (
    AcceptanceCreate,
    ClaimCodeCreate,
    CustodiesPublic,
    CustodyCreate,
    CustodyPublic,
    OfferCreate,
    OfferPublic,
    OffersPublic,
    TransferResultPublic,
    TransfersPublic,
)
from registry.problems import problem_responses
from registry.routes import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/transfers", tags=["transfers"])
custody_router = APIRouter(prefix=f"{API_PREFIX}/items", tags=["custody"])

Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
IfMatch = Annotated[str | None, Header(alias="If-Match")]

_AUTH = (AuthRequiredError, TokenInvalidError, TokenExpiredError)
_SIGNED = (
    MalformedCredentialError,
    ProofVerificationError,
    IssuerMismatchError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    SchemaViolationError,
    ResolutionError,
    TransferMismatchError,
)
_PRECONDITION = (PreconditionFailedError, PreconditionRequiredError)


@router.post(
    "/offers",
    status_code=status.HTTP_201_CREATED,
    response_model=OfferPublic,
    responses=problem_responses(
        *_AUTH,
        *_SIGNED,
        ForbiddenError,
        NotFoundError,
        TransferSelfError,
        TransferExpiredError,
        TransferNotOwnerError,
        TransferReplayedError,
        ItemReportedMissingError,
        ItemReportedStolenError,
    ),
    summary="File a seller-signed transfer offer",
)
def create_offer(
    offer_in: OfferCreate,
    principal: PrincipalDep,
    session: SessionDep,
    resolver: ResolverDep,
    clock: ClockDep,
) -> OfferPublic:
    """``offer`` is a ``TransferOfferCredential`` the caller (the seller, the item's
    current owner) signed with an ``assertionMethod`` Data Integrity proof; its
    subject follows ``transfer-offer.schema.json``. The buyer accepts it by id. An
    offer may name, instead of a buyer, the digest of a one-time claim code
    (``claimCodeDigest``) that the seller hands to the buyer."""
    db_offer, db_item = lifecycle.create_offer(
        session=session,
        offer=offer_in.offer,
        seller=principal.did,
        resolver=resolver,
        now=clock(),
    )
    session.commit()
    return lifecycle.offer_public(db_offer, item_did=db_item.item_did)


@router.get(
    "/offers",
    response_model=OffersPublic,
    responses=problem_responses(*_AUTH, validation=False),
    summary="Open offers the caller made or received",
)
def list_offers(principal: PrincipalDep, session: SessionDep) -> OffersPublic:
    data = lifecycle.list_offers(session=session, did=principal.did)
    return OffersPublic(data=data, count=len(data))


@router.get(
    "/offers/{offer_id}",
    response_model=OfferPublic,
    responses=problem_responses(*_AUTH, OfferNotFoundError),
    summary="One offer, for its seller or buyer",
)
def read_offer(
    offer_id: Id, principal: PrincipalDep, session: SessionDep
) -> OfferPublic:
    db_offer, db_item = lifecycle.read_offer(
        session=session, offer_id=offer_id, did=principal.did
    )
    return lifecycle.offer_public(db_offer, item_did=db_item.item_did)


@router.post(
    "/offers/{offer_id}/claim",
    response_model=OfferPublic,
    responses=problem_responses(
        *_AUTH,
        OfferNotFoundError,
        ClaimCodeInvalidError,
        TransferReplayedError,
        TransferSelfError,
    ),
    summary="Read an offer made to a claim code, with the code",
)
def claim_offer(
    offer_id: Id,
    claim_in: ClaimCodeCreate,
    principal: PrincipalDep,
    session: SessionDep,
) -> OfferPublic:
    """For the holder of a one-time claim code: the offer's terms, to sign the
    acceptance. Nothing changes; the code is spent when the offer is accepted
    (``/accept`` with the same ``claim_code``)."""
    db_offer, db_item = lifecycle.claim_offer(
        session=session,
        offer_id=offer_id,
        claim_code=claim_in.claim_code,
        did=principal.did,
    )
    return lifecycle.offer_public(db_offer, item_did=db_item.item_did)


@router.post(
    "/offers/{offer_id}/accept",
    status_code=status.HTTP_201_CREATED,
    response_model=TransferResultPublic,
    responses=problem_responses(
        *_AUTH,
        *_SIGNED,
        OfferNotFoundError,
        ClaimCodeInvalidError,
        RequestInvalidError,
        TransferSelfError,
        TransferExpiredError,
        TransferReplayedError,
        ItemAlreadyTransferredError,
        ItemReportedMissingError,
        ItemReportedStolenError,
    ),
    summary="Accept an offer: the ownership moves to the buyer",
)
def accept_offer(
    offer_id: Id,
    acceptance_in: AcceptanceCreate,
    principal: PrincipalDep,
    session: SessionDep,
    identity: IdentityDep,
    resolver: ResolverDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> TransferResultPublic:
    """``acceptance`` is a ``TransferAcceptanceCredential`` the caller (the offer's
    buyer) signed, naming the offer by ``id`` and ``digestMultibase``. In one
    transaction the seller's ownership ends and its credentials are revoked, and
    the buyer receives an OwnershipCredential in both forms. An offer to a claim
    code is accepted by whoever sends the code in ``claim_code`` (once)."""
    outcome = lifecycle.accept_offer(
        session=session,
        offer_id=offer_id,
        acceptance=acceptance_in.acceptance,
        buyer=principal.did,
        identity=identity,
        resolver=resolver,
        now=clock(),
        status_list_length=settings.status_list_length,
        claim_code=acceptance_in.claim_code,
    )
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ItemAlreadyTransferredError("the item changed hands") from exc
    return TransferResultPublic(
        transfer=lifecycle.transfer_public(
            outcome.transfer, item_did=outcome.item.item_did
        ),
        item=outcome.public,
        credential=outcome.credential,
        sd_jwt_credential=outcome.sd_jwt_credential,
        receipt=outcome.logged.receipt_json(),
        opening=outcome.logged.opening.to_json(),
    )


@router.get(
    "",
    response_model=TransfersPublic,
    responses=problem_responses(*_AUTH, validation=False),
    summary="Transfers the caller sold or bought",
)
def list_transfers(principal: PrincipalDep, session: SessionDep) -> TransfersPublic:
    data = lifecycle.list_transfers(session=session, did=principal.did)
    return TransfersPublic(data=data, count=len(data))


# --- custody ------------------------------------------------------------------------


@custody_router.post(
    "/{item_id}/custody",
    status_code=status.HTTP_201_CREATED,
    response_model=CustodyPublic,
    responses=problem_responses(
        *_AUTH, *_PRECONDITION, NotFoundError, CustodyStateError
    ),
    summary="Hand the item to a custodian (repair, loan): not a sale",
)
def start_custody(
    item_id: Id,
    custody_in: CustodyCreate,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> CustodyPublic:
    """The owner hands the item over; ``If-Match`` carries the item's ETag."""
    custody = lifecycle.start_custody(
        session=session,
        item_id=item_id,
        owner=principal.did,
        custody_in=custody_in,
        if_match=if_match,
        now=clock(),
    )
    session.commit()
    _, etag = lifecycle.read_state(
        session=session, item_id=item_id, did=principal.did, now=clock()
    )
    response.headers["ETag"] = etag
    return custody


@custody_router.post(
    "/{item_id}/custody/return",
    response_model=CustodyPublic,
    responses=problem_responses(
        *_AUTH, *_PRECONDITION, NotFoundError, CustodyStateError
    ),
    summary="Record the item's return from custody (owner or custodian)",
)
def end_custody(
    item_id: Id,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> CustodyPublic:
    custody = lifecycle.end_custody(
        session=session,
        item_id=item_id,
        did=principal.did,
        if_match=if_match,
        now=clock(),
    )
    session.commit()
    return custody


@custody_router.get(
    "/{item_id}/custody",
    response_model=CustodiesPublic,
    responses=problem_responses(*_AUTH, NotFoundError),
    summary="The item's custody history (owner only)",
)
def list_custody(
    item_id: Id, principal: PrincipalDep, session: SessionDep
) -> CustodiesPublic:
    data = lifecycle.list_custody(session=session, item_id=item_id, did=principal.did)
    return CustodiesPublic(data=data, count=len(data))
