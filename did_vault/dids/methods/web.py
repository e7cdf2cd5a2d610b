"""did:web method (https://w3c-ccg.github.io/did-method-web/).

``did:web:<domain>[%3A<port>][:<path segment>]*`` names the DID document served at
``https://<domain>[:<port>]/<path>/did.json``, or ``/.well-known/did.json`` without a
path. Resolution goes through an injected ``Fetcher`` (see ``HttpxFetcher`` for the
SSRF policy, time and size bounds, and caching); this module performs no I/O itself.
``build_did_web_document`` makes the document a domain publishes.
"""

import re
from collections.abc import Sequence

from did_vault.dids._fetch import Fetcher
from did_vault.dids.did import DID
from did_vault.dids.document import (
    DID_CONTEXT_V1,
    MULTIKEY_CONTEXT_V1,
    MULTIKEY_TYPE,
    VERIFICATION_RELATIONSHIPS,
    DIDDocument,
    Service,
    VerificationMethod,
    VerificationRelationship,
)
from did_vault.errors import (
    DIDNotFoundError,
    InvalidDIDDocumentError,
    InvalidDIDError,
    ResolutionError,
    UnsupportedDIDMethodError,
)
from did_vault.keys import PublicKey

METHOD = "web"
WELL_KNOWN_PATH = "/.well-known"
DOCUMENT_NAME = "did.json"
DEFAULT_RELATIONSHIPS: tuple[VerificationRelationship, ...] = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
)

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_PORT_SEPARATOR = re.compile("%3a", re.IGNORECASE)
_SEGMENT = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+", re.ASCII)


def _check_domain(domain: str) -> str:
    if (
        not isinstance(domain, str)
        or len(domain) > 253
        or not all(_LABEL.fullmatch(label) for label in domain.split("."))
    ):
        raise InvalidDIDError("a did:web domain must be a DNS name")
    return domain


def _check_port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536 or text.startswith("0"):
        raise InvalidDIDError("a did:web port must be 1-65535")
    return int(text)


def _check_segment(segment: str) -> str:
    if not isinstance(segment, str) or _SEGMENT.fullmatch(segment) is None:
        raise InvalidDIDError("a did:web path segment has characters DIDs do not allow")
    if segment in (".", ".."):
        raise InvalidDIDError("a did:web path segment must not be '.' or '..'")
    return segment


def _split(did: DID | str) -> tuple[DID, str, int | None, list[str]]:
    parsed = DID.parse(did) if isinstance(did, str) else did
    if parsed.method != METHOD:
        raise UnsupportedDIDMethodError(
            "not a did:web DID", method=parsed.method, expected=METHOD
        )
    host, *path = parsed.method_specific_id.split(":")
    domain, *port_parts = _PORT_SEPARATOR.split(host)
    if len(port_parts) > 1:
        raise InvalidDIDError("a did:web host has at most one port")
    port = _check_port(port_parts[0]) if port_parts else None
    if "%" in domain:
        raise InvalidDIDError("a did:web domain must not be percent-encoded")
    return parsed, _check_domain(domain), port, [_check_segment(s) for s in path]


def did_web_url(did: DID | str) -> str:
    """The HTTPS URL of a did:web DID's document (did:web spec, Read step 1-5).

    ``did:web:example.com`` → ``https://example.com/.well-known/did.json``;
    ``did:web:example.com%3A8443:user:alice`` →
    ``https://example.com:8443/user/alice/did.json``.

    Raises:
        InvalidDIDError: not a DID, or not a valid did:web identifier.
        UnsupportedDIDMethodError: a DID of another method.
    """
    _, domain, port, path = _split(did)
    authority = domain if port is None else f"{domain}:{port}"
    directory = "/" + "/".join(path) if path else WELL_KNOWN_PATH
    return f"https://{authority}{directory}/{DOCUMENT_NAME}"


def create_did_web(
    domain: str, path: Sequence[str] = (), *, port: int | None = None
) -> DID:
    """The did:web DID of a domain, optional port and path segments.

    Raises:
        InvalidDIDError: a domain that is not a DNS name, a bad port, or a path
            segment with characters a DID cannot hold.
    """
    if isinstance(path, str):
        raise TypeError("path is a sequence of segments, not a string")
    host = _check_domain(domain).lower()
    if port is not None:
        host += f"%3A{_check_port(str(port))}"
    segments = [_check_segment(segment) for segment in path]
    return DID(METHOD, ":".join([host, *segments]))


def build_did_web_document(
    domain: str,
    path: Sequence[str] = (),
    *,
    keys: Sequence[PublicKey],
    port: int | None = None,
    relationships: Sequence[VerificationRelationship] = DEFAULT_RELATIONSHIPS,
    services: Sequence[Service] = (),
    also_known_as: Sequence[str] = (),
) -> DIDDocument:
    """The DID document to publish at ``did_web_url`` for a domain and path.

    Each key becomes a ``Multikey`` verification method whose fragment is its
    Multikey value (stable across key order), listed by reference under each of
    ``relationships``.

    Raises:
        InvalidDIDError: as ``create_did_web``.
        ValueError: no keys, or an unknown relationship name.
    """
    if not keys:
        raise ValueError("a did:web document needs at least one key")
    unknown = set(relationships) - set(VERIFICATION_RELATIONSHIPS)
    if unknown:
        raise ValueError(f"unknown verification relationships: {sorted(unknown)}")
    identifier = str(create_did_web(domain, path, port=port))
    methods = [
        VerificationMethod(
            id=f"{identifier}#{key.to_multikey()}",
            type=MULTIKEY_TYPE,
            controller=identifier,
            public_key_multibase=key.to_multikey(),
        )
        for key in keys
    ]
    references: list[str | VerificationMethod] = [method.id for method in methods]
    listed = {
        relationship: list(references) if relationship in relationships else None
        for relationship in VERIFICATION_RELATIONSHIPS
    }
    return DIDDocument.model_validate(
        {
            "@context": [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
            "id": identifier,
            "alsoKnownAs": list(also_known_as) or None,
            "verificationMethod": methods,
            **listed,
            "service": list(services) or None,
        }
    )


class WebResolver:
    """The did:web driver: fetch ``did_web_url(did)`` and validate the document."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher

    def resolve(self, did: DID | str) -> DIDDocument:
        """Fetch and validate a did:web DID document.

        Raises:
            InvalidDIDError, UnsupportedDIDMethodError: as ``did_web_url``.
            DIDNotFoundError: the server answered 404 or 410.
            ForbiddenHostError, ResponseTooLargeError, ResolutionError: from the
                fetcher.
            InvalidDIDDocumentError: not a DID document, or one for another DID.
        """
        parsed, *_ = _split(did)
        url = did_web_url(parsed)
        try:
            body = self._fetcher.fetch(url)
        except DIDNotFoundError:
            raise
        except ResolutionError as exc:
            if type(exc) is ResolutionError and exc.context.get("status") in (404, 410):
                raise DIDNotFoundError(
                    "no DID document at the did:web URL", did=str(parsed)
                ) from exc
            raise
        document = DIDDocument.from_json(body)
        if document.id != str(parsed):
            raise InvalidDIDDocumentError(
                "the document id is not the DID that was resolved", did=str(parsed)
            )
        return document

    def __call__(self, did: DID) -> DIDDocument:
        return self.resolve(did)
