"""W3C Bitstring Status List: building, the entry model, and the checker."""

import base64
import gzip
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from did_vault.credentials.status import (
    MIN_LIST_ENTRIES,
    BitstringStatusList,
    BitstringStatusListEntry,
    StatusListChecker,
    build_status_list_credential,
    make_status_entry,
)
from did_vault.errors import (
    CredentialRevokedError,
    CredentialSuspendedError,
    DidVaultError,
    InvalidSignatureError,
    InvalidStatusEntryError,
    ResolutionError,
    StatusIndexOutOfRangeError,
    StatusListExpiredError,
    StatusListInvalidError,
    StatusListTooLargeError,
    StatusListTooShortError,
    StatusPurposeMismatchError,
    StatusUnavailableError,
    UnsupportedStatusError,
)

LIST_URL = "https://issuer.example/status/1"
ISSUER = "did:web:issuer.example"
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


class FakeFetcher:
    """Serves fixed bodies per URL and counts fetches."""

    def __init__(self, bodies: Mapping[str, bytes] | None = None) -> None:
        self.bodies = dict(bodies or {})
        self.calls: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.calls.append(url)
        if url not in self.bodies:
            raise ResolutionError("no such list", status=404)
        return self.bodies[url]


class Clock:
    def __init__(self, moment: datetime = NOW) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


class RecordingVerifier:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.seen: list[Mapping[str, Any]] = []

    def __call__(self, credential: Mapping[str, Any], *, now: datetime) -> object:
        self.seen.append(credential)
        if self.error is not None:
            raise self.error
        return credential


def _serve(credential: Mapping[str, Any], url: str = LIST_URL) -> FakeFetcher:
    return FakeFetcher({url: json.dumps(credential).encode()})


def _list_credential(
    status_list: BitstringStatusList | None = None,
    *,
    purpose: str | list[str] = "revocation",
    **kwargs: Any,
) -> dict[str, Any]:
    return build_status_list_credential(
        credential_id=LIST_URL,
        issuer=ISSUER,
        status_list=status_list or BitstringStatusList(),
        purpose=purpose,
        **kwargs,
    )


def _entry(
    index: int = 42, purpose: str = "revocation", **kwargs: Any
) -> dict[str, Any]:
    return make_status_entry(
        status_list_credential=LIST_URL, index=index, purpose=purpose, **kwargs
    ).to_dict()


def _checker(fetcher: FakeFetcher, **kwargs: Any) -> StatusListChecker:
    kwargs.setdefault("verify_list", RecordingVerifier())
    return StatusListChecker(fetcher=fetcher, **kwargs)


# --- the list -----------------------------------------------------------------------


def test_new_list_has_the_spec_minimum_and_encodes_with_multibase_prefix() -> None:
    status_list = BitstringStatusList()
    assert len(status_list) == MIN_LIST_ENTRIES == 131_072
    encoded = status_list.encode()
    assert encoded.startswith("u")
    assert "=" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "==")
    assert gzip.decompress(raw) == bytes(16 * 1024)


def test_list_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="131072"):
        BitstringStatusList(MIN_LIST_ENTRIES - 8)


def test_encode_decode_round_trip_keeps_bits_msb_first() -> None:
    status_list = BitstringStatusList()
    status_list.set(0)
    status_list.set(94567)
    decoded = BitstringStatusList.decode(status_list.encode())
    assert decoded.get(0) == 1
    assert decoded.get(94567) == 1
    assert decoded.get(94566) == 0
    assert decoded.to_bytes()[0] == 0x80
    assert decoded.count_nonzero() == 2


def test_encode_is_deterministic() -> None:
    first, second = BitstringStatusList(), BitstringStatusList()
    first.set(7)
    second.set(7)
    assert first.encode() == second.encode()


def test_two_bit_list_needs_twice_the_bytes() -> None:
    status_list = BitstringStatusList(status_size=2)
    status_list.set(1, 3)
    decoded = BitstringStatusList.decode(status_list.encode(), status_size=2)
    assert len(decoded.to_bytes()) == 32 * 1024
    assert decoded.get(1) == 3
    assert decoded.to_bytes()[0] == 0b0011_0000


