"""SD-JWT Disclosures and their digests (RFC 9901 §4.2).

A Disclosure is the base64url of the JSON array ``[salt, name, value]`` (an object
property) or ``[salt, value]`` (an array element). Its digest is taken over the
US-ASCII bytes of the base64url string exactly as created or received (§4.2.3), never
over a re-encoding: two encodings of the same array are two different Disclosures.
"""

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Self

from did_vault.errors import (
    InvalidDisclosureError,
    InvalidEncodingError,
    ReservedClaimNameError,
    UnsupportedDigestAlgorithmError,
)
from did_vault.primitives.jws import (
    b64url_decode,
    b64url_encode,
    decode_json,
    encode_json,
)

SD_DIGESTS_KEY: Final = "_sd"
ARRAY_DIGEST_KEY: Final = "..."
SD_ALG_KEY: Final = "_sd_alg"
DEFAULT_SD_ALG: Final = "sha-256"
RESERVED_CLAIM_NAMES: Final = frozenset({SD_DIGESTS_KEY, ARRAY_DIGEST_KEY})
SALT_BYTES: Final = 16
"""128 bits of salt (§9.3 RECOMMENDS at least 128)."""

_HASHES: Final = {"sha-256": hashlib.sha256}

SaltSource = Callable[[], str]
"""Returns a fresh salt string; the default draws 128 bits from ``secrets``."""

ClaimPath = tuple[str | int, ...]
"""A claim's path: object keys and array indices (as OpenID4VP DCQL claim paths)."""


def random_salt() -> str:
    """128 bits from ``secrets`` (the OS CSPRNG), base64url (22 characters)."""
    return b64url_encode(secrets.token_bytes(SALT_BYTES))


def hash_function(alg: str) -> Callable[[bytes], Any]:
    """The hash constructor for an ``_sd_alg`` name.

    Raises:
        UnsupportedDigestAlgorithmError: any name other than ``sha-256``.
    """
    function = _HASHES.get(alg) if isinstance(alg, str) else None
    if function is None:
        raise UnsupportedDigestAlgorithmError(
            "the _sd_alg is not supported", sd_alg=str(alg)[:32]
        )
    return function


def digest_of(text: str, alg: str = DEFAULT_SD_ALG) -> str:
    """base64url(hash(ASCII bytes of ``text``)): a Disclosure's digest, or ``sd_hash``.

    Raises:
        UnsupportedDigestAlgorithmError: ``alg`` is not supported.
    """
    if alg == DEFAULT_SD_ALG:
        return b64url_encode(hashlib.sha256(text.encode("ascii")).digest())
    return b64url_encode(hash_function(alg)(text.encode("ascii")).digest())


def decoy_digest(
    alg: str = DEFAULT_SD_ALG, *, salt_source: SaltSource = random_salt
) -> str:
    """A digest of a random value, indistinguishable from a Disclosure's (§4.2.5)."""
    return digest_of(salt_source(), alg)


@dataclass(frozen=True, slots=True, eq=True)
class Disclosure:
    """One Disclosure: ``name`` is None for an array element.

    ``encoded`` is the exact string the digest is computed over.
    """

    salt: str
    name: str | None
    value: Any
    encoded: str

    @classmethod
    def create(cls, *, salt: str, name: str | None, value: Any) -> Self:
        """Encode a new Disclosure (compact JSON, UTF-8).

        Raises:
            ValueError: a reserved name (``_sd``, ``...``) or a value JSON cannot hold.
        """
        if not isinstance(salt, str) or not salt:
            raise ValueError("the salt must be a non-empty string")
        if name is not None and name in RESERVED_CLAIM_NAMES:
            raise ValueError(f"{name!r} is a reserved claim name")
        array = [salt, value] if name is None else [salt, name, value]
        return cls(salt, name, value, b64url_encode(encode_json(array)))

    @classmethod
    def parse(cls, encoded: str) -> Self:
        """Decode a received Disclosure, keeping the string as received.

        Raises:
            InvalidDisclosureError: not base64url of strict JSON, not an array of two
                or three elements, or a salt or name that is not a string.
            ReservedClaimNameError: the name is ``_sd`` or ``...``.
        """
        if not isinstance(encoded, str):
            raise InvalidDisclosureError("a Disclosure is a string")
        try:
            array = decode_json(b64url_decode(encoded))
        except (InvalidEncodingError, ValueError) as exc:
            raise InvalidDisclosureError("a Disclosure is base64url JSON") from exc
        if not isinstance(array, list) or len(array) not in (2, 3):
            raise InvalidDisclosureError(
                "a Disclosure is a JSON array of two or three elements"
            )
        salt = array[0]
        if not isinstance(salt, str):
            raise InvalidDisclosureError("the Disclosure's salt is not a string")
        if len(array) == 2:
            return cls(salt, None, array[1], encoded)
        name = array[1]
        if not isinstance(name, str):
            raise InvalidDisclosureError("the Disclosure's claim name is not a string")
        if name in RESERVED_CLAIM_NAMES:
            raise ReservedClaimNameError(
                "the Disclosure uses a reserved claim name", name=name
            )
        return cls(salt, name, array[2], encoded)

    @property
    def is_array_element(self) -> bool:
        return self.name is None

    def digest(self, alg: str = DEFAULT_SD_ALG) -> str:
        """The digest of the encoded string (§4.2.3).

        Raises:
            UnsupportedDigestAlgorithmError: ``alg`` is not supported.
        """
        return digest_of(self.encoded, alg)

    def __repr__(self) -> str:
        # The value and salt are the holder's data: keep them out of logs by default.
        kind = "array element" if self.name is None else repr(self.name)
        return f"Disclosure({kind}, digest={self.digest()})"
