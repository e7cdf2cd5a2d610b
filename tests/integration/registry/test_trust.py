"""The trust list over the operator-only API, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from registry import crud, trust
from registry.models import TrustEntryCreate, TrustRole


@pytest.fixture
def operator_token(client, registry_engine, make_holder, authenticate):
    operator = make_holder(1)
    with Session(registry_engine) as session:
        trust.add_entry(
            session=session,
            entry_in=TrustEntryCreate(did=operator.did, role=TrustRole.OPERATOR),
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
        session.commit()
    return authenticate(client, operator)


def _entries(engine) -> int:
    with Session(engine) as session:
        return crud.count_trust_entries(session=session)


def test_operator_adds_lists_and_removes_entries(client, operator_token, make_holder):
    headers = {"Authorization": f"Bearer {operator_token}"}
    brand = make_holder(2)

    added = client.post(
        "/v1/trust",
        json={"did": brand.did, "role": "brand-issuer", "brand": "Brand  X"},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    assert added.json()["brand"] == "Brand X"

    listed = client.get("/v1/trust", params={"role": "brand-issuer"}, headers=headers)
    assert listed.json()["count"] == 1
    assert listed.json()["data"][0]["did"] == brand.did

    removed = client.delete(f"/v1/trust/{added.json()['id']}", headers=headers)
    assert removed.status_code == 204
    assert client.get("/v1/trust", headers=headers).json()["count"] == 1  # operator


def test_operator_sees_own_role(client, operator_token):
    me = client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {operator_token}"}
    )
    assert me.json()["roles"] == ["operator"]


def test_non_operator_is_forbidden_and_nothing_stored(
    client, registry_engine, holder, authenticate, assert_problem
):
    token = authenticate(client, holder)
    response = client.post(
        "/v1/trust",
        json={"did": holder.did, "role": "operator"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert_problem(response, status=403, code="auth.forbidden")
    assert _entries(registry_engine) == 0


def test_anonymous_is_refused(client, assert_problem):
    assert_problem(client.get("/v1/trust"), status=401, code="auth.required")


@pytest.mark.parametrize(
    ("entry", "status", "code"),
    [
        ({"did": "did:example:a", "role": "brand-issuer"}, 400, "trust.invalid"),
        (
            {"did": "did:example:a", "role": "police", "brand": "X"},
            400,
            "trust.invalid",
        ),
        ({"did": "nope", "role": "police"}, 400, "did.invalid"),
        ({"did": "did:example:a", "role": "king"}, 400, "request.invalid"),
    ],
    ids=["brand-missing", "brand-on-police", "not-a-did", "unknown-role"],
)
def test_invalid_entries_are_refused_and_nothing_stored(
    client, registry_engine, operator_token, assert_problem, entry, status, code
):
    response = client.post(
        "/v1/trust", json=entry, headers={"Authorization": f"Bearer {operator_token}"}
    )

    assert_problem(response, status=status, code=code)
    assert _entries(registry_engine) == 1


def test_duplicate_entry_is_a_conflict(client, operator_token, assert_problem):
    headers = {"Authorization": f"Bearer {operator_token}"}
    entry = {"did": "did:example:police", "role": "police"}
    assert client.post("/v1/trust", json=entry, headers=headers).status_code == 201

    response = client.post("/v1/trust", json=entry, headers=headers)

    assert_problem(response, status=409, code="trust.exists")


def test_removing_unknown_entry_is_not_found(client, operator_token, assert_problem):
    response = client.delete(
        "/v1/trust/9999", headers={"Authorization": f"Bearer {operator_token}"}
    )
    assert_problem(response, status=404, code="trust.not-found")


@pytest.mark.parametrize("entry_id", [2**31, 2**63, 10**30, 0, -1])
def test_removing_an_entry_id_outside_the_column_is_a_request_problem(
    client, operator_token, registry_engine, assert_problem, entry_id
):
    # Found by the API fuzzer: an id past the integer column answered 500
    # (SQLite OverflowError; PostgreSQL "integer out of range").
    before = _entries(registry_engine)
    response = client.delete(
        f"/v1/trust/{entry_id}", headers={"Authorization": f"Bearer {operator_token}"}
    )
    assert_problem(response, status=400, code="request.invalid")
    assert _entries(registry_engine) == before


@pytest.mark.parametrize(
    ("role", "field", "value"),
    [
        ("brand-issuer", "brand", "Velo\x00"),
        ("brand-issuer", "brand", "Velo\x1bBikes"),
        ("police", "note", "city\x00police"),
        ("police", "note", "bell\x07"),
    ],
)
def test_control_characters_in_brand_or_note_are_refused_and_nothing_stored(
    client,
    operator_token,
    registry_engine,
    make_holder,
    assert_problem,
    role,
    field,
    value,
):
    # Found by the API fuzzer's hostile inputs: a NUL answered 500 on PostgreSQL
    # (text cannot hold it) and was stored on SQLite.
    before = _entries(registry_engine)
    entry = {"did": make_holder(2).did, "role": role, field: value}
    response = client.post(
        "/v1/trust", json=entry, headers={"Authorization": f"Bearer {operator_token}"}
    )
    assert_problem(response, status=400, code="trust.invalid")
    assert _entries(registry_engine) == before


def test_a_note_may_span_lines(client, operator_token, make_holder):
    response = client.post(
        "/v1/trust",
        json={"did": make_holder(2).did, "role": "police", "note": "line 1\n\tline 2"},
        headers={"Authorization": f"Bearer {operator_token}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["note"] == "line 1\n\tline 2"


def test_trust_questions(registry_engine):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(registry_engine) as session:
        for entry in (
            TrustEntryCreate(
                did="did:example:b", role=TrustRole.BRAND_ISSUER, brand="X"
            ),
            TrustEntryCreate(did="did:example:p", role=TrustRole.POLICE),
        ):
            trust.add_entry(session=session, entry_in=entry, now=now)
        session.commit()
        assert trust.may_issue_for_brand(
            session=session, did="did:example:b", brand="X"
        )
        assert not trust.may_issue_for_brand(
            session=session, did="did:example:b", brand="Y"
        )
        assert trust.may_confirm_stolen(session=session, did="did:example:p")
        assert not trust.may_confirm_stolen(session=session, did="did:example:b")