def test_million_entry_list_round_trips() -> None:
    # Speed is measured in bench/, never asserted here.
    status_list = BitstringStatusList(1 << 20)
    for index in range(0, 1 << 20, 997):
        status_list.set(index)
    decoded = BitstringStatusList.decode(status_list.encode())
    assert decoded.count_nonzero() == len(range(0, 1 << 20, 997))


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        (
            "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
            "encoding",
        ),
        ("zH4sIAAAAAAAAA", "encoding"),
        ("uH4sI+AAA", "encoding"),
        ("uH4sIAAAAAAAAA==", "encoding"),
        ("u" + base64.urlsafe_b64encode(b"plain").decode().rstrip("="), "compression"),
    ],
    ids=["no-prefix", "base58-prefix", "bad-alphabet", "padded", "not-gzip"],
)
def test_decode_refuses_bad_encodings(encoded: str, reason: str) -> None:
    with pytest.raises(StatusListInvalidError) as caught:
        BitstringStatusList.decode(encoded)
    assert caught.value.code == "status.list-invalid"
    assert caught.value.context["reason"] == reason


def test_decode_refuses_a_short_list() -> None:
    short = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).decode().rstrip(
        "="
    )
    with pytest.raises(StatusListTooShortError) as caught:
        BitstringStatusList.decode(short)
    assert caught.value.code == "status.list-too-short"


def test_decode_stops_a_decompression_bomb() -> None:
    bomb = gzip.compress(bytes(32 * 1024 * 1024), compresslevel=9)
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(StatusListTooLargeError) as caught:
        BitstringStatusList.decode(encoded, max_bytes=1024 * 1024)
    assert caught.value.code == "status.list-too-large"


# --- the list credential ------------------------------------------------------------


def test_build_status_list_credential_follows_the_data_model() -> None:
    status_list = BitstringStatusList()
    credential = build_status_list_credential(
        credential_id=LIST_URL,
        issuer=ISSUER,
        status_list=status_list,
        purpose="suspension",
        valid_from=NOW,
        valid_until=NOW + timedelta(days=1),
        ttl_ms=60_000,
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-11-23T12:00:00Z",
        "validUntil": "2026-11-24T12:00:00Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "suspension",
            "encodedList": status_list.encode(),
            "ttl": 60_000,
        },
    }


def test_build_status_list_credential_with_several_purposes() -> None:
    credential = _list_credential(purpose=["revocation", "suspension"])
    assert credential["credentialSubject"]["statusPurpose"] == [
        "revocation",
        "suspension",
    ]


# --- the entry ----------------------------------------------------------------------


def test_make_status_entry_gives_a_spec_shaped_entry() -> None:
    assert _entry(94567) == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }


def test_message_entry_carries_size_and_messages() -> None:
    entry = _entry(
        7,
        "message",
        status_size=2,
        status_messages=[(0, "pending"), (1, "accepted"), (2, "rejected"), (3, "x")],
    )
    assert entry["statusSize"] == 2
    assert entry["statusMessage"][2] == {"status": "0x2", "message": "rejected"}


@pytest.mark.parametrize(
    "change",
    [
        {"statusListIndex": 42},
        {"statusListIndex": "-1"},
        {"statusListIndex": "4.2"},
        {"statusListIndex": "٤٢"},
        {"statusListIndex": ""},
        {"statusListCredential": None},
        {"statusPurpose": ""},
        {"statusSize": 0},
        {"statusSize": "1"},
        {"statusSize": 2},
        {
            "statusSize": 2,
            "statusMessage": [{"status": "0x0", "message": "a"}],
        },
        {"statusMessage": [{"status": "0", "message": "a"}] * 2},
        {"statusMessage": [{"status": "0x5", "message": "a"}] * 2},
    ],
    ids=[
        "index-not-string",
        "index-negative",
        "index-decimal",
        "index-non-ascii-digits",
        "index-empty",
        "no-list-url",
        "empty-purpose",
        "size-zero",
        "size-string",
        "size-2-without-messages",
        "wrong-message-count",
        "status-not-hex",
        "status-too-big",
    ],
)
def test_malformed_entries_are_refused(change: dict[str, Any]) -> None:
    entry = {**_entry(), **change}
    with pytest.raises(InvalidStatusEntryError) as caught:
        BitstringStatusListEntry.from_mapping(entry)
    assert caught.value.code == "status.entry-invalid"


