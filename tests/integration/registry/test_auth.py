"""DID authentication end to end, on SQLite and PostgreSQL: challenge → signed
presentation → access token, and every way it is refused (401 with its code)."""

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from did_vault import KeyAlgorithm, PrivateKey
from registry.models import AuthChallenge


def _challenge(client, did):
    response = client.post("/v1/auth/challenge", json={"did": did})
    assert response.status_code == 201, response.text
    return response.json()


def _used_challenges(engine: Engine) -> int:
    with Session(engine) as session:
        statement = select(func.count()).where(AuthChallenge.used_at.is_not(None))
        return int(session.execute(statement).scalar_one())


def test_challenge_answered_returns_token_bound_to_did(client, holder, identity):
    issued = _challenge(client, holder.did)
    assert issued["audience"] == identity.did
    answer = holder.answer(issued["challenge"], domain=issued["audience"])

    response = client.post(
        "/v1/auth/token",
        json={"challenge": issued["challenge"], "presentation": answer},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["did"] == holder.did
    me = client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["did"] == holder.did
    assert me.json()["audience"] == identity.did
    assert me.json()["roles"] == []


def test_replayed_challenge_is_refused(client, holder, registry_engine, assert_problem):
    issued = _challenge(client, holder.did)
    answer = holder.answer(issued["challenge"], domain=issued["audience"])
    body = {"challenge": issued["challenge"], "presentation": answer}
    assert client.post("/v1/auth/token", json=body).status_code == 200

    replay = client.post("/v1/auth/token", json=body)

    assert_problem(replay, status=401, code="auth.challenge-replayed")
    assert replay.headers["www-authenticate"] == "Bearer"
    assert _used_challenges(registry_engine) == 1


def test_expired_challenge_is_refused_and_not_consumed(
    client, holder, clock, registry_engine, assert_problem
):
    issued = _challenge(client, holder.did)
    clock.advance(121)
    answer = holder.answer(
        issued["challenge"], domain=issued["audience"], now=clock.now
    )

    response = client.post(
        "/v1/auth/token",
        json={"challenge": issued["challenge"], "presentation": answer},
    )

    assert_problem(response, status=401, code="auth.challenge-expired")
    assert _used_challenges(registry_engine) == 0


def test_wrong_audience_is_refused(client, holder, registry_engine, assert_problem):
    issued = _challenge(client, holder.did)
    answer = holder.answer(issued["challenge"], domain="did:web:other.example")

    response = client.post(
        "/v1/auth/token",
        json={"challenge": issued["challenge"], "presentation": answer},
    )

    assert_problem(response, status=401, code="auth.audience-invalid")
    assert _used_challenges(registry_engine) == 0


def test_key_outside_authentication_relationship_is_refused(
    client, web_dids, registry_engine, assert_problem
):
    key = PrivateKey(KeyAlgorithm.ED25519, bytes([9]) * 32)
    issuer_only = web_dids.add(key, name="brand", relationships=("assertionMethod",))
    issued = _challenge(client, issuer_only.did)
    answer = issuer_only.answer(issued["challenge"], domain=issued["audience"])

    response = client.post(
        "/v1/auth/token",
        json={"challenge": issued["challenge"], "presentation": answer},
    )

    assert_problem(response, status=401, code="auth.relationship-invalid")
    assert _used_challenges(registry_engine) == 0


def test_unknown_challenge_is_refused(client, holder, assert_problem):
    answer = holder.answer("x" * 43, domain="did:web:registry.test")

    response = client.post(
        "/v1/auth/token", json={"challenge": "x" * 43, "presentation": answer}
    )

    assert_problem(response, status=401, code="auth.challenge-unknown")


def test_answer_signed_by_another_did_is_refused(
    client, holder, make_holder, assert_problem
):
    issued = _challenge(client, holder.did)
    other = make_holder(8)
    answer = other.answer(issued["challenge"], domain=issued["audience"])

    response = client.post(
        "/v1/auth/token",
        json={"challenge": issued["challenge"], "presentation": answer},
    )

    assert_problem(response, status=401, code="auth.proof-invalid")


def test_answer_for_another_challenge_is_refused(client, holder, assert_problem):
    first = _challenge(client, holder.did)
    second = _challenge(client, holder.did)
    answer = holder.answer(second["challenge"], domain=second["audience"])

    response = client.post(
        "/v1/auth/token",
        json={"challenge": first["challenge"], "presentation": answer},
    )

    assert_problem(response, status=401, code="auth.proof-invalid")


def test_tampered_answer_is_refused(client, holder, assert_problem):
    issued = _challenge(client, holder.did)
    answer = holder.answer(issued["challenge"], domain=issued["audience"])
    answer["id"] = "urn:uuid:00000000-0000-0000-0000-000000000000"

    response = client.post(
        "/v1/auth/token",
        json={"challenge": issued["challenge"], "presentation": answer},
    )

    assert_problem(response, status=401, code="auth.proof-invalid")


def test_challenge_for_non_did_is_refused_and_nothing_stored(
    client, registry_engine, assert_problem
):
    response = client.post("/v1/auth/challenge", json={"did": "not-a-did:at-all"})

    assert_problem(response, status=400, code="did.invalid")
    with Session(registry_engine) as session:
        count = session.execute(select(func.count()).select_from(AuthChallenge))
        assert count.scalar_one() == 0


def test_expired_token_is_refused(client, holder, clock, authenticate, assert_problem):
    token = authenticate(client, holder)
    clock.advance(601)

    response = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, status=401, code="auth.token-expired")


def test_forged_token_is_refused(client, holder, authenticate, assert_problem):
    token = authenticate(client, holder)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{'A' * len(signature)}"

    response = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})

    assert_problem(response, status=401, code="auth.token-invalid")


def test_missing_token_is_refused(client, assert_problem):
    assert_problem(client.get("/v1/auth/me"), status=401, code="auth.required")


def test_token_of_another_scheme_is_refused(client, assert_problem):
    response = client.get("/v1/auth/me", headers={"Authorization": "Basic Zm9vOmJhcg"})
    assert_problem(response, status=401, code="auth.token-invalid")
