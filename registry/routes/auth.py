"""DID authentication: ``/v1/auth/challenge``, ``/v1/auth/token``, ``/v1/auth/me``."""

from datetime import timedelta

from fastapi import APIRouter, status

from did_vault import (
    InvalidDIDError,
    ResolutionError,
)
from registry import auth, trust
from registry.deps import (
    ClockDep,
    IdentityDep,
    MetricsDep,
    PrincipalDep,
    ResolverDep,
    SessionDep,
    SettingsDep,
    TokenSourceDep,
)
from registry.errors import (
    AudienceInvalidError,
    AuthProofInvalidError,
    AuthRequiredError,
    ChallengeExpiredError,
    ChallengeReplayedError,
    ChallengeUnknownError,
    RelationshipInvalidError,
    TokenExpiredError,
    TokenInvalidError,
)
from registry.models import (
    ChallengeCreate,
    ChallengePublic,
    PrincipalPublic,
    TokenCreate,
    TokenPublic,
)
from registry.problems import problem_responses
from registry.routes import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])


@router.post(
    "/challenge",
    status_code=status.HTTP_201_CREATED,
    response_model=ChallengePublic,
    responses=problem_responses(InvalidDIDError),
    summary="A single-use challenge for a DID to sign",
)
def create_challenge(
    challenge_in: ChallengeCreate,
    session: SessionDep,
    identity: IdentityDep,
    settings: SettingsDep,
    clock: ClockDep,
    token_source: TokenSourceDep,
) -> ChallengePublic:
    """Sign the challenge in a presentation: ``proofPurpose`` ``authentication``,
    ``challenge`` the challenge and ``domain`` the ``audience``."""
    issued = auth.issue_challenge(
        session=session,
        did=challenge_in.did,
        identity=identity,
        now=clock(),
        ttl=timedelta(seconds=settings.challenge_ttl_seconds),
        token_source=token_source,
    )
    session.commit()
    return ChallengePublic(
        challenge=issued.challenge,
        audience=issued.audience,
        expires_at=issued.expires_at,
    )


@router.post(
    "/token",
    response_model=TokenPublic,
    responses=problem_responses(
        ChallengeUnknownError,
        ChallengeExpiredError,
        ChallengeReplayedError,
        AudienceInvalidError,
        RelationshipInvalidError,
        AuthProofInvalidError,
        ResolutionError,
    ),
    summary="Exchange a signed challenge for a short-lived access token",
)
def create_token(
    token_in: TokenCreate,
    session: SessionDep,
    identity: IdentityDep,
    resolver: ResolverDep,
    settings: SettingsDep,
    clock: ClockDep,
    token_source: TokenSourceDep,
    metrics: MetricsDep,
) -> TokenPublic:
    token, principal = auth.exchange_challenge(
        session=session,
        challenge=token_in.challenge,
        presentation=token_in.presentation,
        identity=identity,
        resolver=resolver,
        now=clock(),
        token_ttl=timedelta(seconds=settings.token_ttl_seconds),
        token_source=token_source,
    )
    session.commit()
    metrics.count_token_issued()
    return TokenPublic(
        access_token=token,
        expires_in=settings.token_ttl_seconds,
        did=principal.did,
    )


@router.get(
    "/me",
    response_model=PrincipalPublic,
    responses=problem_responses(
        AuthRequiredError, TokenInvalidError, TokenExpiredError, validation=False
    ),
    summary="The DID an access token speaks for, and its trust-list roles",
)
def read_principal(principal: PrincipalDep, session: SessionDep) -> PrincipalPublic:
    return PrincipalPublic(
        did=principal.did,
        audience=principal.audience,
        expires_at=principal.expires_at,
        roles=trust.roles_of(session=session, did=principal.did),
    )
