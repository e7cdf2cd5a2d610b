"""``did-vault credential …``, ``present`` and ``presentation verify``.

Issue W3C VC 2.0 credentials with Data Integrity proofs from a wallet DID, keep the
ones you hold, present them to a verifier bound to its challenge and domain, and
verify either. ``verify`` answers with exit 0 (valid) or 1 (not valid, with the code
of the first failed check); 69 means it could not check (e.g. a DID or status list
could not be fetched).
"""

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.commands import share
from cli.context import (
    CLIError,
    CLISettings,
    JsonOption,
    PassphraseFileOption,
    make_resolver,
    open_wallet,
    settings,
)
from cli.output import Output
from did_vault import (
    CREDENTIALS_V2_CONTEXT,
    CRYPTOSUITES,
    ECDSA_JCS_2019,
    EDDSA_JCS_2022,
    CredentialVerification,
    DidVaultError,
    HttpxFetcher,
    KeyAlgorithm,
    PresentationVerification,
    ResolutionError,
    create_presentation,
    issue_credential,
    sign_presentation,
    verify_credential,
    verify_presentation,
)

app = typer.Typer(
    help="Issue, hold and verify W3C verifiable credentials.", no_args_is_help=True
)
presentation_app = typer.Typer(
    help="Verify verifiable presentations.", no_args_is_help=True
)

