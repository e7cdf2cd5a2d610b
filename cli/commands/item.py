"""``did-vault item …``: import an inventory into wallet items, list and show them.

``import`` reads the whole file first (Homebox CSV export, a CSV with a column
mapping, or a did-vault JSON inventory) and imports nothing unless every row is
valid; ``--dry-run`` only reports. Items are added in chunks, each one atomic
write, and a re-run adds no duplicates. ``item register`` (the registry) is added
to this same Typer app by ``cli.commands.item_registry``.
"""

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import (
    CLIError,
    JsonOption,
    PassphraseFileOption,
    open_wallet,
    settings,
)
from cli.output import Output
from did_vault import (
    AddedItem,
    ImportReport,
    Wallet,
    load_mapping,
    read_inventory,
)

app = typer.Typer(
    help="The things you own: import an inventory, list and show items.",
    no_args_is_help=True,
)

IMPORT_CHUNK = 50  # items per atomic wallet write
REGISTRY_MODULE = "cli.commands.item_registry"
PROBLEM_COLUMNS = ("row", "line", "column", "pointer", "rule", "code", "message")
ITEM_COLUMNS = ("id", "name", "serial_number", "registry_status", "import_ref", "did")


def read_bytes(path: Path) -> bytes:
    """A file's bytes, or ``cli.file-unreadable``."""
    try:
        return path.read_bytes()
    except PermissionError:
        raise
    except OSError as exc:
        raise CLIError(
            "cli.file-unreadable", f"cannot read {path}: {exc}", exit_code=65
        ) from exc


def _report_problems(output: Output, report: ImportReport) -> None:
    """Show every problem (as a table; JSON gets them in the error body), then
    raise the report's error."""
    if report.problems and not output.as_json:
        output.table(
            [p.to_dict() for p in report.problems],
            columns=PROBLEM_COLUMNS,
            title=f"Problems ({len(report.problems)})",
            key="problems",
        )
    report.raise_for_problems()


def default_owner(wallet: Wallet) -> str:
    """The wallet's only DID that is not an item's.

    Raises:
        CLIError: none or several (``cli.owner-required``).
    """
    item_dids = {item.did for item in wallet.list_items()}
    owners = [d for d in wallet.list_dids() if d.did not in item_dids]
    if len(owners) != 1:
        raise CLIError(
            "cli.owner-required",
            "the wallet has "
            + ("no DID to own items: run 'did-vault did create'" if not owners else "")
            + (f"{len(owners)} DIDs: name the owner with --owner" if owners else ""),
        )
    return owners[0].alias


@app.command("import")
def import_items(
    file: Annotated[
        Path,
        typer.Argument(
            help="A Homebox CSV export, a CSV with --mapping, or a did-vault JSON "
            "inventory.",
            dir_okay=False,
        ),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="JSON column mapping for a generic CSV (see "
            "specs/design/0004-import-export.md).",
            dir_okay=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check the whole file, report, import nothing."),
    ] = False,
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner",
            help="Alias or DID that owns and signs for the items "
            "(default: the wallet's only DID that is not an item's).",
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency",
            help="ISO 4217 code for prices and values the file gives without one.",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding", help="The file's text encoding (default UTF-8; a BOM wins)."
        ),
    ] = None,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Import an inventory file into wallet items (each with its own DID)."""
    output = Output(as_json=json_output)
    cfg = settings()
    now = datetime.now(UTC)
    csv_mapping = load_mapping(read_bytes(mapping)) if mapping else None
    report = read_inventory(
        read_bytes(file),
        mapping=csv_mapping,
        currency=currency.upper() if currency else None,
        encoding=encoding,
        now=now,
    )
    _report_problems(output, report)
    summary: dict[str, Any] = {
        "file": str(file),
        "source": report.source,
        "rows": len(report.rows),
    }
    if dry_run:
        output.result(
            {**summary, "dry_run": True},
            message=f"{len(report.rows)} row(s) valid; nothing imported (dry run).",
        )
        return
    drafts = report.drafts()
    results: list[AddedItem] = []
    with open_wallet(output, cfg, passphrase_file) as wallet:
        owner_ref = owner or default_owner(wallet)
        with output.progress("Importing items", total=len(drafts)) as advance:
            for start in range(0, len(drafts), IMPORT_CHUNK):
                chunk = drafts[start : start + IMPORT_CHUNK]
                results.extend(wallet.add_items(chunk, owner=owner_ref, now=now))
                advance(len(chunk))
    counts = {
        outcome: sum(1 for r in results if r.outcome == outcome)
        for outcome in ("created", "updated", "unchanged")
    }
    document: dict[str, Any] = {**summary, **counts}
    if output.as_json:
        document["items"] = [
            {
                "row": row.row,
                "id": result.item.local_id,
                "did": result.item.did,
                "outcome": result.outcome,
            }
            for row, result in zip(report.rows, results, strict=True)
        ]
    output.result(
        document,
        message=f"Imported {len(results)} row(s): {counts['created']} created, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged.",
    )


@app.command("list")
def list_items(
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry", help="List your items as this registry knows them instead."
        ),
    ] = None,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """The items in the wallet (or, with --registry, at a registry)."""
    output = Output(as_json=json_output)
    cfg = settings()
    if registry is not None:
        try:
            module = importlib.import_module(REGISTRY_MODULE)
        except ModuleNotFoundError as exc:
            if exc.name != REGISTRY_MODULE:
                raise
            raise CLIError(
                "cli.unsupported",
                "this did-vault has no registry support; list the wallet's items "
                "without --registry",
            ) from exc
        module.list_registry_items(output, cfg, registry, passphrase_file)
        return
    with open_wallet(output, cfg, passphrase_file) as wallet:
        rows = [item.to_dict() for item in wallet.list_items()]
    output.table(rows, columns=ITEM_COLUMNS, title="Items", key="items")


@app.command("show")
def show_item(
    ref: Annotated[
        str, typer.Argument(help="The item's id (item-<n>), DID or import reference.")
    ],
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """One item: its entry (item, ownership, bookkeeping) and its credentials."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        item = wallet.get_item(ref)
        document = {
            **item.to_dict(),
            "entry": item.entry.to_json(),
            "credentials": [c.to_dict() for c in wallet.item_credentials(ref)],
        }
    output.document(document)
