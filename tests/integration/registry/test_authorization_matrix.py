"""The authorization matrix: every API operation by every role, against the table in
``specs/authorization.json``. An operation of the app missing from the table (or a
table entry the app does not have) fails the test.

Each cell sends a well-formed request for that operation as that role and checks
the status the table gives. The scenario (see ``specs/authorization.md``): *owner*
owns the item; *other owner* owns another item and is the buyer of the owner's
offer; *brand* is the brand issuer of the item's brand, *other brand* of another
brand; *vendor* is a DID with no trust entry (and the custodian of an item in
custody); *insurer* and *confirmer* (police) are trusted to confirm stolen reports;
*operator* manages the trust list. Every state-changing cell starts from a fresh
item, so cells do not depend on each other. Runs on SQLite (the rules do not
depend on the store; the concurrency tests cover both).
"""

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from did_vault import (
    KeyAlgorithm,
    NoteKey,
    PrivateKey,
    cosign_checkpoint,
    present_sd_jwt,
)
from registry import log_witnesses
from registry.db import make_engine
from registry.models import TrustRole

from .conftest import START, Holder, make_key_holder
from .lifecycle_support import (
    CONTEXT,
    GTIN,
    bearer,
    build_app,
    make_acceptance,
    make_offer,
    register,
    sign,
    trust,
)

TABLE_PATH = Path(__file__).parents[3] / "specs" / "authorization.json"
TABLE = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
ROLES: list[str] = TABLE["roles"]
SEEDS = {
    "owner": 71,
    "other_owner": 72,
    "brand": 73,
    "other_brand": 74,
    "vendor": 75,
    "insurer": 76,
    "confirmer": 77,
    "operator": 78,
}


@pytest.fixture
def blank_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only: the rules do not depend on the store."""
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def app(make_app, registry_engine, identity, clock, web_dids):
    web_dids.documents[identity.did] = identity.document
    return build_app(make_app, registry_engine, identity, clock)


@dataclass
class World:
    client: Any
    identity: Any
    holders: dict[str, Holder]
    tokens: dict[str, str | None]
    serials: Iterator[int] = field(default_factory=lambda: iter(range(10**6)))

    def holder(self, role: str) -> Holder:
        return self.holders[role]

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        token = self.tokens.get(role)
        return bearer(token, **extra) if token else dict(extra)

    def item(self, role: str = "owner") -> dict[str, Any]:
        """A fresh item of ``role`` (its registration answer)."""
        token = self.tokens[role]
        assert token is not None
        return register(
            self.client,
            token,
            f"AUTHZ-{next(self.serials)}",
            acquisition={"price": {"amount": "10.00", "currency": "EUR"}},
            warranty={"warrantyExpires": "2028-05-02"},
        )

    def offer(self) -> tuple[dict[str, Any], str]:
        """A filed offer of a fresh owner's item to the other owner."""
        item = self.item()
        signed = make_offer(
            self.holder("owner"),
            item_did=item["item"]["did"],
            buyer=self.holder("other_owner").did,
        )
        filed = self.client.post(
            "/v1/transfers/offers",
            json={"offer": signed},
            headers=self.headers("owner"),
        )
        assert filed.status_code == 201, filed.text
        return signed, str(filed.json()["id"])

    def state_change(self, item_id: str, action: str, role: str = "owner") -> None:
        body = (
            {"reported_at": "2026-11-23T10:00:00Z", "police_report_number": "P"}
            if action == "stolen"
            else {}
        )
        response = self.client.post(
            f"/v1/items/{item_id}/{action}",
            json=body,
            headers=self.headers(role, **{"If-Match": "*"}),
        )
        assert response.status_code == 200, response.text

    def custody(self, item_id: str) -> None:
        response = self.client.post(
            f"/v1/items/{item_id}/custody",
            json={"custodian": self.holder("vendor").did, "purpose": "repair"},
            headers=self.headers("owner", **{"If-Match": "*"}),
        )
        assert response.status_code == 201, response.text


@pytest.fixture
def world(
    client: Any, identity: Any, registry_engine: Engine, authenticate: Any
) -> World:
    holders = {role: make_key_holder(seed) for role, seed in SEEDS.items()}
    trust(registry_engine, holders["brand"].did, TrustRole.BRAND_ISSUER, brand="Velo")
    trust(
        registry_engine,
        holders["other_brand"].did,
        TrustRole.BRAND_ISSUER,
        brand="Other",
    )
    trust(registry_engine, holders["insurer"].did, TrustRole.INSURER)
    trust(registry_engine, holders["confirmer"].did, TrustRole.POLICE)
    trust(registry_engine, holders["operator"].did, TrustRole.OPERATOR)
    with Session(registry_engine) as session:
        log_witnesses.add_witness(
            session=session,
            vkey=NoteKey(WITNESS_NAME, WITNESS_KEY.public_key).to_vkey(),
            now=START,
        )
        session.commit()
    tokens: dict[str, str | None] = {"anonymous": None}
    for role, holder in holders.items():
        tokens[role] = authenticate(client, holder)
    world = World(client, identity, holders, tokens)
    world.item("other_owner")  # the other owner owns an item of their own
    return world


