"""Signing keys: Ed25519 and P-256, with Multikey and JWK encodings both ways.

Multikey is the W3C Controlled Identifiers encoding (multicodec + multibase base58btc);
JWK is RFC 7517 with the OKP (RFC 8037) and EC (RFC 7518 §6.2) key types. A private key
never shows in ``repr``, ``str`` or in an error: only its public half does.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Self

from did_vault.errors import (
    InvalidEncodingError,
    InvalidKeyError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
)
from did_vault.primitives import ed25519, p256
from did_vault.primitives.b64 import b64url_decode, b64url_encode
from did_vault.primitives.multikey import (
    ED25519_PRIV,
    ED25519_PUB,
    P256_PRIV,
    P256_PUB,
    X25519_PUB,
    decode_multikey,
    encode_multikey,
)

VerifyBackend = Literal["cryptography", "sodium"]

DEFAULT_VERIFY_BACKEND: VerifyBackend = "sodium"
"""The Ed25519 verification backend when a call names none: libsodium (PyNaCl),
about twice as fast here as OpenSSL through ``cryptography`` (``python -m
bench.keys``). Both implement RFC 8032 verification and agree on every honest
signature; libsodium is the stricter (it also refuses a small-order ``R``). Keys are
validated with libsodium either way. The test suite runs the signature vectors and
the Data Integrity vectors under both backends."""

_PRIVATE_CODECS = {0x1300, 0x1301, 0x1302, 0x1306, 0x1307, 0x1308}


class KeyAlgorithm(StrEnum):
    """The key types did_vault signs with."""

    ED25519 = "Ed25519"
    P256 = "P-256"

    @property
    def jws_algorithm(self) -> str:
        """The JOSE ``alg`` (RFC 8037 ``EdDSA``, RFC 7518 ``ES256``)."""
        return "EdDSA" if self is KeyAlgorithm.ED25519 else "ES256"

    @property
    def public_codec(self) -> int:
        return ED25519_PUB if self is KeyAlgorithm.ED25519 else P256_PUB

    @property
    def private_codec(self) -> int:
        return ED25519_PRIV if self is KeyAlgorithm.ED25519 else P256_PRIV


def _algorithm(value: str) -> KeyAlgorithm:
    try:
        return KeyAlgorithm(value)
    except ValueError as exc:
        raise UnsupportedAlgorithmError(
            "key algorithm not supported", algorithm=str(value)
        ) from exc


_P256_OFF_CURVE = "the P-256 public key is not a curve point"
_BY_PUBLIC_CODEC = {alg.public_codec: alg for alg in KeyAlgorithm}
_BY_PRIVATE_CODEC = {alg.private_codec: alg for alg in KeyAlgorithm}


def _split_multikey(text: str, *, private: bool) -> tuple[KeyAlgorithm, bytes]:
    if not isinstance(text, str):
        raise InvalidKeyError("a Multikey value must be a string")
    codec, raw = decode_multikey(text)
    table = _BY_PRIVATE_CODEC if private else _BY_PUBLIC_CODEC
    if codec in table:
        return table[codec], raw
    wanted, other = ("private", "public") if private else ("public", "private")
    if (codec in _PRIVATE_CODECS) != private:
        raise InvalidKeyError(
            f"expected a {wanted} key but the Multikey holds a {other} key",
            multicodec=hex(codec),
        )
    raise UnsupportedAlgorithmError(
        "the Multikey's key type is not supported", multicodec=hex(codec)
    )


def _jwk_member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKeyError(f"JWK member '{name}' is missing or not a string")
    return b64url_decode(value)


def _jwk_algorithm(jwk: Mapping[str, Any]) -> KeyAlgorithm:
    if not isinstance(jwk, Mapping):
        raise InvalidKeyError("a JWK must be a JSON object")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        algorithm = KeyAlgorithm.ED25519
    elif kty == "EC" and crv == "P-256":
        algorithm = KeyAlgorithm.P256
    elif kty in ("OKP", "EC", "RSA", "oct"):
        raise UnsupportedAlgorithmError(
            "JWK key type or curve not supported", kty=str(kty), crv=str(crv)
        )
    else:
        raise InvalidKeyError("JWK 'kty' is missing or unknown")
    alg = jwk.get("alg")
    if alg is not None and alg != algorithm.jws_algorithm:
        raise InvalidKeyError(
            "JWK 'alg' does not match its curve", alg=str(alg), crv=str(crv)
        )
    return algorithm


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public key, validated on construction (length and curve membership).

    ``raw`` is the 32-byte Ed25519 key or the 33-byte compressed P-256 point.
    """

    algorithm: KeyAlgorithm
    raw: bytes
    # The loaded cryptography key, kept so that each verify does not re-load it.
    _handle: Any = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "algorithm", _algorithm(self.algorithm))
        if self.algorithm is KeyAlgorithm.ED25519:
            if len(self.raw) != ed25519.PUBLIC_KEY_SIZE:
                raise InvalidKeyError(
                    "an Ed25519 public key is 32 bytes", length=len(self.raw)
                )
            if not ed25519.is_valid_public_key(self.raw):
                # The slower pure-Python check only runs to say why the key is bad.
                if not ed25519.is_on_curve(self.raw):
                    raise InvalidKeyError("the Ed25519 public key is not a curve point")
                raise InvalidKeyError(
                    "the Ed25519 public key is a small-order or mixed-order point"
                )
        else:
            if len(self.raw) != p256.COMPRESSED_SIZE:
                raise InvalidKeyError(
                    "a compressed P-256 public key is 33 bytes", length=len(self.raw)
                )
            try:
                handle: Any = p256.load_public(self.raw)
            except ValueError as exc:
                raise InvalidKeyError(_P256_OFF_CURVE) from exc
            object.__setattr__(self, "_handle", handle)
            return
        object.__setattr__(self, "_handle", ed25519.load_public(self.raw))

    @classmethod
    def from_raw(cls, algorithm: KeyAlgorithm, raw: bytes) -> Self:
        """Build from raw bytes; P-256 accepts compressed or uncompressed points.

        Raises:
            InvalidKeyError: wrong length or not a point on the curve.
        """
        if algorithm is KeyAlgorithm.P256 and len(raw) == p256.UNCOMPRESSED_SIZE:
            try:
                raw = p256.compress(raw)
            except ValueError as exc:
                raise InvalidKeyError(_P256_OFF_CURVE) from exc
        return cls(algorithm, raw)

    @classmethod
    def from_multikey(cls, text: str) -> Self:
        """Parse a ``publicKeyMultibase`` value.

        Raises:
            InvalidEncodingError: not multibase base58btc or a bad varint.
            InvalidKeyError: a private key, or wrong length / off-curve bytes.
            UnsupportedAlgorithmError: a key type other than Ed25519 or P-256.
        """
        algorithm, raw = _split_multikey(text, private=False)
        return cls(algorithm, raw)

    def to_multikey(self) -> str:
        """The ``publicKeyMultibase`` value (``z6Mk…`` Ed25519, ``zDn…`` P-256)."""
        return encode_multikey(self.algorithm.public_codec, self.raw)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> Self:
        """Parse a public JWK.

        Raises:
            InvalidKeyError: missing members, private material (``d``), bad key bytes.
            InvalidEncodingError: a member that is not unpadded base64url.
            UnsupportedAlgorithmError: another key type or curve.
        """
        algorithm = _jwk_algorithm(jwk)
        if "d" in jwk:
            raise InvalidKeyError("the JWK holds private key material ('d')")
        x = _jwk_member(jwk, "x")
        if algorithm is KeyAlgorithm.ED25519:
            return cls(algorithm, x)
        y = _jwk_member(jwk, "y")
        try:
            return cls(algorithm, p256.from_coordinates(x, y))
        except ValueError as exc:
            raise InvalidKeyError("the P-256 JWK is not a curve point") from exc

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (RFC 7638 member order; no ``alg``, ``kid`` or ``use``)."""
        if self.algorithm is KeyAlgorithm.ED25519:
            return {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(self.raw)}
        x, y = p256.coordinates(self.raw)
        return {
            "crv": "P-256",
            "kty": "EC",
            "x": b64url_encode(x),
            "y": b64url_encode(y),
        }

    def jwk_thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        canonical = json.dumps(self.to_jwk(), separators=(",", ":"), sort_keys=True)
        return b64url_encode(hashlib.sha256(canonical.encode()).digest())

    def to_x25519_multikey(self) -> str:
        """The X25519 key-agreement key derived from an Ed25519 key, as Multikey.

        Raises:
            UnsupportedAlgorithmError: the key is not Ed25519.
        """
        if self.algorithm is not KeyAlgorithm.ED25519:
            raise UnsupportedAlgorithmError("only Ed25519 keys map to X25519")
        return encode_multikey(X25519_PUB, ed25519.to_x25519_public(self.raw))

    def verify(
        self,
        signature: bytes,
        message: bytes,
        *,
        backend: VerifyBackend | None = None,
    ) -> None:
        """Check a signature (Ed25519, or ES256 as r || s); return None if valid.

        Ed25519 is verified through ``backend``, by default
        :data:`DEFAULT_VERIFY_BACKEND` (libsodium); ``"cryptography"`` uses OpenSSL.
        P-256 always uses ``cryptography``.

        Raises:
            InvalidSignatureError: the signature does not verify.
        """
        if backend is None:
            backend = DEFAULT_VERIFY_BACKEND
        if backend not in ("cryptography", "sodium"):
            raise ValueError(f"unknown verify backend {backend!r}")
        if self.algorithm is KeyAlgorithm.ED25519:
            ok = ed25519.verify_with(
                self._handle, self.raw, signature, message, backend=backend
            )
        else:
            ok = p256.verify_with(self._handle, signature, message)
        if not ok:
            raise InvalidSignatureError(
                "signature does not verify", algorithm=self.algorithm.value
            )

    def __repr__(self) -> str:
        return f"PublicKey({self.algorithm.value}, {self.to_multikey()})"


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """A private signing key. Its secret never appears in ``repr`` or errors."""

    algorithm: KeyAlgorithm
    secret: bytes = field(repr=False)
    public_key: PublicKey = field(init=False, repr=False, compare=False)
    # The loaded cryptography key, kept so that each signature does not re-derive it.
    _handle: Any = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "algorithm", _algorithm(self.algorithm))
        if len(self.secret) != 32:
            raise InvalidKeyError(
                f"an {self.algorithm.value} private key is 32 bytes",
                length=len(self.secret),
            )
        try:
            if self.algorithm is KeyAlgorithm.ED25519:
                handle: Any = ed25519.load_private(self.secret)
                raw = ed25519.public_from_seed(self.secret)
            else:
                handle = p256.load_private(self.secret)
                raw = p256.public_from_scalar(self.secret)
        except ValueError as exc:
            raise InvalidKeyError(
                f"not a valid {self.algorithm.value} private key"
            ) from exc
        object.__setattr__(self, "public_key", PublicKey(self.algorithm, raw))
        object.__setattr__(self, "_handle", handle)

    @classmethod
    def generate(cls, algorithm: KeyAlgorithm = KeyAlgorithm.ED25519) -> Self:
        """A fresh key from the operating system's CSPRNG."""
        if algorithm is KeyAlgorithm.ED25519:
            return cls(algorithm, ed25519.generate_seed())
        return cls(algorithm, p256.generate_scalar())

    @classmethod
    def from_multikey(cls, text: str) -> Self:
        """Parse a ``secretKeyMultibase`` value.

        Raises:
            InvalidEncodingError: not multibase base58btc or a bad varint.
            InvalidKeyError: a public key, or wrong length / out-of-range secret.
            UnsupportedAlgorithmError: a key type other than Ed25519 or P-256.
        """
        algorithm, raw = _split_multikey(text, private=True)
        return cls(algorithm, raw)

    def to_multikey(self) -> str:
        """The ``secretKeyMultibase`` value. Handle with care: it is the secret."""
        return encode_multikey(self.algorithm.private_codec, self.secret)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> Self:
        """Parse a private JWK (with ``d``); the public members must match it.

        Raises:
            InvalidKeyError: no ``d``, bad lengths, or public members that don't match.
            InvalidEncodingError: a member that is not unpadded base64url.
            UnsupportedAlgorithmError: another key type or curve.
        """
        algorithm = _jwk_algorithm(jwk)
        try:
            d = _jwk_member(jwk, "d")
        except InvalidEncodingError as exc:
            raise InvalidKeyError("JWK member 'd' is not base64url") from exc
        key = cls(algorithm, d)
        public_members = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y")}
        if PublicKey.from_jwk(public_members) != key.public_key:
            raise InvalidKeyError("the JWK's public members do not match its 'd'")
        return key

    def to_jwk(self) -> dict[str, str]:
        """The private JWK, public members plus ``d``. Handle with care."""
        return {**self.public_key.to_jwk(), "d": b64url_encode(self.secret)}

    def sign(self, message: bytes) -> bytes:
        """Sign: 64-byte Ed25519 or ES256 (r || s) signature."""
        if self.algorithm is KeyAlgorithm.ED25519:
            return bytes(self._handle.sign(message))
        return p256.sign_with(self._handle, message)

    def x25519_secret(self) -> bytes:
        """The X25519 private scalar matching an Ed25519 key (for key agreement).

        Raises:
            UnsupportedAlgorithmError: the key is not Ed25519.
        """
        if self.algorithm is not KeyAlgorithm.ED25519:
            raise UnsupportedAlgorithmError("only Ed25519 keys map to X25519")
        return ed25519.to_x25519_private(self.secret)

    def __repr__(self) -> str:
        public = self.public_key.to_multikey()
        return f"PrivateKey({self.algorithm.value}, public={public})"

    __str__ = __repr__
