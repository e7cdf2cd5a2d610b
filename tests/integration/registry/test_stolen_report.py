"""``registry stolen confirm``: the operator applies a confirmer-signed
StolenReportCredential, on SQLite and PostgreSQL. Each refusal with its code and
exit status, and the item's state and the log untouched."""

import json
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from cli.main import main as did_vault_main
from cli.registry_main import app as registry_cli
from did_vault import (
    KeyAlgorithm,
    PrivateKey,
    Resolver,
    issue_credential,
    items,
    resolve_did_jwk,
    resolve_did_key,
)
from registry import log, stolen_report
from registry.errors import ReportMismatchError
from registry.identity import write_key_file
from registry.models import TrustRole

from .conftest import REGISTRY_DOMAIN, Holder
from .lifecycle_support import GTIN, bearer, build_app, register, trust

SERIAL = "SN-SIGNED-REPORT-1"


@pytest.fixture
def app(make_app, registry_engine, identity, clock):
    return build_app(make_app, registry_engine, identity, clock)


@pytest.fixture
def owner(make_holder):
    return make_holder(41)


@pytest.fixture
def police(make_holder, registry_engine):
    holder = make_holder(42)
    trust(registry_engine, holder.did, TrustRole.POLICE)
    return holder


@pytest.fixture
def owner_token(client, owner, authenticate):
    return authenticate(client, owner)


@pytest.fixture
def registered(client, owner_token, clock):
    result = register(client, owner_token, SERIAL)
    clock.advance(60)
    return result["item"]


@pytest.fixture
def operator_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    registry_engine: Engine,
    clock: Any,
) -> None:
    """``registry`` configured for the test's database, identity and clock."""
    for name in list(os.environ):
        if name.startswith("REGISTRY_"):
            monkeypatch.delenv(name)
    key_file = tmp_path / "keys" / "registry.key"
    write_key_file(key_file, PrivateKey(KeyAlgorithm.ED25519, bytes(range(32))))
    url = registry_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", url)
    monkeypatch.setenv("REGISTRY_SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("REGISTRY_DID_DOMAIN", REGISTRY_DOMAIN)
    monkeypatch.setattr("cli.registry_main._now", clock)


def sign_report(
    signer: Holder,
    *,
    item_did: str,
    confirmed_at: datetime,
    issuer: str | None = None,
    credential_type: str = items.STOLEN_REPORT_CREDENTIAL,
    **changes: Any,
) -> dict[str, Any]:
    """A signed report; built by hand so that tests can sign wrong ones."""
    issuer = issuer or signer.did
    subject: dict[str, Any] = {
        "type": "StolenReport",
        "item": item_did,
        "reportStatus": "stolen",
        "reportedBy": issuer,
        "reportedAt": items.format_date_time(confirmed_at - timedelta(minutes=5)),
        "policeReportNumber": "PR-2026-0077",
        "place": "Main station bike rack",
        "confirmedBy": issuer,
        "confirmedAt": items.format_date_time(confirmed_at),
    }
    subject.update(changes)
    unsigned = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://registry.example/ns/registry/v1",
        ],
        "type": ["VerifiableCredential", credential_type],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "issuer": issuer,
        "validFrom": items.format_date_time(confirmed_at),
        "credentialSubject": {k: v for k, v in subject.items() if v is not None},
    }
    return issue_credential(
        unsigned,
        key=signer.key,
        verification_method=signer.verification_method,
        created=confirmed_at,
    )


def run_confirm(capsys, path: Path) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SystemExit) as exc_info:
        registry_cli(["stolen", "confirm", str(path), "--json"], prog_name="registry")
    code = exc_info.value.code
    return (code if isinstance(code, int) else 0), json.loads(capsys.readouterr().out)


def write(tmp_path: Path, document: Any, name: str = "report.json") -> Path:
    path = tmp_path / name
    path.write_text(
        document if isinstance(document, str) else json.dumps(document),
        encoding="utf-8",
    )
    return path


def snapshot(engine: Engine, item_id: str, now: datetime) -> tuple[Any, ...]:
    """What a refusal must leave alone: the item's state and the log's size."""
    with Session(engine) as session:
        state = stolen_report.read_item_state(session=session, item_id=item_id, now=now)
        return state.condition, state.version, log.log_size(session)


