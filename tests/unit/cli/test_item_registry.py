"""did-vault item register / item list --registry against a running registry.

The registry runs in this process under uvicorn, over HTTPS on 127.0.0.1 with a
test CA (``DID_VAULT_CA_BUNDLE``), as ``did:web:localhost%3A<port>``, so that
``did-vault credential verify`` resolves its did:web and fetches its status list
for real (``DID_VAULT_ALLOW_LOOPBACK=1``). Nothing leaves 127.0.0.1.
"""

import datetime
import json
import os
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlmodel import Session
from typer.testing import CliRunner

from cli import registry_main
from cli.localtls import local_certificates
from cli.main import main
from did_vault import (
    KDFParameters,
    KeyAlgorithm,
    NoteKey,
    Opening,
    PrivateKey,
    Receipt,
    UnsatisfiableQueryError,
    Wallet,
    create_did_key,
    issue_credential,
    verify_receipt,
)
from registry import crud, log, log_witnesses, migrations
from registry.client import RegistryClient
from registry.config import Settings
from registry.db import make_engine
from registry.identity import RegistryIdentity, write_key_file
from registry.main import create_app
from registry.models import TrustEntryCreate, TrustRole
from registry.routes import verify as verify_route
from registry.serial_keys import SerialKey
from registry.trust import add_entry

PASSPHRASE = "correct horse battery staple"
BRAND = "Example Vision"


def _certificates() -> tuple[bytes, bytes, bytes]:
    """A CA certificate and a 'localhost' leaf (cert, key) it signed, as PEM."""
    return local_certificates("registry test CA", lifetime=datetime.timedelta(hours=1))


@dataclass
class RunningRegistry:
    url: str
    did: str
    engine: Any


@pytest.fixture
def registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningRegistry]:
    ca_pem, cert_pem, key_pem = _certificates()
    (tmp_path / "ca.pem").write_bytes(ca_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue until the server accepts: no startup wait
    port = int(sock.getsockname()[1])

    engine = make_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    migrations.upgrade(engine)
    identity = RegistryIdentity.from_key(
        PrivateKey(KeyAlgorithm.ED25519, bytes(range(32))),
        domain="localhost",
        port=port,
    )
    settings = Settings(
        did_domain="localhost", did_port=port, allow_loopback=True, log_level="WARNING"
    )
    app = create_app(settings, engine=engine, identity=identity)
    app.state.serial_key = SerialKey(bytes(32))
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        ssl_certfile=str(tmp_path / "cert.pem"),
        ssl_keyfile=str(tmp_path / "key.pem"),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()

    for name in list(os.environ):
        if name.startswith("DID_VAULT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DID_VAULT_HOME", str(tmp_path / "wallet"))
    monkeypatch.setenv("DID_VAULT_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DID_VAULT_INSECURE_TEST_KDF", "1")
    monkeypatch.setenv("DID_VAULT_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("DID_VAULT_CA_BUNDLE", str(tmp_path / "ca.pem"))
    try:
        yield RunningRegistry(f"https://localhost:{port}", identity.did, engine)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
        engine.dispose()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SystemExit) as exc_info:
        main([*args, "--json"])
    document = json.loads(capsys.readouterr().out)
    code = exc_info.value.code
    return (code if isinstance(code, int) else 0), document


def _brand_credential(
    wallet: Wallet, brand: dict[str, Any], *, subject_id: str, local_id: str
) -> str:
    """The brand's ItemIdentityCredential for a TV, issued to ``subject_id`` and
    kept in the wallet as ``local_id``."""
    unsigned = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://registry.example/ns/registry/v1",
        ],
        "type": ["VerifiableCredential", "ItemIdentityCredential"],
        "issuer": brand["did"],
        "credentialSubject": {
            "id": subject_id,
            "type": "IndividualProduct",
            "name": "55-inch 4K television",
            "gtin": "09520123456788",
            "serialNumber": "8KQ2-00042X",
            "brand": {"type": "Brand", "name": BRAND},
            "model": "EV-55Q8",
        },
    }
    signed = issue_credential(
        unsigned,
        key=wallet.signing_key("brand"),
        verification_method=brand["verification_method"],
    )
    return wallet.add_credential(signed, local_id=local_id).local_id


