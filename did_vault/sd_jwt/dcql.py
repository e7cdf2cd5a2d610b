"""Presentation requests as DCQL queries (OpenID4VP 1.0, §6-7).

A verifier states what it needs as a Digital Credentials Query Language query:
credential queries (``id``, ``format``, ``meta``, ``claims`` with claims path pointers,
``claim_sets``) and optional ``credential_sets``. This module

- parses and validates a query (:meth:`DCQLQuery.from_json`), failing with
  ``dcql.invalid`` and a JSON pointer to the offending member;
- matches the SD-JWT VCs the wallet holds (format ``dc+sd-jwt``) against it and
  computes the minimum set of disclosures that answers it (:func:`match_credential`,
  :func:`answer_query`): the first ``claim_sets`` option and the first
  ``credential_sets`` option the wallet can satisfy (the verifier's preference order,
  §6.4.1-6.4.2), only the credential needing the fewest disclosures per query, and no
  optional credential set unless asked;
- matches W3C VCs (format ``ldp_vc``, Appendix B.1) the same way: ``meta.type_values``
  is required, and a credential fits when one of its type sets is a subset of the
  credential's ``type`` (:attr:`HeldCredential.types`: the types as written and, where
  the caller expanded them, as IRIs); claims paths select from the credential's root
  (``["credentialSubject", "owns", "typeOfGood"]``). Nothing in such a credential is
  selectively disclosable: whoever sees it sees all of it;
- loads the named request templates packaged in ``specs/requests``
  (:func:`load_template`, :func:`template_names`) and refuses a request that names a
  template but asks for more than it (:func:`check_against_template`).

Two optional top-level members extend DCQL here, and other processors ignore them as
the specification asks for unknown members: ``template`` (the name of the template the
request claims to be) and ``description`` (a short text for the owner).

Claims paths select in the holder's fully disclosed view of the credential: a string
selects an object member, a non-negative integer an array element, ``null`` every
element of an array (§7). ``trusted_authorities`` is parsed but not evaluated: the
wallet has no trust framework of its own; the verifier checks the issuer.
"""

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import product
from types import MappingProxyType
from typing import Any, Protocol, Self, TypeAlias

from did_vault.errors import (
    InvalidDCQLQueryError,
    TemplateExceededError,
    UnknownRequestTemplateError,
    UnsatisfiableQueryError,
)

SD_JWT_VC_FORMAT = "dc+sd-jwt"
"""Credential format identifier of IETF SD-JWT VC (OpenID4VP 1.0 Appendix B.3)."""
W3C_VC_FORMAT = "ldp_vc"
"""Credential format identifier of a W3C VC secured with Data Integrity proofs
(OpenID4VP 1.0 Appendix B.1), presented in a Data Integrity VP."""

TEMPLATE_MEMBER = "template"
DESCRIPTION_MEMBER = "description"

# Bounds on what a request may contain: a verifier's query is untrusted input, and
# matching enumerates credential_sets combinations.
MAX_CREDENTIAL_QUERIES = 32
MAX_CLAIMS_QUERIES = 128
MAX_OPTIONS = 32
MAX_PATH_LENGTH = 32
MAX_VALUES = 128
MAX_ID_LENGTH = 128
MAX_COMBINATIONS = 1024

_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
_TEMPLATE_NAME_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_TEMPLATES_PACKAGE = "specs"
_TEMPLATES_DIR = "requests"

ClaimsPathPointer: TypeAlias = tuple[str | int | None, ...]
"""A DCQL claims path pointer: names, indices, ``None`` for every element."""
ClaimPath: TypeAlias = tuple[str | int, ...]
"""A concrete path to one claim: member names and array indices."""
ClaimValue: TypeAlias = str | int | bool


