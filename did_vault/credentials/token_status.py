"""IETF Token Status List (draft-ietf-oauth-status-list), JWT form.

- :class:`TokenStatusList`: ``{"bits": 1|2|4|8, "lst": base64url(ZLIB(bytes))}``
  (DEFLATE in the ZLIB format), entries packed from the least significant bit of
  each byte (§4.1).
- :func:`issue_status_list_token` / :func:`verify_status_list_token`: the Status List
  Token, a compact JWS with ``typ`` ``statuslist+jwt`` and claims ``sub``, ``iat``,
  ``exp``, ``ttl``, ``status_list`` (§5.1), signed EdDSA (Ed25519) or ES256 (P-256)
  only: the ``alg`` must match the key's type, and MAC or ``none`` are refused.
- :class:`TokenStatusChecker`: the Relying Party's side (§8.3): the Referenced Token's
  ``{"status": {"status_list": {"idx": N, "uri": "…"}}}`` checked through an injected
  fetcher and key resolver, with a ``ttl`` cache.

Status values (§7.1): 0 VALID, 1 INVALID, 2 SUSPENDED; 3 and 0x0C to 0x0F are
application specific and returned to the caller as they are.
"""

import json
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, Protocol, Self

from did_vault.credentials._bits import (
    STATUS_SIZES,
    ZLIB_WBITS,
    BitOrder,
    StatusBits,
    decode_list,
)
from did_vault.errors import (
    CredentialRevokedError,
    CredentialSuspendedError,
    DidVaultError,
    InvalidEncodingError,
    InvalidSignatureError,
    InvalidStatusEntryError,
    ResolutionError,
    StatusIndexOutOfRangeError,
    StatusListExpiredError,
    StatusListInvalidError,
    StatusUnavailableError,
)
from did_vault.keys import PrivateKey, PublicKey
from did_vault.primitives.b64 import b64url_decode, b64url_encode

STATUS_LIST_JWT_TYP = "statuslist+jwt"
STATUS_LIST_JWT_MEDIA_TYPE = "application/statuslist+jwt"
ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256"})
DEFAULT_TTL = timedelta(minutes=5)
"""Cache lifetime when a token has no ``ttl`` claim."""
DEFAULT_MAX_LIST_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_TOKEN_CHARS = 8 * 1024 * 1024
DEFAULT_MAX_CACHE_ENTRIES = 64
DEFAULT_LEEWAY = timedelta(seconds=60)


class TokenStatus(IntEnum):
    """The registered Status Types (§7.1)."""

    VALID = 0
    INVALID = 1
    SUSPENDED = 2


# --- the list -----------------------------------------------------------------------


class TokenStatusList:
    """A mutable status list of ``length`` entries of ``bits`` bits (IETF order)."""

    __slots__ = ("_bits",)

    def __init__(self, length: int, *, bits: int = 1) -> None:
        self._bits = StatusBits(length, status_size=bits, order=BitOrder.LSB_FIRST)

    @classmethod
    def from_bytes(cls, data: bytes, *, bits: int = 1) -> Self:
        """Wrap an uncompressed status byte array."""
        status_list = cls.__new__(cls)
        status_list._bits = StatusBits.from_bytes(
            data, status_size=bits, order=BitOrder.LSB_FIRST
        )
        return status_list

    @classmethod
    def from_json(
        cls, status_list: Mapping[str, Any], *, max_bytes: int = DEFAULT_MAX_LIST_BYTES
    ) -> Self:
        """Parse the JSON Status List (§4.2), inflating at most ``max_bytes``.

        Raises:
            StatusListInvalidError: a missing or wrong ``bits`` / ``lst``, bad
                base64url, or not one complete ZLIB stream (``context["reason"]``).
            StatusListTooLargeError: ``lst`` inflates past ``max_bytes``.
        """
        if not isinstance(status_list, Mapping):
            raise StatusListInvalidError(
                "status_list is not a JSON object", reason="status_list"
            )
        bits = status_list.get("bits")
        if isinstance(bits, bool) or bits not in STATUS_SIZES:
            raise StatusListInvalidError("bits must be 1, 2, 4 or 8", reason="bits")
        lst = status_list.get("lst")
        if not isinstance(lst, str):
            raise StatusListInvalidError("lst is not a string", reason="encoding")
        data = decode_list(
            lst,
            wbits=ZLIB_WBITS,
            max_bytes=max_bytes,
            member="lst",
            container="ZLIB/DEFLATE",
        )
        if not data:
            raise StatusListInvalidError("the status list is empty", reason="empty")
        return cls.from_bytes(data, bits=bits)

    def to_json(self) -> dict[str, Any]:
        """``{"bits": …, "lst": …}``, compressed at the highest level (§4.1)."""
        compressed = zlib.compress(self._bits.to_bytes(), 9)
        return {"bits": self._bits.status_size, "lst": b64url_encode(compressed)}

    @property
    def bits(self) -> int:
        return self._bits.status_size

    def __len__(self) -> int:
        return len(self._bits)

    def __repr__(self) -> str:
        return f"TokenStatusList(length={len(self)}, bits={self.bits})"

    def get(self, index: int) -> int:
        """The status value at ``index``.

        Raises:
            IndexError: ``index`` outside the list.
        """
        return self._bits.get(index)

    def set(self, index: int, value: int) -> None:
        """Set the status value at ``index``.

        Raises:
            IndexError: ``index`` outside the list.
            ValueError: ``value`` does not fit in ``bits`` bits.
        """
        self._bits.set(index, value)

    def count_nonzero(self) -> int:
        """How many entries hold a non-zero status."""
        return self._bits.count_nonzero()

    def to_bytes(self) -> bytes:
        """The uncompressed byte array."""
        return self._bits.to_bytes()


