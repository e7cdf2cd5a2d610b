"""The ``registry`` command for registry operators.

``serve`` runs the service (uvicorn), ``db check`` / ``db upgrade`` look after the
database, and ``trust add|remove|list`` edits the trust list directly through the
registry's own code. Configuration comes from ``REGISTRY_*``; a bad setting exits 78.
``stolen confirm`` applies a StolenReportCredential a trusted police or insurer DID
signed (``did-vault item sign-stolen-report``); ``stolen show`` prints an item's
lifecycle state. ``witness`` is a log witness for any registry, run by a third party (no
``REGISTRY_*`` configuration): it cosigns the registry's checkpoint only if it
extends the last one it cosigned (see ``registry.witness``), and with ``--submit``
hands the cosigned note back to the registry; ``log witness add|remove|list`` keeps
the registry's list of the witnesses whose cosignatures it stores.
"""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError

from cli.output import Output
from did_vault import DidVaultError, NoteKey, ResolutionError, VerificationError
from registry import log_service, service, stolen_report
from registry.client import RegistryClient, RegistryProblem
from registry.config import Settings, load_settings
from registry.errors import RegistryError
from registry.identity import read_key_file
from registry.models import TrustRole
from registry.storage import check_database
from registry.witness import witness_registry

app = typer.Typer(
    name="registry",
    help="Operate the ownership registry service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The registry database.", no_args_is_help=True)
trust_app = typer.Typer(
    help="The trust list: operators, brand issuers, police, insurers.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(trust_app, name="trust")
log_app = typer.Typer(help="The transparency log.", no_args_is_help=True)
app.add_typer(log_app, name="log")
witness_app = typer.Typer(
    help="The witnesses whose checkpoint cosignatures the registry keeps and serves.",
    no_args_is_help=True,
)
log_app.add_typer(witness_app, name="witness")
stolen_app = typer.Typer(
    help="Stolen reports signed by trusted police or insurer DIDs.",
    no_args_is_help=True,
)
app.add_typer(stolen_app, name="stolen")

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON document.")
]


def _fail(output: Output, exc: DidVaultError) -> NoReturn:
    output.problem(exc.to_dict())
    sys.exit(_exit_code(exc))


def _exit_code(exc: DidVaultError) -> int:
    """The exit column of specs/problems.md, as ``did-vault`` uses it."""
    if isinstance(exc, RegistryError):
        return exc.exit_code
    if isinstance(exc, VerificationError):
        return 1  # a signed report that does not verify: the answer is no
    if isinstance(exc, ResolutionError):
        return 69
    # Anything else of did_vault's reaching here is malformed input (not a DID …).
    return 65


def _settings(output: Output) -> Settings:
    try:
        return load_settings()
    except RegistryError as exc:
        _fail(output, exc)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
) -> None:
    """Run the registry service (HTTPS when REGISTRY_TLS_CERT_FILE/KEY_FILE are set)."""
    output = Output(as_json=False)
    settings = _settings(output)
    try:
        service.serve(settings, host=host, port=port)
    except RegistryError as exc:
        _fail(output, exc)


@db_app.command("check")
def check(json_output: JsonOption = False) -> None:
    """Connect to REGISTRY_DATABASE_URL (default: embedded SQLite) and report it."""
    output = Output(as_json=json_output)
    url = _settings(output).resolved_database_url()
    try:
        result = check_database(url)
    except ValueError as exc:
        output.problem({"code": "config.invalid", "detail": str(exc)})
        sys.exit(78)
    except SQLAlchemyError as exc:
        output.problem(
            {
                "code": "db.unreachable",
                "detail": f"cannot reach the database ({type(exc).__name__})",
            }
        )
        sys.exit(69)
    output.result(result, message="Database reachable.")