Call = Callable[[World, str], Any]


def _get(path: str) -> Call:
    return lambda w, role: w.client.get(path, headers=w.headers(role))


def _fresh_did(w: World, role: str) -> Holder:
    return w.holders.get(role) or make_key_holder(99)


def _challenge(w: World, role: str) -> Any:
    return w.client.post("/v1/auth/challenge", json={"did": _fresh_did(w, role).did})


def _token(w: World, role: str) -> Any:
    holder = _fresh_did(w, role)
    issued = w.client.post("/v1/auth/challenge", json={"did": holder.did}).json()
    answer = holder.answer(issued["challenge"], domain=issued["audience"])
    return w.client.post(
        "/v1/auth/token",
        json={"challenge": issued["challenge"], "presentation": answer},
        headers=w.headers(role),
    )


def _trust_add(w: World, role: str) -> Any:
    entry = {"did": make_key_holder(170 + ROLES.index(role)).did, "role": "police"}
    return w.client.post("/v1/trust", json=entry, headers=w.headers(role))


def _trust_remove(w: World, role: str) -> Any:
    entry = {"did": make_key_holder(150 + ROLES.index(role)).did, "role": "insurer"}
    added = w.client.post("/v1/trust", json=entry, headers=w.headers("operator"))
    assert added.status_code == 201, added.text
    entry_id = added.json()["id"]
    return w.client.delete(f"/v1/trust/{entry_id}", headers=w.headers(role))


def _unsigned_credential(w: World) -> dict[str, Any]:
    return {
        "@context": list(CONTEXT[:1]),
        "type": ["VerifiableCredential"],
        "issuer": w.identity.did,
        "credentialSubject": {"id": "did:example:subject"},
    }


def _issue(w: World, role: str) -> Any:
    return w.client.post(
        "/v1/credentials/issue",
        json={"credential": _unsigned_credential(w)},
        headers=w.headers(role),
    )


def _issue_as(w: World, role: str) -> Any:
    return w.client.post(
        "/v1/issuers/default/credentials/issue",
        json={"credential": _unsigned_credential(w)},
        headers=w.headers(role),
    )


def _vc_verify(w: World, role: str) -> Any:
    credential = make_offer(
        w.holder("owner"),
        item_did=w.identity.item_did("x" * 16),
        buyer="did:web:b.test",
    )
    return w.client.post(
        "/v1/credentials/verify",
        json={"verifiableCredential": credential},
        headers=w.headers(role),
    )


def _vp_verify(w: World, role: str) -> Any:
    holder = w.holder("owner")
    presentation = holder.answer("c" * 32, domain="did:example:verifier")
    return w.client.post(
        "/v1/presentations/verify",
        json={
            "verifiablePresentation": presentation,
            "options": {"challenge": "c" * 32, "domain": "did:example:verifier"},
        },
        headers=w.headers(role),
    )


def _register(w: World, role: str) -> Any:
    from .lifecycle_support import EVIDENCE, item_subject

    body = {
        "self_asserted": {
            "item": item_subject(f"AUTHZ-R-{role}"),
            "evidence": EVIDENCE,
        }
    }
    return w.client.post("/v1/items", json=body, headers=w.headers(role))


def _owner_item(path: str) -> Call:
    def call(w: World, role: str) -> Any:
        item_id = w.item()["item"]["id"]
        return w.client.get(path.format(id=item_id), headers=w.headers(role))

    return call


def _missing(w: World, role: str) -> Any:
    item_id = w.item()["item"]["id"]
    return w.client.post(
        f"/v1/items/{item_id}/missing",
        json={},
        headers=w.headers(role, **{"If-Match": "*"}),
    )


def _stolen(w: World, role: str) -> Any:
    item_id = w.item()["item"]["id"]
    return w.client.post(
        f"/v1/items/{item_id}/stolen",
        json={"reported_at": "2026-11-23T10:00:00Z", "police_report_number": "P"},
        headers=w.headers(role, **{"If-Match": "*"}),
    )


def _recovered(w: World, role: str) -> Any:
    item_id = w.item()["item"]["id"]
    w.state_change(item_id, "missing")
    return w.client.post(
        f"/v1/items/{item_id}/recovered",
        headers=w.headers(role, **{"If-Match": "*"}),
    )


