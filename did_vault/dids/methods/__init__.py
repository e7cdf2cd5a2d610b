"""DID method drivers: did:key, did:jwk and did:web."""

from did_vault.dids.methods.jwk import create_did_jwk, resolve_did_jwk
from did_vault.dids.methods.key import (
    create_did_key,
    did_key_public_key,
    resolve_did_key,
)
from did_vault.dids.methods.web import (
    WebResolver,
    build_did_web_document,
    create_did_web,
    did_web_url,
)

__all__ = [
    "WebResolver",
    "build_did_web_document",
    "create_did_jwk",
    "create_did_key",
    "create_did_web",
    "did_key_public_key",
    "did_web_url",
    "resolve_did_jwk",
    "resolve_did_key",
]