@dataclass(frozen=True, slots=True)
class ClaimsQuery:
    """One requested claim (§6.3): a claims path pointer, optionally values."""

    path: ClaimsPathPointer
    id: str | None = None
    values: tuple[ClaimValue, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.id is not None:
            data["id"] = self.id
        data["path"] = list(self.path)
        if self.values is not None:
            data["values"] = list(self.values)
        return data


@dataclass(frozen=True, slots=True)
class TrustedAuthority:
    """A trusted-authorities entry (§6.1.1); parsed and kept, not evaluated."""

    type: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    """A request for one credential (§6.1)."""

    id: str
    format: str
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    trusted_authorities: tuple[TrustedAuthority, ...] | None = None
    claims: tuple[ClaimsQuery, ...] | None = None
    claim_sets: tuple[tuple[str, ...], ...] | None = None

    @property
    def vct_values(self) -> tuple[str, ...] | None:
        """The allowed ``vct`` values of a ``dc+sd-jwt`` query (Appendix B.3.5)."""
        values = self.meta.get("vct_values")
        return tuple(values) if isinstance(values, list | tuple) else None

    @property
    def type_values(self) -> tuple[tuple[str, ...], ...] | None:
        """The accepted type sets of an ``ldp_vc`` query (Appendix B.1.1): a
        credential fits when one of them is a subset of its ``type``."""
        values = self.meta.get("type_values")
        if not isinstance(values, list | tuple):
            return None
        return tuple(
            tuple(types) for types in values if isinstance(types, list | tuple)
        )

    def claim_options(self) -> tuple[tuple[ClaimsQuery, ...], ...]:
        """The alternative claim combinations, most preferred first.

        Without ``claim_sets`` there is one: every claim. Without ``claims`` there is
        one empty combination: nothing selectively disclosable is requested.
        """
        if self.claims is None:
            return ((),)
        if self.claim_sets is None:
            return (self.claims,)
        by_id = {claim.id: claim for claim in self.claims}
        return tuple(tuple(by_id[i] for i in option) for option in self.claim_sets)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "format": self.format}
        if self.multiple:
            data["multiple"] = True
        data["meta"] = copy.deepcopy(dict(self.meta))
        if self.trusted_authorities is not None:
            data["trusted_authorities"] = [
                {"type": a.type, "values": list(a.values)}
                for a in self.trusted_authorities
            ]
        if not self.require_cryptographic_holder_binding:
            data["require_cryptographic_holder_binding"] = False
        if self.claims is not None:
            data["claims"] = [claim.to_json() for claim in self.claims]
        if self.claim_sets is not None:
            data["claim_sets"] = [list(option) for option in self.claim_sets]
        return data


