"""Tests for did_vault.wallet: DIDs, aliases, lock, passphrase change and backups."""

import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from did_vault.dids.methods.jwk import did_jwk_jwk
from did_vault.dids.methods.key import did_key_public_key
from did_vault.errors import (
    AliasExistsError,
    AliasNotFoundError,
    KeystoreError,
    KeystoreExistsError,
    KeystoreLockedError,
    KeystoreNotFoundError,
    KeystoreUnlockError,
    MalformedInputError,
    UnsupportedAlgorithmError,
    UnsupportedDIDMethodError,
    UnsupportedError,
    WeakKDFParametersError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.keystore import ContainerKind, KDFParameters, Keystore, seal_file
from did_vault.wallet import WALLET_FILE_NAME, Wallet, wallet_path

TESTING = KDFParameters.TESTING
PASSPHRASE = "wallet passphrase"
BACKUP_PASSPHRASE = "backup passphrase"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def wallet(home: Path, now: datetime):
    with Wallet.create(home, PASSPHRASE, kdf=TESTING, now=now) as opened:
        yield opened


def reopen(home: Path, passphrase: str = PASSPHRASE) -> Wallet:
    return Wallet.open(home, passphrase, kdf_floor=TESTING)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# --- creating and opening -----------------------------------------------------------


def test_create_makes_a_private_home_and_wallet_file(wallet, home):
    assert wallet.path == home / WALLET_FILE_NAME == wallet_path(home)
    assert mode_of(home) == 0o700
    assert mode_of(wallet.path) == 0o600
    assert wallet.list_dids() == []
    assert wallet.kdf == TESTING
    assert Wallet.exists(home)


def test_create_refuses_an_existing_wallet(wallet, home):
    wallet.close()
    with pytest.raises(KeystoreExistsError) as exc_info:
        Wallet.create(home, PASSPHRASE, kdf=TESTING)
    assert exc_info.value.code == "keystore.exists"


def test_create_refuses_a_naive_clock(home):
    with pytest.raises(ValueError, match="timezone-aware"):
        Wallet.create(home, PASSPHRASE, kdf=TESTING, now=datetime(2026, 1, 1))
    assert not Wallet.exists(home)


def test_create_refuses_an_empty_passphrase(home):
    with pytest.raises(ValueError, match="empty"):
        Wallet.create(home, "", kdf=TESTING)
    assert not Wallet.exists(home)


def test_open_without_a_wallet_is_not_found(home):
    with pytest.raises(KeystoreNotFoundError) as exc_info:
        reopen(home)
    assert exc_info.value.code == "keystore.not-found"
    assert not Wallet.exists(home)


def test_open_with_the_wrong_passphrase_fails(wallet, home):
    wallet.close()
    with pytest.raises(KeystoreUnlockError) as exc_info:
        reopen(home, "wrong passphrase")
    assert exc_info.value.code == "keystore.unlock-failed"


def test_open_with_the_default_floor_refuses_a_testing_wallet(wallet, home):
    wallet.close()
    with pytest.raises(WeakKDFParametersError) as exc_info:
        Wallet.open(home, PASSPHRASE)
    assert exc_info.value.code == "keystore.kdf-too-weak"


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(0, id="magic"),
        pytest.param(8, id="version"),
        pytest.param(9, id="kdf-id"),
        pytest.param(13, id="time-cost"),
        pytest.param(17, id="memory-cost"),
        pytest.param(21, id="parallelism"),
        pytest.param(30, id="salt"),
        pytest.param(38, id="aead-id"),
        pytest.param(45, id="nonce"),
        pytest.param(100, id="ciphertext"),
        pytest.param(-1, id="tag"),
    ],
)
def test_tampered_wallet_file_does_not_open(wallet, home, offset):
    wallet.create_did("key")
    wallet.close()
    flip(wallet_path(home), offset)
    with pytest.raises(KeystoreUnlockError) as exc_info:
        reopen(home)
    assert exc_info.value.code == "keystore.unlock-failed"


def test_truncated_wallet_file_does_not_open(wallet, home):
    wallet.close()
    path = wallet_path(home)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(KeystoreUnlockError) as exc_info:
        reopen(home)
    assert exc_info.value.code == "keystore.unlock-failed"


def test_second_open_while_the_first_is_open_is_refused(wallet, home):
    with pytest.raises(KeystoreLockedError) as exc_info:
        reopen(home)
    assert exc_info.value.code == "keystore.locked"
    wallet.close()
    with reopen(home) as again:
        assert again.list_dids() == []


def test_closed_wallet_refuses_use(wallet):
    wallet.close()
    wallet.close()
    assert wallet.is_closed
    with pytest.raises(ValueError, match="closed"):
        wallet.list_dids()
    with pytest.raises(ValueError, match="closed"):
        wallet.create_did("key")


