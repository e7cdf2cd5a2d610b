"""Verifying credentials and presentations: one pipeline, every check reported.

``verify_credential`` runs, in order, and stops at the first failure by raising its
specific error (codes in ``specs/problems.md``):

1. ``parse``: strict JSON (no NaN, no duplicate members) to an object;
2. ``data-model``: VCDM 2.0 rules, and every ``@context`` in the pinned offline set;
3. ``proof``: every Data Integrity proof verifies for ``assertionMethod``, its key is
   listed under that relationship in its controller's DID document (resolved through
   the injected resolver), and at least one proof is made by the issuer;
4. ``validity``: ``validFrom`` / ``validUntil`` against the injected clock, with leeway;
5. ``status``: each ``credentialStatus`` entry through the injected status checker. A
   credential with a status and no checker fails closed (``status.unchecked``).

``verify_presentation`` checks the presentation the same way for ``authentication``
(``challenge`` and ``domain`` required and matched, the holder being the signer),
then runs ``verify_credential`` on each embedded credential. Verification never
returns ``False``: a returned result means every check passed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from did_vault.contexts import ContextLoader, packaged_loader
from did_vault.credentials.model import (
    VerifiableCredential,
    VerifiablePresentation,
    parse_json,
)
from did_vault.credentials.proofs import (
    ASSERTION_METHOD,
    AUTHENTICATION,
    DEFAULT_LEEWAY,
    DIDDocumentResolver,
    VerifiedProof,
    verify_proofs,
)
from did_vault.credentials.rdfc import check_contexts, find_undefined_terms
from did_vault.errors import (
    CredentialExpiredError,
    CredentialNotYetValidError,
    DidVaultError,
    HolderMismatchError,
    IssuerMismatchError,
    MalformedCredentialError,
    StatusUncheckedError,
)

PARSE = "parse"
DATA_MODEL = "data-model"
PROOF = "proof"
VALIDITY = "validity"
STATUS = "status"
CREDENTIALS = "credentials"


class StatusChecker(Protocol):
    """Checks one ``credentialStatus`` entry (e.g. a Bitstring Status List checker).

    It returns when the status allows the credential and raises otherwise
    (``CredentialRevokedError``, ``CredentialSuspendedError``, or an error saying
    why the status could not be established).
    """

    def check(
        self, entry: Mapping[str, Any], *, now: datetime, issuer: str
    ) -> object: ...


@dataclass(frozen=True, slots=True)
class Check:
    """One passed step of the pipeline and what it established."""

    name: str
    detail: str


@dataclass(frozen=True, slots=True)
class CredentialVerification:
    """A verified credential: the document exactly as received, and every check."""

    document: Mapping[str, Any]
    credential: VerifiableCredential
    proofs: tuple[VerifiedProof, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class PresentationVerification:
    """A verified presentation, its proofs, and each embedded credential's result."""

    document: Mapping[str, Any]
    presentation: VerifiablePresentation
    proofs: tuple[VerifiedProof, ...]
    credentials: tuple[CredentialVerification, ...]
    checks: tuple[Check, ...]


def verify_credential(
    document: Mapping[str, Any] | str | bytes,
    *,
    resolver: DIDDocumentResolver,
    now: datetime | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
    status_checker: StatusChecker | None = None,
    context_loader: ContextLoader | None = None,
    check_terms: bool = False,
) -> CredentialVerification:
    """Verify a credential (parse → data model → proof → validity → status).

    The error raised carries ``context["check"]``: the step that failed.
    ``context_loader`` knows the ``@context`` URLs accepted besides the packaged ones.
    ``check_terms`` also refuses terms the contexts do not define (JSON-LD expansion,
    slower than the signature). RDFC proofs refuse them anyway, since they would be
    left out of the signed data; JCS proofs sign the JSON itself, so it is opt-in.

    Raises:
        MalformedCredentialError: not JSON, or a VCDM 2.0 rule broken.
        UnknownContextError: an ``@context`` outside the pinned set.
        UndefinedTermError: a term the contexts do not define (``check_terms``, or
            an RDFC proof).
        IssuerMismatchError: no proof is made by a key the issuer controls.
        CredentialNotYetValidError, CredentialExpiredError: outside the validity period.
        StatusUncheckedError: a ``credentialStatus`` and no ``status_checker``.
        ProofMissingError, MalformedProofError, UnsupportedCryptosuiteError,
        ProofPurposeMismatchError, ProofRelationshipError, ProofVerificationError,
        ProofExpiredError: from the proof step (see ``verify_proofs``).
        ResolutionError: the issuer's DID could not be resolved.
        (and whatever ``status_checker`` raises, e.g. CredentialRevokedError)
    """
    moment = now or datetime.now(UTC)
    checks: list[Check] = []
    with _step(PARSE):
        received = _parse(document)
        checks.append(Check(PARSE, "JSON object"))
    with _step(DATA_MODEL):
        credential = VerifiableCredential.from_json(received)
        _check_json_ld(received, loader=context_loader, check_terms=check_terms)
        checks.append(Check(DATA_MODEL, _DATA_MODEL_DETAIL[check_terms]))
    with _step(PROOF):
        proofs = verify_proofs(
            received,
            resolver=resolver,
            expected_purpose=ASSERTION_METHOD,
            now=moment,
            leeway=leeway,
        )
        issuer = credential.issuer_id
        if not any(proof.controller == issuer for proof in proofs):
            raise IssuerMismatchError(
                "no proof is made by a key the issuer controls",
                issuer=issuer[:256],
                signer=proofs[0].controller[:256],
            )
        checks.append(Check(PROOF, f"{len(proofs)} proof(s), issuer {issuer} signed"))
    with _step(VALIDITY):
        _check_validity(credential, now=moment, leeway=leeway)
        checks.append(Check(VALIDITY, "within validFrom and validUntil"))
    with _step(STATUS):
        entries = _status_entries(received)
        if entries and status_checker is None:
            raise StatusUncheckedError(
                "the credential has a status but no status checker was given"
            )
        for entry in entries:
            assert status_checker is not None  # checked just above
            status_checker.check(entry, now=moment, issuer=credential.issuer_id)
        checks.append(
            Check(STATUS, f"{len(entries)} status entr(y/ies) checked")
            if entries
            else Check(STATUS, "no credentialStatus")
        )
    return CredentialVerification(
        document=received, credential=credential, proofs=proofs, checks=tuple(checks)
    )