# --- the Status List Token ----------------------------------------------------------


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(moment.timestamp())


def _json_segment(value: Mapping[str, Any]) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return b64url_encode(text.encode("utf-8"))


def issue_status_list_token(
    status_list: TokenStatusList,
    *,
    key: PrivateKey,
    sub: str,
    iat: datetime,
    exp: datetime | None = None,
    ttl: int | None = None,
    kid: str | None = None,
    iss: str | None = None,
) -> str:
    """Sign a Status List Token (compact JWS, ``typ`` ``statuslist+jwt``).

    ``sub`` is the URI the token is served at (Referenced Tokens' ``uri``); ``ttl``
    is in seconds and must be positive.
    """
    if not sub:
        raise ValueError("sub (the status list URI) is required")
    if ttl is not None and (isinstance(ttl, bool) or ttl <= 0):
        raise ValueError("ttl must be a positive number of seconds")
    header: dict[str, Any] = {"alg": key.algorithm.jws_algorithm}
    if kid is not None:
        header["kid"] = kid
    header["typ"] = STATUS_LIST_JWT_TYP
    claims: dict[str, Any] = {}
    if exp is not None:
        claims["exp"] = _epoch(exp)
    claims["iat"] = _epoch(iat)
    if iss is not None:
        claims["iss"] = iss
    claims["status_list"] = status_list.to_json()
    claims["sub"] = sub
    if ttl is not None:
        claims["ttl"] = ttl
    signing_input = f"{_json_segment(header)}.{_json_segment(claims)}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