def test_other_entry_types_are_unsupported() -> None:
    with pytest.raises(UnsupportedStatusError) as caught:
        BitstringStatusListEntry.from_mapping(
            {**_entry(), "type": "StatusList2021Entry"}
        )
    assert caught.value.code == "status.unsupported"


def test_status_size_three_is_unsupported() -> None:
    messages = [{"status": hex(i), "message": str(i)} for i in range(8)]
    entry = {**_entry(), "statusSize": 3, "statusMessage": messages}
    with pytest.raises(UnsupportedStatusError):
        BitstringStatusListEntry.from_mapping(entry)


# --- the checker --------------------------------------------------------------------


def test_clear_entry_returns_a_valid_result() -> None:
    verifier = RecordingVerifier()
    fetcher = _serve(_list_credential())
    result = _checker(fetcher, verify_list=verifier).check(_entry(), now=NOW)
    assert result.is_valid
    assert (result.purpose, result.status, result.index) == ("revocation", 0, 42)
    assert result.message is None
    assert verifier.seen[0]["id"] == LIST_URL


def test_revoked_entry_raises_credential_revoked() -> None:
    status_list = BitstringStatusList()
    status_list.set(42)
    fetcher = _serve(_list_credential(status_list))
    with pytest.raises(CredentialRevokedError) as caught:
        _checker(fetcher).check(_entry(42), now=NOW)
    assert caught.value.code == "credential.revoked"


def test_suspended_entry_raises_credential_suspended() -> None:
    status_list = BitstringStatusList()
    status_list.set(42)
    fetcher = _serve(_list_credential(status_list, purpose="suspension"))
    with pytest.raises(CredentialSuspendedError) as caught:
        _checker(fetcher).check(_entry(42, "suspension"), now=NOW)
    assert caught.value.code == "credential.suspended"


def test_neighbouring_index_is_not_revoked() -> None:
    status_list = BitstringStatusList()
    status_list.set(42)
    fetcher = _serve(_list_credential(status_list))
    checker = _checker(fetcher)
    assert checker.check(_entry(41), now=NOW).is_valid
    assert checker.check(_entry(43), now=NOW).is_valid


def test_message_purpose_returns_the_message() -> None:
    status_list = BitstringStatusList(status_size=2)
    status_list.set(7, 2)
    fetcher = _serve(_list_credential(status_list, purpose="message"))
    entry = _entry(
        7,
        "message",
        status_size=2,
        status_messages=[(0, "pending"), (1, "accepted"), (2, "rejected"), (3, "x")],
    )
    result = _checker(fetcher).check(entry, now=NOW)
    assert (result.status, result.message, result.is_valid) == (2, "rejected", False)


def test_multi_purpose_list_serves_both_purposes() -> None:
    status_list = BitstringStatusList()
    status_list.set(5)
    credential = _list_credential(status_list, purpose=["revocation", "suspension"])
    checker = _checker(_serve(credential))
    with pytest.raises(CredentialSuspendedError):
        checker.check(_entry(5, "suspension"), now=NOW)
    with pytest.raises(CredentialRevokedError):
        checker.check(_entry(5, "revocation"), now=NOW)


def test_check_all_accepts_a_list_and_fails_on_the_first_bad_entry() -> None:
    status_list = BitstringStatusList()
    status_list.set(9)
    checker = _checker(_serve(_list_credential(status_list)))
    results = checker.check_all([_entry(1), _entry(2)], now=NOW)
    assert [r.index for r in results] == [1, 2]
    with pytest.raises(CredentialRevokedError):
        checker.check_all([_entry(1), _entry(9)], now=NOW)
    with pytest.raises(InvalidStatusEntryError):
        checker.check_all([], now=NOW)


def test_index_out_of_range() -> None:
    fetcher = _serve(_list_credential())
    with pytest.raises(StatusIndexOutOfRangeError) as caught:
        _checker(fetcher).check(_entry(MIN_LIST_ENTRIES), now=NOW)
    assert caught.value.code == "status.index-out-of-range"


