"""Hosted status lists (public): ``/v1/status/bitstring/{n}`` (W3C Bitstring Status
List credential, signed: revocation), ``/v1/status/bitstring/{n}/suspension`` (the
same entries, suspension) and ``/v1/status/token/{n}`` (IETF Status List Token)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from did_vault import StatusPurpose
from registry.deps import ClockDep, IdentityDep, SessionDep, SettingsDep, _lazy
from registry.errors import StatusListNotFoundError
from registry.problems import problem_responses
from registry.routes import API_PREFIX
from registry.status import StatusPublisher

router = APIRouter(prefix=f"{API_PREFIX}/status", tags=["status"])

STATUS_LIST_JWT_MEDIA_TYPE = "application/statuslist+jwt"
VC_MEDIA_TYPE = "application/vc+ld+json"
ListNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def get_publisher(request: Request, settings: SettingsDep) -> StatusPublisher:
    publisher = _lazy(
        request,
        "status_publisher",
        lambda: StatusPublisher(ttl_seconds=settings.status_list_ttl_seconds),
    )
    assert isinstance(publisher, StatusPublisher)
    return publisher


PublisherDep = Annotated[StatusPublisher, Depends(get_publisher)]


def _cache_control(settings: SettingsDep) -> dict[str, str]:
    return {"Cache-Control": f"public, max-age={settings.status_list_ttl_seconds}"}


@router.get(
    "/bitstring/{number}",
    responses={
        200: {"content": {VC_MEDIA_TYPE: {}, "application/json": {}}},
        **problem_responses(StatusListNotFoundError),
    },
    summary="A Bitstring Status List credential (revocation), signed by the registry",
)
def bitstring_status_list(
    number: ListNumber,
    session: SessionDep,
    identity: IdentityDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    body = publisher.bitstring_credential(
        session=session, identity=identity, number=number, now=clock()
    )
    return Response(
        content=body, media_type="application/json", headers=_cache_control(settings)
    )


@router.get(
    "/bitstring/{number}/suspension",
    responses={
        200: {"content": {VC_MEDIA_TYPE: {}, "application/json": {}}},
        **problem_responses(StatusListNotFoundError),
    },
    summary="A Bitstring Status List credential (suspension: reported missing or "
    "stolen), signed by the registry",
)
def bitstring_suspension_list(
    number: ListNumber,
    session: SessionDep,
    identity: IdentityDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    body = publisher.bitstring_credential(
        session=session,
        identity=identity,
        number=number,
        now=clock(),
        purpose=StatusPurpose.SUSPENSION,
    )
    return Response(
        content=body, media_type="application/json", headers=_cache_control(settings)
    )


@router.get(
    "/token/{number}",
    responses={
        200: {"content": {STATUS_LIST_JWT_MEDIA_TYPE: {}}},
        **problem_responses(StatusListNotFoundError),
    },
    summary="A Token Status List token (statuslist+jwt), signed by the registry",
)
def token_status_list(
    number: ListNumber,
    session: SessionDep,
    identity: IdentityDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    body = publisher.token(
        session=session, identity=identity, number=number, now=clock()
    )
    return Response(
        content=body,
        media_type=STATUS_LIST_JWT_MEDIA_TYPE,
        headers=_cache_control(settings),
    )
