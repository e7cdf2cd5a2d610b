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

Responses under 500 (other than 429) are stored for ``ttl``; a 5xx or an exception
forgets the key so that a retry runs again. Requests without the header are not
touched. The store is in memory, per process (design note 0007 says what that means
behind several workers).
"""

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry.errors import (
    IdempotencyInFlightError,
    IdempotencyMismatchError,
    RegistryError,
    RequestInvalidError,
)
from registry.problems import problem_response, status_for

HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
DEFAULT_TTL = timedelta(hours=24)
MAX_ENTRIES = 50_000
_KEPT_HEADERS = (b"content-type", b"etag", b"location", b"retry-after")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    created: datetime
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


class IdempotencyStore:
    """Keys and their responses, in memory (thread-safe)."""

    def __init__(self, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def begin(self, key: str, fingerprint: str, *, now: datetime) -> _Entry | None:
        """Claim ``key`` for a new request (None), or return the entry found.

        Raises:
            IdempotencyMismatchError: the key was used with another body.
            IdempotencyInFlightError: the key's first request is still running.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry.created >= self.ttl:
                entry = None
            if entry is None:
                if len(self._entries) >= MAX_ENTRIES:
                    self._sweep(now)
                self._entries[key] = _Entry(fingerprint, now)
                return None
        if entry.fingerprint != fingerprint:
            raise IdempotencyMismatchError(
                "this Idempotency-Key was used with another request body"
            )
        if entry.status is None:
            raise IdempotencyInFlightError(
                "a request with this Idempotency-Key is still being processed"
            )
        return entry

    def finish(
        self, key: str, *, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.status, entry.headers, entry.body = status, headers, body

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _sweep(self, now: datetime) -> None:
        for name in [
            k for k, e in self._entries.items() if now - e.created >= self.ttl
        ]:
            del self._entries[name]
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()


class IdempotencyMiddleware:
    """Replays POST responses by ``Idempotency-Key`` (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: IdempotencyStore | None = None,
        clock: Callable[[], datetime] = _utc_now,
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
        try:
            entry = self.store.begin(key, fingerprint, now=self.clock())
        except RegistryError as exc:
            await self._problem(request, exc, scope, receive, send)
            return
        if entry is not None:
            assert entry.status is not None
            await send(
                {
                    "type": "http.response.start",
                    "status": entry.status,
                    "headers": [
                        *entry.headers,
                        (REPLAYED_HEADER.lower().encode(), b"true"),
                        (b"content-length", str(len(entry.body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": entry.body})
            return
        await self._run(scope, body, send, key)

    async def _run(self, scope: Scope, body: bytes, send: Send, key: str) -> None:
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
            self.store.forget(key)
            raise
        if status >= 500 or status == 429:
            self.store.forget(key)
        else:
            self.store.finish(key, status=status, headers=kept, body=b"".join(chunks))

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
