"""W3C Bitstring Status List 1.0 (https://www.w3.org/TR/vc-bitstring-status-list/).

- :class:`BitstringStatusList`: the issuer's list, at least 131,072 entries of
  ``statusSize`` bits; ``encode()`` gives the ``encodedList`` (multibase ``u`` +
  unpadded base64url of the GZIP-compressed bitstring, entry 0 at the left-most bit).
- :class:`BitstringStatusListEntry`: the ``credentialStatus`` entry of a credential.
- :func:`build_status_list_credential`: the unsigned ``BitstringStatusListCredential``;
  sign it with ``issue_credential`` like any other credential.
- :class:`StatusListChecker`: the verifier's side (the spec's Validate Algorithm),
  fetching through an injected fetcher, verifying the list's proof through an injected
  callable, and caching verified lists for their ``ttl``.
"""

import gzip
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from did_vault.credentials._bits import (
    GZIP_WBITS,
    STATUS_SIZES,
    BitOrder,
    StatusBits,
    decode_list,
)
from did_vault.errors import (
    CredentialRevokedError,
    CredentialSuspendedError,
    DidVaultError,
    InvalidStatusEntryError,
    ResolutionError,
    StatusIndexOutOfRangeError,
    StatusListExpiredError,
    StatusListInvalidError,
    StatusListTooShortError,
    StatusPurposeMismatchError,
    StatusUnavailableError,
    UnsupportedStatusError,
    VerificationError,
)
from did_vault.primitives.b64 import b64url_encode

CREDENTIALS_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VERIFIABLE_CREDENTIAL_TYPE = "VerifiableCredential"
STATUS_LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
STATUS_LIST_TYPE = "BitstringStatusList"
STATUS_LIST_ENTRY_TYPE = "BitstringStatusListEntry"
MULTIBASE_BASE64URL_PREFIX = "u"

MIN_LIST_ENTRIES = 131_072
"""The spec's minimumNumberOfEntries (16 KB of 1-bit entries): herd privacy."""
DEFAULT_TTL_MS = 300_000
"""``ttl`` to use when the list credential has none (spec: 300000 ms)."""
DEFAULT_MAX_LIST_BYTES = 16 * 1024 * 1024
"""Inflated bitstring bound: 134 million 1-bit entries, and no decompression bomb."""
DEFAULT_MAX_CACHE_ENTRIES = 64
DEFAULT_LEEWAY = timedelta(seconds=60)

_INDEX = re.compile(r"[0-9]{1,64}", re.ASCII)
_STATUS_HEX = re.compile(r"0x[0-9a-fA-F]{1,2}", re.ASCII)


