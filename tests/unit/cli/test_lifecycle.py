"""did-vault item transfer|accept|report-missing|confirm-stolen|recovered|
check-stolen|prove|verify-proof: what runs without a registry.

The registry round trips (transfer, missing, stolen, stolen-check) are the story in
``tests/integration/test_story.py``. Here: the insurer proof end to end from a
held OwnershipCredential (did:key issuer, resolved offline), and the command
line's own refusals.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cli.commands import lifecycle
from cli.main import main
from did_vault import default_resolver, verify_credential
from did_vault.errors import CredentialRevokedError, CredentialSuspendedError
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.keystore import KDFParameters
from did_vault.transparency.checkpoint import (
    Checkpoint,
    NoteKey,
    cosign_checkpoint,
    sign_checkpoint,
)
from did_vault.transparency.commitment import commit
from did_vault.transparency.merkle import InMemoryNodeStore, root_at
from did_vault.transparency.receipt import make_receipt
from did_vault.wallet import Wallet

PASSPHRASE = "correct horse battery staple"
INSURER = "did:web:insurer.example"
ITEM_DID = "did:web:registry.example:items:0b5f3c2a9d8e4f10a1b2c3d4e5f60718"
OWNED_FROM = "2026-03-01T10:00:00Z"
CLAIMS = {
    "item": {
        "id": ITEM_DID,
        "brand": "Brand X",
        "model": "Trekking 7",
        "gtin": "09520123456788",
        "serialNumber": "WBX7-2026-000042",
        "color": "slate grey",
    },
    "owner": {"id": "did:example:placeholder"},
    "ownedFrom": OWNED_FROM,
}
SD = "item,item.id,item.brand,item.model,item.gtin,item.serialNumber,item.color,owner"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    wallet_home = tmp_path / "wallet"
    for name in list(os.environ):
        if name.startswith("DID_VAULT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DID_VAULT_HOME", str(wallet_home))
    monkeypatch.setenv("DID_VAULT_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DID_VAULT_INSECURE_TEST_KDF", "1")
    return wallet_home


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SystemExit) as exc_info:
        main([*args, "--json"])
    document = json.loads(capsys.readouterr().out)
    code = exc_info.value.code
    return (code if isinstance(code, int) else 0), document


@pytest.fixture
def owner(home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    """A wallet holding an OwnershipCredential (SD-JWT VC) for ITEM_DID; the DID."""
    run(capsys, "init")
    _, alice = run(capsys, "did", "create", "--alias", "alice")
    run(capsys, "did", "create", "--alias", "registry")
    claims = {**CLAIMS, "owner": {"id": alice["did"]}}
    subject = tmp_path / "claims.json"
    subject.write_text(json.dumps(claims))
    code, issued = run(
        capsys,
        *("credential", "issue", "--format", "sd-jwt-vc", "--issuer", "registry"),
        *("--subject", str(subject), "--sd", SD, "--holder", "alice"),
        *("--vct", lifecycle.OWNERSHIP_VCT, "--store"),
    )
    assert code == 0, issued
    return str(alice["did"])


def _prove(capsys, tmp_path: Path, nonce: str) -> Path:
    proof = tmp_path / f"proof-{nonce}.json"
    code, made = run(
        capsys,
        *("item", "prove", ITEM_DID, "--audience", INSURER, "--nonce", nonce),
        *("--out", str(proof)),
    )
    assert code == 0, made
    return proof


def test_prove_discloses_what_an_insurer_needs_and_nothing_else(
    owner, capsys, tmp_path
):
    proof = _prove(capsys, tmp_path, "insurer-nonce-0001")

    code, verified = run(
        capsys,
        *("item", "verify-proof", str(proof), "--audience", INSURER),
        *("--nonce", "insurer-nonce-0001", "--before", "2026-06-01T00:00:00Z"),
    )

    assert code == 0, verified
    assert verified["item"] == ITEM_DID
    assert verified["owned_from"] == OWNED_FROM
    assert verified["owned_before"] is True
    item = verified["claims"]["item"]
    assert item["serialNumber"] == "WBX7-2026-000042"
    assert "color" not in item
    assert "owner" not in verified["claims"]


def test_verify_proof_refuses_an_ownership_that_began_after_the_loss(
    owner, capsys, tmp_path
):
    proof = _prove(capsys, tmp_path, "insurer-nonce-0002")

    code, problem = run(
        capsys,
        *("item", "verify-proof", str(proof), "--audience", INSURER),
        *("--nonce", "insurer-nonce-0002", "--before", "2026-02-01T00:00:00Z"),
    )

    assert code == 1
    assert problem["code"] == "cli.owned-after"


def test_verify_proof_refuses_another_audience_and_a_replay(owner, capsys, tmp_path):
    proof = _prove(capsys, tmp_path, "insurer-nonce-0003")
    verify = ("item", "verify-proof", str(proof))

    code, problem = run(
        capsys, *verify, "--audience", "did:web:other.example", "--nonce", "x" * 16
    )
    assert code == 1
    assert problem["verified"] is False

    code, _ = run(
        capsys, *verify, "--audience", INSURER, "--nonce", "insurer-nonce-0003"
    )
    assert code == 0
    code, problem = run(
        capsys, *verify, "--audience", INSURER, "--nonce", "insurer-nonce-0003"
    )
    assert code == 1
    assert problem["code"] == "sdjwt.nonce-replayed"


def test_prove_without_an_ownership_credential_is_refused(home, capsys):
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "alice")

    code, problem = run(
        capsys, "item", "prove", ITEM_DID, "--audience", INSURER, "--nonce", "n" * 16
    )

    assert code == 65
    assert problem["code"] == "cli.credential-missing"


def test_accept_refuses_a_file_that_is_not_an_offer(home, capsys, tmp_path):
    not_an_offer = tmp_path / "offer.json"
    not_an_offer.write_text(json.dumps({"kind": "something-else"}))

    code, problem = run(capsys, "item", "accept", str(not_an_offer))

    assert code == 65
    assert problem["code"] == "cli.json-invalid"


def test_check_stolen_needs_a_digital_link_or_gtin_and_serial(home, capsys):
    code, problem = run(
        capsys,
        *("item", "check-stolen", "--registry", "https://127.0.0.1:9"),
        *("--gtin", "09520123456788"),
    )

    assert code == 2
    assert problem["code"] == "cli.usage"


def test_a_capability_the_client_lacks_is_refused_as_unsupported(
    home, capsys, monkeypatch
):
    monkeypatch.setattr(lifecycle, "available_capabilities", frozenset)

    code, problem = run(
        capsys,
        *("item", "check-stolen", "--registry", "https://127.0.0.1:9"),
        "https://id.gs1.org/01/09520123456788/21/WBX7-2026-000042",
    )

    assert code == 2
    assert problem["code"] == "cli.unsupported"


def test_capabilities_name_methods_of_the_registry_client():
    assert set(lifecycle.available_capabilities()) <= set(lifecycle.CAPABILITIES)


def test_transfer_needs_a_price_with_its_currency(home, capsys):
    code, problem = run(
        capsys,
        *("item", "transfer", ITEM_DID, "--registry", "https://127.0.0.1:9"),
        *("--to", "did:web:buyer.example", "--price", "1450.00"),
    )

    assert code == 2
    assert problem["code"] == "cli.usage"


def test_accept_by_offer_id_needs_the_registry(home, capsys):
    code, problem = run(capsys, "item", "accept", "0b5f3c2a9d8e4f10")

    assert code == 2
    assert problem["code"] == "cli.usage"


WITNESS_NAME = "witness.example/w1"
WITNESS_KEY = PrivateKey(KeyAlgorithm.ED25519, b"\x03" * 32)
WITNESS_VKEY = NoteKey(WITNESS_NAME, WITNESS_KEY.public_key).to_vkey()


def _keep_receipt(
    home: Path,
    *,
    item_id: str,
    logged_at: datetime,
    witnessed_at: datetime | None = None,
) -> None:
    """Store the held OwnershipCredential again, now with a log receipt signed by
    the issuer's ("registry") key: a one-leaf log opened to ``item_id``; with
    ``witnessed_at``, its checkpoint cosigned by WITNESS_KEY at that time."""
    with Wallet.open(home, PASSPHRASE, kdf_floor=KDFParameters.TESTING) as wallet:
        key = wallet.signing_key("registry")
        held = wallet.list_credentials()[-1]
        store = InMemoryNodeStore()
        leaf, opening = commit({"type": "registration", "itemId": item_id})
        store.append_data(leaf)
        body = Checkpoint("registry.example/log", 1, root_at(store, 1))
        note = sign_checkpoint(body, key, now=logged_at)
        if witnessed_at is not None:
            note = cosign_checkpoint(
                note, WITNESS_KEY, name=WITNESS_NAME, now=witnessed_at
            )
        receipt = make_receipt(
            store,
            leaf_index=0,
            leaf_data=leaf,
            checkpoint=note,
            opening=opening,
        )
        wallet.add_credential(held.raw, receipt=receipt.to_json(include_opening=True))


def _verify_before(capsys, proof: Path, nonce: str, before: str):
    return run(
        capsys,
        *("item", "verify-proof", str(proof), "--audience", INSURER),
        *("--nonce", nonce, "--before", before),
    )


def test_prove_carries_the_kept_receipt_and_the_insurer_checks_it_offline(
    owner, home, capsys, tmp_path
):
    logged_at = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
    _keep_receipt(home, item_id=ITEM_DID.rsplit(":", 1)[-1], logged_at=logged_at)
    proof = _prove(capsys, tmp_path, "insurer-nonce-0101")
    assert json.loads(proof.read_text())["receipt"]["opening"]["event"]["itemId"]

    code, verified = _verify_before(
        capsys, proof, "insurer-nonce-0101", "2026-06-01T00:00:00Z"
    )

    assert code == 0, verified
    assert verified["logged_before"] == logged_at.isoformat()


def test_verify_proof_refuses_a_receipt_logged_after_the_loss(
    owner, home, capsys, tmp_path
):
    logged_at = datetime(2026, 7, 1, tzinfo=UTC)
    _keep_receipt(home, item_id=ITEM_DID.rsplit(":", 1)[-1], logged_at=logged_at)
    proof = _prove(capsys, tmp_path, "insurer-nonce-0102")

    code, problem = _verify_before(
        capsys, proof, "insurer-nonce-0102", "2026-06-01T00:00:00Z"
    )

    assert code == 1
    assert problem["code"] == "log.registered-too-late"


def test_verify_proof_refuses_a_receipt_of_another_item(owner, home, capsys, tmp_path):
    logged_at = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
    _keep_receipt(home, item_id="another-item", logged_at=logged_at)
    proof = _prove(capsys, tmp_path, "insurer-nonce-0103")

    code, problem = _verify_before(
        capsys, proof, "insurer-nonce-0103", "2026-06-01T00:00:00Z"
    )

    assert code == 1
    assert problem["code"] == "cli.proof-invalid"


def test_verify_proof_refuses_a_receipt_signed_by_another_key(
    owner, home, capsys, tmp_path
):
    _keep_receipt(
        home,
        item_id=ITEM_DID.rsplit(":", 1)[-1],
        logged_at=datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC),
    )
    proof = _prove(capsys, tmp_path, "insurer-nonce-0104")
    document = json.loads(proof.read_text())
    forged = Checkpoint("registry.example/log", 1, bytes(32))
    other = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
    document["receipt"]["checkpoint"] = sign_checkpoint(forged, other)
    proof.write_text(json.dumps(document))

    code, problem = _verify_before(
        capsys, proof, "insurer-nonce-0104", "2026-06-01T00:00:00Z"
    )

    assert code == 1
    assert problem["code"].startswith("log.")


def test_verify_proof_with_a_witness_key_counts_only_the_witness_time(
    owner, home, capsys, tmp_path
):
    logged_at = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)
    witnessed_at = datetime(2026, 3, 1, 10, 3, tzinfo=UTC)
    _keep_receipt(
        home,
        item_id=ITEM_DID.rsplit(":", 1)[-1],
        logged_at=logged_at,
        witnessed_at=witnessed_at,
    )
    proof = _prove(capsys, tmp_path, "insurer-nonce-0105")
    verify = ("item", "verify-proof", str(proof), "--audience", INSURER)

    code, verified = run(
        capsys,
        *verify,
        *("--nonce", "insurer-nonce-0105", "--before", "2026-06-01T00:00:00Z"),
        *("--witness-key", WITNESS_VKEY),
    )

    assert code == 0, verified
    assert verified["logged_before"] == witnessed_at.isoformat()
    assert verified["witnesses"] == [
        {
            "name": WITNESS_NAME,
            "vkey": WITNESS_VKEY,
            "time": witnessed_at.isoformat(),
        }
    ]
    # between the registry's time and the witness's: the registry's word only
    again = _prove(capsys, tmp_path, "insurer-nonce-0108")
    code, problem = run(
        capsys,
        *("item", "verify-proof", str(again), "--audience", INSURER),
        *("--nonce", "insurer-nonce-0108", "--before", "2026-03-01T10:01:00Z"),
        *("--witness-key", WITNESS_VKEY),
    )
    assert (code, problem["code"]) == (1, "log.witnesses-insufficient")


def test_verify_proof_with_a_witness_key_refuses_an_unwitnessed_receipt(
    owner, home, capsys, tmp_path
):
    _keep_receipt(
        home,
        item_id=ITEM_DID.rsplit(":", 1)[-1],
        logged_at=datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC),
    )
    proof = _prove(capsys, tmp_path, "insurer-nonce-0106")

    code, problem = run(
        capsys,
        *("item", "verify-proof", str(proof), "--audience", INSURER),
        *("--nonce", "insurer-nonce-0106", "--before", "2026-06-01T00:00:00Z"),
        *("--witness-key", WITNESS_VKEY),
    )

    assert code == 1
    assert problem["code"] == "log.witnesses-insufficient"
    assert problem["context"]["required"] == 1


@pytest.mark.parametrize(
    "options",
    [
        ("--witness-key", "not-a-vkey", "--before", "2026-06-01"),
        ("--witness-key", WITNESS_VKEY),  # without --before
        ("--witnesses", "1", "--before", "2026-06-01"),  # without a key
        ("--witness-key", WITNESS_VKEY, "--witnesses", "2", "--before", "2026-06-01"),
    ],
    ids=["bad-vkey", "no-before", "no-key", "more-than-keys"],
)
def test_verify_proof_witness_options_that_cannot_work_are_usage_errors(
    owner, home, capsys, tmp_path, options
):
    _keep_receipt(
        home,
        item_id=ITEM_DID.rsplit(":", 1)[-1],
        logged_at=datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC),
    )
    proof = _prove(capsys, tmp_path, "insurer-nonce-0107")

    code, problem = run(
        capsys,
        *("item", "verify-proof", str(proof), "--audience", INSURER),
        *("--nonce", "insurer-nonce-0107", *options),
    )

    assert (code, problem["code"]) == (2, "cli.usage")


class _FixedStatus:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def check(self, status, *, now):
        if self.error is not None:
            raise self.error
        return "valid"


def test_the_insurer_notes_a_suspended_credential_and_refuses_a_revoked_one():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    suspended = lifecycle._SuspensionNoted(
        _FixedStatus(CredentialSuspendedError("suspended"))
    )
    assert suspended.check({}, now=now) is None
    assert suspended.is_suspended is True

    clear = lifecycle._SuspensionNoted(_FixedStatus(None))
    assert clear.check({}, now=now) == "valid"
    assert clear.is_suspended is False

    revoked = lifecycle._SuspensionNoted(_FixedStatus(CredentialRevokedError("x")))
    with pytest.raises(CredentialRevokedError):
        revoked.check({}, now=now)


# --- sign-stolen-report (a confirmer, offline) ---------------------------------------


def test_sign_stolen_report_signs_a_report_that_verifies_offline(
    home, capsys, tmp_path
):
    run(capsys, "init")
    _, police = run(capsys, "did", "create", "--alias", "police")
    out = tmp_path / "report.json"

    code, summary = run(
        capsys,
        *("item", "sign-stolen-report", ITEM_DID, "--police-report", "PR-7"),
        *("--reported-at", "2026-03-02T08:00:00Z", "--place", "Station"),
        *("--loss-date", "2026-03-01T22:00:00Z", "--out", str(out)),
    )

    assert code == 0, summary
    report = json.loads(out.read_text())
    assert summary["id"] == report["id"]
    assert report["id"].startswith("urn:uuid:")
    assert report["type"] == ["VerifiableCredential", "StolenReportCredential"]
    assert report["issuer"] == police["did"]
    subject = report["credentialSubject"]
    assert {k: v for k, v in subject.items() if k != "confirmedAt"} == {
        "type": "StolenReport",
        "item": ITEM_DID,
        "reportStatus": "stolen",
        "reportedBy": police["did"],
        "reportedAt": "2026-03-02T08:00:00Z",
        "lossDate": "2026-03-01T22:00:00Z",
        "policeReportNumber": "PR-7",
        "place": "Station",
        "confirmedBy": police["did"],
    }
    verify_credential(report, resolver=default_resolver())

    code, problem = run(
        capsys,
        *("item", "sign-stolen-report", ITEM_DID, "--police-report", "PR-7"),
        *("--out", str(out)),
    )
    assert (code, problem["code"]) == (65, "cli.file-exists")


def test_sign_stolen_report_needs_the_items_did(home, capsys):
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "police")

    code, problem = run(
        capsys, "item", "sign-stolen-report", "0b5f3c2a", "--police-report", "PR-7"
    )

    assert (code, problem["code"]) == (2, "cli.usage")


def test_credential_list_and_show_reveal_the_kept_receipt(owner, home, capsys):
    _keep_receipt(
        home,
        item_id=ITEM_DID.rsplit(":", 1)[-1],
        logged_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    code, listed = run(capsys, "credential", "list")
    assert code == 0, listed
    rows = listed["credentials"]
    assert [row["log_index"] for row in rows][-1] == 0
    held = rows[-1]["id"]

    code, receipt = run(capsys, "credential", "show", held, "--receipt")
    assert code == 0, receipt
    assert receipt["leafIndex"] == 0
    assert receipt["checkpoint"].startswith("registry.example/log\n")
    assert "opening" in receipt

    code, plain = run(capsys, "credential", "show", held)
    assert code == 0
    assert "leafIndex" not in json.dumps(plain)


def test_credential_show_receipt_without_one_is_refused(home, capsys, tmp_path):
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "alice")
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps({"name": "x"}))
    code, issued = run(
        capsys,
        *("credential", "issue", "--issuer", "alice", "--subject", str(subject)),
        "--store",
    )
    assert code == 0, issued
    code, problem = run(capsys, "credential", "show", issued["id"], "--receipt")
    assert code == 65
    assert problem["code"] == "cli.receipt-missing"