@db_app.command("upgrade")
def upgrade(json_output: JsonOption = False) -> None:
    """Migrate the database to this version's head revision."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        result = service.upgrade_database(settings)
    except RegistryError as exc:
        _fail(output, exc)
    output.result(result, message="Database migrated.")


@trust_app.command("add")
def trust_add(
    did: Annotated[str, typer.Argument(help="The DID to trust.")],
    role: Annotated[TrustRole, typer.Option(help="What the DID may do.")],
    brand: Annotated[str, typer.Option(help="The brand (brand issuers only).")] = "",
    note: Annotated[str, typer.Option(help="A note for other operators.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Add a DID to the trust list."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        entry = service.add_trust_entry(
            settings, did=did, role=role, brand=brand, note=note, now=_now()
        )
    except DidVaultError as exc:
        _fail(output, exc)
    output.result(entry, message="Trust entry added.")


@trust_app.command("remove")
def trust_remove(
    did: Annotated[str, typer.Argument(help="The DID to remove.")],
    role: Annotated[TrustRole, typer.Option(help="The role to take away.")],
    brand: Annotated[str, typer.Option(help="The brand (brand issuers).")] = "",
    json_output: JsonOption = False,
) -> None:
    """Remove a DID's role from the trust list."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        entry = service.remove_trust_entry(settings, did=did, role=role, brand=brand)
    except DidVaultError as exc:
        _fail(output, exc)
    output.result(entry, message="Trust entry removed.")


