"""Property-based fuzzing of every HTTP operation against ``specs/openapi.json``.

Schemathesis generates requests for each operation of the committed OpenAPI
document, valid ones and ones that break the schema (bodies, path and query
parameters, headers), sent anonymously or with the access token of a seeded owner
or operator, to the app in process on each store (the ``registry_engine`` fixture:
SQLite and PostgreSQL). Every answer must be documented: never a 5xx, a
status and content type the operation declares, a body that matches the declared
schema, and every error an ``application/problem+json`` whose ``code`` is listed
in ``specs/problems.md`` with that status.

Path parameters named ``item_id`` are generated, or the id of an item the owner
registered, so the owner's calls get past "not found". Hand-picked hostile inputs
that generation rarely hits (bytes that are not UTF-8, NUL, integers past 64 bits,
JSON nested thousands deep, NaN, lone surrogates) go to every operation as well.

Deterministic and bounded: Hypothesis is derandomized, keeps no example database
and makes ``MAX_EXAMPLES`` requests per operation and store, each as a caller drawn
from anonymous, owner and operator. Requests are single calls: sequences
(register, then offer, then accept) are the lifecycle tests' job.
"""

import json
import os
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry import auth
from registry.identity import RegistryIdentity
from registry.models import TrustRole
from registry.ratelimit import RateLimiter

from .conftest import START, TestClient
from .lifecycle_support import build_app, register, trust

