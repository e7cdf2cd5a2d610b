"""Salted commitments to log events, so that the public log reveals nothing.

A log leaf's data is the 32-byte commitment

    SHA-256("did-vault/event/v1" ‖ 0x00 ‖ salt ‖ JCS(event))

where ``salt`` is 32 random bytes and ``JCS`` is RFC 8785. The tag is a fixed string
ended by a zero byte and the salt has a fixed length, so the hashed bytes split one
way only. Hiding: without the salt (256 bits from the OS CSPRNG) no guess about the
event — a serial number, an owner DID, a price — can be checked against a leaf.
Binding: opening one leaf to two different events needs a SHA-256 collision.

The owner keeps the :class:`Opening` (salt and canonical event) in the wallet; given
it, anyone can check that the leaf commits to exactly that event
(:func:`verify_opening`). The Merkle leaf hash is then RFC 9162's
``SHA-256(0x00 ‖ commitment)``, as for any leaf.
"""

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from did_vault.errors import (
    CanonicalizationError,
    InvalidEncodingError,
    MalformedReceiptError,
    OpeningMismatchError,
)
from did_vault.primitives.b64 import b64url_decode, b64url_encode
from did_vault.primitives.jcs import canonicalize

COMMITMENT_TAG = b"did-vault/event/v1\x00"
SALT_SIZE = 32
COMMITMENT_SIZE = 32


def _commitment(salt: bytes, canonical_event: bytes) -> bytes:
    return hashlib.sha256(COMMITMENT_TAG + salt + canonical_event).digest()


@dataclass(frozen=True, slots=True)
class Opening:
    """What opens a commitment: the salt and the event's canonical JSON (RFC 8785).

    Both are private to the owner: neither shows in ``repr``.
    """

    salt: bytes = field(repr=False)
    canonical_event: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.salt, bytes) or len(self.salt) != SALT_SIZE:
            raise ValueError("the salt is 32 bytes")
        if not isinstance(self.canonical_event, bytes):
            raise TypeError("canonical_event is bytes")

    @property
    def event(self) -> dict[str, Any]:
        """The committed event (a fresh copy each time)."""
        value: dict[str, Any] = json.loads(self.canonical_event)
        return value

    def commitment(self) -> bytes:
        """The leaf data this opening opens."""
        return _commitment(self.salt, self.canonical_event)

    def to_json(self) -> dict[str, Any]:
        """``{"salt": base64url, "event": {...}}`` for the wallet."""
        return {"salt": b64url_encode(self.salt), "event": self.event}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Self:
        """Read what ``to_json`` wrote.

        Raises:
            MalformedReceiptError: not that shape, or a salt that is not 32 bytes.
        """
        if (
            not isinstance(value, Mapping)
            or set(value) != {"salt", "event"}
            or not isinstance(value["salt"], str)
            or not isinstance(value["event"], Mapping)
        ):
            raise MalformedReceiptError('an opening is {"salt": …, "event": {…}}')
        try:
            salt = b64url_decode(value["salt"])
            return cls(salt, canonicalize(value["event"]))
        except (
            CanonicalizationError,
            InvalidEncodingError,
            ValueError,
            TypeError,
        ) as exc:
            raise MalformedReceiptError("invalid opening") from exc


def commit(
    event: Mapping[str, Any], *, salt: bytes | None = None
) -> tuple[bytes, Opening]:
    """Commit to an event: the 32-byte leaf data, and the opening the owner keeps.

    ``salt`` is for tests and reproducible fixtures; by default 32 fresh random bytes.

    Raises:
        CanonicalizationError: the event is not I-JSON that RFC 8785 can serialize.
    """
    if not isinstance(event, Mapping):
        raise TypeError("an event is a JSON object")
    if salt is None:
        salt = secrets.token_bytes(SALT_SIZE)
    opening = Opening(salt, canonicalize(event))
    return opening.commitment(), opening


def verify_opening(leaf_data: bytes, opening: Opening) -> dict[str, Any]:
    """Check that ``opening`` opens the commitment ``leaf_data``; return the event.

    Raises:
        OpeningMismatchError: it does not (another event, salt or leaf).
    """
    if not isinstance(opening, Opening):
        raise TypeError("opening must be an Opening")
    if not secrets.compare_digest(bytes(leaf_data), opening.commitment()):
        raise OpeningMismatchError("the opening does not match the log leaf")
    return opening.event
