"""Data Integrity proofs: every cryptosuite, proof sets, previousProof chains."""

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_vault.credentials.proofs import (
    CachingResolver,
    add_proof,
    create_proof,
    verify_proof,
    verify_proofs,
)
from did_vault.credentials.suites import CRYPTOSUITES, get_cryptosuite
from did_vault.dids import DIDDocument, create_did_key, default_resolver
from did_vault.errors import (
    DIDNotFoundError,
    MalformedProofError,
    ProofExpiredError,
    ProofMissingError,
    ProofVerificationError,
    UnsupportedCryptosuiteError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 20, 9, 30, 0, tzinfo=UTC)
ED_KEYS = [PrivateKey(KeyAlgorithm.ED25519, bytes([i]) * 32) for i in (1, 2, 3)]
P256_KEY = PrivateKey(KeyAlgorithm.P256, bytes([7]) * 32)
KEY_BY_ALGORITHM = {KeyAlgorithm.ED25519: ED_KEYS[0], KeyAlgorithm.P256: P256_KEY}


def _method(key: PrivateKey) -> str:
    did = create_did_key(key.public_key)
    return f"{did}#{key.public_key.to_multikey()}"


def _document() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": str(create_did_key(ED_KEYS[0].public_key)),
        "name": "Ownership of a bicycle",
        "credentialSubject": {"id": "did:example:owner", "name": "Frame WBX123"},
    }


def _verify(document: dict[str, Any], **options: Any) -> Any:
    options.setdefault("expected_purpose", "assertionMethod")
    return verify_proofs(document, resolver=default_resolver(), now=NOW, **options)


@pytest.mark.parametrize("suite", sorted(CRYPTOSUITES))
def test_every_cryptosuite_signs_and_verifies(suite: str) -> None:
    key = KEY_BY_ALGORITHM[get_cryptosuite(suite).key_algorithm]
    signed = add_proof(
        _document(), key=key, verification_method=_method(key), cryptosuite=suite
    )
    (verified,) = _verify(signed)
    assert verified.cryptosuite == suite
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["name"] = "Frame WBX124"
    with pytest.raises(ProofVerificationError):
        _verify(tampered)


def test_jcs_proofs_carry_the_context_and_rdfc_proofs_do_not() -> None:
    key = ED_KEYS[0]
    jcs = create_proof(_document(), key=key, verification_method=_method(key))
    rdfc = create_proof(
        _document(),
        key=key,
        verification_method=_method(key),
        cryptosuite="eddsa-rdfc-2022",
    )
    assert jcs["@context"] == _document()["@context"]
    assert "@context" not in rdfc


def test_create_proof_refuses_key_of_another_algorithm() -> None:
    with pytest.raises(ValueError, match="P-256"):
        create_proof(
            _document(),
            key=ED_KEYS[0],
            verification_method=_method(ED_KEYS[0]),
            cryptosuite="ecdsa-jcs-2019",
        )


def test_get_cryptosuite_rejects_unknown_names() -> None:
    with pytest.raises(UnsupportedCryptosuiteError):
        get_cryptosuite("bbs-2023")
    with pytest.raises(UnsupportedCryptosuiteError):
        get_cryptosuite(None)


def test_proof_set_holds_independent_proofs() -> None:
    signed = _document()
    for key in ED_KEYS:
        signed = add_proof(signed, key=key, verification_method=_method(key))
    assert isinstance(signed["proof"], list)
    verified = _verify(signed)
    assert [p.verification_method for p in verified] == [_method(k) for k in ED_KEYS]
    # removing one proof of a set leaves the others valid
    signed["proof"] = signed["proof"][1:]
    assert len(_verify(signed)) == 2


def _chain() -> dict[str, Any]:
    first = add_proof(
        _document(),
        key=ED_KEYS[0],
        verification_method=_method(ED_KEYS[0]),
        proof_id="urn:uuid:first",
    )
    second = add_proof(
        first,
        key=ED_KEYS[1],
        verification_method=_method(ED_KEYS[1]),
        proof_id="urn:uuid:second",
    )
    return add_proof(
        second,
        key=ED_KEYS[2],
        verification_method=_method(ED_KEYS[2]),
        proof_id="urn:uuid:third",
        previous_proof=["urn:uuid:first", "urn:uuid:second"],
    )


def test_proof_chain_verifies_each_link() -> None:
    chained = _chain()
    assert chained["proof"][2]["previousProof"] == ["urn:uuid:first", "urn:uuid:second"]
    assert len(_verify(chained)) == 3


def test_proof_chain_breaks_when_a_previous_proof_is_removed() -> None:
    chained = _chain()
    chained["proof"] = [chained["proof"][0], chained["proof"][2]]
    with pytest.raises(ProofVerificationError):
        _verify(chained)


def test_proof_chain_breaks_when_a_previous_proof_changes() -> None:
    chained = _chain()
    # re-sign the first proof at another time: valid alone, but not what was chained
    chained["proof"][0] = create_proof(
        _document(),
        key=ED_KEYS[0],
        verification_method=_method(ED_KEYS[0]),
        proof_id="urn:uuid:first",
        created=CREATED,
    )
    with pytest.raises(ProofVerificationError):
        _verify(chained)


