"""Credentials held in the wallet: kept byte for byte, found by id, persisted."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from did_vault.errors import (
    AliasExistsError,
    CredentialNotFoundError,
    KeystoreError,
    MalformedCredentialError,
    MalformedReceiptError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.keystore import KDFParameters, Keystore
from did_vault.transparency.checkpoint import (
    Checkpoint,
    cosign_checkpoint,
    sign_checkpoint,
)
from did_vault.transparency.commitment import commit
from did_vault.transparency.merkle import InMemoryNodeStore, root_at
from did_vault.transparency.receipt import make_receipt
from did_vault.wallet import Wallet

PASSPHRASE = "wallet passphrase"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

# Deliberately not in sorted key order, with non-ASCII text and spacing: the wallet
# must give back exactly this text.
RAW = (
    '{"@context": ["https://www.w3.org/ns/credentials/v2"],\n'
    ' "type": ["VerifiableCredential"], "issuer": "did:example:brand",\n'
    ' "id": "urn:uuid:6f1c3a52-0000-4000-8000-000000000001",\n'
    ' "validUntil": "2030-01-01T00:00:00Z",\n'
    ' "credentialSubject": {"id": "did:example:alice", "name": "Vélo électrique"}}'
)


@pytest.fixture
def wallet(tmp_path: Path):
    with Wallet.create(tmp_path / "w", PASSPHRASE, kdf=KDFParameters.TESTING) as opened:
        yield opened


def test_add_credential_keeps_the_exact_text(wallet: Wallet) -> None:
    stored = wallet.add_credential(RAW, now=NOW)
    assert stored.raw == RAW
    assert stored.local_id == "cred-1"
    assert stored.issuer == "did:example:brand"
    assert stored.subject_ids == ("did:example:alice",)
    assert stored.valid_until == "2030-01-01T00:00:00Z"
    assert stored.document()["credentialSubject"]["name"] == "Vélo électrique"


def test_credentials_survive_reopening(tmp_path: Path) -> None:
    home = tmp_path / "w"
    with Wallet.create(home, PASSPHRASE, kdf=KDFParameters.TESTING) as wallet:
        wallet.add_credential(RAW, local_id="bike-receipt", now=NOW)
    with Wallet.open(home, PASSPHRASE, kdf_floor=KDFParameters.TESTING) as wallet:
        stored = wallet.get_credential("bike-receipt")
        assert stored.raw == RAW
        by_id = wallet.get_credential("urn:uuid:6f1c3a52-0000-4000-8000-000000000001")
        assert by_id == stored
        assert [c.local_id for c in wallet.list_credentials()] == ["bike-receipt"]


def test_add_credential_accepts_a_mapping(wallet: Wallet) -> None:
    stored = wallet.add_credential(json.loads(RAW), now=NOW)
    assert json.loads(stored.raw) == json.loads(RAW)


def test_add_credential_refuses_a_non_credential(wallet: Wallet) -> None:
    with pytest.raises(MalformedCredentialError) as exc_info:
        wallet.add_credential('{"type": ["VerifiableCredential"]}')
    assert exc_info.value.code == "credential.malformed"
    assert wallet.list_credentials() == []


def test_duplicate_local_id_is_refused(wallet: Wallet) -> None:
    wallet.add_credential(RAW, local_id="receipt")
    with pytest.raises(AliasExistsError) as exc_info:
        wallet.add_credential(RAW, local_id="receipt")
    assert exc_info.value.code == "wallet.alias-exists"


def test_unknown_credential_is_not_found(wallet: Wallet) -> None:
    with pytest.raises(CredentialNotFoundError) as exc_info:
        wallet.get_credential("cred-9")
    assert exc_info.value.code == "wallet.credential-not-found"


def test_backup_round_trip_keeps_credentials(tmp_path: Path) -> None:
    home = tmp_path / "w"
    backup = tmp_path / "backup"
    with Wallet.create(home, PASSPHRASE, kdf=KDFParameters.TESTING) as wallet:
        wallet.add_credential(RAW, now=NOW)
        wallet.export_backup(backup, "backup pass", kdf=KDFParameters.TESTING)
    with Wallet.import_backup(
        backup,
        "backup pass",
        home=tmp_path / "restored",
        passphrase="new",
        kdf=KDFParameters.TESTING,
        kdf_floor=KDFParameters.TESTING,
    ) as restored:
        assert [c.raw for c in restored.list_credentials()] == [RAW]


def test_sd_jwt_vc_is_kept_in_compact_form_and_summarised(wallet: Wallet) -> None:
    from did_vault import (
        KeyAlgorithm,
        PrivateKey,
        create_did_key,
        issue_sd_jwt_vc,
    )

    issuer_key = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
    issuer = str(create_did_key(issuer_key.public_key))
    holder = PrivateKey(KeyAlgorithm.P256, bytes(range(1, 33)))
    compact = issue_sd_jwt_vc(
        vct="urn:did-vault:vct:OwnershipCredential",
        issuer_did=issuer,
        key=issuer_key,
        kid=f"{issuer}#{issuer_key.public_key.to_multikey()}",
        claims={"sub": "did:example:alice", "item": {"brand": "Brand X"}},
        disclosable=[("item", "brand")],
        holder_key=holder.public_key,
        now=NOW,
    )
    stored = wallet.add_credential(compact, now=NOW)
    assert stored.format == "dc+sd-jwt"
    assert stored.raw == compact
    assert stored.issuer == issuer
    assert stored.types == ("urn:did-vault:vct:OwnershipCredential",)
    assert stored.document()["item"]["brand"] == "Brand X"
    assert wallet.get_credential(stored.local_id) == stored


def test_broken_sd_jwt_is_refused(wallet: Wallet) -> None:
    from did_vault.errors import MalformedInputError

    with pytest.raises(MalformedInputError):
        wallet.add_credential("not.an.sdjwt~garbage~")
    assert wallet.list_credentials() == []


def _receipt() -> dict[str, object]:
    """A one-leaf log's receipt with its opening (shape only: not verified here)."""
    key = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
    store = InMemoryNodeStore()
    leaf, opening = commit({"type": "registration", "itemId": "item-1"})
    store.append_data(leaf)
    note = sign_checkpoint(
        Checkpoint("registry.example/log", 1, root_at(store, 1)), key
    )
    receipt = make_receipt(
        store, leaf_index=0, leaf_data=leaf, checkpoint=note, opening=opening
    )
    return receipt.to_json(include_opening=True)


