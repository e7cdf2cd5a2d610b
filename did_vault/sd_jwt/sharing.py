"""Sharing held SD-JWT VCs and checking what was shared: the glue a wallet needs.

- Claim paths in a short text form for people (:func:`parse_claim_path`,
  :func:`format_claim_path`): dotted member names with ``[n]`` for array elements,
  ``item.brand``, ``colors[1]``, ``owners[0].name``; a member name that is not a
  plain identifier is quoted as JSON, ``item."serial number"``.
- The holder's binding key from a DID document (:func:`holder_binding_key`) and the
  holder's signing key among a wallet's keys (:func:`holder_key_for`).
- :func:`share_sd_jwt`: answer a DCQL request (checked against the template it
  names) from one held SD-JWT VC with the fewest Disclosures, bound to the verifier.
- :func:`check_request`: whether a verified presentation answers a request.
- :func:`status_key_resolver`: Token Status List keys from the issuer's DID only.
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from did_vault.credentials.proofs import ASSERTION_METHOD, DIDDocumentResolver
from did_vault.credentials.token_status import KeyResolver
from did_vault.dids.did import DIDURL
from did_vault.dids.document import DIDDocument, VerificationRelationship
from did_vault.errors import (
    InvalidDIDURLError,
    IssuerMismatchError,
    MalformedInputError,
    VerificationMethodNotFoundError,
)
from did_vault.keys import PrivateKey, PublicKey
from did_vault.sd_jwt.dcql import (
    DCQLAnswer,
    DCQLQuery,
    HeldCredential,
    answer_query,
    check_against_template,
    path_sort_key,
)
from did_vault.sd_jwt.disclosure import ClaimPath
from did_vault.sd_jwt.holder import SDJWT, present
from did_vault.sd_jwt.verifier import VerifiedSDJWT

_BINDING_RELATIONSHIPS: Final[tuple[VerificationRelationship, ...]] = (
    "authentication",
    "assertionMethod",
)

_NAME_TEXT: Final = r"[A-Za-z_$][A-Za-z0-9_$#-]*"
_NAME: Final = re.compile(_NAME_TEXT, re.ASCII)
_MEMBER: Final = re.compile(
    rf"""(?P<name>{_NAME_TEXT})|(?P<quoted>"(?:[^"\\]|\\.)*")""", re.ASCII
)
_INDEX: Final = re.compile(r"\[(0|[1-9][0-9]{0,8})\]", re.ASCII)


def parse_claim_path(text: str) -> ClaimPath:
    """A claim path from its text form (``item.brand``, ``colors[1]``, ``a."b c"``).

    Raises:
        MalformedInputError: not a claim path in that form.
    """
    if not isinstance(text, str):
        raise TypeError("a claim path is text")
    path: list[str | int] = []
    position = 0
    while position < len(text) or not path:
        if path and text[position] == "[":
            index = _INDEX.match(text, position)
            if index is None:
                break
            path.append(int(index.group(1)))
            position = index.end()
            continue
        if path:
            if text[position] != ".":
                break
            position += 1
        member = _MEMBER.match(text, position)
        if member is None:
            break
        quoted = member.group("quoted")
        path.append(json.loads(quoted) if quoted else member.group("name"))
        position = member.end()
    else:
        return tuple(path)
    raise MalformedInputError(
        "a claim path is member names (plain or JSON-quoted) joined by '.', "
        "with [n] for array elements",
        path=text[:128],
    )


def parse_claim_paths(text: str) -> list[ClaimPath]:
    """Comma-separated claim paths (``item.brand,item.serialNumber``).

    Raises:
        MalformedInputError: one of them is not a claim path.
    """
    # Quoted names may hold commas: split only outside quotes.
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if quoted:
            quoted = not (char == '"' and not escaped)
            escaped = char == "\\" and not escaped
        elif char == '"':
            quoted = True
        elif char == ",":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [parse_claim_path(part.strip()) for part in parts if part.strip()]


def format_claim_path(path: ClaimPath) -> str:
    """The text form of a claim path (the inverse of :func:`parse_claim_path`)."""
    out: list[str] = []
    for step in path:
        if isinstance(step, int):
            out.append(f"[{step}]")
            continue
        text = step if _NAME.fullmatch(step) else json.dumps(step, ensure_ascii=False)
        out.append(f".{text}" if out else text)
    return "".join(out)


