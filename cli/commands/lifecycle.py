"""``did-vault item transfer|accept|report-missing|confirm-stolen|recovered``,
``item sign-stolen-report``,
``item check-stolen`` and ``item prove|verify-proof``: an item's life after
registration.

- ``transfer`` (seller): signs a ``TransferOfferCredential`` (item, buyer DID,
  single-use nonce, expiry), files it with the registry and writes an offer file
  for the buyer.
- ``accept`` (buyer): reads the offer from the registry, signs a
  ``TransferAcceptanceCredential`` naming it by id and digest; the registry moves
  the ownership and the buyer's new OwnershipCredential (both forms) is kept.
- ``report-missing`` (owner), ``confirm-stolen`` (a police or insurer DID on the
  registry's trust list), ``recovered`` (either): DID-authenticated, each with the
  item's current ETag (``If-Match``).
- ``sign-stolen-report`` (a police or insurer DID, offline): signs a
  ``StolenReportCredential`` for an item given by its DID, which the registry's
  operator applies with ``registry stolen confirm`` (no registry call here).
- ``check-stolen`` (anyone, no wallet): GTIN + serial or a GS1 Digital Link →
  ``clear | reported_stolen | unknown``.
- ``prove`` (owner → insurer): an SD-JWT VC presentation of the registry-issued
  OwnershipCredential bound to the insurer's DID and nonce (brand, model, serial,
  owned-from, acquisition when present). ``verify-proof`` (insurer): checks it
  (issuer signature, Key Binding, status) and that the ownership began before a
  date; the registry's insurer check adds its facts when it offers one.

The HTTP calls are ``registry.client.RegistryClient``'s; a call the client does not
offer yet is refused with ``cli.unsupported``.
"""

import json
import secrets
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from cli.commands.item import app
from cli.commands.item_registry import (
    AsOption,
    RegistryOption,
    _owner,
    _problem,
    connect,
    kept_receipt,
    registry_session,
)
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
    CredentialSuspendedError,
    DidVaultError,
    HttpxFetcher,
    KeyAlgorithm,
    NoteKey,
    Receipt,
    ResolutionError,
    StoredCredential,
    TokenStatusChecker,
    Wallet,
    check_registered_before,
    format_claim_path,
    holder_key_for,
    issue_credential,
    items,
    parse_checkpoint,
    present_sd_jwt,
    status_key_resolver,
    verify_sd_jwt,
)
from registry.client import RegistryClient, RegistryProblem

CAPABILITIES: dict[str, tuple[str, ...]] = {
    "transfer": ("create_offer", "get_offer", "accept_offer"),
    "missing": ("report_missing",),
    "stolen": ("confirm_stolen",),
    "recovered": ("mark_recovered",),
    "stolen-check": ("check_stolen",),
    "insurer-check": ("verify_for_insurer",),
}
"""Lifecycle capabilities and the ``RegistryClient`` methods each needs."""

OFFER_FILE_KIND = "did-vault.transfer-offer"
PROOF_FILE_KIND = "did-vault.ownership-proof"
OWNERSHIP_VCT = "urn:did-vault:vct:OwnershipCredential"
SD_JWT_FORMAT = "dc+sd-jwt"
DEFAULT_OFFER_HOURS = 72
PROOF_PATHS: tuple[tuple[str, ...], ...] = (
    ("item", "id"),
    ("item", "brand"),
    ("item", "model"),
    ("item", "serialNumber"),
    ("item", "gtin"),
    ("ownedFrom",),
    ("acquisition", "purchaseDate"),
    ("acquisition", "price"),
)
"""What an insurer asks (the ``insurance-claim`` template), where the credential
has it, and the item's DID so that the proof names the item."""
EXIT_NOT_VALID = 1
EXIT_UNAVAILABLE = 69

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Also write the result to this new file.", dir_okay=False
    ),
]
INSTANT_FORMATS = [
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
]
"""ISO 8601 instants as typed (with or without fraction and offset; UTC if none)."""
ItemArgument = Annotated[
    str, typer.Argument(help="The item: its registry id or its DID.")
]


def available_capabilities() -> frozenset[str]:
    """The lifecycle capabilities the registry client offers."""
    return frozenset(
        name
        for name, methods in CAPABILITIES.items()
        if all(callable(getattr(RegistryClient, m, None)) for m in methods)
    )


def _require(capability: str) -> None:
    """Refuse a call the registry client does not offer (an older registry package).

    Raises:
        CLIError: ``cli.unsupported``.
    """
    if capability not in available_capabilities():
        raise CLIError(
            "cli.unsupported",
            f"this registry client does not offer '{capability}'",
            exit_code=2,
        )


def _plain(value: BaseModel) -> dict[str, Any]:
    """A registry answer as JSON-safe data."""
    return value.model_dump(mode="json")