@pytest.fixture
def wallet_with_brand_credential(registry, capsys, tmp_path) -> dict[str, str]:
    """A wallet with an owner DID, the TV's own DID (minted by the owner's wallet),
    a brand DID (trusted for BRAND), and the brand's ItemIdentityCredential for the
    TV issued to the TV's DID."""
    run(capsys, "init")
    _, alice = run(capsys, "did", "create", "--alias", "alice")
    _, tv = run(capsys, "did", "create", "--alias", "tv-item")
    _, brand = run(capsys, "did", "create", "--alias", "brand")
    with Session(registry.engine) as db:
        add_entry(
            session=db,
            entry_in=TrustEntryCreate(
                did=brand["did"], role=TrustRole.BRAND_ISSUER, brand=BRAND
            ),
            now=datetime.datetime.now(datetime.UTC),
        )
        db.commit()
    with Wallet.open(
        tmp_path / "wallet", PASSPHRASE, kdf_floor=KDFParameters.TESTING
    ) as wallet:
        stored = _brand_credential(wallet, brand, subject_id=tv["did"], local_id="tv")
        # The same TV issued to a DID this wallet does not hold.
        foreign = PrivateKey(KeyAlgorithm.ED25519, bytes([5]) * 32).public_key
        _brand_credential(
            wallet,
            brand,
            subject_id=str(create_did_key(foreign)),
            local_id="tv-elsewhere",
        )
    return {"alice": alice["did"], "tv": tv["did"], "credential": stored}


def test_register_lists_and_verifies_the_ownership_credential(
    registry, wallet_with_brand_credential, capsys, tmp_path
):
    code, registered = run(
        capsys,
        "item",
        "register",
        "--registry",
        registry.url,
        "--credential",
        "tv",
        "--as",
        "alice",
    )
    assert code == 0, registered
    assert registered["owner"] == wallet_with_brand_credential["alice"]
    assert registered["assurance"] == "issuer-attested"

    code, listed = run(capsys, "item", "list", "--registry", registry.url)
    assert code == 0, listed
    assert [item["id"] for item in listed["items"]] == [registered["item"]]

    with Wallet.open(
        tmp_path / "wallet", PASSPHRASE, kdf_floor=KDFParameters.TESTING
    ) as wallet:
        held = wallet.get_credential(registered["credential"])
        sd_jwt = wallet.get_credential(registered["sd_jwt_credential"])
    assert held.issuer == registry.did
    assert sd_jwt.types == ("urn:did-vault:vct:OwnershipCredential",)
    document = tmp_path / "ownership.json"
    document.write_text(held.raw)
    code, verified = run(capsys, "credential", "verify", str(document))
    assert code == 0, verified
    assert verified["verified"] is True

    code, again = run(
        capsys, "item", "register", "--registry", registry.url, "--credential", "tv"
    )
    assert code == 65
    assert again["code"] == "item.already-registered"


def test_register_refuses_a_credential_issued_to_a_did_the_wallet_lacks(
    registry, wallet_with_brand_credential, capsys
):
    code, refused = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--credential", "tv-elsewhere", "--as", "alice"),
    )

    assert code == 65
    assert refused["code"] == "cli.holder-key-missing"
    with Session(registry.engine) as db:
        assert crud.count_items(session=db) == 0