DEFAULT_SUITE = {
    KeyAlgorithm.ED25519: EDDSA_JCS_2022,
    KeyAlgorithm.P256: ECDSA_JCS_2019,
}
EXIT_NOT_VALID = 1
EXIT_UNAVAILABLE = 69

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Also write the signed document to this new file.", dir_okay=False
    ),
]


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(
            "cli.file-unreadable", f"cannot read {path}: {exc}", exit_code=65
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CLIError(
            "cli.json-invalid", f"{what} {path} is not JSON: {exc}", exit_code=65
        ) from exc


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except PermissionError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(
            "cli.file-unreadable", f"cannot read {path}: {exc}", exit_code=65
        ) from exc


def _write_new(path: Path, document: dict[str, Any]) -> None:
    try:
        with path.open("x", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    except FileExistsError as exc:
        raise CLIError(
            "cli.file-exists", f"{path} exists; choose a new file", exit_code=65
        ) from exc


def _timestamp(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def make_fetcher(cfg: CLISettings) -> HttpxFetcher:
    return HttpxFetcher(allow_loopback=cfg.allow_loopback, verify=cfg.tls_verify())


def _checks(
    result: CredentialVerification | PresentationVerification,
) -> list[dict[str, str]]:
    return [{"check": check.name, "detail": check.detail} for check in result.checks]


def _not_valid(output: Output, exc: DidVaultError) -> None:
    problem: dict[str, object] = {"verified": False, **exc.to_dict()}
    check = exc.context.get("check")
    if check is not None:
        problem["check"] = check
    output.problem(problem)
    sys.exit(EXIT_UNAVAILABLE if isinstance(exc, ResolutionError) else EXIT_NOT_VALID)


@app.command("issue")
def issue(
    issuer: Annotated[
        str, typer.Option("--issuer", help="Alias or DID of the issuing wallet DID.")
    ],
    subject: Annotated[
        Path,
        typer.Option(
            "--subject",
            help="JSON file with the credentialSubject object.",
            dir_okay=False,
        ),
    ],
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            help="A credential type besides VerifiableCredential (repeatable).",
        ),
    ] = None,
    contexts: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            help="An extra @context URL from the packaged set (repeatable).",
        ),
    ] = None,
    valid_until: Annotated[
        datetime | None,
        typer.Option(
            "--valid-until", help="End of validity (ISO 8601, UTC if no zone)."
        ),
    ] = None,
    suite: Annotated[
        str | None,
        typer.Option(
            "--suite",
            help="Cryptosuite: eddsa-jcs-2022, eddsa-rdfc-2022 (Ed25519 DIDs), "
            "ecdsa-jcs-2019, ecdsa-rdfc-2019 (P-256 DIDs). Default: the JCS suite "
            "of the issuer's key.",
        ),
    ] = None,
    credential_id: Annotated[
        str | None,
        typer.Option("--id", help="The credential's id (default: a new urn:uuid)."),
    ] = None,
    store: Annotated[
        bool, typer.Option("--store", help="Also keep the credential in this wallet.")
    ] = False,
    out: OutOption = None,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
    credential_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="di: W3C VC with a Data Integrity proof; sd-jwt-vc: SD-JWT VC "
            "with selectively disclosable claims (--sd) bound to --holder.",
        ),
    ] = "di",
    sd: Annotated[
        str | None,
        typer.Option(
            "--sd",
            help="sd-jwt-vc: comma-separated claim paths to make selectively "
            "disclosable, e.g. item.brand,item.serialNumber,colors[1].",
        ),
    ] = None,
    vct: Annotated[
        str | None,
        typer.Option(
            "--vct",
            help="sd-jwt-vc: the credential type (default "
            "urn:did-vault:vct:OwnershipCredential).",
        ),
    ] = None,
    holder: Annotated[
        str | None,
        typer.Option(
            "--holder",
            help="sd-jwt-vc: alias or DID whose key the credential binds to "
            "(default: the subject's 'sub' or 'id').",
        ),
    ] = None,
) -> None:
    """Issue a credential signed by one of the wallet's DIDs."""
    output = Output(as_json=json_output)
    cfg = settings()
    subject_document = _read_json(subject, "subject")
    if not isinstance(subject_document, dict):
        raise CLIError(
            "cli.json-invalid", "the subject file must hold a JSON object", exit_code=65
        )
    if credential_format not in ("di", "sd-jwt-vc"):
        raise CLIError("cli.usage", "--format is di or sd-jwt-vc")
    if credential_format == "sd-jwt-vc":
        if types or contexts or suite:
            raise CLIError(
                "cli.usage", "--type, --context and --suite are for --format di"
            )
        share.issue_sd_jwt_vc_credential(
            output=output,
            cfg=cfg,
            passphrase_file=passphrase_file,
            issuer=issuer,
            claims=subject_document,
            sd=sd,
            vct=vct,
            holder=holder,
            valid_until=valid_until,
            credential_id=credential_id,
            store=store,
            out=out,
        )
        return
    if sd is not None or vct is not None or holder is not None:
        raise CLIError(
            "cli.usage", "--sd, --vct and --holder are for --format sd-jwt-vc"
        )
    now = datetime.now(UTC)
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2_CONTEXT, *(contexts or [])],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", *(types or [])],
        "issuer": "",
        "validFrom": _timestamp(now),
        "credentialSubject": subject_document,
    }
    if valid_until is not None:
        moment = valid_until if valid_until.tzinfo else valid_until.replace(tzinfo=UTC)
        credential["validUntil"] = _timestamp(moment)
    with open_wallet(output, cfg, passphrase_file) as wallet:
        record = wallet.get_did(issuer)
        key = wallet.signing_key(issuer)
        chosen = suite or DEFAULT_SUITE[key.algorithm]
        if (
            chosen in CRYPTOSUITES
            and CRYPTOSUITES[chosen].key_algorithm is not key.algorithm
        ):
            raise CLIError(
                "cli.suite-key-mismatch",
                f"{chosen} signs with {CRYPTOSUITES[chosen].key_algorithm.value} keys; "
                f"{record.alias} has a {key.algorithm.value} key",
                exit_code=65,
            )
        credential["issuer"] = record.did
        signed = issue_credential(
            credential,
            key=key,
            verification_method=record.verification_method,
            cryptosuite=chosen,
            created=now,
        )
        stored = wallet.add_credential(signed, now=now) if store else None
    if out is not None:
        _write_new(out, signed)
    if output.as_json or stored is None:
        output.document(signed)
    if stored is not None and not output.as_json:
        output.result(stored.to_dict(), message="Issued and kept in the wallet.")


@app.command("verify")
def verify(
    file: Annotated[
        Path, typer.Argument(help="The credential (JSON) to verify.", dir_okay=False)
    ],
    json_output: JsonOption = False,
) -> None:
    """Verify a credential: data model, proof, issuer, validity period, status."""
    output = Output(as_json=json_output)
    cfg = settings()
    text = _read_text(file)
    resolver = make_resolver(cfg)
    try:
        result = verify_credential(
            text,
            resolver=resolver,
            status_checker=share.status_list_checker(cfg, resolver),
        )
    except DidVaultError as exc:
        _not_valid(output, exc)
        return
    output.result(
        {
            "verified": True,
            "issuer": result.credential.issuer_id,
            "id": result.credential.id,
            "checks": _checks(result),
            "credentialSubject": result.document.get("credentialSubject"),
        },
        message="Valid credential.",
    )


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="The credential (JSON) to keep.", dir_okay=False)
    ],
    local_id: Annotated[
        str | None, typer.Option("--as", help="A local id for it (default: cred-<n>).")
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Keep it without verifying it first.")
    ] = False,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Verify a credential and keep it in the wallet, exactly as received."""
    output = Output(as_json=json_output)
    cfg = settings()
    text = _read_text(file)
    if not no_verify:
        resolver = make_resolver(cfg)
        try:
            verify_credential(
                text,
                resolver=resolver,
                status_checker=share.status_list_checker(cfg, resolver),
            )
        except DidVaultError as exc:
            _not_valid(output, exc)
            return
    with open_wallet(output, cfg, passphrase_file) as wallet:
        stored = wallet.add_credential(text, local_id=local_id)
    output.result(stored.to_dict(), message="Credential kept in the wallet.")


@app.command("list")
def list_credentials(
    json_output: JsonOption = False, passphrase_file: PassphraseFileOption = None
) -> None:
    """List the credentials the wallet holds."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        rows = [stored.to_dict() for stored in wallet.list_credentials()]
    for row in rows:
        row["types"] = ", ".join(row["types"]) if not output.as_json else row["types"]
    output.table(
        rows,
        columns=("id", "types", "issuer", "valid_until", "added", "log_index"),
        title="Credentials",
        key="credentials",
    )


