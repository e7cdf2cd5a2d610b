"""Vendor and insurer verification: ``POST /v1/verify/presentation`` and
``POST /v1/verify/insurer``.

A vendor (repair shop, second-hand buyer) sends what the owner presented to it: an
SD-JWT VC presentation with Key Binding, or a Data Integrity VP, with the nonce and
audience it asked for (its own DID, or the registry's), and the request it made (a
packaged template name or a DCQL query). The registry verifies signature, binding,
validity and status, checks that the disclosed claims answer the request (format
``dc+sd-jwt`` for an SD-JWT VC, ``ldp_vc`` for the credentials of a Data Integrity
VP; the packaged templates ask for SD-JWT VCs, so a Data Integrity VP never answers
one: ``dcql.unsatisfiable``), and adds its own facts: is the holder the current
owner, is the credential revoked, is the item reported stolen or missing.
Registry-issued status entries are checked against the registry's own records (no
fetch); other issuers' through the usual checkers.

An insurer learns, with the owner's presentation bound to the insurer (audience its
DID, and its nonce) or an owner-signed consent for the item (a VC of type
``OwnershipDisclosureConsent`` issued by the owner, naming ``item`` and ``insurer``,
with ``validUntil``): whether the owner is the current owner, since when, value and
purchase date as disclosed, and whether the registration precedes ``before``.
Without either: 403 ``consent.required``.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlmodel import Session

from did_vault import (
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    DCQLQuery,
    HolderMismatchError,
    InvalidNonceError,
    IssuerMismatchError,
    KeyBindingInvalidError,
    MalformedCredentialError,
    ProofVerificationError,
    ResolutionError,
    StatusUncheckedError,
    TemplateExceededError,
    UnknownRequestTemplateError,
    UnsatisfiableQueryError,
    check_against_template,
    check_holder_is_subject,
    check_presentation_request,
    check_request,
    load_template,
    verify_credential,
    verify_presentation,
    verify_sd_jwt,
)
from registry import lifecycle, status
from registry.deps import (
    ClockDep,
    IdentityDep,
    PrincipalDep,
    ResolverDep,
    SessionDep,
    StatusCheckerDep,
)
from registry.errors import (
    AuthRequiredError,
    ConsentRequiredError,
    ForbiddenError,
    RequestInvalidError,
    TokenExpiredError,
    TokenInvalidError,
)
from registry.identity import RegistryIdentity
from registry.models import (
    InsurerVerification,
    InsurerVerify,
    ItemCondition,
    OwnershipRecord,
    PresentationVerification,
    PresentationVerify,
    RegisteredItem,
    RegistryFacts,
    StatusListKind,
)
from registry.problems import problem_responses
from registry.routes import API_PREFIX
from registry.routes.items import TokenStatusCheckerDep

router = APIRouter(prefix=f"{API_PREFIX}/verify", tags=["verify"])

CONSENT_TYPE = "OwnershipDisclosureConsent"
_AUTH = (AuthRequiredError, TokenInvalidError, TokenExpiredError)
_VERIFY = (
    HolderMismatchError,
    MalformedCredentialError,
    ProofVerificationError,
    IssuerMismatchError,
    CredentialExpiredError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    StatusUncheckedError,
    KeyBindingInvalidError,
    InvalidNonceError,
    UnknownRequestTemplateError,
    TemplateExceededError,
    UnsatisfiableQueryError,
    ResolutionError,
)


class _OwnStatus:
    """Checks status entries: the registry's own against its records (remembering
    the ownership found), others through ``fallback``."""

    def __init__(
        self,
        *,
        session: Session,
        identity: RegistryIdentity,
        fallback: Any,
    ) -> None:
        self.session = session
        self.prefix = status.base_url(identity) + status.STATUS_PATH + "/"
        self.fallback = fallback
        self.ownership: OwnershipRecord | None = None

    def _own(self, uri: object, index: object, kind: StatusListKind) -> bool:
        if not isinstance(uri, str) or not uri.startswith(self.prefix):
            return False
        rest = uri[len(self.prefix) :].split("/")
        if (
            kind is StatusListKind.BITSTRING
            and len(rest) == 3
            and rest[2] == status.SUSPENSION_SEGMENT
        ):
            # the suspension twin of a revocation entry: a report shows in the
            # answer's facts (reported_missing, reported_stolen), not as a failure
            rest = rest[:2]
        if len(rest) != 2 or rest[0] != kind.value or not rest[1].isdigit():
            raise StatusUncheckedError("not a status list of this registry")
        try:
            position = int(str(index))
        except ValueError as exc:
            raise StatusUncheckedError("the status index is not a number") from exc
        record = lifecycle.ownership_by_status_entry(
            self.session, kind=kind, number=int(rest[1]), index=position
        )
        if record is None:
            raise StatusUncheckedError("no credential of this registry has that entry")
        if record.revoked_at is not None:
            raise CredentialRevokedError("the credential is revoked")
        self.ownership = record
        return True

    def check_token(self, status_claim: Mapping[str, Any], *, now: datetime) -> object:
        """A Token Status List reference (SD-JWT VC ``status``)."""
        reference = status_claim.get("status_list")
        if isinstance(reference, Mapping) and self._own(
            reference.get("uri"), reference.get("idx"), StatusListKind.TOKEN
        ):
            return None
        return self.fallback.token.check(status_claim, now=now)

    def check_entry(
        self, entry: Mapping[str, Any], *, now: datetime, issuer: str
    ) -> object:
        """A Bitstring Status List entry (Data Integrity ``credentialStatus``)."""
        if self._own(
            entry.get("statusListCredential"),
            entry.get("statusListIndex"),
            StatusListKind.BITSTRING,
        ):
            return None
        return self.fallback.bitstring.check(entry, now=now, issuer=issuer)

    @property
    def token(self) -> "_TokenView":
        return _TokenView(self)

    @property
    def bitstring(self) -> "_BitstringView":
        return _BitstringView(self)


class _TokenView:
    def __init__(self, owner: _OwnStatus) -> None:
        self.owner = owner

    def check(self, status: Mapping[str, Any], *, now: datetime) -> object:
        return self.owner.check_token(status, now=now)


class _BitstringView:
    def __init__(self, owner: _OwnStatus) -> None:
        self.owner = owner

    def check(self, entry: Mapping[str, Any], *, now: datetime, issuer: str) -> object:
        return self.owner.check_entry(entry, now=now, issuer=issuer)


class _Fallback:
    def __init__(self, bitstring: Any, token: Any) -> None:
        self.bitstring, self.token = bitstring, token


def _query(request: PresentationVerify) -> DCQLQuery | None:
    if request.template is not None and request.dcql is not None:
        query = DCQLQuery.from_json(request.dcql)
        check_against_template(query, request.template)
        return query
    if request.template is not None:
        return load_template(request.template)
    if request.dcql is not None:
        return DCQLQuery.from_json(request.dcql)
    return None


def _facts(
    session: Session,
    *,
    checker: _OwnStatus,
    item_did: str | None,
    holder: str | None,
) -> RegistryFacts:
    record = checker.ownership
    credential_id: str | None = None
    if record is not None:
        db_item = session.get(RegisteredItem, record.item_id)
        item_did = db_item.item_did if db_item is not None else item_did
        holder, credential_id = record.owner_did, record.credential_id
    facts = lifecycle.facts_for(
        session=session, item_did=item_did, holder=holder, credential_id=credential_id
    )
    held = facts.holder_ownership
    return RegistryFacts(
        item_did=facts.item.item_did if facts.item else item_did,
        registered=facts.item is not None,
        current_owner=facts.is_current_owner,
        revoked=held is not None and held.revoked_at is not None,
        reported_stolen=facts.condition is ItemCondition.STOLEN,
        reported_missing=facts.condition is ItemCondition.MISSING,
        owned_from=held.owned_from if held is not None else None,
        registered_at=facts.first_registered_at,
    )


def _item_did(claims: Mapping[str, Any]) -> str | None:
    item = claims.get("item")
    if isinstance(item, Mapping) and isinstance(item.get("id"), str):
        return str(item["id"])
    owns = claims.get("owns")
    if isinstance(owns, Mapping) and isinstance(owns.get("typeOfGood"), str):
        return str(owns["typeOfGood"])
    return None


def _holder_of(claims: Mapping[str, Any]) -> str | None:
    owner = claims.get("owner")
    if isinstance(owner, Mapping) and isinstance(owner.get("id"), str):
        return str(owner["id"])
    return None


@router.post(
    "/presentation",
    response_model=PresentationVerification,
    responses=problem_responses(*_AUTH, *_VERIFY, ForbiddenError),
    summary="Verify a presentation a vendor received, with the registry's facts",
)
def verify_vendor_presentation(
    request: PresentationVerify,
    principal: PrincipalDep,
    session: SessionDep,
    identity: IdentityDep,
    resolver: ResolverDep,
    bitstring_checker: StatusCheckerDep,
    token_checker: TokenStatusCheckerDep,
    clock: ClockDep,
) -> PresentationVerification:
    """Give exactly one of ``sd_jwt`` and ``presentation``. ``audience`` must be the
    caller's DID or the registry's; ``nonce`` the one the vendor asked for."""
    if (request.sd_jwt is None) == (request.presentation is None):
        raise RequestInvalidError("give exactly one of sd_jwt and presentation")
    if request.audience not in (principal.did, identity.did):
        raise ForbiddenError("the audience is neither the caller nor this registry")
    now = clock()
    query = _query(request)
    checker = _OwnStatus(
        session=session,
        identity=identity,
        fallback=_Fallback(bitstring_checker, token_checker),
    )
    if request.sd_jwt is not None:
        verified = verify_sd_jwt(
            request.sd_jwt,
            audience=request.audience,
            nonce=request.nonce,
            resolver=resolver,
            now=now,
            status_checker=checker.token,
        )
        if query is not None:
            check_request(verified, query)
        disclosed = verified.claims
        facts = _facts(
            session,
            checker=checker,
            item_did=_item_did(disclosed),
            holder=_holder_of(disclosed),
        )
        return PresentationVerification(
            verified=True,
            format="dc+sd-jwt",
            holder=_holder_of(disclosed),
            disclosed=_strip(disclosed),
            facts=facts,
        )
    assert request.presentation is not None
    result = verify_presentation(
        request.presentation,
        resolver=resolver,
        challenge=request.nonce,
        domain=request.audience,
        now=now,
        status_checker=checker.bitstring,
    )
    check_holder_is_subject(result)
    if query is not None:
        check_presentation_request(result, query)
    holder = result.presentation.holder_id if result.presentation else None
    subjects = [
        verification.document.get("credentialSubject", {})
        for verification in result.credentials
    ]
    first = subjects[0] if subjects and isinstance(subjects[0], Mapping) else {}
    facts = _facts(session, checker=checker, item_did=_item_did(first), holder=holder)
    return PresentationVerification(
        verified=True,
        format="ldp_vp",
        holder=holder,
        disclosed={"credentialSubject": subjects},
        facts=facts,
    )


def _strip(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The disclosed claims without the JWT plumbing."""
    hidden = {"cnf", "status", "iat", "nbf", "exp", "_sd_alg"}
    return {name: value for name, value in claims.items() if name not in hidden}


