"""IETF Token Status List: the list, the Status List Token JWT, and the checker."""

import base64
import json
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from did_vault.credentials.token_status import (
    STATUS_LIST_JWT_TYP,
    TokenStatus,
    TokenStatusChecker,
    TokenStatusList,
    issue_status_list_token,
    parse_status_claim,
    verify_status_list_token,
)
from did_vault.errors import (
    CredentialRevokedError,
    CredentialSuspendedError,
    InvalidStatusEntryError,
    ResolutionError,
    StatusIndexOutOfRangeError,
    StatusListExpiredError,
    StatusListInvalidError,
    StatusListTooLargeError,
    StatusUnavailableError,
    UnsupportedAlgorithmError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey

URI = "https://issuer.example/statuslists/1"
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
ED_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
P256_KEY = PrivateKey(KeyAlgorithm.P256, bytes(31) + b"\x07")
OTHER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(31) + b"\x01")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _segment(value: Mapping[str, Any]) -> str:
    return _b64(json.dumps(value).encode())


def _list(**statuses: int) -> TokenStatusList:
    status_list = TokenStatusList(1024, bits=2)
    for index, value in statuses.items():
        status_list.set(int(index.lstrip("i")), value)
    return status_list


def _token(
    status_list: TokenStatusList | None = None,
    *,
    key: PrivateKey = ED_KEY,
    sub: str = URI,
    iat: datetime = NOW - timedelta(minutes=1),
    exp: datetime | None = NOW + timedelta(hours=1),
    ttl: int | None = 600,
) -> str:
    return issue_status_list_token(
        status_list or _list(),
        key=key,
        sub=sub,
        iat=iat,
        exp=exp,
        ttl=ttl,
        kid="key-1",
    )


def _forge(
    header: Mapping[str, Any], claims: Mapping[str, Any], key: PrivateKey
) -> str:
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": URI,
        "iat": int(NOW.timestamp()) - 60,
        "exp": int(NOW.timestamp()) + 3600,
        "status_list": _list().to_json(),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


HEADER = {"alg": "EdDSA", "typ": STATUS_LIST_JWT_TYP}


class FakeFetcher:
    def __init__(self, bodies: Mapping[str, bytes] | None = None) -> None:
        self.bodies = dict(bodies or {})
        self.calls: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.calls.append(url)
        if url not in self.bodies:
            raise ResolutionError("not found", status=404)
        return self.bodies[url]


class Clock:
    def __init__(self) -> None:
        self.moment = NOW

    def __call__(self) -> datetime:
        return self.moment


def _keys(key: PublicKey = ED_KEY.public_key) -> Any:
    seen: list[tuple[str, str | None]] = []

    def resolve(uri: str, kid: str | None) -> PublicKey:
        seen.append((uri, kid))
        return key

    resolve.seen = seen  # type: ignore[attr-defined]
    return resolve


def _checker(token: str, **kwargs: Any) -> tuple[TokenStatusChecker, FakeFetcher]:
    fetcher = FakeFetcher({URI: token.encode()})
    kwargs.setdefault("resolve_key", _keys())
    return TokenStatusChecker(fetcher=fetcher, **kwargs), fetcher


def _status(idx: int, uri: str = URI) -> dict[str, Any]:
    return {"status_list": {"idx": idx, "uri": uri}}


# --- the list -----------------------------------------------------------------------


def test_list_round_trips_through_json() -> None:
    status_list = TokenStatusList(64, bits=4)
    status_list.set(3, 0xC)
    again = TokenStatusList.from_json(status_list.to_json())
    assert again.bits == 4
    assert again.get(3) == 0xC
    assert again.to_bytes()[1] == 0xC0


def test_list_uses_zlib_not_gzip() -> None:
    lst = TokenStatusList(8).to_json()["lst"]
    raw = base64.urlsafe_b64decode(lst + "==")
    assert raw[0] == 0x78  # ZLIB header, RFC 1950


