"""``did-vault backup export|import``: encrypted backups of the whole wallet."""

from pathlib import Path
from typing import Annotated

import typer

from cli.context import (
    CLISettings,
    JsonOption,
    PassphraseFileOption,
    open_wallet,
    read_secret,
    settings,
    wallet_passphrase,
)
from cli.output import Output
from did_vault import KeystoreExistsError, Wallet

app = typer.Typer(
    help="Export and import encrypted wallet backups.", no_args_is_help=True
)

BackupPassphraseFileOption = Annotated[
    Path | None,
    typer.Option(
        "--backup-passphrase-file",
        help="Read the backup passphrase from this file "
        "(else DID_VAULT_BACKUP_PASSPHRASE, else a prompt).",
        dir_okay=False,
    ),
]


def _backup_secret(
    output: Output, cfg: CLISettings, file: Path | None, *, confirm: bool
) -> str:
    return read_secret(
        output,
        label="Backup passphrase",
        file=file,
        env_value=cfg.backup_passphrase,
        env_name="DID_VAULT_BACKUP_PASSPHRASE",
        confirm=confirm,
    )


@app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (new file).")],
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
    backup_passphrase_file: BackupPassphraseFileOption = None,
) -> None:
    """Write an encrypted backup of the wallet, under its own backup passphrase."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        backup_secret = _backup_secret(
            output, cfg, backup_passphrase_file, confirm=True
        )
        wallet.export_backup(file, backup_secret, kdf=cfg.kdf())
        count = len(wallet.list_dids())
    output.result({"backup": str(file), "dids": count}, message="Backup written.")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The backup file to restore.")],
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
    backup_passphrase_file: BackupPassphraseFileOption = None,
) -> None:
    """Restore a backup into a new wallet in DID_VAULT_HOME (never overwrites)."""
    output = Output(as_json=json_output)
    cfg = settings()
    home = cfg.wallet_home()
    if Wallet.exists(home):
        raise KeystoreExistsError(f"a wallet already exists in {home}")
    backup_secret = _backup_secret(output, cfg, backup_passphrase_file, confirm=False)
    secret = wallet_passphrase(output, cfg, passphrase_file, confirm=True)
    with Wallet.import_backup(
        file,
        backup_secret,
        home=home,
        passphrase=secret,
        kdf=cfg.kdf(),
        kdf_floor=cfg.kdf_floor(),
    ) as wallet:
        count = len(wallet.list_dids())
        path = wallet.path
    output.result({"wallet": str(path), "dids": count}, message="Backup restored.")