def _stolen_check(w: World, role: str) -> Any:
    return w.client.post(
        "/v1/stolen-check",
        json={"gtin": GTIN, "serial": "AUTHZ-0"},
        headers=w.headers(role),
    )


def _create_offer(w: World, role: str) -> Any:
    item = w.item()
    signed = make_offer(
        w.holder("owner"),
        item_did=item["item"]["did"],
        buyer=w.holder("other_owner").did,
    )
    return w.client.post(
        "/v1/transfers/offers", json={"offer": signed}, headers=w.headers(role)
    )


def _read_offer(w: World, role: str) -> Any:
    _, offer_id = w.offer()
    return w.client.get(f"/v1/transfers/offers/{offer_id}", headers=w.headers(role))


CLAIM_CODE = "K7QXM-3RT2A-VB6LN-Q4ZHD-E5W2P"


def _claim(w: World, role: str) -> Any:
    item = w.item()
    signed = make_offer(
        w.holder("owner"), item_did=item["item"]["did"], claim_code=CLAIM_CODE
    )
    filed = w.client.post(
        "/v1/transfers/offers", json={"offer": signed}, headers=w.headers("owner")
    )
    assert filed.status_code == 201, filed.text
    return w.client.post(
        f"/v1/transfers/offers/{filed.json()['id']}/claim",
        json={"claim_code": CLAIM_CODE},
        headers=w.headers(role),
    )


def _accept(w: World, role: str) -> Any:
    signed, offer_id = w.offer()
    acceptance = make_acceptance(w.holder("other_owner"), signed)
    return w.client.post(
        f"/v1/transfers/offers/{offer_id}/accept",
        json={"acceptance": acceptance},
        headers=w.headers(role),
    )


def _start_custody(w: World, role: str) -> Any:
    item_id = w.item()["item"]["id"]
    return w.client.post(
        f"/v1/items/{item_id}/custody",
        json={"custodian": make_key_holder(97).did, "purpose": "loan"},
        headers=w.headers(role, **{"If-Match": "*"}),
    )


def _end_custody(w: World, role: str) -> Any:
    item_id = w.item()["item"]["id"]
    w.custody(item_id)
    return w.client.post(
        f"/v1/items/{item_id}/custody/return",
        headers=w.headers(role, **{"If-Match": "*"}),
    )


def _verify_presentation(w: World, role: str) -> Any:
    registration = w.item()
    audience = w.holders[role].did if role in w.holders else w.identity.did
    nonce = uuid.uuid4().hex
    shown = present_sd_jwt(
        registration["sd_jwt_credential"],
        disclose=[("item", "brand"), ("item", "model"), ("item", "warranty")],
        holder_key=w.holder("owner").key,
        audience=audience,
        nonce=nonce,
        now=START,
    )
    return w.client.post(
        "/v1/verify/presentation",
        json={
            "sd_jwt": shown,
            "nonce": nonce,
            "audience": audience,
            "template": "warranty-check",
        },
        headers=w.headers(role),
    )


def _verify_insurer(w: World, role: str) -> Any:
    item_did = w.item()["item"]["did"]
    owner = w.holder("owner")
    consent = sign(
        owner,
        {
            "@context": list(CONTEXT),
            "type": ["VerifiableCredential", "OwnershipDisclosureConsent"],
            "issuer": owner.did,
            "validFrom": "2026-11-23T00:00:00Z",
            "validUntil": "2026-11-30T00:00:00Z",
            "credentialSubject": {
                "type": "OwnershipDisclosureConsent",
                "item": item_did,
                "insurer": w.holder("insurer").did,
            },
        },
    )
    return w.client.post(
        "/v1/verify/insurer",
        json={"consent": consent, "before": (START + timedelta(days=1)).isoformat()},
        headers=w.headers(role),
    )


def _log(path: str) -> Call:
    def call(w: World, role: str) -> Any:
        w.item()  # one registration, so that the log has a leaf
        return w.client.get(path, headers=w.headers(role))

    return call


WITNESS_NAME = "witness.test/authz"
WITNESS_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes([79]) * 32)


def _cosignatures(w: World, role: str) -> Any:
    w.item()  # a new leaf, so a new checkpoint: every cell stores a cosignature
    note = w.client.get("/v1/log/checkpoint").text
    cosigned = cosign_checkpoint(note, WITNESS_KEY, name=WITNESS_NAME, now=START)
    return w.client.post(
        "/v1/log/cosignatures",
        content=cosigned.encode(),
        headers=w.headers(role, **{"Content-Type": "text/plain"}),
    )


def _tree_size(w: World) -> int:
    w.item()
    note = w.client.get("/v1/log/checkpoint").text
    return int(note.split("\n")[1])