@pytest.mark.parametrize(
    ("status_list", "reason"),
    [
        ({"bits": 3, "lst": "eNrbuRgAAhcBXQ"}, "bits"),
        ({"bits": True, "lst": "eNrbuRgAAhcBXQ"}, "bits"),
        ({"bits": 1}, "encoding"),
        ({"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}, "encoding"),
        ({"bits": 1, "lst": _b64(b"not zlib")}, "compression"),
        ({"bits": 1, "lst": _b64(zlib.compress(b""))}, "empty"),
        ([1, 2], "status_list"),
    ],
    ids=["bits-3", "bits-bool", "no-lst", "padded", "not-zlib", "empty", "not-object"],
)
def test_malformed_lists_are_invalid(status_list: Any, reason: str) -> None:
    with pytest.raises(StatusListInvalidError) as caught:
        TokenStatusList.from_json(status_list)
    assert caught.value.context["reason"] == reason


def test_list_decompression_is_bounded() -> None:
    bomb = {"bits": 1, "lst": _b64(zlib.compress(bytes(8 * 1024 * 1024), 9))}
    with pytest.raises(StatusListTooLargeError) as caught:
        TokenStatusList.from_json(bomb, max_bytes=1024 * 1024)
    assert caught.value.code == "status.list-too-large"


# --- the Status List Token ----------------------------------------------------------


@pytest.mark.parametrize("key", [ED_KEY, P256_KEY], ids=["EdDSA", "ES256"])
def test_issued_token_verifies(key: PrivateKey) -> None:
    token = _token(_list(i5=TokenStatus.SUSPENDED), key=key)
    verified = verify_status_list_token(token, key=key.public_key, now=NOW)
    assert verified.header == {
        "alg": key.algorithm.jws_algorithm,
        "kid": "key-1",
        "typ": "statuslist+jwt",
    }
    assert verified.sub == URI
    assert verified.ttl == 600
    assert verified.status_list.get(5) == TokenStatus.SUSPENDED


def test_token_with_wrong_typ_is_refused() -> None:
    token = _forge({**HEADER, "typ": "JWT"}, _claims(), ED_KEY)
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == "typ"


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", None])
def test_token_with_disallowed_alg_is_refused(alg: str | None) -> None:
    token = _forge({**HEADER, "alg": alg}, _claims(), ED_KEY)
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == "alg"


def test_token_alg_must_match_the_key_type() -> None:
    token = _forge({**HEADER, "alg": "ES256"}, _claims(), ED_KEY)
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == "alg"


def test_token_signed_by_another_key_is_refused() -> None:
    token = _token(key=OTHER_KEY)
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == "signature"


def test_tampered_token_is_refused() -> None:
    header, _, signature = _token().split(".")
    revoked_free = _segment(_claims(status_list=TokenStatusList(8).to_json()))
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(
            f"{header}.{revoked_free}.{signature}", key=ED_KEY.public_key, now=NOW
        )
    assert caught.value.context["reason"] == "signature"


def test_header_supplied_key_is_ignored() -> None:
    header = {**HEADER, "jwk": OTHER_KEY.public_key.to_jwk()}
    token = _forge(header, _claims(), OTHER_KEY)
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == "signature"


def test_crit_header_is_refused() -> None:
    token = _forge({**HEADER, "crit": ["exp"]}, _claims(), ED_KEY)
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == "crit"


def test_expired_token_is_refused() -> None:
    token = _token(exp=NOW - timedelta(minutes=5))
    with pytest.raises(StatusListExpiredError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.code == "status.list-expired"


def test_token_iat_in_the_future_is_refused() -> None:
    token = _token(iat=NOW + timedelta(minutes=5))
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == "iat"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (_claims(sub=None), "sub"),
        (_claims(iat=None), "iat"),
        (_claims(iat="yesterday"), "iat"),
        (_claims(exp="soon"), "exp"),
        (_claims(ttl=0), "ttl"),
        (_claims(ttl=True), "ttl"),
        (_claims(status_list=None), "status_list"),
    ],
    ids=[
        "no-sub",
        "no-iat",
        "iat-string",
        "exp-string",
        "ttl-zero",
        "ttl-bool",
        "no-list",
    ],
)
def test_token_with_bad_claims_is_refused(claims: dict[str, Any], reason: str) -> None:
    token = _forge(HEADER, claims, ED_KEY)
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == reason


def test_token_sub_must_be_the_referenced_uri() -> None:
    token = _token(sub="https://issuer.example/statuslists/2")
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(
            token, key=ED_KEY.public_key, now=NOW, expected_sub=URI
        )
    assert caught.value.context["reason"] == "sub"


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!.e30.sig", f"{_segment(HEADER)}.W10.sig"],
    ids=["empty", "two-parts", "four-parts", "bad-header", "payload-array"],
)
def test_malformed_compact_jws_is_refused(token: str) -> None:
    with pytest.raises(StatusListInvalidError):
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)


def test_duplicate_claims_are_refused() -> None:
    payload = _b64(b'{"sub":"https://a.example","sub":"https://b.example"}')
    signing_input = f"{_segment(HEADER)}.{payload}"
    token = f"{signing_input}.{_b64(ED_KEY.sign(signing_input.encode()))}"
    with pytest.raises(StatusListInvalidError) as caught:
        verify_status_list_token(token, key=ED_KEY.public_key, now=NOW)
    assert caught.value.context["reason"] == "payload"


def test_issue_rejects_a_non_positive_ttl() -> None:
    with pytest.raises(ValueError, match="ttl"):
        _token(ttl=0)


# --- the referenced token's status claim --------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        {},
        {"status_list": "x"},
        _status(-1),
        _status(True),
        {"status_list": {"idx": "0", "uri": URI}},
        {"status_list": {"idx": 0}},
        {"status_list": {"idx": 0, "uri": "not a uri"}},
    ],
    ids=["empty", "not-object", "negative", "bool", "idx-string", "no-uri", "bad-uri"],
)
def test_malformed_status_claims_are_refused(status: Any) -> None:
    with pytest.raises(InvalidStatusEntryError) as caught:
        parse_status_claim(status)
    assert caught.value.code == "status.entry-invalid"


# --- the checker --------------------------------------------------------------------