def holder_binding_key(document: DIDDocument) -> PublicKey:
    """The key a credential for this DID binds to: its first authentication key,
    else its first assertion key.

    Raises:
        VerificationMethodNotFoundError: the document lists neither.
        InvalidKeyError, UnsupportedAlgorithmError: the listed key is unusable.
    """
    for relationship in _BINDING_RELATIONSHIPS:
        methods = document.methods_for(relationship)
        if methods:
            return methods[0].public_key()
    raise VerificationMethodNotFoundError(
        "the DID document lists no authentication or assertion key",
        did=document.id[:256],
    )


def holder_key_for(sd_jwt: SDJWT, keys: Iterable[PrivateKey]) -> PrivateKey | None:
    """The key among ``keys`` that the SD-JWT's ``cnf`` binds to, if any."""
    for key in keys:
        if sd_jwt.is_bound_to(key.public_key):
            return key
    return None


@dataclass(frozen=True, slots=True)
class SharedSDJWT:
    """A presentation made from one held SD-JWT VC, and what it shows."""

    presentation: str
    disclosed: tuple[ClaimPath, ...]
    """The disclosable claims whose Disclosures were sent."""
    withheld: tuple[ClaimPath, ...]
    """The disclosable claims whose Disclosures were kept back."""
    answer: DCQLAnswer
    warnings: tuple[str, ...] = ()
    """What the request asks beyond its template (only with ``allow_excess``)."""


def share_sd_jwt(
    sd_jwt: SDJWT,
    query: DCQLQuery,
    *,
    holder_key: PrivateKey,
    audience: str,
    nonce: str,
    allow_excess: bool = False,
    now: datetime | None = None,
) -> SharedSDJWT:
    """Answer ``query`` from one held SD-JWT VC with the fewest Disclosures.

    A request that names a template (its ``template`` member) is first checked
    against the packaged template of that name: asking for more is refused, or
    with ``allow_excess`` reported in ``warnings``. Every credential query the
    answer uses must be answered by this credential.

    Raises:
        TemplateExceededError: the request asks for more than its template.
        UnknownRequestTemplateError: it names a template that is not packaged.
        UnsatisfiableQueryError: the credential does not answer the request.
        ValueError: ``holder_key`` is not the credential's ``cnf`` key.
    """
    warnings: list[str] = []
    if query.template is not None:
        warnings = check_against_template(
            query, query.template, allow_excess=allow_excess
        )
    answer = answer_query(query, [HeldCredential.from_sd_jwt(sd_jwt)])
    disclose: dict[ClaimPath, None] = {}
    sent: set[ClaimPath] = set()
    for match in answer.matches:
        disclose.update(dict.fromkeys(match.disclose))
        sent.update(match.disclosures)
    presentation = present(
        sd_jwt,
        disclose=list(disclose),
        holder_key=holder_key,
        audience=audience,
        nonce=nonce,
        now=now,
    )
    every = sd_jwt.paths()
    return SharedSDJWT(
        presentation=presentation,
        disclosed=tuple(sorted(sent, key=path_sort_key)),
        withheld=tuple(sorted((p for p in every if p not in sent), key=path_sort_key)),
        answer=answer,
        warnings=tuple(warnings),
    )


def check_request(verified: VerifiedSDJWT, query: DCQLQuery) -> DCQLAnswer:
    """How a verified presentation answers ``query`` (what the verifier asked for).

    Raises:
        UnsatisfiableQueryError: the disclosed claims do not answer it.
    """
    shown = HeldCredential(
        claims=verified.claims,
        disclosable=frozenset(verified.disclosed_paths),
        has_holder_binding=verified.holder_jwk is not None,
    )
    return answer_query(query, [shown])


def status_key_resolver(resolver: DIDDocumentResolver, issuer: str) -> KeyResolver:
    """Status List Token keys: a ``kid`` of ``issuer``'s DID, under assertionMethod.

    Raises (from the returned function):
        IssuerMismatchError: the token's ``kid`` is not a key of ``issuer``.
        ProofRelationshipError, VerificationMethodNotFoundError: not an assertion
            key of the issuer.
    """

    def resolve_key(uri: str, kid: str | None) -> PublicKey:
        try:
            url = DIDURL.parse(kid or "")
        except InvalidDIDURLError as exc:
            raise IssuerMismatchError(
                "the status list token's kid is not a DID URL", uri=uri[:256]
            ) from exc
        if str(url.did) != issuer or not url.fragment:
            raise IssuerMismatchError(
                "the status list token is not signed by the credential's issuer",
                uri=uri[:256],
                issuer=issuer[:256],
            )
        document = resolver.resolve(issuer)
        method = document.find_verification_method(
            str(kid), relationship=ASSERTION_METHOD
        )
        return method.public_key()

    return resolve_key