def test_repr_shows_no_secret(wallet):
    wallet.create_did("key")
    assert repr(wallet).endswith("1 DIDs)")
    assert PASSPHRASE not in repr(wallet)


# --- DIDs ---------------------------------------------------------------------------


def test_create_did_key_ed25519(wallet, now):
    record = wallet.create_did("key", now=now)
    assert record.alias == "did-1"
    assert record.method == "key"
    assert record.algorithm is KeyAlgorithm.ED25519
    assert record.did.startswith("did:key:z6Mk")
    assert record.verification_method == f"{record.did}#{record.did[8:]}"
    assert record.created_at == now
    key = wallet.signing_key("did-1")
    assert did_key_public_key(record.did) == key.public_key


def test_create_did_key_p256(wallet):
    record = wallet.create_did("key", algorithm=KeyAlgorithm.P256, alias="shop")
    assert record.did.startswith("did:key:zDn")
    assert wallet.signing_key("shop").algorithm is KeyAlgorithm.P256


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_create_did_jwk(wallet, algorithm):
    record = wallet.create_did("jwk", algorithm=algorithm)
    assert record.did.startswith("did:jwk:")
    assert record.verification_method == f"{record.did}#0"
    key = wallet.signing_key(record.did)
    assert PublicKey.from_jwk(did_jwk_jwk(record.did)) == key.public_key


def test_signing_key_signs_for_its_did(wallet):
    record = wallet.create_did("key")
    signature = wallet.signing_key(record.alias).sign(b"message")
    did_key_public_key(record.did).verify(signature, b"message")


def test_dids_survive_close_and_reopen(wallet, home, now):
    first = wallet.create_did("key", now=now)
    second = wallet.create_did("jwk", algorithm=KeyAlgorithm.P256, now=now)
    secret = wallet.signing_key(first.alias)
    wallet.close()
    with reopen(home) as again:
        assert again.list_dids() == [first, second]
        assert again.signing_key(first.did) == secret


def test_auto_aliases_count_up_and_skip_taken_names(wallet):
    wallet.create_did("key")
    wallet.create_did("key", alias="did-2")
    wallet.create_did("key", alias="laptop")
    assert wallet.create_did("key").alias == "did-4"
    assert [r.alias for r in wallet.list_dids()] == [
        "did-1",
        "did-2",
        "laptop",
        "did-4",
    ]


def test_duplicate_alias_is_refused(wallet):
    wallet.create_did("key", alias="bike")
    with pytest.raises(AliasExistsError) as exc_info:
        wallet.create_did("jwk", alias="bike")
    assert exc_info.value.code == "wallet.alias-exists"
    assert len(wallet.list_dids()) == 1


@pytest.mark.parametrize(
    "alias", ["", " bike", "bike ", "did:key:z6Mk", "-bike", "b" * 65, "vélo", "a/b"]
)
def test_malformed_alias_is_refused(wallet, alias):
    with pytest.raises(MalformedInputError) as exc_info:
        wallet.create_did("key", alias=alias)
    assert exc_info.value.code == "input.malformed"


def test_unsupported_method_is_refused(wallet):
    with pytest.raises(UnsupportedDIDMethodError) as exc_info:
        wallet.create_did("web")
    assert exc_info.value.code == "did.method-unsupported"


def test_unsupported_algorithm_is_refused(wallet):
    with pytest.raises(UnsupportedAlgorithmError) as exc_info:
        wallet.create_did("key", algorithm="RSA")
    assert exc_info.value.code == "key.algorithm-unsupported"


def test_get_did_by_alias_or_did(wallet):
    record = wallet.create_did("key", alias="watch")
    assert wallet.get_did("watch") == record
    assert wallet.get_did(record.did) == record


@pytest.mark.parametrize("lookup", ["get_did", "signing_key"])
def test_unknown_alias_or_did_is_not_found(wallet, lookup):
    wallet.create_did("key")
    with pytest.raises(AliasNotFoundError) as exc_info:
        getattr(wallet, lookup)("did:key:z6MkUnknown")
    assert exc_info.value.code == "wallet.alias-not-found"


def test_wallet_did_holds_no_key_and_has_json_fields(wallet, now):
    record = wallet.create_did("key", alias="tv", now=now)
    secret = wallet.signing_key("tv")
    assert secret.to_multikey() not in repr(record)
    assert secret.secret.hex() not in repr(record)
    assert record.to_dict() == {
        "alias": "tv",
        "did": record.did,
        "method": "key",
        "algorithm": "Ed25519",
        "verification_method": record.verification_method,
        "created": "2026-11-23T12:00:00Z",
    }
    with pytest.raises(AttributeError):
        record.alias = "other"  # type: ignore[misc]


