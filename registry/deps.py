"""FastAPI dependencies, as ``Annotated`` aliases.

Everything a route needs from outside comes through here, so that tests replace it
with ``app.dependency_overrides``: the settings, the engine and a session, the
registry's identity, the DID resolver, the clock, the random token source, the
VC-API issuers, and the authenticated principal.
"""

import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Engine
from sqlmodel import Session

from did_vault import (
    CachingResolver,
    DIDDocumentResolver,
    Fetcher,
    HttpxFetcher,
    StatusListChecker,
    default_resolver,
)
from registry import auth, trust
from registry.config import Settings
from registry.db import make_engine
from registry.errors import AuthRequiredError, ForbiddenError
from registry.identity import RegistryIdentity, SelfResolver, load_identity
from registry.metrics import Metrics
from registry.models import TrustRole
from registry.vcapi import VCAPIIssuer, load_issuers, status_checker

Clock = Callable[[], datetime]

_lock = threading.Lock()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def _lazy(request: Request, name: str, factory: Callable[[], object]) -> object:
    """An app-wide object created on first use (creation may do I/O)."""
    state = request.app.state
    value = getattr(state, name, None)
    if value is None:
        with _lock:
            value = getattr(state, name, None)
            if value is None:
                value = factory()
                setattr(state, name, value)
    return value


def get_engine(request: Request, settings: SettingsDep) -> Engine:
    engine = _lazy(
        request, "engine", lambda: make_engine(settings.resolved_database_url())
    )
    assert isinstance(engine, Engine)
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_identity(request: Request, settings: SettingsDep) -> RegistryIdentity:
    identity = _lazy(request, "identity", lambda: load_identity(settings))
    assert isinstance(identity, RegistryIdentity)
    return identity


IdentityDep = Annotated[RegistryIdentity, Depends(get_identity)]


def get_fetcher(request: Request, settings: SettingsDep) -> Fetcher:
    """The HTTPS fetcher for did:web documents and status lists (SSRF-hardened)."""
    fetcher = _lazy(
        request,
        "fetcher",
        lambda: HttpxFetcher(allow_loopback=settings.allow_loopback),
    )
    return fetcher  # type: ignore[return-value]


FetcherDep = Annotated[Fetcher, Depends(get_fetcher)]


def get_resolver(
    request: Request, fetcher: FetcherDep, identity: IdentityDep
) -> DIDDocumentResolver:
    """did:key, did:jwk, did:web over HTTPS; the registry's own DID locally."""
    resolver = _lazy(
        request,
        "resolver",
        lambda: CachingResolver(SelfResolver(identity, default_resolver(fetcher))),
    )
    return resolver  # type: ignore[return-value]


ResolverDep = Annotated[DIDDocumentResolver, Depends(get_resolver)]


def get_status_checker(
    request: Request, fetcher: FetcherDep, resolver: ResolverDep
) -> StatusListChecker:
    checker = _lazy(
        request,
        "status_checker",
        lambda: status_checker(fetcher=fetcher, resolver=resolver),
    )
    assert isinstance(checker, StatusListChecker)
    return checker


StatusCheckerDep = Annotated[StatusListChecker, Depends(get_status_checker)]


def get_clock() -> Clock:
    return lambda: datetime.now(UTC)


ClockDep = Annotated[Clock, Depends(get_clock)]


def get_token_source() -> auth.TokenSource:
    return secrets.token_urlsafe


TokenSourceDep = Annotated[auth.TokenSource, Depends(get_token_source)]


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def get_vcapi_issuers(
    request: Request, settings: SettingsDep
) -> tuple[VCAPIIssuer, ...]:
    issuers = _lazy(request, "vcapi_issuers", lambda: load_issuers(settings))
    assert isinstance(issuers, tuple)
    return issuers


VCAPIIssuersDep = Annotated[tuple[VCAPIIssuer, ...], Depends(get_vcapi_issuers)]


def get_principal(
    identity: IdentityDep,
    clock: ClockDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> auth.Principal:
    """The DID an ``Authorization: Bearer`` access token speaks for.

    Raises:
        AuthRequiredError: no token.
        TokenInvalidError, TokenExpiredError: as ``auth.verify_access_token``.
    """
    token = auth.bearer_token(authorization)
    if token is None:
        raise AuthRequiredError("this operation needs an access token")
    return auth.verify_access_token(token, identity=identity, now=clock())


PrincipalDep = Annotated[auth.Principal, Depends(get_principal)]


def require_operator(principal: PrincipalDep, session: SessionDep) -> auth.Principal:
    """The principal, if the trust list names it an operator.

    Raises:
        ForbiddenError: an authenticated DID that is not an operator.
    """
    if not trust.has_role(session=session, did=principal.did, role=TrustRole.OPERATOR):
        raise ForbiddenError("only operators may do this")
    return principal


OperatorDep = Annotated[auth.Principal, Depends(require_operator)]