def _consent(
    consent: Mapping[str, Any],
    *,
    insurer: str,
    resolver: Any,
    now: datetime,
) -> tuple[str, str]:
    """``(item DID, owner DID)`` of a valid owner-signed consent for ``insurer``.

    Raises:
        ConsentRequiredError: not a consent for this insurer, or no expiry.
        did_vault's verification errors (422), e.g. an expired consent.
    """
    types = consent.get("type")
    subject = consent.get("credentialSubject")
    if (
        not isinstance(types, list)
        or CONSENT_TYPE not in types
        or not isinstance(subject, Mapping)
        or subject.get("insurer") != insurer
        or not isinstance(subject.get("item"), str)
        or "validUntil" not in consent
    ):
        raise ConsentRequiredError(
            "the consent must name this insurer and the item, with validUntil"
        )
    verified = verify_credential(consent, resolver=resolver, now=now)
    return str(subject["item"]), verified.credential.issuer_id


@router.post(
    "/insurer",
    response_model=InsurerVerification,
    responses=problem_responses(*_AUTH, *_VERIFY, ConsentRequiredError),
    summary="An insurer verifies ownership, value and registration date",
)
def verify_for_insurer(
    request: InsurerVerify,
    principal: PrincipalDep,
    session: SessionDep,
    identity: IdentityDep,
    resolver: ResolverDep,
    bitstring_checker: StatusCheckerDep,
    token_checker: TokenStatusCheckerDep,
    clock: ClockDep,
) -> InsurerVerification:
    """The caller is the insurer. Give ``sd_jwt`` + ``nonce`` (an OwnershipCredential
    presented with Key Binding whose audience is the caller's DID) or ``consent``.
    ``registered_before`` compares the owner's registration (the ownership's
    ``ownedFrom`` in the registry's records) with ``before``."""
    now = clock()
    checker = _OwnStatus(
        session=session,
        identity=identity,
        fallback=_Fallback(bitstring_checker, token_checker),
    )
    disclosed: dict[str, Any] = {}
    if request.sd_jwt is not None and request.nonce:
        verified = verify_sd_jwt(
            request.sd_jwt,
            audience=principal.did,
            nonce=request.nonce,
            resolver=resolver,
            now=now,
            status_checker=checker.token,
        )
        if checker.ownership is None:
            raise ConsentRequiredError(
                "present an OwnershipCredential issued by this registry"
            )
        disclosed = _strip(verified.claims)
        record = checker.ownership
        db_item = session.get(RegisteredItem, record.item_id)
        assert db_item is not None
        item_did, owner = db_item.item_did, record.owner_did
        evidence = "presentation"
    elif request.consent is not None:
        item_did, owner = _consent(
            request.consent, insurer=principal.did, resolver=resolver, now=now
        )
        evidence = "consent"
    else:
        raise ConsentRequiredError(
            "send the owner's presentation bound to you, or the owner's consent"
        )
    facts = lifecycle.facts_for(session=session, item_did=item_did, holder=owner)
    if facts.item is None or facts.holder_ownership is None:
        raise ConsentRequiredError("the consent's owner never owned this item")
    acquisition = disclosed.get("acquisition")
    value = None
    purchase_date = None
    if isinstance(acquisition, Mapping):
        price = acquisition.get("price")
        value = dict(price) if isinstance(price, Mapping) else None
        date = acquisition.get("purchaseDate")
        purchase_date = date if isinstance(date, str) else None
    if isinstance(disclosed.get("valuation"), Mapping):
        value = dict(disclosed["valuation"])
    owned_from = facts.holder_ownership.owned_from
    return InsurerVerification(
        item_did=item_did,
        owner=owner,
        current_owner=facts.is_current_owner,
        owned_from=owned_from,
        registered_at=owned_from,
        registered_before=None
        if request.before is None
        else owned_from < request.before,
        reported_stolen=facts.condition is ItemCondition.STOLEN,
        reported_missing=facts.condition is ItemCondition.MISSING,
        value=value,
        purchase_date=purchase_date,
        disclosed=disclosed,
        evidence=evidence,
    )
