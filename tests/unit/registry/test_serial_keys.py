"""Keyed identity hashes and the serial key file."""

import os

import pytest

from registry.config import Settings
from registry.errors import ConfigurationError
from registry.serial_keys import (
    SerialKey,
    load_serial_key,
    read_serial_key_file,
    write_serial_key_file,
)


def test_identity_hash_is_keyed_hmac_sha256():
    key = SerialKey(bytes(32))
    other = SerialKey(bytes([1]) * 32)
    digest = key.identity_hash("01/09520123456788/21/8kq2-00042x")
    assert len(digest) == 64
    assert digest == key.identity_hash("01/09520123456788/21/8kq2-00042x")
    assert digest != other.identity_hash("01/09520123456788/21/8kq2-00042x")
    assert "8kq2" not in digest


def test_short_key_is_refused():
    with pytest.raises(ValueError, match="32"):
        SerialKey(bytes(16))


def test_key_repr_hides_material():
    assert "\\x00" not in repr(SerialKey(bytes(32)))


def test_key_file_round_trip(tmp_path):
    path = tmp_path / "serial.key"
    write_serial_key_file(path, bytes(range(32)))
    assert read_serial_key_file(path) == SerialKey(bytes(range(32)))
    hex_path = tmp_path / "hex.key"
    hex_path.write_text(bytes(range(32)).hex())
    hex_path.chmod(0o600)
    assert read_serial_key_file(hex_path) == SerialKey(bytes(range(32)))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_key_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "serial.key"
    write_serial_key_file(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError):
        read_serial_key_file(path)


def test_missing_or_short_key_file_is_refused(tmp_path):
    with pytest.raises(ConfigurationError):
        read_serial_key_file(tmp_path / "absent")
    short = tmp_path / "short.key"
    short.write_text("abcd")
    short.chmod(0o600)
    with pytest.raises(ConfigurationError):
        read_serial_key_file(short)


def test_development_key_is_created_once_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("registry.config.data_folder", lambda: tmp_path)
    first = load_serial_key(Settings())
    second = load_serial_key(Settings())
    assert first == second
    assert "REGISTRY_SERIAL_KEY_FILE" in caplog.text


def test_configured_key_file_is_used(tmp_path):
    path = tmp_path / "serial.key"
    write_serial_key_file(path, bytes([7]) * 32)
    assert load_serial_key(Settings(serial_key_file=path)) == SerialKey(bytes([7]) * 32)


def test_pseudonyms_are_keyed_and_separated_by_purpose():
    key, other = SerialKey(bytes(32)), SerialKey(bytes([1]) * 32)
    pseudonym = key.pseudonym("rate-limit", "192.0.2.1")
    assert len(pseudonym) == 64
    assert pseudonym == key.pseudonym("rate-limit", "192.0.2.1")
    assert pseudonym != other.pseudonym("rate-limit", "192.0.2.1")
    assert pseudonym != key.pseudonym("another-purpose", "192.0.2.1")
    assert pseudonym != key.identity_hash("192.0.2.1")
    assert "192.0.2.1" not in pseudonym