@trust_app.command("list")
def trust_list(
    role: Annotated[
        TrustRole | None, typer.Option(help="Only entries with this role.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List the trust list."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        entries = service.list_trust_entries(settings, role=role)
    except RegistryError as exc:
        _fail(output, exc)
    output.table(
        entries,
        columns=["id", "did", "role", "brand", "note", "created_at"],
        title="Trust list",
        key="data",
    )


@log_app.command("verify")
def log_verify(json_output: JsonOption = False) -> None:
    """Recompute the transparency log from its stored leaves and check every row
    and checkpoint; sign a checkpoint over leaves a crash left unsigned."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        report = log_service.verify_configured_log(settings, now=_now())
    except DidVaultError as exc:
        _fail(output, exc)
    output.result(report.model_dump(mode="json"), message="Log verified.")


@witness_app.command("add")
def log_witness_add(
    vkey: Annotated[
        str,
        typer.Argument(
            help="The witness's C2SP verifier key, name+hhhhhhhh+base64 (Ed25519)."
        ),
    ],
    note: Annotated[str, typer.Option(help="A note for other operators.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Trust a witness: POST /v1/log/cosignatures then keeps its cosignatures and
    the checkpoint endpoints serve them (one witness per key name)."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        witness = log_service.add_witness(settings, vkey=vkey, note=note, now=_now())
    except DidVaultError as exc:
        _fail(output, exc)
    output.result(witness, message="Witness added.")


@witness_app.command("remove")
def log_witness_remove(
    witness: Annotated[str, typer.Argument(help="The witness's key name or vkey.")],
    json_output: JsonOption = False,
) -> None:
    """Stop trusting a witness: its stored cosignatures are no longer served."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        removed = log_service.remove_witness(settings, name_or_vkey=witness)
    except DidVaultError as exc:
        _fail(output, exc)
    output.result(removed, message="Witness removed.")


@witness_app.command("list")
def log_witness_list(json_output: JsonOption = False) -> None:
    """List the trusted witnesses."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        witnesses = log_service.list_witnesses(settings)
    except RegistryError as exc:
        _fail(output, exc)
    output.table(
        witnesses,
        columns=["name", "vkey", "note", "added_at"],
        title="Trusted witnesses",
        key="data",
    )


def _read_report(output: Output, path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        output.problem(
            {"code": "cli.file-unreadable", "detail": f"cannot read {path}: {exc}"}
        )
        sys.exit(65)
    except json.JSONDecodeError as exc:
        output.problem({"code": "cli.json-invalid", "detail": f"{path}: {exc}"})
        sys.exit(65)
    if not isinstance(document, dict):
        output.problem(
            {"code": "cli.json-invalid", "detail": f"{path} is not a JSON object"}
        )
        sys.exit(65)
    return document


@stolen_app.command("confirm")
def stolen_confirm(
    report_file: Annotated[
        Path,
        typer.Argument(
            metavar="REPORT.json",
            help="The StolenReportCredential the confirmer signed "
            "(did-vault item sign-stolen-report).",
            dir_okay=False,
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Mark an item stolen from a report signed by a trusted police or insurer DID.

    The report must verify, be issued by its confirmedBy, a police or insurer DID
    on the trust list, and be confirmed after the item's last change (a report is
    applied once; an old one is refused as report.stale). Nothing is written
    unless all of it holds."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    report = _read_report(output, report_file)
    try:
        state = stolen_report.confirm_configured(settings, report=report, now=_now())
    except DidVaultError as exc:
        _fail(output, exc)
    output.result(state, message="Confirmed stolen.")


@stolen_app.command("show")
def stolen_show(
    item_id: Annotated[str, typer.Argument(help="The item's registry id.")],
    json_output: JsonOption = False,
) -> None:
    """Print an item's lifecycle state: condition, report, custody, version."""
    output = Output(as_json=json_output)
    settings = _settings(output)
    try:
        state = stolen_report.show_configured(settings, item_id=item_id, now=_now())
    except DidVaultError as exc:
        _fail(output, exc)
    output.result(state, message="Item state.")


@app.command("witness")
def witness_command(
    registry: Annotated[
        str, typer.Option("--registry", help="The registry's base URL (https://…).")
    ],
    key_file: Annotated[
        Path,
        typer.Option(
            "--key-file", help="The witness's Ed25519 key (Multikey secret or JWK)."
        ),
    ],
    state_file: Annotated[
        Path,
        typer.Option(
            "--state-file", help="The last checkpoint cosigned of each log (JSON)."
        ),
    ],
    log_key: Annotated[
        str,
        typer.Option(
            "--log-key",
            help="The log's verifier key (vkey, as `registry log verify` prints).",
        ),
    ],
    name: Annotated[
        str, typer.Option("--name", help="The witness's key name in cosignatures.")
    ],
    submit: Annotated[
        bool,
        typer.Option(
            "--submit",
            help="Then hand the cosigned note to the registry "
            "(POST /v1/log/cosignatures), which keeps and serves it if it lists "
            "this witness.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Cosign the registry's latest checkpoint if it extends the last one cosigned,
    and print the cosigned note (a rollback or a fork exits 1, state unchanged).
    With --submit, also hand it to the registry; if the registry refuses it, the
    note is still printed (text mode) and the registry's problem exits 65 (69 if
    it is unreachable)."""
    output = Output(as_json=json_output)
    client = RegistryClient.connect(registry.rstrip("/"))
    try:
        result = witness_registry(
            client,
            state_path=state_file,
            key=read_key_file(key_file),
            name=name,
            log_keys=[NoteKey.from_vkey(log_key)],
            now=_now(),
        )
        submitted = _submit(output, client, result.note) if submit else None
    except RegistryProblem as exc:
        output.problem(exc.to_dict())
        sys.exit(69 if exc.status in (0, 502, 503) else 65)
    except VerificationError as exc:
        output.problem(exc.to_dict())
        sys.exit(1)
    except DidVaultError as exc:
        _fail(output, exc)
    except ValueError as exc:
        output.problem({"code": "cli.usage", "detail": f"--name: {exc}"})
        sys.exit(2)
    finally:
        client.close()
    if json_output:
        document = result.to_json()
        if submitted is not None:
            document["submitted"] = submitted
        output.result(document)
    else:
        output.text(result.note)


def _submit(output: Output, client: RegistryClient, note: str) -> dict[str, Any]:
    """POST the cosigned note; on a refusal print the note anyway, then fail (the
    witness's state already holds it: a later run cosigns afresh)."""
    try:
        return client.log_submit_cosignatures(note).model_dump(mode="json")
    except RegistryProblem as exc:
        if output.as_json:
            output.problem({**exc.to_dict(), "note": note})
        else:
            output.text(note)
            output.problem(exc.to_dict())
        sys.exit(69 if exc.status in (0, 502, 503) else 65)


def _now() -> datetime:
    return datetime.now(UTC)


def main() -> None:
    """Entry point of the ``registry`` console script."""
    app(prog_name="registry")