def test_failed_write_changes_nothing(wallet, home, monkeypatch):
    wallet.create_did("key")
    before = wallet_path(home).read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeystoreError) as exc_info:
        wallet.create_did("key", alias="lost")
    assert exc_info.value.code == "keystore.error"
    monkeypatch.undo()
    assert [r.alias for r in wallet.list_dids()] == ["did-1"]
    assert wallet_path(home).read_bytes() == before
    assert wallet.create_did("key").alias == "did-2"


# --- the payload --------------------------------------------------------------------


def test_unknown_payload_members_are_kept(home, now):
    path = wallet_path(home)
    home.mkdir()
    payload = {"format": 1, "dids": [], "items": [{"id": "urn:x"}]}
    Keystore.create(path, payload, PASSPHRASE, kdf=TESTING).close()
    with reopen(home) as wallet:
        wallet.create_did("key")
    with Keystore.open(path, PASSPHRASE, kdf_floor=TESTING) as store:
        assert store.payload["items"] == [{"id": "urn:x"}]
        assert len(store.payload["dids"]) == 1


def test_damaged_credential_entry_is_refused_as_damage(home):
    home.mkdir()
    payload = {"format": 1, "dids": [], "credentials": [{"id": "urn:x"}]}
    Keystore.create(wallet_path(home), payload, PASSPHRASE, kdf=TESTING).close()
    with pytest.raises(KeystoreUnlockError) as exc_info:
        reopen(home)
    assert exc_info.value.code == "keystore.unlock-failed"


def test_newer_wallet_format_is_unsupported(home):
    home.mkdir()
    payload = {"format": 2, "dids": []}
    Keystore.create(wallet_path(home), payload, PASSPHRASE, kdf=TESTING).close()
    with pytest.raises(UnsupportedError) as exc_info:
        reopen(home)
    assert exc_info.value.code == "input.unsupported"
    # the failed open released the lock
    Keystore.open(wallet_path(home), PASSPHRASE, kdf_floor=TESTING).close()


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda p: p.pop("dids"), id="no-dids"),
        pytest.param(lambda p: p.update(format="1"), id="format-not-int"),
        pytest.param(lambda p: p["dids"][0].pop("did"), id="entry-missing-member"),
        pytest.param(
            lambda p: p["dids"][0].update(
                secret_key_multibase=PrivateKey.generate().to_multikey()
            ),
            id="key-does-not-match-did",
        ),
        pytest.param(
            lambda p: p["dids"].append(dict(p["dids"][0])), id="duplicate-entry"
        ),
        pytest.param(
            lambda p: p["dids"][0].update(created_at="yesterday"), id="bad-time"
        ),
        pytest.param(lambda p: p["dids"][0].update(method="web"), id="bad-method"),
    ],
)
def test_authentic_but_inconsistent_content_is_refused(wallet, home, mutate):
    wallet.create_did("key")
    wallet.close()
    with Keystore.open(wallet_path(home), PASSPHRASE, kdf_floor=TESTING) as store:
        payload = store.payload
        mutate(payload)
        store.write(payload)
    with pytest.raises(KeystoreUnlockError) as exc_info:
        reopen(home)
    assert exc_info.value.code == "keystore.unlock-failed"


# --- passphrase change --------------------------------------------------------------


def test_change_passphrase(wallet, home):
    record = wallet.create_did("key")
    wallet.change_passphrase("new passphrase")
    wallet.create_did("jwk")  # writes after the change use the new key
    wallet.close()
    with pytest.raises(KeystoreUnlockError):
        reopen(home)
    with reopen(home, "new passphrase") as again:
        assert again.list_dids()[0] == record
        assert len(again.list_dids()) == 2


def test_crash_during_passphrase_change_leaves_the_old_wallet(
    wallet, home, monkeypatch
):
    record = wallet.create_did("key")

    def crash(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeystoreError):
        wallet.change_passphrase("new passphrase")
    monkeypatch.undo()
    wallet.close()
    with pytest.raises(KeystoreUnlockError):
        reopen(home, "new passphrase")
    with reopen(home) as again:
        assert again.list_dids() == [record]


# --- backups ------------------------------------------------------------------------


@pytest.fixture
def backup(wallet, tmp_path, now):
    wallet.create_did("key", alias="phone")
    wallet.create_did("jwk", algorithm=KeyAlgorithm.P256, alias="bike")
    path = tmp_path / "wallet.backup"
    wallet.export_backup(path, BACKUP_PASSPHRASE, kdf=TESTING, now=now)
    return path


