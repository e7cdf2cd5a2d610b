"""Replacing digests by disclosed claims (RFC 9901 §7.1 step 3), shared by roles.

One walk over the payload: every ``_sd`` digest and every ``{"...": digest}`` array
element is looked up among the Disclosures (by the digest of their string as
received), recursively through disclosed values. It enforces the normative rules:
each digest at most once, no name collision, no reserved names, Disclosures of the
right kind in the right place, ``_sd`` an array of strings, ``_sd_alg`` only at the top.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from did_vault.errors import (
    ClaimCollisionError,
    DuplicateDigestError,
    InvalidDisclosureError,
    MalformedSDJWTError,
    RequiredClaimConcealedError,
    ReservedClaimNameError,
)
from did_vault.sd_jwt.disclosure import (
    ARRAY_DIGEST_KEY,
    SD_ALG_KEY,
    SD_DIGESTS_KEY,
    ClaimPath,
    Disclosure,
)

_MISSING: Final = object()


@dataclass(slots=True)
class Resolution:
    """The processed claims and where each used Disclosure landed."""

    claims: dict[str, Any]
    paths: list[tuple[ClaimPath, Disclosure]] = field(default_factory=list)
    parents: dict[str, str | None] = field(default_factory=dict)
    """digest → digest of the Disclosure whose value holds it (None: the payload)."""


class _Walker:
    __slots__ = ("_by_digest", "_clear", "_resolution", "_seen")

    def __init__(
        self,
        by_digest: Mapping[str, Disclosure],
        resolution: Resolution,
        clear: frozenset[str],
    ) -> None:
        self._by_digest = by_digest
        self._clear = clear
        self._seen: set[str] = set()
        self._resolution = resolution

    def seen_digest(self, digest: object) -> str:
        if not isinstance(digest, str):
            raise MalformedSDJWTError("a digest is not a string", field=SD_DIGESTS_KEY)
        if digest in self._seen:
            raise DuplicateDigestError("a digest appears more than once")
        self._seen.add(digest)
        return digest

    def value(self, value: Any, path: ClaimPath, owner: str | None) -> Any:
        if type(value) is dict:
            return self.object(value, path, owner)
        if type(value) is list:
            return self.array(value, path, owner)
        return value

    def object(
        self, obj: dict[str, Any], path: ClaimPath, owner: str | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, item in obj.items():
            if name == SD_DIGESTS_KEY:
                continue
            if name == ARRAY_DIGEST_KEY:
                raise ReservedClaimNameError(
                    "'...' is only allowed as an array element's digest", name=name
                )
            if name == SD_ALG_KEY and path:
                raise MalformedSDJWTError(
                    "_sd_alg is only allowed at the top level", field=SD_ALG_KEY
                )
            out[name] = self.value(item, (*path, name), owner)
        digests = obj.get(SD_DIGESTS_KEY, _MISSING)
        if digests is _MISSING:
            return out
        if type(digests) is not list:
            raise MalformedSDJWTError("_sd is not an array", field=SD_DIGESTS_KEY)
        by_digest = self._by_digest
        for digest in digests:
            disclosure = by_digest.get(self.seen_digest(digest))
            if disclosure is None:
                continue  # a decoy, or a claim the holder did not disclose
            if disclosure.name is None:
                raise InvalidDisclosureError(
                    "an array-element Disclosure is referenced from _sd"
                )
            name = disclosure.name
            if not path and name in self._clear:
                raise RequiredClaimConcealedError(
                    "a claim that must be in the clear was selectively disclosable",
                    name=name,
                )
            if name in out or name in obj:
                raise ClaimCollisionError(
                    "a disclosed claim name already exists at its level", name=name
                )
            child = (*path, name)
            out[name] = self.value(disclosure.value, child, digest)
            self._resolution.paths.append((child, disclosure))
            self._resolution.parents[digest] = owner
        return out

    def array(self, array: list[Any], path: ClaimPath, owner: str | None) -> list[Any]:
        out: list[Any] = []
        by_digest = self._by_digest
        for element in array:
            if (
                type(element) is dict
                and len(element) == 1
                and ARRAY_DIGEST_KEY in element
            ):
                digest = self.seen_digest(element[ARRAY_DIGEST_KEY])
                disclosure = by_digest.get(digest)
                if disclosure is None:
                    continue
                if disclosure.name is not None:
                    raise InvalidDisclosureError(
                        "an object-property Disclosure is referenced as an array "
                        "element"
                    )
                child = (*path, len(out))
                out.append(self.value(disclosure.value, child, digest))
                self._resolution.paths.append((child, disclosure))
                self._resolution.parents[digest] = owner
            else:
                out.append(self.value(element, (*path, len(out)), owner))
        return out


def resolve(
    payload: dict[str, Any],
    by_digest: Mapping[str, Disclosure],
    *,
    clear: frozenset[str] = frozenset(),
) -> Resolution:
    """Process ``payload`` with the Disclosures keyed by their digests.

    ``clear`` names top-level claims that must never come from a Disclosure.

    ``_sd_alg`` is removed from the result. Disclosures not reached are left for the
    caller to notice (compare ``len(resolution.paths)`` with ``len(by_digest)``).

    Raises:
        MalformedSDJWTError: ``_sd`` not an array of strings, nested ``_sd_alg``,
            or nesting too deep.
        DuplicateDigestError: a digest appears twice.
        ClaimCollisionError: a disclosed name already exists at its level.
        RequiredClaimConcealedError: a Disclosure for a top-level ``clear`` claim.
        ReservedClaimNameError: ``...`` used as an object member name.
        InvalidDisclosureError: a Disclosure of the wrong kind for its place.
    """
    resolution = Resolution(claims={})
    walker = _Walker(by_digest, resolution, clear)
    top = {name: value for name, value in payload.items() if name != SD_ALG_KEY}
    try:
        resolution.claims = walker.object(top, (), None)
    except RecursionError as exc:
        raise MalformedSDJWTError("the SD-JWT is nested too deeply") from exc
    return resolution
