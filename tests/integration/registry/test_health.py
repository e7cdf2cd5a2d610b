"""Liveness, readiness (503 until migrated), metrics and the public DID documents."""

from fastapi.testclient import TestClient

from registry import deps
from registry.main import create_app


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_is_503_until_migrated(blank_engine, settings, assert_problem):
    app = create_app(settings)
    app.dependency_overrides[deps.get_engine] = lambda: blank_engine
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = client.get("/readyz")
    assert_problem(response, status=503, code="db.not-migrated")


def test_metrics_count_requests_by_route_template_only(client, holder):
    client.post("/v1/auth/challenge", json={"did": holder.did})
    client.get("/items/some-item/did.json")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'route="/v1/auth/challenge",status="201"' in text
    assert 'route="/items/{item_id}/did.json",status="404"' in text
    assert 'registry_problems_total{code="item.not-found"} 1' in text
    assert holder.did not in text
    assert "some-item" not in text


def test_registry_publishes_its_did_document(client, identity):
    response = client.get("/.well-known/did.json")

    assert response.status_code == 200
    document = response.json()
    assert document["id"] == "did:web:registry.test"
    assert document["assertionMethod"] == [identity.verification_method]


def test_item_did_document_is_not_found_before_items_exist(client, assert_problem):
    assert_problem(
        client.get("/items/abc123/did.json"), status=404, code="item.not-found"
    )


def test_item_id_with_bad_characters_is_invalid(client, assert_problem):
    assert_problem(
        client.get("/items/a%20b/did.json"), status=400, code="request.invalid"
    )
