"""Missing, stolen, recovered and the public stolen-check, on SQLite and
PostgreSQL: each rule with its code."""

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from did_vault import Opening, Receipt, check_registered_before, verify_receipt
from registry import log
from registry.models import TrustRole
from registry.ratelimit import RateLimiter, bucket_key
from registry.request_state import RateLimitBucket

from .conftest import TestClient  # type: ignore[attr-defined]
from .lifecycle_support import (
    GTIN,
    bearer,
    build_app,
    make_acceptance,
    make_offer,
    register,
    trust,
)

SERIAL = "SN-STOLEN-1"
REPORT = {
    "reported_at": "2026-11-23T11:00:00Z",
    "police_report_number": "PR-2026-0042",
    "place": "Main station bike rack",
    "description": "Cut lock",
}


@pytest.fixture
def app(make_app, registry_engine, identity, clock):
    return build_app(make_app, registry_engine, identity, clock)


@pytest.fixture
def owner(make_holder):
    return make_holder(21)


@pytest.fixture
def police(make_holder, registry_engine):
    holder = make_holder(22)
    trust(registry_engine, holder.did, TrustRole.POLICE)
    return holder


@pytest.fixture
def owner_token(client, owner, authenticate):
    return authenticate(client, owner)


@pytest.fixture
def police_token(client, police, authenticate):
    return authenticate(client, police)


@pytest.fixture
def registered(client, owner_token):
    return register(client, owner_token, SERIAL)


def _etag(client: Any, token: str, item_id: str) -> str:
    response = client.get(f"/v1/items/{item_id}/state", headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.headers["ETag"])


def _missing(client: Any, token: str, item_id: str, etag: str | None = None) -> Any:
    headers = bearer(token, **({"If-Match": etag} if etag else {}))
    return client.post(f"/v1/items/{item_id}/missing", json={}, headers=headers)


def _stolen(client: Any, token: str, item_id: str, etag: str) -> Any:
    return client.post(
        f"/v1/items/{item_id}/stolen",
        json=REPORT,
        headers=bearer(token, **{"If-Match": etag}),
    )


def _check(client: Any, **body: Any) -> Any:
    return client.post("/v1/stolen-check", json=body)


def test_missing_then_stolen_then_recovered(
    client, owner_token, police_token, registered
):
    item_id = registered["item"]["id"]
    assert _check(client, gtin=GTIN, serial=SERIAL).json() == {"status": "clear"}

    missing = _missing(
        client, owner_token, item_id, _etag(client, owner_token, item_id)
    )
    assert missing.status_code == 200, missing.text
    assert missing.json()["condition"] == "missing"
    # missing is not public
    assert _check(client, gtin=GTIN, serial=SERIAL).json() == {"status": "clear"}

    stolen = _stolen(client, police_token, item_id, missing.headers["ETag"])
    assert stolen.status_code == 200, stolen.text
    assert stolen.json()["condition"] == "stolen"
    assert stolen.json()["police_report_number"] == REPORT["police_report_number"]
    answer = _check(client, gtin=GTIN, serial=SERIAL)
    assert answer.json() == {"status": "reported_stolen"}
    link = f"https://id.gs1.org/01/{GTIN}/21/{SERIAL}"
    assert _check(client, digital_link=link).json() == {"status": "reported_stolen"}

    recovered = client.post(
        f"/v1/items/{item_id}/recovered",
        headers=bearer(owner_token, **{"If-Match": stolen.headers["ETag"]}),
    )
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["condition"] == "clear"
    assert _check(client, gtin=GTIN, serial=SERIAL).json() == {"status": "clear"}


def test_stolen_check_answers_unknown_for_unregistered_items(client):
    assert _check(client, gtin=GTIN, serial="NEVER-SEEN").json() == {
        "status": "unknown"
    }


def test_stolen_check_refuses_bad_input(client, assert_problem):
    assert_problem(_check(client, gtin=GTIN), status=400, code="request.invalid")
    bad = _check(client, gtin="09520123456789", serial="X1")
    assert bad.status_code in (400, 422)