def test_registry_problems_are_shown_with_their_code(registry, capsys, tmp_path):
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "alice")
    claim = tmp_path / "claim.json"
    claim.write_text(
        json.dumps(
            {
                "item": {
                    "id": "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2",
                    "type": "IndividualProduct",
                    "name": "Chair",
                },
                "evidence": [
                    {
                        "type": "PhotoEvidence",
                        "id": "urn:uuid:6f1c3a52-0d8e-4b7a-9f3e-000000000098",
                        "digestMultibase": (
                            "uEiBvMoYJEMoPsqIMf9oUNmawnb-NtSOBlckKWG-1Qv8MrQ"
                        ),
                    }
                ],
            }
        )
    )

    code, problem = run(
        capsys,
        "item",
        "register",
        "--registry",
        registry.url,
        "--self-asserted",
        str(claim),
    )

    assert code == 65
    assert problem["code"] == "item.not-identifiable"
    assert "hint" in problem["detail"]


def test_transfer_to_a_claim_code_and_accept_with_it(
    registry, wallet_with_brand_credential, capsys, tmp_path
):
    code, registered = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--credential", "tv", "--as", "alice"),
    )
    assert code == 0, registered
    _, bob = run(capsys, "did", "create", "--alias", "bob")
    offer_file = tmp_path / "offer.json"
    code, offered = run(
        capsys,
        *("item", "transfer", registered["item"], "--registry", registry.url),
        *("--claim-code", "--as", "alice", "--out", str(offer_file)),
    )
    assert code == 0, offered
    assert offered["buyer"] is None
    claim_code = offered["claim_code"]
    assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){4}", claim_code)
    signed = json.loads(offer_file.read_text())["offer"]
    assert claim_code not in json.dumps(signed)

    code, refused = run(
        capsys,
        *("item", "accept", str(offer_file), "--as", "bob"),
        *("--claim-code", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"),
    )
    assert code == 77, refused
    assert refused["code"] == "transfer.claim-code-invalid"

    code, accepted = run(capsys, "item", "accept", str(offer_file), "--as", "bob")
    assert code == 0, accepted
    assert accepted["owner"] == bob["did"]
    assert accepted["acquired_from"] == wallet_with_brand_credential["alice"]


def test_transfer_needs_a_buyer_or_a_claim_code(registry, capsys):
    run(capsys, "init")
    code, problem = run(
        capsys, "item", "transfer", "0b5f3c2a", "--registry", registry.url
    )
    assert code == 2
    assert problem["code"] == "cli.usage"


def test_custody_start_return_and_list(
    registry, wallet_with_brand_credential, capsys, tmp_path
):
    code, registered = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--credential", "tv", "--as", "alice"),
    )
    assert code == 0, registered
    item = registered["item"]
    _, shop = run(capsys, "did", "create", "--alias", "shop")
    custody = ("item", "custody")

    code, started = run(
        capsys,
        *(*custody, "start", item, "--registry", registry.url, "--as", "alice"),
        *("--to", shop["did"], "--purpose", "repair", "--note", "screen"),
        *("--expected-back", "2030-01-15"),
    )
    assert code == 0, started
    assert started["custodian"] == shop["did"]
    assert started["owner"] == wallet_with_brand_credential["alice"]
    assert started["expected_back"].startswith("2030-01-15T00:00:00")
    assert started["returned_at"] is None

    code, twice = run(
        capsys,
        *(*custody, "start", item, "--registry", registry.url, "--as", "alice"),
        *("--to", shop["did"], "--purpose", "loan"),
    )
    assert code == 65, twice
    assert twice["code"] == "custody.state-invalid"

    # the custodian records the return (it cannot read the item's state)
    code, returned = run(
        capsys, *custody, "return", item, "--registry", registry.url, "--as", "shop"
    )
    assert code == 0, returned
    assert returned["returned_at"] is not None

    code, listed = run(
        capsys, *custody, "list", item, "--registry", registry.url, "--as", "alice"
    )
    assert code == 0, listed
    assert listed["count"] == 1
    assert listed["custody"][0]["purpose"] == "repair"

    code, hidden = run(
        capsys, *custody, "list", item, "--registry", registry.url, "--as", "shop"
    )
    assert code == 65, hidden
    assert hidden["code"] == "item.not-found"


# --- did-vault verify --registry ----------------------------------------------------

