"""Registry settings, read from the environment (``REGISTRY_`` prefix).

With no configuration at all the registry runs on its embedded default: a SQLite
file in the platform's user data folder, and a development signing key created
there on first start. Settings are validated once, at start; a bad one is a
``ConfigurationError`` (exit 78 from the command line).
"""

import ipaddress
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from registry.errors import ConfigurationError

APP_NAME = "did-vault-registry"
DEV_KEY_NAME = "dev-signing-key.multikey"
DEV_SERIAL_KEY_NAME = "dev-serial-key"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def data_folder() -> Path:
    """The platform's user data folder for the registry."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_url() -> str:
    """``sqlite:///<user data folder>/registry.sqlite3``."""
    return f"sqlite:///{data_folder() / 'registry.sqlite3'}"


class VCAPIIssuerConfig(BaseModel):
    """One VC-API issuer: a did:key signer from a key file, with one cryptosuite."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    key_file: Path
    cryptosuite: str = "eddsa-jcs-2022"


class Settings(BaseSettings):
    """Validated once at start; frozen afterwards."""

    model_config = SettingsConfigDict(
        env_prefix="REGISTRY_", frozen=True, extra="ignore"
    )

    # Storage: empty means the embedded SQLite default in the data folder.
    database_url: str = ""
    # Identity: the registry is did:web:<did_domain>[%3A<did_port>].
    did_domain: str = "localhost"
    did_port: Annotated[int | None, Field(ge=1, le=65535)] = None
    # The registry's signing key (Ed25519 or P-256; Multikey secret or private JWK),
    # read from a file with no group or other access. Empty: a development key in
    # the data folder, created on first start.
    signing_key_file: Path | None = None
    # DID authentication lifetimes.
    challenge_ttl_seconds: Annotated[int, Field(ge=5, le=3600)] = 120
    token_ttl_seconds: Annotated[int, Field(ge=30, le=86_400)] = 600
    # Largest request body accepted (413 above it).
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1_048_576
    # Problem ``type`` URIs are this prefix plus the code.
    problem_base_uri: str = "https://registry.example/problems/"
    # VC-API issuers (JSON list of {"name", "key_file", "cryptosuite"}).
    vcapi_issuers: list[VCAPIIssuerConfig] = []
    # Let anyone call POST /credentials/issue (only for conformance test suites
    # against a development registry); otherwise an operator token is needed.
    vcapi_open_issue: bool = False
    # did:web resolution of clients may reach loopback hosts (development only).
    allow_loopback: bool = False
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (comma-separated IP addresses or networks, e.g. "10.0.0.7,192.168.0.0/24").
    # Empty (the default): none; the client is the peer, as the rate limit sees it.
    trusted_proxies: str = ""
    # HTTPS: serve with this certificate and key (PEM) when both are set.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_key_password: SecretStr | None = None
    log_level: str = "INFO"
    # The key of the serial hashes (HMAC-SHA-256 over the item's uniqueness key):
    # a file holding at least 32 random bytes as base64url or hex, with no group or
    # other access, never in the database. Empty: a development key in the data
    # folder, created on first start.
    serial_key_file: Path | None = None
    # Single-use nonces for SD-JWT VC presentations submitted to POST /v1/items.
    nonce_ttl_seconds: Annotated[int, Field(ge=5, le=3600)] = 300
    # Entries per hosted status list (W3C minimum 131072): more is more herd privacy.
    status_list_length: Annotated[int, Field(ge=131_072, le=16 * 131_072)] = 131_072
    # How long verifiers may cache a status list (its ``ttl``), in seconds.
    status_list_ttl_seconds: Annotated[int, Field(ge=1, le=86_400)] = 300

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value:
            return value
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError as exc:
            raise ValueError("not a database URL") from exc
        if backend not in SUPPORTED_BACKENDS:
            raise ValueError(
                f"unsupported database {backend!r}: use SQLite or PostgreSQL"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        for entry in value.split(","):
            entry = entry.strip()
            if not entry:
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(
                    "each trusted proxy is an IP address or network (CIDR)"
                ) from exc
        return value

    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies, one address or network each."""
        return [
            entry.strip() for entry in self.trusted_proxies.split(",") if entry.strip()
        ]

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("log level is DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("problem_base_uri")
    @classmethod
    def _absolute_uri(cls, value: str) -> str:
        if not value.startswith(("https://", "http://", "urn:")):
            raise ValueError("problem_base_uri must be an absolute URI")
        return value

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    def dev_key_path(self) -> Path:
        return data_folder() / DEV_KEY_NAME

    def dev_serial_key_path(self) -> Path:
        return data_folder() / DEV_SERIAL_KEY_NAME

    def has_tls(self) -> bool:
        return self.tls_cert_file is not None and self.tls_key_file is not None


def load_settings() -> Settings:
    """Settings from the environment.

    Raises:
        ConfigurationError: a setting is missing its shape or value (names only,
            never the value, in the message).
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        names = sorted(
            {f"REGISTRY_{str(err['loc'][0]).upper()}" for err in exc.errors()}
        )
        raise ConfigurationError(
            f"invalid setting(s): {', '.join(names)}", settings=",".join(names)
        ) from exc
    if (settings.tls_cert_file is None) != (settings.tls_key_file is None):
        raise ConfigurationError(
            "set both REGISTRY_TLS_CERT_FILE and REGISTRY_TLS_KEY_FILE, or neither"
        )
    return settings
