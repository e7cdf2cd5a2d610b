"""Tests for did_vault.keystore: format, tampering, KDF floor, atomic writes, lock."""

import json
import os
import stat
import struct
import subprocess
import sys
from pathlib import Path

import filelock
import pytest
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from did_vault import keystore
from did_vault.errors import (
    KeystoreError,
    KeystoreExistsError,
    KeystoreLockedError,
    KeystoreNotFoundError,
    KeystoreUnlockError,
    WeakKDFParametersError,
)
from did_vault.keystore import (
    HEADER_SIZE,
    TAG_SIZE,
    ContainerKind,
    KDFParameters,
    Keystore,
    seal,
    seal_file,
    unseal,
    unseal_file,
)

TESTING = KDFParameters.TESTING
PASSPHRASE = "correct horse battery staple"
PAYLOAD = {"format": 1, "dids": [{"alias": "did-1", "secret": "zSECRET"}]}


def counter_bytes(start: int = 0):
    """A deterministic randbytes: 0x00, 0x01, ... continuing across calls."""
    state = [start]

    def randbytes(n: int) -> bytes:
        out = bytes((state[0] + i) % 256 for i in range(n))
        state[0] += n
        return out

    return randbytes


def sealed(**kwargs) -> bytes:
    kwargs.setdefault("kdf", TESTING)
    return seal(PAYLOAD, PASSPHRASE, **kwargs)


def flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[offset] ^= mask
    return bytes(out)


def open_bytes(data: bytes, passphrase: str = PASSPHRASE, **kwargs):
    kwargs.setdefault("kdf_floor", TESTING)
    return unseal(data, passphrase, **kwargs)


@pytest.fixture
def wallet_path(tmp_path: Path) -> Path:
    return tmp_path / "wallet.dvault"


@pytest.fixture
def store(wallet_path: Path):
    ks = Keystore.create(wallet_path, PAYLOAD, PASSPHRASE, kdf=TESTING)
    yield ks
    ks.close()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- parameters ---------------------------------------------------------------------


def test_minimum_parameters_are_rfc9106_low_memory_option():
    assert KDFParameters(3, 64 * 1024, 4) == KDFParameters.MINIMUM


def test_production_parameters_meet_the_minimum_with_the_same_memory():
    assert KDFParameters.PRODUCTION.meets(KDFParameters.MINIMUM)
    assert (
        KDFParameters.PRODUCTION.memory_cost_kib
        == KDFParameters.MINIMUM.memory_cost_kib
    )


def test_testing_parameters_are_cheaper_than_production():
    assert not TESTING.meets(KDFParameters.MINIMUM)
    assert not TESTING.meets(KDFParameters.PRODUCTION)
    assert KDFParameters.PRODUCTION.meets(TESTING)


def test_parallelism_is_not_part_of_the_floor():
    fewer_lanes = KDFParameters(3, 64 * 1024, 1)
    assert fewer_lanes.meets(KDFParameters.MINIMUM)


@pytest.mark.parametrize(
    ("t", "m", "p"),
    [
        (0, 1024, 1),
        (1, 1024, 0),
        (1, 7, 1),
        (1, 31, 4),
        (65, 1024, 1),
        (1, 2**22 + 1, 1),
    ],
)
def test_kdf_parameters_reject_impossible_or_absurd_values(t, m, p):
    with pytest.raises(ValueError, match="must be in"):
        KDFParameters(t, m, p)


def test_kdf_parameters_reject_non_integers():
    with pytest.raises(TypeError):
        KDFParameters(True, 1024, 1)


# --- the format ---------------------------------------------------------------------


def test_header_layout_is_as_documented():
    data = sealed(randbytes=counter_bytes())
    magic, version, kdf_id, t, m, p, salt, aead_id, nonce = struct.unpack_from(
        ">8sBBIII16sB12s", data
    )
    assert (magic, version, kdf_id, aead_id) == (b"DVWALLET", 1, 1, 1)
    assert (t, m, p) == (1, 1024, 1)
    assert salt == bytes(range(16))
    assert nonce == bytes(range(16, 28))
    assert HEADER_SIZE == 51
    assert (len(data) - HEADER_SIZE - TAG_SIZE) % keystore.PADDING_BLOCK == 0


