"""Ed25519 (RFC 8032) over ``cryptography``, with an optional libsodium verify backend.

Also the birational map from an Ed25519 public key to its X25519 public key
(RFC 7748 §4.1, u = (1 + y) / (1 - y) mod p), which did:key uses to derive the
``keyAgreement`` key, and RFC 8032 point decoding to reject off-curve keys on import.
"""

import hashlib
from typing import Literal

import nacl.bindings
import nacl.exceptions
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
SIGNATURE_SIZE = 64

Backend = Literal["cryptography", "sodium"]

_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def generate_seed() -> bytes:
    """A fresh 32-byte private key seed from the OS CSPRNG."""
    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )


def public_from_seed(seed: bytes) -> bytes:
    """The 32-byte public key of a seed."""
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def sign(seed: bytes, message: bytes) -> bytes:
    """A 64-byte Ed25519 signature (deterministic, RFC 8032 §5.1.6)."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def load_private(seed: bytes) -> Ed25519PrivateKey:
    """A reusable signing handle for a seed (saves re-loading it per signature)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_public(public: bytes) -> Ed25519PublicKey:
    """A reusable verification handle for a 32-byte public key."""
    return Ed25519PublicKey.from_public_bytes(public)


def verify_with(
    handle: Ed25519PublicKey,
    public: bytes,
    signature: bytes,
    message: bytes,
    *,
    backend: Backend = "cryptography",
) -> bool:
    """``verify`` with a pre-loaded handle (the cryptography backend uses it)."""
    if backend == "sodium":
        return verify(public, signature, message, backend="sodium")
    if len(signature) != SIGNATURE_SIZE:
        return False
    try:
        handle.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify(
    public: bytes,
    signature: bytes,
    message: bytes,
    *,
    backend: Backend = "cryptography",
) -> bool:
    """True if the signature is valid. Both backends implement RFC 8032 verification."""
    if len(signature) != SIGNATURE_SIZE or len(public) != PUBLIC_KEY_SIZE:
        return False
    if backend == "sodium":
        try:
            nacl.bindings.crypto_sign_open(signature + message, public)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
            return False
        return True
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _decode_y(public: bytes) -> tuple[int, int] | None:
    if len(public) != PUBLIC_KEY_SIZE:
        return None
    value = int.from_bytes(public, "little")
    sign_bit, y = value >> 255, value & ((1 << 255) - 1)
    if y >= _P:
        return None
    return y, sign_bit


def is_on_curve(public: bytes) -> bool:
    """True if the bytes decode to a point of edwards25519 (RFC 8032 §5.1.3)."""
    return _decompress(public) is not None


def _decompress(public: bytes) -> tuple[int, int] | None:
    decoded = _decode_y(public)
    if decoded is None:
        return None
    y, sign_bit = decoded
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    vx2 = (v * x * x) % _P
    if vx2 == u % _P:
        pass
    elif vx2 == (-u) % _P:
        x = (x * _SQRT_M1) % _P
    else:
        return None
    if x == 0 and sign_bit == 1:
        return None
    if x & 1 != sign_bit:
        x = _P - x
    return x, y


def is_valid_public_key(public: bytes) -> bool:
    """True for a canonical encoding of a point of prime order (the main subgroup).

    This refuses off-curve bytes, non-canonical encodings and the small-order points
    (the identity and the torsion points), which would let one signature verify for
    many messages under OpenSSL's cofactorless check. libsodium's check does all of
    it in one call, about 20x faster than the pure-Python point arithmetic would.
    """
    if len(public) != PUBLIC_KEY_SIZE:
        return False
    return bool(nacl.bindings.crypto_core_ed25519_is_valid_point(public))


def to_x25519_public(public: bytes) -> bytes:
    """Map an Ed25519 public key to its X25519 (Montgomery u) public key."""
    decoded = _decode_y(public)
    if decoded is None:
        raise ValueError("not an Ed25519 public key")
    y, _ = decoded
    denominator = (1 - y) % _P
    if denominator == 0:
        raise ValueError("Ed25519 key has no X25519 equivalent")
    u = ((1 + y) * pow(denominator, _P - 2, _P)) % _P
    return u.to_bytes(32, "little")


def to_x25519_private(seed: bytes) -> bytes:
    """The X25519 private scalar matching an Ed25519 seed (RFC 8032 §5.1.5 step 1-2)."""
    digest = bytearray(hashlib.sha512(seed).digest()[:32])
    digest[0] &= 248
    digest[31] &= 127
    digest[31] |= 64
    return bytes(digest)
