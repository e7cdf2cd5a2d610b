"""Issuing SD-JWTs (RFC 9901 §4) and SD-JWT VCs (draft-ietf-oauth-sd-jwt-vc).

- Any object property or array element, at any depth, can be made selectively
  disclosable by its :data:`ClaimPath`; a path inside a disclosable claim makes the
  outer Disclosure carry the inner digests (recursive disclosure, §4.2.6).
- Salts are 144 bits from ``secrets`` (injectable for tests). Every ``_sd`` array and
  every array with disclosable elements is padded with decoy digests up to a multiple
  of ``decoy_bucket`` (§4.2.5), and ``_sd`` arrays are sorted, so neither the number
  nor the order of the claims leaks.
- ``_sd_alg`` is ``sha-256``. The compact serialization ends with ``~`` (§4).
- Claims that govern validity, binding and status (``iss``, ``iat``, ``nbf``, ``exp``,
  ``cnf``, ``status``, ``vct``, ``_sd_alg``) are never made disclosable: asking for it
  is refused.
"""

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from did_vault.dids.did import DIDURL
from did_vault.errors import InvalidDIDURLError
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.primitives.jws import (
    b64url_encode,
    b64url_encode_bytes,
    encode_header,
    encode_json,
    sign_encoded,
)
from did_vault.sd_jwt.disclosure import (
    ARRAY_DIGEST_KEY,
    DEFAULT_SD_ALG,
    RESERVED_CLAIM_NAMES,
    SD_ALG_KEY,
    SD_DIGESTS_KEY,
    ClaimPath,
    Disclosure,
    SaltSource,
    digest_of,
    random_salt,
)

SD_JWT_VC_TYP: Final = "dc+sd-jwt"
KB_JWT_TYP: Final = "kb+jwt"
DEFAULT_DECOY_BUCKET: Final = 8
NEVER_DISCLOSABLE: Final = frozenset(
    {"iss", "iat", "nbf", "exp", "cnf", "status", "vct", SD_ALG_KEY}
)
"""Top-level claims that must stay in the clear (SD-JWT VC §3.2.2; RFC 9901 §9.7)."""
VC_REGISTERED_CLAIMS: Final = frozenset(
    {"iss", "iat", "nbf", "exp", "cnf", "status", "vct", "vct#integrity"}
)


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(moment.timestamp())


_DECOY_BYTES: Final = 32
_ISSUED_SALT_BYTES: Final = 18
"""144 bits: above the 128 of §9.3, and a multiple of 3 bytes, so that the salts of
one SD-JWT are base64url-encoded in one call and cut apart (24 characters each)."""
_ISSUED_SALT_CHARS: Final = 24
_sha256: Final = hashlib.sha256


class _Entropy:
    """Random bytes drawn from ``secrets`` in one call and handed out in slices.

    One draw per SD-JWT instead of one per salt and decoy: the system call and its
    wrapper cost more than the bytes. Salts come encoded from one base64url call.
    """

    __slots__ = ("_buffer", "_offset", "_salt_offset", "_salts")

    def __init__(self, *, salts: int, decoys: int) -> None:
        self._salts = b64url_encode(secrets.token_bytes(_ISSUED_SALT_BYTES * salts))
        self._salt_offset = 0
        self._buffer = secrets.token_bytes(_DECOY_BYTES * max(decoys, 1))
        self._offset = 0

    def salt(self) -> str:
        start = self._salt_offset
        end = start + _ISSUED_SALT_CHARS
        if end > len(self._salts):  # pragma: no cover - one salt per marked path
            self._salts = b64url_encode(secrets.token_bytes(_ISSUED_SALT_BYTES * 8))
            start, end = 0, _ISSUED_SALT_CHARS
        self._salt_offset = end
        return self._salts[start:end]

    def decoy(self) -> bytes:
        start = self._offset
        end = start + _DECOY_BYTES
        if end > len(self._buffer):
            self._buffer = secrets.token_bytes(len(self._buffer))
            start, end = 0, _DECOY_BYTES
        self._offset = end
        return self._buffer[start:end]


