"""The Holder's side of SD-JWT (RFC 9901 §4, §7.2, §8): parse, choose, bind.

- :class:`SDJWT` parses the compact serialization (``<JWT>~<D1>~…~<Dn>~`` with an
  optional trailing KB-JWT) and resolves every disclosable claim for the holder.
- :func:`present` keeps the Disclosures the chosen claim paths need (with the parent
  Disclosures a nested claim sits in) and appends a Key Binding JWT (``typ``
  ``kb+jwt``, ``iat``, ``aud``, ``nonce``, ``sd_hash`` over the exact string sent).
- :func:`to_json` / :func:`from_json`: the JWS JSON serializations (§8, flattened and
  general), with ``disclosures`` and ``kb_jwt`` in the (first) unprotected header.

Parsing does not verify the issuer's signature: that is the verifier's job.
"""

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Self

from did_vault.errors import (
    DuplicateDigestError,
    InvalidEncodingError,
    MalformedJWSError,
    MalformedSDJWTError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.primitives.jws import (
    CompactJWS,
    b64url_decode,
    b64url_encode,
    decode_json,
    encode_segment,
    parse_compact,
    sign_encoded,
)
from did_vault.sd_jwt._tree import Resolution, resolve
from did_vault.sd_jwt.disclosure import (
    DEFAULT_SD_ALG,
    SD_ALG_KEY,
    ClaimPath,
    Disclosure,
    digest_of,
    hash_function,
)

SEPARATOR: Final = "~"
KB_JWT_TYP: Final = "kb+jwt"
DISCLOSURES_HEADER: Final = "disclosures"
KB_JWT_HEADER: Final = "kb_jwt"
_KB_HEADER_SEGMENTS: Final = MappingProxyType(
    {
        algorithm: encode_segment({"alg": algorithm.jws_algorithm, "typ": KB_JWT_TYP})
        for algorithm in KeyAlgorithm
    }
)


def split_compact(text: str) -> tuple[str, list[str], str | None]:
    """``(issuer JWT, Disclosure strings, KB-JWT or None)`` of a compact SD-JWT[+KB].

    Raises:
        MalformedSDJWTError: no ``~``, or an empty Disclosure (``~~``).
    """
    if not isinstance(text, str):
        raise MalformedSDJWTError("an SD-JWT is a string")
    parts = text.split(SEPARATOR)
    if len(parts) < 2:
        raise MalformedSDJWTError("an SD-JWT ends with '~' or a Key Binding JWT")
    issuer_jwt, disclosures, last = parts[0], parts[1:-1], parts[-1]
    if "" in disclosures:
        raise MalformedSDJWTError("an SD-JWT has an empty Disclosure")
    return issuer_jwt, disclosures, last or None


def parse_issuer_jwt(issuer_jwt: str) -> tuple[CompactJWS, dict[str, Any]]:
    """The Issuer-signed JWT, header policy applied, and its payload (not verified).

    Raises:
        MalformedSDJWTError: not a compact JWS with a JSON object payload.
        UnsupportedJWSAlgorithmError, UnsupportedCriticalHeaderError: header policy.
    """
    try:
        jws = parse_compact(issuer_jwt)
        return jws, jws.payload_object()
    except MalformedJWSError as exc:
        raise MalformedSDJWTError(
            "the Issuer-signed JWT is not a compact JWS", cause=exc.code
        ) from exc


def index_disclosures(
    disclosures: Iterable[Disclosure], sd_alg: str
) -> dict[str, Disclosure]:
    """Disclosures keyed by their digest (over each string as received).

    Raises:
        DuplicateDigestError: the same Disclosure twice.
        UnsupportedDigestAlgorithmError: ``sd_alg`` is not supported.
    """
    function = hash_function(sd_alg)
    by_digest: dict[str, Disclosure] = {}
    for disclosure in disclosures:
        digest = b64url_encode(function(disclosure.encoded.encode("ascii")).digest())
        if digest in by_digest:
            raise DuplicateDigestError("the same Disclosure is sent more than once")
        by_digest[digest] = disclosure
    return by_digest


def sd_alg_of(payload: Mapping[str, Any]) -> str:
    """The payload's ``_sd_alg`` (``sha-256`` when absent, §4.1.1).

    Raises:
        UnsupportedDigestAlgorithmError: not a supported algorithm name.
    """
    alg = payload.get(SD_ALG_KEY, DEFAULT_SD_ALG)
    hash_function(alg)
    return str(alg)


@dataclass(frozen=True, slots=True)
class SDJWT:
    """A parsed SD-JWT (or SD-JWT+KB); nothing about it is verified.

    The claims are resolved from the Disclosures once, on first use, and kept: parse
    a held credential once and give the parsed object to :func:`present` for every
    presentation. Treat ``header`` and ``payload`` as read-only.
    """

    issuer_jwt: str
    header: dict[str, Any]
    payload: dict[str, Any]
    disclosures: tuple[Disclosure, ...]
    key_binding_jwt: str | None = None
    _resolved: Resolution | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def parse(cls, compact: str) -> Self:
        """Parse the compact serialization, or a JWS JSON serialization (§8).

        Raises:
            MalformedSDJWTError: not an SD-JWT.
            InvalidDisclosureError, ReservedClaimNameError: a bad Disclosure.
            UnsupportedJWSAlgorithmError, UnsupportedCriticalHeaderError: the
                Issuer-signed JWT's header is refused.
        """
        if isinstance(compact, str) and compact.startswith("{"):
            compact = from_json(compact)
        issuer_jwt, encoded, kb_jwt = split_compact(compact)
        jws, payload = parse_issuer_jwt(issuer_jwt)
        disclosures = tuple(Disclosure.parse(text) for text in encoded)
        if kb_jwt is not None and kb_jwt.count(".") != 2:
            raise MalformedSDJWTError("the Key Binding JWT is not a compact JWS")
        return cls(issuer_jwt, jws.header, payload, disclosures, kb_jwt)

    @property
    def sd_alg(self) -> str:
        """The digest algorithm (``sha-256`` when absent).

        Raises:
            UnsupportedDigestAlgorithmError: not supported.
        """
        return sd_alg_of(self.payload)

    @property
    def has_key_binding(self) -> bool:
        return self.key_binding_jwt is not None

    def _resolution(self) -> Resolution:
        resolved = self._resolved
        if resolved is None:
            resolved = resolve(
                self.payload, index_disclosures(self.disclosures, self.sd_alg)
            )
            object.__setattr__(self, "_resolved", resolved)
        return resolved

    def claims(self) -> dict[str, Any]:
        """Every claim, with all the holder's Disclosures applied (a fresh copy).

        Raises:
            as the digest replacement (e.g. DuplicateDigestError, ClaimCollisionError).
        """
        return copy.deepcopy(self._resolution().claims)

    def paths(self) -> tuple[ClaimPath, ...]:
        """The path of every selectively disclosable claim, in the resolved claims."""
        return tuple(path for path, _ in self._resolution().paths)

    def is_bound_to(self, key: PublicKey) -> bool:
        """Whether the ``cnf`` ``jwk`` is ``key`` (the holder key to sign KB with)."""
        cnf = self.payload.get("cnf")
        jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
        return isinstance(jwk, dict) and _is_jwk_of(jwk, key)

    def to_compact(self) -> str:
        """The compact serialization."""
        return SEPARATOR.join(
            [
                self.issuer_jwt,
                *(d.encoded for d in self.disclosures),
                self.key_binding_jwt or "",
            ]
        )


def _exists(claims: Any, path: ClaimPath) -> bool:
    node = claims
    for step in path:
        if isinstance(step, bool):
            return False
        if isinstance(step, str):
            if not isinstance(node, dict) or step not in node:
                return False
        elif not isinstance(node, list) or not 0 <= step < len(node):
            return False
        node = node[step]
    return True


def _is_jwk_of(jwk: Mapping[str, Any], key: PublicKey) -> bool:
    """Whether a public JWK is ``key``, compared without loading the JWK's point."""
    try:
        x = b64url_decode(jwk.get("x", ""))
        if key.algorithm is KeyAlgorithm.ED25519:
            return (
                jwk.get("kty") == "OKP"
                and jwk.get("crv") == "Ed25519"
                and (x == key.raw)
            )
        y = b64url_decode(jwk.get("y", ""))
    except (InvalidEncodingError, TypeError):
        return False
    # A compressed P-256 point is the parity of y, then x (SEC 1 §2.3.3).
    return (
        jwk.get("kty") == "EC"
        and jwk.get("crv") == "P-256"
        and len(y) == 32
        and bytes([2 | (y[-1] & 1)]) + x == key.raw
    )


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(moment.timestamp())


def present(
    sd_jwt: str | SDJWT,
    *,
    disclose: Iterable[ClaimPath],
    holder_key: PrivateKey | None,
    audience: str | None,
    nonce: str | None,
    now: datetime | None = None,
) -> str:
    """Present an SD-JWT with only the chosen claims, bound to a verifier.

    ``sd_jwt`` is the compact (or JSON) SD-JWT, or an :class:`SDJWT` parsed once
    and kept (its resolved claims are reused). A path names a claim in
    :meth:`SDJWT.claims`; its Disclosure, the Disclosures of the claims it sits in,
    and those of every disclosable claim inside it are sent. With ``holder_key`` a
    KB-JWT (``aud`` ``audience``, ``nonce``) is appended; the key must be the one in
    the SD-JWT's ``cnf``.

    Raises:
        ValueError: a path that is not in the claims; ``holder_key`` without
            ``audience`` and ``nonce``, or not matching ``cnf``; an SD-JWT that
            already carries a KB-JWT.
        MalformedSDJWTError (and other parse errors): ``sd_jwt`` is not an SD-JWT.
    """
    parsed = sd_jwt if isinstance(sd_jwt, SDJWT) else SDJWT.parse(sd_jwt)
    if parsed.key_binding_jwt is not None:
        raise ValueError("present an SD-JWT without a Key Binding JWT")
    resolution = parsed._resolution()
    placed = resolution.paths
    chosen: set[str] = set()
    for raw_path in disclose:
        path = tuple(raw_path)
        if not path or not _exists(resolution.claims, path):
            raise ValueError(f"claim path {path!r} is not in the credential")
        size = len(path)
        for candidate, disclosure in placed:
            # The claim itself, the claims it is nested in, and the claims it holds.
            if candidate[:size] == path or path[: len(candidate)] == candidate:
                chosen.add(disclosure.encoded)
    kept = [d.encoded for d in parsed.disclosures if d.encoded in chosen]
    presented = SEPARATOR.join([parsed.issuer_jwt, *kept, ""])
    if holder_key is None:
        return presented
    if not audience or not nonce:
        raise ValueError("a Key Binding JWT needs an audience and a nonce")
    cnf = parsed.payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise ValueError("the SD-JWT has no cnf jwk to bind to")
    if not _is_jwk_of(jwk, holder_key.public_key):
        raise ValueError("holder_key is not the key in the SD-JWT's cnf")
    claims = {
        "iat": _epoch(now or datetime.now(UTC)),
        "aud": audience,
        "nonce": nonce,
        "sd_hash": digest_of(presented, parsed.sd_alg),
    }
    header = _KB_HEADER_SEGMENTS[holder_key.algorithm]
    return presented + sign_encoded(header, claims, holder_key)


# --- JWS JSON serialization (§8) -----------------------------------------------------


def to_json(compact: str, *, general: bool = False) -> dict[str, Any]:
    """The flattened (default) or general JWS JSON serialization of an SD-JWT[+KB].

    Raises:
        MalformedSDJWTError: ``compact`` is not a compact SD-JWT.
    """
    issuer_jwt, disclosures, kb_jwt = split_compact(compact)
    parts = issuer_jwt.split(".")
    if len(parts) != 3:
        raise MalformedSDJWTError("the Issuer-signed JWT is not a compact JWS")
    protected, payload, signature = parts
    unprotected: dict[str, Any] = {DISCLOSURES_HEADER: disclosures}
    if kb_jwt is not None:
        unprotected[KB_JWT_HEADER] = kb_jwt
    if general:
        return {
            "payload": payload,
            "signatures": [
                {"protected": protected, "header": unprotected, "signature": signature}
            ],
        }
    return {
        "header": unprotected,
        "payload": payload,
        "protected": protected,
        "signature": signature,
    }


def _string(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise MalformedSDJWTError(f"{what} is not a string", field=what)
    return value


def from_json(document: Mapping[str, Any] | str | bytes) -> str:
    """The compact form of a JWS JSON serialized SD-JWT[+KB] (§8.1).

    The ``sd_hash`` of a KB-JWT is computed over this compact form. The general
    serialization must carry exactly one signature.

    Raises:
        MalformedSDJWTError: not such a JSON object.
    """
    if isinstance(document, str | bytes):
        try:
            parsed = decode_json(document)
        except ValueError as exc:
            raise MalformedSDJWTError("the SD-JWT JSON is not strict JSON") from exc
    else:
        parsed = document
    if not isinstance(parsed, Mapping):
        raise MalformedSDJWTError("the SD-JWT JSON is not an object")
    payload = _string(parsed.get("payload"), "payload")
    if "signatures" in parsed:
        signatures = parsed["signatures"]
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise MalformedSDJWTError(
                "the general serialization must carry exactly one signature",
                field="signatures",
            )
        entry = signatures[0]
        if not isinstance(entry, Mapping):
            raise MalformedSDJWTError("a signature entry is not an object")
    else:
        entry = parsed
    protected = _string(entry.get("protected"), "protected")
    signature = _string(entry.get("signature"), "signature")
    header = entry.get("header", {})
    if not isinstance(header, Mapping):
        raise MalformedSDJWTError("the unprotected header is not an object")
    disclosures = header.get(DISCLOSURES_HEADER, [])
    if not isinstance(disclosures, list) or not all(
        isinstance(d, str) and d and SEPARATOR not in d for d in disclosures
    ):
        raise MalformedSDJWTError(
            "disclosures is not an array of strings", field=DISCLOSURES_HEADER
        )
    kb_jwt = header.get(KB_JWT_HEADER)
    if kb_jwt is not None:
        _string(kb_jwt, KB_JWT_HEADER)
    if any(SEPARATOR in part for part in (protected, payload, signature)):
        raise MalformedSDJWTError("a JWS member contains '~'")
    jwt = f"{protected}.{payload}.{signature}"
    return SEPARATOR.join([jwt, *disclosures, kb_jwt or ""])
