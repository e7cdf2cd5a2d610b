"""ECDSA over NIST P-256 with SHA-256 (FIPS 186-5), over ``cryptography``.

Signatures are the 64-byte IEEE P1363 form r || s used by JOSE ES256 (RFC 7518 §3.4)
and the Data Integrity ECDSA suites; public keys travel compressed (SEC 1 §2.3.3).
"""

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

COMPRESSED_SIZE = 33
UNCOMPRESSED_SIZE = 65
SCALAR_SIZE = 32
SIGNATURE_SIZE = 64
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def generate_scalar() -> bytes:
    """A fresh 32-byte private scalar."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_numbers().private_value.to_bytes(SCALAR_SIZE, "big")


def _private(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    value = int.from_bytes(scalar, "big")
    if len(scalar) != SCALAR_SIZE or not 0 < value < _ORDER:
        raise ValueError("P-256 private scalar out of range")
    return ec.derive_private_key(value, ec.SECP256R1())


def load_private(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    """A reusable signing handle (deriving it costs ~20 µs; do it once per key)."""
    return _private(scalar)


def sign_with(handle: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """An ES256 signature, r || s, with a pre-loaded handle."""
    r, s = decode_dss_signature(handle.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_with(
    handle: ec.EllipticCurvePublicKey, signature: bytes, message: bytes
) -> bool:
    """``verify`` with a pre-loaded public key handle."""
    if len(signature) != SIGNATURE_SIZE:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < _ORDER and 0 < s < _ORDER):
        return False
    try:
        handle.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def public_from_scalar(scalar: bytes) -> bytes:
    """The compressed (33-byte) public point of a private scalar."""
    return (
        _private(scalar)
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    )


def load_public(point: bytes) -> ec.EllipticCurvePublicKey:
    """Load a compressed or uncompressed SEC 1 point; ValueError if not on the curve."""
    if len(point) not in (COMPRESSED_SIZE, UNCOMPRESSED_SIZE):
        raise ValueError("P-256 point has the wrong length")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def compress(point: bytes) -> bytes:
    """Normalise any valid SEC 1 point to its compressed form."""
    return load_public(point).public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def coordinates(point: bytes) -> tuple[bytes, bytes]:
    """The (x, y) affine coordinates of a point, 32 bytes each, big-endian."""
    numbers = load_public(point).public_numbers()
    return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")


def from_coordinates(x: bytes, y: bytes) -> bytes:
    """The compressed point of (x, y); ValueError if not on the curve."""
    if len(x) != 32 or len(y) != 32:
        raise ValueError("P-256 coordinates must be 32 bytes each")
    return compress(b"\x04" + x + y)


def sign(scalar: bytes, message: bytes) -> bytes:
    """An ES256 signature, r || s, 64 bytes."""
    der = _private(scalar).sign(message, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(point: bytes, signature: bytes, message: bytes) -> bool:
    """True if ``signature`` (r || s) is valid for ``message`` under ``point``."""
    if len(signature) != SIGNATURE_SIZE:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < _ORDER and 0 < s < _ORDER):
        return False
    try:
        load_public(point).verify(
            encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError):
        return False
    return True
