"""SD-JWT VCs: ``credential issue --format sd-jwt-vc``, ``share`` and ``verify``.

- ``issue_sd_jwt_vc_credential`` (behind ``credential issue --format sd-jwt-vc``):
  the claims come from ``--subject``; ``--sd`` names the selectively disclosable ones
  as claim paths in a short dotted form: member names joined by ``.``, ``[n]`` for
  the n-th array element, JSON-quoted names for anything else
  (``item.brand,item.serialNumber,acquisition.price,colors[1],item."model year"``).
  The holder's key (``cnf``) is the first authentication (else assertion) key of the
  ``--holder`` DID's document.
- ``share``: answer a DCQL request (a file, or a packaged template) from a held
  SD-JWT VC with the fewest Disclosures, bound to the verifier's DID and nonce. A
  request naming a template that asks for more is refused (``dcql.exceeds-template``)
  unless ``--allow-excess``, which only warns.
- ``verify``: check a presentation (issuer signature, Disclosures, validity, Key
  Binding to this audience and nonce, Token Status List status) and, given a request,
  that the disclosed claims answer it. The nonce is single-use across calls (a small
  file beside the wallet). Exit 0 valid, 1 not valid (with the code), 69 could not
  check.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import (
    CLIError,
    CLISettings,
    JsonOption,
    PassphraseFileOption,
    make_resolver,
    open_wallet,
    settings,
)
from cli.nonces import NONCE_FILE_NAME, FileNonceStore
from cli.output import Output
from did_vault import (
    SDJWT,
    CachingResolver,
    DCQLQuery,
    DidVaultError,
    HttpxFetcher,
    ResolutionError,
    TokenStatusChecker,
    Wallet,
    check_request,
    format_claim_path,
    holder_binding_key,
    holder_key_for,
    issue_sd_jwt_vc,
    load_template,
    parse_claim_paths,
    share_sd_jwt,
    status_key_resolver,
    verify_sd_jwt,
)

DEFAULT_VCT = "urn:did-vault:vct:OwnershipCredential"
SD_JWT_VC_FORMAT = "dc+sd-jwt"  # the wallet's and DCQL's name for SD-JWT VCs
EXIT_NOT_VALID = 1
EXIT_UNAVAILABLE = 69

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Also write the result to this new file.", dir_okay=False
    ),
]
RequestOption = Annotated[
    Path | None,
    typer.Option("--request", help="The DCQL request (JSON file).", dir_okay=False),
]
TemplateOption = Annotated[
    str | None,
    typer.Option(
        "--template",
        help="A packaged request template: warranty-check, resale-ownership, "
        "insurance-claim, stolen-check.",
    ),
]
AudienceOption = Annotated[
    str, typer.Option("--audience", help="The verifier's DID (the KB-JWT's aud).")
]
NonceOption = Annotated[
    str, typer.Option("--nonce", help="The verifier's nonce for this request.")
]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except PermissionError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(
            "cli.file-unreadable", f"cannot read {path}: {exc}", exit_code=65
        ) from exc


def _write_new(path: Path, text: str) -> None:
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except FileExistsError as exc:
        raise CLIError(
            "cli.file-exists", f"{path} exists; choose a new file", exit_code=65
        ) from exc


def _query(request: Path | None, template: str | None) -> DCQLQuery:
    if (request is None) == (template is None):
        raise CLIError("cli.usage", "give exactly one of --request and --template")
    if template is not None:
        return load_template(template)
    assert request is not None
    return DCQLQuery.from_text(_read_text(request))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- issue -------------------------------------------------------------------------


def _holder_did(wallet: Wallet, holder: str | None, claims: dict[str, Any]) -> str:
    if holder is None:
        subject = claims.get("sub", claims.get("id"))
        if not isinstance(subject, str):
            raise CLIError(
                "cli.holder-missing",
                "say whose key the credential binds to with --holder "
                "(or give the subject a 'sub' DID)",
            )
        holder = subject
    own = {record.alias: record.did for record in wallet.list_dids()}
    return own.get(holder, holder)


def issue_sd_jwt_vc_credential(
    *,
    output: Output,
    cfg: CLISettings,
    passphrase_file: Path | None,
    issuer: str,
    claims: dict[str, Any],
    sd: str | None,
    vct: str | None,
    holder: str | None,
    valid_until: datetime | None,
    credential_id: str | None,
    store: bool,
    out: Path | None,
) -> None:
    """``credential issue --format sd-jwt-vc``: sign, print, optionally keep."""
    disclosable = parse_claim_paths(sd or "")
    if credential_id is not None:
        claims = {**claims, "jti": credential_id}
    now = datetime.now(UTC)
    resolver = make_resolver(cfg)
    with open_wallet(output, cfg, passphrase_file) as wallet:
        record = wallet.get_did(issuer)
        key = wallet.signing_key(issuer)
        holder_did = _holder_did(wallet, holder, claims)
        holder_key = holder_binding_key(resolver.resolve(holder_did))
        try:
            compact = issue_sd_jwt_vc(
                vct=vct or DEFAULT_VCT,
                issuer_did=record.did,
                key=key,
                kid=record.verification_method,
                claims=claims,
                disclosable=disclosable,
                holder_key=holder_key,
                valid_until=None if valid_until is None else _utc(valid_until),
                now=now,
            )
        except ValueError as exc:
            raise CLIError("cli.claims-invalid", str(exc), exit_code=65) from exc
        stored = wallet.add_credential(compact, now=now) if store else None
    if out is not None:
        _write_new(out, compact)
    if output.as_json:
        document: dict[str, Any] = {
            "format": SD_JWT_VC_FORMAT,
            "credential": compact,
        }
        if stored is not None:
            document["stored"] = stored.to_dict()
        output.emit_json(document)
        return
    output.step(compact)
    if stored is not None:
        output.result(stored.to_dict(), message="Issued and kept in the wallet.")


# --- share -------------------------------------------------------------------------


def share(
    credential: Annotated[
        str,
        typer.Option("--credential", help="Local id or id of a held SD-JWT VC."),
    ],
    audience: AudienceOption,
    nonce: NonceOption,
    request: RequestOption = None,
    template: TemplateOption = None,
    allow_excess: Annotated[
        bool,
        typer.Option(
            "--allow-excess",
            help="Answer a request that asks for more than the template it names "
            "(with a warning) instead of refusing it.",
        ),
    ] = False,
    out: OutOption = None,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Share the least a request needs from a held SD-JWT VC, bound to a verifier."""
    output = Output(as_json=json_output)
    cfg = settings()
    query = _query(request, template)
    with open_wallet(output, cfg, passphrase_file) as wallet:
        stored = wallet.get_credential(credential)
        if stored.format != SD_JWT_VC_FORMAT:
            raise CLIError(
                "cli.credential-format",
                f"{stored.local_id} is a {stored.format} credential; share works "
                "with SD-JWT VCs (use 'did-vault present' for the others)",
                exit_code=65,
            )
        parsed = SDJWT.parse(stored.raw)
        key = holder_key_for(
            parsed, (wallet.signing_key(d.did) for d in wallet.list_dids())
        )
        if key is None:
            raise CLIError(
                "cli.holder-key-missing",
                "no DID in this wallet holds the key the credential is bound to",
                exit_code=65,
            )
        shared = share_sd_jwt(
            parsed,
            query,
            holder_key=key,
            audience=audience,
            nonce=nonce,
            allow_excess=allow_excess,
        )
    for warning in shared.warnings:
        output.warning(f"the request asks for more than its template: {warning}")
    if out is not None:
        _write_new(out, shared.presentation)
    disclosed = [format_claim_path(path) for path in shared.disclosed]
    withheld = [format_claim_path(path) for path in shared.withheld]
    if output.as_json:
        output.emit_json(
            {
                "format": SD_JWT_VC_FORMAT,
                "presentation": shared.presentation,
                "credential": stored.local_id,
                "template": query.template,
                "audience": audience,
                "disclosed": disclosed,
                "withheld": withheld,
                "warnings": list(shared.warnings),
            }
        )
        return
    output.step(shared.presentation)
    output.result(
        {
            "credential": stored.local_id,
            "template": query.template or "(none)",
            "audience": audience,
            "disclosed": ", ".join(disclosed) or "(nothing selectively disclosable)",
            "withheld": ", ".join(withheld) or "(nothing)",
        },
        message="Shared: the verifier also sees the issuer, type, validity, "
        "status and your binding key.",
    )


