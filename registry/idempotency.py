"""``Idempotency-Key`` for POSTs (IETF draft-ietf-httpapi-idempotency-key-header).

An ASGI middleware: a POST carrying ``Idempotency-Key`` is remembered under the key,
the caller (its ``Authorization`` header, else its address) and the path, with a
SHA-256 of its body.

- The same key and body again: the stored response is replayed (status, body,
  ``Content-Type``, ``ETag``, ``Location``) with ``Idempotent-Replayed: true``, and
  the operation does not run a second time.
- The same key with another body: 422 ``idempotency.mismatch``.
- The same key while the first request is still running: 409
  ``idempotency.in-flight``.

Responses under 500 (other than 429) are stored for ``ttl`` (24 hours); a 5xx, a
429 or an exception forgets the key so that a retry runs again. Requests without
the header are not touched.

The records live in the registry database (``registry.request_state``), so every
worker and instance on it shares them: a retry that reaches another worker is
replayed, or answered 409 while the first still runs. Claiming a key is one
transaction that locks the record (``SELECT … FOR UPDATE``; SQLite's
``BEGIN IMMEDIATE`` serialises writers); of two workers inserting the same new key
the primary key lets exactly one win, the other answers 409. A record in flight for
longer than ``lease`` (5 minutes) belongs to a request that died with its worker and
is taken over; a record older than ``ttl`` is replaced. Expired records are swept
now and then, a bounded batch at a time. The middleware takes the app's engine
(``app.state.engine``, made from the settings on first use) and the app's clock
(``registry.deps.get_clock``, as overridden), and runs the database calls in a
worker thread.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.deps import Clock, get_clock, get_engine
from registry.errors import (
    IdempotencyInFlightError,
    IdempotencyMismatchError,
    RegistryError,
    RequestInvalidError,
)
from registry.problems import problem_response, status_for
from registry.request_state import (
    IdempotencyRecord,
    SweepSchedule,
    delete_idempotency_records,
)

HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
DEFAULT_TTL = timedelta(hours=24)
# Longer than any request may run: a record in flight for longer is abandoned.
DEFAULT_LEASE = timedelta(minutes=5)
_KEPT_HEADERS = (b"content-type", b"etag", b"location", b"retry-after")


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to run the request under ``key`` and store its response; a later
    claim of the same key (after the lease or the TTL) has another ``claimed_at``."""

    key: str
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


