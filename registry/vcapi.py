"""W3C VC-API (VCALM) issuer and verifier operations over did_vault.

Request and response shapes follow the VC-API: ``{"credential", "options"}`` →
``{"verifiableCredential"}`` for issuing, ``{"verifiableCredential", "options"}`` and
``{"verifiablePresentation", "options": {"challenge", "domain"}}`` for verifying.
Each configured issuer is one did:key signer with one cryptosuite. A credential or
presentation that fails verification is answered as a problem with did_vault's code
(``registry.problems``), never as a 200 with ``verified: false``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from did_vault import (
    CredentialVerification,
    DIDDocumentResolver,
    DidVaultError,
    PresentationVerification,
    PrivateKey,
    StatusListChecker,
    create_did_key,
    get_cryptosuite,
    issue_credential,
    verify_credential,
    verify_presentation,
)
from did_vault import Fetcher as DIDFetcher
from registry.config import Settings
from registry.errors import (
    ConfigurationError,
    IssuerUnknownError,
    RequestInvalidError,
)
from registry.identity import read_key_file


@dataclass(frozen=True, slots=True)
class VCAPIIssuer:
    """One VC-API issuer: a did:key, its key and its cryptosuite."""

    name: str
    did: str
    verification_method: str
    cryptosuite: str
    key: PrivateKey = field(repr=False)

    @classmethod
    def from_key(cls, name: str, key: PrivateKey, *, cryptosuite: str) -> "VCAPIIssuer":
        """Raises ConfigurationError: a cryptosuite unknown or not for this key."""
        try:
            suite = get_cryptosuite(cryptosuite)
        except DidVaultError as exc:
            raise ConfigurationError(
                f"VC-API issuer {name!r}: unknown cryptosuite", issuer=name
            ) from exc
        if suite.key_algorithm != key.algorithm:
            raise ConfigurationError(
                f"VC-API issuer {name!r}: {cryptosuite} needs a "
                f"{suite.key_algorithm.value} key",
                issuer=name,
            )
        did = create_did_key(key.public_key)
        return cls(
            name=name,
            did=str(did),
            verification_method=f"{did}#{did.method_specific_id}",
            cryptosuite=cryptosuite,
            key=key,
        )


def load_issuers(settings: Settings) -> tuple[VCAPIIssuer, ...]:
    """The configured VC-API issuers, keys read from their files.

    Raises:
        ConfigurationError: a bad key file, cryptosuite or duplicate name.
    """
    issuers: list[VCAPIIssuer] = []
    for config in settings.vcapi_issuers:
        if any(issuer.name == config.name for issuer in issuers):
            raise ConfigurationError(
                f"two VC-API issuers are named {config.name!r}", issuer=config.name
            )
        key = read_key_file(config.key_file)
        issuers.append(
            VCAPIIssuer.from_key(config.name, key, cryptosuite=config.cryptosuite)
        )
    return tuple(issuers)


# --- request and response shapes --------------------------------------------------


class IssueCredentialOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    credential_id: str | None = Field(default=None, alias="credentialId")
    mandatory_pointers: list[str] | None = Field(
        default=None, alias="mandatoryPointers"
    )


class IssueCredentialRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: dict[str, Any]
    options: IssueCredentialOptions = IssueCredentialOptions()


class IssueCredentialResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    verifiable_credential: dict[str, Any] = Field(alias="verifiableCredential")


class VerifyCredentialOptions(BaseModel):
    model_config = ConfigDict(extra="allow")


class VerifyCredentialRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    verifiable_credential: dict[str, Any] = Field(alias="verifiableCredential")
    options: VerifyCredentialOptions = VerifyCredentialOptions()


class VerifyPresentationOptions(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    challenge: str = Field(min_length=1, max_length=512)
    domain: str = Field(min_length=1, max_length=512)
    return_presentation: bool = Field(default=False, alias="returnPresentation")


class VerifyPresentationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    verifiable_presentation: dict[str, Any] = Field(alias="verifiablePresentation")
    options: VerifyPresentationOptions


class VerificationCheck(BaseModel):
    name: str
    detail: str


class VerificationResult(BaseModel):
    """A passed verification: ``verified`` is always true here."""

    model_config = ConfigDict(populate_by_name=True)

    verified: bool
    checks: list[str]
    results: list[VerificationCheck]
    warnings: list[str] = []
    problem_details: list[dict[str, Any]] = Field(default=[], alias="problemDetails")
    verifiable_presentation: dict[str, Any] | None = Field(
        default=None, alias="verifiablePresentation"
    )


# --- operations -------------------------------------------------------------------


def select_issuer(
    issuers: Sequence[VCAPIIssuer],
    credential: Mapping[str, Any],
    *,
    name: str | None = None,
) -> VCAPIIssuer:
    """The issuer named in the path, else the one whose DID is the credential's.

    Raises:
        IssuerUnknownError: no such issuer is configured here.
    """
    if name is not None:
        for issuer in issuers:
            if issuer.name == name:
                return issuer
        raise IssuerUnknownError("no VC-API issuer of that name", issuer=name[:64])
    wanted = credential.get("issuer")
    if isinstance(wanted, Mapping):
        wanted = wanted.get("id")
    if wanted is None and len(issuers) == 1:
        return issuers[0]
    for issuer in issuers:
        if issuer.did == wanted:
            return issuer
    raise IssuerUnknownError("the credential's issuer is not configured here")


def issue(
    issuer: VCAPIIssuer, credential: Mapping[str, Any], *, now: datetime
) -> dict[str, Any]:
    """Sign a credential as ``issuer`` (filling in ``issuer`` when absent).

    Raises:
        RequestInvalidError: the credential already has a proof.
        MalformedCredentialError, IssuerMismatchError: from ``issue_credential``.
    """
    document = dict(credential)
    document.setdefault("issuer", issuer.did)
    if "proof" in document:
        raise RequestInvalidError("send an unsecured credential, without a proof")
    return issue_credential(
        document,
        key=issuer.key,
        verification_method=issuer.verification_method,
        cryptosuite=issuer.cryptosuite,
        created=now,
    )


def status_checker(
    *, fetcher: DIDFetcher, resolver: DIDDocumentResolver
) -> StatusListChecker:
    """A Bitstring Status List checker whose lists must verify like credentials."""

    def verify_list(credential: Mapping[str, Any], *, now: datetime) -> object:
        return verify_credential(credential, resolver=resolver, now=now)

    return StatusListChecker(fetcher=fetcher, verify_list=verify_list)


def verify_one_credential(
    document: Mapping[str, Any],
    *,
    resolver: DIDDocumentResolver,
    now: datetime,
    checker: StatusListChecker | None,
) -> VerificationResult:
    """Raises: whatever ``verify_credential`` raises."""
    result = verify_credential(
        document, resolver=resolver, now=now, status_checker=checker
    )
    return _result(result)


def verify_one_presentation(
    document: Mapping[str, Any],
    *,
    options: VerifyPresentationOptions,
    resolver: DIDDocumentResolver,
    now: datetime,
    checker: StatusListChecker | None,
) -> VerificationResult:
    """Raises: whatever ``verify_presentation`` raises."""
    result = verify_presentation(
        document,
        resolver=resolver,
        challenge=options.challenge,
        domain=options.domain,
        now=now,
        status_checker=checker,
    )
    verified = _result(result)
    if options.return_presentation:
        verified.verifiable_presentation = dict(document)
    return verified


def _result(
    result: CredentialVerification | PresentationVerification,
) -> VerificationResult:
    return VerificationResult(
        verified=True,
        checks=[check.name for check in result.checks],
        results=[
            VerificationCheck(name=check.name, detail=check.detail)
            for check in result.checks
        ],
    )