class _Builder:
    """Builds the payload and Disclosures for one SD-JWT."""

    __slots__ = ("_bucket", "_entropy", "_marked", "_salt", "disclosures")

    def __init__(
        self, marked: set[ClaimPath], *, salt_source: SaltSource | None, bucket: int
    ) -> None:
        self._marked = marked
        self._salt = salt_source
        self._bucket = bucket
        # With the default source: a salt per claim and a bucket's worth of decoys.
        self._entropy = (
            _Entropy(salts=len(marked), decoys=bucket) if salt_source is None else None
        )
        self.disclosures: list[str] = []

    def _decoys(self, count: int) -> int:
        return (-count) % self._bucket if self._bucket > 0 else 0

    def _decoy(self) -> str:
        if self._entropy is not None:
            # A hash over a random number (§4.2.5), without the salt's text detour.
            return b64url_encode(_sha256(self._entropy.decoy()).digest())
        assert self._salt is not None  # one of the two
        return digest_of(self._salt(), DEFAULT_SD_ALG)

    def _conceal(self, name: str | None, value: Any) -> str:
        if self._entropy is None:
            assert self._salt is not None  # one of the two
            disclosure = Disclosure.create(salt=self._salt(), name=name, value=value)
            self.disclosures.append(disclosure.encoded)
            return disclosure.digest()
        # Disclosure.create's checks hold here (fresh salt, names checked by the
        # caller); the digest is taken over the very bytes that are sent (§4.2.3).
        salt = self._entropy.salt()
        array = [salt, value] if name is None else [salt, name, value]
        encoded = b64url_encode_bytes(encode_json(array))
        self.disclosures.append(encoded.decode("ascii"))
        return b64url_encode(_sha256(encoded).digest())

    def value(self, value: Any, path: ClaimPath, depth: int) -> Any:
        if depth == 0:
            return value
        if isinstance(value, Mapping):
            return self.object(value, path, depth)
        if isinstance(value, list | tuple):
            return self.array(value, path, depth)
        return value

    def object(self, obj: Mapping[str, Any], path: ClaimPath, depth: int) -> Any:
        out: dict[str, Any] = {}
        digests: list[str] = []
        marked = self._marked
        for name, item in obj.items():
            if not isinstance(name, str):
                raise TypeError("claim names must be strings")
            if name in RESERVED_CLAIM_NAMES:
                raise ValueError(f"{name!r} is a reserved claim name")
            child = (*path, name)
            processed = self.value(item, child, depth - 1)
            if child in marked:
                digests.append(self._conceal(name, processed))
            else:
                out[name] = processed
        if digests:
            digests.extend(self._decoy() for _ in range(self._decoys(len(digests))))
            digests.sort()
            out[SD_DIGESTS_KEY] = digests
        return out

    def array(self, array: Sequence[Any], path: ClaimPath, depth: int) -> list[Any]:
        out: list[Any] = []
        concealed = 0
        marked = self._marked
        for index, item in enumerate(array):
            child = (*path, index)
            processed = self.value(item, child, depth - 1)
            if child in marked:
                out.append({ARRAY_DIGEST_KEY: self._conceal(None, processed)})
                concealed += 1
            else:
                out.append(processed)
        if concealed:
            for _ in range(self._decoys(len(array))):
                decoy = self._decoy()
                # The position comes from the decoy itself: random with random salts,
                # reproducible with an injected salt source.
                position = int.from_bytes(hashlib.sha256(decoy.encode()).digest()[:4])
                out.insert(position % (len(out) + 1), {ARRAY_DIGEST_KEY: decoy})
        return out


def _check_paths(claims: Mapping[str, Any], disclosable: Sequence[ClaimPath]) -> int:
    """Validate each path against ``claims``; return the deepest path's length."""
    deepest = 0
    for path in disclosable:
        if not isinstance(path, tuple) or not path:
            raise ValueError("a claim path is a non-empty tuple of keys and indices")
        if isinstance(path[0], str) and path[0] in NEVER_DISCLOSABLE:
            raise ValueError(f"the {path[0]!r} claim cannot be selectively disclosable")
        node: Any = claims
        for step in path:
            if isinstance(step, str) and not isinstance(step, bool):
                if not isinstance(node, Mapping) or step not in node:
                    raise ValueError(f"claim path {path!r} is not in the claims")
            elif isinstance(step, int) and not isinstance(step, bool):
                if not isinstance(node, list | tuple) or not 0 <= step < len(node):
                    raise ValueError(f"claim path {path!r} is not in the claims")
            else:
                raise ValueError("claim path steps are strings or integers")
            node = node[step]
        deepest = max(deepest, len(path))
    return deepest