def test_seal_matches_an_independent_rebuild_of_the_documented_format():
    # Rebuilt from the design note with argon2 and cryptography directly, so a change
    # to the format (which would strand existing wallet files) fails here.
    salt, nonce = bytes(range(16)), bytes(range(16, 28))
    header = b"DVWALLET" + bytes([1, 1]) + struct.pack(">III", 1, 1024, 1)
    header += salt + bytes([1]) + nonce
    key = hash_secret_raw(
        secret=PASSPHRASE.encode(),
        salt=salt,
        time_cost=1,
        memory_cost=1024,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
        version=0x13,
    )
    text = json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":")).encode()
    padded = text.ljust(512, b" ")
    expected = header + ChaCha20Poly1305(key).encrypt(nonce, padded, header)
    assert sealed(randbytes=counter_bytes()) == expected


def test_seal_then_unseal_round_trips():
    assert open_bytes(sealed()) == PAYLOAD


def test_backup_kind_has_its_own_magic():
    data = sealed(kind=ContainerKind.BACKUP)
    assert data[:8] == b"DVBACKUP"
    assert open_bytes(data, kind=ContainerKind.BACKUP) == PAYLOAD


def test_backup_cannot_be_opened_as_a_wallet():
    data = sealed(kind=ContainerKind.BACKUP)
    with pytest.raises(KeystoreUnlockError) as exc_info:
        open_bytes(data, kind=ContainerKind.WALLET)
    assert exc_info.value.code == "keystore.unlock-failed"


def test_ciphertext_does_not_contain_the_plaintext():
    data = sealed()
    assert b"zSECRET" not in data
    assert b"did-1" not in data


def test_passphrase_is_unicode_normalised():
    data = seal(PAYLOAD, "caf\u00e9", kdf=TESTING)
    assert open_bytes(data, "cafe\u0301") == PAYLOAD


def test_seal_refuses_an_empty_passphrase():
    with pytest.raises(ValueError, match="empty"):
        seal(PAYLOAD, "", kdf=TESTING)


def test_seal_with_default_parameters_uses_production_and_opens(wallet_path):
    # The one test that pays for PRODUCTION parameters: the default path works.
    data = seal(PAYLOAD, PASSPHRASE)
    assert struct.unpack_from(">III", data, 10) == (8, 65536, 4)
    assert unseal(data, PASSPHRASE) == PAYLOAD


# --- refusals -----------------------------------------------------------------------


def test_wrong_passphrase_is_refused():
    with pytest.raises(KeystoreUnlockError) as exc_info:
        open_bytes(sealed(), "not the passphrase")
    assert exc_info.value.code == "keystore.unlock-failed"


def test_unlock_error_reveals_nothing():
    with pytest.raises(KeystoreUnlockError) as exc_info:
        open_bytes(sealed(), "hunter2-wrong")
    err = exc_info.value
    assert "hunter2" not in str(err)
    assert err.context == {}
    assert err.to_dict()["detail"] == "wrong passphrase or damaged file"


REGIONS = {
    "magic": range(0, 8),
    "version": range(8, 9),
    "kdf-id": range(9, 10),
    "time-cost": range(10, 14),
    "memory-cost": range(14, 18),
    "parallelism": range(18, 22),
    "salt": range(22, 38),
    "aead-id": range(38, 39),
    "nonce": range(39, 51),
    "ciphertext": range(51, 51 + 64),
}


@pytest.mark.parametrize("mask", [0x01, 0x80], ids=["low-bit", "high-bit"])
@pytest.mark.parametrize("region", list(REGIONS))
def test_every_flipped_byte_in_each_region_is_refused(region, mask):
    data = sealed()
    for offset in REGIONS[region]:
        with pytest.raises(KeystoreUnlockError) as exc_info:
            open_bytes(flip(data, offset, mask))
        assert exc_info.value.code == "keystore.unlock-failed", (region, offset)


@pytest.mark.parametrize("mask", [0x01, 0x80], ids=["low-bit", "high-bit"])
def test_every_flipped_byte_in_the_tag_is_refused(mask):
    data = sealed()
    for offset in range(len(data) - TAG_SIZE, len(data)):
        with pytest.raises(KeystoreUnlockError) as exc_info:
            open_bytes(flip(data, offset, mask))
        assert exc_info.value.code == "keystore.unlock-failed"


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda d: b"", id="empty"),
        pytest.param(lambda d: d[:7], id="inside-magic"),
        pytest.param(lambda d: d[:HEADER_SIZE], id="header-only"),
        pytest.param(lambda d: d[: HEADER_SIZE + TAG_SIZE - 1], id="short-of-tag"),
        pytest.param(lambda d: d[:-1], id="last-byte"),
        pytest.param(lambda d: d[:-TAG_SIZE], id="without-tag"),
        pytest.param(lambda d: d + b"\x00", id="extended-by-one"),
        pytest.param(lambda d: d + d, id="doubled"),
        pytest.param(
            lambda d: d[:HEADER_SIZE] + d[HEADER_SIZE + 1 :], id="byte-removed"
        ),
    ],
)
def test_truncated_or_extended_file_is_refused(cut):
    with pytest.raises(KeystoreUnlockError) as exc_info:
        open_bytes(cut(sealed()))
    assert exc_info.value.code == "keystore.unlock-failed"


