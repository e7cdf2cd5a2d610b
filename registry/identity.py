"""The registry's own identity: a did:web DID and its signing key (DID Core, did:web).

The key is read from a file, never from the environment or the command line: an
Ed25519 or P-256 private key as a Multikey ``secretKeyMultibase`` value, or as a
private JWK (RFC 7517). On POSIX the file must not be readable by group or others.
Without a configured key the registry creates a development key in its data folder
on first start and says, in a warning, how to configure a real one.
"""

import json
import logging
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from did_vault import (
    DIDDocument,
    DIDDocumentResolver,
    DidVaultError,
    PrivateKey,
    build_did_web_document,
    create_did_web,
)
from registry.config import Settings
from registry.errors import ConfigurationError

logger = logging.getLogger("registry.identity")

ITEMS_PATH_SEGMENT = "items"
DEV_KEY_WARNING = (
    "using a development signing key at {path}; for production create a key file "
    "(Ed25519 Multikey secret or private JWK, mode 0600) and set "
    "REGISTRY_SIGNING_KEY_FILE and REGISTRY_DID_DOMAIN"
)


@dataclass(frozen=True, slots=True)
class RegistryIdentity:
    """The registry's DID, its signing key and the DID document it publishes."""

    did: str
    key: PrivateKey = field(repr=False)
    verification_method: str
    document: DIDDocument
    domain: str
    port: int | None
    is_development_key: bool = False

    @classmethod
    def from_key(
        cls,
        key: PrivateKey,
        *,
        domain: str,
        port: int | None = None,
        is_development_key: bool = False,
    ) -> "RegistryIdentity":
        """The identity of ``did:web:<domain>`` signing with ``key``.

        Raises:
            InvalidDIDError: a domain that is not a DNS name.
        """
        document = build_did_web_document(domain, keys=[key.public_key], port=port)
        return cls(
            did=document.id,
            key=key,
            verification_method=f"{document.id}#{key.public_key.to_multikey()}",
            document=document,
            domain=domain,
            port=port,
            is_development_key=is_development_key,
        )

    def item_did(self, item_id: str) -> str:
        """``did:web:<host>:items:<id>``, the DID of a registered item."""
        return str(
            create_did_web(self.domain, [ITEMS_PATH_SEGMENT, item_id], port=self.port)
        )

    def item_document(
        self, item_id: str, *, controllers: Sequence[str]
    ) -> dict[str, Any]:
        """An item's DID document: the current owner(s) as controller."""
        document = build_did_web_document(
            self.domain,
            [ITEMS_PATH_SEGMENT, item_id],
            keys=[self.key.public_key],
            port=self.port,
            relationships=("assertionMethod",),
        ).to_json()
        document["controller"] = [self.did, *controllers]
        return document


class SelfResolver:
    """Resolves the registry's own DID from its identity (no HTTP); any other DID
    through ``resolver``.

    The registry need not reach itself over HTTPS to check what it signed: behind a
    private CA, a proxy or a DNS name that only clients see, a fetch of its own
    ``/.well-known/did.json`` may fail, and its answer is known anyway.
    """

    def __init__(
        self, identity: RegistryIdentity, resolver: DIDDocumentResolver
    ) -> None:
        self._identity = identity
        self._resolver = resolver

    def resolve(self, did: str, /) -> DIDDocument:
        """The registry's document for its own DID, else the inner resolver's.

        Raises: what the inner resolver raises.
        """
        if did == self._identity.did:
            return self._identity.document
        return self._resolver.resolve(did)


def read_key_file(path: Path) -> PrivateKey:
    """A private key from a file (Multikey secret or private JWK).

    Raises:
        ConfigurationError: missing, unreadable, readable by group or others, or
            not a private key (the message never holds key material).
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the key file {path}", file=str(path)
        ) from exc
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the key file {path} is accessible to group or others; chmod 600 it",
            file=str(path),
        )
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read the key file {path}", file=str(path)
        ) from exc
    try:
        if text.startswith("{"):
            return PrivateKey.from_jwk(json.loads(text))
        return PrivateKey.from_multikey(text)
    except (DidVaultError, ValueError) as exc:
        raise ConfigurationError(
            f"the key file {path} does not hold an Ed25519 or P-256 private key "
            "(Multikey secret or private JWK)",
            file=str(path),
        ) from exc


def write_key_file(path: Path, key: PrivateKey) -> None:
    """Write a new key file readable by its owner only (never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key.to_multikey() + "\n")


def load_identity(settings: Settings) -> RegistryIdentity:
    """The configured identity, or the development one (created on first use).

    Raises:
        ConfigurationError: a bad key file or domain.
    """
    if settings.signing_key_file is not None:
        key = read_key_file(settings.signing_key_file)
        development = False
    else:
        path = settings.dev_key_path()
        if not path.exists():
            write_key_file(path, PrivateKey.generate())
        key = read_key_file(path)
        development = True
        logger.warning(DEV_KEY_WARNING.format(path=path))
    try:
        return RegistryIdentity.from_key(
            key,
            domain=settings.did_domain,
            port=settings.did_port,
            is_development_key=development,
        )
    except DidVaultError as exc:
        raise ConfigurationError(
            "REGISTRY_DID_DOMAIN is not a DNS name", setting="REGISTRY_DID_DOMAIN"
        ) from exc
