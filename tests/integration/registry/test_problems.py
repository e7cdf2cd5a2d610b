"""Every error is an RFC 9457 problem with a stable code, on every store."""

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlmodel import Session

from registry.models import AuthChallenge


def _challenges(engine) -> int:
    with Session(engine) as session:
        count = session.execute(select(func.count()).select_from(AuthChallenge))
        return int(count.scalar_one())


def test_unknown_route_is_a_problem(client, assert_problem):
    body = assert_problem(
        client.get("/v1/no-such-thing"), status=404, code="request.not-found"
    )
    assert body["instance"] == "/v1/no-such-thing"
    assert body["title"] == "No such resource"


def test_wrong_method_is_a_problem(client, assert_problem):
    assert_problem(
        client.get("/v1/auth/token"), status=405, code="request.method-not-allowed"
    )


def test_validation_error_lists_errors_without_echoing_input(
    client, registry_engine, assert_problem
):
    response = client.post("/v1/auth/challenge", json={"did": "x", "secret": "hunter2"})

    body = assert_problem(response, status=400, code="request.invalid")
    assert {tuple(err["loc"]) for err in body["errors"]} == {
        ("body", "did"),
        ("body", "secret"),
    }
    assert "hunter2" not in response.text
    assert _challenges(registry_engine) == 0


def test_body_that_is_not_json_is_a_problem(client, assert_problem):
    response = client.post(
        "/v1/auth/challenge",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, status=400, code="request.invalid")


def test_declared_oversize_body_is_refused_and_nothing_stored(
    client, registry_engine, assert_problem
):
    padding = "x" * 5000
    response = client.post("/v1/auth/challenge", json={"did": f"did:example:{padding}"})

    assert_problem(response, status=413, code="request.too-large")
    assert _challenges(registry_engine) == 0


def test_streamed_oversize_body_is_refused(client, registry_engine, assert_problem):
    def chunks():
        yield b'{"did": "did:example:'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    response = client.post(
        "/v1/auth/challenge",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )

    assert_problem(response, status=413, code="request.too-large")
    assert _challenges(registry_engine) == 0


def test_unexpected_exception_is_a_generic_problem_with_request_id(
    app, client, assert_problem, caplog
):
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(router)

    response = client.get("/boom", headers={"X-Request-ID": "req-12345678"})

    body = assert_problem(response, status=500, code="internal")
    assert body["detail"] is None
    assert "secret internals" not in response.text
    assert response.headers["x-request-id"] == "req-12345678"
    logged = [r for r in caplog.records if r.name == "registry.errors"]
    assert logged
    assert logged[0].exc_info is not None


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz")
    assert len(response.headers["x-request-id"]) == 32


def test_malformed_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id!"})
    assert response.headers["x-request-id"] != "bad id!"