def verify_presentation(
    document: Mapping[str, Any] | str | bytes,
    *,
    resolver: DIDDocumentResolver,
    challenge: str,
    domain: str,
    now: datetime | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
    status_checker: StatusChecker | None = None,
    context_loader: ContextLoader | None = None,
    check_terms: bool = False,
) -> PresentationVerification:
    """Verify a presentation bound to ``challenge`` and ``domain``, and its credentials.

    Raises:
        InvalidChallengeError, InvalidDomainError: the proof is not bound to them.
        HolderMismatchError: the holder is not the controller of the signing key.
        (and everything ``verify_credential`` raises, for the presentation's proof
        and for each embedded credential)
    """
    if not challenge or not domain:
        raise ValueError("verifying a presentation needs the challenge and domain")
    moment = now or datetime.now(UTC)
    checks: list[Check] = []
    with _step(PARSE):
        received = _parse(document)
        checks.append(Check(PARSE, "JSON object"))
    with _step(DATA_MODEL):
        presentation = VerifiablePresentation.from_json(received)
        _check_json_ld(received, loader=context_loader, check_terms=check_terms)
        checks.append(Check(DATA_MODEL, _DATA_MODEL_DETAIL[check_terms]))
    with _step(PROOF):
        proofs = verify_proofs(
            received,
            resolver=resolver,
            expected_purpose=AUTHENTICATION,
            challenge=challenge,
            domain=domain,
            now=moment,
            leeway=leeway,
        )
        holder = presentation.holder_id
        if holder is not None and not any(p.controller == holder for p in proofs):
            raise HolderMismatchError(
                "no proof is made by a key the holder controls",
                holder=holder[:256],
                signer=proofs[0].controller[:256],
            )
        checks.append(Check(PROOF, f"{len(proofs)} proof(s), challenge and domain"))
    results: list[CredentialVerification] = []
    with _step(CREDENTIALS):
        for credential in presentation.credentials:
            results.append(
                verify_credential(
                    credential,
                    resolver=resolver,
                    now=moment,
                    leeway=leeway,
                    status_checker=status_checker,
                    context_loader=context_loader,
                    check_terms=check_terms,
                )
            )
        checks.append(Check(CREDENTIALS, f"{len(results)} credential(s) verified"))
    return PresentationVerification(
        document=received,
        presentation=presentation,
        proofs=proofs,
        credentials=tuple(results),
        checks=tuple(checks),
    )


class _step:  # noqa: N801 - used as a lowercase context manager, like contextlib's
    """Tag the first error of a step with ``context["check"]``."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, DidVaultError):
            exc.context.setdefault("check", self._name)


_DATA_MODEL_DETAIL = {
    False: "VC Data Model 2.0, pinned contexts",
    True: "VC Data Model 2.0, pinned contexts, every term defined",
}


def _check_json_ld(
    document: Mapping[str, Any], *, loader: ContextLoader | None, check_terms: bool
) -> None:
    if check_terms:
        find_undefined_terms(document, loader=loader)  # checks the contexts too
    elif not _has_only_known_context_urls(document, loader or packaged_loader()):
        check_contexts(document, loader=loader)


def _has_only_known_context_urls(
    document: Mapping[str, Any], loader: ContextLoader
) -> bool:
    """The common case, decided in one cheap pass: every ``@context`` in the document
    (top level, and the copy a JCS proof carries) is a known URL or a list of them.
    Anything else (inline context objects) goes through ``check_contexts``, which
    also says where the problem is.
    """
    stack: list[Any] = [document]
    push = stack.append
    budget = 1_000_000  # a cyclic mapping would otherwise loop forever
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = stack.pop()
        if isinstance(item, Mapping):
            context = item.get("@context")
            if context is not None:
                urls = context if type(context) is list else [context]
                for url in urls:
                    if type(url) is not str or not loader.is_known(url):
                        return False
            for value in item.values():
                if type(value) is dict or type(value) is list:
                    push(value)
        else:  # a list
            for value in item:
                if type(value) is dict or type(value) is list:
                    push(value)
    return True


def _parse(document: Mapping[str, Any] | str | bytes) -> Mapping[str, Any]:
    received = parse_json(document) if isinstance(document, str | bytes) else document
    if not isinstance(received, Mapping):
        raise MalformedCredentialError("a credential must be a JSON object")
    return received


def _check_validity(
    credential: VerifiableCredential, *, now: datetime, leeway: timedelta
) -> None:
    if credential.valid_from is not None and credential.valid_from > now + leeway:
        raise CredentialNotYetValidError(
            "the credential is not valid yet",
            valid_from=credential.valid_from.isoformat(),
        )
    if credential.valid_until is not None and credential.valid_until < now - leeway:
        raise CredentialExpiredError(
            "the credential has expired",
            valid_until=credential.valid_until.isoformat(),
        )


def _status_entries(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = document.get("credentialStatus")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