# --- verify ------------------------------------------------------------------------


def _fetcher(cfg: CLISettings) -> HttpxFetcher:
    return HttpxFetcher(allow_loopback=cfg.allow_loopback, verify=cfg.tls_verify())


def _not_valid(
    output: Output, exc: DidVaultError, checks: list[dict[str, str]]
) -> None:
    problem: dict[str, object] = {"verified": False, **exc.to_dict()}
    check = exc.context.get("check")
    if check is not None:
        problem["check"] = check
    if checks:
        problem["checks"] = checks
    output.problem(problem)
    sys.exit(EXIT_UNAVAILABLE if isinstance(exc, ResolutionError) else EXIT_NOT_VALID)


def verify(
    file: Annotated[
        Path,
        typer.Argument(
            help="The SD-JWT VC presentation (compact or JSON).", dir_okay=False
        ),
    ],
    audience: AudienceOption,
    nonce: NonceOption,
    request: RequestOption = None,
    template: TemplateOption = None,
    json_output: JsonOption = False,
) -> None:
    """Verify an SD-JWT VC presentation made for you, and what it answers."""
    output = Output(as_json=json_output)
    cfg = settings()
    query = None if request is None and template is None else _query(request, template)
    text = _read_text(file).strip()
    resolver = CachingResolver(make_resolver(cfg))
    nonces = FileNonceStore(cfg.wallet_home() / NONCE_FILE_NAME)
    checks: list[dict[str, str]] = []
    try:
        # The status list must be signed by the credential's own issuer.
        issuer = SDJWT.parse(text).payload.get("iss")
        status_checker = TokenStatusChecker(
            fetcher=_fetcher(cfg),
            resolve_key=status_key_resolver(resolver, str(issuer)),
        )
        verified = verify_sd_jwt(
            text,
            audience=audience,
            nonce=nonce,
            resolver=resolver,
            nonce_store=nonces,
            status_checker=status_checker,
        )
        checks = [{"check": c.name, "detail": c.detail} for c in verified.checks]
        if query is not None:
            answer = check_request(verified, query)
            answered = ", ".join(m.query_id for m in answer.matches)
            checks.append(
                {
                    "check": "request",
                    "detail": f"answers {query.template or 'the request'} ({answered})",
                }
            )
    except DidVaultError as exc:
        _not_valid(output, exc, checks)
        return
    output.result(
        {
            "verified": True,
            "issuer": verified.issuer,
            "vct": verified.vct,
            "disclosed": [format_claim_path(p) for p in verified.disclosed_paths],
            "checks": checks,
            "claims": verified.claims,
        },
        message="Valid presentation.",
    )
