"""``did-vault export``: the inventory as JSON, Homebox CSV or a PDF for insurers."""

import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.context import (
    CLIError,
    JsonOption,
    PassphraseFileOption,
    open_wallet,
    settings,
)
from cli.output import Output
from did_vault import inventory_csv, inventory_json, inventory_pdf, items

FILE_MODE = 0o600  # an inventory says what you own and where: keep it private


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"


def render(inventory: items.InventoryExport, fmt: ExportFormat) -> bytes:
    """The inventory's bytes in ``fmt``."""
    if fmt is ExportFormat.CSV:
        return inventory_csv(inventory)
    if fmt is ExportFormat.PDF:
        return inventory_pdf(inventory)
    return inventory_json(inventory)


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file (mode 0600); never overwrite.

    Raises:
        CLIError: the file exists (``cli.file-exists``).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError as exc:
        raise CLIError(
            "cli.file-exists", f"{path} exists; choose a new file", exit_code=65
        ) from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def export(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="The new file to write (never overwritten).", dir_okay=False
        ),
    ],
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="json (versioned, with credentials), csv (Homebox) or pdf "
            "(for insurers: masked serials).",
            case_sensitive=False,
        ),
    ] = ExportFormat.JSON,
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner", help="Alias or DID whose items to export (default: the owner)."
        ),
    ] = None,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Export the owner's inventory: JSON, Homebox-compatible CSV, or PDF."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        inventory = wallet.export_inventory(owner=owner, now=datetime.now(UTC))
    data = render(inventory, fmt)
    write_new(out, data)
    output.result(
        {
            "format": fmt.value,
            "out": str(out),
            "owner": inventory.owner,
            "items": len(inventory.items),
            "bytes": len(data),
        },
        message=f"Exported {len(inventory.items)} item(s) to {out}.",
    )
