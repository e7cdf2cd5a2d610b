"""Settings come from REGISTRY_* and are validated at start (config.invalid)."""

import pytest

from registry.config import Settings, default_database_url, load_settings
from registry.errors import ConfigurationError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DATABASE_URL", "TLS_CERT_FILE", "TLS_KEY_FILE", "TOKEN_TTL_SECONDS"):
        monkeypatch.delenv(f"REGISTRY_{name}", raising=False)


def test_defaults_use_embedded_sqlite():
    settings = load_settings()
    assert settings.resolved_database_url() == default_database_url()
    assert default_database_url().startswith("sqlite:///")


def test_reads_prefixed_environment(monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("REGISTRY_TOKEN_TTL_SECONDS", "120")
    monkeypatch.setenv(
        "REGISTRY_VCAPI_ISSUERS",
        '[{"name": "a", "key_file": "/k", "cryptosuite": "x"}]',
    )
    settings = load_settings()
    assert settings.resolved_database_url() == "postgresql://u@127.0.0.1/db"
    assert settings.token_ttl_seconds == 120
    assert settings.vcapi_issuers[0].name == "a"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x/y"),
        ("DATABASE_URL", "::::"),
        ("TOKEN_TTL_SECONDS", "1"),
        ("LOG_LEVEL", "chatty"),
        ("PROBLEM_BASE_URI", "relative/"),
        ("TLS_CERT_FILE", "/only/cert.pem"),
        ("TRUSTED_PROXIES", "10.0.0.7,proxy.example"),
    ],
)
def test_bad_setting_is_a_configuration_error(monkeypatch, name, value):
    monkeypatch.setenv(f"REGISTRY_{name}", value)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert info.value.exit_code == 78
    assert value not in info.value.detail or name == "TLS_CERT_FILE"


def test_secret_never_shows(monkeypatch):
    monkeypatch.setenv("REGISTRY_TLS_KEY_PASSWORD", "hunter2")
    settings = Settings()
    assert "hunter2" not in repr(settings)


def test_trusted_proxies_are_a_list_of_addresses_and_networks(monkeypatch):
    monkeypatch.setenv("REGISTRY_TRUSTED_PROXIES", " 10.0.0.7, 192.168.0.0/24,,::1 ")
    assert load_settings().trusted_proxy_list() == [
        "10.0.0.7",
        "192.168.0.0/24",
        "::1",
    ]
