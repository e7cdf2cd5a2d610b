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
- ``verify``: check a presentation made for you and, given a request, that what it
  shows answers it. An SD-JWT VC presentation: issuer signature, Disclosures,
  validity, Key Binding to this audience and nonce, Token Status List status. A Data
  Integrity VP (JSON whose ``type`` has ``VerifiablePresentation``): the holder's
  proof bound to the nonce (challenge) and audience (domain), then each credential as
  ``presentation verify`` does (Bitstring Status List status included); a request is
  then matched as format ``ldp_vc``, and what the VP showed beyond it is listed
  (``unrequested``): a Data Integrity VP cannot withhold anything. The packaged
  templates ask for SD-JWT VCs, so a Data Integrity VP does not answer one
  (``dcql.unsatisfiable``). The nonce is single-use across calls (a small file beside
  the wallet), in both formats. With ``--registry``, once the presentation verified
  here, the command authenticates to the registry with a wallet DID (``--as``) and
  sends the presentation to ``POST /v1/verify/presentation``, which checks it again
  and adds its facts: registered, current owner, revoked, reported stolen or missing,
  owned since. Exit 0 valid, 1 not valid (with the code, also when the registry says
  so), 69 could not check (a DID, status list or the registry unreachable), 77 the
  registry refused the wallet DID.
