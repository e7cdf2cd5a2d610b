"""Status end to end: a signed BitstringStatusListCredential, fetched and verified.

The issuer signs both the credential and its status lists; the verifier fetches the
lists through an injected fetcher, verifies each list credential with the same
pipeline, and reads the credential's bit.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from did_vault import (
    BitstringStatusList,
    CachingResolver,
    KeyAlgorithm,
    PrivateKey,
    StatusListChecker,
    StatusPurpose,
    build_status_list_credential,
    create_did_key,
    default_resolver,
    issue_credential,
    make_status_entry,
    verify_credential,
)
from did_vault.errors import DidVaultError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
REVOCATION_URL = "https://registry.example/status/revocation/1"
SUSPENSION_URL = "https://registry.example/status/suspension/1"
INDEX = 4242

ISSUER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
ISSUER = str(create_did_key(ISSUER_KEY.public_key))
METHOD = f"{ISSUER}#{ISSUER_KEY.public_key.to_multikey()}"
RESOLVER = CachingResolver(default_resolver())


class MemoryFetcher:
    """Serves published documents from memory; counts fetches."""

    def __init__(self) -> None:
        self.published: dict[str, bytes] = {}
        self.fetches = 0

    def publish(self, url: str, document: Mapping[str, Any]) -> None:
        self.published[url] = json.dumps(document).encode()

    def fetch(self, url: str) -> bytes:
        self.fetches += 1
        return self.published[url]


def _signed_list(url: str, purpose: StatusPurpose, bits: list[int]) -> dict[str, Any]:
    status_list = BitstringStatusList()
    for index in bits:
        status_list.set(index, 1)
    unsigned = build_status_list_credential(
        credential_id=url,
        issuer=ISSUER,
        status_list=status_list,
        purpose=purpose,
        valid_from=NOW - timedelta(days=1),
    )
    return issue_credential(
        unsigned, key=ISSUER_KEY, verification_method=METHOD, created=NOW
    )


def _credential() -> dict[str, Any]:
    entries = [
        make_status_entry(
            status_list_credential=url, index=INDEX, purpose=purpose
        ).to_dict()
        for url, purpose in (
            (REVOCATION_URL, StatusPurpose.REVOCATION),
            (SUSPENSION_URL, StatusPurpose.SUSPENSION),
        )
    ]
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:8b0e3c1c-0000-4000-8000-00000000abcd",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-11-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "name": "E-bike owner"},
        "credentialStatus": entries,
    }
    return issue_credential(
        credential, key=ISSUER_KEY, verification_method=METHOD, created=NOW
    )


def _verify(fetcher: MemoryFetcher, credential: Mapping[str, Any]) -> Any:
    def verify_list(document: Mapping[str, Any], *, now: datetime) -> object:
        return verify_credential(document, resolver=RESOLVER, now=now)

    checker = StatusListChecker(
        fetcher=fetcher, verify_list=verify_list, clock=lambda: NOW
    )
    return verify_credential(
        credential, resolver=RESOLVER, now=NOW, status_checker=checker
    )


@pytest.fixture
def fetcher() -> MemoryFetcher:
    served = MemoryFetcher()
    served.publish(
        REVOCATION_URL, _signed_list(REVOCATION_URL, StatusPurpose.REVOCATION, [7])
    )
    served.publish(
        SUSPENSION_URL, _signed_list(SUSPENSION_URL, StatusPurpose.SUSPENSION, [])
    )
    return served


def test_credential_with_clear_status_verifies(fetcher: MemoryFetcher) -> None:
    result = _verify(fetcher, _credential())
    assert [check.name for check in result.checks][-1] == "status"
    assert fetcher.fetches == 2


def _fails(fetcher: MemoryFetcher) -> DidVaultError:
    with pytest.raises(DidVaultError) as exc_info:
        _verify(fetcher, _credential())
    assert exc_info.value.context.get("check") == "status"
    return exc_info.value


def test_revoked_bit_fails_with_credential_revoked(fetcher: MemoryFetcher) -> None:
    fetcher.publish(
        REVOCATION_URL,
        _signed_list(REVOCATION_URL, StatusPurpose.REVOCATION, [7, INDEX]),
    )
    assert _fails(fetcher).code == "credential.revoked"


def test_suspended_bit_fails_with_credential_suspended(fetcher: MemoryFetcher) -> None:
    fetcher.publish(
        SUSPENSION_URL, _signed_list(SUSPENSION_URL, StatusPurpose.SUSPENSION, [INDEX])
    )
    assert _fails(fetcher).code == "credential.suspended"


def test_status_list_altered_after_signing_is_refused(fetcher: MemoryFetcher) -> None:
    signed = _signed_list(REVOCATION_URL, StatusPurpose.REVOCATION, [])
    forged_list = BitstringStatusList()
    signed["credentialSubject"]["encodedList"] = forged_list.encode()
    signed["credentialSubject"]["id"] += "-altered"  # any change breaks the proof
    fetcher.publish(REVOCATION_URL, signed)
    assert _fails(fetcher).code == "status.list-invalid"


def test_status_list_signed_by_someone_else_is_refused(fetcher: MemoryFetcher) -> None:
    other = PrivateKey(KeyAlgorithm.ED25519, bytes(range(1, 33)))
    other_did = str(create_did_key(other.public_key))
    unsigned = build_status_list_credential(
        credential_id=REVOCATION_URL,
        issuer=other_did,
        status_list=BitstringStatusList(),
        purpose=StatusPurpose.REVOCATION,
    )
    fetcher.publish(
        REVOCATION_URL,
        issue_credential(
            unsigned,
            key=other,
            verification_method=f"{other_did}#{other.public_key.to_multikey()}",
            created=NOW,
        ),
    )
    error = _fails(fetcher)
    assert error.code == "status.list-invalid"
    assert error.context["reason"] == "issuer"
