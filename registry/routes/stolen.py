"""Missing and stolen: ``/v1/items/{id}/state|missing|stolen|recovered`` and the
public ``POST /v1/stolen-check``.

The owner marks an item missing; a trusted confirmer (a police or insurer DID on
the trust list) confirms it stolen with a report; the owner or a confirmer marks it
recovered. Changes need ``If-Match`` with the item's ETag (from
``GET /v1/items/{id}/state``); every answer carries the new ``ETag``. The
stolen-check answers only ``clear``, ``reported_stolen`` or ``unknown`` and is
rate-limited per client.
"""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from did_vault import (
    InvalidDigitalLinkError,
    InvalidGTINError,
    ItemNotIdentifiableError,
)
from registry import lifecycle
from registry.deps import ClockDep, IdentityDep, PrincipalDep, SessionDep
from registry.errors import (
    AuthRequiredError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    RateLimitedError,
    ReportStateError,
    TokenExpiredError,
    TokenInvalidError,
)
from registry.models import (
    ItemStatePublic,
    MissingCreate,
    StolenCheck,
    StolenCheckPublic,
    StolenConfirm,
)
from registry.problems import problem_responses
from registry.ratelimit import StolenCheckLimitDep
from registry.routes import API_PREFIX
from registry.routes.items import SerialKeyDep

router = APIRouter(prefix=f"{API_PREFIX}/items", tags=["stolen"])
check_router = APIRouter(prefix=API_PREFIX, tags=["stolen"])

Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
IfMatch = Annotated[str | None, Header(alias="If-Match")]

_AUTH = (AuthRequiredError, TokenInvalidError, TokenExpiredError)
_CHANGE = (
    *_AUTH,
    PreconditionFailedError,
    PreconditionRequiredError,
    NotFoundError,
    ReportStateError,
)


@router.get(
    "/{item_id}/state",
    response_model=ItemStatePublic,
    responses=problem_responses(*_AUTH, NotFoundError),
    summary="The item's lifecycle state and ETag (owner or trusted confirmer)",
)
def read_state(
    item_id: Id,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
) -> ItemStatePublic:
    state, etag = lifecycle.read_state(
        session=session, item_id=item_id, did=principal.did, now=clock()
    )
    response.headers["ETag"] = etag
    return state


@router.post(
    "/{item_id}/missing",
    response_model=ItemStatePublic,
    responses=problem_responses(*_CHANGE),
    summary="The owner reports the item missing",
)
def report_missing(
    item_id: Id,
    report: MissingCreate,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    identity: IdentityDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> ItemStatePublic:
    state = lifecycle.report_missing(
        session=session,
        item_id=item_id,
        owner=principal.did,
        report=report,
        if_match=if_match,
        now=clock(),
        identity=identity,
    )
    session.commit()
    response.headers["ETag"] = state.etag
    return state


@router.post(
    "/{item_id}/stolen",
    response_model=ItemStatePublic,
    responses=problem_responses(*_CHANGE, ForbiddenError),
    summary="A trusted police or insurer DID confirms the item stolen",
)
def confirm_stolen(
    item_id: Id,
    report: StolenConfirm,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    identity: IdentityDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> ItemStatePublic:
    state = lifecycle.confirm_stolen(
        session=session,
        item_id=item_id,
        confirmer=principal.did,
        report=report,
        if_match=if_match,
        now=clock(),
        identity=identity,
    )
    session.commit()
    response.headers["ETag"] = state.etag
    return state


@router.post(
    "/{item_id}/recovered",
    response_model=ItemStatePublic,
    responses=problem_responses(*_CHANGE),
    summary="The owner or a trusted confirmer marks the item recovered",
)
def mark_recovered(
    item_id: Id,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    identity: IdentityDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> ItemStatePublic:
    state = lifecycle.mark_recovered(
        session=session,
        item_id=item_id,
        did=principal.did,
        if_match=if_match,
        now=clock(),
        identity=identity,
    )
    session.commit()
    response.headers["ETag"] = state.etag
    return state


@check_router.post(
    "/stolen-check",
    response_model=StolenCheckPublic,
    responses=problem_responses(
        RateLimitedError,
        InvalidGTINError,
        InvalidDigitalLinkError,
        ItemNotIdentifiableError,
    ),
    summary="Public: is this GTIN + serial reported stolen? (rate-limited)",
)
def stolen_check(
    check: StolenCheck,
    _limit: StolenCheckLimitDep,
    session: SessionDep,
    serial_key: SerialKeyDep,
) -> StolenCheckPublic:
    """Answers only ``clear``, ``reported_stolen`` or ``unknown``: no owner, no
    history. The identifiers go in the body so they stay out of access logs."""
    return StolenCheckPublic(
        status=lifecycle.stolen_check(
            session=session,
            serial_key=serial_key,
            gtin=check.gtin,
            serial=check.serial,
            digital_link=check.digital_link,
        )
    )