def check(client: Any) -> str:
    answer = client.post("/v1/stolen-check", json={"gtin": GTIN, "serial": SERIAL})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def recover(client: Any, token: str, item_id: str) -> None:
    response = client.post(
        f"/v1/items/{item_id}/recovered",
        headers=bearer(token, **{"If-Match": "*"}),
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def logged_events(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    append = log.append_event

    def spy(session: Any, event: Any, **kwargs: Any) -> Any:
        events.append(dict(event))
        return append(session, event, **kwargs)

    monkeypatch.setattr(log, "append_event", spy)
    return events


def test_a_signed_report_marks_the_item_stolen(
    operator_env,
    client,
    registered,
    police,
    clock,
    capsys,
    tmp_path,
    registry_engine,
    logged_events,
):
    report = sign_report(police, item_did=registered["did"], confirmed_at=clock.now)
    clock.advance(30)
    before = snapshot(registry_engine, registered["id"], clock.now)
    assert check(client) == "clear"

    code, state = run_confirm(capsys, write(tmp_path, report))

    assert code == 0, state
    assert state["condition"] == "stolen"
    assert state["item_id"] == registered["id"]
    assert state["confirmed_by"] == police.did
    assert state["police_report_number"] == "PR-2026-0077"
    assert state["version"] == before[1] + 1
    assert check(client) == "reported_stolen"
    after = snapshot(registry_engine, registered["id"], clock.now)
    assert after[2] == before[2] + 1
    assert [(e["type"], e["itemId"]) for e in logged_events] == [
        ("stolen", registered["id"])
    ]


def test_stolen_show_prints_the_items_state(
    operator_env, registered, police, clock, capsys, tmp_path
):
    report = sign_report(police, item_did=registered["did"], confirmed_at=clock.now)
    clock.advance(30)
    assert run_confirm(capsys, write(tmp_path, report))[0] == 0
    with pytest.raises(SystemExit) as exc_info:
        registry_cli(
            ["stolen", "show", registered["id"], "--json"], prog_name="registry"
        )
    assert exc_info.value.code in (0, None)
    shown = json.loads(capsys.readouterr().out)
    assert (shown["condition"], shown["confirmed_by"]) == ("stolen", police.did)

    with pytest.raises(SystemExit) as exc_info:
        registry_cli(["stolen", "show", "no-such-item", "--json"], prog_name="registry")
    assert exc_info.value.code == 65
    assert json.loads(capsys.readouterr().out)["code"] == "item.not-found"


def _tampered(report: dict[str, Any]) -> dict[str, Any]:
    report["credentialSubject"]["policeReportNumber"] = "PR-FORGED"
    return report


REFUSALS = {
    # name: (how to build the report, code, exit status)
    "tampered": (
        lambda ctx: _tampered(ctx.sign(ctx.police)),
        "proof.verification-failed",
        1,
    ),
    "forged-by-another-key": (
        lambda ctx: ctx.sign(
            Holder(ctx.police.did, ctx.stranger.key, ctx.police.verification_method)
        ),
        "proof.verification-failed",
        1,
    ),
    "untrusted-issuer": (
        lambda ctx: ctx.sign(ctx.stranger),
        "report.issuer-untrusted",
        65,
    ),
    "issuer-not-confirmed-by": (
        lambda ctx: ctx.sign(ctx.stranger, confirmedBy=ctx.police.did),
        "report.mismatch",
        65,
    ),
    "wrong-type": (
        lambda ctx: ctx.sign(ctx.police, credential_type="OwnershipCredential"),
        "report.mismatch",
        65,
    ),
    "not-stolen": (
        lambda ctx: ctx.sign(ctx.police, reportStatus="missing"),
        "report.mismatch",
        65,
    ),
    "no-police-report-number": (
        lambda ctx: ctx.sign(ctx.police, policeReportNumber=None),
        "report.mismatch",
        65,
    ),
    "confirmed-in-the-future": (
        lambda ctx: ctx.sign(ctx.police, at=ctx.now + timedelta(hours=1)),
        "credential.not-yet-valid",
        1,
    ),
    "unknown-item": (
        lambda ctx: ctx.sign(
            ctx.police, item_did=f"did:web:{REGISTRY_DOMAIN}:items:nosuchitem"
        ),
        "item.not-found",
        65,
    ),
    "another-registrys-item": (
        lambda ctx: ctx.sign(
            ctx.police,
            item_did=ctx.item_did.replace(REGISTRY_DOMAIN, "elsewhere.test"),
        ),
        "item.not-found",
        65,
    ),
    "signed-before-the-last-change": (
        lambda ctx: ctx.sign(ctx.police, at=ctx.now - timedelta(hours=1)),
        "report.stale",
        65,
    ),
}


class _Context:
    def __init__(self, *, police, stranger, item_did, now) -> None:
        self.police, self.stranger = police, stranger
        self.item_did, self.now = item_did, now

    def sign(
        self,
        signer: Holder,
        *,
        at: datetime | None = None,
        item_did: str | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        moment = at or self.now - timedelta(seconds=10)
        return sign_report(
            signer, item_did=item_did or self.item_did, confirmed_at=moment, **changes
        )


@pytest.mark.parametrize(
    ("build", "code", "exit_status"), REFUSALS.values(), ids=REFUSALS.keys()
)
def test_a_report_the_registry_cannot_apply_is_refused_and_nothing_changes(
    operator_env,
    client,
    registered,
    police,
    make_holder,
    clock,
    capsys,
    tmp_path,
    registry_engine,
    build,
    code,
    exit_status,
):
    clock.advance(600)
    context = _Context(
        police=police,
        stranger=make_holder(43),
        item_did=registered["did"],
        now=clock.now,
    )
    before = snapshot(registry_engine, registered["id"], clock.now)

    exit_code, problem = run_confirm(capsys, write(tmp_path, build(context)))

    assert (problem["code"], exit_code) == (code, exit_status)
    assert snapshot(registry_engine, registered["id"], clock.now) == before
    assert check(client) == "clear"


def test_a_confirmation_ahead_of_the_registrys_clock_is_refused(
    registered, police, clock, registry_engine
):
    # within the validity leeway, so the credential verifies; confirmedAt must
    # still not lie ahead, or it would outlive every later change of the item
    report = sign_report(
        police,
        item_did=registered["did"],
        confirmed_at=clock.now + timedelta(seconds=1),
    )
    resolver = Resolver({"key": resolve_did_key, "jwk": resolve_did_jwk})
    before = snapshot(registry_engine, registered["id"], clock.now)

    with Session(registry_engine) as session, pytest.raises(ReportMismatchError):
        stolen_report.apply_stolen_report(
            session=session, report=report, resolver=resolver, now=clock.now
        )

    assert snapshot(registry_engine, registered["id"], clock.now) == before


@pytest.mark.parametrize(
    "content",
    ["not json {", "[1, 2]", "\udcff"],
    ids=["not-json", "not-an-object", "not-utf8"],
)
def test_a_malformed_file_is_refused(
    operator_env, registered, clock, capsys, tmp_path, registry_engine, content
):
    path = tmp_path / "report.json"
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe{")
        expected = "cli.file-unreadable"
    else:
        path.write_text(content, encoding="utf-8")
        expected = "cli.json-invalid"
    before = snapshot(registry_engine, registered["id"], clock.now)

    exit_code, problem = run_confirm(capsys, path)

    assert (problem["code"], exit_code) == (expected, 65)
    assert snapshot(registry_engine, registered["id"], clock.now) == before


def test_a_missing_file_is_refused(operator_env, capsys, tmp_path):
    exit_code, problem = run_confirm(capsys, tmp_path / "nowhere.json")
    assert (problem["code"], exit_code) == ("cli.file-unreadable", 65)


def test_a_second_report_on_a_stolen_item_is_a_state_conflict(
    operator_env, registered, police, clock, capsys, tmp_path, registry_engine
):
    first = sign_report(police, item_did=registered["did"], confirmed_at=clock.now)
    clock.advance(30)
    assert run_confirm(capsys, write(tmp_path, first, "first.json"))[0] == 0
    clock.advance(30)
    second = sign_report(police, item_did=registered["did"], confirmed_at=clock.now)
    clock.advance(30)
    before = snapshot(registry_engine, registered["id"], clock.now)

    exit_code, problem = run_confirm(capsys, write(tmp_path, second, "second.json"))

    assert (problem["code"], exit_code) == ("report.state-invalid", 65)
    assert snapshot(registry_engine, registered["id"], clock.now) == before


def test_an_old_report_cannot_re_mark_a_recovered_item(
    operator_env,
    client,
    owner_token,
    registered,
    police,
    clock,
    capsys,
    tmp_path,
    registry_engine,
):
    report = write(
        tmp_path,
        sign_report(police, item_did=registered["did"], confirmed_at=clock.now),
    )
    clock.advance(30)
    assert run_confirm(capsys, report)[0] == 0
    clock.advance(60)
    recover(client, owner_token, registered["id"])
    clock.advance(60)
    before = snapshot(registry_engine, registered["id"], clock.now)
    assert before[0] == "clear"

    exit_code, problem = run_confirm(capsys, report)

    assert (problem["code"], exit_code) == ("report.stale", 65)
    assert snapshot(registry_engine, registered["id"], clock.now) == before
    assert check(client) == "clear"

    # a report confirmed after the recovery applies
    fresh = sign_report(police, item_did=registered["did"], confirmed_at=clock.now)
    clock.advance(30)
    code, state = run_confirm(capsys, write(tmp_path, fresh, "fresh.json"))
    assert (code, state["condition"]) == (0, "stolen")


def test_a_did_web_insurer_report_applies(
    client, registered, clock, registry_engine, web_dids, logged_events
):
    insurer = web_dids.add(
        PrivateKey(KeyAlgorithm.ED25519, bytes([44]) * 32),
        name="insurer",
        relationships=("assertionMethod",),
    )
    trust(registry_engine, insurer.did, TrustRole.INSURER)
    report = sign_report(insurer, item_did=registered["did"], confirmed_at=clock.now)
    clock.advance(30)
    resolver = Resolver(
        {"key": resolve_did_key, "jwk": resolve_did_jwk, "web": web_dids}
    )

    with Session(registry_engine) as session:
        state = stolen_report.apply_stolen_report(
            session=session, report=report, resolver=resolver, now=clock.now
        )
        session.commit()

    assert (state.condition, state.confirmed_by) == ("stolen", insurer.did)
    assert state.confirmed_at == items.parse_date_time(
        report["credentialSubject"]["confirmedAt"]
    )
    assert check(client) == "reported_stolen"
    assert [e["type"] for e in logged_events][-1:] == ["stolen"]


def test_a_report_signed_with_did_vault_is_applied_by_the_operator(
    operator_env, client, registered, clock, capsys, tmp_path, monkeypatch
):
    """The confirmer's wallet signs offline; the operator applies the file."""
    for name in list(os.environ):
        if name.startswith("DID_VAULT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DID_VAULT_HOME", str(tmp_path / "wallet"))
    monkeypatch.setenv("DID_VAULT_PASSPHRASE", "correct horse battery staple")
    monkeypatch.setenv("DID_VAULT_INSECURE_TEST_KDF", "1")
    monkeypatch.setattr("cli.commands.lifecycle._now", clock)

    def did_vault(*args: str) -> dict[str, Any]:
        with pytest.raises(SystemExit) as exc_info:
            did_vault_main([*args, "--json"])
        document: dict[str, Any] = json.loads(capsys.readouterr().out)
        assert exc_info.value.code in (0, None), document
        return document

    did_vault("init")
    police = did_vault("did", "create", "--alias", "police")["did"]
    trust_cli = ["trust", "add", police, "--role", "police", "--json"]
    with pytest.raises(SystemExit):
        registry_cli(trust_cli, prog_name="registry")
    capsys.readouterr()
    report = tmp_path / "report.json"
    did_vault(
        *("item", "sign-stolen-report", registered["did"]),
        *("--police-report", "PR-2026-0099", "--out", str(report)),
    )
    clock.advance(30)

    code, state = run_confirm(capsys, report)

    assert code == 0, state
    assert (state["condition"], state["confirmed_by"]) == ("stolen", police)
    assert check(client) == "reported_stolen"