def test_confirm_by_an_untrusted_did_is_forbidden(
    client, owner_token, registered, make_holder, authenticate, assert_problem
):
    item_id = registered["item"]["id"]
    stranger = authenticate(client, make_holder(23))
    assert_problem(
        _stolen(client, stranger, item_id, "*"), status=403, code="auth.forbidden"
    )
    # the owner is no confirmer either
    assert_problem(
        _stolen(client, owner_token, item_id, "*"), status=403, code="auth.forbidden"
    )


def test_missing_or_stolen_item_cannot_be_transferred(
    client,
    owner,
    owner_token,
    police_token,
    registered,
    make_holder,
    authenticate,
    assert_problem,
):
    item_id, item_did = registered["item"]["id"], registered["item"]["did"]
    buyer = make_holder(24)
    buyer_token = authenticate(client, buyer)
    offer = make_offer(owner, item_did=item_did, buyer=buyer.did)
    offer_id = client.post(
        "/v1/transfers/offers", json={"offer": offer}, headers=bearer(owner_token)
    ).json()["id"]

    missing = _missing(client, owner_token, item_id, "*")
    assert missing.status_code == 200
    accept = client.post(
        f"/v1/transfers/offers/{offer_id}/accept",
        json={"acceptance": make_acceptance(buyer, offer)},
        headers=bearer(buyer_token),
    )
    assert_problem(accept, status=409, code="item.reported-missing")
    new_offer = make_offer(owner, item_did=item_did, buyer=buyer.did)
    assert_problem(
        client.post(
            "/v1/transfers/offers",
            json={"offer": new_offer},
            headers=bearer(owner_token),
        ),
        status=409,
        code="item.reported-missing",
    )

    assert _stolen(client, police_token, item_id, "*").status_code == 200
    accept = client.post(
        f"/v1/transfers/offers/{offer_id}/accept",
        json={"acceptance": make_acceptance(buyer, offer)},
        headers=bearer(buyer_token),
    )
    assert_problem(accept, status=409, code="item.reported-stolen")


def test_reporting_twice_is_a_state_conflict(
    client, owner_token, police_token, registered, assert_problem
):
    item_id = registered["item"]["id"]
    assert _missing(client, owner_token, item_id, "*").status_code == 200
    assert_problem(
        _missing(client, owner_token, item_id, "*"),
        status=409,
        code="report.state-invalid",
    )
    assert _stolen(client, police_token, item_id, "*").status_code == 200
    assert_problem(
        _stolen(client, police_token, item_id, "*"),
        status=409,
        code="report.state-invalid",
    )


def test_recovered_when_nothing_is_reported_is_a_state_conflict(
    client, owner_token, registered, assert_problem
):
    item_id = registered["item"]["id"]
    assert_problem(
        client.post(
            f"/v1/items/{item_id}/recovered",
            headers=bearer(owner_token, **{"If-Match": "*"}),
        ),
        status=409,
        code="report.state-invalid",
    )


@pytest.mark.parametrize("action", ["missing", "stolen", "recovered"])
def test_a_malformed_item_id_is_a_documented_request_problem(
    client, app, owner_token, assert_problem, action
):
    # Found by the API fuzzer: /recovered answered an undocumented 400.
    response = client.post(
        f"/v1/items/not%20an%20id/{action}",
        json={},
        headers=bearer(owner_token, **{"If-Match": "*"}),
    )
    assert_problem(response, status=400, code="request.invalid")
    documented = app.openapi()["paths"][f"/v1/items/{{item_id}}/{action}"]["post"]
    assert "400" in documented["responses"]


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("missing", "place", "Main\x00Street"),
        ("missing", "place", "Main\nStreet"),
        ("missing", "description", "red\x00bike"),
        ("stolen", "police_report_number", "PR\x00-1"),
        ("stolen", "place", "Main\x00Street"),
        ("stolen", "description", "bell\x07"),
    ],
)
def test_a_report_with_a_control_character_is_a_request_problem(
    client, owner_token, police_token, registered, assert_problem, action, field, value
):
    # Found by the API fuzzer's probes: a NUL answered 500 on PostgreSQL.
    item_id = registered["item"]["id"]
    token = owner_token if action == "missing" else police_token
    body = {**({} if action == "missing" else REPORT), field: value}
    response = client.post(
        f"/v1/items/{item_id}/{action}",
        json=body,
        headers=bearer(token, **{"If-Match": "*"}),
    )
    assert_problem(response, status=400, code="request.invalid")
    state = client.get(f"/v1/items/{item_id}/state", headers=bearer(owner_token))
    assert state.json()["condition"] == "clear"