def public_jwk(key: PublicKey) -> dict[str, str]:
    """``key.to_jwk()``, P-256 coordinates read from the key's loaded handle.

    ``PublicKey.to_jwk`` decompresses the point again on every call (about as long
    as the rest of an issuance besides the signature); the handle the key keeps
    already knows them.
    """
    handle = getattr(key, "_handle", None)
    if key.algorithm is KeyAlgorithm.P256 and isinstance(
        handle, ec.EllipticCurvePublicKey
    ):
        numbers = handle.public_numbers()
        return {
            "crv": "P-256",
            "kty": "EC",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }
    return key.to_jwk()


def _sign(
    payload: dict[str, Any],
    *,
    key: PrivateKey,
    header_segment: str,
    disclosable: Sequence[ClaimPath],
    salt_source: SaltSource | None,
    decoy_bucket: int,
) -> str:
    deepest = _check_paths(payload, disclosable)
    builder = _Builder(
        set(disclosable),
        salt_source=None if salt_source is random_salt else salt_source,
        bucket=decoy_bucket,
    )
    processed = builder.object(payload, (), deepest) if deepest else payload
    processed[SD_ALG_KEY] = DEFAULT_SD_ALG
    jwt = sign_encoded(header_segment, processed, key)
    return "~".join([jwt, *builder.disclosures, ""])


def _header(typ: str | None, kid: str | None) -> dict[str, Any]:
    header: dict[str, Any] = {}
    if typ is not None:
        header["typ"] = typ
    if kid is not None:
        header["kid"] = kid
    return header


def issue_sd_jwt(
    claims: Mapping[str, Any],
    *,
    key: PrivateKey,
    kid: str | None,
    disclosable: Sequence[ClaimPath],
    typ: str | None = None,
    holder_key: PublicKey | None = None,
    now: datetime | None = None,
    salt_source: SaltSource | None = None,
    decoy_bucket: int = DEFAULT_DECOY_BUCKET,
) -> str:
    """Issue an SD-JWT (compact, ending with ``~``) over ``claims``.

    ``iat`` is added (from ``now``) unless the claims carry one; ``holder_key`` adds
    ``cnf`` ``{"jwk": …}`` for Key Binding; ``decoy_bucket`` 0 adds no decoys.

    Raises:
        ValueError: a path that is not in the claims, a never-disclosable claim, a
            reserved name (``_sd``, ``...``), ``cnf`` given both ways, or a bad bucket.
    """
    if decoy_bucket < 0:
        raise ValueError("decoy_bucket must be zero or positive")
    payload: dict[str, Any] = dict(claims)
    if SD_ALG_KEY in payload:
        raise ValueError("_sd_alg is set by the issuer")
    if holder_key is not None:
        if "cnf" in payload:
            raise ValueError("give the holder key as holder_key or cnf, not both")
        payload["cnf"] = {"jwk": public_jwk(holder_key)}
    if "iat" not in payload:
        payload["iat"] = _epoch(now or datetime.now(UTC))
    return _sign(
        payload,
        key=key,
        header_segment=encode_header(_header(typ, kid), key),
        disclosable=disclosable,
        salt_source=salt_source,
        decoy_bucket=decoy_bucket,
    )