@dataclass(frozen=True, slots=True)
class VerifiedStatusListToken:
    """A Status List Token whose signature and claims checked out."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    status_list: TokenStatusList

    @property
    def sub(self) -> str:
        return str(self.claims["sub"])

    @property
    def ttl(self) -> int | float | None:
        value = self.claims.get("ttl")
        return value if isinstance(value, int | float) else None

    @property
    def exp(self) -> int | float | None:
        value = self.claims.get("exp")
        return value if isinstance(value, int | float) else None


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _decode_json_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = b64url_decode(segment)
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (
        InvalidEncodingError,
        UnicodeDecodeError,
        ValueError,
        RecursionError,
    ) as exc:
        raise StatusListInvalidError(
            f"the token {what} is not base64url JSON", reason=what
        ) from exc
    if not isinstance(value, dict):
        raise StatusListInvalidError(
            f"the token {what} is not a JSON object", reason=what
        )
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def split_status_list_token(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (unverified) header and claims, e.g. to pick the verification key.

    Raises:
        StatusListInvalidError: not a compact JWS with JSON header and payload.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise StatusListInvalidError("not a compact JWS", reason="jws")
    header_segment, payload_segment, _ = token.split(".")
    return (
        _decode_json_segment(header_segment, "header"),
        _decode_json_segment(payload_segment, "payload"),
    )


def verify_status_list_token(
    token: str,
    *,
    key: PublicKey,
    now: datetime,
    expected_sub: str | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
    max_list_bytes: int = DEFAULT_MAX_LIST_BYTES,
) -> VerifiedStatusListToken:
    """Verify a Status List Token's signature and claims (§5.1, §8.3 steps 3 and 4).

    Raises:
        StatusListInvalidError: not a compact JWS; ``typ`` is not ``statuslist+jwt``;
            ``alg`` not EdDSA/ES256 or not the key's; a ``crit`` header; a bad
            signature; a missing ``sub``/``iat``/``status_list``; ``sub`` is not
            ``expected_sub``; ``iat`` in the future; a bad ``ttl``
            (``context["reason"]`` says which).
        StatusListExpiredError: ``exp`` has passed.
        StatusListTooLargeError: the list inflates past ``max_list_bytes``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    header, claims = split_status_list_token(token)
    if header.get("typ") != STATUS_LIST_JWT_TYP:
        raise StatusListInvalidError(
            "the token typ is not statuslist+jwt", reason="typ"
        )
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise StatusListInvalidError(
            "the token alg is not allowed", reason="alg", alg=str(alg)
        )
    if alg != key.algorithm.jws_algorithm:
        raise StatusListInvalidError(
            "the token alg does not match the key", reason="alg", alg=str(alg)
        )
    if "crit" in header:
        raise StatusListInvalidError("crit headers are not supported", reason="crit")
    signing_input, _, signature_segment = token.rpartition(".")
    try:
        signature = b64url_decode(signature_segment)
        key.verify(signature, signing_input.encode("ascii"))
    except (InvalidEncodingError, InvalidSignatureError) as exc:
        raise StatusListInvalidError(
            "the status list token signature does not verify", reason="signature"
        ) from exc
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise StatusListInvalidError("the token has no sub", reason="sub")
    if expected_sub is not None and sub != expected_sub:
        raise StatusListInvalidError(
            "the token sub is not the referenced uri", reason="sub"
        )
    iat = claims.get("iat")
    if not _is_number(iat):
        raise StatusListInvalidError("the token has no numeric iat", reason="iat")
    moment = now.timestamp()
    slack = leeway.total_seconds()
    if float(iat) > moment + slack:  # type: ignore[arg-type]
        raise StatusListInvalidError("the token iat is in the future", reason="iat")
    exp = claims.get("exp")
    if exp is not None:
        if not _is_number(exp):
            raise StatusListInvalidError("the token exp is not numeric", reason="exp")
        if moment - slack >= exp:
            raise StatusListExpiredError("the status list token has expired")
    ttl = claims.get("ttl")
    if ttl is not None and (not _is_number(ttl) or ttl <= 0):
        raise StatusListInvalidError("ttl must be a positive number", reason="ttl")
    if "status_list" not in claims:
        raise StatusListInvalidError(
            "the token has no status_list", reason="status_list"
        )
    status_list = TokenStatusList.from_json(
        claims["status_list"], max_bytes=max_list_bytes
    )
    return VerifiedStatusListToken(
        header=header, claims=claims, status_list=status_list
    )


# --- the Relying Party's side -------------------------------------------------------


class Fetcher(Protocol):
    """Fetches a URL's body (``did_vault.dids._fetch.HttpxFetcher`` fits)."""

    def fetch(self, url: str) -> bytes:
        """Return the body.

        Raises:
            ResolutionError: it could not be fetched.
        """
        ...


KeyResolver = Callable[[str, str | None], PublicKey]
"""``(status list uri, header kid) -> key`` the token must be signed with. Keys in
the token's own header (``jwk``, ``jku``, ``x5u``…) are never used."""
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TokenStatusResult:
    """The status of a Referenced Token."""

    status: int
    uri: str
    index: int

    @property
    def is_valid(self) -> bool:
        return self.status == TokenStatus.VALID


@dataclass(frozen=True, slots=True)
class _CachedToken:
    fetched_at: datetime
    ttl: timedelta
    token: VerifiedStatusListToken


def parse_status_claim(status: Mapping[str, Any]) -> tuple[str, int]:
    """The ``(uri, idx)`` of a Referenced Token's ``status`` claim (§6.2).

    Raises:
        InvalidStatusEntryError: no ``status_list`` object, or a bad ``idx``/``uri``.
    """
    if not isinstance(status, Mapping):
        raise InvalidStatusEntryError("status is not a JSON object")
    reference = status.get("status_list")
    if not isinstance(reference, Mapping):
        raise InvalidStatusEntryError("status has no status_list object")
    idx, uri = reference.get("idx"), reference.get("uri")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise InvalidStatusEntryError("status_list.idx is not a non-negative integer")
    if not isinstance(uri, str) or ":" not in uri:
        raise InvalidStatusEntryError("status_list.uri is not a URI")
    return uri, idx