def test_a_report_description_may_span_lines(client, owner_token, registered):
    item_id = registered["item"]["id"]
    response = client.post(
        f"/v1/items/{item_id}/missing",
        json={"description": "red bike\n\twith a basket"},
        headers=bearer(owner_token, **{"If-Match": "*"}),
    )
    assert response.status_code == 200, response.text


def test_changes_need_a_current_etag(client, owner_token, registered, assert_problem):
    item_id = registered["item"]["id"]
    old = _etag(client, owner_token, item_id)
    assert_problem(
        _missing(client, owner_token, item_id), status=428, code="precondition.required"
    )
    assert _missing(client, owner_token, item_id, old).status_code == 200
    assert_problem(
        client.post(
            f"/v1/items/{item_id}/recovered",
            headers=bearer(owner_token, **{"If-Match": old}),
        ),
        status=412,
        code="precondition.failed",
    )


def test_another_owner_cannot_report_or_see_the_item(
    client, registered, make_holder, authenticate, assert_problem
):
    item_id = registered["item"]["id"]
    other = authenticate(client, make_holder(25))
    assert_problem(
        _missing(client, other, item_id, "*"), status=404, code="item.not-found"
    )
    assert_problem(
        client.get(f"/v1/items/{item_id}/state", headers=bearer(other)),
        status=404,
        code="item.not-found",
    )


def test_stolen_check_is_rate_limited_per_client(app, client, clock, assert_problem):
    app.state.stolen_check_limiter = RateLimiter(capacity=2, refill_per_second=0.5)
    for _ in range(2):
        assert _check(client, gtin=GTIN, serial="X1").status_code == 200
    limited = _check(client, gtin=GTIN, serial="X1")
    assert_problem(limited, status=429, code="rate.limited")
    assert limited.headers["Retry-After"] == "2"
    clock.advance(2)
    assert _check(client, gtin=GTIN, serial="X1").status_code == 200


def test_the_rate_limit_is_shared_by_every_worker(
    make_app, registry_engine, identity, clock, assert_problem
):
    # two registry apps over one database: two workers behind a balancer
    workers = [build_app(make_app, registry_engine, identity, clock) for _ in range(2)]
    for worker in workers:
        worker.state.stolen_check_limiter = RateLimiter(
            capacity=2, refill_per_second=0.5
        )
    with TestClient(workers[0]) as one, TestClient(workers[1]) as two:
        assert _check(one, gtin=GTIN, serial="X1").status_code == 200
        assert _check(two, gtin=GTIN, serial="X1").status_code == 200
        limited = _check(one, gtin=GTIN, serial="X1")
        assert_problem(limited, status=429, code="rate.limited")
        assert limited.headers["Retry-After"] == "2"
        clock.advance(2)
        assert _check(two, gtin=GTIN, serial="X1").status_code == 200
        assert _check(one, gtin=GTIN, serial="X1").status_code == 429


def test_the_rate_limit_stores_no_client_address(app, client, registry_engine):
    assert _check(client, gtin=GTIN, serial="X1").status_code == 200
    with Session(registry_engine) as session:
        keys = session.exec(select(RateLimitBucket.key)).all()
    # the test client's address is "testclient": stored is the SHA-256 of its keyed
    # pseudonym, which neither the address nor its plain hash reveal
    pseudonym = app.state.serial_key.pseudonym("rate-limit", "testclient")
    assert keys == [bucket_key(pseudonym)]
    assert keys[0] != hashlib.sha256(b"testclient").hexdigest()
    assert "testclient" not in keys[0]