class SDJWTIssuer:
    """An issuer DID's signing key and ``kid``, checked once, for many SD-JWT VCs.

    :meth:`issue` does what :func:`issue_sd_jwt_vc` does; keeping one issuer saves
    checking the ``kid`` and encoding the protected header on every credential.

    Raises (constructor):
        ValueError: ``kid`` not a ``did:…#fragment`` URL of ``issuer_did``, or a
            negative ``decoy_bucket``.
    """

    __slots__ = ("_bucket", "_header_segment", "_issuer_did", "_key", "_kid")

    def __init__(
        self,
        *,
        issuer_did: str,
        key: PrivateKey,
        kid: str,
        decoy_bucket: int = DEFAULT_DECOY_BUCKET,
    ) -> None:
        try:
            url = DIDURL.parse(kid)
        except InvalidDIDURLError as exc:
            raise ValueError("kid must be a DID URL") from exc
        if str(url.did) != issuer_did or not url.fragment or url.path or url.query:
            raise ValueError("kid must be a did:…#fragment URL of the issuer's DID")
        if decoy_bucket < 0:
            raise ValueError("decoy_bucket must be zero or positive")
        self._issuer_did = issuer_did
        self._key = key
        self._kid = kid
        self._bucket = decoy_bucket
        self._header_segment = encode_header(_header(SD_JWT_VC_TYP, kid), key)

    @property
    def issuer_did(self) -> str:
        return self._issuer_did

    @property
    def kid(self) -> str:
        return self._kid

    def issue(
        self,
        *,
        vct: str,
        claims: Mapping[str, Any],
        disclosable: Sequence[ClaimPath],
        holder_key: PublicKey,
        valid_until: datetime | None = None,
        valid_from: datetime | None = None,
        status: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        salt_source: SaltSource | None = None,
    ) -> str:
        """Issue one SD-JWT VC; see :func:`issue_sd_jwt_vc`.

        Raises:
            ValueError: as :func:`issue_sd_jwt_vc`.
        """
        if not isinstance(vct, str) or not vct:
            raise ValueError("vct must be a non-empty string")
        clash = VC_REGISTERED_CLAIMS.intersection(claims)
        if clash:
            raise ValueError(f"claims may not set {sorted(clash)}; use the parameters")
        moment = now or datetime.now(UTC)
        payload: dict[str, Any] = {"iss": self._issuer_did, "iat": _epoch(moment)}
        if valid_from is not None:
            payload["nbf"] = _epoch(valid_from)
        if valid_until is not None:
            payload["exp"] = _epoch(valid_until)
        payload["vct"] = vct
        payload["cnf"] = {"jwk": public_jwk(holder_key)}
        if status is not None:
            payload["status"] = dict(status)
        payload.update(claims)
        if SD_ALG_KEY in payload:
            raise ValueError("_sd_alg is set by the issuer")
        return _sign(
            payload,
            key=self._key,
            header_segment=self._header_segment,
            disclosable=disclosable,
            salt_source=salt_source,
            decoy_bucket=self._bucket,
        )


def issue_sd_jwt_vc(
    *,
    vct: str,
    issuer_did: str,
    key: PrivateKey,
    kid: str,
    claims: Mapping[str, Any],
    disclosable: Sequence[ClaimPath],
    holder_key: PublicKey,
    valid_until: datetime | None = None,
    valid_from: datetime | None = None,
    status: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    salt_source: SaltSource | None = None,
    decoy_bucket: int = DEFAULT_DECOY_BUCKET,
) -> str:
    """Issue an SD-JWT VC (``typ`` ``dc+sd-jwt``) signed by a key of ``issuer_did``.

    The payload holds ``iss`` (the DID), ``iat``, ``nbf``/``exp`` (from
    ``valid_from``/``valid_until``), ``vct``, ``cnf`` (the holder key as ``jwk``) and
    ``status`` (a Token Status List reference) in the clear, plus ``claims``.
    ``kid`` is the DID URL of the signing key, a verification method of
    ``issuer_did`` listed under ``assertionMethod``. To issue many, keep one
    :class:`SDJWTIssuer`.

    Raises:
        ValueError: ``kid`` not a ``did:…#fragment`` URL of ``issuer_did``, an empty
            ``vct``, ``claims`` naming a registered claim, or as :func:`issue_sd_jwt`.
    """
    if not isinstance(vct, str) or not vct:
        raise ValueError("vct must be a non-empty string")
    issuer = SDJWTIssuer(
        issuer_did=issuer_did, key=key, kid=kid, decoy_bucket=decoy_bucket
    )
    return issuer.issue(
        vct=vct,
        claims=claims,
        disclosable=disclosable,
        holder_key=holder_key,
        valid_until=valid_until,
        valid_from=valid_from,
        status=status,
        now=now,
        salt_source=salt_source,
    )
