"""W3C VC-API (VCALM) endpoints: issue and verify credentials, verify presentations.

``POST /v1/credentials/issue`` picks the configured issuer whose DID is the
credential's ``issuer``; ``POST /v1/issuers/{name}/credentials/issue`` names one.
Issuing needs an operator's access token unless ``REGISTRY_VCAPI_OPEN_ISSUE`` is set.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, status

from did_vault import (
    CredentialExpiredError,
    CredentialRevokedError,
    InvalidChallengeError,
    InvalidDomainError,
    IssuerMismatchError,
    MalformedCredentialError,
    ProofVerificationError,
    ResolutionError,
    UnsupportedCryptosuiteError,
)
from registry import auth, trust, vcapi
from registry.deps import (
    ClockDep,
    IdentityDep,
    ResolverDep,
    SessionDep,
    SettingsDep,
    StatusCheckerDep,
    VCAPIIssuersDep,
)
from registry.errors import (
    AuthRequiredError,
    ForbiddenError,
    IssuerUnknownError,
    TokenExpiredError,
    TokenInvalidError,
)
from registry.models import TrustRole
from registry.problems import problem_responses
from registry.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["vc-api"])

IssuerName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
_ISSUE_ERRORS = (
    AuthRequiredError,
    TokenInvalidError,
    TokenExpiredError,
    ForbiddenError,
    IssuerUnknownError,
    MalformedCredentialError,
    IssuerMismatchError,
)
_VERIFY_ERRORS = (
    MalformedCredentialError,
    UnsupportedCryptosuiteError,
    ProofVerificationError,
    IssuerMismatchError,
    CredentialExpiredError,
    CredentialRevokedError,
    ResolutionError,
)


def authorize_issue(
    settings: SettingsDep,
    session: SessionDep,
    identity: IdentityDep,
    clock: ClockDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    """Issuing needs an operator's token unless the registry is open for testing.

    Raises:
        AuthRequiredError, TokenInvalidError, TokenExpiredError, ForbiddenError.
    """
    if settings.vcapi_open_issue:
        return
    token = auth.bearer_token(authorization)
    if token is None:
        raise AuthRequiredError("issuing needs an operator's access token")
    principal = auth.verify_access_token(token, identity=identity, now=clock())
    if not trust.has_role(session=session, did=principal.did, role=TrustRole.OPERATOR):
        raise ForbiddenError("only operators may issue through the VC-API")


IssueAllowed = Annotated[None, Depends(authorize_issue)]


@router.post(
    "/credentials/issue",
    status_code=status.HTTP_201_CREATED,
    response_model=vcapi.IssueCredentialResponse,
    response_model_by_alias=True,
    responses=problem_responses(*_ISSUE_ERRORS),
    summary="Issue a credential (VC-API issueCredential)",
)
def issue_credential(
    request_in: vcapi.IssueCredentialRequest,
    _allowed: IssueAllowed,
    issuers: VCAPIIssuersDep,
    clock: ClockDep,
) -> vcapi.IssueCredentialResponse:
    issuer = vcapi.select_issuer(issuers, request_in.credential)
    document = vcapi.issue(issuer, request_in.credential, now=clock())
    return vcapi.IssueCredentialResponse(verifiable_credential=document)


@router.post(
    "/issuers/{name}/credentials/issue",
    status_code=status.HTTP_201_CREATED,
    response_model=vcapi.IssueCredentialResponse,
    response_model_by_alias=True,
    responses=problem_responses(*_ISSUE_ERRORS),
    summary="Issue a credential with a named issuer (VC-API issueCredential)",
)
def issue_credential_as(
    name: IssuerName,
    request_in: vcapi.IssueCredentialRequest,
    _allowed: IssueAllowed,
    issuers: VCAPIIssuersDep,
    clock: ClockDep,
) -> vcapi.IssueCredentialResponse:
    issuer = vcapi.select_issuer(issuers, request_in.credential, name=name)
    document = vcapi.issue(issuer, request_in.credential, now=clock())
    return vcapi.IssueCredentialResponse(verifiable_credential=document)


@router.post(
    "/credentials/verify",
    response_model=vcapi.VerificationResult,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    responses=problem_responses(*_VERIFY_ERRORS),
    summary="Verify a credential (VC-API verifyCredential)",
)
def verify_credential(
    request_in: vcapi.VerifyCredentialRequest,
    resolver: ResolverDep,
    checker: StatusCheckerDep,
    clock: ClockDep,
) -> vcapi.VerificationResult:
    return vcapi.verify_one_credential(
        request_in.verifiable_credential,
        resolver=resolver,
        now=clock(),
        checker=checker,
    )


@router.post(
    "/presentations/verify",
    response_model=vcapi.VerificationResult,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    responses=problem_responses(
        *_VERIFY_ERRORS, InvalidChallengeError, InvalidDomainError
    ),
    summary="Verify a presentation bound to a challenge and domain (VC-API)",
)
def verify_presentation(
    request_in: vcapi.VerifyPresentationRequest,
    resolver: ResolverDep,
    checker: StatusCheckerDep,
    clock: ClockDep,
) -> vcapi.VerificationResult:
    return vcapi.verify_one_presentation(
        request_in.verifiable_presentation,
        options=request_in.options,
        resolver=resolver,
        now=clock(),
        checker=checker,
    )
