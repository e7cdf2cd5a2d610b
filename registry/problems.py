"""RFC 9457 problem details: the one place where errors become HTTP statuses.

``STATUS_BY_ERROR`` maps did_vault's and the registry's error classes to statuses;
``status_for`` walks an exception's MRO to its nearest entry. The handlers answer
every error, including FastAPI's request validation, unknown routes and unexpected
exceptions, as ``application/problem+json`` with a stable ``code``.
"""

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from did_vault import (
    DIDNotFoundError,
    DidVaultError,
    KeystoreError,
    MalformedInputError,
    ResolutionError,
    SchemaViolationError,
    UnsupportedError,
    VerificationError,
    VerificationMethodNotFoundError,
)
from registry.errors import (
    AuthenticationError,
    ClaimCodeInvalidError,
    ConfigurationError,
    ConsentRequiredError,
    CustodyStateError,
    DatabaseUnavailableError,
    ForbiddenError,
    IdempotencyInFlightError,
    IdempotencyMismatchError,
    IssuerUnknownError,
    ItemAlreadyRegisteredError,
    LogCheckpointNotFoundError,
    LogCheckpointUnknownError,
    LogCorruptError,
    MethodNotAllowedError,
    NotFoundError,
    OfferNotFoundError,
    OwnershipNotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    RateLimitedError,
    RegistrationRefusedError,
    RegistryError,
    ReportIssuerUntrustedError,
    ReportMismatchError,
    ReportStaleError,
    ReportStateError,
    RequestInvalidError,
    RequestTooLargeError,
    RouteNotFoundError,
    StatusListNotFoundError,
    TransferConflictError,
    TransferRefusedError,
    TrustEntryExistsError,
    TrustEntryInvalidError,
    TrustEntryNotFoundError,
    WitnessExistsError,
    WitnessNotFoundError,
    WitnessTimeInvalidError,
    WitnessUntrustedError,
)

logger = logging.getLogger("registry.problems")

PROBLEM_MEDIA_TYPE = "application/problem+json"
INTERNAL_CODE = "internal"
INTERNAL_TITLE = "Internal error"

STATUS_BY_ERROR: dict[type[DidVaultError], int] = {
    DidVaultError: 500,
    # did_vault (see the HTTP column of specs/problems.md)
    MalformedInputError: 400,
    SchemaViolationError: 422,
    UnsupportedError: 422,
    VerificationError: 422,
    ResolutionError: 502,
    DIDNotFoundError: 404,
    VerificationMethodNotFoundError: 404,
    KeystoreError: 500,
    # registry
    RegistryError: 500,
    ConfigurationError: 500,
    DatabaseUnavailableError: 503,
    RequestInvalidError: 400,
    RequestTooLargeError: 413,
    RouteNotFoundError: 404,
    MethodNotAllowedError: 405,
    NotFoundError: 404,
    LogCheckpointNotFoundError: 404,
    LogCorruptError: 500,
    LogCheckpointUnknownError: 422,
    WitnessUntrustedError: 422,
    WitnessTimeInvalidError: 422,
    WitnessExistsError: 409,
    WitnessNotFoundError: 404,
    AuthenticationError: 401,
    ForbiddenError: 403,
    TrustEntryInvalidError: 400,
    TrustEntryExistsError: 409,
    TrustEntryNotFoundError: 404,
    IssuerUnknownError: 400,
    ItemAlreadyRegisteredError: 409,
    RegistrationRefusedError: 422,
    OwnershipNotFoundError: 404,
    StatusListNotFoundError: 404,
    TransferRefusedError: 422,
    TransferConflictError: 409,
    OfferNotFoundError: 404,
    ClaimCodeInvalidError: 403,
    ReportStateError: 409,
    ReportStaleError: 409,
    ReportMismatchError: 422,
    ReportIssuerUntrustedError: 422,
    CustodyStateError: 409,
    ConsentRequiredError: 403,
    RateLimitedError: 429,
    IdempotencyMismatchError: 422,
    IdempotencyInFlightError: 409,
    PreconditionFailedError: 412,
    PreconditionRequiredError: 428,
}


def status_for(error: type[DidVaultError] | DidVaultError) -> int:
    """The HTTP status of an error class: its nearest ancestor in the table."""
    cls = error if isinstance(error, type) else type(error)
    for ancestor in cls.__mro__:
        if ancestor in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[ancestor]
    return 500


class ValidationIssue(BaseModel):
    """One request validation failure: where, and what is wrong (no input echoed)."""

    loc: list[str | int]
    msg: str
    type: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem, with the registry's stable ``code``."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "https://registry.example/problems/auth.challenge-expired",
                "title": "Challenge expired",
                "status": 401,
                "detail": "the challenge expired",
                "instance": "/v1/auth/token",
                "code": "auth.challenge-expired",
            }
        }
    )

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str
    errors: list[ValidationIssue] | None = None


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    base = getattr(request.app.state, "problem_base_uri", "about:blank#")
    body: dict[str, Any] = {
        "type": f"{base}{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.count_error(code)
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def error_response(request: Request, exc: DidVaultError) -> JSONResponse:
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after)}
    if status >= 500:
        logger.warning(
            "error answered",
            extra={"fields": {"code": exc.code, "status": status}},
        )
    return problem_response(
        request,
        status=status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers=headers,
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DidVaultError)
    return error_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {
            "loc": [part for part in err.get("loc", ()) if isinstance(part, str | int)],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    return problem_response(
        request,
        status=status_for(RequestInvalidError),
        code=RequestInvalidError.code,
        title=RequestInvalidError.title,
        detail="the request does not match the operation's schema",
        errors=issues,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error: type[RegistryError]
    if exc.status_code == 404:
        error = RouteNotFoundError
    elif exc.status_code == 405:
        error = MethodNotAllowedError
    elif exc.status_code == 413:
        error = RequestTooLargeError
    elif exc.status_code == 400:
        error = RequestInvalidError
    else:
        return problem_response(
            request,
            status=exc.status_code,
            code=INTERNAL_CODE if exc.status_code >= 500 else "request.failed",
            title=INTERNAL_TITLE if exc.status_code >= 500 else "Request failed",
            detail=None,
            headers=dict(exc.headers or {}),
        )
    return problem_response(
        request,
        status=exc.status_code,
        code=error.code,
        title=error.title,
        detail=None,
        headers=dict(exc.headers or {}),
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error(
        "unexpected error",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"fields": {"path": request.url.path, "method": request.method}},
    )
    return internal_error_response(request)


def internal_error_response(request: Request) -> JSONResponse:
    return problem_response(
        request,
        status=500,
        code=INTERNAL_CODE,
        title=INTERNAL_TITLE,
        detail=None,
    )


def install_handlers(app: FastAPI) -> None:
    """Answer every error as a problem."""
    app.add_exception_handler(DidVaultError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(
    *errors: type[DidVaultError], validation: bool = True
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route: each status with the codes it may carry.

    Every operation also documents 500 ``internal``; with ``validation`` it
    documents 400 ``request.invalid``.
    """
    by_status: dict[int, list[str]] = {}
    listed: Iterable[type[DidVaultError]] = errors
    if validation:
        listed = (RequestInvalidError, *errors)
    for error in listed:
        by_status.setdefault(status_for(error), []).append(error.code)
    by_status.setdefault(500, []).append(INTERNAL_CODE)
    return {
        status: {
            "model": ProblemDetails,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": "Problem: "
            + ", ".join(f"`{c}`" for c in sorted(set(codes))),
        }
        for status, codes in sorted(by_status.items())
    }