VENDOR_NONCE = "vendor-nonce-7c1d9e"


def _register_and_present(
    registry, capsys, tmp_path: Path
) -> tuple[dict[str, Any], str, Path]:
    """alice registers the TV; the shop (a DID in the same wallet) receives alice's
    Data Integrity VP of her OwnershipCredential, bound to the shop's DID."""
    code, registered = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--credential", "tv", "--as", "alice"),
    )
    assert code == 0, registered
    _, shop = run(capsys, "did", "create", "--alias", "shop")
    vp = tmp_path / "vp.json"
    code, presented = run(
        capsys,
        *("present", "--credential", registered["credential"], "--holder", "alice"),
        *("--challenge", VENDOR_NONCE, "--domain", shop["did"], "--out", str(vp)),
    )
    assert code == 0, presented
    return registered, shop["did"], vp


def _ownership_request(tmp_path: Path) -> Path:
    request = tmp_path / "ownership-request.json"
    request.write_text(
        json.dumps(
            {
                "credentials": [
                    {
                        "id": "ownership",
                        "format": "ldp_vc",
                        "meta": {"type_values": [["OwnershipCredential"]]},
                        "claims": [
                            {"path": ["credentialSubject", "owns", "typeOfGood"]}
                        ],
                    }
                ]
            }
        )
    )
    return request


def test_verify_with_registry_shows_the_registry_facts(
    registry, wallet_with_brand_credential, capsys, tmp_path
):
    registered, shop, vp = _register_and_present(registry, capsys, tmp_path)

    code, result = run(
        capsys,
        *("verify", str(vp), "--audience", shop, "--nonce", VENDOR_NONCE),
        *("--request", str(_ownership_request(tmp_path))),
        *("--registry", registry.url, "--as", "shop"),
    )

    assert code == 0, result
    assert result["verified"] is True
    assert result["format"] == "ldp_vp"
    assert result["registry"]["as"] == shop
    facts = result["registry"]["facts"]
    assert facts["item_did"] == registered["did"]
    assert facts["registered"] is True
    assert facts["current_owner"] is True
    assert facts["revoked"] is False
    assert facts["reported_stolen"] is False
    assert facts["reported_missing"] is False
    assert facts["owned_from"] is not None


def test_human_verify_with_registry_prints_a_facts_line(
    registry, wallet_with_brand_credential, capsys, tmp_path
):
    _, shop, vp = _register_and_present(registry, capsys, tmp_path)
    with pytest.raises(SystemExit) as exc_info:
        main(
            [
                *("verify", str(vp), "--audience", shop, "--nonce", VENDOR_NONCE),
                *("--registry", registry.url, "--as", "shop"),
            ]
        )
    assert exc_info.value.code in (0, None)
    out = capsys.readouterr().out
    assert (
        "Registry: the presenter is the current owner, not revoked, not reported "
        "stolen or missing, owned since" in out
    )


def test_verify_with_registry_as_a_did_the_presentation_is_not_for_is_refused(
    registry, wallet_with_brand_credential, capsys, tmp_path
):
    # valid here, but the registry only answers the presentation's audience
    _, shop, vp = _register_and_present(registry, capsys, tmp_path)
    code, problem = run(
        capsys,
        *("verify", str(vp), "--audience", shop, "--nonce", VENDOR_NONCE),
        *("--registry", registry.url, "--as", "alice"),
    )
    assert (code, problem["code"]) == (77, "auth.forbidden")


def test_verify_with_registry_reports_its_refusal_as_not_valid(
    registry, wallet_with_brand_credential, capsys, tmp_path, monkeypatch
):
    # Valid here; the registry's own check says no (as when the credential was
    # revoked between the two checks): exit 1 with the registry's code.
    _, shop, vp = _register_and_present(registry, capsys, tmp_path)

    def refuse(*_: Any) -> None:
        raise UnsatisfiableQueryError("the registry's check says no")

    monkeypatch.setattr(verify_route, "check_presentation_request", refuse)
    code, problem = run(
        capsys,
        *("verify", str(vp), "--audience", shop, "--nonce", VENDOR_NONCE),
        *("--request", str(_ownership_request(tmp_path))),
        *("--registry", registry.url, "--as", "shop"),
    )
    assert (code, problem["code"], problem["verified"]) == (
        1,
        "dcql.unsatisfiable",
        False,
    )
    assert problem["registry"] == registry.url