"""

import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.commands.item_registry import _owner, _problem, authenticate, connect
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
    InvalidNonceError,
    NonceReplayedError,
    NonceState,
    ResolutionError,
    Resolver,
    StatusListChecker,
    TokenStatusChecker,
    VerificationError,
    Wallet,
    check_holder_is_subject,
    check_presentation_request,
    check_request,
    format_claim_path,
    holder_binding_key,
    holder_key_for,
    issue_sd_jwt_vc,
    load_template,
    parse_claim_paths,
    share_sd_jwt,
    status_key_resolver,
    verify_credential,
    verify_presentation,
    verify_sd_jwt,
)
from registry.client import RegistryClient, RegistryProblem

DEFAULT_VCT = "urn:did-vault:vct:OwnershipCredential"
SD_JWT_VC_FORMAT = "dc+sd-jwt"  # the wallet's and DCQL's name for SD-JWT VCs
DATA_INTEGRITY_VP_FORMAT = "ldp_vp"  # as the registry's verification names it
PRESENTATION_TYPE = "VerifiablePresentation"
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

VerifyAudienceOption = Annotated[
    str,
    typer.Option(
        "--audience",
        help="Your DID: the KB-JWT's aud, or the Data Integrity VP's domain.",
    ),
]
VerifyNonceOption = Annotated[
    str,
    typer.Option(
        "--nonce",
        help="Your nonce for this request: the KB-JWT's nonce, or the Data "
        "Integrity VP's challenge.",
    ),
]
RegistryURLOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        help="Also send the presentation to this registry (base URL, https://…) and "
        "show its facts: current owner, revoked, reported stolen or missing.",
    ),
]
VerifierAsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Alias or DID you authenticate to the registry as (default: the "
        "wallet's first DID); the presentation's audience must be it or the "
        "registry's DID.",
    ),
]


def _fetcher(cfg: CLISettings) -> HttpxFetcher:
    return HttpxFetcher(allow_loopback=cfg.allow_loopback, verify=cfg.tls_verify())


def status_list_checker(cfg: CLISettings, resolver: Resolver) -> StatusListChecker:
    """Bitstring Status List checks for Data Integrity credentials (the status list
    credential itself verified like any other)."""

    def verify_list(credential: Mapping[str, Any], *, now: datetime) -> object:
        return verify_credential(credential, resolver=resolver, now=now)

    return StatusListChecker(fetcher=_fetcher(cfg), verify_list=verify_list)


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


def _data_integrity_presentation(text: str) -> dict[str, Any] | None:
    """The document, when ``text`` is a Data Integrity VP (JSON whose ``type`` has
    ``VerifiablePresentation``); ``None`` for anything else (an SD-JWT)."""
    if not text.startswith("{"):
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    types = document.get("type")
    types = [types] if isinstance(types, str) else types
    if isinstance(types, list) and PRESENTATION_TYPE in types:
        return document
    return None


def _request_check(query: DCQLQuery, answered: list[str]) -> dict[str, str]:
    return {
        "check": "request",
        "detail": f"answers {query.template or 'the request'} ({', '.join(answered)})",
    }


def _verify_sd_jwt(
    text: str,
    *,
    audience: str,
    nonce: str,
    query: DCQLQuery | None,
    cfg: CLISettings,
    resolver: Resolver,
    nonces: FileNonceStore,
    checks: list[dict[str, str]],
) -> dict[str, Any]:
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
    checks.extend({"check": c.name, "detail": c.detail} for c in verified.checks)
    if query is not None:
        answer = check_request(verified, query)
        checks.append(_request_check(query, [m.query_id for m in answer.matches]))
    return {
        "verified": True,
        "format": SD_JWT_VC_FORMAT,
        "issuer": verified.issuer,
        "vct": verified.vct,
        "disclosed": [format_claim_path(p) for p in verified.disclosed_paths],
        "checks": checks,
        "claims": verified.claims,
    }


def _consume(nonces: FileNonceStore, nonce: str) -> None:
    """Use the nonce once, as the SD-JWT path does after its checks passed.

    Raises: NonceReplayedError, InvalidNonceError (the codes the SD-JWT path uses).
    """
    state = nonces.consume(nonce, now=datetime.now(UTC))
    if state == NonceState.REPLAYED:
        raise NonceReplayedError("the nonce was already used", check="nonce")
    if state != NonceState.ACCEPTED:
        raise InvalidNonceError("the nonce is unknown or expired", state=str(state))


def _verify_data_integrity(
    document: dict[str, Any],
    *,
    audience: str,
    nonce: str,
    query: DCQLQuery | None,
    cfg: CLISettings,
    resolver: Resolver,
    nonces: FileNonceStore,
    checks: list[dict[str, str]],
) -> dict[str, Any]:
    result = verify_presentation(
        document,
        resolver=resolver,
        challenge=nonce,
        domain=audience,
        status_checker=status_list_checker(cfg, resolver),
    )
    checks.extend({"check": c.name, "detail": c.detail} for c in result.checks)
    check_holder_is_subject(result)
    checks.append({"check": "holder", "detail": "every credential is about the holder"})
    _consume(nonces, nonce)
    checks.append({"check": "nonce", "detail": "single use, consumed"})
    unrequested: list[str] = []
    if query is not None:
        answer = check_presentation_request(result, query)
        checks.append(
            _request_check(query, [m.query_id for m in answer.answer.matches])
        )
        several = len(result.credentials) > 1
        unrequested = [
            (f"credential {index}: " if several else "") + format_claim_path(path)
            for index, path in answer.unrequested
        ]
    return {
        "verified": True,
        "format": DATA_INTEGRITY_VP_FORMAT,
        "holder": result.presentation.holder_id,
        "checks": checks,
        "credentials": [
            {
                "issuer": item.credential.issuer_id,
                "id": item.credential.id,
                "type": item.document.get("type"),
                "credentialSubject": item.document.get("credentialSubject"),
            }
            for item in result.credentials
        ],
        "unrequested": unrequested,
    }


def _facts_line(facts: Mapping[str, Any]) -> str:
    """The registry's facts in one sentence."""
    if not facts.get("registered"):
        return "Registry: the item is not registered."
    parts = [
        "the presenter is the current owner"
        if facts.get("current_owner")
        else "the presenter is NOT the current owner",
        "credential REVOKED" if facts.get("revoked") else "not revoked",
    ]
    if facts.get("reported_stolen"):
        parts.append("REPORTED STOLEN")
    elif facts.get("reported_missing"):
        parts.append("REPORTED MISSING")
    else:
        parts.append("not reported stolen or missing")
    if facts.get("owned_from"):
        parts.append(f"owned since {str(facts['owned_from'])[:10]}")
    return "Registry: " + ", ".join(parts) + "."