def test_header_of_another_file_is_refused():
    one, other = sealed(), sealed()
    with pytest.raises(KeystoreUnlockError) as exc_info:
        open_bytes(other[:HEADER_SIZE] + one[HEADER_SIZE:])
    assert exc_info.value.code == "keystore.unlock-failed"


def test_parameters_below_the_default_floor_are_refused():
    with pytest.raises(WeakKDFParametersError) as exc_info:
        unseal(sealed(), PASSPHRASE)
    assert exc_info.value.code == "keystore.kdf-too-weak"
    assert exc_info.value.context == {
        "time_cost": 1,
        "memory_cost_kib": 1024,
        "parallelism": 1,
    }


def test_weak_parameters_are_refused_before_any_key_derivation(monkeypatch):
    data = sealed()

    def no_kdf(**kwargs):
        raise AssertionError("the KDF must not run")

    monkeypatch.setattr(keystore, "hash_secret_raw", no_kdf)
    with pytest.raises(WeakKDFParametersError):
        unseal(data, PASSPHRASE)


def test_header_tampered_down_to_below_the_floor_is_refused():
    floor = KDFParameters(2, 2048, 1)
    data = sealed(kdf=floor)
    lowered = data[:10] + struct.pack(">I", 1) + data[14:]
    with pytest.raises(WeakKDFParametersError) as exc_info:
        open_bytes(lowered, kdf_floor=floor)
    assert exc_info.value.code == "keystore.kdf-too-weak"


@pytest.mark.parametrize(
    ("offset", "value"),
    [
        pytest.param(10, 65, id="time-cost"),
        pytest.param(14, 4 * 1024 * 1024 + 1, id="memory-cost"),
        pytest.param(18, 65, id="parallelism"),
        pytest.param(14, 0xFFFFFFFF, id="memory-cost-max"),
    ],
)
def test_absurd_parameters_are_damage_and_never_reach_the_kdf(
    monkeypatch, offset, value
):
    data = sealed()
    tampered = data[:offset] + struct.pack(">I", value) + data[offset + 4 :]

    def no_kdf(**kwargs):
        raise AssertionError("the KDF must not run")

    monkeypatch.setattr(keystore, "hash_secret_raw", no_kdf)
    with pytest.raises(KeystoreUnlockError) as exc_info:
        open_bytes(tampered)
    assert exc_info.value.code == "keystore.unlock-failed"


@pytest.mark.parametrize("plaintext", [b"[1, 2]", b"\xff\xfe", b"not json"])
def test_authentic_but_malformed_payload_is_damage(plaintext):
    # Only someone holding the key could produce this; it still yields no data.
    salt, nonce = bytes(16), bytes(12)
    key = keystore._derive_key(PASSPHRASE, salt, TESTING)
    header = keystore._Header(ContainerKind.WALLET, TESTING, salt, nonce).pack()
    body = ChaCha20Poly1305(key).encrypt(nonce, plaintext, header)
    with pytest.raises(KeystoreUnlockError):
        open_bytes(header + body)


# --- files --------------------------------------------------------------------------


def test_create_writes_mode_0600_and_opens(store, wallet_path):
    assert mode_of(wallet_path) == 0o600
    store.close()
    with Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING) as again:
        assert again.payload == PAYLOAD
        assert again.kdf == TESTING


def test_mode_is_0600_even_with_a_permissive_umask(wallet_path):
    old = os.umask(0)
    try:
        Keystore.create(wallet_path, PAYLOAD, PASSPHRASE, kdf=TESTING).close()
    finally:
        os.umask(old)
    assert mode_of(wallet_path) == 0o600
    assert mode_of(keystore.lock_path(wallet_path)) == 0o600