class IdempotencyStore:
    """Keys and their responses in the registry database (shared by every worker)."""

    def __init__(
        self, *, ttl: timedelta = DEFAULT_TTL, lease: timedelta = DEFAULT_LEASE
    ) -> None:
        if lease <= timedelta(0) or ttl < lease:
            raise ValueError("a positive lease, and a TTL at least as long")
        self.ttl = ttl
        self.lease = lease
        self.sweeps = SweepSchedule()

    def begin(
        self, engine: Engine, key: str, *, fingerprint: str, now: datetime
    ) -> Claim | StoredResponse:
        """Claim ``key`` for a new request, or return its stored response.

        Raises:
            IdempotencyMismatchError: the key was used with another body.
            IdempotencyInFlightError: the key's first request is still running.
        """
        try:
            outcome = self._begin(engine, key, fingerprint=fingerprint, now=now)
        except IntegrityError as exc:
            # Another worker inserted the same new key first; its request runs now.
            raise _in_flight() from exc
        if self.sweeps.is_due(now):
            self.sweep(engine, now=now)
        return outcome

    def _begin(
        self, engine: Engine, key: str, *, fingerprint: str, now: datetime
    ) -> Claim | StoredResponse:
        with Session(engine) as session, session.begin():
            statement = (
                select(IdempotencyRecord)
                .where(col(IdempotencyRecord.key) == key)
                .with_for_update()
            )
            db_record = session.exec(statement).first()
            if db_record is None:
                session.add(
                    IdempotencyRecord(key=key, fingerprint=fingerprint, created_at=now)
                )
                return Claim(key, now)
            age = now - db_record.created_at
            if age >= self.ttl or (db_record.status is None and age >= self.lease):
                db_record.fingerprint, db_record.created_at = fingerprint, now
                db_record.status, db_record.headers, db_record.body = None, "[]", b""
                return Claim(key, now)
            if db_record.fingerprint != fingerprint:
                raise IdempotencyMismatchError(
                    "this Idempotency-Key was used with another request body"
                )
            if db_record.status is None:
                raise _in_flight()
            return StoredResponse(
                status=db_record.status,
                headers=tuple(
                    (name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in json.loads(db_record.headers)
                ),
                body=db_record.body,
            )

    def finish(
        self,
        engine: Engine,
        claim: Claim,
        *,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        """Store the response of the claimed request (unless the claim was lost)."""
        stored_headers = json.dumps(
            [
                [name.decode("latin-1"), value.decode("latin-1")]
                for name, value in headers
            ]
        )
        statement = (
            update(IdempotencyRecord)
            .where(*_held(claim))
            .values(status=status, headers=stored_headers, body=body)
        )
        with Session(engine) as session, session.begin():
            session.execute(statement)

    def forget(self, engine: Engine, claim: Claim) -> None:
        """Drop the claimed key, so that a retry runs again."""
        with Session(engine) as session, session.begin():
            session.execute(delete(IdempotencyRecord).where(*_held(claim)))

    def sweep(self, engine: Engine, *, now: datetime) -> int:
        """Delete a batch of expired records; how many."""
        with Session(engine) as session, session.begin():
            deleted = delete_idempotency_records(session, created_before=now - self.ttl)
        self.sweeps.record(deleted, now=now)
        return deleted


def _app_clock(request: Request) -> Clock:
    """The app's clock, as routes get it (``get_clock`` or its override)."""
    provider = request.app.dependency_overrides.get(get_clock, get_clock)
    clock: Clock = provider()
    return clock


def _held(claim: Claim) -> tuple[Any, ...]:
    """The claimed record, if still in flight under this claim (not taken over)."""
    return (
        col(IdempotencyRecord.key) == claim.key,
        col(IdempotencyRecord.created_at) == claim.claimed_at,
        col(IdempotencyRecord.status).is_(None),
    )


def _in_flight() -> IdempotencyInFlightError:
    return IdempotencyInFlightError(
        "a request with this Idempotency-Key is still being processed"
    )


class IdempotencyMiddleware:
    """Replays POST responses by ``Idempotency-Key`` (see the module docstring).

    ``clock`` defaults to the app's clock, looked up per request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: IdempotencyStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.app = app
        self.store = store or IdempotencyStore()
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_key = headers.get(HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            idempotency_key = raw_key.decode("ascii")
        except UnicodeDecodeError:
            idempotency_key = ""
        if not 0 < len(idempotency_key) <= MAX_KEY_LENGTH:
            await self._problem(
                request,
                RequestInvalidError("Idempotency-Key: 1 to 255 ASCII characters"),
                scope,
                receive,
                send,
            )
            return
        body = await request.body()
        caller = headers.get(b"authorization") or (
            request.client.host.encode() if request.client else b""
        )
        key = hashlib.sha256(
            b"\0".join(
                (caller, scope["path"].encode("utf-8"), idempotency_key.encode())
            )
        ).hexdigest()
        fingerprint = hashlib.sha256(body).hexdigest()
        engine = get_engine(request, request.app.state.settings)
        clock = self.clock or _app_clock(request)
        try:
            outcome = await run_in_threadpool(
                self.store.begin, engine, key, fingerprint=fingerprint, now=clock()
            )
        except RegistryError as exc:
            await self._problem(request, exc, scope, receive, send)
            return
        if isinstance(outcome, StoredResponse):
            await send(
                {
                    "type": "http.response.start",
                    "status": outcome.status,
                    "headers": [
                        *outcome.headers,
                        (REPLAYED_HEADER.lower().encode(), b"true"),
                        (b"content-length", str(len(outcome.body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": outcome.body})
            return
        await self._run(scope, body, send, engine=engine, claim=outcome)

    async def _run(
        self, scope: Scope, body: bytes, send: Send, *, engine: Engine, claim: Claim
    ) -> None:
        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if sent_body:
                return {"type": "http.disconnect"}
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        kept: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, kept
            if message["type"] == "http.response.start":
                status = int(message["status"])
                kept = [
                    (name.lower(), value)
                    for name, value in message.get("headers", [])
                    if name.lower() in _KEPT_HEADERS
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            # Shielded: a cancelled request must still release its key.
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self.store.forget, engine, claim)
            raise
        if status >= 500 or status == 429:
            await run_in_threadpool(self.store.forget, engine, claim)
        else:
            await run_in_threadpool(
                self.store.finish,
                engine,
                claim,
                status=status,
                headers=kept,
                body=b"".join(chunks),
            )

    async def _problem(
        self,
        request: Request,
        exc: RegistryError,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        response = problem_response(
            request,
            status=status_for(exc),
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
        )
        await response(scope, receive, send)
