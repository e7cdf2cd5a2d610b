"""``did-vault item register --registry URL``, ``item list --registry URL`` and
``item refresh-receipts --registry URL``.

Authenticates to the registry with a wallet DID (DID auth: challenge, signed
presentation, access token), submits a held item credential or a self-asserted
claim, and keeps both forms of the OwnershipCredential the registry issues in the
wallet. A held credential is always presented, never sent bare: an SD-JWT VC with
Key Binding by the owner's key, a Data Integrity one in a presentation signed by
its subject's DID (the item's own DID or the owner's, held in this wallet), both
bound to a nonce the registry issued and to the registry's DID. A problem from the
registry is shown with its code and what to do about it.

``refresh-receipts`` fetches, for every kept log receipt of a credential the
registry issued, the registry's note of that receipt's checkpoint
(``GET /v1/log/checkpoint/{treeSize}``, which carries the witnesses' cosignatures
the registry has collected since) and keeps the receipt with the added lines
(``refresh_receipt``: same checkpoint only). Witnesses cosign the registry's latest
checkpoint, so a receipt's own one often gains no witness line: such a receipt is
moved to the registry's latest checkpoint if that one is witnessed
(``advance_receipt``, with the inclusion proof of its leaf there and the
consistency proof from its own size, ``GET /v1/log/proof/inclusion`` and
``/consistency``). A receipt whose own checkpoint is witnessed is never moved: its
"registered before" bound is the earlier one. The registry's checkpoint key comes
from its did:web document and must verify the kept note as well as the fetched one.
"""

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from cli.commands.item import app
from cli.context import (
    CLIError,
    CLISettings,
    JsonOption,
    PassphraseFileOption,
    open_wallet,
    settings,
)
from cli.output import Output
from did_vault import (
    ECDSA_JCS_2019,
    EDDSA_JCS_2022,
    SDJWT,
    AliasNotFoundError,
    DIDDocument,
    KeyAlgorithm,
    LogProofError,
    NoteKey,
    Receipt,
    StoredCredential,
    Wallet,
    advance_receipt,
    create_presentation,
    parse_checkpoint,
    present_sd_jwt,
    refresh_receipt,
    sign_presentation,
)
from registry.client import DEFAULT_TIMEOUT, RegistryClient, RegistryProblem

SD_JWT_FORMAT = "dc+sd-jwt"
PRESENTATION_SUITE = {  # as ``did-vault present`` signs (its DEFAULT_SUITE)
    KeyAlgorithm.ED25519: EDDSA_JCS_2022,
    KeyAlgorithm.P256: ECDSA_JCS_2019,
}

HINTS: dict[str, str] = {
    "item.already-registered": "the registry has a current owner for this item; "
    "if you bought it, ask the seller to transfer it to you",
    "issuer.untrusted": "the issuer is not a brand issuer on this registry's trust "
    "list; register with --self-asserted and evidence instead",
    "issuer.brand-mismatch": "the issuer is trusted for another brand than the "
    "item's; ask the brand for a credential it issued",
    "item.holder-mismatch": "the credential is bound to another DID; ask the brand "
    "to issue it to your item's DID or yours (an SD-JWT VC: use --as with the DID "
    "it was issued to)",
    "item.not-identifiable": "the item needs GTIN + serial, brand DID + model + "
    "serial, an IMEI or a VIN to be registered",
    "auth.token-expired": "run the command again to authenticate anew",
    "transfer.claim-code-invalid": "ask the seller for the claim code again; it "
    "is 25 letters and digits in five groups",
    "registry.unreachable": "check the URL and that the registry is running",
}

RegistryOption = Annotated[
    str, typer.Option("--registry", help="The registry's base URL (https://…).")
]
AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Alias or DID of the owner (default: the first DID)."),
]


def _problem(exc: RegistryProblem) -> CLIError:
    if exc.status in (0, 502, 503):
        exit_code = 69
    elif exc.status in (401, 403):
        exit_code = 77  # not permitted, as the registry's error classes say
    else:
        exit_code = 65
    error = CLIError(exc.code, str(exc), exit_code=exit_code)
    hint = HINTS.get(exc.code)
    if hint:
        error.detail = f"{error.detail} (hint: {hint})"
    return error