def test_verify_with_registry_shows_other_registry_problems_with_their_exit_code(
    registry, wallet_with_brand_credential, capsys, tmp_path
):
    # the registry wants a nonce of at least 8 characters: not a verdict (65)
    code, registered = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--credential", "tv", "--as", "alice"),
    )
    assert code == 0, registered
    _, shop = run(capsys, "did", "create", "--alias", "shop")
    vp = tmp_path / "vp.json"
    run(
        capsys,
        *("present", "--credential", registered["credential"], "--holder", "alice"),
        *("--challenge", "short", "--domain", shop["did"], "--out", str(vp)),
    )
    code, problem = run(
        capsys,
        *("verify", str(vp), "--audience", shop["did"], "--nonce", "short"),
        *("--registry", registry.url, "--as", "shop"),
    )
    assert (code, problem["code"]) == (65, "request.invalid")


# --- witnessed receipts: a witness cosigns, the owner refreshes, the insurer checks --

WITNESS = "witness.example/w1"
INSURER = "did:web:insurer.example"


def _witness_cosigns(registry, tmp_path: Path, monkeypatch, witness_key) -> None:
    """``registry witness --submit`` against the running registry, which trusts
    the witness: it cosigns the latest checkpoint and hands the note in.
    Run again, it is the same witness (key and state file)."""
    port = int(registry.url.rsplit(":", 1)[-1])
    registry_key = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
    log_key = NoteKey(f"localhost:{port}/log", registry_key.public_key)
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    monkeypatch.setattr(
        RegistryClient,
        "connect",
        classmethod(
            lambda cls, url, **_: cls(httpx.Client(base_url=url, verify=context))
        ),
    )
    key_file = tmp_path / "witness.key"
    if not key_file.exists():  # a second run: the same witness, its state kept
        write_key_file(key_file, witness_key)
    result = CliRunner().invoke(
        registry_main.app,
        [
            *("witness", "--registry", registry.url, "--key-file", str(key_file)),
            *("--state-file", str(tmp_path / "witness.json")),
            *("--log-key", log_key.to_vkey()),
            *("--name", WITNESS, "--submit", "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    submitted = json.loads(result.stdout)["submitted"]
    assert [c["stored"] for c in submitted["cosignatures"]] == [True]


def _prove_and_verify(
    capsys, tmp_path: Path, item_did: str, nonce: str, *options: str
) -> tuple[int, dict[str, Any]]:
    proof = tmp_path / f"proof-{nonce}.json"
    code, made = run(
        capsys,
        *("item", "prove", item_did, "--audience", INSURER, "--nonce", nonce),
        *("--out", str(proof)),
    )
    assert code == 0, made
    return run(
        capsys,
        *("item", "verify-proof", str(proof), "--audience", INSURER),
        *("--nonce", nonce, *options),
    )


def test_a_refreshed_receipt_carries_the_witness_time_the_insurer_requires(
    registry, wallet_with_brand_credential, capsys, tmp_path, monkeypatch
):
    code, registered = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--credential", "tv", "--as", "alice"),
    )
    assert code == 0, registered
    assert registered["receipt"] is True
    witness_key = PrivateKey.generate()
    vkey = NoteKey(WITNESS, witness_key.public_key).to_vkey()
    with Session(registry.engine) as db:
        log_witnesses.add_witness(
            session=db, vkey=vkey, now=datetime.datetime.now(datetime.UTC)
        )
        db.commit()
    before = (
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    ).isoformat()
    witnessed = ("--before", before, "--witness-key", vkey)

    # The kept receipt carries the registry's time only: refused.
    code, problem = _prove_and_verify(
        capsys, tmp_path, registered["did"], "insurer-nonce-w001", *witnessed
    )
    assert (code, problem["code"]) == (1, "log.witnesses-insufficient")

    _witness_cosigns(registry, tmp_path, monkeypatch, witness_key)
    code, refreshed = run(
        capsys, "item", "refresh-receipts", "--registry", registry.url
    )
    assert code == 0, refreshed
    assert (refreshed["checked"], refreshed["refreshed"]) == (2, 2)
    assert {r["credential"] for r in refreshed["receipts"]} == {
        registered["credential"],
        registered["sd_jwt_credential"],
    }
    assert all(r["added"] == 1 for r in refreshed["receipts"])

    code, verified = _prove_and_verify(
        capsys, tmp_path, registered["did"], "insurer-nonce-w002", *witnessed
    )
    assert code == 0, verified
    assert verified["verified"] is True
    assert [(w["name"], w["vkey"]) for w in verified["witnesses"]] == [(WITNESS, vkey)]
    assert verified["logged_before"] == verified["witnesses"][0]["time"]

    # a second refresh finds nothing new
    code, again = run(capsys, "item", "refresh-receipts", "--registry", registry.url)
    assert code == 0, again
    assert (again["checked"], again["refreshed"]) == (2, 0)


def _register_self_asserted(registry, capsys, tmp_path: Path, serial: str) -> None:
    """alice registers another TV on her own word: the log grows by its events."""
    claim = tmp_path / f"claim-{serial}.json"
    claim.write_text(
        json.dumps(
            {
                "item": {
                    "id": "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2",
                    "type": "IndividualProduct",
                    "name": "32-inch television",
                    "gtin": "09520123456788",
                    "serialNumber": serial,
                    "brand": {"type": "Brand", "name": BRAND},
                    "model": "EV-32",
                },
                "evidence": [
                    {
                        "type": "PhotoEvidence",
                        "id": "urn:uuid:6f1c3a52-0d8e-4b7a-9f3e-000000000098",
                        "digestMultibase": (
                            "uEiBvMoYJEMoPsqIMf9oUNmawnb-NtSOBlckKWG-1Qv8MrQ"
                        ),
                    }
                ],
            }
        )
    )
    code, registered = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--self-asserted", str(claim), "--as", "alice"),
    )
    assert code == 0, registered


def test_a_receipt_whose_checkpoint_no_witness_saw_moves_to_a_witnessed_one(
    registry, wallet_with_brand_credential, capsys, tmp_path, monkeypatch
):
    code, registered = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--credential", "tv", "--as", "alice"),
    )
    assert code == 0, registered
    tv_credentials = {registered["credential"], registered["sd_jwt_credential"]}
    witness_key = PrivateKey.generate()
    vkey = NoteKey(WITNESS, witness_key.public_key).to_vkey()
    with Session(registry.engine) as db:
        log_witnesses.add_witness(
            session=db, vkey=vkey, now=datetime.datetime.now(datetime.UTC)
        )
        db.commit()
    before = (
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    ).isoformat()
    witnessed = ("--before", before, "--witness-key", vkey)
    # The log grows past the TV's checkpoint before a witness runs: the witness
    # cosigns the latest checkpoint only, never the TV's.
    _register_self_asserted(registry, capsys, tmp_path, "TV32-0001")
    # No witness yet: nothing to refresh, nothing to move to.
    code, unwitnessed = run(
        capsys, "item", "refresh-receipts", "--registry", registry.url
    )
    assert code == 0, unwitnessed
    assert (unwitnessed["refreshed"], unwitnessed["moved"]) == (0, 0)
    assert {row["action"] for row in unwitnessed["receipts"]} == {"unchanged"}
    assert {row["witnesses"] for row in unwitnessed["receipts"]} == {0}
    _witness_cosigns(registry, tmp_path, monkeypatch, witness_key)
    code, problem = _prove_and_verify(
        capsys, tmp_path, registered["did"], "insurer-nonce-m001", *witnessed
    )
    assert (code, problem["code"]) == (1, "log.witnesses-insufficient")

    code, refreshed = run(
        capsys, "item", "refresh-receipts", "--registry", registry.url
    )

    assert code == 0, refreshed
    rows = {row["credential"]: row for row in refreshed["receipts"]}
    assert refreshed["checked"] == refreshed["refreshed"] == len(rows) == 4
    assert refreshed["moved"] == 2
    moved_to = {rows[local_id]["tree_size"] for local_id in tv_credentials}
    assert len(moved_to) == 1
    for local_id in tv_credentials:
        row = rows[local_id]
        assert row["action"] == "moved"
        assert row["from_size"] < row["tree_size"]
        assert row["witnesses"] == 1
    assert all(row["witnesses"] == 1 for row in rows.values())
    code, verified = _prove_and_verify(
        capsys, tmp_path, registered["did"], "insurer-nonce-m002", *witnessed
    )
    assert code == 0, verified
    assert verified["verified"] is True
    assert [(w["name"], w["vkey"]) for w in verified["witnesses"]] == [(WITNESS, vkey)]

    # The log grows again and the witness cosigns the newer checkpoint: the TV's
    # receipts are witnessed already, so they keep their earlier bound.
    _register_self_asserted(registry, capsys, tmp_path, "TV32-0002")
    _witness_cosigns(registry, tmp_path, monkeypatch, witness_key)
    code, again = run(capsys, "item", "refresh-receipts", "--registry", registry.url)
    assert code == 0, again
    rows = {row["credential"]: row for row in again["receipts"]}
    assert again["checked"] == 6
    for local_id in tv_credentials:
        assert rows[local_id]["action"] == "unchanged"
        assert {rows[local_id]["tree_size"]} == moved_to