def _write_new(path: Path, text: str) -> None:
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except FileExistsError as exc:
        raise CLIError(
            "cli.file-exists", f"{path} exists; choose a new file", exit_code=65
        ) from exc


def _read_json(path: Path, kind: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(
            "cli.file-unreadable", f"cannot read {path}: {exc}", exit_code=65
        ) from exc
    except json.JSONDecodeError as exc:
        raise CLIError(
            "cli.json-invalid", f"{path} is not JSON: {exc}", exit_code=65
        ) from exc
    if not isinstance(document, dict) or document.get("kind") != kind:
        raise CLIError("cli.json-invalid", f"{path} is not a {kind} file", exit_code=65)
    return document


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _item_id(item: str) -> str:
    """The registry id of an item given by id or by its ``did:web:…:items:<id>``."""
    return item.rsplit(":", 1)[-1] if item.startswith("did:") else item


def _item_did(client: RegistryClient, token: str, item: str) -> str:
    """The DID of an item the caller may read (given by id or DID)."""
    return item if item.startswith("did:") else client.get_item(token, item).did


# --- transfer ------------------------------------------------------------------------


def create_offer(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    item: str,
    buyer: str | None,
    valid_for: timedelta,
    price: dict[str, Any] | None,
    as_: str | None,
    passphrase_file: Path | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Sign and file a transfer offer; the offer file's content. Without ``buyer``
    the offer is made to a fresh one-time claim code, which the file carries (the
    registry keeps only its digest).

    Raises:
        CLIError: usage, or the registry's problem (its code).
    """
    moment = now or datetime.now(UTC)
    _require("transfer")
    with registry_session(
        output,
        cfg,
        registry_url=registry_url,
        as_=as_,
        passphrase_file=passphrase_file,
    ) as session:
        wallet, client, token = session.wallet, session.client, session.token
        seller = session.did
        record = wallet.get_did(seller)
        item_did = _item_did(client, token, item)
        offer_nonce = secrets.token_urlsafe(16)
        claim_code = None if buyer is not None else items.new_claim_code()
        recipient = (
            {"buyer": buyer}
            if claim_code is None
            else {
                "claimCodeDigest": items.claim_code_digest(
                    claim_code, nonce=offer_nonce
                )
            }
        )
        terms = items.TransferOffer.from_json(
            {
                "type": "TransferOffer",
                "item": item_did,
                "seller": seller,
                **recipient,
                "nonce": offer_nonce,
                "validThrough": items.format_date_time(moment + valid_for),
                **({"price": price} if price else {}),
            }
        )
        unsigned = items.build_credential(
            terms,
            issuer=seller,
            valid_from=moment,
            credential_id=f"urn:uuid:{uuid.uuid4()}",
        )
        offer = issue_credential(
            unsigned,
            key=wallet.signing_key(seller),
            verification_method=record.verification_method,
        )
        filed = _plain(client.create_offer(token, offer))
    return {
        "kind": OFFER_FILE_KIND,
        "registry": registry_url,
        "offer_id": filed["id"],
        "item": item_did,
        "seller": seller,
        "buyer": buyer,
        **({"claim_code": claim_code} if claim_code is not None else {}),
        "valid_through": filed["valid_through"],
        "digest": filed["digest"],
        "offer": offer,
    }


@app.command("transfer")
def transfer_command(
    item: ItemArgument,
    registry: RegistryOption,
    to: Annotated[
        str | None,
        typer.Option("--to", help="The buyer's DID (or use --claim-code)."),
    ] = None,
    claim_code: Annotated[
        bool,
        typer.Option(
            "--claim-code",
            help="Offer to a one-time claim code instead of a DID: whoever accepts "
            "with the code becomes the buyer (for a buyer whose DID you don't know).",
        ),
    ] = False,
    valid_hours: Annotated[
        int,
        typer.Option("--valid-hours", min=1, max=24 * 30, help="Offer lifetime."),
    ] = DEFAULT_OFFER_HOURS,
    price: Annotated[
        str | None,
        typer.Option("--price", help="The price, e.g. '1450.00 EUR' (optional)."),
    ] = None,
    out: OutOption = None,
    as_: AsOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Offer an item you own to a buyer: a signed, single-use, expiring offer."""
    output = Output(as_json=as_json)
    if (to is None) == (not claim_code):
        raise CLIError("cli.usage", "give the buyer's DID with --to, or --claim-code")
    amount = None
    if price is not None:
        value, _, currency = price.partition(" ")
        if not value or len(currency) != 3:
            raise CLIError("cli.usage", "--price is '<amount> <currency>'")
        amount = {"amount": value, "currency": currency.upper()}
    document = create_offer(
        output,
        settings(),
        registry_url=registry,
        item=item,
        buyer=to,
        valid_for=timedelta(hours=valid_hours),
        price=amount,
        as_=as_,
        passphrase_file=passphrase_file,
    )
    if out is not None:
        _write_new(out, json.dumps(document, indent=2))
    summary = {k: v for k, v in document.items() if k != "offer"}
    message = "Offer filed; give the offer file (or its id) to the buyer."
    if claim_code:
        message = (
            "Offer filed to a one-time claim code. Give the buyer the offer id and "
            "the claim code (or the offer file): whoever accepts with the code "
            "becomes the owner. The registry keeps only its digest; it is not shown "
            "again."
        )
    output.result(
        summary if out is not None or not output.as_json else document,
        message=message,
    )


def accept_offer(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    offer_id: str,
    as_: str | None,
    passphrase_file: Path | None,
    claim_code: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Sign the acceptance of an offer made to us (or to ``claim_code``, which we
    were given); keep the new credentials.

    Raises:
        CLIError: the offer names another buyer, or the registry's problem.
    """
    moment = now or datetime.now(UTC)
    _require("transfer")
    with registry_session(
        output,
        cfg,
        registry_url=registry_url,
        as_=as_,
        passphrase_file=passphrase_file,
    ) as session:
        wallet, client, token = session.wallet, session.client, session.token
        buyer = session.did
        record = wallet.get_did(buyer)
        filed = _plain(
            client.get_offer(token, offer_id)
            if claim_code is None
            else client.claim_offer(token, offer_id, claim_code)
        )
        offer = filed["offer"]
        terms = offer["credentialSubject"]
        if "claimCodeDigest" in terms and claim_code is None:
            raise CLIError(
                "cli.usage",
                "the offer is made to a claim code; give it with --claim-code",
                exit_code=65,
            )
        if claim_code is None and terms.get("buyer") != buyer:
            raise CLIError(
                "cli.usage",
                "the offer is made to another DID; use --as with the buyer's DID",
                exit_code=65,
            )
        acceptance_terms = items.TransferAcceptance.from_json(
            {
                "type": "TransferAcceptance",
                "item": terms["item"],
                "seller": terms["seller"],
                "buyer": buyer,
                "nonce": terms["nonce"],
                "offer": {"id": offer["id"], "digestMultibase": filed["digest"]},
                "acceptedAt": items.format_date_time(moment),
            }
        )
        acceptance = issue_credential(
            items.build_credential(
                acceptance_terms,
                issuer=buyer,
                valid_from=moment,
                credential_id=f"urn:uuid:{uuid.uuid4()}",
            ),
            key=wallet.signing_key(buyer),
            verification_method=record.verification_method,
        )
        result = _plain(
            client.accept_offer(token, offer_id, acceptance, claim_code=claim_code)
        )
        receipt = kept_receipt(result.get("receipt"), result.get("opening"))
        stored_vc = wallet.add_credential(result["credential"], receipt=receipt)
        stored_sd = wallet.add_credential(result["sd_jwt_credential"], receipt=receipt)
    item = result["item"]
    return {
        "item": item["id"],
        "did": item["did"],
        "name": item.get("name", ""),
        "owner": item["owner"],
        "acquired_from": terms["seller"],
        "credential": stored_vc.local_id,
        "sd_jwt_credential": stored_sd.local_id,
    }


@app.command("accept")
def accept_command(
    offer: Annotated[
        str,
        typer.Argument(help="The offer file the seller gave you, or the offer id."),
    ],
    registry: Annotated[
        str | None,
        typer.Option("--registry", help="The registry (default: the offer file's)."),
    ] = None,
    claim_code: Annotated[
        str | None,
        typer.Option(
            "--claim-code",
            help="The one-time claim code the seller gave you, for an offer made "
            "to a claim code (default: the offer file's).",
        ),
    ] = None,
    as_: AsOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Accept a transfer offer made to you (or to a claim code you were given):
    the item becomes yours."""
    output = Output(as_json=as_json)
    path = Path(offer)
    if path.is_file():
        document = _read_json(path, OFFER_FILE_KIND)
        offer_id, registry_url = (
            str(document["offer_id"]),
            registry or str(document["registry"]),
        )
        if claim_code is None and isinstance(document.get("claim_code"), str):
            claim_code = document["claim_code"]
    elif registry is None:
        raise CLIError("cli.usage", "with an offer id, give --registry")
    else:
        offer_id, registry_url = offer, registry
    summary = accept_offer(
        output,
        settings(),
        registry_url=registry_url,
        offer_id=offer_id,
        as_=as_,
        passphrase_file=passphrase_file,
        claim_code=claim_code,
    )
    output.result(summary, message="Accepted; the item is yours, credentials stored.")


# --- missing, stolen, recovered ------------------------------------------------------


def _change_state(
    output: Output,
    cfg: CLISettings,
    *,
    capability: str,
    registry_url: str,
    item: str,
    report: Mapping[str, Any] | None,
    as_: str | None,
    passphrase_file: Path | None,
    receipt_out: Path | None = None,
) -> dict[str, Any]:
    """Report missing / confirm stolen / mark recovered; the summary. A
    ``receipt_out`` file is claimed (created empty, never overwritten) before the
    registry is asked, so the change is not made when the file cannot be written;
    it is removed again if the change fails or the registry returns no receipt.

    Raises:
        CLIError: usage, the file exists, or the registry's problem (its code).
    """
    if receipt_out is not None:
        _write_new(receipt_out, "")
    try:
        _require(capability)
        with registry_session(
            output,
            cfg,
            registry_url=registry_url,
            as_=as_,
            passphrase_file=passphrase_file,
        ) as session:
            client, token, item_id = session.client, session.token, _item_id(item)
            # Without If-Match the client fetches the item's current ETag.
            if capability == "missing":
                state = client.report_missing(token, item_id, report)
            elif capability == "stolen":
                state = client.confirm_stolen(token, item_id, report or {})
            else:
                state = client.mark_recovered(token, item_id)
    except BaseException:
        if receipt_out is not None:
            receipt_out.unlink(missing_ok=True)
        raise
    public = _plain(state)
    receipt = kept_receipt(public.get("receipt"), public.get("opening"))
    if receipt_out is not None:
        if receipt is None:
            receipt_out.unlink(missing_ok=True)
        else:
            receipt_out.write_text(json.dumps(receipt, indent=2) + "\n", "utf-8")
    return {
        "log_index": None if receipt is None else receipt["leafIndex"],
        "item": public["item_id"],
        "did": public["item_did"],
        "status": public["condition"],
        **{
            key: public[key]
            for key in ("reported_at", "loss_date", "police_report_number", "place")
            if public.get(key) is not None
        },
        **(
            {"confirmed_by": public["confirmed_by"]}
            if public.get("confirmed_by")
            else {}
        ),
    }


def _report(**fields: Any) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in fields.items()
        if value is not None
    }


LossDateOption = Annotated[
    datetime | None,
    typer.Option(
        "--loss-date",
        help="When it went missing (ISO 8601, UTC if no offset).",
        formats=INSTANT_FORMATS,
    ),
]
PlaceOption = Annotated[str | None, typer.Option("--place", help="Where.")]
ReceiptOutOption = Annotated[
    Path | None,
    typer.Option(
        "--receipt-out",
        help="Write the registry's log receipt of this report, with your private "
        "opening, to this new file: the offline proof of when it was recorded.",
        dir_okay=False,
    ),
]
DescriptionOption = Annotated[
    str | None, typer.Option("--description", help="What happened.")
]


@app.command("report-missing")
def report_missing_command(
    item: ItemArgument,
    registry: RegistryOption,
    loss_date: LossDateOption = None,
    place: PlaceOption = None,
    description: DescriptionOption = None,
    as_: AsOption = None,
    receipt_out: ReceiptOutOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Report an item you own missing (it can no longer be transferred)."""
    output = Output(as_json=as_json)
    summary = _change_state(
        output,
        settings(),
        capability="missing",
        registry_url=registry,
        item=item,
        report=_report(
            loss_date=None if loss_date is None else _utc(loss_date),
            place=place,
            description=description,
        ),
        as_=as_,
        passphrase_file=passphrase_file,
        receipt_out=receipt_out,
    )
    output.result(summary, message="Reported missing.")


@app.command("confirm-stolen")
def confirm_stolen_command(
    item: ItemArgument,
    registry: RegistryOption,
    police_report: Annotated[
        str, typer.Option("--police-report", help="The police report number.")
    ],
    reported_at: Annotated[
        datetime | None,
        typer.Option(
            "--reported-at",
            help="When it was reported (default: now).",
            formats=INSTANT_FORMATS,
        ),
    ] = None,
    place: PlaceOption = None,
    description: DescriptionOption = None,
    as_: AsOption = None,
    receipt_out: ReceiptOutOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Confirm an item stolen, as a police or insurer DID on the trust list."""
    output = Output(as_json=as_json)
    summary = _change_state(
        output,
        settings(),
        capability="stolen",
        registry_url=registry,
        item=item,
        report=_report(
            reported_at=_utc(reported_at or datetime.now(UTC)),
            police_report_number=police_report,
            place=place,
            description=description,
        ),
        as_=as_,
        passphrase_file=passphrase_file,
        receipt_out=receipt_out,
    )
    output.result(summary, message="Confirmed stolen.")


def sign_stolen_report(
    output: Output,
    cfg: CLISettings,
    *,
    item_did: str,
    police_report: str,
    reported_at: datetime,
    loss_date: datetime | None,
    place: str | None,
    description: str | None,
    as_: str | None,
    passphrase_file: Path | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A StolenReportCredential signed by the confirmer, offline (no registry).

    Raises:
        CLIError: ``cli.usage`` (the item is not a DID); did_vault's schema errors.
    """
    if not item_did.startswith("did:"):
        raise CLIError(
            "cli.usage",
            "give the item's DID (did:web:<registry>:items:<id>): "
            "signing offline, there is no registry to look an id up",
        )
    moment = now or datetime.now(UTC)
    with open_wallet(output, cfg, passphrase_file) as wallet:
        confirmer = _owner(wallet, as_)
        record = wallet.get_did(confirmer)
        subject = items.StolenReport.from_json(
            {
                "type": "StolenReport",
                "item": item_did,
                "reportStatus": items.ReportStatus.STOLEN.value,
                "reportedBy": confirmer,
                "reportedAt": items.format_date_time(reported_at),
                **_report(
                    lossDate=None
                    if loss_date is None
                    else items.format_date_time(loss_date),
                    policeReportNumber=police_report,
                    place=place,
                    description=description,
                ),
                "confirmedBy": confirmer,
                "confirmedAt": items.format_date_time(moment),
            }
        )
        unsigned = items.build_credential(
            subject,
            issuer=confirmer,
            valid_from=moment,
            credential_id=f"urn:uuid:{uuid.uuid4()}",
        )
        return issue_credential(
            unsigned,
            key=wallet.signing_key(confirmer),
            verification_method=record.verification_method,
        )


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("sign-stolen-report")
def sign_stolen_report_command(
    item: Annotated[
        str,
        typer.Argument(help="The item's DID (did:web:<registry>:items:<id>)."),
    ],
    police_report: Annotated[
        str, typer.Option("--police-report", help="The police report number.")
    ],
    reported_at: Annotated[
        datetime | None,
        typer.Option(
            "--reported-at",
            help="When it was reported (default: now).",
            formats=INSTANT_FORMATS,
        ),
    ] = None,
    loss_date: LossDateOption = None,
    place: PlaceOption = None,
    description: DescriptionOption = None,
    out: OutOption = None,
    as_: AsOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Sign a stolen report offline, as a police or insurer DID on the trust list,
    for the registry operator to apply with 'registry stolen confirm'."""
    output = Output(as_json=as_json)
    moment = _now()
    report = sign_stolen_report(
        output,
        settings(),
        item_did=item,
        police_report=police_report,
        reported_at=_utc(reported_at or moment),
        loss_date=None if loss_date is None else _utc(loss_date),
        place=place,
        description=description,
        as_=as_,
        passphrase_file=passphrase_file,
        now=moment,
    )
    text = json.dumps(report, indent=2)
    if out is None:
        output.document(report)
        return
    _write_new(out, text)
    subject = report["credentialSubject"]
    output.result(
        {
            "id": report["id"],
            "item": subject["item"],
            "confirmed_by": subject["confirmedBy"],
            "confirmed_at": subject["confirmedAt"],
            "file": str(out),
        },
        message="Stolen report signed; give the file to the registry operator.",
    )


@app.command("recovered")
def recovered_command(
    item: ItemArgument,
    registry: RegistryOption,
    as_: AsOption = None,
    receipt_out: ReceiptOutOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Mark an item recovered (its owner, or a police or insurer DID)."""
    output = Output(as_json=as_json)
    summary = _change_state(
        output,
        settings(),
        capability="recovered",
        registry_url=registry,
        item=item,
        report=None,
        as_=as_,
        passphrase_file=passphrase_file,
        receipt_out=receipt_out,
    )
    output.result(summary, message="Marked recovered.")


# --- stolen-check --------------------------------------------------------------------


def check_stolen(
    cfg: CLISettings,
    *,
    registry_url: str,
    gtin: str | None,
    serial: str | None,
    digital_link: str | None,
) -> dict[str, Any]:
    """The public answer: ``clear``, ``reported_stolen`` or ``unknown``.

    Raises:
        CLIError: usage, or the registry's problem (``rate.limited`` …).
    """
    if (digital_link is None) == (gtin is None or serial is None):
        raise CLIError("cli.usage", "give a GS1 Digital Link, or --gtin and --serial")
    client = connect(cfg, registry_url)
    try:
        _require("stolen-check")
        answer = _plain(
            client.check_stolen(gtin=gtin, serial=serial, digital_link=digital_link)
        )
    except RegistryProblem as exc:
        raise _problem(exc) from exc
    finally:
        client.close()
    return {"status": answer["status"]}


@app.command("check-stolen")
def check_stolen_command(
    registry: RegistryOption,
    digital_link: Annotated[
        str | None,
        typer.Argument(help="A GS1 Digital Link (https://id.gs1.org/01/…/21/…)."),
    ] = None,
    gtin: Annotated[str | None, typer.Option("--gtin", help="The GTIN.")] = None,
    serial: Annotated[
        str | None, typer.Option("--serial", help="The serial number.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Public stolen-check: clear, reported_stolen or unknown (nothing else)."""
    output = Output(as_json=as_json)
    answer = check_stolen(
        settings(),
        registry_url=registry,
        gtin=gtin,
        serial=serial,
        digital_link=digital_link,
    )
    output.result(answer, message="Stolen-check:")


# --- insurer proof -------------------------------------------------------------------


def _ownership_credential(wallet: Wallet, item: str) -> tuple[StoredCredential, SDJWT]:
    """The held registry OwnershipCredential (SD-JWT VC) for ``item`` (its DID or
    its registry id), newest first."""
    for stored in reversed(wallet.list_credentials()):
        if stored.format != SD_JWT_FORMAT or OWNERSHIP_VCT not in stored.types:
            continue
        parsed = SDJWT.parse(stored.raw)
        item_did = str(parsed.claims().get("item", {}).get("id", ""))
        if item in (item_did, item_did.rsplit(":", 1)[-1], stored.local_id):
            return stored, parsed
    raise CLIError(
        "cli.credential-missing",
        f"no OwnershipCredential for {item} in this wallet",
        exit_code=65,
    )


def create_proof(
    output: Output,
    cfg: CLISettings,
    *,
    item: str,
    audience: str,
    nonce: str,
    passphrase_file: Path | None,
) -> dict[str, Any]:
    """The proof file's content: the presentation and what it discloses.

    Raises:
        CLIError: no ownership credential for the item, or no key for it.
    """
    with open_wallet(output, cfg, passphrase_file) as wallet:
        stored, parsed = _ownership_credential(wallet, item)
        key = holder_key_for(
            parsed, (wallet.signing_key(d.did) for d in wallet.list_dids())
        )
        if key is None:
            raise CLIError(
                "cli.holder-key-missing",
                "no DID in this wallet holds the key the credential is bound to",
                exit_code=65,
            )
    available = set(parsed.paths())
    disclose = [path for path in PROOF_PATHS if path in available]
    presentation = present_sd_jwt(
        parsed, disclose=disclose, holder_key=key, audience=audience, nonce=nonce
    )
    return {
        "kind": PROOF_FILE_KIND,
        "credential": stored.local_id,
        "audience": audience,
        "disclosed": [format_claim_path(path) for path in disclose],
        "presentation": presentation,
        # the registration (or transfer) log receipt with its opening: the
        # insurer's offline proof that the ownership was logged before a date
        "receipt": stored.receipt,
    }


@app.command("prove")
def prove_command(
    item: Annotated[
        str, typer.Argument(help="The item: its DID, registry id or credential id.")
    ],
    audience: Annotated[str, typer.Option("--audience", help="The insurer's DID.")],
    nonce: Annotated[str, typer.Option("--nonce", help="The insurer's nonce.")],
    out: OutOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Prove you own an item to an insurer, bound to its DID and nonce."""
    output = Output(as_json=as_json)
    document = create_proof(
        output,
        settings(),
        item=item,
        audience=audience,
        nonce=nonce,
        passphrase_file=passphrase_file,
    )
    if out is not None:
        _write_new(out, json.dumps(document, indent=2))
    output.result(
        {k: v for k, v in document.items() if k != "presentation"}
        if out is not None
        else document,
        message="Proof made: brand, model, serial, owned-from and purchase facts.",
    )


class _SuspensionNoted:
    """A Token Status List check for the insurer: a SUSPENDED credential (its item
    reported missing or stolen, the very case of a claim) is noted, not refused;
    a revoked one still fails."""

    def __init__(self, checker: TokenStatusChecker) -> None:
        self._checker = checker
        self.is_suspended = False

    def check(self, status: Mapping[str, Any], *, now: datetime) -> object:
        try:
            return self._checker.check(status, now=now)
        except CredentialSuspendedError:
            self.is_suspended = True
            return None


def verify_proof(
    output: Output,
    cfg: CLISettings,
    *,
    proof: dict[str, Any],
    audience: str,
    nonce: str,
    before: datetime | None,
    witness_keys: Sequence[NoteKey] = (),
    required_witnesses: int | None = None,
) -> dict[str, Any]:
    """Verify an ownership proof made for us; exit 1 (not valid) or 69.

    With ``witness_keys`` (and ``before``) the log receipt's time must be vouched
    for by ``required_witnesses`` (default 1) of those witnesses, not the registry.

    Raises:
        SystemExit: the proof is not valid (1) or could not be checked (69).
    """
    presentation = str(proof.get("presentation", ""))
    resolver = CachingResolver(make_resolver(cfg))
    try:
        issuer = SDJWT.parse(presentation).payload.get("iss")
        status_checker = _SuspensionNoted(
            TokenStatusChecker(
                fetcher=HttpxFetcher(
                    allow_loopback=cfg.allow_loopback, verify=cfg.tls_verify()
                ),
                resolve_key=status_key_resolver(resolver, str(issuer)),
            )
        )
        verified = verify_sd_jwt(
            presentation,
            audience=audience,
            nonce=nonce,
            resolver=resolver,
            nonce_store=FileNonceStore(cfg.wallet_home() / NONCE_FILE_NAME),
            status_checker=status_checker,
        )
    except DidVaultError as exc:
        output.problem({"verified": False, **exc.to_dict()})
        sys.exit(
            EXIT_UNAVAILABLE if isinstance(exc, ResolutionError) else EXIT_NOT_VALID
        )
    if verified.vct != OWNERSHIP_VCT:
        output.problem(
            {
                "verified": False,
                "code": "cli.proof-invalid",
                "detail": "the presentation is not an OwnershipCredential",
            }
        )
        sys.exit(EXIT_NOT_VALID)
    claims = verified.claims
    owned_from = claims.get("ownedFrom")
    result: dict[str, Any] = {
        "verified": True,
        "issuer": verified.issuer,
        "item": claims.get("item", {}).get("id"),
        "owned_from": owned_from,
        "disclosed": [format_claim_path(p) for p in verified.disclosed_paths],
        "claims": claims,
        "suspended": status_checker.is_suspended,
    }
    if before is not None:
        if not isinstance(owned_from, str):
            output.problem(
                {
                    "verified": False,
                    "code": "cli.proof-invalid",
                    "detail": "the proof does not disclose ownedFrom",
                }
            )
            sys.exit(EXIT_NOT_VALID)
        started = datetime.fromisoformat(owned_from.replace("Z", "+00:00"))
        result["before"] = _utc(before).isoformat()
        result["owned_before"] = started < _utc(before)
        if proof.get("receipt") is not None:
            result.update(
                _logged_before(
                    output,
                    proof["receipt"],
                    resolver=resolver,
                    issuer=str(issuer),
                    item=str(result["item"]),
                    before=_utc(before),
                    witness_keys=witness_keys,
                    required_witnesses=required_witnesses,
                )
            )
        elif witness_keys:
            output.problem(
                {
                    "verified": False,
                    "code": "cli.proof-invalid",
                    "detail": "the proof carries no log receipt for witnesses to "
                    "vouch for",
                }
            )
            sys.exit(EXIT_NOT_VALID)
    return result


def _logged_before(
    output: Output,
    receipt_json: Any,
    *,
    resolver: CachingResolver,
    issuer: str,
    item: str,
    before: datetime,
    witness_keys: Sequence[NoteKey] = (),
    required_witnesses: int | None = None,
) -> dict[str, Any]:
    """Check the proof's log receipt: signed by the issuing registry's key (from its
    DID document), opened to this item's registration or transfer, and in a
    checkpoint cosigned before ``before`` (by the registry, or with witness keys by
    that many of those witnesses). Returns ``logged_before`` (the earliest trusted
    time; with witnesses, the time by which the required number had cosigned) and,
    with witness keys, ``witnesses``: who vouched before ``before``, and when.

    Raises:
        SystemExit: the receipt does not show that (1), or could not be checked (69).
        CLIError: ``cli.usage``, more witnesses required than keys given, or a
            witness key that is the registry's.
    """
    try:
        receipt = Receipt.from_json(receipt_json)
        origin = parse_checkpoint(receipt.checkpoint).checkpoint.origin
        keys = [
            NoteKey(origin, method.public_key())
            for method in resolver.resolve(issuer).methods_for("assertionMethod")
            if method.public_key().algorithm is KeyAlgorithm.ED25519
        ]
        verified = check_registered_before(
            receipt,
            before,
            registry_keys=keys,
            witness_keys=witness_keys,
            required_witnesses=required_witnesses,
        )
    except ValueError as exc:  # the requirement itself cannot be met
        raise CLIError("cli.usage", f"--witnesses/--witness-key: {exc}") from exc
    except DidVaultError as exc:
        output.problem({"verified": False, **exc.to_dict()})
        sys.exit(
            EXIT_UNAVAILABLE if isinstance(exc, ResolutionError) else EXIT_NOT_VALID
        )
    event = verified.event or {}
    if item.rsplit(":", 1)[-1] != event.get("itemId"):
        output.problem(
            {
                "verified": False,
                "code": "cli.proof-invalid",
                "detail": "the log receipt is for another item",
            }
        )
        sys.exit(EXIT_NOT_VALID)
    vouching = verified.witnessed_before(before)
    required = 1 if required_witnesses is None else required_witnesses
    if witness_keys and required:
        logged = vouching[required - 1].time  # the check found that many
    else:
        assert verified.time is not None  # check_registered_before requires it
        logged = verified.time
    answer: dict[str, Any] = {"logged_before": logged.isoformat()}
    if witness_keys:
        answer["witnesses"] = [
            {
                "name": cosignature.name,
                "vkey": cosignature.key.to_vkey() if cosignature.key else None,
                "time": cosignature.time.isoformat(),
            }
            for cosignature in vouching
        ]
    return answer


REGISTRY_FACTS = (
    "current_owner",
    "owned_from",
    "registered_before",
    "reported_missing",
    "reported_stolen",
)


def registry_facts(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    presentation: str,
    nonce: str,
    before: datetime | None,
    as_: str | None,
    passphrase_file: Path | None,
) -> dict[str, Any]:
    """What the registry's insurer check adds: current owner, registered before
    the date, reported missing or stolen (the caller, a wallet DID, is the insurer).

    Raises:
        CLIError: the registry's problem (its code).
    """
    _require("insurer-check")
    with registry_session(
        output,
        cfg,
        registry_url=registry_url,
        as_=as_,
        passphrase_file=passphrase_file,
    ) as session:
        answer = _plain(
            session.client.verify_for_insurer(
                session.token,
                sd_jwt=presentation,
                nonce=nonce,
                before=None if before is None else _utc(before),
            )
        )
    return {name: answer.get(name) for name in REGISTRY_FACTS}


def _witness_keys(
    vkeys: Sequence[str], required: int | None, before: datetime | None
) -> list[NoteKey]:
    """The ``--witness-key`` vkeys, parsed; ``cli.usage`` for what cannot work.

    Raises:
        CLIError: ``cli.usage`` (a bad vkey, witnesses without --before, or
            --witnesses without --witness-key).
    """
    if (vkeys or required is not None) and before is None:
        raise CLIError("cli.usage", "--witness-key and --witnesses need --before")
    if required is not None and not vkeys:
        raise CLIError("cli.usage", "--witnesses needs at least one --witness-key")
    keys: list[NoteKey] = []
    for vkey in vkeys:
        try:
            keys.append(NoteKey.from_vkey(vkey.strip()))
        except DidVaultError as exc:
            raise CLIError(
                "cli.usage", f"--witness-key {vkey!r}: {exc.detail}"
            ) from exc
    return keys


@app.command("verify-proof")
def verify_proof_command(
    file: Annotated[
        Path, typer.Argument(help="The proof file the owner gave you.", dir_okay=False)
    ],
    audience: Annotated[str, typer.Option("--audience", help="Your DID.")],
    nonce: Annotated[str, typer.Option("--nonce", help="The nonce you gave.")],
    before: Annotated[
        datetime | None,
        typer.Option(
            "--before",
            help="The loss date the ownership must precede (ISO 8601).",
            formats=INSTANT_FORMATS,
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="Also ask this registry (as your wallet DID, the audience): current "
            "owner, registered before the date, reported missing or stolen.",
        ),
    ] = None,
    witness_key: Annotated[
        list[str] | None,
        typer.Option(
            "--witness-key",
            help="A witness you trust (its C2SP vkey; repeatable). With --before, "
            "the log receipt's time must then come from witnesses' cosignatures, "
            "not from the registry's own signature.",
        ),
    ] = None,
    witnesses: Annotated[
        int | None,
        typer.Option(
            "--witnesses",
            help="How many of the --witness-key witnesses must have cosigned "
            "before the date (default 1).",
            min=0,
        ),
    ] = None,
    as_: AsOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Insurer: verify an owner's proof, and that it owned the item before a date."""
    output = Output(as_json=as_json)
    cfg = settings()
    witness_keys = _witness_keys(witness_key or [], witnesses, before)
    proof = _read_json(file, PROOF_FILE_KIND)
    result = verify_proof(
        output,
        cfg,
        proof=proof,
        audience=audience,
        nonce=nonce,
        before=before,
        witness_keys=witness_keys,
        required_witnesses=witnesses,
    )
    if registry is not None:
        result["registry"] = registry_facts(
            output,
            cfg,
            registry_url=registry,
            presentation=str(proof["presentation"]),
            nonce=nonce,
            before=before,
            as_=as_,
            passphrase_file=passphrase_file,
        )
    if result.get("owned_before") is False:
        output.problem(
            {
                "verified": False,
                "code": "cli.owned-after",
                "detail": f"the ownership began {result['owned_from']}, "
                f"not before {result['before']}",
            }
        )
        sys.exit(EXIT_NOT_VALID)
    output.result(result, message="Valid ownership proof.")