def test_a_credential_keeps_its_log_receipt_across_reopening(tmp_path: Path) -> None:
    home = tmp_path / "w"
    receipt = _receipt()
    with Wallet.create(home, PASSPHRASE, kdf=KDFParameters.TESTING) as wallet:
        stored = wallet.add_credential(RAW, now=NOW, receipt=receipt)
        assert stored.receipt == receipt
        assert wallet.add_credential(RAW, now=NOW).receipt is None
    with Wallet.open(home, PASSPHRASE, kdf_floor=KDFParameters.TESTING) as wallet:
        assert wallet.get_credential("cred-1").receipt == receipt
        assert wallet.get_credential("cred-2").receipt is None


def test_a_receipt_without_its_opening_or_malformed_is_refused(wallet: Wallet) -> None:
    receipt = _receipt()
    unopened = {k: v for k, v in receipt.items() if k != "opening"}
    for bad in (unopened, {**receipt, "leafIndex": -1}, {"receipt": True}):
        with pytest.raises(MalformedReceiptError):
            wallet.add_credential(RAW, now=NOW, receipt=bad)
    assert wallet.list_credentials() == []


def _cosigned(receipt: dict[str, object]) -> dict[str, object]:
    """The same receipt, its checkpoint now carrying a witness's cosignature."""
    witness = PrivateKey(KeyAlgorithm.ED25519, b"\x03" * 32)
    note = cosign_checkpoint(
        str(receipt["checkpoint"]), witness, name="witness.example/w1", now=NOW
    )
    return {**receipt, "checkpoint": note}


def test_replace_receipts_keeps_the_richer_receipt_across_reopening(
    tmp_path: Path,
) -> None:
    home = tmp_path / "w"
    receipt = _receipt()
    richer = _cosigned(receipt)
    with Wallet.create(home, PASSPHRASE, kdf=KDFParameters.TESTING) as wallet:
        wallet.add_credential(RAW, now=NOW, receipt=receipt)
        wallet.add_credential(RAW, now=NOW, receipt=receipt)
        updated = wallet.replace_receipts({"cred-2": richer})
        assert [(c.local_id, c.receipt) for c in updated] == [("cred-2", richer)]
        assert wallet.get_credential("cred-1").receipt == receipt
    with Wallet.open(home, PASSPHRASE, kdf_floor=KDFParameters.TESTING) as wallet:
        assert wallet.get_credential("cred-1").receipt == receipt
        assert wallet.get_credential("cred-2").receipt == richer
        assert wallet.get_credential("cred-2").raw == RAW


def test_replace_receipts_refuses_another_leaf_and_changes_nothing(
    wallet: Wallet,
) -> None:
    receipt = _receipt()
    wallet.add_credential(RAW, now=NOW, receipt=receipt)
    wallet.add_credential(RAW, now=NOW)
    other = _receipt()  # a fresh salt: another commitment, another opening
    unopened = {k: v for k, v in receipt.items() if k != "opening"}
    richer = _cosigned(receipt)
    for batch, error in (
        ({"cred-1": richer, "cred-2": richer}, ValueError),  # cred-2 keeps none
        ({"cred-1": other}, ValueError),
        ({"cred-1": {**richer, "leafIndex": 1}}, ValueError),
        ({"cred-1": unopened}, MalformedReceiptError),
        ({"cred-1": richer, "cred-9": richer}, CredentialNotFoundError),
    ):
        with pytest.raises(error):
            wallet.replace_receipts(batch)
        assert wallet.get_credential("cred-1").receipt == receipt


def test_replace_receipts_is_all_or_nothing_when_the_write_fails(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = _receipt()
    wallet.add_credential(RAW, now=NOW, receipt=receipt)

    def crash(self, payload):
        raise KeystoreError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(Keystore, "write", crash)
        with pytest.raises(KeystoreError):
            wallet.replace_receipts({"cred-1": _cosigned(receipt)})
    assert wallet.get_credential("cred-1").receipt == receipt
