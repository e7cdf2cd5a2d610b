"""``did-vault init``: create the encrypted wallet."""

import typer

from cli.context import JsonOption, PassphraseFileOption, settings, wallet_passphrase
from cli.output import Output
from did_vault import KeystoreExistsError, Wallet


def init(
    json_output: JsonOption = False, passphrase_file: PassphraseFileOption = None
) -> None:
    """Create a new encrypted wallet in DID_VAULT_HOME (or the user data folder)."""
    output = Output(as_json=json_output)
    cfg = settings()
    if cfg.insecure_test_kdf:
        output.warning(
            "DID_VAULT_INSECURE_TEST_KDF is set: this wallet uses test-only key "
            "derivation and production configuration will refuse to open it"
        )
    home = cfg.wallet_home()
    if Wallet.exists(home):
        raise KeystoreExistsError(f"a wallet already exists in {home}")
    secret = wallet_passphrase(output, cfg, passphrase_file, confirm=True)
    with Wallet.create(home, secret, kdf=cfg.kdf()) as wallet:
        result = {
            "home": str(home),
            "wallet": str(wallet.path),
            "kdf": wallet.kdf.describe(),
        }
    output.result(result, message="Wallet created.")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
