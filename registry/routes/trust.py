"""The trust list, for operators only: ``/v1/trust``."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from did_vault import InvalidDIDError
from registry import trust
from registry.deps import ClockDep, OperatorDep, SessionDep
from registry.errors import (
    AuthRequiredError,
    ForbiddenError,
    TokenExpiredError,
    TokenInvalidError,
    TrustEntryExistsError,
    TrustEntryInvalidError,
    TrustEntryNotFoundError,
)
from registry.models import (
    TrustEntriesPublic,
    TrustEntryCreate,
    TrustEntryPublic,
    TrustRole,
)
from registry.problems import problem_responses
from registry.routes import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/trust", tags=["trust"])

_AUTH_ERRORS = (AuthRequiredError, TokenInvalidError, TokenExpiredError, ForbiddenError)
# Entry ids are the table's integer key: an id the column cannot hold is a malformed
# request, not a database error.
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get(
    "",
    response_model=TrustEntriesPublic,
    responses=problem_responses(*_AUTH_ERRORS),
    summary="List the trust list (operators only)",
)
def list_trust_entries(
    _operator: OperatorDep,
    session: SessionDep,
    role: Annotated[TrustRole | None, Query()] = None,
) -> TrustEntriesPublic:
    entries = trust.list_entries(session=session, role=role)
    return TrustEntriesPublic(
        data=[TrustEntryPublic.model_validate(entry) for entry in entries],
        count=len(entries),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TrustEntryPublic,
    responses=problem_responses(
        *_AUTH_ERRORS, InvalidDIDError, TrustEntryInvalidError, TrustEntryExistsError
    ),
    summary="Add a DID to the trust list (operators only)",
)
def add_trust_entry(
    entry_in: TrustEntryCreate,
    _operator: OperatorDep,
    session: SessionDep,
    clock: ClockDep,
) -> TrustEntryPublic:
    db_entry = trust.add_entry(session=session, entry_in=entry_in, now=clock())
    session.commit()
    return TrustEntryPublic.model_validate(db_entry)


@router.delete(
    "/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(*_AUTH_ERRORS, TrustEntryNotFoundError),
    summary="Remove a trust entry (operators only)",
)
def remove_trust_entry(
    entry_id: EntryId, _operator: OperatorDep, session: SessionDep
) -> Response:
    trust.remove_entry(session=session, entry_id=entry_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