class StatusPurpose(StrEnum):
    """The ``statusPurpose`` values the spec gives a meaning to."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"
    MESSAGE = "message"


# --- the issuer's list --------------------------------------------------------------


class BitstringStatusList:
    """A mutable bitstring of ``length`` entries of ``status_size`` bits (W3C order).

    ``length`` defaults to, and may not be below, the spec's minimum of 131,072
    entries; a larger list gives more herd privacy.
    """

    __slots__ = ("_bits",)

    def __init__(self, length: int = MIN_LIST_ENTRIES, *, status_size: int = 1) -> None:
        if isinstance(length, bool) or not isinstance(length, int):
            raise TypeError("length is an int")
        if length < MIN_LIST_ENTRIES:
            raise ValueError(f"a status list has at least {MIN_LIST_ENTRIES} entries")
        self._bits = StatusBits(
            length, status_size=status_size, order=BitOrder.MSB_FIRST
        )

    @classmethod
    def decode(
        cls,
        encoded_list: str,
        *,
        status_size: int = 1,
        min_entries: int = MIN_LIST_ENTRIES,
        max_bytes: int = DEFAULT_MAX_LIST_BYTES,
    ) -> Self:
        """Parse an ``encodedList`` (the spec's Bitstring Expansion Algorithm).

        Raises:
            StatusListInvalidError: no ``u`` multibase prefix, bad base64url, or not
                one complete GZIP member (``context["reason"]`` says which).
            StatusListTooLargeError: the bitstring inflates past ``max_bytes``.
            StatusListTooShortError: fewer than ``min_entries`` entries.
            UnsupportedStatusError: a ``status_size`` other than 1, 2, 4 or 8.
        """
        bits = decode_bitstring(encoded_list, max_bytes=max_bytes)
        if status_size not in STATUS_SIZES:
            raise UnsupportedStatusError(
                "statusSize not supported", status_size=status_size
            )
        entries = len(bits) * 8 // status_size
        if entries < min_entries:
            raise StatusListTooShortError(
                "the status list has fewer entries than the minimum",
                entries=entries,
                minimum=min_entries,
            )
        status_list = cls.__new__(cls)
        status_list._bits = StatusBits.from_bytes(
            bits, status_size=status_size, order=BitOrder.MSB_FIRST
        )
        return status_list

    def encode(self) -> str:
        """The ``encodedList``: ``u`` + base64url(GZIP(bitstring)), deterministic."""
        compressed = gzip.compress(self._bits.to_bytes(), compresslevel=9, mtime=0)
        return MULTIBASE_BASE64URL_PREFIX + b64url_encode(compressed)

    @property
    def status_size(self) -> int:
        return self._bits.status_size

    def __len__(self) -> int:
        return len(self._bits)

    def __repr__(self) -> str:
        return (
            f"BitstringStatusList(length={len(self)}, status_size={self.status_size})"
        )

    def get(self, index: int) -> int:
        """The status value at ``index``.

        Raises:
            IndexError: ``index`` outside the list.
        """
        return self._bits.get(index)

    def set(self, index: int, value: int = 1) -> None:
        """Set the status value at ``index`` (1 = revoked / suspended for 1-bit lists).

        Raises:
            IndexError: ``index`` outside the list.
            ValueError: ``value`` does not fit in ``status_size`` bits.
        """
        self._bits.set(index, value)

    def count_nonzero(self) -> int:
        """How many entries hold a non-zero status."""
        return self._bits.count_nonzero()

    def to_bytes(self) -> bytes:
        """The uncompressed bitstring."""
        return self._bits.to_bytes()


def decode_bitstring(
    encoded_list: str, *, max_bytes: int = DEFAULT_MAX_LIST_BYTES
) -> bytes:
    """Multibase-base64url-decode and GUNZIP an ``encodedList``, bounded.

    Raises:
        StatusListInvalidError: bad prefix, base64url or GZIP (``context["reason"]``).
        StatusListTooLargeError: the bitstring inflates past ``max_bytes``.
    """
    if not isinstance(encoded_list, str) or not encoded_list.startswith(
        MULTIBASE_BASE64URL_PREFIX
    ):
        raise StatusListInvalidError(
            "encodedList is not multibase base64url ('u' prefix)", reason="encoding"
        )
    bits = decode_list(
        encoded_list[1:],
        wbits=GZIP_WBITS,
        max_bytes=max_bytes,
        member="encodedList",
        container="GZIP-compressed",
    )
    if not bits:
        raise StatusListTooShortError("the status list is empty", entries=0)
    return bits


# --- the credential's entry ---------------------------------------------------------


class StatusMessage(BaseModel):
    """One ``statusMessage`` element: a ``0x``-hex ``status`` and its ``message``."""

    model_config = ConfigDict(frozen=True, extra="allow")

    status: str
    message: str

    @field_validator("status")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _STATUS_HEX.fullmatch(value):
            raise ValueError("status must be a hexadecimal string prefixed with 0x")
        return value

    @property
    def value(self) -> int:
        return int(self.status, 16)


class BitstringStatusListEntry(BaseModel):
    """A ``credentialStatus`` entry of type ``BitstringStatusListEntry``."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    id: str | None = None
    type: Literal["BitstringStatusListEntry"] = "BitstringStatusListEntry"
    status_purpose: str = Field(alias="statusPurpose", min_length=1)
    status_list_index: str = Field(alias="statusListIndex")
    status_list_credential: str = Field(alias="statusListCredential", min_length=1)
    status_size: int = Field(default=1, alias="statusSize", gt=0, strict=True)
    status_message: tuple[StatusMessage, ...] | None = Field(
        default=None, alias="statusMessage"
    )
    status_reference: str | tuple[str, ...] | None = Field(
        default=None, alias="statusReference"
    )

    @field_validator("status_list_index")
    @classmethod
    def _decimal(cls, value: str) -> str:
        if not _INDEX.fullmatch(value):
            raise ValueError("statusListIndex must be a base-10 integer string")
        return value

    @property
    def index(self) -> int:
        return int(self.status_list_index)

    @classmethod
    def from_mapping(cls, entry: Mapping[str, Any]) -> Self:
        """Parse and check one entry.

        Raises:
            UnsupportedStatusError: the entry's ``type`` is not
                ``BitstringStatusListEntry``, or its ``statusSize`` is not 1, 2, 4, 8.
            InvalidStatusEntryError: a missing or malformed member, or a
                ``statusMessage`` whose length is not ``2**statusSize``.
        """
        if not isinstance(entry, Mapping):
            raise InvalidStatusEntryError("a credentialStatus entry is a JSON object")
        if entry.get("type") != STATUS_LIST_ENTRY_TYPE:
            raise UnsupportedStatusError(
                "credentialStatus type not supported", type=str(entry.get("type"))
            )
        try:
            parsed = cls.model_validate(dict(entry))
        except ValidationError as exc:
            fields = ",".join(
                ".".join(str(p) for p in error["loc"]) for error in exc.errors()
            )
            raise InvalidStatusEntryError(
                "malformed BitstringStatusListEntry", fields=fields
            ) from exc
        parsed._check_sizes()
        return parsed

    def _check_sizes(self) -> None:
        if self.status_size not in STATUS_SIZES:
            raise UnsupportedStatusError(
                "statusSize not supported", status_size=self.status_size
            )
        wanted = 1 << self.status_size
        if self.status_size > 1 and self.status_message is None:
            raise InvalidStatusEntryError(
                "statusMessage is required when statusSize > 1",
                status_size=self.status_size,
            )
        if self.status_message is not None:
            if len(self.status_message) != wanted:
                raise InvalidStatusEntryError(
                    "statusMessage must have 2**statusSize elements",
                    expected=wanted,
                    actual=len(self.status_message),
                )
            if any(m.value >= wanted for m in self.status_message):
                raise InvalidStatusEntryError(
                    "a statusMessage status does not fit in statusSize bits"
                )

    def message_for(self, value: int) -> str:
        """The message for a status value ("set"/"unset" without ``statusMessage``)."""
        if self.status_message is None:
            return "set" if value else "unset"
        for message in self.status_message:
            if message.value == value:
                return message.message
        return "undefined"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as it goes into a credential's ``credentialStatus``."""
        body = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        if self.status_size == 1 and "statusSize" not in self.model_fields_set:
            body.pop("statusSize", None)
        return body


def make_status_entry(
    *,
    status_list_credential: str,
    index: int,
    purpose: str = StatusPurpose.REVOCATION,
    status_size: int = 1,
    status_messages: Sequence[tuple[int, str]] | None = None,
    entry_id: str | None = None,
    status_reference: str | None = None,
) -> BitstringStatusListEntry:
    """Build an entry to put in a credential's ``credentialStatus``.

    ``entry_id`` defaults to ``<statusListCredential>#<index>`` (it must not be the
    list's URL). ``status_messages`` is ``[(value, message), …]``.

    Raises:
        InvalidStatusEntryError / UnsupportedStatusError: as
            :meth:`BitstringStatusListEntry.from_mapping`.
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError("index is a non-negative int")
    body: dict[str, Any] = {
        "id": entry_id or f"{status_list_credential}#{index}",
        "type": STATUS_LIST_ENTRY_TYPE,
        "statusPurpose": str(purpose),
        "statusListIndex": str(index),
        "statusListCredential": status_list_credential,
    }
    if status_size != 1:
        body["statusSize"] = status_size
    if status_messages is not None:
        body["statusMessage"] = [
            {"status": f"0x{value:x}", "message": message}
            for value, message in status_messages
        ]
    if status_reference is not None:
        body["statusReference"] = status_reference
    return BitstringStatusListEntry.from_mapping(body)


# --- the list credential ------------------------------------------------------------


def build_status_list_credential(
    *,
    credential_id: str,
    issuer: str | Mapping[str, Any],
    status_list: BitstringStatusList,
    purpose: str | Sequence[str] = StatusPurpose.REVOCATION,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
    subject_id: str | None = None,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` (VC Data Model 2.0).

    Sign it with ``issue_credential``; publish it at ``credential_id`` (the URL the
    entries' ``statusListCredential`` names).
    """
    if ttl_ms is not None and (isinstance(ttl_ms, bool) or ttl_ms < 0):
        raise ValueError("ttl_ms is a non-negative int")
    purposes = [str(purpose)] if isinstance(purpose, str) else [str(p) for p in purpose]
    if not purposes:
        raise ValueError("a status list has at least one purpose")
    subject: dict[str, Any] = {
        "id": subject_id or f"{credential_id}#list",
        "type": STATUS_LIST_TYPE,
        "statusPurpose": purposes[0] if len(purposes) == 1 else purposes,
        "encodedList": status_list.encode(),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2_CONTEXT],
        "id": credential_id,
        "type": [VERIFIABLE_CREDENTIAL_TYPE, STATUS_LIST_CREDENTIAL_TYPE],
        "issuer": issuer if isinstance(issuer, str) else dict(issuer),
    }
    if valid_from is not None:
        credential["validFrom"] = _timestamp(valid_from)
    if valid_until is not None:
        credential["validUntil"] = _timestamp(valid_until)
    credential["credentialSubject"] = subject
    return credential


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_timestamp(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise StatusListInvalidError(f"{name} is not a string", reason=name)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise StatusListInvalidError(
            f"{name} is not a dateTimeStamp", reason=name
        ) from exc
    if moment.tzinfo is None:
        raise StatusListInvalidError(f"{name} has no time zone", reason=name)
    return moment


# --- the verifier's side ------------------------------------------------------------


class Fetcher(Protocol):
    """Fetches a URL's body (``did_vault.dids._fetch.HttpxFetcher`` fits)."""

    def fetch(self, url: str) -> bytes:
        """Return the body.

        Raises:
            ResolutionError: it could not be fetched.
        """
        ...


class StatusListCredentialVerifier(Protocol):
    """Verifies a status list credential's proofs; raises a did_vault error if not.

    It must not check the list credential's own ``credentialStatus`` (that would
    recurse); the checker checks the list's validity period itself.
    """

    def __call__(self, credential: Mapping[str, Any], *, now: datetime) -> object: ...


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StatusResult:
    """The outcome of one entry's check (the spec's result map)."""

    purpose: str
    status: int
    message: str | None
    status_list_credential: str
    index: int

    @property
    def is_valid(self) -> bool:
        """True when the status value is 0 (spec: ``valid``)."""
        return self.status == 0


@dataclass(frozen=True, slots=True)
class _VerifiedList:
    fetched_at: datetime
    ttl: timedelta
    purposes: frozenset[str]
    valid_from: datetime | None
    valid_until: datetime | None
    bitstring: bytes
    issuer: str | None


class StatusListChecker:
    """Checks ``BitstringStatusListEntry`` entries against their published lists.

    ``fetcher`` gets the list credential; ``verify_list`` checks its proof (and may
    check its issuer is trusted). Verified lists are cached per URL for their
    ``ttl`` (default 300 s), measured with ``clock``; the validity period is checked
    against the ``now`` of each :meth:`check`. ``min_entries`` is the spec's
    minimumNumberOfEntries; an ecosystem may lower it, tests do.
    """

    def __init__(
        self,
        *,
        fetcher: Fetcher,
        verify_list: StatusListCredentialVerifier,
        clock: Clock = _utc_now,
        min_entries: int = MIN_LIST_ENTRIES,
        max_list_bytes: int = DEFAULT_MAX_LIST_BYTES,
        max_ttl: timedelta | None = None,
        max_cache_entries: int = DEFAULT_MAX_CACHE_ENTRIES,
        leeway: timedelta = DEFAULT_LEEWAY,
    ) -> None:
        if min_entries < 1 or max_list_bytes < 1 or max_cache_entries < 0:
            raise ValueError("min_entries and max_list_bytes must be positive")
        self._fetcher = fetcher
        self._verify_list = verify_list
        self._clock = clock
        self._min_entries = min_entries
        self._max_list_bytes = max_list_bytes
        self._max_ttl = max_ttl
        self._max_cache_entries = max_cache_entries
        self._leeway = leeway
        self._cache: dict[str, _VerifiedList] = {}
        self._lock = threading.Lock()

    def check(
        self, entry: Mapping[str, Any], *, now: datetime, issuer: str | None = None
    ) -> StatusResult:
        """Check one ``credentialStatus`` entry (the spec's Validate Algorithm).

        Returns the result for a clear status, and for every ``message`` purpose
        value (with its message). ``issuer`` is the issuer of the credential being
        checked: when given, the status list must be issued by it too, so that a
        list served from a hijacked URL and signed by anyone else cannot clear a
        revoked credential.

        Raises:
            CredentialRevokedError: a ``revocation`` entry whose status is set.
            CredentialSuspendedError: a ``suspension`` entry whose status is set.
            InvalidStatusEntryError: a malformed entry.
            UnsupportedStatusError: another entry type, or an unsupported statusSize.
            StatusUnavailableError: the list could not be fetched.
            StatusListInvalidError: the list credential is not valid JSON, fails its
                proof, is not a BitstringStatusListCredential, or is not yet valid.
            StatusListExpiredError: its ``validUntil`` has passed.
            StatusListTooShortError / StatusListTooLargeError: the list's length.
            StatusPurposeMismatchError: the list does not carry the entry's purpose.
            StatusIndexOutOfRangeError: the index is outside the list.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        parsed = BitstringStatusListEntry.from_mapping(entry)
        url = parsed.status_list_credential
        verified = self._verified_list(url, now=now)
        if issuer is not None and verified.issuer != issuer:
            raise StatusListInvalidError(
                "the status list is not issued by the credential's issuer",
                reason="issuer",
                url=url,
            )
        if verified.valid_from is not None and now + self._leeway < verified.valid_from:
            raise StatusListInvalidError(
                "the status list is not valid yet", reason="not-yet-valid", url=url
            )
        if (
            verified.valid_until is not None
            and now - self._leeway > verified.valid_until
        ):
            raise StatusListExpiredError("the status list has expired", url=url)
        if parsed.status_purpose not in verified.purposes:
            raise StatusPurposeMismatchError(
                "the status list does not carry the entry's statusPurpose",
                purpose=parsed.status_purpose,
            )
        size = parsed.status_size
        entries = len(verified.bitstring) * 8 // size
        if entries < self._min_entries:
            raise StatusListTooShortError(
                "the status list has fewer entries than the minimum",
                entries=entries,
                minimum=self._min_entries,
            )
        index = parsed.index
        if index >= entries:
            raise StatusIndexOutOfRangeError(
                "statusListIndex is outside the status list",
                index=parsed.status_list_index,
                entries=entries,
            )
        bits = StatusBits.from_bytes(
            verified.bitstring, status_size=size, order=BitOrder.MSB_FIRST
        )
        value = bits.get(index)
        purpose = parsed.status_purpose
        if value and purpose == StatusPurpose.REVOCATION:
            raise CredentialRevokedError("the credential has been revoked", url=url)
        if value and purpose == StatusPurpose.SUSPENSION:
            raise CredentialSuspendedError("the credential is suspended", url=url)
        message = (
            parsed.message_for(value)
            if purpose == StatusPurpose.MESSAGE or parsed.status_message is not None
            else None
        )
        return StatusResult(
            purpose=purpose,
            status=value,
            message=message,
            status_list_credential=url,
            index=index,
        )

    def check_all(
        self,
        credential_status: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        now: datetime,
        issuer: str | None = None,
    ) -> tuple[StatusResult, ...]:
        """Check a credential's ``credentialStatus`` (one entry or a list of them).

        Raises:
            InvalidStatusEntryError: neither an object nor a non-empty list of objects.
            (and everything :meth:`check` raises, for the first failing entry)
        """
        if isinstance(credential_status, Mapping):
            entries: Sequence[Any] = [credential_status]
        elif isinstance(credential_status, Sequence) and not isinstance(
            credential_status, str | bytes
        ):
            entries = credential_status
        else:
            raise InvalidStatusEntryError("credentialStatus is an object or a list")
        if not entries:
            raise InvalidStatusEntryError("credentialStatus is an empty list")
        return tuple(self.check(entry, now=now, issuer=issuer) for entry in entries)

    def clear_cache(self) -> None:
        """Forget every cached list."""
        with self._lock:
            self._cache.clear()

    def _verified_list(self, url: str, *, now: datetime) -> _VerifiedList:
        started = self._clock()
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and started - cached.fetched_at < cached.ttl:
            return cached
        verified = self._fetch_and_verify(url, now=now, fetched_at=started)
        if self._max_cache_entries:
            with self._lock:
                self._cache.pop(url, None)
                while len(self._cache) >= self._max_cache_entries:
                    del self._cache[next(iter(self._cache))]
                self._cache[url] = verified
        return verified

    def _fetch_and_verify(
        self, url: str, *, now: datetime, fetched_at: datetime
    ) -> _VerifiedList:
        try:
            body = self._fetcher.fetch(url)
        except ResolutionError as exc:
            raise StatusUnavailableError(
                "the status list could not be fetched", url=url, cause=exc.code
            ) from exc
        credential = _parse_json(body, url=url)
        try:
            self._verify_list(credential, now=now)
        except (VerificationError, ResolutionError) as exc:
            if isinstance(exc, StatusListInvalidError):
                raise
            if isinstance(exc, ResolutionError):
                raise StatusUnavailableError(
                    "the status list's proof could not be checked",
                    url=url,
                    cause=exc.code,
                ) from exc
            raise StatusListInvalidError(
                "the status list credential does not verify",
                reason="proof",
                cause=exc.code,
                url=url,
            ) from exc
        except DidVaultError as exc:
            raise StatusListInvalidError(
                "the status list credential does not verify",
                reason="proof",
                cause=exc.code,
                url=url,
            ) from exc
        return self._read_list_credential(credential, url=url, fetched_at=fetched_at)

    def _read_list_credential(
        self, credential: dict[str, Any], *, url: str, fetched_at: datetime
    ) -> _VerifiedList:
        types = credential.get("type")
        if not isinstance(types, list) or STATUS_LIST_CREDENTIAL_TYPE not in types:
            raise StatusListInvalidError(
                "not a BitstringStatusListCredential", reason="type", url=url
            )
        credential_id = credential.get("id")
        if credential_id is not None and credential_id != url:
            raise StatusListInvalidError(
                "the status list credential's id is not the URL it was fetched from",
                reason="id",
                url=url,
            )
        subject = credential.get("credentialSubject")
        if not isinstance(subject, dict) or subject.get("type") != STATUS_LIST_TYPE:
            raise StatusListInvalidError(
                "credentialSubject is not a BitstringStatusList",
                reason="subject",
                url=url,
            )
        purposes = subject.get("statusPurpose")
        if isinstance(purposes, str):
            purposes = [purposes]
        if (
            not isinstance(purposes, list)
            or not purposes
            or not all(isinstance(p, str) and p for p in purposes)
        ):
            raise StatusListInvalidError(
                "statusPurpose is not a string or a list of strings",
                reason="purpose",
                url=url,
            )
        ttl_ms = subject.get("ttl", DEFAULT_TTL_MS)
        if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms < 0:
            raise StatusListInvalidError(
                "ttl is not a non-negative integer", reason="ttl", url=url
            )
        ttl = timedelta(milliseconds=ttl_ms)
        if self._max_ttl is not None:
            ttl = min(ttl, self._max_ttl)
        encoded_list = subject.get("encodedList")
        if not isinstance(encoded_list, str):
            raise StatusListInvalidError(
                "encodedList is missing or not a string", reason="encoding", url=url
            )
        bitstring = decode_bitstring(encoded_list, max_bytes=self._max_list_bytes)
        return _VerifiedList(
            fetched_at=fetched_at,
            ttl=ttl,
            purposes=frozenset(purposes),
            valid_from=_parse_timestamp(credential.get("validFrom"), "validFrom"),
            valid_until=_parse_timestamp(credential.get("validUntil"), "validUntil"),
            bitstring=bitstring,
            issuer=_issuer_id(credential.get("issuer")),
        )


def _issuer_id(issuer: object) -> str | None:
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        return str(issuer["id"])
    return None


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def _parse_json(body: bytes, *, url: str) -> dict[str, Any]:
    try:
        document = json.loads(
            body.decode("utf-8"), object_pairs_hook=_reject_duplicates
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise StatusListInvalidError(
            "the status list credential is not JSON", reason="json", url=url
        ) from exc
    if not isinstance(document, dict):
        raise StatusListInvalidError(
            "the status list credential is not a JSON object", reason="json", url=url
        )
    return document