def test_registry_client_drives_the_stolen_flow(
    client, owner_token, police_token, registered
):
    from registry.client import RegistryClient, RegistryProblem

    calls = RegistryClient(client)
    item_id = registered["item"]["id"]
    assert calls.report_missing(owner_token, item_id, {}).condition == "missing"
    report = {"reported_at": "2026-11-23T11:00:00Z", "police_report_number": "P-9"}
    assert calls.confirm_stolen(police_token, item_id, report).condition == "stolen"
    assert calls.check_stolen(gtin=GTIN, serial=SERIAL).status == "reported_stolen"
    assert calls.mark_recovered(owner_token, item_id).condition == "clear"
    with pytest.raises(RegistryProblem) as raised:
        calls.mark_recovered(owner_token, item_id)
    assert raised.value.code == "report.state-invalid"


def _bucket_keys(engine: Any) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(RateLimitBucket.key)).all())


def _pseudonym(app: Any, address: str) -> str:
    return bucket_key(app.state.serial_key.pseudonym("rate-limit", address))


@pytest.mark.parametrize("peer", ["10.0.0.7", "192.168.0.9"])
def test_a_trusted_proxy_forwards_the_client_address(
    make_app, registry_engine, identity, clock, peer
):
    app = build_app(
        make_app,
        registry_engine,
        identity,
        clock,
        trusted_proxies="10.0.0.7, 192.168.0.0/24",
    )
    with TestClient(
        app, base_url="http://127.0.0.1", client=(peer, 40000)
    ) as behind_proxy:
        response = behind_proxy.post(
            "/v1/stolen-check",
            json={"gtin": GTIN, "serial": "X1"},
            headers={"X-Forwarded-For": "198.51.100.23"},
        )
    assert response.status_code == 200
    assert _bucket_keys(registry_engine) == [_pseudonym(app, "198.51.100.23")]


def test_a_forwarded_address_from_anyone_else_is_ignored(
    make_app, registry_engine, identity, clock
):
    app = build_app(
        make_app, registry_engine, identity, clock, trusted_proxies="10.0.0.7"
    )
    with TestClient(
        app, base_url="http://127.0.0.1", client=("203.0.113.5", 40000)
    ) as direct:
        response = direct.post(
            "/v1/stolen-check",
            json={"gtin": GTIN, "serial": "X1"},
            headers={"X-Forwarded-For": "198.51.100.23"},
        )
    assert response.status_code == 200
    assert _bucket_keys(registry_engine) == [_pseudonym(app, "203.0.113.5")]


def test_without_trusted_proxies_the_peer_is_the_client(app, registry_engine):
    with TestClient(
        app, base_url="http://127.0.0.1", client=("10.0.0.7", 40000)
    ) as peer:
        peer.post(
            "/v1/stolen-check",
            json={"gtin": GTIN, "serial": "X1"},
            headers={"X-Forwarded-For": "198.51.100.23"},
        )
    assert _bucket_keys(registry_engine) == [_pseudonym(app, "10.0.0.7")]


def test_each_report_answers_with_its_log_receipt_and_opening(
    client, owner_token, police_token, registered, identity, clock
):
    item_id = registered["item"]["id"]
    keys = [log.note_key_of(identity)]
    missing = _missing(client, owner_token, item_id, "*")
    stolen = _stolen(client, police_token, item_id, missing.headers["ETag"])
    recovered = client.post(
        f"/v1/items/{item_id}/recovered",
        headers=bearer(owner_token, **{"If-Match": stolen.headers["ETag"]}),
    )
    indexes = []
    for kind, answer in (
        ("missing", missing),
        ("stolen", stolen),
        ("recovered", recovered),
    ):
        assert answer.status_code == 200, answer.text
        body = answer.json()
        receipt = Receipt.from_json(body["receipt"])
        opening = Opening.from_json(body["opening"])
        verified = verify_receipt(receipt, registry_keys=keys, opening=opening)
        assert opening.event == {
            "type": kind,
            "time": verified.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "itemId": item_id,
        }
        # the caller can prove offline that the registry had the report by then
        check_registered_before(
            receipt,
            clock() + timedelta(seconds=1),
            registry_keys=keys,
            opening=opening,
        )
        indexes.append(receipt.leaf_index)
    assert indexes == sorted(set(indexes))
    assert len(indexes) == 3
    # the state read back carries no receipt: only the change's answer does
    state = client.get(f"/v1/items/{item_id}/state", headers=bearer(owner_token))
    assert state.json()["receipt"] is None
    assert state.json()["opening"] is None
