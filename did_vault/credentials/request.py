"""Whether a verified Data Integrity presentation answers a DCQL request.

OpenID4VP 1.0 (§6, Appendix B.1) asks for W3C VCs with the credential format
``ldp_vc``: ``meta.type_values`` lists the accepted type sets (one of them must be a
subset of the credential's ``type``), and claims path pointers select from the
credential's root, e.g. ``["credentialSubject", "owns", "typeOfGood"]``. The query
model, the path pointers and the ``claim_sets`` / ``credential_sets`` rules are those
of :mod:`did_vault.sd_jwt.dcql`; this module feeds it the credentials of a verified
presentation (:func:`~did_vault.credentials.verifier.verify_presentation`).

A Data Integrity VP cannot disclose selectively: every credential in it is seen
whole. :class:`PresentationAnswer` therefore also lists what the verifier sees that
it did not ask for (:attr:`PresentationAnswer.unrequested`), the counterpart of the
Disclosures an SD-JWT presentation would have withheld. A request for an SD-JWT VC
(``dc+sd-jwt``), which is what every packaged template asks for, is not answered by
a Data Integrity VP.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from did_vault.contexts import ContextLoader
from did_vault.credentials.rdfc import expanded_types
from did_vault.credentials.verifier import PresentationVerification
from did_vault.errors import (
    DidVaultError,
    HolderMismatchError,
    UnsatisfiableQueryError,
)
from did_vault.sd_jwt.dcql import (
    W3C_VC_FORMAT,
    ClaimPath,
    DCQLAnswer,
    DCQLQuery,
    HeldCredential,
    answer_query,
    path_sort_key,
)

ENVELOPE_MEMBERS: Final = frozenset(
    {
        "@context",
        "id",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialStatus",
        "credentialSchema",
        "proof",
    }
)
"""Members of a credential that every verifier sees in any format (issuer, type,
validity, status, proof), left out of :attr:`PresentationAnswer.unrequested`."""


@dataclass(frozen=True, slots=True)
class PresentationAnswer:
    """How a verified Data Integrity presentation answers a request."""

    answer: DCQLAnswer
    """The credential answering each answered query (``credential_index`` is its
    position in the presentation) and the claims the query selected in it."""
    unrequested: tuple[tuple[int, ClaimPath], ...]
    """``(credential index, path)`` of every claim the presentation shows that the
    request did not select (envelope members left out): a Data Integrity VP
    discloses each credential whole, including credentials no query asked for."""


def check_presentation_request(
    verified: PresentationVerification,
    query: DCQLQuery,
    *,
    context_loader: ContextLoader | None = None,
) -> PresentationAnswer:
    """How the credentials of a verified presentation answer ``query``.

    Each credential is matched as format ``ldp_vc``, its types both as written and
    expanded to IRIs under its ``@context`` (a credential whose types cannot be
    expanded matches by the written ones only). The presentation's proof, verified
    for ``authentication``, is the holder binding.

    Raises:
        UnsatisfiableQueryError: the credentials do not answer the request, or the
            request asks for a format a Data Integrity VP cannot carry (an SD-JWT VC).
    """
    held = [
        HeldCredential.from_w3c(
            item.document,
            expanded_types=_expanded(item.document, context_loader),
        )
        for item in verified.credentials
    ]
    formats = sorted({cq.format for cq in query.credentials})
    if W3C_VC_FORMAT not in formats:
        raise _wrong_format(formats)
    try:
        answer = answer_query(query, held)
    except UnsatisfiableQueryError as exc:
        query_id = exc.context.get("query")
        asked = next((cq for cq in query.credentials if cq.id == query_id), None)
        if asked is not None and asked.format != W3C_VC_FORMAT:
            raise _wrong_format([asked.format], query=asked.id) from exc
        raise
    return PresentationAnswer(answer=answer, unrequested=_unrequested(answer, verified))


def check_holder_is_subject(verified: PresentationVerification) -> None:
    """Holder binding for a verifier: every credential in a verified presentation is
    about its holder (one of its ``credentialSubject`` ids is the presentation's
    ``holder``, whose key signed it).

    VCDM 2.0 lets a holder present credentials about others; a vendor or insurer
    asking "does this person hold this?" must not accept that, or anyone who once
    saw a credential could present it as theirs. The SD-JWT path binds by Key
    Binding to the ``cnf`` key instead.

    Raises:
        HolderMismatchError: a credential names no subject id, or none that is the
            holder (``credential``: its position in the presentation).
    """
    holder = verified.presentation.holder_id if verified.presentation else None
    for index, item in enumerate(verified.credentials):
        subjects = item.document.get("credentialSubject")
        entries = subjects if isinstance(subjects, list) else [subjects]
        ids = {
            entry.get("id")
            for entry in entries
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str)
        }
        if holder is None or holder not in ids:
            raise HolderMismatchError(
                "a credential in the presentation is not about its holder: it "
                "names another subject (or none), so its presentation proves "
                "nothing about who holds it",
                credential=index,
            )


def _wrong_format(formats: list[str], **context: str) -> UnsatisfiableQueryError:
    return UnsatisfiableQueryError(
        f"the request asks for {' or '.join(formats)}"
        + (" (an SD-JWT VC)" if "dc+sd-jwt" in formats else "")
        + f"; a Data Integrity presentation ({W3C_VC_FORMAT}) was given",
        formats=", ".join(formats)[:256],
        **context,
    )


def _expanded(
    document: Mapping[str, Any], loader: ContextLoader | None
) -> tuple[str, ...]:
    try:
        return expanded_types(document, loader=loader)
    except DidVaultError:
        # The credential verified, so its contexts resolve; a type JSON-LD cannot
        # expand just matches as written (a query naming its IRI does not match).
        return ()


def _leaves(value: Any, path: ClaimPath) -> Iterator[ClaimPath]:
    if isinstance(value, Mapping) and value:
        for name, member in value.items():
            yield from _leaves(member, (*path, name))
    elif isinstance(value, list) and value:
        for index, member in enumerate(value):
            yield from _leaves(member, (*path, index))
    else:
        yield path


def _unrequested(
    answer: DCQLAnswer, verified: PresentationVerification
) -> tuple[tuple[int, ClaimPath], ...]:
    selected: dict[int, list[ClaimPath]] = {}
    for match in answer.matches:
        selected.setdefault(match.credential_index, []).extend(match.disclose)
    found: list[tuple[int, ClaimPath]] = []
    for index, item in enumerate(verified.credentials):
        chosen = selected.get(index, [])
        body = {
            name: value
            for name, value in item.document.items()
            if name not in ENVELOPE_MEMBERS
        }
        found.extend(
            (index, leaf)
            for leaf in sorted(_leaves(body, ()), key=path_sort_key)
            if leaf and not any(leaf[: len(path)] == path for path in chosen)
        )
    return tuple(found)