@app.command("show")
def show(
    ref: Annotated[
        str, typer.Argument(help="Local id (cred-<n>) or the credential's id.")
    ],
    receipt: Annotated[
        bool,
        typer.Option(
            "--receipt",
            help="Print the registry's log receipt kept beside it (with your "
            "private opening) instead of the credential.",
        ),
    ] = False,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Print a held credential exactly as it is kept (or its log receipt)."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        stored = wallet.get_credential(ref)
    if not receipt:
        output.document(stored.document())
        return
    if stored.receipt is None:
        raise CLIError(
            "cli.receipt-missing",
            f"no log receipt is kept with {stored.local_id}: only credentials "
            "a registry issued (item register, item accept) come with one",
            exit_code=65,
        )
    output.document(stored.receipt)


def present(
    credentials: Annotated[
        list[str],
        typer.Option(
            "--credential", help="Local id or id of a held credential (repeatable)."
        ),
    ],
    challenge: Annotated[
        str, typer.Option("--challenge", help="The verifier's challenge (nonce).")
    ],
    domain: Annotated[str, typer.Option("--domain", help="The verifier's domain.")],
    holder: Annotated[
        str | None,
        typer.Option(
            "--holder",
            help="Alias or DID that signs (default: the credentials' subject).",
        ),
    ] = None,
    out: OutOption = None,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Present held credentials to a verifier, bound to its challenge and domain."""
    output = Output(as_json=json_output)
    cfg = settings()
    with open_wallet(output, cfg, passphrase_file) as wallet:
        held = [wallet.get_credential(ref) for ref in credentials]
        if holder is None:
            own = {record.did for record in wallet.list_dids()}
            subjects = {s for stored in held for s in stored.subject_ids if s in own}
            if len(subjects) != 1:
                raise CLIError(
                    "cli.holder-ambiguous",
                    "say which wallet DID presents with --holder ("
                    f"{len(subjects)} of the credentials' subjects are in this wallet)",
                )
            holder = subjects.pop()
        record = wallet.get_did(holder)
        key = wallet.signing_key(holder)
        presentation = create_presentation(
            [stored.document() for stored in held], holder=record.did
        )
        signed = sign_presentation(
            presentation,
            key=key,
            verification_method=record.verification_method,
            challenge=challenge,
            domain=domain,
            cryptosuite=DEFAULT_SUITE[key.algorithm],
        )
    if out is not None:
        _write_new(out, signed)
    output.document(signed)


@presentation_app.command("verify")
def verify_presentation_command(
    file: Annotated[
        Path, typer.Argument(help="The presentation (JSON).", dir_okay=False)
    ],
    challenge: Annotated[
        str, typer.Option("--challenge", help="The challenge you issued.")
    ],
    domain: Annotated[str, typer.Option("--domain", help="Your domain.")],
    json_output: JsonOption = False,
) -> None:
    """Verify a presentation (holder proof, challenge, domain) and its credentials."""
    output = Output(as_json=json_output)
    cfg = settings()
    text = _read_text(file)
    resolver = make_resolver(cfg)
    try:
        result = verify_presentation(
            text,
            resolver=resolver,
            challenge=challenge,
            domain=domain,
            status_checker=share.status_list_checker(cfg, resolver),
        )
    except DidVaultError as exc:
        _not_valid(output, exc)
        return
    output.result(
        {
            "verified": True,
            "holder": result.presentation.holder_id,
            "checks": _checks(result),
            "credentials": [
                {
                    "issuer": item.credential.issuer_id,
                    "id": item.credential.id,
                    "checks": _checks(item),
                    "credentialSubject": item.document.get("credentialSubject"),
                }
                for item in result.credentials
            ],
        },
        message="Valid presentation.",
    )