CALLS: dict[str, Call] = {
    "GET /healthz": _get("/healthz"),
    "GET /readyz": _get("/readyz"),
    "GET /metrics": _get("/metrics"),
    "GET /.well-known/did.json": _get("/.well-known/did.json"),
    "GET /items/{item_id}/did.json": _owner_item("/items/{id}/did.json"),
    "POST /v1/auth/challenge": _challenge,
    "POST /v1/auth/token": _token,
    "GET /v1/auth/me": _get("/v1/auth/me"),
    "GET /v1/trust": _get("/v1/trust"),
    "POST /v1/trust": _trust_add,
    "DELETE /v1/trust/{entry_id}": _trust_remove,
    "POST /v1/credentials/issue": _issue,
    "POST /v1/issuers/{name}/credentials/issue": _issue_as,
    "POST /v1/credentials/verify": _vc_verify,
    "POST /v1/presentations/verify": _vp_verify,
    "POST /v1/items/nonce": lambda w, r: w.client.post(
        "/v1/items/nonce", headers=w.headers(r)
    ),
    "GET /v1/items": _get("/v1/items"),
    "POST /v1/items": _register,
    "GET /v1/items/{item_id}": _owner_item("/v1/items/{id}"),
    "GET /v1/status/bitstring/{number}": _log("/v1/status/bitstring/1"),
    "GET /v1/status/bitstring/{number}/suspension": _log(
        "/v1/status/bitstring/1/suspension"
    ),
    "GET /v1/status/token/{number}": _log("/v1/status/token/1"),
    "GET /v1/log/checkpoint": _log("/v1/log/checkpoint"),
    "GET /v1/log/checkpoint/{tree_size}": lambda w, r: _get(
        f"/v1/log/checkpoint/{_tree_size(w)}"
    )(w, r),
    "GET /v1/log/proof/inclusion": _log(
        "/v1/log/proof/inclusion?leaf_index=0&tree_size=1"
    ),
    "GET /v1/log/proof/consistency": _log(
        "/v1/log/proof/consistency?old_size=1&new_size=1"
    ),
    "GET /v1/log/leaves": _log("/v1/log/leaves?start=0&end=1"),
    "POST /v1/log/cosignatures": _cosignatures,
    "GET /v1/items/{item_id}/state": _owner_item("/v1/items/{id}/state"),
    "POST /v1/items/{item_id}/missing": _missing,
    "POST /v1/items/{item_id}/stolen": _stolen,
    "POST /v1/items/{item_id}/recovered": _recovered,
    "POST /v1/stolen-check": _stolen_check,
    "GET /v1/transfers/offers": _get("/v1/transfers/offers"),
    "POST /v1/transfers/offers": _create_offer,
    "GET /v1/transfers/offers/{offer_id}": _read_offer,
    "POST /v1/transfers/offers/{offer_id}/claim": _claim,
    "POST /v1/transfers/offers/{offer_id}/accept": _accept,
    "GET /v1/transfers": _get("/v1/transfers"),
    "POST /v1/items/{item_id}/custody": _start_custody,
    "GET /v1/items/{item_id}/custody": _owner_item("/v1/items/{id}/custody"),
    "POST /v1/items/{item_id}/custody/return": _end_custody,
    "POST /v1/verify/presentation": _verify_presentation,
    "POST /v1/verify/insurer": _verify_insurer,
}


def _app_operations(app: FastAPI) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_operation_of_the_app_is_in_the_table(app):
    operations = _app_operations(app)
    table = set(TABLE["operations"])
    assert sorted(operations - table) == [], "operations missing from the table"
    assert sorted(table - operations) == [], "table entries the app does not have"
    assert sorted(operations - set(CALLS)) == [], "operations the test cannot call"


def test_every_cell_names_every_role():
    for name, entry in TABLE["operations"].items():
        assert sorted(entry["expect"]) == sorted(ROLES), name
        for role, cell in entry["expect"].items():
            assert cell["allow"] == (200 <= cell["status"] < 300), (name, role)
            assert (cell["code"] is None) == cell["allow"], (name, role)


@pytest.mark.parametrize("operation", sorted(TABLE["operations"]))
def test_operation_answers_each_role_as_the_table_says(world, operation):
    expected = {
        role: (cell["status"], cell["code"])
        for role, cell in TABLE["operations"][operation]["expect"].items()
    }
    observed = {}
    for role in ROLES:
        response = CALLS[operation](world, role)
        problem = response.headers.get("content-type", "").startswith(
            "application/problem+json"
        )
        observed[role] = (
            response.status_code,
            response.json()["code"] if problem else None,
        )
    assert observed == expected
