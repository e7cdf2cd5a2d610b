"""Items and ownership: ``/v1/items`` (register, list, read) and ``/v1/items/nonce``.

Owners see only their own items: another owner's item answers exactly like a
missing one. ``GET /v1/items/{id}`` is the hot path (the lookup the benchmark
measures): one async handler, a verified-token memo, one raw-DBAPI select by
primary key and owner, and the owner's view stored pre-serialised at registration,
so it costs one thread-pool hop like the framework's trivial endpoint.
"""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from did_vault import (
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    HolderMismatchError,
    InvalidChallengeError,
    InvalidDomainError,
    InvalidNonceError,
    IssuerMismatchError,
    ItemNotIdentifiableError,
    KeyBindingInvalidError,
    MalformedCredentialError,
    NonceReplayedError,
    ProofVerificationError,
    PublicKey,
    ResolutionError,
    SchemaViolationError,
    StatusUncheckedError,
    TokenStatusChecker,
)
from registry import auth, claims
from registry.config import Settings
from registry.db import make_engine
from registry.deps import (
    ClockDep,
    FetcherDep,
    IdentityDep,
    PrincipalDep,
    ResolverDep,
    SessionDep,
    SettingsDep,
    StatusCheckerDep,
    TokenSourceDep,
    _lazy,
)
from registry.errors import (
    AuthRequiredError,
    CredentialTypeUnsupportedError,
    HolderKeyMismatchError,
    IssuerBrandMismatchError,
    IssuerUntrustedError,
    ItemAlreadyRegisteredError,
    NotFoundError,
    TokenExpiredError,
    TokenInvalidError,
)
from registry.identity import RegistryIdentity, load_identity
from registry.log import RegistrationLog
from registry.log_models import LoggedRegistrationPublic
from registry.models import (
    ItemCreate,
    ItemPublic,
    ItemsPublic,
    NoncePublic,
)
from registry.problems import problem_responses
from registry.routes import API_PREFIX
from registry.serial_keys import SerialKey, load_serial_key

router = APIRouter(prefix=f"{API_PREFIX}/items", tags=["items"])

ItemId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
JSON_MEDIA_TYPE = "application/json"
TOKEN_MEMO_SIZE = 4096

_AUTH_ERRORS = (AuthRequiredError, TokenInvalidError, TokenExpiredError)
_REGISTER_ERRORS = (
    *_AUTH_ERRORS,
    MalformedCredentialError,
    ProofVerificationError,
    IssuerMismatchError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    StatusUncheckedError,
    KeyBindingInvalidError,
    InvalidChallengeError,
    InvalidDomainError,
    HolderMismatchError,
    InvalidNonceError,
    NonceReplayedError,
    CredentialTypeUnsupportedError,
    HolderKeyMismatchError,
    IssuerUntrustedError,
    IssuerBrandMismatchError,
    SchemaViolationError,
    ItemNotIdentifiableError,
    ItemAlreadyRegisteredError,
    ResolutionError,
)


# --- dependencies -----------------------------------------------------------------


def get_serial_key(request: Request, settings: SettingsDep) -> SerialKey:
    key = _lazy(request, "serial_key", lambda: load_serial_key(settings))
    assert isinstance(key, SerialKey)
    return key


SerialKeyDep = Annotated[SerialKey, Depends(get_serial_key)]


def get_token_status_checker(
    request: Request, fetcher: FetcherDep, resolver: ResolverDep
) -> TokenStatusChecker:
    """Checks brands' SD-JWT VC ``status`` claims; the list token's ``kid`` must be a
    key of a DID (resolved like any issuer's)."""

    def resolve_key(_uri: str, kid: str | None) -> PublicKey:
        if not kid or "#" not in kid:
            raise TokenInvalidError("the status list token has no DID URL kid")
        document = resolver.resolve(kid.split("#", 1)[0])
        return document.find_verification_method(kid).public_key()

    checker = _lazy(
        request,
        "token_status_checker",
        lambda: TokenStatusChecker(fetcher=fetcher, resolve_key=resolve_key),
    )
    assert isinstance(checker, TokenStatusChecker)
    return checker


TokenStatusCheckerDep = Annotated[TokenStatusChecker, Depends(get_token_status_checker)]


