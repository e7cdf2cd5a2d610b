"""``did-vault passphrase change``."""

from pathlib import Path
from typing import Annotated

import typer

from cli.context import (
    JsonOption,
    PassphraseFileOption,
    open_wallet,
    read_secret,
    settings,
)
from cli.output import Output

app = typer.Typer(help="Change the wallet passphrase.", no_args_is_help=True)


@app.command("change")
def change(
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
    new_passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--new-passphrase-file",
            help="Read the new passphrase from this file "
            "(else DID_VAULT_NEW_PASSPHRASE, else a prompt).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Re-encrypt the wallet under a new passphrase (atomic: old or new, never half)."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        new = read_secret(
            output,
            label="New wallet passphrase",
            file=new_passphrase_file,
            env_value=cfg.new_passphrase,
            env_name="DID_VAULT_NEW_PASSPHRASE",
            confirm=True,
        )
        wallet.change_passphrase(new, kdf=cfg.kdf())
        path = wallet.path
    output.result({"wallet": str(path), "changed": True}, message="Passphrase changed.")