def test_valid_status() -> None:
    resolve = _keys()
    checker, _ = _checker(_token(), resolve_key=resolve)
    result = checker.check(_status(3), now=NOW)
    assert result.is_valid
    assert (result.status, result.uri, result.index) == (0, URI, 3)
    assert resolve.seen == [(URI, "key-1")]


def test_invalid_status_raises_credential_revoked() -> None:
    checker, _ = _checker(_token(_list(i3=TokenStatus.INVALID)))
    with pytest.raises(CredentialRevokedError) as caught:
        checker.check(_status(3), now=NOW)
    assert caught.value.code == "credential.revoked"


def test_suspended_status_raises_credential_suspended() -> None:
    checker, _ = _checker(_token(_list(i3=TokenStatus.SUSPENDED)))
    with pytest.raises(CredentialSuspendedError) as caught:
        checker.check(_status(3), now=NOW)
    assert caught.value.code == "credential.suspended"


def test_application_specific_status_is_returned() -> None:
    checker, _ = _checker(_token(_list(i3=3)))
    result = checker.check(_status(3), now=NOW)
    assert (result.status, result.is_valid) == (3, False)


def test_index_out_of_range() -> None:
    checker, _ = _checker(_token())
    with pytest.raises(StatusIndexOutOfRangeError) as caught:
        checker.check(_status(1024), now=NOW)
    assert caught.value.code == "status.index-out-of-range"


def test_token_served_for_another_uri_is_refused() -> None:
    checker, _ = _checker(_token(sub="https://issuer.example/statuslists/2"))
    with pytest.raises(StatusListInvalidError) as caught:
        checker.check(_status(0), now=NOW)
    assert caught.value.context["reason"] == "sub"


def test_token_signed_with_an_unexpected_key_is_refused() -> None:
    checker, _ = _checker(_token(key=OTHER_KEY))
    with pytest.raises(StatusListInvalidError) as caught:
        checker.check(_status(0), now=NOW)
    assert caught.value.context["reason"] == "signature"


def test_fetch_failure_is_status_unavailable() -> None:
    checker = TokenStatusChecker(fetcher=FakeFetcher(), resolve_key=_keys())
    with pytest.raises(StatusUnavailableError) as caught:
        checker.check(_status(0), now=NOW)
    assert caught.value.code == "status.unavailable"


def test_key_resolution_failure_is_status_unavailable() -> None:
    def unreachable(uri: str, kid: str | None) -> PublicKey:
        raise ResolutionError("did:web host down")

    checker, _ = _checker(_token(), resolve_key=unreachable)
    with pytest.raises(StatusUnavailableError):
        checker.check(_status(0), now=NOW)


def test_unusable_key_is_list_invalid() -> None:
    def unsupported(uri: str, kid: str | None) -> PublicKey:
        raise UnsupportedAlgorithmError("secp256k1")

    checker, _ = _checker(_token(), resolve_key=unsupported)
    with pytest.raises(StatusListInvalidError) as caught:
        checker.check(_status(0), now=NOW)
    assert caught.value.context["reason"] == "key"


def test_non_ascii_body_is_list_invalid() -> None:
    fetcher = FakeFetcher({URI: b"\xff\xfe"})
    checker = TokenStatusChecker(fetcher=fetcher, resolve_key=_keys())
    with pytest.raises(StatusListInvalidError) as caught:
        checker.check(_status(0), now=NOW)
    assert caught.value.context["reason"] == "jws"


def test_token_is_cached_for_its_ttl_then_refetched() -> None:
    clock = Clock()
    checker, fetcher = _checker(_token(ttl=600), clock=clock)
    checker.check(_status(3), now=NOW)
    clock.moment += timedelta(seconds=599)
    checker.check(_status(3), now=NOW)
    assert len(fetcher.calls) == 1
    fetcher.bodies[URI] = _token(_list(i3=TokenStatus.INVALID), ttl=600).encode()
    clock.moment += timedelta(seconds=2)
    with pytest.raises(CredentialRevokedError):
        checker.check(_status(3), now=NOW)
    assert len(fetcher.calls) == 2


def test_token_without_ttl_uses_the_default_and_max_ttl_caps() -> None:
    clock = Clock()
    checker, fetcher = _checker(
        _token(ttl=None), clock=clock, default_ttl=timedelta(seconds=30)
    )
    checker.check(_status(0), now=NOW)
    clock.moment += timedelta(seconds=31)
    checker.check(_status(0), now=NOW)
    assert len(fetcher.calls) == 2

    capped, capped_fetcher = _checker(
        _token(ttl=86_400), clock=clock, max_ttl=timedelta(seconds=60)
    )
    capped.check(_status(0), now=NOW)
    clock.moment += timedelta(seconds=61)
    capped.check(_status(0), now=NOW)
    assert len(capped_fetcher.calls) == 2


def test_expiry_is_rechecked_on_a_cached_token() -> None:
    checker, _ = _checker(_token(exp=NOW + timedelta(minutes=2), ttl=3600))
    assert checker.check(_status(0), now=NOW).is_valid
    with pytest.raises(StatusListExpiredError):
        checker.check(_status(0), now=NOW + timedelta(minutes=4))
