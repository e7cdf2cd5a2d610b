"""Resolver: per-method drivers, id check, and verification-method dereferencing."""

import json

import pytest

from did_vault.dids.did import DID, DIDURL
from did_vault.dids.document import DIDDocument
from did_vault.dids.methods.jwk import create_did_jwk
from did_vault.dids.methods.key import create_did_key, resolve_did_key
from did_vault.dids.methods.web import build_did_web_document
from did_vault.dids.resolver import Resolver, default_resolver
from did_vault.errors import (
    InvalidDIDDocumentError,
    InvalidDIDError,
    InvalidDIDURLError,
    UnsupportedDIDMethodError,
    VerificationMethodNotFoundError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey

KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(32)).public_key
DID_KEY = str(create_did_key(KEY))
MULTIKEY = KEY.to_multikey()


class StaticFetcher:
    def __init__(self, documents: dict[str, DIDDocument]) -> None:
        self.documents = documents

    def fetch(self, url: str) -> bytes:
        return json.dumps(self.documents[url].to_json()).encode()


def test_default_resolver_resolves_did_key_and_did_jwk():
    resolver = default_resolver()

    assert resolver.resolve(DID_KEY) == resolve_did_key(DID_KEY)
    assert resolver.resolve(create_did_jwk(KEY)).id == str(create_did_jwk(KEY))
    assert resolver.methods == {"key", "jwk"}


def test_default_resolver_has_no_did_web_without_a_fetcher():
    with pytest.raises(UnsupportedDIDMethodError) as exc_info:
        default_resolver().resolve("did:web:example.com")

    assert exc_info.value.code == "did.method-unsupported"


def test_default_resolver_resolves_did_web_through_the_fetcher():
    document = build_did_web_document("example.com", keys=[KEY])
    fetcher = StaticFetcher({"https://example.com/.well-known/did.json": document})

    resolver = default_resolver(fetcher)

    assert resolver.resolve("did:web:example.com") == document
    assert resolver.methods == {"key", "jwk", "web"}


def test_resolve_rejects_an_unknown_method():
    with pytest.raises(UnsupportedDIDMethodError) as exc_info:
        default_resolver().resolve("did:example:123")

    assert exc_info.value.code == "did.method-unsupported"


def test_resolve_rejects_a_malformed_did():
    with pytest.raises(InvalidDIDError) as exc_info:
        default_resolver().resolve("did:key")

    assert exc_info.value.code == "did.invalid"


def test_resolve_rejects_a_document_whose_id_is_another_did():
    other = resolve_did_key(create_did_key(PrivateKey.generate().public_key))
    resolver = Resolver({"example": lambda did: other})

    with pytest.raises(InvalidDIDDocumentError) as exc_info:
        resolver.resolve("did:example:123")

    assert exc_info.value.code == "did.document-invalid"


def test_resolver_passes_the_parsed_did_to_the_driver():
    seen: list[DID] = []

    def driver(did: DID) -> DIDDocument:
        seen.append(did)
        return DIDDocument(id=str(did))

    Resolver({"example": driver}).resolve("did:example:abc")

    assert seen == [DID("example", "abc")]


def test_resolver_refuses_an_invalid_method_name():
    with pytest.raises(InvalidDIDError) as exc_info:
        Resolver({"Key": resolve_did_key})

    assert exc_info.value.code == "did.invalid"


def test_dereference_returns_the_verification_method():
    method = default_resolver().dereference(f"{DID_KEY}#{MULTIKEY}")

    assert method.public_key() == KEY


def test_dereference_checks_the_relationship():
    resolver = default_resolver()

    assert resolver.dereference(
        DIDURL.parse(f"{DID_KEY}#{MULTIKEY}"), relationship="assertionMethod"
    )
    x25519 = f"{DID_KEY}#{KEY.to_x25519_multikey()}"
    assert resolver.dereference(x25519, relationship="keyAgreement").id == x25519

    with pytest.raises(VerificationMethodNotFoundError) as exc_info:
        resolver.dereference(x25519, relationship="assertionMethod")

    assert exc_info.value.code == "did.verification-method-not-found"


def test_dereference_raises_not_found_for_an_unknown_fragment():
    with pytest.raises(VerificationMethodNotFoundError) as exc_info:
        default_resolver().dereference(f"{DID_KEY}#nope")

    assert exc_info.value.code == "did.verification-method-not-found"


@pytest.mark.parametrize(
    "did_url",
    [
        pytest.param(DID_KEY, id="no-fragment"),
        pytest.param(f"{DID_KEY}#", id="empty-fragment"),
        pytest.param(f"{DID_KEY}/path#{MULTIKEY}", id="path"),
        pytest.param(f"{DID_KEY}?versionId=1#{MULTIKEY}", id="query"),
        pytest.param(f"#{MULTIKEY}", id="relative"),
        pytest.param("did:key:z6Mk#a#b", id="malformed"),
    ],
)
def test_dereference_rejects_urls_that_do_not_name_a_method(did_url):
    with pytest.raises(InvalidDIDURLError) as exc_info:
        default_resolver().dereference(did_url)

    assert exc_info.value.code == "did.url-invalid"
