"""Compact JWS (RFC 7515 §7.1) signed and verified with ``did_vault.keys``.

Policy-free but strict, after the JWT BCP (RFC 8725):

- only ``EdDSA`` (RFC 8037, Ed25519) and ``ES256`` (RFC 7518 §3.4, P-256) are accepted,
  and the ``alg`` must be the one bound to the key's type: ``none``, HMAC and every
  other algorithm are refused before any key is looked at;
- a header with ``crit`` is refused (no extension is understood here);
- header and payload must be strict JSON objects: no duplicate members, no NaN;
- keys carried in the header (``jwk``, ``jku``, ``x5u``, ``x5c``…) are never used and
  never fetched: the caller always supplies the key.
"""

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring,
)
from typing import Any, Final, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from did_vault.errors import (
    InvalidEncodingError,
    InvalidKeyError,
    InvalidSignatureError,
    JWSAlgorithmMismatchError,
    MalformedJWSError,
    UnsupportedCriticalHeaderError,
    UnsupportedJWSAlgorithmError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.primitives import p256
from did_vault.primitives.b64 import b64url_encode as b64url_encode
from did_vault.primitives.b64 import b64url_encode_bytes as b64url_encode_bytes

EDDSA: Final = "EdDSA"
ES256: Final = "ES256"
ALLOWED_ALGORITHMS: Final = frozenset({EDDSA, ES256})
HEADER_KEY_PARAMETERS: Final = frozenset(
    {"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"}
)
"""Header parameters that carry or point to keys: ignored, never fetched."""


def _not_json(value: object) -> Any:
    raise TypeError(f"not a JSON value: {type(value).__name__}")


# The C encoder, built once without a circular-reference memo so that it keeps no
# state between calls (a cycle ends in RecursionError): about twice as fast as
# ``json.dumps`` for the small objects signed and hashed here.
_CHUNKS: Final = c_make_encoder(
    None, _not_json, encode_basestring, None, ":", ",", False, False, False
)


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (no spaces, members in order), as signed and hashed here.

    Raises:
        ValueError: NaN or an infinity; TypeError: a value JSON cannot hold.
        UnicodeEncodeError: a lone surrogate.
    """
    return "".join(_CHUNKS(value, 0)).encode("utf-8")


_TO_STANDARD: Final = bytes.maketrans(b"-_", b"+/")
_PADDING: Final = (b"", b"", b"==", b"=")
# The last character of a canonical encoding leaves no bits unused (RFC 4648 §3.5):
# 4 spare bits after 2 characters of a quantum, 2 after 3.
_CANONICAL_LAST: Final = (
    "",
    "",
    frozenset("AQgw"),
    frozenset("AEIMQUYcgkosw048"),
)


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url, as :func:`did_vault.primitives.b64.b64url_decode`.

    The same rules (alphabet, no padding, no impossible length, no trailing bits),
    checked in C: verification decodes a dozen segments per presentation.

    Raises:
        InvalidEncodingError: not canonical unpadded base64url.
    """
    if not isinstance(text, str):
        raise InvalidEncodingError("not unpadded base64url text")
    remainder = len(text) % 4
    if remainder == 1 or "=" in text or "+" in text or "/" in text:
        raise InvalidEncodingError("not unpadded base64url text")
    try:
        raw = text.encode("ascii")
        data = binascii.a2b_base64(
            (raw + _PADDING[remainder]).translate(_TO_STANDARD), strict_mode=True
        )
    except (binascii.Error, ValueError) as exc:
        raise InvalidEncodingError("not unpadded base64url text") from exc
    if remainder and text[-1] not in _CANONICAL_LAST[remainder]:
        raise InvalidEncodingError("non-canonical base64url (trailing bits set)")
    return data


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
)


_SCAN_ONCE: Final = _DECODER.scan_once  # type: ignore[attr-defined]


