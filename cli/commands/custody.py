"""``did-vault item custody start|return|list``: hand an item over without selling it.

A repair shop, a friend borrowing the bike, a storage unit: the owner records a
custody hand-over with the registry; ownership does not change, and the item cannot
be handed over twice at once. The owner or the custodian records the return. Each
call authenticates with DID auth; a change carries the item's ETag (``If-Match``),
which the owner's wallet reads first. A custodian cannot read the item's state, so
the return it records carries ``*``: it is the registry's row lock, not the ETag,
that orders it with other changes.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.commands.item import app as item_app
from cli.commands.item_registry import AsOption, RegistryOption, registry_session
from cli.context import CLISettings, JsonOption, PassphraseFileOption, settings
from cli.output import Output
from registry.client import RegistryClient, RegistryProblem
from registry.models import CustodyPublic, CustodyPurpose

app = typer.Typer(
    help="Custody hand-overs (repair, loan, storage): not a sale.",
    no_args_is_help=True,
)
item_app.add_typer(app, name="custody")

ItemArgument = Annotated[
    str, typer.Argument(help="The item: its registry id or its DID.")
]
INSTANT_FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]


def _item_id(item: str) -> str:
    return item.rsplit(":", 1)[-1] if item.startswith("did:") else item


def _summary(custody: CustodyPublic) -> dict[str, Any]:
    public = custody.model_dump(mode="json")
    return {
        "id": public["id"],
        "item": public["item_id"],
        "owner": public["owner"],
        "custodian": public["custodian"],
        "purpose": public["purpose"],
        "note": public["note"],
        "started_at": public["started_at"],
        "expected_back": public["expected_back"],
        "returned_at": public["returned_at"],
    }


def _etag_or_any(client: RegistryClient, token: str, item_id: str) -> str:
    """The item's ETag for its owner; ``*`` for a custodian, who cannot read it.

    Raises:
        RegistryProblem: anything but ``item.not-found``.
    """
    try:
        return client.item_state(token, item_id).etag
    except RegistryProblem as exc:
        if exc.code != "item.not-found":
            raise
        return "*"


def start_custody(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    item: str,
    custodian: str,
    purpose: CustodyPurpose,
    note: str,
    expected_back: datetime | None,
    as_: str | None,
    passphrase_file: Path | None,
) -> dict[str, Any]:
    """Record a hand-over of an item the wallet's DID owns.

    Raises:
        CLIError: the registry's problem (its code).
    """
    with registry_session(
        output,
        cfg,
        registry_url=registry_url,
        as_=as_,
        passphrase_file=passphrase_file,
    ) as session:
        custody = session.client.start_custody(
            session.token,
            _item_id(item),
            custodian=custodian,
            purpose=purpose.value,
            note=note,
            expected_back=expected_back,
        )
    return _summary(custody)


def end_custody(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    item: str,
    as_: str | None,
    passphrase_file: Path | None,
) -> dict[str, Any]:
    """Record the return of an item in custody (as its owner or its custodian).

    Raises:
        CLIError: the registry's problem (its code).
    """
    with registry_session(
        output,
        cfg,
        registry_url=registry_url,
        as_=as_,
        passphrase_file=passphrase_file,
    ) as session:
        item_id = _item_id(item)
        custody = session.client.end_custody(
            session.token,
            item_id,
            if_match=_etag_or_any(session.client, session.token, item_id),
        )
    return _summary(custody)


def list_custody(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    item: str,
    as_: str | None,
    passphrase_file: Path | None,
) -> list[dict[str, Any]]:
    """The item's custody history (its owner only).

    Raises:
        CLIError: the registry's problem (its code).
    """
    with registry_session(
        output,
        cfg,
        registry_url=registry_url,
        as_=as_,
        passphrase_file=passphrase_file,
    ) as session:
        history = session.client.custody(session.token, _item_id(item))
    return [_summary(custody) for custody in history.data]


@app.command("start")
def start_command(
    item: ItemArgument,
    registry: RegistryOption,
    to: Annotated[str, typer.Option("--to", help="The custodian's DID.")],
    purpose: Annotated[
        CustodyPurpose, typer.Option("--purpose", help="Why it is handed over.")
    ],
    note: Annotated[str, typer.Option("--note", help="A note (optional).")] = "",
    expected_back: Annotated[
        datetime | None,
        typer.Option(
            "--expected-back",
            help="When it should come back (ISO 8601, UTC if no offset).",
            formats=INSTANT_FORMATS,
        ),
    ] = None,
    as_: AsOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Hand an item you own to a custodian (repair, loan, storage); you stay owner."""
    output = Output(as_json=as_json)
    if expected_back is not None and expected_back.tzinfo is None:
        expected_back = expected_back.replace(tzinfo=UTC)
    summary = start_custody(
        output,
        settings(),
        registry_url=registry,
        item=item,
        custodian=to,
        purpose=purpose,
        note=note,
        expected_back=expected_back,
        as_=as_,
        passphrase_file=passphrase_file,
    )
    output.result(summary, message="Handed over; you remain the owner.")


@app.command("return")
def return_command(
    item: ItemArgument,
    registry: RegistryOption,
    as_: AsOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Record that an item in custody is back (as its owner or its custodian)."""
    output = Output(as_json=as_json)
    summary = end_custody(
        output,
        settings(),
        registry_url=registry,
        item=item,
        as_=as_,
        passphrase_file=passphrase_file,
    )
    output.result(summary, message="Returned.")


@app.command("list")
def list_command(
    item: ItemArgument,
    registry: RegistryOption,
    as_: AsOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """The item's custody hand-overs, newest last (its owner only)."""
    output = Output(as_json=as_json)
    history = list_custody(
        output,
        settings(),
        registry_url=registry,
        item=item,
        as_=as_,
        passphrase_file=passphrase_file,
    )
    output.result(
        {"item": _item_id(item), "custody": history, "count": len(history)},
        message=f"{len(history)} hand-over(s).",
    )