def test_backup_round_trips_into_a_new_home(wallet, backup, tmp_path):
    new_home = tmp_path / "restored"
    assert mode_of(backup) == 0o600
    assert backup.read_bytes()[:8] == b"DVBACKUP"
    with Wallet.import_backup(
        backup,
        BACKUP_PASSPHRASE,
        home=new_home,
        passphrase="restored passphrase",
        kdf=TESTING,
        kdf_floor=TESTING,
    ) as restored:
        assert restored.path == wallet_path(new_home)
        assert restored.list_dids() == wallet.list_dids()
        for record in wallet.list_dids():
            assert restored.signing_key(record.alias) == wallet.signing_key(
                record.alias
            )
    assert mode_of(wallet_path(new_home)) == 0o600
    with reopen(new_home, "restored passphrase") as again:
        assert [r.alias for r in again.list_dids()] == ["phone", "bike"]


def test_import_refuses_an_existing_wallet(backup, home):
    with pytest.raises(KeystoreExistsError) as exc_info:
        Wallet.import_backup(
            backup,
            BACKUP_PASSPHRASE,
            home=home,
            passphrase=PASSPHRASE,
            kdf=TESTING,
            kdf_floor=TESTING,
        )
    assert exc_info.value.code == "keystore.exists"


def test_import_with_the_wrong_backup_passphrase_fails(backup, tmp_path):
    new_home = tmp_path / "restored"
    with pytest.raises(KeystoreUnlockError) as exc_info:
        Wallet.import_backup(
            backup,
            PASSPHRASE,
            home=new_home,
            passphrase=PASSPHRASE,
            kdf=TESTING,
            kdf_floor=TESTING,
        )
    assert exc_info.value.code == "keystore.unlock-failed"
    assert not Wallet.exists(new_home)


def test_import_of_a_tampered_backup_fails(backup, tmp_path):
    flip(backup, -5)
    with pytest.raises(KeystoreUnlockError) as exc_info:
        Wallet.import_backup(
            backup,
            BACKUP_PASSPHRASE,
            home=tmp_path / "restored",
            passphrase=PASSPHRASE,
            kdf=TESTING,
            kdf_floor=TESTING,
        )
    assert exc_info.value.code == "keystore.unlock-failed"


def test_import_with_the_default_floor_refuses_a_testing_backup(backup, tmp_path):
    with pytest.raises(WeakKDFParametersError) as exc_info:
        Wallet.import_backup(
            backup,
            BACKUP_PASSPHRASE,
            home=tmp_path / "restored",
            passphrase=PASSPHRASE,
        )
    assert exc_info.value.code == "keystore.kdf-too-weak"


def test_a_wallet_file_is_not_a_backup(wallet, home, tmp_path):
    wallet.close()
    with pytest.raises(KeystoreUnlockError) as exc_info:
        Wallet.import_backup(
            wallet_path(home),
            PASSPHRASE,
            home=tmp_path / "restored",
            passphrase=PASSPHRASE,
            kdf=TESTING,
            kdf_floor=TESTING,
        )
    assert exc_info.value.code == "keystore.unlock-failed"


def test_a_backup_is_not_a_wallet(backup, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    wallet_path(other).write_bytes(backup.read_bytes())
    with pytest.raises(KeystoreUnlockError) as exc_info:
        reopen(other, BACKUP_PASSPHRASE)
    assert exc_info.value.code == "keystore.unlock-failed"


def test_export_never_overwrites(wallet, backup):
    with pytest.raises(KeystoreExistsError) as exc_info:
        wallet.export_backup(backup, BACKUP_PASSPHRASE, kdf=TESTING)
    assert exc_info.value.code == "keystore.exists"


def test_import_of_a_missing_backup_is_not_found(tmp_path):
    with pytest.raises(KeystoreNotFoundError) as exc_info:
        Wallet.import_backup(
            tmp_path / "missing",
            BACKUP_PASSPHRASE,
            home=tmp_path / "restored",
            passphrase=PASSPHRASE,
            kdf_floor=TESTING,
        )
    assert exc_info.value.code == "keystore.not-found"


def test_newer_backup_format_is_unsupported(tmp_path):
    path = tmp_path / "future.backup"
    seal_file(
        path,
        {"format": 2, "wallet": {}},
        BACKUP_PASSPHRASE,
        kind=ContainerKind.BACKUP,
        kdf=TESTING,
    )
    with pytest.raises(UnsupportedError) as exc_info:
        Wallet.import_backup(
            path,
            BACKUP_PASSPHRASE,
            home=tmp_path / "restored",
            passphrase=PASSPHRASE,
            kdf=TESTING,
            kdf_floor=TESTING,
        )
    assert exc_info.value.code == "input.unsupported"
    assert not Wallet.exists(tmp_path / "restored")