ROOT = Path(__file__).resolve().parents[3]
SPEC = json.loads((ROOT / "specs" / "openapi.json").read_text(encoding="utf-8"))
PROBLEMS_MD = (ROOT / "specs" / "problems.md").read_text(encoding="utf-8")
# 25 keeps the module at about 30 s on two cores; REGISTRY_FUZZ_EXAMPLES=500 digs
# deeper by hand (a few minutes).
MAX_EXAMPLES = int(os.environ.get("REGISTRY_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# A configuration of its own, so that no schemathesis.toml nearby changes the run.
SCHEMA = schemathesis.openapi.from_dict(SPEC, config=schemathesis.Config())
OPERATIONS = [
    (path, method.upper())
    for path, item in SPEC["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
]
_ROW = re.compile(r"^\| `([a-z0-9.\-]+)` \|(?: `\w+` \|)? ([0-9—]+) \|")


def _documented_statuses() -> dict[str, int]:
    """code → HTTP status, from every table of ``specs/problems.md``."""
    statuses: dict[str, int] = {}
    for line in PROBLEMS_MD.splitlines():
        match = _ROW.match(line)
        if match and match.group(2).isdigit():
            statuses[match.group(1)] = int(match.group(2))
    return statuses


DOCUMENTED = _documented_statuses()


@pytest.fixture
def fuzz_app(make_app, registry_engine, identity, clock) -> FastAPI:
    app = build_app(make_app, registry_engine, identity, clock)
    # The public stolen-check is rate-limited per client; a bucket that never runs
    # dry keeps 429s from masking the answers under test.
    app.state.stolen_check_limiter = RateLimiter(
        capacity=1_000_000, refill_per_second=1_000_000
    )
    return app


@pytest.fixture
def fuzz_client(fuzz_app) -> Iterator[TestClient]:
    with TestClient(
        fuzz_app, base_url="http://127.0.0.1", raise_server_exceptions=False
    ) as client:
        yield client


@pytest.fixture
def tokens(registry_engine, identity, holder, make_holder) -> dict[str, str]:
    """Authorization headers by caller: anonymous, an owner, an operator.

    The tokens are minted directly (as test_concurrency does): the challenge
    exchange has tests of its own and is fuzzed here as two operations.
    """
    operator = make_holder(8)
    trust(registry_engine, operator.did, TrustRole.OPERATOR)
    return {
        "anonymous": "",
        "owner": f"Bearer {_token(identity, holder.did)}",
        "operator": f"Bearer {_token(identity, operator.did)}",
    }


def _token(identity: RegistryIdentity, did: str) -> str:
    principal = auth.Principal(
        did=did,
        audience=identity.did,
        expires_at=START + timedelta(hours=1),
        token_id=uuid.uuid4().hex,
    )
    return auth.create_access_token(principal, identity=identity, now=START)


@pytest.fixture
def item_id(fuzz_client, tokens) -> str:
    """The id of an item the owner registered."""
    token = tokens["owner"].removeprefix("Bearer ")
    return str(register(fuzz_client, token, "FUZZ-1")["item"]["id"])


def _headers(tokens: dict[str, str], caller: str) -> dict[str, str]:
    return {"Authorization": tokens[caller]} if tokens[caller] else {}


def _assert_documented_problem(
    status: int, media_type: str, body: Any, *, request: str
) -> None:
    """A 4xx or 5xx is a problem whose code problems.md lists with that status."""
    if status < 400:
        return
    assert media_type.split(";")[0] == "application/problem+json", request
    assert isinstance(body, dict), request
    assert body.get("code") in DOCUMENTED, f"{request}: undocumented {body!r}"
    assert DOCUMENTED[body["code"]] == status == body["status"], f"{request}: {body}"


def _fuzz(
    app: FastAPI, tokens: dict[str, str], item_id: str, path: str, method: str
) -> None:
    operation = SCHEMA[path][method]
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(mode) for mode in modes]
    if "{item_id}" in path:
        strategies += [
            operation.as_strategy(mode, path_parameters={"item_id": item_id})
            for mode in modes
        ]
    cases = st.one_of(strategies)

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, caller=st.sampled_from(sorted(tokens)))
    def run(case: schemathesis.Case, caller: str) -> None:
        headers = _headers(tokens, caller)
        response = case.call(app=app, headers=headers)
        case.validate_response(
            response, checks=CHECKS, headers=headers, transport_kwargs={"app": app}
        )
        media_type = response.headers.get("content-type", [""])[0]
        _assert_documented_problem(
            response.status_code,
            media_type,
            response.json() if "json" in media_type else None,
            request=case.as_curl_command(headers=headers),
        )

    run()


# Bodies and parameters that generation rarely produces. The "nul-in-…" bodies are
# otherwise valid for one operation (a trust entry, a missing or stolen report, a
# custody), so that their NUL would reach the database.
VALID_DID = "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2"
HOSTILE_BODIES = {
    "not-utf-8": b'{"did": "\xff\xfe\xc0"}',
    "nul-in-string": b'{"did": "did:key:\\u0000"}',
    "nul-in-accepted-fields": json.dumps(
        {"did": VALID_DID, "role": "police", "note": "a\u0000", "brand": ""}
    ).encode(),
    "nul-in-report": json.dumps(
        {"place": "a\u0000", "description": "b\u0000"}
    ).encode(),
    "nul-in-custody": json.dumps(
        {"custodian": VALID_DID, "purpose": "repair", "note": "a\u0000"}
    ).encode(),
    "nul-in-stolen-report": json.dumps(
        {"reported_at": "2026-11-23T11:00:00Z", "police_report_number": "P\u0000"}
    ).encode(),
    "nul-raw": b'{"a\x00": 1}',
    "huge-integer": b'{"did": 1' + b"0" * 5000 + b"}",
    "deep-array": b"[" * 20000 + b"]" * 20000,
    "deep-object": b'{"a":' * 6000 + b"1" + b"}" * 6000,
    "nan": b'{"did": NaN, "n": Infinity}',
    "lone-surrogate": b'{"did": "\\ud800"}',
    "duplicate-members": b'{"did": "did:example:a", "did": "did:example:b"}',
    "empty": b"",
    "null": b"null",
    "not-json": b"\x00\x01\x02",
}
HOSTILE_PARAMETERS = ["%00", "a%00b", "%FF%FE", "9" * 40, "-" + "9" * 25, "1e309"]


def _check_answer(response: Any, documented: dict[str, Any], *, request: str) -> None:
    assert response.status_code < 500, f"{request}: {response.text}"
    assert str(response.status_code) in documented, f"{request}: {response.text}"
    media_type = response.headers.get("content-type", "")
    body = response.json() if "json" in media_type else None
    _assert_documented_problem(response.status_code, media_type, body, request=request)


def _send_hostile_bodies(
    client: TestClient, tokens: dict[str, str], item_id: str, path: str, method: str
) -> None:
    url = re.sub(r"\{[a-z_]+\}", "1", path.replace("{item_id}", item_id))
    documented = SPEC["paths"][path][method.lower()]["responses"]
    for caller in ("owner", "operator"):
        for name, body in HOSTILE_BODIES.items():
            response = client.request(
                method,
                url,
                content=body,
                headers={"Content-Type": "application/json", "If-Match": "*"}
                | _headers(tokens, caller),
            )
            _check_answer(response, documented, request=f"{method} {url} {name}")


def _send_hostile_parameters(
    client: TestClient, tokens: dict[str, str], path: str, method: str
) -> None:
    operation = SPEC["paths"][path][method.lower()]
    query_names = [
        p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
    ]
    for value in HOSTILE_PARAMETERS:
        url = re.sub(r"\{[a-z_]+\}", value, path)
        if query_names:
            url += "?" + "&".join(f"{name}={value}" for name in query_names)
        for caller in ("owner", "operator"):
            response = client.request(method, url, headers=_headers(tokens, caller))
            _check_answer(response, operation["responses"], request=f"{method} {url}")


@pytest.mark.parametrize(
    ("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS]
)
def test_operation_answers_only_documented_responses(
    fuzz_app: FastAPI,
    fuzz_client: TestClient,
    tokens: dict[str, str],
    item_id: str,
    path: str,
    method: str,
) -> None:
    # One test per operation and store: the migrated database, tokens and item
    # are the expensive part, so the three probes share them.
    _fuzz(fuzz_app, tokens, item_id, path, method)
    if "requestBody" in SPEC["paths"][path][method.lower()]:
        _send_hostile_bodies(fuzz_client, tokens, item_id, path, method)
    _send_hostile_parameters(fuzz_client, tokens, path, method)


def test_every_operation_of_the_document_is_fuzzed() -> None:
    assert len(OPERATIONS) == sum(len(item) for item in SPEC["paths"].values())