def decode_json(data: bytes | str) -> Any:
    """Strict JSON: UTF-8, no duplicate members, no NaN or infinities.

    Raises:
        ValueError: anything else (including nesting too deep for the decoder).
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        # The C scanner straight away when the text starts and ends with the value,
        # as every compact JOSE segment does; anything else (whitespace, trailing
        # data, errors) goes through the full decoder for its checks and messages.
        if text and text[0] in "{[":
            try:
                value, end = _SCAN_ONCE(text, 0)
            except StopIteration:
                pass
            else:
                if end == len(text):
                    return value
        return _DECODER.decode(text)
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from exc


def decode_json_object(segment: str, what: str) -> dict[str, Any]:
    """A base64url segment holding a strict JSON object.

    Raises:
        MalformedJWSError: bad base64url, not strict JSON, or not an object.
    """
    try:
        value = decode_json(b64url_decode(segment))
    except (InvalidEncodingError, ValueError) as exc:
        raise MalformedJWSError(
            f"the JWS {what} is not base64url JSON", part=what
        ) from exc
    if not isinstance(value, dict):
        raise MalformedJWSError(f"the JWS {what} is not a JSON object", part=what)
    return value


@dataclass(frozen=True, slots=True)
class CompactJWS:
    """A parsed compact JWS whose header passed the algorithm policy.

    Parsing does not verify: call :func:`verify_compact` with the expected key.
    """

    header: dict[str, Any]
    payload_segment: str
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    def payload_object(self) -> dict[str, Any]:
        """The payload as a strict JSON object.

        Raises:
            MalformedJWSError: not base64url JSON, or not an object.
        """
        return decode_json_object(self.payload_segment, "payload")


def check_header(header: Mapping[str, Any]) -> str:
    """Apply the header policy; return the ``alg``.

    Raises:
        MalformedJWSError: no ``alg`` string.
        UnsupportedJWSAlgorithmError: ``alg`` outside EdDSA / ES256.
        UnsupportedCriticalHeaderError: a ``crit`` parameter.
    """
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedJWSError("the JWS header has no alg", part="header")
    if alg not in ALLOWED_ALGORITHMS:
        raise UnsupportedJWSAlgorithmError(
            "the JWS algorithm is not allowed", alg=alg[:32]
        )
    if "crit" in header:
        raise UnsupportedCriticalHeaderError("critical JWS extensions are refused")
    return alg


def parse_compact(token: str) -> CompactJWS:
    """Split and decode a compact JWS and apply the header policy (no verification).

    Raises:
        MalformedJWSError: not three base64url segments, or a bad header.
        UnsupportedJWSAlgorithmError, UnsupportedCriticalHeaderError: as
            :func:`check_header`.
    """
    if not isinstance(token, str):
        raise MalformedJWSError("a compact JWS is a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedJWSError("a compact JWS has three segments")
    header_segment, payload_segment, signature_segment = parts
    header = decode_json_object(header_segment, "header")
    check_header(header)
    try:
        signature = b64url_decode(signature_segment)
    except InvalidEncodingError as exc:
        raise MalformedJWSError(
            "the JWS signature is not base64url", part="signature"
        ) from exc
    if not payload_segment or not signature:
        raise MalformedJWSError("the JWS payload or signature is empty")
    try:
        signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
    except UnicodeEncodeError as exc:  # pragma: no cover - base64url is ASCII
        raise MalformedJWSError("the JWS is not ASCII") from exc
    return CompactJWS(
        header=header,
        payload_segment=payload_segment,
        signing_input=signing_input,
        signature=signature,
    )


_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())
_P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class VerificationKey:
    """A public key loaded once for many JWS verifications.

    Loading a P-256 key from its compressed form costs about a third of a
    verification; holding the loaded key (as the SD-JWT verifier does per issuer
    and holder key) pays it once.
    """

    __slots__ = ("_ec", "_ed", "algorithm")

    def __init__(
        self,
        algorithm: KeyAlgorithm,
        *,
        ec_key: ec.EllipticCurvePublicKey | None = None,
        ed_key: Ed25519PublicKey | None = None,
    ) -> None:
        if (ec_key is None) == (ed_key is None):
            raise ValueError("give exactly one loaded key")
        self.algorithm = algorithm
        self._ec = ec_key
        self._ed = ed_key

    @classmethod
    def from_public_key(cls, key: PublicKey) -> Self:
        """Load a (validated) :class:`PublicKey`, reusing the handle it keeps."""
        handle = getattr(key, "_handle", None)
        if (
            isinstance(handle, Ed25519PublicKey)
            and key.algorithm is KeyAlgorithm.ED25519
        ):
            return cls(key.algorithm, ed_key=handle)
        if isinstance(handle, ec.EllipticCurvePublicKey) and (
            key.algorithm is KeyAlgorithm.P256
        ):
            return cls(key.algorithm, ec_key=handle)
        if key.algorithm is KeyAlgorithm.ED25519:
            return cls(
                key.algorithm, ed_key=Ed25519PublicKey.from_public_bytes(key.raw)
            )
        return cls(key.algorithm, ec_key=p256.load_public(key.raw))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> Self:
        """Load a public JWK with :meth:`PublicKey.from_jwk`'s checks.

        P-256 is loaded straight from its coordinates (on-curve checked by OpenSSL;
        the curve has no small subgroups); Ed25519 goes through ``PublicKey``, which
        refuses small-order points.

        Raises:
            InvalidKeyError, InvalidEncodingError, UnsupportedAlgorithmError: as
                :meth:`PublicKey.from_jwk`.
        """
        if not isinstance(jwk, Mapping):
            raise InvalidKeyError("a JWK must be a JSON object")
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            return cls.from_public_key(PublicKey.from_jwk(jwk))
        if "d" in jwk:
            raise InvalidKeyError("the JWK holds private key material ('d')")
        if jwk.get("alg", ES256) != ES256:
            raise InvalidKeyError("JWK 'alg' does not match its curve")
        x, y = jwk.get("x"), jwk.get("y")
        if not isinstance(x, str) or not isinstance(y, str):
            raise InvalidKeyError("JWK members 'x' and 'y' must be strings")
        point = b"\x04" + b64url_decode(x) + b64url_decode(y)
        if len(point) != p256.UNCOMPRESSED_SIZE:
            raise InvalidKeyError("P-256 coordinates must be 32 bytes each")
        try:
            loaded = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError as exc:
            raise InvalidKeyError("the P-256 JWK is not a curve point") from exc
        return cls(KeyAlgorithm.P256, ec_key=loaded)

    @property
    def jws_algorithm(self) -> str:
        return self.algorithm.jws_algorithm

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check an Ed25519 or ES256 (r || s) signature.

        Raises:
            InvalidSignatureError: it does not verify.
        """
        try:
            if self._ed is not None:
                self._ed.verify(signature, message)
                return
            if len(signature) == p256.SIGNATURE_SIZE:
                r = int.from_bytes(signature[:32], "big")
                s = int.from_bytes(signature[32:], "big")
                if 0 < r < _P256_ORDER and 0 < s < _P256_ORDER:
                    assert self._ec is not None  # one of the two, checked at init
                    self._ec.verify(encode_dss_signature(r, s), message, _ECDSA_SHA256)
                    return
        except InvalidSignature:
            pass
        raise InvalidSignatureError(
            "signature does not verify", algorithm=self.algorithm.value
        )


