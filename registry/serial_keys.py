"""Keyed hashes of item identities: serial numbers never stored in plaintext.

The registry allows one current owner per item, keyed by did_vault's uniqueness key
(``01/{gtin14}/21/{serial}``, ``brand/{DID}/model/{model}/serial/{serial}``, IMEI,
VIN). It stores only ``HMAC-SHA-256(key, uniqueness key)`` (RFC 2104, FIPS 198-1),
hex-encoded. The key lives in a file (``REGISTRY_SERIAL_KEY_FILE``), never in the
database, so a copy of the database alone cannot be searched for a known serial.
Without a configured file a development key is created in the data folder on first
start, with a warning.
"""

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from registry.config import Settings
from registry.errors import ConfigurationError

logger = logging.getLogger("registry.serial_keys")

MIN_KEY_BYTES = 32
DEV_SERIAL_KEY_WARNING = (
    "using a development serial-hash key at {path}; for production create a key "
    "file (32 random bytes as base64url or hex, mode 0600, kept out of the "
    "database backups) and set REGISTRY_SERIAL_KEY_FILE"
)
_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True, slots=True)
class SerialKey:
    """The HMAC key of identity hashes (never printed)."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise ValueError(f"a serial key has at least {MIN_KEY_BYTES} bytes")

    def identity_hash(self, uniqueness_key: str) -> str:
        """``hex(HMAC-SHA-256(key, uniqueness_key))``: 64 lowercase hex digits."""
        return hmac.new(
            self.key, uniqueness_key.encode("utf-8"), hashlib.sha256
        ).hexdigest()

    def pseudonym(self, purpose: str, value: str) -> str:
        """``hex(HMAC-SHA-256(key, "did-vault/<purpose>/v1" 0x00 value))``: a keyed
        pseudonym of ``value`` (e.g. a client address) that no one without the key
        can reverse by guessing, separated by ``purpose`` from identity hashes
        (uniqueness keys hold no NUL byte) and from other purposes."""
        message = f"did-vault/{purpose}/v1\0{value}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()


def _decode(text: str) -> bytes:
    if _HEX.fullmatch(text) and len(text) % 2 == 0:
        return bytes.fromhex(text)
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def read_serial_key_file(path: Path) -> SerialKey:
    """The key in ``path`` (base64url or hex text, at least 32 bytes).

    Raises:
        ConfigurationError: missing, unreadable, accessible to group or others,
            or too short (the message never holds key material).
    """
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read the serial key file {path}", file=str(path)
        ) from exc
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the serial key file {path} is accessible to group or others; "
            "chmod 600 it",
            file=str(path),
        )
    try:
        return SerialKey(_decode(text))
    except (ValueError, binascii.Error, UnicodeEncodeError) as exc:
        raise ConfigurationError(
            f"the serial key file {path} does not hold at least {MIN_KEY_BYTES} "
            "bytes as base64url or hex",
            file=str(path),
        ) from exc


def write_serial_key_file(path: Path, key: bytes | None = None) -> None:
    """Write a new key file readable by its owner only (never overwrites)."""
    material = key if key is not None else secrets.token_bytes(MIN_KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(base64.urlsafe_b64encode(material).rstrip(b"=").decode() + "\n")


def load_serial_key(settings: Settings) -> SerialKey:
    """The configured key, or the development one (created on first use).

    Raises:
        ConfigurationError: as ``read_serial_key_file``.
    """
    if settings.serial_key_file is not None:
        return read_serial_key_file(settings.serial_key_file)
    path = settings.dev_serial_key_path()
    if not path.exists():
        write_serial_key_file(path)
    logger.warning(DEV_SERIAL_KEY_WARNING.format(path=path))
    return read_serial_key_file(path)
