"""One-time claim codes for transfer offers made before the buyer's DID is known.

A seller who sells to someone without a wallet yet (a marketplace sale, a gift)
offers the item to a claim code instead of a DID: the offer carries only the code's
digest (``claimCodeDigest``), the seller hands the code itself to the buyer (on
paper, in a message), and whoever accepts the offer with the code becomes the buyer.
The offer can be accepted once, so the code is spent with it.

A code is 125 random bits in RFC 4648 base32 (``A`` to ``Z``, ``2`` to ``7``), 25
characters written in five groups of five: ``K7QXM-3RT2A-…``. Typing is forgiving:
case, spaces and dashes are ignored, so the code printed by the seller and the code
typed by the buyer normalise to the same text.

The digest is a multibase (``u``, base64url) SHA-256 multihash over
``"did-vault/claim-code/v1" ‖ 0x00 ‖ nonce ‖ 0x00 ‖ code``: the offer's nonce salts
it, so equal codes in two offers have unrelated digests, and the domain prefix keeps
it apart from every other digest in the system.
"""

import base64
import hashlib
import hmac
import secrets

from did_vault.errors import InvalidEncodingError

CLAIM_CODE_LENGTH = 25
CLAIM_CODE_GROUP = 5
CLAIM_CODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_DOMAIN = b"did-vault/claim-code/v1"
_SHA256_MULTIHASH_PREFIX = b"\x12\x20"
_RANDOM_BYTES = 16  # 128 bits drawn, the first 125 kept (25 base32 characters)


def new_claim_code() -> str:
    """A fresh claim code in its printed form (five dash-separated groups)."""
    text = base64.b32encode(secrets.token_bytes(_RANDOM_BYTES)).decode("ascii")
    return format_claim_code(text[:CLAIM_CODE_LENGTH])


def format_claim_code(code: str) -> str:
    """``code`` (any accepted spelling) in its printed form, ``XXXXX-XXXXX-…``.

    Raises:
        InvalidEncodingError: not a claim code.
    """
    plain = normalize_claim_code(code)
    return "-".join(
        plain[start : start + CLAIM_CODE_GROUP]
        for start in range(0, CLAIM_CODE_LENGTH, CLAIM_CODE_GROUP)
    )


def normalize_claim_code(code: str) -> str:
    """The 25 characters of ``code``, upper-case, without spaces or dashes.

    Raises:
        InvalidEncodingError: not 25 characters of the base32 alphabet once spaces
            and dashes are removed.
    """
    plain = "".join(code.split()).replace("-", "").upper()
    if len(plain) != CLAIM_CODE_LENGTH or not set(plain) <= CLAIM_CODE_ALPHABET:
        raise InvalidEncodingError(
            "a claim code is 25 characters A to Z and 2 to 7, in groups of five "
            "separated by dashes"
        )
    return plain


def claim_code_digest(code: str, *, nonce: str) -> str:
    """The ``claimCodeDigest`` of ``code`` in the offer with ``nonce``.

    Raises:
        InvalidEncodingError: ``code`` is not a claim code.
    """
    message = b"\x00".join(
        (_DOMAIN, nonce.encode("utf-8"), normalize_claim_code(code).encode("ascii"))
    )
    multihash = _SHA256_MULTIHASH_PREFIX + hashlib.sha256(message).digest()
    return "u" + base64.urlsafe_b64encode(multihash).rstrip(b"=").decode("ascii")


def claim_code_matches(code: str, *, nonce: str, digest: str) -> bool:
    """Whether ``code`` is the one whose digest the offer with ``nonce`` carries
    (constant-time on the digests; a malformed code does not match)."""
    try:
        candidate = claim_code_digest(code, nonce=nonce)
    except InvalidEncodingError:
        return False
    return hmac.compare_digest(candidate.encode("ascii"), digest.encode("ascii"))