def test_single_previous_proof_is_a_string() -> None:
    first = add_proof(
        _document(),
        key=ED_KEYS[0],
        verification_method=_method(ED_KEYS[0]),
        proof_id="urn:uuid:first",
    )
    chained = add_proof(
        first,
        key=ED_KEYS[1],
        verification_method=_method(ED_KEYS[1]),
        previous_proof="urn:uuid:first",
    )
    assert chained["proof"][1]["previousProof"] == "urn:uuid:first"
    assert len(_verify(chained)) == 2


def test_add_proof_refuses_unknown_previous_proof() -> None:
    with pytest.raises(ValueError, match="previous proof"):
        add_proof(
            _document(),
            key=ED_KEYS[0],
            verification_method=_method(ED_KEYS[0]),
            previous_proof="urn:uuid:nope",
        )


def test_verify_proofs_rejects_missing_and_malformed_proofs() -> None:
    with pytest.raises(ProofMissingError):
        _verify(_document())
    with pytest.raises(MalformedProofError):
        _verify({**_document(), "proof": ["not an object"]})
    signed = add_proof(
        _document(), key=ED_KEYS[0], verification_method=_method(ED_KEYS[0])
    )
    for member in ("verificationMethod", "proofPurpose", "proofValue"):
        broken = copy.deepcopy(signed)
        del broken["proof"][member]
        with pytest.raises(MalformedProofError):
            _verify(broken)
    broken = copy.deepcopy(signed)
    broken["proof"]["proofValue"] = "u-not-base58"
    with pytest.raises(MalformedProofError):
        _verify(broken)
    broken = copy.deepcopy(signed)
    broken["proof"]["verificationMethod"] = "https://issuer.example/keys/1"
    with pytest.raises(MalformedProofError):
        _verify(broken)


def test_verify_proofs_rejects_expired_proof() -> None:
    signed = add_proof(
        _document(),
        key=ED_KEYS[0],
        verification_method=_method(ED_KEYS[0]),
        created=CREATED,
        expires=datetime(2026, 11, 21, tzinfo=UTC),
    )
    with pytest.raises(ProofExpiredError):
        _verify(signed)


def test_verify_proof_returns_what_it_established() -> None:
    document = _document()
    proof = create_proof(
        document,
        key=ED_KEYS[0],
        verification_method=_method(ED_KEYS[0]),
        created=CREATED,
    )
    verified = verify_proof(
        document, proof, resolver=default_resolver(), expected_purpose="assertionMethod"
    )
    assert verified.created == CREATED
    assert verified.controller == str(create_did_key(ED_KEYS[0].public_key))
    assert verified.proof is proof


def test_verify_proofs_does_not_change_the_document() -> None:
    signed = add_proof(
        _document(), key=ED_KEYS[0], verification_method=_method(ED_KEYS[0])
    )
    before = copy.deepcopy(signed)
    _verify(signed)
    assert signed == before


class _CountingResolver:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail = False
        self._inner = default_resolver()

    def resolve(self, did: str) -> DIDDocument:
        self.calls.append(did)
        if self.fail:
            raise DIDNotFoundError("gone")
        return self._inner.resolve(did)


def test_caching_resolver_resolves_each_did_once_per_ttl() -> None:
    clock = [NOW]
    inner = _CountingResolver()
    cache = CachingResolver(inner, clock=lambda: clock[0])
    signed = add_proof(
        _document(), key=ED_KEYS[0], verification_method=_method(ED_KEYS[0])
    )
    for _ in range(3):
        verify_proofs(
            signed, resolver=cache, expected_purpose="assertionMethod", now=NOW
        )
    assert len(inner.calls) == 1
    clock[0] = NOW.replace(hour=13)  # past the 5-minute ttl
    verify_proofs(signed, resolver=cache, expected_purpose="assertionMethod", now=NOW)
    assert len(inner.calls) == 2


def test_caching_resolver_does_not_cache_failures_and_stays_bounded() -> None:
    inner = _CountingResolver()
    cache = CachingResolver(inner, max_entries=2)
    inner.fail = True
    did = str(create_did_key(ED_KEYS[0].public_key))
    with pytest.raises(DIDNotFoundError):
        cache.resolve(did)
    inner.fail = False
    cache.resolve(did)
    for key in ED_KEYS:
        cache.resolve(str(create_did_key(key.public_key)))
    cache.resolve(did)  # evicted by the two newer entries
    assert inner.calls.count(did) == 3
    with pytest.raises(ValueError, match="max_entries"):
        CachingResolver(inner, max_entries=0)


@given(st.binary(max_size=80))
def test_proof_value_base58_matches_the_base58_package(data: bytes) -> None:
    import base58

    from did_vault.credentials.proofs import _decode_signature, _encode_signature

    encoded = _encode_signature(data)
    assert encoded == "z" + base58.b58encode(data).decode("ascii")
    if data:
        assert _decode_signature(encoded) == data
