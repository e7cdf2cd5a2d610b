"""Decentralized identifiers: syntax, documents, did:key/jwk/web, resolution."""

from did_vault.dids._fetch import Fetcher, HttpxFetcher
from did_vault.dids.did import DID, DIDURL
from did_vault.dids.document import (
    DID_CONTEXT_V1,
    MULTIKEY_CONTEXT_V1,
    VERIFICATION_RELATIONSHIPS,
    DIDDocument,
    Service,
    VerificationMethod,
    VerificationRelationship,
)
from did_vault.dids.methods import (
    WebResolver,
    build_did_web_document,
    create_did_jwk,
    create_did_key,
    create_did_web,
    did_key_public_key,
    did_web_url,
    resolve_did_jwk,
    resolve_did_key,
)
from did_vault.dids.resolver import DIDDriver, Resolver, default_resolver

__all__ = [
    "DID",
    "DIDURL",
    "DID_CONTEXT_V1",
    "MULTIKEY_CONTEXT_V1",
    "VERIFICATION_RELATIONSHIPS",
    "DIDDocument",
    "DIDDriver",
    "Fetcher",
    "HttpxFetcher",
    "Resolver",
    "Service",
    "VerificationMethod",
    "VerificationRelationship",
    "WebResolver",
    "build_did_web_document",
    "create_did_jwk",
    "create_did_key",
    "create_did_web",
    "default_resolver",
    "did_key_public_key",
    "did_web_url",
    "resolve_did_jwk",
    "resolve_did_key",
]
