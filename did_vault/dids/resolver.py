"""DID resolution and DID URL dereferencing (W3C DID Core 1.0 §7).

A ``Resolver`` holds one driver per DID method name. A driver is any callable
``(DID) -> DIDDocument``: ``resolve_did_key``, ``resolve_did_jwk`` and a
``WebResolver`` are drivers. The resolver checks that the document is about the DID
asked for, and dereferences verification-method DID URLs (``did:…#fragment``).
"""

from collections.abc import Callable, Mapping

from did_vault.dids._fetch import Fetcher
from did_vault.dids.did import DID, DIDURL
from did_vault.dids.document import (
    DIDDocument,
    VerificationMethod,
    VerificationRelationship,
)
from did_vault.dids.methods.jwk import resolve_did_jwk
from did_vault.dids.methods.key import resolve_did_key
from did_vault.dids.methods.web import WebResolver
from did_vault.errors import (
    InvalidDIDDocumentError,
    InvalidDIDURLError,
    UnsupportedDIDMethodError,
)

DIDDriver = Callable[[DID], DIDDocument]
"""Resolves the DIDs of one method to their documents."""


class Resolver:
    """Resolves DIDs through per-method drivers and dereferences DID URLs."""

    def __init__(self, drivers: Mapping[str, DIDDriver]) -> None:
        for method in drivers:
            DID(method, "x")  # raises InvalidDIDError for a bad method name
        self._drivers = dict(drivers)

    @property
    def methods(self) -> frozenset[str]:
        """The DID method names this resolver has drivers for."""
        return frozenset(self._drivers)

    def resolve(self, did: DID | str) -> DIDDocument:
        """Resolve a DID to its DID document.

        Raises:
            InvalidDIDError: not a DID (or not valid for its method).
            UnsupportedDIDMethodError: no driver for the DID's method.
            InvalidDIDDocumentError: the document is invalid or its ``id`` is not
                the DID asked for.
            ResolutionError: (and subclasses) the driver could not resolve it.
            InvalidKeyError, UnsupportedAlgorithmError, InvalidEncodingError: the DID
                encodes an unusable key (did:key, did:jwk).
        """
        parsed = DID.parse(did) if isinstance(did, str) else did
        driver = self._drivers.get(parsed.method)
        if driver is None:
            raise UnsupportedDIDMethodError(
                "no resolver for this DID method", method=parsed.method
            )
        document = driver(parsed)
        if document.id != str(parsed):
            raise InvalidDIDDocumentError(
                "the DID document's id is not the DID that was resolved",
                did=str(parsed),
            )
        return document

    def dereference(
        self,
        did_url: DIDURL | str,
        *,
        relationship: VerificationRelationship | None = None,
    ) -> VerificationMethod:
        """The verification method a DID URL ``did:…#fragment`` names.

        With ``relationship`` (e.g. ``"assertionMethod"``) the method must also be
        listed under that relationship in its controller's DID document.

        Raises:
            InvalidDIDURLError: not a DID URL, or one with a path or query, or
                without a fragment.
            VerificationMethodNotFoundError: no such method in the document, or not
                listed under ``relationship``.
            (and whatever ``resolve`` raises)
        """
        parsed = DIDURL.parse(did_url) if isinstance(did_url, str) else did_url
        if parsed.path or parsed.query is not None:
            raise InvalidDIDURLError(
                "only did:…#fragment URLs are dereferenced here", did_url=str(parsed)
            )
        if not parsed.fragment:
            raise InvalidDIDURLError(
                "a verification method DID URL needs a fragment", did_url=str(parsed)
            )
        document = self.resolve(parsed.did)
        return document.find_verification_method(str(parsed), relationship=relationship)


def default_resolver(fetcher: Fetcher | None = None) -> Resolver:
    """A resolver for did:key and did:jwk, plus did:web when a fetcher is given."""
    drivers: dict[str, DIDDriver] = {"key": resolve_did_key, "jwk": resolve_did_jwk}
    if fetcher is not None:
        drivers["web"] = WebResolver(fetcher)
    return Resolver(drivers)