def test_write_keeps_mode_uses_a_fresh_nonce_and_leaves_no_temp_files(
    store, wallet_path
):
    first = wallet_path.read_bytes()
    store.write(PAYLOAD)
    second = wallet_path.read_bytes()
    assert first[22:38] == second[22:38]  # same salt: no new key derivation
    assert first[39:51] != second[39:51]  # fresh nonce
    assert mode_of(wallet_path) == 0o600
    assert sorted(p.name for p in wallet_path.parent.iterdir()) == [
        "wallet.dvault",
        "wallet.dvault.lock",
    ]


def test_write_replaces_the_payload(store, wallet_path):
    store.write({"format": 1, "dids": []})
    assert store.payload == {"format": 1, "dids": []}
    store.close()
    assert unseal_file(
        wallet_path, PASSPHRASE, kind=ContainerKind.WALLET, kdf_floor=TESTING
    ) == {"format": 1, "dids": []}


def test_payload_is_a_copy(store):
    store.payload["dids"].clear()
    assert store.payload == PAYLOAD


def test_create_refuses_an_existing_file(store, wallet_path):
    store.close()
    with pytest.raises(KeystoreExistsError) as exc_info:
        Keystore.create(wallet_path, PAYLOAD, PASSPHRASE, kdf=TESTING)
    assert exc_info.value.code == "keystore.exists"


def test_open_refuses_a_missing_file(wallet_path):
    with pytest.raises(KeystoreNotFoundError) as exc_info:
        Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING)
    assert exc_info.value.code == "keystore.not-found"


def test_open_of_a_tampered_file_fails_and_releases_the_lock(store, wallet_path):
    store.close()
    good = wallet_path.read_bytes()
    wallet_path.write_bytes(flip(good, len(good) - 1))
    with pytest.raises(KeystoreUnlockError) as exc_info:
        Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING)
    assert exc_info.value.code == "keystore.unlock-failed"
    wallet_path.write_bytes(good)
    Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING).close()


def test_open_with_default_floor_refuses_a_testing_wallet(store, wallet_path):
    store.close()
    with pytest.raises(WeakKDFParametersError) as exc_info:
        Keystore.open(wallet_path, PASSPHRASE)
    assert exc_info.value.code == "keystore.kdf-too-weak"


def test_failed_write_leaves_the_old_file_and_state(store, wallet_path, monkeypatch):
    before = wallet_path.read_bytes()

    def crash(fd):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeystoreError) as exc_info:
        store.write({"format": 1, "dids": []})
    assert exc_info.value.code == "keystore.error"
    monkeypatch.undo()
    assert wallet_path.read_bytes() == before
    assert store.payload == PAYLOAD
    assert not list(wallet_path.parent.glob("*.tmp"))


def test_closed_keystore_refuses_use_and_closes_twice(store):
    store.close()
    store.close()
    assert store.is_closed
    with pytest.raises(ValueError, match="closed"):
        store.write(PAYLOAD)
    with pytest.raises(ValueError, match="closed"):
        _ = store.payload


def test_repr_shows_no_secret(store):
    text = repr(store)
    assert "Keystore(wallet" in text
    assert "open" in text
    assert PASSPHRASE not in text
    assert store._key is not None
    assert store._key.hex() not in text


# --- passphrase change --------------------------------------------------------------


def test_change_passphrase_re_encrypts_under_a_new_salt(store, wallet_path):
    before = wallet_path.read_bytes()
    store.change_passphrase("new passphrase")
    after = wallet_path.read_bytes()
    assert before[22:38] != after[22:38]
    store.close()
    with pytest.raises(KeystoreUnlockError):
        Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING)
    with Keystore.open(wallet_path, "new passphrase", kdf_floor=TESTING) as again:
        assert again.payload == PAYLOAD


def test_change_passphrase_can_raise_the_kdf_parameters(store, wallet_path):
    stronger = KDFParameters(2, 2048, 1)
    store.change_passphrase("new passphrase", kdf=stronger)
    store.write(PAYLOAD)  # later writes keep the new parameters
    store.close()
    with Keystore.open(wallet_path, "new passphrase", kdf_floor=stronger) as again:
        assert again.kdf == stronger


def test_change_passphrase_refuses_an_empty_one(store):
    with pytest.raises(ValueError, match="empty"):
        store.change_passphrase("")


