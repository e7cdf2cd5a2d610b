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

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from did_vault.errors import (
    InvalidEncodingError,
    JWSAlgorithmMismatchError,
    MalformedJWSError,
    UnsupportedCriticalHeaderError,
    UnsupportedJWSAlgorithmError,
)
from did_vault.keys import PrivateKey, PublicKey
from did_vault.primitives.b64 import b64url_decode, b64url_encode

EDDSA: Final = "EdDSA"
ES256: Final = "ES256"
ALLOWED_ALGORITHMS: Final = frozenset({EDDSA, ES256})
HEADER_KEY_PARAMETERS: Final = frozenset(
    {"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"}
)
"""Header parameters that carry or point to keys: ignored, never fetched."""

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":")
).encode


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (no spaces), as signed and as hashed here.

    Raises:
        ValueError: NaN or an infinity; TypeError: a value JSON cannot hold.
    """
    return _ENCODER(value).encode("utf-8")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(data: bytes | str) -> Any:
    """Strict JSON: UTF-8, no duplicate members, no NaN or infinities.

    Raises:
        ValueError: anything else (including nesting too deep for the decoder).
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
        )
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


def verify_compact(jws: CompactJWS, key: PublicKey) -> None:
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


def sign_compact(
    header: Mapping[str, Any], payload: Mapping[str, Any] | bytes, key: PrivateKey
) -> str:
    """Sign a compact JWS; ``alg`` is set from the key (a different one is refused).

    The header's members keep their order, with ``alg`` first.

    Raises:
        ValueError: the header names another ``alg``, or has ``crit``.
    """
    alg = key.algorithm.jws_algorithm
    if header.get("alg", alg) != alg:
        raise ValueError(f"this key signs {alg}, not {header['alg']!r}")
    if "crit" in header:
        raise ValueError("crit is not supported")
    full_header = {"alg": alg, **{k: v for k, v in header.items() if k != "alg"}}
    payload_bytes = payload if isinstance(payload, bytes) else encode_json(payload)
    signing_input = f"{encode_segment(full_header)}.{b64url_encode(payload_bytes)}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"