def _is_verdict(problem: RegistryProblem) -> bool:
    """Whether the registry checked the presentation and said no: the code of one
    of did_vault's verification errors (exit 1, as a local failure)."""
    classes: list[type[VerificationError]] = [VerificationError]
    while classes:
        cls = classes.pop()
        if cls.code == problem.code:
            return True
        classes.extend(cls.__subclasses__())
    return False


def _ask_registry(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    as_: str | None,
    passphrase_file: Path | None,
    audience: str,
    nonce: str,
    sd_jwt: str | None,
    presentation: dict[str, Any] | None,
    template: str | None,
    query: DCQLQuery | None,
) -> dict[str, Any]:
    """The registry's verification and facts for the presentation.

    A registry that checked the presentation and refused it ends the command with
    exit 1 and its code; other problems raise.

    Raises: CLIError (unreachable: 69; the wallet DID refused: 77; else 65).
    """
    with open_wallet(output, cfg, passphrase_file) as wallet:
        did = _owner(wallet, as_)
        client: RegistryClient = connect(cfg, registry_url)
        try:
            token = authenticate(client, wallet, did)
            answer = client.verify_presentation(
                token,
                nonce=nonce,
                audience=audience,
                sd_jwt=sd_jwt,
                presentation=presentation,
                template=template,
                dcql=None if template is not None or query is None else query.to_json(),
            )
        except RegistryProblem as exc:
            if _is_verdict(exc):
                output.problem(
                    {
                        "verified": False,
                        **exc.to_dict(),
                        "registry": registry_url.rstrip("/"),
                    }
                )
                sys.exit(EXIT_NOT_VALID)
            raise _problem(exc) from exc
        finally:
            client.close()
    return {
        "url": registry_url.rstrip("/"),
        "as": did,
        "verified": answer.verified,
        "facts": answer.facts.model_dump(mode="json"),
    }


def verify(
    file: Annotated[
        Path,
        typer.Argument(
            help="The presentation: an SD-JWT VC presentation (compact or JSON) or "
            "a Data Integrity VP (JSON).",
            dir_okay=False,
        ),
    ],
    audience: VerifyAudienceOption,
    nonce: VerifyNonceOption,
    request: RequestOption = None,
    template: TemplateOption = None,
    registry_url: RegistryURLOption = None,
    as_: VerifierAsOption = None,
    json_output: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Verify a presentation made for you, what it answers, and (with --registry)
    the registry's facts."""
    output = Output(as_json=json_output)
    cfg = settings()
    query = None if request is None and template is None else _query(request, template)
    text = _read_text(file).strip()
    presentation = _data_integrity_presentation(text)
    resolver = CachingResolver(make_resolver(cfg))
    nonces = FileNonceStore(cfg.wallet_home() / NONCE_FILE_NAME)
    checks: list[dict[str, str]] = []
    options: dict[str, Any] = {
        "audience": audience,
        "nonce": nonce,
        "query": query,
        "cfg": cfg,
        "resolver": resolver,
        "nonces": nonces,
        "checks": checks,
    }
    try:
        if presentation is None:
            document = _verify_sd_jwt(text, **options)
        else:
            document = _verify_data_integrity(presentation, **options)
    except DidVaultError as exc:
        _not_valid(output, exc, checks)
        return
    message = "Valid presentation."
    if document.get("unrequested"):
        message += (
            " A Data Integrity presentation shows its credentials whole; "
            "beyond the request you also saw: " + ", ".join(document["unrequested"])
        )
    if registry_url is not None:
        registry = _ask_registry(
            output,
            cfg,
            registry_url=registry_url,
            as_=as_,
            passphrase_file=passphrase_file,
            audience=audience,
            nonce=nonce,
            sd_jwt=text if presentation is None else None,
            presentation=presentation,
            template=template,
            query=query,
        )
        document["registry"] = registry
        message += "\n" + _facts_line(registry["facts"])
    output.result(document, message=message)
