"""The registry app under test, on each store: a fresh, migrated database per test.

SQLite is a file in ``tmp_path`` (WAL, BEGIN IMMEDIATE); PostgreSQL gets a schema of
its own per test (tests run in parallel under pytest-xdist), selected through the
connection's ``search_path`` and dropped afterwards. PostgreSQL is skipped with the
reason when unreachable, and fails instead under ``REQUIRE_POSTGRES=1``.
"""

import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from did_vault import (
    DID,
    DIDDocument,
    KeyAlgorithm,
    PrivateKey,
    Resolver,
    build_did_web_document,
    create_did_key,
    create_presentation,
    resolve_did_jwk,
    resolve_did_key,
    sign_presentation,
)
from registry import deps, migrations
from registry.config import Settings
from registry.db import make_engine
from registry.identity import RegistryIdentity
from registry.main import create_app

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx (the dev extra's)
    # still works. Remove once the dev extra moves to httpx2.
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`"
    )
    from fastapi.testclient import TestClient

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
REGISTRY_DOMAIN = "registry.test"


def _postgres_admin_url() -> str:
    return os.environ.get("REGISTRY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _postgres_schema_engine() -> Iterator[Engine]:
    admin = make_engine(_postgres_admin_url())
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        reason = (
            f"PostgreSQL is not reachable at {admin.url.render_as_string()} "
            f"({type(exc).__name__}); start it or set REGISTRY_TEST_POSTGRES_URL"
        )
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    url = make_url(_postgres_admin_url()).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=["sqlite-file", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each supported kind."""
    if request.param == "postgresql":
        yield from _postgres_schema_engine()
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
        yield engine
        engine.dispose()


@pytest.fixture
def registry_engine(blank_engine: Engine) -> Engine:
    """A database migrated to head."""
    migrations.upgrade(blank_engine)
    return blank_engine


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def identity() -> RegistryIdentity:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
    return RegistryIdentity.from_key(key, domain=REGISTRY_DOMAIN)


@dataclass
class Holder:
    """A DID with one key, able to answer the registry's challenges."""

    did: str
    key: PrivateKey
    verification_method: str

    def answer(
        self,
        challenge: str,
        *,
        domain: str,
        now: datetime = START,
        key: PrivateKey | None = None,
    ) -> dict[str, Any]:
        presentation = create_presentation([], holder=self.did)
        return sign_presentation(
            presentation,
            key=key or self.key,
            verification_method=self.verification_method,
            challenge=challenge,
            domain=domain,
            created=now,
        )


def make_key_holder(seed: int) -> Holder:
    key = PrivateKey(KeyAlgorithm.ED25519, bytes([seed]) * 32)
    did = create_did_key(key.public_key)
    return Holder(str(did), key, f"{did}#{did.method_specific_id}")


@pytest.fixture
def holder() -> Holder:
    return make_key_holder(7)


@dataclass
class WebDIDs:
    """did:web documents served from memory (no network)."""

    documents: dict[str, DIDDocument] = field(default_factory=dict)

    def add(
        self, key: PrivateKey, *, name: str, relationships: tuple[str, ...]
    ) -> Holder:
        document = build_did_web_document(
            f"{name}.test",
            keys=[key.public_key],
            relationships=relationships,  # type: ignore[arg-type]
        )
        self.documents[document.id] = document
        return Holder(
            document.id, key, document.id + "#" + key.public_key.to_multikey()
        )

    def __call__(self, did: DID) -> DIDDocument:
        return self.documents[str(did)]


@pytest.fixture
def web_dids() -> WebDIDs:
    return WebDIDs()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        did_domain=REGISTRY_DOMAIN,
        max_body_bytes=4096,
        problem_base_uri="https://registry.test/problems/",
    )


@pytest.fixture
def make_app(
    registry_engine: Engine,
    identity: RegistryIdentity,
    clock: Clock,
    web_dids: WebDIDs,
    settings: Settings,
) -> Callable[..., FastAPI]:
    def build(**overrides: Any) -> FastAPI:
        app = create_app(settings.model_copy(update=overrides))
        resolver = Resolver(
            {"key": resolve_did_key, "jwk": resolve_did_jwk, "web": web_dids}
        )
        app.dependency_overrides[deps.get_engine] = lambda: registry_engine
        app.dependency_overrides[deps.get_identity] = lambda: identity
        app.dependency_overrides[deps.get_clock] = lambda: clock
        app.dependency_overrides[deps.get_resolver] = lambda: resolver
        return app

    return build


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        app, base_url="http://127.0.0.1", raise_server_exceptions=False
    ) as test_client:
        yield test_client


def _authenticate(client: TestClient, holder: Holder, *, now: datetime = START) -> str:
    """The access token for ``holder`` after the whole challenge exchange."""
    issued = client.post("/v1/auth/challenge", json={"did": holder.did})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    answer = holder.answer(body["challenge"], domain=body["audience"], now=now)
    token = client.post(
        "/v1/auth/token", json={"challenge": body["challenge"], "presentation": answer}
    )
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


def _assert_problem(response: Any, *, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code)
    return body


@pytest.fixture
def authenticate() -> Callable[..., str]:
    """``authenticate(client, holder)``: an access token for the holder."""
    return _authenticate


@pytest.fixture
def assert_problem() -> Callable[..., dict[str, Any]]:
    """``assert_problem(response, status=…, code=…)``: the problem body, checked."""
    return _assert_problem


@pytest.fixture
def make_holder() -> Callable[[int], Holder]:
    """``make_holder(seed)``: a did:key holder from a one-byte seed."""
    return make_key_holder
