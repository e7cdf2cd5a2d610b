"""Shared SD-JWT test material: seeded keys, a did:key issuer, and forging helpers."""

import base64
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from did_vault.dids import create_did_key, default_resolver
from did_vault.errors import ResolutionError
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.sd_jwt.disclosure import ClaimPath, Disclosure
from did_vault.sd_jwt.holder import present
from did_vault.sd_jwt.issuer import issue_sd_jwt_vc

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
AUDIENCE = "did:web:vendor.example"
NONCE = "n-0S6_WzA2Mj"
VCT = "https://registry.example/vct/ebike-warranty"

ISSUER_KEYS = {
    KeyAlgorithm.ED25519: PrivateKey(KeyAlgorithm.ED25519, bytes(range(32))),
    KeyAlgorithm.P256: PrivateKey(KeyAlgorithm.P256, bytes(31) + b"\x05"),
}
HOLDER_KEYS = {
    KeyAlgorithm.ED25519: PrivateKey(KeyAlgorithm.ED25519, bytes(31) + b"\x02"),
    KeyAlgorithm.P256: PrivateKey(KeyAlgorithm.P256, bytes(31) + b"\x09"),
}
ATTACKER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes([7]) * 32)

CLAIMS: dict[str, Any] = {
    "brand": "Brand X",
    "model": "E-Trail 500",
    "serial": "SN-0042",
    "warranty": {"valid_until": "2028-11-23", "level": "gold"},
    "owner": {"name": "Erika Mustermann", "address": {"city": "Berlin"}},
    "colors": ["red", "black", "white"],
}
DISCLOSABLE: list[ClaimPath] = [
    ("brand",),
    ("model",),
    ("serial",),
    ("warranty",),
    ("warranty", "valid_until"),
    ("owner", "name"),
    ("owner", "address"),
    ("colors", 1),
    ("colors", 2),
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def segment(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def did_of(key: PrivateKey) -> str:
    return str(create_did_key(key.public_key))


def kid_of(key: PrivateKey) -> str:
    did = did_of(key)
    return f"{did}#{did.removeprefix('did:key:')}"


def salts() -> Callable[[], str]:
    """A reproducible salt source (distinct 22-character salts)."""
    counter = iter(range(1_000_000))
    return lambda: f"salt-{next(counter):017d}"


def forge(
    payload: Mapping[str, Any],
    *,
    key: PrivateKey,
    header: Mapping[str, Any] | None = None,
    disclosures: Sequence[str] = (),
    kb_jwt: str = "",
) -> str:
    """Sign any header and payload as given (no policy), and join an SD-JWT."""
    full_header = {"alg": key.algorithm.jws_algorithm} if header is None else header
    signing_input = f"{segment(full_header)}.{segment(payload)}"
    signature = b64(key.sign(signing_input.encode()))
    return "~".join([f"{signing_input}.{signature}", *disclosures, kb_jwt])


@dataclass
class Issued:
    """An SD-JWT VC with the keys and DIDs it was made with."""

    sd_jwt: str
    issuer_key: PrivateKey
    holder_key: PrivateKey
    issuer: str
    kid: str
    disclosures: dict[ClaimPath, Disclosure] = field(default_factory=dict)

    def present(
        self,
        disclose: Sequence[ClaimPath] = (("brand",), ("warranty", "valid_until")),
        *,
        audience: str = AUDIENCE,
        nonce: str = NONCE,
        now: datetime = NOW,
        holder_key: PrivateKey | None = None,
    ) -> str:
        return present(
            self.sd_jwt,
            disclose=disclose,
            holder_key=holder_key or self.holder_key,
            audience=audience,
            nonce=nonce,
            now=now,
        )


def issue(
    algorithm: KeyAlgorithm = KeyAlgorithm.ED25519,
    *,
    claims: Mapping[str, Any] = CLAIMS,
    disclosable: Sequence[ClaimPath] = DISCLOSABLE,
    holder: PublicKey | None = None,
    **kwargs: Any,
) -> Issued:
    issuer_key, holder_key = ISSUER_KEYS[algorithm], HOLDER_KEYS[algorithm]
    kwargs.setdefault("now", NOW - timedelta(days=1))
    kwargs.setdefault("valid_until", NOW + timedelta(days=365))
    kwargs.setdefault("salt_source", salts())
    sd_jwt = issue_sd_jwt_vc(
        vct=VCT,
        issuer_did=did_of(issuer_key),
        key=issuer_key,
        kid=kid_of(issuer_key),
        claims=claims,
        disclosable=disclosable,
        holder_key=holder or holder_key.public_key,
        **kwargs,
    )
    return Issued(
        sd_jwt, issuer_key, holder_key, did_of(issuer_key), kid_of(issuer_key)
    )


class ExplodingFetcher:
    """Fails the test on any network access."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.calls.append(url)
        raise ResolutionError("no network in unit tests", url=url)


@pytest.fixture
def fetcher() -> Iterator[ExplodingFetcher]:
    fetcher = ExplodingFetcher()
    yield fetcher
    assert fetcher.calls == [], "the verifier reached for the network"


@pytest.fixture
def resolver(fetcher: ExplodingFetcher) -> Any:
    return default_resolver(fetcher)


@pytest.fixture(params=[KeyAlgorithm.ED25519, KeyAlgorithm.P256], ids=str)
def algorithm(request: pytest.FixtureRequest) -> KeyAlgorithm:
    return KeyAlgorithm(request.param)


@pytest.fixture
def kit() -> Any:
    """This module: its constants and helpers, for the tests beside it."""
    return sys.modules[__name__]