class ItemLookup:
    """The hot path's state: SQL per dialect and a memo of verified tokens."""

    _SQL = (
        "SELECT public_json FROM ownership WHERE item_id = {p} AND owner_did = {p} "
        "AND owned_through IS NULL"
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        marker = "?" if engine.dialect.name == "sqlite" else "%s"
        self.sql = self._SQL.format(p=marker)
        self._tokens: dict[str, auth.Principal] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._opened: list[Any] = []

    def principal(
        self, authorization: str | None, *, identity: RegistryIdentity, now: datetime
    ) -> auth.Principal:
        """As ``deps.get_principal``; a token verified once is remembered (its
        expiry is still checked on every use).

        Raises:
            AuthRequiredError, TokenInvalidError, TokenExpiredError.
        """
        token = auth.bearer_token(authorization)
        if token is None:
            raise AuthRequiredError("this operation needs an access token")
        known = self._tokens.get(token)
        if known is None:
            known = auth.verify_access_token(token, identity=identity, now=now)
            with self._lock:
                if len(self._tokens) >= TOKEN_MEMO_SIZE:
                    self._tokens.clear()
                self._tokens[token] = known
        elif known.expires_at <= now:
            raise TokenExpiredError("the access token expired")
        return known

    def _connection(self) -> Any:
        """This thread's own autocommit DBAPI connection, detached from the pool:
        no checkout, no pre-ping and no transaction per lookup."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            pooled = self.engine.raw_connection()
            pooled.detach()
            connection = pooled.dbapi_connection
            if self.engine.dialect.name != "sqlite":
                connection.autocommit = True  # type: ignore[union-attr]
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def close(self) -> None:
        """Close every thread's connection (at application shutdown)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()

    def public_json(self, item_id: str, owner: str) -> str | None:
        """The owner's stored view of a current item, or None (missing, or not
        theirs: the same answer)."""
        for attempt in (1, 2):
            connection = self._connection()
            try:
                cursor = connection.cursor()
                cursor.execute(self.sql, (item_id, owner))
                row = cursor.fetchone()
                cursor.close()
            except self.engine.dialect.dbapi.Error:  # type: ignore[union-attr]
                self._local.connection = None
                connection.close()
                if attempt == 2:
                    raise
                continue
            return None if row is None else str(row[0])
        return None  # pragma: no cover - the loop returns or raises


def _state(request: Request, name: str, factory: Callable[[], object]) -> Any:
    return _lazy(request, name, factory)


def item_lookup(request: Request) -> tuple[ItemLookup, RegistryIdentity, datetime]:
    """The lookup, identity and time, from the app's state (async: no hop).

    Tests put ``engine``, ``identity`` and a ``clock`` in ``app.state``.
    """
    settings: Settings = request.app.state.settings
    engine = _state(
        request, "engine", lambda: make_engine(settings.resolved_database_url())
    )
    lookup = _state(request, "item_lookup", lambda: ItemLookup(engine))
    identity = _state(request, "identity", lambda: load_identity(settings))
    clock = getattr(request.app.state, "clock", None)
    now = clock() if clock is not None else datetime.now(UTC)
    return lookup, identity, now


# --- routes -------------------------------------------------------------------------


@router.post(
    "/nonce",
    status_code=status.HTTP_201_CREATED,
    response_model=NoncePublic,
    responses=problem_responses(*_AUTH_ERRORS, validation=False),
    summary="A single-use nonce for a presentation to POST /v1/items",
)
def create_nonce(
    principal: PrincipalDep,
    session: SessionDep,
    identity: IdentityDep,
    settings: SettingsDep,
    clock: ClockDep,
    token_source: TokenSourceDep,
) -> NoncePublic:
    """Sign a Data Integrity presentation with ``challenge`` this nonce and
    ``domain`` ``audience``, or present an SD-JWT VC with a Key Binding JWT whose
    ``nonce`` is this nonce and whose ``aud`` is ``audience``."""
    nonce, expires_at = claims.issue_nonce(
        session=session,
        did=principal.did,
        now=clock(),
        ttl=timedelta(seconds=settings.nonce_ttl_seconds),
        token_source=token_source,
    )
    session.commit()
    return NoncePublic(nonce=nonce, audience=identity.did, expires_at=expires_at)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LoggedRegistrationPublic,
    responses=problem_responses(*_REGISTER_ERRORS),
    summary="Register an item and receive an OwnershipCredential (both forms)",
)
def register_item(
    claim_in: ItemCreate,
    principal: PrincipalDep,
    session: SessionDep,
    identity: IdentityDep,
    resolver: ResolverDep,
    checker: StatusCheckerDep,
    token_checker: TokenStatusCheckerDep,
    serial_key: SerialKeyDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> LoggedRegistrationPublic:
    """Submit exactly one of: ``presentation`` + ``nonce`` (a Verifiable
    Presentation of a brand's Data Integrity ItemIdentityCredential, signed for
    ``authentication`` by the credential's subject as ``holder``, with ``challenge``
    a nonce from ``POST /v1/items/nonce`` and ``domain`` this registry's DID),
    ``sd_jwt`` + ``nonce`` (a brand's SD-JWT VC, Key Binding to this registry's DID
    and such a nonce), or ``self_asserted`` (item + evidence digests; assurance
    ``self-asserted``). A bare ``credential`` is refused (``request.invalid``):
    whoever saw it could register it."""
    registration_log = RegistrationLog(session, identity=identity, now=clock())
    registration = claims.record_claim(
        session=session,
        claim_in=claim_in,
        owner=principal.did,
        identity=identity,
        serial_key=serial_key,
        resolver=resolver,
        now=clock(),
        status_list_length=settings.status_list_length,
        status_checker=checker,
        token_status_checker=token_checker,
        log_registration=registration_log,
    )
    logged = registration_log.event
    assert logged is not None  # record_claim logs every registration it records
    claims.commit_registration(session)
    return LoggedRegistrationPublic(
        item=registration.public,
        credential=registration.credential,
        sd_jwt_credential=registration.sd_jwt_credential,
        receipt=logged.receipt_json(),
        opening=logged.opening.to_json(),
    )


@router.get(
    "",
    response_model=ItemsPublic,
    responses=problem_responses(*_AUTH_ERRORS, validation=False),
    summary="The authenticated owner's current items",
)
def list_items(principal: PrincipalDep, session: SessionDep) -> ItemsPublic:
    data = [
        ItemPublic.model_validate(entry)
        for entry in claims.public_items(session=session, owner=principal.did)
    ]
    return ItemsPublic(data=data, count=len(data))


@router.get(
    "/{item_id}",
    response_model=ItemPublic,
    responses=problem_responses(*_AUTH_ERRORS, NotFoundError),
    summary="One of the authenticated owner's items",
)
async def read_item(
    item_id: ItemId,
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Another owner's item answers exactly like a missing one (404)."""
    lookup, identity, now = item_lookup(request)
    principal = lookup.principal(authorization, identity=identity, now=now)
    body = await run_in_threadpool(lookup.public_json, item_id, principal.did)
    if body is None:
        raise NotFoundError("no such item")
    return Response(content=body, media_type=JSON_MEDIA_TYPE)
