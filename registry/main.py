"""The registry application: ``create_app(settings)``.

Routers per resource under ``/v1`` (auth, trust, VC-API, items, status lists, log,
lifecycle, verification), the public DID documents and the operational endpoints at
the root. Three ASGI middlewares wrap the app, outermost first: the request context
(request id, JSON access log, metrics, and the generic 500 for anything unexpected,
logged with the request id), the body size limit (413) and ``Idempotency-Key``
replay (``registry.idempotency``, records shared through the database).
Creating the app does no I/O: the engine, identity and VC-API issuers are made on
first use, or handed in by ``registry serve``, which validates them at start.
"""

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from registry import __doc__ as package_doc
from registry.config import Settings
from registry.errors import RequestTooLargeError
from registry.idempotency import IdempotencyMiddleware
from registry.identity import RegistryIdentity
from registry.logging import (
    REQUEST_ID_HEADER,
    request_id_from,
    reset_request_id,
    set_request_id,
)
from registry.metrics import Metrics
from registry.problems import (
    PROBLEM_MEDIA_TYPE,
    install_handlers,
    internal_error_response,
    problem_response,
)
from registry.routes import auth as auth_routes
from registry.routes import health as health_routes
from registry.routes import identity as identity_routes
from registry.routes import items as items_routes
from registry.routes import log as log_routes
from registry.routes import status as status_routes
from registry.routes import stolen as stolen_routes
from registry.routes import transfers as transfer_routes
from registry.routes import trust as trust_routes
from registry.routes import vcapi as vcapi_routes
from registry.routes import verify as verify_routes
from registry.vcapi import VCAPIIssuer

API_VERSION = "1.0.0"
access_logger = logging.getLogger("registry.access")
error_logger = logging.getLogger("registry.errors")


class _BodyTooLargeError(HTTPException):
    """Raised from ``receive``: FastAPI re-raises HTTP exceptions from body reading,
    so the exception handlers answer it as ``request.too-large``."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413 ``request.too-large``.

    A declared ``Content-Length`` is checked before reading; a chunked body is
    counted as it streams in.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                too_large = False
            if too_large:
                await self._refuse(scope, receive, send)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLargeError:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = problem_response(
            request,
            status=413,
            code=RequestTooLargeError.code,
            title=RequestTooLargeError.title,
            detail=f"the request body exceeds {self.max_bytes} bytes",
        )
        await response(scope, receive, send)


class RequestContextMiddleware:
    """Request id, access log, metrics; a problem for anything unexpected."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_id = headers.get(REQUEST_ID_HEADER.lower().encode("latin-1"))
        request_id = request_id_from(raw_id.decode("latin-1") if raw_id else None)
        token = set_request_id(request_id)
        started_at = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            error_logger.error(
                "unexpected error",
                exc_info=(type(exc), exc, exc.__traceback__),
                extra={"fields": {"method": scope.get("method", "")}},
            )
            if response_started:
                raise
            await internal_error_response(Request(scope, receive))(
                scope, receive, send_with_id
            )
        finally:
            seconds = time.perf_counter() - started_at
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            self.metrics.observe_request(
                method=method, route=template, status=status, seconds=seconds
            )
            access_logger.info(
                "request",
                extra={
                    "fields": {
                        "method": method,
                        "route": template,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    }
                },
            )
            reset_request_id(token)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    lookup = getattr(app.state, "item_lookup", None)
    if lookup is not None:
        lookup.close()


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    identity: RegistryIdentity | None = None,
    vcapi_issuers: tuple[VCAPIIssuer, ...] | None = None,
) -> FastAPI:
    """The registry application for ``settings`` (default: from the environment).

    ``engine``, ``identity`` and ``vcapi_issuers`` are made on first use when not
    given; ``registry serve`` loads them up front so that bad configuration stops it
    at start.
    """
    settings = settings or Settings()
    app = FastAPI(
        title="did-vault registry",
        version=API_VERSION,
        description=(package_doc or "").strip(),
        openapi_url="/openapi.json",
        lifespan=_lifespan,
    )
    metrics = Metrics()
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.problem_base_uri = settings.problem_base_uri
    app.state.engine = engine
    app.state.identity = identity
    app.state.vcapi_issuers = vcapi_issuers

    install_handlers(app)
    for router in (
        health_routes.router,
        identity_routes.router,
        auth_routes.router,
        trust_routes.router,
        vcapi_routes.router,
        items_routes.router,
        status_routes.router,
        log_routes.router,
        stolen_routes.router,
        stolen_routes.check_router,
        transfer_routes.router,
        transfer_routes.custody_router,
        verify_routes.router,
    ):
        app.include_router(router)

    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    proxies = settings.trusted_proxy_list()
    if proxies:
        # Outermost: the client address every layer sees (the rate limit's key, the
        # access log) is the one a trusted proxy forwarded, never a header from
        # anyone else.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with its default 422 validation answer replaced by ours
    and every problem described as ``application/problem+json``."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            default = responses.get("422", {})
            if "HTTPValidationError" in str(default):
                del responses["422"]
            for response in responses.values():
                _describe_problem_media_type(response)
            if operation.get("requestBody") is not None:
                responses.setdefault(
                    "413",
                    {
                        "description": "Problem: `request.too-large`",
                        "content": {
                            PROBLEM_MEDIA_TYPE: {
                                "schema": {
                                    "$ref": "#/components/schemas/ProblemDetails"
                                }
                            }
                        },
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


def _describe_problem_media_type(response: dict[str, Any]) -> None:
    """Put a problem response's schema under the media type it is sent as.

    FastAPI files a route's ``responses`` model under ``application/json``; the
    problems are only ever sent as ``application/problem+json``.
    """
    content = response.get("content", {})
    if PROBLEM_MEDIA_TYPE not in content:
        return
    problem_schema = content.get("application/json", {}).get(
        "schema", {"$ref": "#/components/schemas/ProblemDetails"}
    )
    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_schema}}