def test_purpose_mismatch() -> None:
    fetcher = _serve(_list_credential(purpose="suspension"))
    with pytest.raises(StatusPurposeMismatchError) as caught:
        _checker(fetcher).check(_entry(), now=NOW)
    assert caught.value.code == "status.purpose-mismatch"


def test_list_too_short_for_the_entry_size() -> None:
    # 131,072 one-bit entries are only 65,536 two-bit entries: below the minimum.
    fetcher = _serve(_list_credential(purpose="message"))
    entry = _entry(
        1, "message", status_size=2, status_messages=[(i, str(i)) for i in range(4)]
    )
    with pytest.raises(StatusListTooShortError) as caught:
        _checker(fetcher).check(entry, now=NOW)
    assert caught.value.code == "status.list-too-short"


def test_list_too_short_from_the_wire() -> None:
    credential = _list_credential()
    short = gzip.compress(bytes(1024))
    credential["credentialSubject"]["encodedList"] = "u" + base64.urlsafe_b64encode(
        short
    ).decode().rstrip("=")
    with pytest.raises(StatusListTooShortError):
        _checker(_serve(credential)).check(_entry(), now=NOW)


def test_bad_encoding_from_the_wire() -> None:
    credential = _list_credential()
    credential["credentialSubject"]["encodedList"] = "u!!!"
    with pytest.raises(StatusListInvalidError) as caught:
        _checker(_serve(credential)).check(_entry(), now=NOW)
    assert caught.value.context["reason"] == "encoding"


def test_oversized_decompression_from_the_wire() -> None:
    credential = _list_credential(BitstringStatusList(1 << 23))
    with pytest.raises(StatusListTooLargeError):
        _checker(_serve(credential), max_list_bytes=64 * 1024).check(_entry(), now=NOW)


def test_expired_list() -> None:
    credential = _list_credential(valid_until=NOW - timedelta(hours=1))
    with pytest.raises(StatusListExpiredError) as caught:
        _checker(_serve(credential)).check(_entry(), now=NOW)
    assert caught.value.code == "status.list-expired"


def test_list_not_yet_valid() -> None:
    credential = _list_credential(valid_from=NOW + timedelta(hours=1))
    with pytest.raises(StatusListInvalidError) as caught:
        _checker(_serve(credential)).check(_entry(), now=NOW)
    assert caught.value.context["reason"] == "not-yet-valid"


def test_list_within_leeway_is_accepted() -> None:
    credential = _list_credential(
        valid_from=NOW + timedelta(seconds=30), valid_until=NOW - timedelta(seconds=30)
    )
    assert _checker(_serve(credential)).check(_entry(), now=NOW).is_valid


def test_list_whose_proof_fails_is_invalid() -> None:
    verifier = RecordingVerifier(InvalidSignatureError("bad proof"))
    with pytest.raises(StatusListInvalidError) as caught:
        _checker(_serve(_list_credential()), verify_list=verifier).check(
            _entry(), now=NOW
        )
    assert caught.value.context == {
        "reason": "proof",
        "cause": "proof.signature-invalid",
        "url": LIST_URL,
    }


def test_list_whose_issuer_cannot_be_resolved_is_unavailable() -> None:
    verifier = RecordingVerifier(ResolutionError("did:web host down"))
    with pytest.raises(StatusUnavailableError):
        _checker(_serve(_list_credential()), verify_list=verifier).check(
            _entry(), now=NOW
        )


