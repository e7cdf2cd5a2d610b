"""Hosted status lists: served, signed, allocated without collisions, revocable."""

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from did_vault import (
    SDJWT,
    BitstringStatusList,
    TokenStatus,
    verify_credential,
    verify_status_list_token,
)
from registry import lifecycle, status
from registry.errors import OwnershipNotFoundError
from registry.models import MissingCreate, StatusListKind

from . import test_items as _items
from .test_items import (
    _register,
    _resolver_with_registry,
    brand_credential,
    item_subject,
)

# The registration fixtures, shared with test_items.py.
app = _items.app
brand = _items.brand
owner_token = _items.owner_token
presented = _items.presented


def _register_serials(
    client, token, brand_, serials, presented_
) -> list[dict[str, Any]]:
    bodies = []
    for serial in serials:
        response = _register(
            client,
            token,
            presented_(brand_credential(brand_, item_subject(serial=serial))),
        )
        assert response.status_code == 201, response.text
        bodies.append(response.json())
    return bodies


def test_unknown_list_is_not_found(client, assert_problem):
    assert_problem(
        client.get("/v1/status/bitstring/7"), status=404, code="status.list-not-found"
    )
    assert_problem(
        client.get("/v1/status/token/7"), status=404, code="status.list-not-found"
    )


def test_entries_are_distinct_and_lists_are_signed(
    app, client, brand, owner_token, identity, web_dids, clock, presented
):
    bodies = _register_serials(
        client, owner_token, brand, ["A-1", "A-2", "A-3"], presented
    )
    entries = [b["credential"]["credentialStatus"][0] for b in bodies]
    assert {e["statusPurpose"] for e in entries} == {"revocation"}
    indexes = {int(e["statusListIndex"]) for e in entries}
    assert len(indexes) == 3
    assert {e["statusListCredential"] for e in entries} == {
        "https://registry.test/v1/status/bitstring/1"
    }

    resolver = _resolver_with_registry(app, identity, web_dids)
    response = client.get("/v1/status/bitstring/1")
    assert response.status_code == 200
    listed = verify_credential(response.json(), resolver=resolver, now=clock())
    assert listed.credential.issuer_id == identity.did
    bits = BitstringStatusList.decode(
        response.json()["credentialSubject"]["encodedList"]
    )
    assert bits.count_nonzero() == 0

    token = client.get("/v1/status/token/1")
    assert token.headers["content-type"] == "application/statuslist+jwt"
    verified = verify_status_list_token(
        token.text,
        key=identity.key.public_key,
        expected_sub="https://registry.test/v1/status/token/1",
        now=clock(),
    )
    assert verified.status_list.count_nonzero() == 0


def test_revocation_shows_in_both_lists_after_revision(
    client, brand, owner_token, registry_engine, identity, clock, presented
):
    bodies = _register_serials(client, owner_token, brand, ["B-1", "B-2"], presented)
    client.get("/v1/status/bitstring/1")  # rendered and cached before the change
    revoked = bodies[0]
    with Session(registry_engine) as db:
        status.revoke(
            session=db, ownership_id=revoked["item"]["ownership_id"], now=clock()
        )
        status.revoke(
            session=db, ownership_id=revoked["item"]["ownership_id"], now=clock()
        )
        db.commit()

    encoded = client.get("/v1/status/bitstring/1").json()["credentialSubject"][
        "encodedList"
    ]
    bits = BitstringStatusList.decode(encoded)
    index = int(revoked["credential"]["credentialStatus"][0]["statusListIndex"])
    other = int(bodies[1]["credential"]["credentialStatus"][0]["statusListIndex"])
    assert bits.get(index) == 1
    assert bits.get(other) == 0
    assert bits.count_nonzero() == 1

    token = verify_status_list_token(
        client.get("/v1/status/token/1").text,
        key=identity.key.public_key,
        expected_sub="https://registry.test/v1/status/token/1",
        now=clock(),
    )
    assert token.status_list.count_nonzero() == 1
    assert TokenStatus.INVALID in {
        token.status_list.get(i) for i in range(len(token.status_list))
    }


def _suspension_bits(client) -> BitstringStatusList:
    listed = client.get("/v1/status/bitstring/1/suspension").json()
    assert listed["credentialSubject"]["statusPurpose"] == "suspension"
    return BitstringStatusList.decode(listed["credentialSubject"]["encodedList"])


def _token_statuses(client, identity, clock) -> list[int]:
    token = verify_status_list_token(
        client.get("/v1/status/token/1").text,
        key=identity.key.public_key,
        expected_sub="https://registry.test/v1/status/token/1",
        now=clock(),
    )
    return [token.status_list.get(i) for i in range(len(token.status_list))]


def test_a_missing_or_stolen_item_suspends_its_credential_until_recovered(
    app,
    client,
    brand,
    owner_token,
    registry_engine,
    identity,
    web_dids,
    clock,
    presented,
):
    bodies = _register_serials(client, owner_token, brand, ["S-1", "S-2"], presented)
    reported = bodies[0]
    revocation, suspension = reported["credential"]["credentialStatus"]
    assert suspension == {
        **suspension,
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": revocation["statusListIndex"],
        "statusListCredential": "https://registry.test/v1/status/bitstring/1/suspension",
    }
    index = int(suspension["statusListIndex"])
    token_index = SDJWT.parse(reported["sd_jwt_credential"]).payload["status"][
        "status_list"
    ]["idx"]
    assert _suspension_bits(client).count_nonzero() == 0  # rendered and cached

    with Session(registry_engine) as db:
        lifecycle.report_missing(
            session=db,
            item_id=reported["item"]["id"],
            owner=reported["item"]["owner"],
            report=MissingCreate(),
            if_match="*",
            now=clock(),
        )
        db.commit()

    bits = _suspension_bits(client)
    assert bits.get(index) == 1
    assert bits.count_nonzero() == 1
    revocation_list = client.get("/v1/status/bitstring/1").json()
    assert (
        BitstringStatusList.decode(
            revocation_list["credentialSubject"]["encodedList"]
        ).count_nonzero()
        == 0
    )
    statuses = _token_statuses(client, identity, clock)
    assert statuses[token_index] == TokenStatus.SUSPENDED
    assert statuses.count(TokenStatus.SUSPENDED) == 1
    resolver = _resolver_with_registry(app, identity, web_dids)
    listed = verify_credential(
        client.get("/v1/status/bitstring/1/suspension").json(),
        resolver=resolver,
        now=clock(),
    )
    assert listed.credential.issuer_id == identity.did

    with Session(registry_engine) as db:
        lifecycle.mark_recovered(
            session=db,
            item_id=reported["item"]["id"],
            did=reported["item"]["owner"],
            if_match="*",
            now=clock(),
        )
        db.commit()

    assert _suspension_bits(client).count_nonzero() == 0
    assert set(_token_statuses(client, identity, clock)) == {TokenStatus.VALID}


def test_revoking_an_unknown_ownership_fails(registry_engine: Engine, clock):
    with Session(registry_engine) as db, pytest.raises(OwnershipNotFoundError):
        status.revoke(session=db, ownership_id="nope", now=clock())


def test_full_list_rolls_over(registry_engine: Engine, clock):
    with Session(registry_engine) as db:
        taken = [
            status.allocate(
                session=db, kind=StatusListKind.TOKEN, length=2, now=clock()
            )
            for _ in range(5)
        ]
        db.commit()
    assert [number for number, _ in taken] == [1, 1, 2, 2, 3]
    assert {index for _, index in taken[:2]} == {0, 1}
