"""The registry's identity from a key file (mode checked), or a development key."""

import json
import logging
import os

import pytest

from did_vault import KeyAlgorithm, PrivateKey, ResolutionError
from registry.config import Settings
from registry.errors import ConfigurationError
from registry.identity import (
    RegistryIdentity,
    SelfResolver,
    load_identity,
    read_key_file,
    write_key_file,
)

KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))


def _write(path, text, mode=0o600):
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_reads_multikey_secret(tmp_path):
    path = _write(tmp_path / "key", KEY.to_multikey() + "\n")
    assert read_key_file(path) == KEY


def test_reads_private_jwk(tmp_path):
    p256 = PrivateKey(KeyAlgorithm.P256, bytes([7]) * 32)
    path = _write(tmp_path / "key.jwk", json.dumps(p256.to_jwk()))
    assert read_key_file(path) == p256


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_refuses_key_file_others_can_read(tmp_path, mode):
    path = _write(tmp_path / "key", KEY.to_multikey(), mode=mode)
    with pytest.raises(ConfigurationError):
        read_key_file(path)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a key",
        KEY.public_key.to_multikey(),
        json.dumps(KEY.public_key.to_jwk()),
    ],
    ids=["empty", "garbage", "public-multikey", "public-jwk"],
)
def test_refuses_what_is_not_a_private_key(tmp_path, text):
    path = _write(tmp_path / "key", text)
    with pytest.raises(ConfigurationError) as info:
        read_key_file(path)
    assert KEY.to_multikey() not in str(info.value)


def test_missing_key_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError):
        read_key_file(tmp_path / "absent")


def test_write_key_file_is_private_and_never_overwrites(tmp_path):
    path = tmp_path / "sub" / "key"
    write_key_file(path, KEY)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        write_key_file(path, KEY)


def test_configured_key_gives_did_web_identity(tmp_path):
    path = _write(tmp_path / "key", KEY.to_multikey())
    identity = load_identity(
        Settings.model_construct(
            signing_key_file=path, did_domain="registry.example", did_port=8443
        )
    )
    assert identity.did == "did:web:registry.example%3A8443"
    assert identity.verification_method.endswith(KEY.public_key.to_multikey())
    assert not identity.is_development_key
    assert KEY.to_multikey() not in repr(identity)


def test_development_key_is_created_once_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("registry.config.data_folder", lambda: tmp_path)
    settings = Settings.model_construct(signing_key_file=None, did_domain="localhost")
    with caplog.at_level(logging.WARNING, logger="registry.identity"):
        first = load_identity(settings)
        second = load_identity(settings)
    assert first.key == second.key
    assert first.is_development_key
    assert "REGISTRY_SIGNING_KEY_FILE" in caplog.records[0].getMessage()


def test_bad_domain_is_a_configuration_error(tmp_path):
    path = _write(tmp_path / "key", KEY.to_multikey())
    with pytest.raises(ConfigurationError):
        load_identity(
            Settings.model_construct(signing_key_file=path, did_domain="not a host")
        )


def test_item_did_and_document_name_owner_as_controller():
    identity = RegistryIdentity.from_key(KEY, domain="registry.example")
    assert identity.item_did("abc") == "did:web:registry.example:items:abc"
    document = identity.item_document("abc", controllers=["did:example:owner"])
    assert document["id"] == "did:web:registry.example:items:abc"
    assert document["controller"] == [identity.did, "did:example:owner"]


class _Unreachable:
    """A resolver for everything but the registry: records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def resolve(self, did: str, /):
        self.asked.append(did)
        raise ResolutionError("unreachable", did=did)


def test_self_resolver_answers_the_registry_did_from_its_identity():
    identity = RegistryIdentity.from_key(KEY, domain="registry.example", port=8443)
    inner = _Unreachable()

    document = SelfResolver(identity, inner).resolve(identity.did)

    assert document == identity.document
    assert inner.asked == []


def test_self_resolver_passes_other_dids_on():
    identity = RegistryIdentity.from_key(KEY, domain="registry.example")
    inner = _Unreachable()
    other = "did:web:brand.example"

    with pytest.raises(ResolutionError):
        SelfResolver(identity, inner).resolve(other)
    with pytest.raises(ResolutionError):
        SelfResolver(identity, inner).resolve(identity.item_did("abc"))

    assert inner.asked == [other, identity.item_did("abc")]
