"""``did-vault did …``: create, list, show and resolve DIDs."""

from enum import StrEnum
from typing import Annotated

import typer

from cli.context import (
    JsonOption,
    PassphraseFileOption,
    make_resolver,
    open_wallet,
    settings,
)
from cli.output import Output
from did_vault import KeyAlgorithm

app = typer.Typer(help="Create, list, show and resolve DIDs.", no_args_is_help=True)


class Method(StrEnum):
    KEY = "key"
    JWK = "jwk"


class KeyType(StrEnum):
    ED25519 = "ed25519"
    P256 = "p256"


KEY_TYPES = {KeyType.ED25519: KeyAlgorithm.ED25519, KeyType.P256: KeyAlgorithm.P256}


@app.command("create")
def create(
    method: Annotated[
        Method, typer.Option("--method", help="DID method.")
    ] = Method.KEY,
    key_type: Annotated[
        KeyType, typer.Option("--key-type", help="Key algorithm.")
    ] = KeyType.ED25519,
    alias: Annotated[
        str | None, typer.Option("--alias", help="A name for the DID in this wallet.")
    ] = None,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Create a DID with a fresh key and keep its key in the wallet."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        record = wallet.create_did(
            method.value, algorithm=KEY_TYPES[key_type], alias=alias
        )
    output.result(record.to_dict(), message=f"Created {record.did}")


@app.command("list")
def list_dids(
    json_output: JsonOption = False, passphrase_file: PassphraseFileOption = None
) -> None:
    """List the DIDs in the wallet (an item's own DID names its item)."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        items = {item.did: item.local_id for item in wallet.list_items()}
        rows = [
            {**record.to_dict(), "item": items.get(record.did)}
            for record in wallet.list_dids()
        ]
    output.table(
        rows,
        columns=("alias", "did", "method", "algorithm", "created", "item"),
        title="DIDs",
        key="dids",
    )


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Alias or DID.")],
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Show a wallet DID and its DID document."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        record = wallet.get_did(name)
    document = make_resolver(cfg).resolve(record.did)
    output.result({**record.to_dict(), "document": document.to_json()})


@app.command("resolve")
def resolve(
    did: Annotated[str, typer.Argument(help="The DID to resolve.")],
    json_output: JsonOption = False,
) -> None:
    """Resolve any DID (did:key, did:jwk, did:web) to its DID document."""
    output = Output(as_json=json_output)
    document = make_resolver(settings()).resolve(did)
    output.document(document.to_json())
