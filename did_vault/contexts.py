"""Offline JSON-LD document loader over the packaged contexts in ``specs/contexts``.

JSON-LD processing (RDF canonicalization for the ``*-rdfc-*`` Data Integrity
cryptosuites, https://www.w3.org/TR/vc-data-integrity/#contexts-and-vocabularies)
dereferences ``@context`` URLs. Here they are never fetched: a context resolves only
if it is one of the pinned files packaged with the library (vendored byte for byte,
see ``specs/contexts/SOURCE.md``) or a document the caller handed to the loader. Any
other URL raises :class:`~did_vault.errors.UnknownContextError`.
"""

import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

from pyld.context_resolver import ContextResolver

from did_vault.errors import MalformedInputError, UnknownContextError

CREDENTIALS_V2_URL = "https://www.w3.org/ns/credentials/v2"
DATA_INTEGRITY_V2_URL = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1_URL = "https://w3id.org/security/multikey/v1"
DID_V1_URL = "https://www.w3.org/ns/did/v1"
# The registry's own context (specs/contexts/registry-v1.jsonld, authored by this
# project; see specs/schema.md): item, ownership, stolen-report and transfer terms.
REGISTRY_V1_URL = "https://registry.example/ns/registry/v1"

JSON_LD_MEDIA_TYPE = "application/ld+json"

# Context URL -> file name under specs/contexts/. SOURCE.md there names the origin
# and SHA-256 of each file; tests/unit/did_vault/test_contexts.py pins the digests.
PACKAGED_CONTEXTS: Mapping[str, str] = MappingProxyType(
    {
        CREDENTIALS_V2_URL: "credentials-v2.jsonld",
        DATA_INTEGRITY_V2_URL: "data-integrity-v2.jsonld",
        MULTIKEY_V1_URL: "multikey-v1.jsonld",
        DID_V1_URL: "did-v1.jsonld",
        REGISTRY_V1_URL: "registry-v1.jsonld",
    }
)

_CONTEXTS_PACKAGE = "specs"
_CONTEXTS_DIR = "contexts"
# Processed contexts kept per loader. Inline contexts are cached too (keyed by their
# JCS form), so the bound stops documents with ever-new inline contexts from
# growing a long-lived loader without limit.
_RESOLVED_CACHE_SIZE = 256


def read_packaged_context(url: str) -> bytes:
    """The packaged context file for ``url``, byte for byte as vendored.

    Raises:
        UnknownContextError: ``url`` is not one of :data:`PACKAGED_CONTEXTS`.
    """
    try:
        name = PACKAGED_CONTEXTS[url]
    except KeyError:
        raise UnknownContextError(
            "this JSON-LD context is not in the pinned set", url=url
        ) from None
    resource = resources.files(_CONTEXTS_PACKAGE).joinpath(_CONTEXTS_DIR, name)
    return resource.read_bytes()


class ContextLoader:
    """Resolves ``@context`` URLs from the packaged set plus caller-given documents.

    ``extra`` maps further URLs to their documents (parsed JSON), for contexts the
    caller pins itself, e.g. a test suite's example context. A URL in both
    ``extra`` and the packaged set is refused: the packaged contexts cannot be
    replaced. Parsed documents are cached in the instance; reuse one loader to
    avoid re-reading and re-processing the files. The loader never touches the
    network and is safe to share between threads (the cache only ever gains
    identical entries).

    An instance is callable as a pyld document loader: ``loader(url, options)``.
    """

    def __init__(self, extra: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        extra = dict(extra or {})
        for url, document in extra.items():
            if not isinstance(url, str) or not isinstance(document, Mapping):
                raise TypeError("extra contexts map URL strings to JSON objects")
            if url in PACKAGED_CONTEXTS:
                raise ValueError(f"{url} is a packaged context and cannot be replaced")
        self._extra: Mapping[str, Mapping[str, Any]] = MappingProxyType(
            {url: copy.deepcopy(dict(doc)) for url, doc in extra.items()}
        )
        self._parsed: dict[str, dict[str, Any]] = {}
        # pyld's resolved-context cache for this loader only (see pyld_options):
        # pyld's own default cache is process-wide and keyed by URL alone, so a
        # context loaded elsewhere under the same URL would be reused here.
        self._resolved = _BoundedCache(_RESOLVED_CACHE_SIZE)

    @property
    def urls(self) -> frozenset[str]:
        """Every context URL this loader resolves."""
        return frozenset(PACKAGED_CONTEXTS) | frozenset(self._extra)

    def is_known(self, url: str) -> bool:
        """Whether ``url`` resolves here (without loading it)."""
        return url in PACKAGED_CONTEXTS or url in self._extra

    def load(self, url: str) -> dict[str, Any]:
        """The context document for ``url``, as a fresh copy the caller may change.

        Raises:
            UnknownContextError: ``url`` is neither packaged nor given to the loader.
            MalformedInputError: a packaged file is not a JSON object (a broken
                installation).
        """
        return copy.deepcopy(self._document(url))

    def __call__(
        self, url: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """pyld document-loader protocol: a RemoteDocument for ``url``.

        Raises:
            UnknownContextError: ``url`` is neither packaged nor given to the loader.
        """
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": self.load(url),
            "contentType": JSON_LD_MEDIA_TYPE,
            # pyld caches a remote context's processed form only when tagged static.
            "tag": "static",
        }

    def pyld_options(self) -> dict[str, Any]:
        """Options for one pyld call: this loader, and its own context cache."""
        return {
            "documentLoader": self,
            "contextResolver": ContextResolver(self._resolved, self),
        }

    def _document(self, url: str) -> dict[str, Any]:
        cached = self._parsed.get(url)
        if cached is not None:
            return cached
        if url in self._extra:
            document = dict(self._extra[url])
        else:
            raw = read_packaged_context(url)
            try:
                document = json.loads(raw)
            except ValueError as exc:
                raise MalformedInputError(
                    "a packaged JSON-LD context is not valid JSON", url=url
                ) from exc
            if not isinstance(document, dict):
                raise MalformedInputError(
                    "a packaged JSON-LD context is not a JSON object", url=url
                )
        self._parsed[url] = document
        return document


class _BoundedCache:
    """The ``get``/``[]=`` mapping pyld's ContextResolver needs, least recently used
    entries evicted past ``size``."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def packaged_loader() -> ContextLoader:
    """A shared loader of the packaged contexts only.

    Its cache holds nothing but parsed copies of the immutable packaged files, so
    sharing one instance changes no result; it only saves re-reading and
    re-processing them (about 5x faster RDFC canonicalization).
    """
    return _PACKAGED_LOADER


_PACKAGED_LOADER = ContextLoader()