@dataclass(frozen=True, slots=True)
class CredentialSetQuery:
    """Alternative sets of credential queries for one purpose (§6.2)."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True
    purpose: Any = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"options": [list(option) for option in self.options]}
        if not self.required:
            data["required"] = False
        if self.purpose is not None:
            data["purpose"] = copy.deepcopy(self.purpose)
        return data


@dataclass(frozen=True, slots=True)
class DCQLQuery:
    """A validated DCQL query (§6)."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None
    template: str | None = None
    description: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Parse and validate a DCQL query given as decoded JSON.

        Raises:
            InvalidDCQLQueryError: ``data`` is not a valid DCQL query; the error's
                ``pointer`` context names the offending member.
        """
        return cls(**_parse_query(data))

    @classmethod
    def from_text(cls, text: str | bytes) -> Self:
        """Parse a DCQL query from JSON text.

        Raises:
            InvalidDCQLQueryError: not JSON, or not a valid DCQL query.
        """
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise InvalidDCQLQueryError("the request is not JSON", pointer="") from exc
        return cls.from_json(data)

    def credential(self, query_id: str) -> CredentialQuery:
        """The credential query with this ``id``.

        Raises:
            KeyError: no credential query has that ``id``.
        """
        for query in self.credentials:
            if query.id == query_id:
                return query
        raise KeyError(query_id)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.template is not None:
            data[TEMPLATE_MEMBER] = self.template
        if self.description is not None:
            data[DESCRIPTION_MEMBER] = self.description
        data["credentials"] = [query.to_json() for query in self.credentials]
        if self.credential_sets is not None:
            data["credential_sets"] = [s.to_json() for s in self.credential_sets]
        return data


# --- parsing ----------------------------------------------------------------------


def _invalid(detail: str, pointer: str) -> InvalidDCQLQueryError:
    return InvalidDCQLQueryError(detail, pointer=pointer)


def _object(value: object, pointer: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _invalid("must be a JSON object", pointer)
    return value


def _array(value: object, pointer: str, *, limit: int) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _invalid("must be a non-empty array", pointer)
    if len(value) > limit:
        raise _invalid(f"more than {limit} entries", pointer)
    return value


def _boolean(data: Mapping[str, Any], name: str, pointer: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise _invalid("must be a boolean", f"{pointer}/{name}")
    return value


def _identifier(value: object, pointer: str) -> str:
    if (
        not isinstance(value, str)
        or len(value) > MAX_ID_LENGTH
        or not _ID_PATTERN.fullmatch(value)
    ):
        raise _invalid(
            "must be a non-empty string of letters, digits, '_' and '-'", pointer
        )
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise _invalid("must be a string", f"/{name}")
    return value


def _parse_query(data: object) -> dict[str, Any]:
    root = _object(data, "")
    if "credentials" not in root:
        raise _invalid("'credentials' is required", "/credentials")
    entries = _array(root["credentials"], "/credentials", limit=MAX_CREDENTIAL_QUERIES)
    credentials = tuple(
        _parse_credential_query(entry, f"/credentials/{n}")
        for n, entry in enumerate(entries)
    )
    ids = [query.id for query in credentials]
    for n, query_id in enumerate(ids):
        if query_id in ids[:n]:
            raise _invalid(
                f"duplicate credential query id {query_id!r}", f"/credentials/{n}/id"
            )
    credential_sets = None
    if "credential_sets" in root:
        sets = _array(root["credential_sets"], "/credential_sets", limit=MAX_OPTIONS)
        credential_sets = tuple(
            _parse_credential_set(entry, f"/credential_sets/{n}", set(ids))
            for n, entry in enumerate(sets)
        )
    return {
        "credentials": credentials,
        "credential_sets": credential_sets,
        "template": _optional_text(root, TEMPLATE_MEMBER),
        "description": _optional_text(root, DESCRIPTION_MEMBER),
    }


def _parse_credential_query(data: object, pointer: str) -> CredentialQuery:
    entry = _object(data, pointer)
    for name in ("id", "format", "meta"):
        if name not in entry:
            raise _invalid(f"{name!r} is required", f"{pointer}/{name}")
    query_id = _identifier(entry["id"], f"{pointer}/id")
    credential_format = entry["format"]
    if not isinstance(credential_format, str) or not credential_format:
        raise _invalid("must be a non-empty string", f"{pointer}/format")
    meta = _object(entry["meta"], f"{pointer}/meta")
    if credential_format == SD_JWT_VC_FORMAT:
        if "vct_values" not in meta:
            raise _invalid("'vct_values' is required", f"{pointer}/meta/vct_values")
        vcts = _array(
            meta["vct_values"], f"{pointer}/meta/vct_values", limit=MAX_VALUES
        )
        for n, vct in enumerate(vcts):
            if not isinstance(vct, str) or not vct:
                raise _invalid(
                    "must be a non-empty string", f"{pointer}/meta/vct_values/{n}"
                )
    elif credential_format == W3C_VC_FORMAT:
        _parse_type_values(meta, f"{pointer}/meta/type_values")
    trusted = None
    if "trusted_authorities" in entry:
        trusted = tuple(
            _parse_trusted_authority(item, f"{pointer}/trusted_authorities/{n}")
            for n, item in enumerate(
                _array(
                    entry["trusted_authorities"],
                    f"{pointer}/trusted_authorities",
                    limit=MAX_VALUES,
                )
            )
        )
    claims = None
    if "claims" in entry:
        claims = tuple(
            _parse_claims_query(item, f"{pointer}/claims/{n}")
            for n, item in enumerate(
                _array(entry["claims"], f"{pointer}/claims", limit=MAX_CLAIMS_QUERIES)
            )
        )
        seen: set[str] = set()
        for n, claim in enumerate(claims):
            if claim.id is None:
                continue
            if claim.id in seen:
                raise _invalid(
                    f"duplicate claim id {claim.id!r}", f"{pointer}/claims/{n}/id"
                )
            seen.add(claim.id)
    claim_sets = None
    if "claim_sets" in entry:
        if claims is None:
            raise _invalid("'claim_sets' needs 'claims'", f"{pointer}/claim_sets")
        for n, claim in enumerate(claims):
            if claim.id is None:
                raise _invalid(
                    "every claim needs an 'id' when 'claim_sets' is present",
                    f"{pointer}/claims/{n}/id",
                )
        claim_sets = _parse_options(
            entry["claim_sets"],
            f"{pointer}/claim_sets",
            {claim.id for claim in claims if claim.id is not None},
            "claim",
        )
    return CredentialQuery(
        id=query_id,
        format=credential_format,
        meta=MappingProxyType(copy.deepcopy(dict(meta))),
        multiple=_boolean(entry, "multiple", pointer, False),
        require_cryptographic_holder_binding=_boolean(
            entry, "require_cryptographic_holder_binding", pointer, True
        ),
        trusted_authorities=trusted,
        claims=claims,
        claim_sets=claim_sets,
    )


def _parse_type_values(meta: Mapping[str, Any], pointer: str) -> None:
    if "type_values" not in meta:
        raise _invalid("'type_values' is required", pointer)
    for n, types in enumerate(_array(meta["type_values"], pointer, limit=MAX_VALUES)):
        for m, value in enumerate(_array(types, f"{pointer}/{n}", limit=MAX_VALUES)):
            if not isinstance(value, str) or not value:
                raise _invalid("must be a non-empty string", f"{pointer}/{n}/{m}")


def _parse_trusted_authority(data: object, pointer: str) -> TrustedAuthority:
    entry = _object(data, pointer)
    kind = entry.get("type")
    if not isinstance(kind, str) or not kind:
        raise _invalid("must be a non-empty string", f"{pointer}/type")
    values = _array(entry.get("values"), f"{pointer}/values", limit=MAX_VALUES)
    for n, value in enumerate(values):
        if not isinstance(value, str):
            raise _invalid("must be a string", f"{pointer}/values/{n}")
    return TrustedAuthority(type=kind, values=tuple(values))


def _parse_claims_query(data: object, pointer: str) -> ClaimsQuery:
    entry = _object(data, pointer)
    claim_id = None
    if "id" in entry:
        claim_id = _identifier(entry["id"], f"{pointer}/id")
    if "path" not in entry:
        raise _invalid("'path' is required", f"{pointer}/path")
    components = _array(entry["path"], f"{pointer}/path", limit=MAX_PATH_LENGTH)
    for n, component in enumerate(components):
        is_index = (
            isinstance(component, int)
            and not isinstance(component, bool)
            and component >= 0
        )
        if not (component is None or isinstance(component, str) or is_index):
            raise _invalid(
                "a path component is a string, a non-negative integer or null",
                f"{pointer}/path/{n}",
            )
    values = None
    if "values" in entry:
        raw = _array(entry["values"], f"{pointer}/values", limit=MAX_VALUES)
        for n, value in enumerate(raw):
            if not isinstance(value, str | int):  # bool is an int
                raise _invalid(
                    "a value is a string, an integer or a boolean",
                    f"{pointer}/values/{n}",
                )
        values = tuple(raw)
    return ClaimsQuery(path=tuple(components), id=claim_id, values=values)


def _parse_options(
    data: object, pointer: str, known: set[str], what: str
) -> tuple[tuple[str, ...], ...]:
    options = []
    for n, option in enumerate(_array(data, pointer, limit=MAX_OPTIONS)):
        ids = _array(option, f"{pointer}/{n}", limit=MAX_CLAIMS_QUERIES)
        for m, ref in enumerate(ids):
            if not isinstance(ref, str) or ref not in known:
                raise _invalid(f"not the id of a {what} query", f"{pointer}/{n}/{m}")
        options.append(tuple(dict.fromkeys(ids)))
    return tuple(options)


def _parse_credential_set(
    data: object, pointer: str, known: set[str]
) -> CredentialSetQuery:
    entry = _object(data, pointer)
    if "options" not in entry:
        raise _invalid("'options' is required", f"{pointer}/options")
    return CredentialSetQuery(
        options=_parse_options(
            entry["options"], f"{pointer}/options", known, "credential"
        ),
        required=_boolean(entry, "required", pointer, True),
        purpose=copy.deepcopy(entry.get("purpose")),
    )


# --- matching held credentials ------------------------------------------------------


class ResolvedSDJWT(Protocol):
    """A parsed SD-JWT as the holder sees it (:class:`~did_vault.sd_jwt.SDJWT` fits)."""

    def claims(self) -> dict[str, Any]: ...

    def paths(self) -> tuple[ClaimPath, ...]: ...


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """What matching needs to know about one credential the wallet holds.

    ``claims`` is the holder's fully disclosed view of the credential: every
    disclosure applied, registered claims such as ``vct`` and ``cnf`` included; for a
    W3C VC, the credential document itself. ``disclosable`` lists the paths, in that
    view, that a disclosure conceals; only those need disclosing, everything else the
    verifier sees anyway (all of a W3C VC). ``types`` are a W3C VC's types, as
    written in ``type`` and, when the caller expanded them, as IRIs.
    """

    claims: Mapping[str, Any]
    disclosable: frozenset[ClaimPath] = frozenset()
    format: str = SD_JWT_VC_FORMAT
    has_holder_binding: bool = True
    types: frozenset[str] = frozenset()

    @classmethod
    def from_sd_jwt(cls, sd_jwt: ResolvedSDJWT) -> Self:
        """The matching view of a parsed SD-JWT VC held by the wallet.

        Raises:
            as :meth:`SDJWT.claims` for Disclosures that do not resolve.
        """
        claims = sd_jwt.claims()
        return cls(
            claims=claims,
            disclosable=frozenset(sd_jwt.paths()),
            format=SD_JWT_VC_FORMAT,
            has_holder_binding="cnf" in claims,
        )

    @classmethod
    def from_w3c(
        cls,
        document: Mapping[str, Any],
        *,
        expanded_types: Iterable[str] = (),
        has_holder_binding: bool = True,
    ) -> Self:
        """The matching view of a W3C VC (format ``ldp_vc``): the whole document,
        nothing concealed. ``expanded_types`` adds the IRIs its types expand to, so
        a query may name either (Appendix B.1.1 asks for the IRIs)."""
        written = document.get("type")
        types = [written] if isinstance(written, str) else written
        return cls(
            claims=document,
            format=W3C_VC_FORMAT,
            has_holder_binding=has_holder_binding,
            types=frozenset(
                [t for t in types or () if isinstance(t, str)] + list(expanded_types)
            ),
        )

    @property
    def vct(self) -> str | None:
        value = self.claims.get("vct")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class CredentialMatch:
    """How one held credential answers one credential query, with least disclosure."""

    query_id: str
    credential_index: int
    claim_set_index: int | None
    """The ``claim_sets`` option used (``None`` when the query has none)."""
    disclose: tuple[ClaimPath, ...]
    """Every concrete claim the query selects, in query order: what to give
    :func:`~did_vault.sd_jwt.holder.present` as ``disclose``."""
    disclosures: tuple[ClaimPath, ...]
    """The disclosable paths whose Disclosures that sends: the selected claims, the
    concealed claims they sit in, and the concealed parts of a selected object or
    array. Not an input for ``present``: an ancestor there would reveal all of it."""


@dataclass(frozen=True, slots=True)
class DCQLAnswer:
    """The credentials and disclosures that answer a query, one match per query."""

    matches: tuple[CredentialMatch, ...]

    def for_query(self, query_id: str) -> CredentialMatch | None:
        """The match answering credential query ``query_id``, if it is answered."""
        for match in self.matches:
            if match.query_id == query_id:
                return match
        return None


def select_claims(
    pointer: ClaimsPathPointer, claims: Mapping[str, Any]
) -> list[tuple[ClaimPath, Any]] | None:
    """The claims a claims path pointer selects (§7.1), as (path, value) pairs.

    ``None`` when processing aborts: a member name applied to a non-object, an index
    or ``null`` applied to a non-array, or nothing left selected.
    """
    selected: list[tuple[ClaimPath, Any]] = [((), claims)]
    for component in pointer:
        following: list[tuple[ClaimPath, Any]] = []
        for path, value in selected:
            if isinstance(component, str):
                if not isinstance(value, Mapping):
                    return None
                if component in value:
                    following.append(((*path, component), value[component]))
            elif not isinstance(value, list):
                return None
            elif component is None:
                following.extend(((*path, n), item) for n, item in enumerate(value))
            elif component < len(value):
                following.append(((*path, component), value[component]))
        if not following:
            return None
        selected = following
    return selected


def _matches_values(value: object, values: Iterable[ClaimValue]) -> bool:
    # Type and value must both match: True is not 1 and "1" is not 1.
    return any(type(value) is type(wanted) and value == wanted for wanted in values)


def _select_option(
    option: Sequence[ClaimsQuery], claims: Mapping[str, Any]
) -> tuple[ClaimPath, ...] | None:
    paths: dict[ClaimPath, None] = {}
    for claim in option:
        found = select_claims(claim.path, claims)
        if found is None:
            return None
        if claim.values is not None:
            wanted = claim.values
            found = [
                (path, value) for path, value in found if _matches_values(value, wanted)
            ]
            if not found:
                return None
        paths.update(dict.fromkeys(path for path, _ in found))
    return tuple(paths)


def path_sort_key(path: ClaimPath) -> tuple[tuple[int, int, str], ...]:
    """A total order on claim paths (indices before names), for stable output."""
    return tuple(
        (0, part, "") if isinstance(part, int) else (1, 0, part) for part in path
    )


def _disclosures(
    selected: Iterable[ClaimPath], disclosable: Iterable[ClaimPath]
) -> tuple[ClaimPath, ...]:
    chosen = list(selected)
    needed = [
        concealed
        for concealed in disclosable
        if any(
            concealed[: min(len(concealed), len(path))]
            == path[: min(len(concealed), len(path))]
            for path in chosen
        )
    ]
    return tuple(sorted(needed, key=path_sort_key))


def match_credential(
    query: CredentialQuery, credential: HeldCredential, *, credential_index: int = 0
) -> CredentialMatch | None:
    """How ``credential`` answers ``query`` with the least disclosure, or ``None``.

    The format and ``vct`` must be the requested ones (for ``ldp_vc``: one of the
    ``type_values`` sets within the credential's types), holder binding present when
    required, and the first ``claim_sets`` option the credential satisfies wins
    (the verifier's preference order, §6.4.1). A claim with ``values`` only counts
    when its type and value equal one of them.
    """
    if credential.format != query.format:
        return None
    if query.format == SD_JWT_VC_FORMAT and credential.vct not in (
        query.vct_values or ()
    ):
        return None
    if query.format == W3C_VC_FORMAT and not any(
        credential.types.issuperset(types) for types in query.type_values or ()
    ):
        return None
    if query.require_cryptographic_holder_binding and not credential.has_holder_binding:
        return None
    for index, option in enumerate(query.claim_options()):
        selected = _select_option(option, credential.claims)
        if selected is not None:
            return CredentialMatch(
                query_id=query.id,
                credential_index=credential_index,
                claim_set_index=None if query.claim_sets is None else index,
                disclose=selected,
                disclosures=_disclosures(selected, credential.disclosable),
            )
    return None


def _best_match(
    query: CredentialQuery, credentials: Sequence[HeldCredential]
) -> CredentialMatch | None:
    matches = [
        match
        for index, credential in enumerate(credentials)
        if (match := match_credential(query, credential, credential_index=index))
    ]
    # A query's own claim_sets preference first, then the fewest disclosures.
    return min(
        matches,
        key=lambda m: (m.claim_set_index or 0, len(m.disclosures), m.credential_index),
        default=None,
    )


def answer_query(
    query: DCQLQuery,
    credentials: Sequence[HeldCredential],
    *,
    include_optional: bool = False,
) -> DCQLAnswer:
    """The held credentials and minimum disclosures that answer ``query``.

    Without ``credential_sets`` every credential query must be answered. With them,
    each required set is answered by its first option whose queries can all be
    answered (§6.4.2); optional sets are left out unless ``include_optional``, and
    credential queries no set names are not answered. Each answered query gets one
    credential, the one needing the fewest disclosures, even when ``multiple``.

    Raises:
        UnsatisfiableQueryError: a required credential query or credential set cannot
            be answered; nothing should then be disclosed.
    """
    best = {cq.id: _best_match(cq, credentials) for cq in query.credentials}
    if query.credential_sets is None:
        for query_id, match in best.items():
            if match is None:
                raise UnsatisfiableQueryError(
                    "no held credential answers this credential query", query=query_id
                )
        wanted = set(best)
    else:
        wanted = set()
        for n, credential_set in enumerate(query.credential_sets):
            if not credential_set.required and not include_optional:
                continue
            option = next(
                (
                    option
                    for option in credential_set.options
                    if all(best[query_id] is not None for query_id in option)
                ),
                None,
            )
            if option is not None:
                wanted.update(option)
            elif credential_set.required:
                raise UnsatisfiableQueryError(
                    "no option of this credential set can be answered",
                    credential_set=n,
                )
    return DCQLAnswer(
        tuple(
            match
            for cq in query.credentials
            if cq.id in wanted and (match := best[cq.id]) is not None
        )
    )


# --- named request templates --------------------------------------------------------


def _templates_dir() -> Any:
    return resources.files(_TEMPLATES_PACKAGE).joinpath(_TEMPLATES_DIR)


def template_names() -> tuple[str, ...]:
    """The names of the request templates packaged in ``specs/requests``, sorted."""
    return tuple(
        sorted(
            entry.name.removesuffix(".json")
            for entry in _templates_dir().iterdir()
            if entry.name.endswith(".json") and entry.is_file()
        )
    )


def load_template(name: str) -> DCQLQuery:
    """The packaged request template ``name`` as a DCQL query.

    Raises:
        UnknownRequestTemplateError: no template of that name is packaged.
    """
    if not _TEMPLATE_NAME_PATTERN.fullmatch(name) or name not in template_names():
        raise UnknownRequestTemplateError(
            "no request template of that name", template=name[:64]
        )
    text = _templates_dir().joinpath(f"{name}.json").read_text(encoding="utf-8")
    query = DCQLQuery.from_text(text)
    if query.template != name:
        raise ValueError(f"packaged template {name!r} names itself {query.template!r}")
    return query


def _render(path: ClaimsPathPointer) -> str:
    return json.dumps(list(path))


def _pointer_covers(allowed: ClaimsPathPointer, asked: ClaimsPathPointer) -> bool:
    """Whether everything ``asked`` can select lies inside what ``allowed`` selects."""
    if len(allowed) > len(asked):
        return False
    return all(
        (a is None and not isinstance(b, str)) or (a == b and type(a) is type(b))
        for a, b in zip(allowed, asked, strict=False)
    )


def _claim_covers(allowed: ClaimsQuery, asked: ClaimsQuery) -> bool:
    if not _pointer_covers(allowed.path, asked.path):
        return False
    if allowed.values is None:
        return True
    return asked.values is not None and all(
        _matches_values(value, allowed.values) for value in asked.values
    )


def _credential_gaps(asked: CredentialQuery, allowed: CredentialQuery) -> list[str]:
    """What ``asked`` requests beyond ``allowed`` (empty when it stays inside)."""
    if asked.format != allowed.format:
        return [f"credential query {asked.id!r} asks for format {asked.format!r}"]
    gaps = []
    if allowed.vct_values is not None:
        extra = [v for v in asked.vct_values or () if v not in allowed.vct_values]
        if extra:
            gaps.append(
                f"credential query {asked.id!r} asks for credential types {extra}"
            )
    if allowed.type_values is not None:
        sets = [set(types) for types in allowed.type_values]
        wider = [
            list(types)
            for types in asked.type_values or ()
            if not any(set(types) >= allowed_set for allowed_set in sets)
        ]
        if wider:
            gaps.append(
                f"credential query {asked.id!r} asks for credential types {wider}"
            )
    if asked.multiple and not allowed.multiple:
        gaps.append(f"credential query {asked.id!r} asks for multiple credentials")
    allowed_options = allowed.claim_options()
    for option in asked.claim_options():
        uncovered = min(
            (
                [c for c in option if not any(_claim_covers(t, c) for t in allowed_opt)]
                for allowed_opt in allowed_options
            ),
            key=len,
        )
        gaps.extend(
            f"credential query {asked.id!r} asks for claim {_render(claim.path)}"
            + ("" if claim.values is None else " with other values")
            for claim in uncovered
        )
    return list(dict.fromkeys(gaps))


def _combinations(query: DCQLQuery) -> Iterator[frozenset[str]]:
    """Every set of credential queries one answer to ``query`` may include."""
    if query.credential_sets is None:
        yield frozenset(cq.id for cq in query.credentials)
        return
    choices = [
        [*credential_set.options, *([] if credential_set.required else [()])]
        for credential_set in query.credential_sets
    ]
    for count, combination in enumerate(product(*choices)):
        if count >= MAX_COMBINATIONS:
            raise TemplateExceededError(
                "the request's credential_sets are too many to compare with a template",
                combinations=count,
            )
        yield frozenset(query_id for option in combination for query_id in option)


def _assignable(
    asked_ids: Iterable[str], allowed_ids: frozenset[str], fits: set[tuple[str, str]]
) -> bool:
    """Whether each asked query gets its own allowed query that covers it."""
    owner: dict[str, str] = {}

    def place(asked: str, seen: set[str]) -> bool:
        for allowed in allowed_ids:
            if allowed in seen or (asked, allowed) not in fits:
                continue
            seen.add(allowed)
            if allowed not in owner or place(owner[allowed], seen):
                owner[allowed] = asked
                return True
        return False

    return all(place(asked, set()) for asked in asked_ids)


def template_excess(query: DCQLQuery, template: DCQLQuery) -> list[str]:
    """What ``query`` asks for beyond ``template``, one sentence each (empty: nothing).

    Every answer the request allows must fit an answer the template allows: each
    credential query on its own template credential query, with the same format,
    ``vct`` values among the template's, ``multiple`` only where the template has it,
    and every claims option inside one of the template's (a claims path pointer is
    inside another when it is the same or deeper, ``null`` covering any index).
    """
    gaps = {
        (asked.id, allowed.id): _credential_gaps(asked, allowed)
        for asked in query.credentials
        for allowed in template.credentials
    }
    fits = {pair for pair, found in gaps.items() if not found}
    allowed_combinations = list(_combinations(template))
    excess: dict[str, None] = {}
    for combination in _combinations(query):
        if any(
            _assignable(sorted(combination), allowed, fits)
            for allowed in allowed_combinations
        ):
            continue
        unfit = [
            asked_id
            for asked_id in sorted(combination)
            if not any(pair[0] == asked_id for pair in fits)
        ]
        for asked_id in unfit:
            closest = min(
                (gaps[asked_id, allowed.id] for allowed in template.credentials),
                key=lambda found: len(found),
            )
            excess.update(dict.fromkeys(closest))
        if not unfit:
            excess[
                f"the request asks for {len(combination)} credentials together "
                f"({', '.join(sorted(combination))}), more than the template allows"
            ] = None
    return list(excess)


def check_against_template(
    query: DCQLQuery, template_name: str, *, allow_excess: bool = False
) -> list[str]:
    """Check that a request claiming to be ``template_name`` asks for no more than it.

    Returns the excess as warnings, which is empty unless ``allow_excess``: the owner
    explicitly accepted a request that asks for more.

    Raises:
        UnknownRequestTemplateError: no template of that name is packaged.
        TemplateExceededError: the request asks for more than the template and
            ``allow_excess`` is false.
    """
    template = load_template(template_name)
    try:
        excess = template_excess(query, template)
    except TemplateExceededError as exc:
        if not allow_excess:
            raise
        return [exc.detail]
    if excess and not allow_excess:
        raise TemplateExceededError(
            f"the request asks for more than the {template_name!r} template: "
            f"{excess[0]}",
            template=template_name,
            excess=len(excess),
        )
    return excess