def verify_compact(jws: CompactJWS, key: PublicKey | VerificationKey) -> None:
    """Check the signature with ``key``; the ``alg`` must be the key type's.

    Raises:
        JWSAlgorithmMismatchError: e.g. ``ES256`` with an Ed25519 key.
        InvalidSignatureError: the signature does not verify.
    """
    if jws.alg != key.algorithm.jws_algorithm:
        raise JWSAlgorithmMismatchError(
            "the JWS algorithm is not the one bound to the key type",
            alg=jws.alg,
            key_type=key.algorithm.value,
        )
    key.verify(jws.signature, jws.signing_input)


def encode_segment(value: Mapping[str, Any]) -> str:
    """base64url of the compact JSON of ``value``."""
    return b64url_encode(encode_json(value))


def encode_header(header: Mapping[str, Any], key: PrivateKey) -> str:
    """The protected header segment ``key`` signs under, ``alg`` first.

    Encode it once to sign many JWS with one header (:func:`sign_encoded`).

    Raises:
        ValueError: the header names another ``alg``, or has ``crit``.
    """
    alg = key.algorithm.jws_algorithm
    if header.get("alg", alg) != alg:
        raise ValueError(f"this key signs {alg}, not {header['alg']!r}")
    if "crit" in header:
        raise ValueError("crit is not supported")
    full_header = {"alg": alg, **{k: v for k, v in header.items() if k != "alg"}}
    return encode_segment(full_header)


def sign_encoded(
    header_segment: str, payload: Mapping[str, Any] | bytes, key: PrivateKey
) -> str:
    """Sign a compact JWS under a header from :func:`encode_header` with this key."""
    payload_bytes = payload if isinstance(payload, bytes) else encode_json(payload)
    signing_input = (
        header_segment.encode("ascii") + b"." + b64url_encode_bytes(payload_bytes)
    )
    signature = b64url_encode_bytes(key.sign(signing_input))
    return (signing_input + b"." + signature).decode("ascii")


def sign_compact(
    header: Mapping[str, Any], payload: Mapping[str, Any] | bytes, key: PrivateKey
) -> str:
    """Sign a compact JWS; ``alg`` is set from the key (a different one is refused).

    The header's members keep their order, with ``alg`` first.

    Raises:
        ValueError: the header names another ``alg``, or has ``crit``.
    """
    return sign_encoded(encode_header(header, key), payload, key)