def test_fetch_failure_is_status_unavailable() -> None:
    with pytest.raises(StatusUnavailableError) as caught:
        _checker(FakeFetcher()).check(_entry(), now=NOW)
    assert caught.value.code == "status.unavailable"
    assert isinstance(caught.value, ResolutionError)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda c: c.update(type=["VerifiableCredential"]), "type"),
        (lambda c: c.update(id="https://issuer.example/status/2"), "id"),
        (lambda c: c["credentialSubject"].update(type="StatusList2021"), "subject"),
        (lambda c: c["credentialSubject"].update(statusPurpose=[]), "purpose"),
        (lambda c: c["credentialSubject"].update(ttl=-1), "ttl"),
        (lambda c: c["credentialSubject"].pop("encodedList"), "encoding"),
        (lambda c: c.update(validUntil="tomorrow"), "validUntil"),
        (lambda c: c.update(validFrom="2026-01-01T00:00:00"), "validFrom"),
    ],
    ids=[
        "not-a-list-credential",
        "id-not-the-url",
        "subject-type",
        "no-purpose",
        "negative-ttl",
        "no-encoded-list",
        "bad-valid-until",
        "valid-from-without-zone",
    ],
)
def test_malformed_list_credentials_are_invalid(mutate: Any, reason: str) -> None:
    credential = _list_credential()
    mutate(credential)
    with pytest.raises(StatusListInvalidError) as caught:
        _checker(_serve(credential)).check(_entry(), now=NOW)
    assert caught.value.code == "status.list-invalid"
    assert caught.value.context["reason"] == reason


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"a": 1, "a": 2}', b"\xff\xfe"],
    ids=["not-json", "not-object", "duplicate-member", "not-utf8"],
)
def test_list_body_that_is_not_a_json_object_is_invalid(body: bytes) -> None:
    fetcher = FakeFetcher({LIST_URL: body})
    with pytest.raises(StatusListInvalidError) as caught:
        _checker(fetcher).check(_entry(), now=NOW)
    assert caught.value.context["reason"] == "json"


def test_verified_list_is_cached_for_its_ttl() -> None:
    clock = Clock()
    status_list = BitstringStatusList()
    fetcher = _serve(_list_credential(status_list, ttl_ms=60_000))
    checker = _checker(fetcher, clock=clock)
    checker.check(_entry(), now=NOW)
    clock.moment += timedelta(seconds=59)
    checker.check(_entry(), now=NOW)
    assert len(fetcher.calls) == 1
    # The issuer revokes; after the ttl the new list is fetched.
    status_list.set(42)
    fetcher.bodies[LIST_URL] = json.dumps(
        _list_credential(status_list, ttl_ms=60_000)
    ).encode()
    clock.moment += timedelta(seconds=2)
    with pytest.raises(CredentialRevokedError):
        checker.check(_entry(), now=NOW)
    assert len(fetcher.calls) == 2


def test_default_ttl_is_five_minutes_and_max_ttl_caps_it() -> None:
    clock = Clock()
    fetcher = _serve(_list_credential())
    checker = _checker(fetcher, clock=clock)
    checker.check(_entry(), now=NOW)
    clock.moment += timedelta(seconds=299)
    checker.check(_entry(), now=NOW)
    assert len(fetcher.calls) == 1
    clock.moment += timedelta(seconds=2)
    checker.check(_entry(), now=NOW)
    assert len(fetcher.calls) == 2

    capped = _checker(fetcher, clock=clock, max_ttl=timedelta(seconds=10))
    capped.check(_entry(), now=NOW)
    clock.moment += timedelta(seconds=11)
    capped.check(_entry(), now=NOW)
    assert len(fetcher.calls) == 4


def test_failed_list_is_not_cached() -> None:
    verifier = RecordingVerifier(InvalidSignatureError("bad"))
    fetcher = _serve(_list_credential())
    checker = _checker(fetcher, verify_list=verifier)
    for _ in range(2):
        with pytest.raises(StatusListInvalidError):
            checker.check(_entry(), now=NOW)
    assert len(fetcher.calls) == 2


def test_expiry_is_rechecked_on_a_cached_list() -> None:
    credential = _list_credential(valid_until=NOW + timedelta(minutes=2))
    checker = _checker(_serve(credential))
    assert checker.check(_entry(), now=NOW).is_valid
    with pytest.raises(StatusListExpiredError):
        checker.check(_entry(), now=NOW + timedelta(minutes=4))


def test_every_failure_is_a_did_vault_error() -> None:
    fetcher = FakeFetcher({LIST_URL: b"{}"})
    with pytest.raises(DidVaultError):
        _checker(fetcher).check(_entry(), now=NOW)


def test_naive_now_is_a_caller_mistake() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _checker(_serve(_list_credential())).check(_entry(), now=datetime(2026, 1, 1))