class TokenStatusChecker:
    """Checks Referenced Tokens' ``status`` claims against Status List Tokens.

    The token at ``uri`` is fetched with ``fetcher``, verified with the key
    ``resolve_key(uri, kid)`` returns, and cached for its ``ttl`` claim (or
    ``default_ttl``, at most ``max_ttl``) measured with ``clock``; ``exp`` is checked
    against each :meth:`check`'s ``now``.
    """

    def __init__(
        self,
        *,
        fetcher: Fetcher,
        resolve_key: KeyResolver,
        clock: Clock = _utc_now,
        default_ttl: timedelta = DEFAULT_TTL,
        max_ttl: timedelta | None = None,
        max_list_bytes: int = DEFAULT_MAX_LIST_BYTES,
        max_cache_entries: int = DEFAULT_MAX_CACHE_ENTRIES,
        leeway: timedelta = DEFAULT_LEEWAY,
    ) -> None:
        if max_list_bytes < 1 or max_cache_entries < 0:
            raise ValueError("max_list_bytes must be positive")
        self._fetcher = fetcher
        self._resolve_key = resolve_key
        self._clock = clock
        self._default_ttl = default_ttl
        self._max_ttl = max_ttl
        self._max_list_bytes = max_list_bytes
        self._max_cache_entries = max_cache_entries
        self._leeway = leeway
        self._cache: dict[str, _CachedToken] = {}
        self._lock = threading.Lock()

    def check(self, status: Mapping[str, Any], *, now: datetime) -> TokenStatusResult:
        """Check a Referenced Token's ``status`` claim (§8.3).

        Returns the result for VALID and for application-specific values.

        Raises:
            CredentialRevokedError: the status is INVALID (1).
            CredentialSuspendedError: the status is SUSPENDED (2).
            InvalidStatusEntryError: a malformed ``status`` claim.
            StatusUnavailableError: the token could not be fetched, or its key found.
            StatusListInvalidError / StatusListExpiredError / StatusListTooLargeError:
                as :func:`verify_status_list_token`.
            StatusIndexOutOfRangeError: ``idx`` is outside the list.
        """
        uri, idx = parse_status_claim(status)
        verified = self._verified_token(uri, now=now)
        exp = verified.exp
        if exp is not None and now.timestamp() - self._leeway.total_seconds() >= exp:
            raise StatusListExpiredError("the status list token has expired", uri=uri)
        status_list = verified.status_list
        if idx >= len(status_list):
            raise StatusIndexOutOfRangeError(
                "status_list.idx is outside the status list",
                index=idx,
                entries=len(status_list),
            )
        value = status_list.get(idx)
        if value == TokenStatus.INVALID:
            raise CredentialRevokedError("the token has been revoked", uri=uri)
        if value == TokenStatus.SUSPENDED:
            raise CredentialSuspendedError("the token is suspended", uri=uri)
        return TokenStatusResult(status=value, uri=uri, index=idx)

    def clear_cache(self) -> None:
        """Forget every cached token."""
        with self._lock:
            self._cache.clear()

    def _verified_token(self, uri: str, *, now: datetime) -> VerifiedStatusListToken:
        started = self._clock()
        with self._lock:
            cached = self._cache.get(uri)
        if cached is not None and started - cached.fetched_at < cached.ttl:
            return cached.token
        token = self._fetch_and_verify(uri, now=now)
        ttl = (
            timedelta(seconds=token.ttl) if token.ttl is not None else self._default_ttl
        )
        if self._max_ttl is not None:
            ttl = min(ttl, self._max_ttl)
        if self._max_cache_entries:
            with self._lock:
                self._cache.pop(uri, None)
                while len(self._cache) >= self._max_cache_entries:
                    del self._cache[next(iter(self._cache))]
                self._cache[uri] = _CachedToken(started, ttl, token)
        return token

    def _fetch_and_verify(self, uri: str, *, now: datetime) -> VerifiedStatusListToken:
        try:
            body = self._fetcher.fetch(uri)
        except ResolutionError as exc:
            raise StatusUnavailableError(
                "the status list token could not be fetched", uri=uri, cause=exc.code
            ) from exc
        try:
            text = body.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise StatusListInvalidError(
                "the status list token is not a compact JWS", reason="jws"
            ) from exc
        header, _ = split_status_list_token(text)
        kid = header.get("kid")
        try:
            key = self._resolve_key(uri, kid if isinstance(kid, str) else None)
        except ResolutionError as exc:
            raise StatusUnavailableError(
                "the status list token's key could not be resolved",
                uri=uri,
                cause=exc.code,
            ) from exc
        except DidVaultError as exc:
            raise StatusListInvalidError(
                "no usable key for the status list token",
                reason="key",
                cause=exc.code,
            ) from exc
        return verify_status_list_token(
            text,
            key=key,
            now=now,
            expected_sub=uri,
            leeway=self._leeway,
            max_list_bytes=self._max_list_bytes,
        )
