"""Access tokens: signed by the registry, checked per RFC 8725 (unit, fixed clock)."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from did_vault import KeyAlgorithm, PrivateKey
from registry.auth import (
    Principal,
    bearer_token,
    create_access_token,
    verify_access_token,
)
from registry.errors import TokenExpiredError, TokenInvalidError
from registry.identity import RegistryIdentity

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(params=[KeyAlgorithm.ED25519, KeyAlgorithm.P256])
def identity(request):
    key = PrivateKey(request.param, bytes(range(1, 33)))
    return RegistryIdentity.from_key(key, domain="registry.test")


def _token(identity, *, did="did:example:alice", ttl=600):
    principal = Principal(
        did=did,
        audience=identity.did,
        expires_at=NOW + timedelta(seconds=ttl),
        token_id="t1",
    )
    return create_access_token(principal, identity=identity, now=NOW)


def _b64(data) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_token_round_trips(identity):
    principal = verify_access_token(_token(identity), identity=identity, now=NOW)
    assert principal.did == "did:example:alice"
    assert principal.audience == identity.did


def test_token_header_names_algorithm_type_and_key(identity):
    header = json.loads(base64.urlsafe_b64decode(_token(identity).split(".")[0] + "=="))
    assert header == {
        "alg": identity.key.algorithm.jws_algorithm,
        "typ": "at+jwt",
        "kid": identity.verification_method,
    }


def test_expired_token_is_refused(identity):
    with pytest.raises(TokenExpiredError):
        verify_access_token(
            _token(identity, ttl=60), identity=identity, now=NOW + timedelta(seconds=60)
        )


def test_token_of_another_registry_is_refused(identity):
    other = RegistryIdentity.from_key(
        PrivateKey(KeyAlgorithm.ED25519, bytes([5]) * 32), domain="other.test"
    )
    with pytest.raises(TokenInvalidError):
        verify_access_token(_token(other), identity=identity, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "typ": "at+jwt"},
        {"alg": "HS256", "typ": "at+jwt"},
        {"alg": "EdDSA", "typ": "JWT"},
    ],
    ids=["alg-none", "alg-hs256", "typ-jwt"],
)
def test_token_with_another_header_is_refused(identity, header):
    _, payload, signature = _token(identity).split(".")
    forged = f"{_b64({**header, 'kid': identity.verification_method})}.{payload}."
    with pytest.raises(TokenInvalidError):
        verify_access_token(forged + signature, identity=identity, now=NOW)


@pytest.mark.parametrize(
    "token", ["", "a.b", "a.b.c", "!!.??.**", "x" * 5000], ids=str.__len__
)
def test_garbage_token_is_refused(identity, token):
    with pytest.raises(TokenInvalidError):
        verify_access_token(token, identity=identity, now=NOW)


def test_payload_swap_breaks_signature(identity):
    header, _, signature = _token(identity).split(".")
    _, payload, _ = _token(identity, did="did:example:mallory").split(".")
    with pytest.raises(TokenInvalidError):
        verify_access_token(
            f"{header}.{payload}.{signature}", identity=identity, now=NOW
        )


def test_bearer_header_parsing():
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    with pytest.raises(TokenInvalidError):
        bearer_token("Basic abc")
    with pytest.raises(TokenInvalidError):
        bearer_token("Bearer ")
