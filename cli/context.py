"""What every ``did-vault`` command shares: settings, passphrases, the wallet location.

Settings come from the environment (``DID_VAULT_`` prefix, pydantic-settings). A
passphrase comes from ``--passphrase-file``, then the environment, then a prompt on
the terminal; never from a command-line value, which other users could read.
"""

import ssl
from pathlib import Path
from typing import Annotated, Any

import platformdirs
import typer
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cli.output import Output, stdin_is_interactive
from did_vault import (
    HttpxFetcher,
    KDFParameters,
    KeystoreNotFoundError,
    Resolver,
    Wallet,
    default_resolver,
)

WALLET_APP_NAME = "did-vault"


class CLIError(Exception):
    """An error of the command line itself (usage, unreadable files, prompts)."""

    def __init__(self, code: str, detail: str, *, exit_code: int = 2) -> None:
        super().__init__(detail)
        self.code, self.detail, self.exit_code = code, detail, exit_code

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "detail": self.detail}


class CLISettings(BaseSettings):
    """Environment configuration of the ``did-vault`` command."""

    model_config = SettingsConfigDict(env_prefix="DID_VAULT_", frozen=True)

    home: Path | None = None
    passphrase: SecretStr | None = None
    new_passphrase: SecretStr | None = None
    backup_passphrase: SecretStr | None = None
    # Cheap key derivation for test suites only: wallets made with it are refused
    # unless this is set again when they are opened.
    insecure_test_kdf: bool = False
    # did:web resolution may reach loopback hosts (local development and tests).
    allow_loopback: bool = False
    # A CA bundle (PEM) to trust for did:web, e.g. a local development CA.
    ca_bundle: Path | None = None

    def tls_verify(self) -> ssl.SSLContext | bool:
        """TLS verification for did:web and status lists (a CA bundle if one is set)."""
        if self.ca_bundle is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def wallet_home(self) -> Path:
        if self.home is not None:
            return self.home.expanduser()
        return Path(platformdirs.user_data_dir(WALLET_APP_NAME, appauthor=False))

    def kdf(self) -> KDFParameters:
        """Parameters for new wallet files."""
        return (
            KDFParameters.TESTING
            if self.insecure_test_kdf
            else KDFParameters.PRODUCTION
        )

    def kdf_floor(self) -> KDFParameters:
        """The weakest parameters an existing wallet file may have."""
        if self.insecure_test_kdf:
            return KDFParameters.TESTING
        return KDFParameters.MINIMUM


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON document.")
]
PassphraseFileOption = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="Read the wallet passphrase from this file "
        "(else DID_VAULT_PASSPHRASE, else a prompt).",
        dir_okay=False,
    ),
]


def _read_file_secret(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(
            "cli.file-unreadable", f"cannot read {path}: {exc}", exit_code=65
        ) from exc
    return text.rstrip("\r\n")


def read_secret(
    output: Output,
    *,
    label: str,
    file: Path | None,
    env_value: SecretStr | None,
    env_name: str,
    confirm: bool = False,
) -> str:
    """A secret from a file, the environment, or the terminal, in that order.

    Raises:
        CLIError: nothing to read it from (``cli.passphrase-missing``), or the two
            prompted entries differ (``cli.passphrase-mismatch``).
    """
    if file is not None:
        secret = _read_file_secret(file)
    elif env_value is not None:
        secret = env_value.get_secret_value()
    elif stdin_is_interactive():
        secret = output.prompt_secret(label)
        if confirm and output.prompt_secret(f"{label} (again)") != secret:
            raise CLIError("cli.passphrase-mismatch", "the two entries differ")
    else:
        raise CLIError(
            "cli.passphrase-missing",
            f"no {label.lower()}: set {env_name}, pass a file, or run on a terminal",
        )
    if not secret:
        raise CLIError("cli.passphrase-missing", f"the {label.lower()} is empty")
    return secret


def settings() -> CLISettings:
    return CLISettings()


def wallet_passphrase(
    output: Output, cfg: CLISettings, file: Path | None, *, confirm: bool = False
) -> str:
    return read_secret(
        output,
        label="Wallet passphrase",
        file=file,
        env_value=cfg.passphrase,
        env_name="DID_VAULT_PASSPHRASE",
        confirm=confirm,
    )


def jsonable(record: Any) -> dict[str, Any]:
    """A wallet record as a JSON-safe dict."""
    if hasattr(record, "to_dict"):
        return dict(record.to_dict())
    raise TypeError(f"cannot render {type(record).__name__}")


def open_wallet(
    output: Output, cfg: CLISettings, passphrase_file: Path | None
) -> Wallet:
    """Open the configured wallet; report a missing wallet before asking for a secret.

    Raises:
        KeystoreNotFoundError: no wallet in the configured home.
    """
    home = cfg.wallet_home()
    if not Wallet.exists(home):
        raise KeystoreNotFoundError(f"no wallet in {home}")
    secret = wallet_passphrase(output, cfg, passphrase_file)
    return Wallet.open(home, secret, kdf_floor=cfg.kdf_floor())


def make_resolver(cfg: CLISettings) -> Resolver:
    """did:key, did:jwk and (through a guarded HTTPS fetcher) did:web."""
    fetcher = HttpxFetcher(allow_loopback=cfg.allow_loopback, verify=cfg.tls_verify())
    return default_resolver(fetcher=fetcher)