def test_crash_during_passphrase_change_leaves_the_old_file(
    store, wallet_path, monkeypatch
):
    def crash(src, dst):
        raise OSError("power cut before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeystoreError) as exc_info:
        store.change_passphrase("new passphrase")
    assert exc_info.value.code == "keystore.error"
    monkeypatch.undo()
    assert not list(wallet_path.parent.glob("*.tmp"))
    # The open keystore still writes under the old passphrase...
    store.write({"format": 1, "dids": []})
    store.close()
    # ...and the file on disk opens with it, never with the new one.
    with pytest.raises(KeystoreUnlockError):
        Keystore.open(wallet_path, "new passphrase", kdf_floor=TESTING)
    with Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING) as again:
        assert again.payload == {"format": 1, "dids": []}


def test_crash_after_rename_leaves_the_new_file(store, wallet_path, monkeypatch):
    real_replace = os.replace

    def replace_then_crash(src, dst):
        real_replace(src, dst)
        raise OSError("power cut after rename")

    monkeypatch.setattr(os, "replace", replace_then_crash)
    with pytest.raises(KeystoreError):
        store.change_passphrase("new passphrase")
    monkeypatch.undo()
    store.close()
    with Keystore.open(wallet_path, "new passphrase", kdf_floor=TESTING) as again:
        assert again.payload == PAYLOAD


# --- the lock -----------------------------------------------------------------------


def test_second_open_while_first_holds_the_lock_is_refused(store, wallet_path):
    with pytest.raises(KeystoreLockedError) as exc_info:
        Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING)
    assert exc_info.value.code == "keystore.locked"
    store.close()
    Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING).close()


def test_open_is_refused_while_another_lock_holder_exists(store, wallet_path):
    store.close()
    holder = filelock.FileLock(keystore.lock_path(wallet_path), timeout=0)
    with holder, pytest.raises(KeystoreLockedError) as exc_info:
        Keystore.open(wallet_path, PASSPHRASE, kdf_floor=TESTING, lock_timeout=0.01)
    assert exc_info.value.code == "keystore.locked"


def test_create_is_refused_while_another_process_holds_the_lock(wallet_path):
    script = (
        "import sys, filelock\n"
        "lock = filelock.FileLock(sys.argv[1], timeout=5)\n"
        "lock.acquire()\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(keystore.lock_path(wallet_path))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(KeystoreLockedError) as exc_info:
            Keystore.create(wallet_path, PAYLOAD, PASSPHRASE, kdf=TESTING)
        assert exc_info.value.code == "keystore.locked"
        assert not wallet_path.exists()
    finally:
        holder.communicate("", timeout=10)
    Keystore.create(wallet_path, PAYLOAD, PASSPHRASE, kdf=TESTING).close()


# --- standalone files (backups) -----------------------------------------------------


def test_seal_file_round_trips_and_never_overwrites(tmp_path):
    path = tmp_path / "backup.dvault-backup"
    seal_file(path, PAYLOAD, PASSPHRASE, kind=ContainerKind.BACKUP, kdf=TESTING)
    assert mode_of(path) == 0o600
    assert (
        unseal_file(path, PASSPHRASE, kind=ContainerKind.BACKUP, kdf_floor=TESTING)
        == PAYLOAD
    )
    with pytest.raises(KeystoreExistsError) as exc_info:
        seal_file(path, {}, PASSPHRASE, kind=ContainerKind.BACKUP, kdf=TESTING)
    assert exc_info.value.code == "keystore.exists"


def test_publishing_a_new_file_loses_a_race_safely(tmp_path, monkeypatch):
    path = tmp_path / "backup.dvault-backup"
    real_link = os.link

    def racing_link(src, dst):
        path.write_bytes(b"someone else's")
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(KeystoreExistsError):
        seal_file(path, PAYLOAD, PASSPHRASE, kind=ContainerKind.BACKUP, kdf=TESTING)
    assert path.read_bytes() == b"someone else's"
    assert not list(tmp_path.glob("*.tmp"))


def test_unseal_file_of_a_missing_file_is_not_found(tmp_path):
    with pytest.raises(KeystoreNotFoundError) as exc_info:
        unseal_file(tmp_path / "nope", PASSPHRASE, kind=ContainerKind.BACKUP)
    assert exc_info.value.code == "keystore.not-found"


def test_describe_is_json_safe():
    assert KDFParameters.MINIMUM.describe() == {
        "algorithm": "argon2id",
        "time_cost": 3,
        "memory_cost_kib": 65536,
        "parallelism": 4,
    }