def connect(cfg: CLISettings, registry_url: str) -> RegistryClient:
    """A client for the registry, trusting ``DID_VAULT_CA_BUNDLE`` if set."""
    return RegistryClient(
        httpx.Client(
            base_url=registry_url.rstrip("/"),
            timeout=DEFAULT_TIMEOUT,
            verify=cfg.tls_verify(),
        )
    )


def _owner(wallet: Wallet, as_: str | None) -> str:
    if as_ is not None:
        return wallet.get_did(as_).did
    dids = wallet.list_dids()
    if not dids:
        raise CLIError(
            "cli.no-did",
            "the wallet has no DID; run 'did-vault did create'",
            exit_code=65,
        )
    return dids[0].did


@dataclass(frozen=True, slots=True)
class RegistrySession:
    """An open wallet and a registry client authenticated as one of its DIDs."""

    wallet: Wallet
    client: RegistryClient
    did: str
    token: str


@contextmanager
def registry_session(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    as_: str | None,
    passphrase_file: Path | None,
) -> Iterator[RegistrySession]:
    """Open the wallet, connect to ``registry_url`` and authenticate as ``as_``
    (default: the wallet's first DID); a registry problem raised inside becomes the
    command line's error with its code. The client is closed, then the wallet.

    Raises:
        CLIError: no DID, or the registry's problem (its code).
    """
    with open_wallet(output, cfg, passphrase_file) as wallet:
        did = _owner(wallet, as_)
        client = connect(cfg, registry_url)
        try:
            yield RegistrySession(
                wallet, client, did, authenticate(client, wallet, did)
            )
        except RegistryProblem as exc:
            raise _problem(exc) from exc
        finally:
            client.close()


def authenticate(client: RegistryClient, wallet: Wallet, did: str) -> str:
    """An access token for ``did`` (signed with its wallet key).

    Raises: RegistryProblem.
    """
    record = wallet.get_did(did)
    key = wallet.signing_key(did)

    def sign(challenge: str, audience: str) -> Mapping[str, Any]:
        return sign_presentation(
            create_presentation([], holder=record.did),
            key=key,
            verification_method=record.verification_method,
            challenge=challenge,
            domain=audience,
        )

    return client.authenticate(record.did, sign).access_token


def _subject_holder(wallet: Wallet, held: StoredCredential) -> str:
    """The wallet DID a Data Integrity item credential was issued to (its subject),
    which signs the presentation to the registry.

    Raises:
        CLIError: the credential names no subject DID, or this wallet lacks it.
    """
    for subject in held.subject_ids:
        try:
            return wallet.get_did(subject).did
        except AliasNotFoundError:
            continue
    named = ", ".join(held.subject_ids) or "no subject DID"
    raise CLIError(
        "cli.holder-key-missing",
        f"the credential is issued to {named}, which this wallet does not hold, so "
        "it cannot be presented from here; ask the brand to issue it to your "
        "item's DID or yours",
        exit_code=65,
    )


def present_item_credential(
    wallet: Wallet, held: StoredCredential, *, holder: str, nonce: str, audience: str
) -> dict[str, Any]:
    """A presentation of a held Data Integrity credential, signed by ``holder``
    for ``authentication`` with ``challenge`` the registry's nonce and ``domain``
    its DID (``audience``)."""
    record = wallet.get_did(holder)
    key = wallet.signing_key(holder)
    return sign_presentation(
        create_presentation([held.document()], holder=record.did),
        key=key,
        verification_method=record.verification_method,
        challenge=nonce,
        domain=audience,
        cryptosuite=PRESENTATION_SUITE[key.algorithm],
    )