def test_report_missing_keeps_the_log_receipt_of_the_report(
    registry, wallet_with_brand_credential, capsys, tmp_path
):
    code, registered = run(
        capsys,
        *("item", "register", "--registry", registry.url),
        *("--credential", "tv", "--as", "alice"),
    )
    assert code == 0, registered
    receipt_file = tmp_path / "missing-receipt.json"
    code, missing = run(
        capsys,
        *("item", "report-missing", registered["item"], "--registry", registry.url),
        *("--as", "alice", "--receipt-out", str(receipt_file)),
    )
    assert code == 0, missing
    kept = json.loads(receipt_file.read_text())
    assert missing["log_index"] == kept["leafIndex"]
    assert kept["opening"]["event"]["type"] == "missing"
    assert kept["opening"]["event"]["itemId"] == registered["item"]
    # the receipt verifies offline against the registry's checkpoint key
    receipt = Receipt.from_json(kept)
    opening = Opening.from_json(kept["opening"])
    port = int(registry.url.rsplit(":", 1)[1])
    identity = RegistryIdentity.from_key(
        PrivateKey(KeyAlgorithm.ED25519, bytes(range(32))),
        domain="localhost",
        port=port,
    )
    verified = verify_receipt(
        receipt, registry_keys=[log.note_key_of(identity)], opening=opening
    )
    assert verified.leaf_index == missing["log_index"]

    # an existing file is refused before the registry is asked: nothing changes
    recovered = ("item", "recovered", registered["item"], "--registry", registry.url)
    code, refused = run(
        capsys, *recovered, "--as", "alice", "--receipt-out", str(receipt_file)
    )
    assert code == 65, refused
    assert refused["code"] == "cli.file-exists"
    code, recovered_now = run(
        capsys,
        *recovered,
        *("--as", "alice", "--receipt-out", str(tmp_path / "recovered.json")),
    )
    assert code == 0, recovered_now
    assert recovered_now["status"] == "clear"
    assert recovered_now["log_index"] > missing["log_index"]