def kept_receipt(
    receipt: Mapping[str, Any] | None, opening: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The log receipt with its opening, as the wallet keeps it beside the
    credentials (None when the registry returned no receipt)."""
    if receipt is None or opening is None:
        return None
    return {**receipt, "opening": dict(opening)}


def _read_self_asserted(path: Path) -> dict[str, Any]:
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
    if not isinstance(document, dict) or "item" not in document:
        raise CLIError(
            "cli.json-invalid",
            f'{path} must be {{"item": {{…}}, "evidence": [{{…}}], '
            '"acquisition"?: {…}}',
            exit_code=65,
        )
    return document


def register_item(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    credential_ref: str | None,
    self_asserted_file: Path | None,
    as_: str | None,
    passphrase_file: Path | None,
) -> dict[str, Any]:
    """Register an item; keep the two ownership credentials; return a summary.

    Raises:
        CLIError: usage, unreadable input, or the registry's problem (its code).
    """
    if (credential_ref is None) == (self_asserted_file is None):
        raise CLIError(
            "cli.usage", "give exactly one of --credential and --self-asserted"
        )
    claim = _read_self_asserted(self_asserted_file) if self_asserted_file else None
    with open_wallet(output, cfg, passphrase_file) as wallet:
        owner = _owner(wallet, as_)
        held = wallet.get_credential(credential_ref) if credential_ref else None
        # A Data Integrity credential is presented by its subject: known before
        # anything is sent.
        holder = (
            _subject_holder(wallet, held)
            if held is not None and held.format != SD_JWT_FORMAT
            else None
        )
        client = connect(cfg, registry_url)
        try:
            token = authenticate(client, wallet, owner)
            if claim is not None:
                registration = client.register_item(
                    token,
                    self_asserted={
                        "item": claim["item"],
                        "evidence": claim.get("evidence", []),
                    },
                    acquisition=claim.get("acquisition"),
                )
            else:
                assert held is not None
                issued = client.nonce(token)
                if held.format == SD_JWT_FORMAT:
                    presentation = present_sd_jwt(
                        held.raw,
                        disclose=SDJWT.parse(held.raw).paths(),
                        holder_key=wallet.signing_key(owner),
                        audience=issued.audience,
                        nonce=issued.nonce,
                    )
                    registration = client.register_item(
                        token, sd_jwt=presentation, nonce=issued.nonce
                    )
                else:
                    assert holder is not None
                    registration = client.register_item(
                        token,
                        presentation=present_item_credential(
                            wallet,
                            held,
                            holder=holder,
                            nonce=issued.nonce,
                            audience=issued.audience,
                        ),
                        nonce=issued.nonce,
                    )
        except RegistryProblem as exc:
            raise _problem(exc) from exc
        finally:
            client.close()
        receipt = kept_receipt(registration.receipt, registration.opening)
        stored_vc = wallet.add_credential(registration.credential, receipt=receipt)
        stored_sd = wallet.add_credential(
            registration.sd_jwt_credential, receipt=receipt
        )
    item = registration.item
    return {
        "item": item.id,
        "did": item.did,
        "name": item.name,
        "brand": item.brand,
        "model": item.model,
        "owner": item.owner,
        "assurance": item.assurance.value,
        "credential": stored_vc.local_id,
        "sd_jwt_credential": stored_sd.local_id,
        "receipt": receipt is not None,
    }


@app.command("register")
def register_command(
    registry: RegistryOption,
    credential: Annotated[
        str | None,
        typer.Option(
            "--credential",
            help="A held item credential (local id or credential id): Data "
            "Integrity (issued to a DID in this wallet, which presents it) or "
            "SD-JWT VC.",
        ),
    ] = None,
    self_asserted: Annotated[
        Path | None,
        typer.Option(
            "--self-asserted",
            help='A JSON file {"item", "evidence", "acquisition"?}: registered '
            "with the lower assurance 'self-asserted'.",
            dir_okay=False,
        ),
    ] = None,
    as_: AsOption = None,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Register an item with a registry and keep its OwnershipCredential."""
    output = Output(as_json=as_json)
    summary = register_item(
        output,
        settings(),
        registry_url=registry,
        credential_ref=credential,
        self_asserted_file=self_asserted,
        as_=as_,
        passphrase_file=passphrase_file,
    )
    output.result(summary, message="Registered; ownership credentials stored.")


def _checkpoint_keys(document: DIDDocument, origin: str) -> list[NoteKey]:
    """The registry's Ed25519 ``assertionMethod`` keys, named for the log."""
    return [
        NoteKey(origin, method.public_key())
        for method in document.methods_for("assertionMethod")
        if method.public_key().algorithm is KeyAlgorithm.ED25519
    ]


_COSIGNATURE_V1_SIZE = 8 + 64  # u64 timestamp ‖ Ed25519 signature
_COSIGNATURE_V1 = 0x04


def _witness_lines(note: str, registry_keys: Sequence[NoteKey]) -> int:
    """How many ``cosignature/v1``-shaped lines of ``note`` are not the registry's.

    Not verified here (the owner may not know the witnesses' keys): this only
    decides whether to look for a witnessed checkpoint; the insurer verifies.
    """
    own = {(key.name, key.key_id(_COSIGNATURE_V1)) for key in registry_keys}
    return sum(
        1
        for sig in parse_checkpoint(note).signatures
        if len(sig.signature) == _COSIGNATURE_V1_SIZE
        and (sig.name, sig.key_id) not in own
    )


def _hashes(encoded: Sequence[str], kind: str) -> list[bytes]:
    try:
        return [base64.b64decode(h, validate=True) for h in encoded]
    except ValueError as exc:
        raise LogProofError(f"the {kind} proof is not base64", kind=kind) from exc


class _Log:
    """What ``refresh-receipts`` fetches from the registry's log, each once."""

    def __init__(self, client: RegistryClient) -> None:
        self._client = client
        self._notes: dict[int | None, str] = {}
        self._inclusion: dict[tuple[int, int], list[bytes]] = {}
        self._consistency: dict[tuple[int, int], list[bytes]] = {}

    def note(self, size: int | None = None) -> str:
        """The note of checkpoint ``size``, or the latest (None)."""
        if size not in self._notes:
            self._notes[size] = self._client.log_checkpoint(size)
        return self._notes[size]

    def inclusion(self, leaf_index: int, size: int) -> list[bytes]:
        if (leaf_index, size) not in self._inclusion:
            answer = self._client.log_inclusion(leaf_index, size)
            self._inclusion[leaf_index, size] = _hashes(answer.proof, "inclusion")
        return self._inclusion[leaf_index, size]

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        if (old_size, new_size) not in self._consistency:
            answer = self._client.log_consistency(old_size, new_size)
            self._consistency[old_size, new_size] = _hashes(answer.proof, "consistency")
        return self._consistency[old_size, new_size]


def _refresh(log: _Log, receipt: Receipt, keys: Sequence[NoteKey]) -> Receipt:
    """``receipt`` with its own checkpoint's new lines or, if that one stays
    unwitnessed, moved to the latest checkpoint when that one is witnessed."""
    size = parse_checkpoint(receipt.checkpoint).checkpoint.tree_size
    refreshed = refresh_receipt(receipt, log.note(size), registry_keys=keys)
    if _witness_lines(refreshed.checkpoint, keys):
        return refreshed  # the earlier bound is the better one: never moved
    latest = log.note()
    later = parse_checkpoint(latest).checkpoint.tree_size
    if later <= size or not _witness_lines(latest, keys):
        return refreshed
    return advance_receipt(
        refreshed,
        latest,
        inclusion_proof=log.inclusion(receipt.leaf_index, later),
        consistency_proof=log.consistency(size, later),
        registry_keys=keys,
    )


def refresh_receipts(
    output: Output,
    cfg: CLISettings,
    *,
    registry_url: str,
    passphrase_file: Path | None,
) -> dict[str, Any]:
    """Refresh the kept receipts of the registry's credentials from its log, moving
    those whose own checkpoint stays unwitnessed to the latest checkpoint if that
    one is witnessed; all are stored in one wallet write, or none if any fails.

    Raises:
        CLIError: the registry's problem (its code).
        did_vault's ``log.*`` errors: a fetched note that is not the receipt's
            checkpoint (``log.checkpoint-mismatch``, ``log.fork`` …), a latest
            checkpoint that does not extend it (``log.fork``, ``log.rollback``,
            ``log.proof-invalid``), a bad inclusion proof (``log.proof-invalid``),
            or a note not signed by the registry's key (exit 1; nothing stored).
    """
    client = connect(cfg, registry_url)
    try:
        with open_wallet(output, cfg, passphrase_file) as wallet:
            document = DIDDocument.from_json(client.did_document())
            registry_did = str(document.id)
            log = _Log(client)
            updates: dict[str, dict[str, Any]] = {}
            rows: list[dict[str, Any]] = []
            for held in wallet.list_credentials():
                if held.receipt is None or held.issuer != registry_did:
                    continue
                receipt = Receipt.from_json(held.receipt)
                body = parse_checkpoint(receipt.checkpoint)
                size = body.checkpoint.tree_size
                keys = _checkpoint_keys(document, body.checkpoint.origin)
                refreshed = _refresh(log, receipt, keys)
                after = parse_checkpoint(refreshed.checkpoint)
                if refreshed is not receipt:
                    updates[held.local_id] = refreshed.to_json(include_opening=True)
                if after.checkpoint.tree_size != size:
                    action = "moved"
                elif refreshed is not receipt:
                    action = "refreshed"
                else:
                    action = "unchanged"
                rows.append(
                    {
                        "credential": held.local_id,
                        "leaf_index": receipt.leaf_index,
                        "action": action,
                        "from_size": size,
                        "tree_size": after.checkpoint.tree_size,
                        "signatures": len(after.signatures),
                        "added": len(after.signatures) - len(body.signatures),
                        "witnesses": _witness_lines(refreshed.checkpoint, keys),
                    }
                )
            if updates:
                wallet.replace_receipts(updates)
    except RegistryProblem as exc:
        raise _problem(exc) from exc
    finally:
        client.close()
    return {
        "registry": registry_url.rstrip("/"),
        "checked": len(rows),
        "refreshed": len(updates),
        "moved": sum(1 for row in rows if row["action"] == "moved"),
        "receipts": rows,
    }


@app.command("refresh-receipts")
def refresh_receipts_command(
    registry: RegistryOption,
    as_json: JsonOption = False,
    passphrase_file: PassphraseFileOption = None,
) -> None:
    """Owner: add the witnesses' cosignatures the registry has collected since to
    the log receipts kept beside its credentials; a receipt whose own checkpoint
    stays unwitnessed moves to the latest checkpoint if a witness cosigned it."""
    output = Output(as_json=as_json)
    result = refresh_receipts(
        output, settings(), registry_url=registry, passphrase_file=passphrase_file
    )
    output.result(
        result,
        message=f"{result['refreshed']} of {result['checked']} kept receipts "
        f"gained cosignatures ({result['moved']} moved to a later, witnessed "
        "checkpoint).",
    )


def list_registry_items(
    output: Output,
    cfg: CLISettings,
    registry_url: str,
    passphrase_file: Path | None,
    *,
    as_: str | None = None,
) -> None:
    """``item list --registry URL``: the owner's items as the registry records them.

    Raises:
        CLIError: the registry's problem (its code), or no DID in the wallet.
    """
    with registry_session(
        output,
        cfg,
        registry_url=registry_url,
        as_=as_,
        passphrase_file=passphrase_file,
    ) as session:
        listed = session.client.list_items(session.token)
    rows = [
        {
            "id": item.id,
            "name": item.name,
            "brand": item.brand,
            "model": item.model,
            "assurance": item.assurance.value,
            "owned_from": item.owned_from.isoformat(),
            "did": item.did,
        }
        for item in listed.data
    ]
    output.table(
        rows,
        columns=("id", "name", "brand", "model", "assurance", "owned_from"),
        title=f"Items registered at {registry_url}",
        key="items",
    )
