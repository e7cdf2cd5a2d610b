"""Issuing SD-JWTs and SD-JWT VCs: payload shape, decoys, refusals."""

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from did_vault.keys import KeyAlgorithm
from did_vault.primitives.jws import parse_compact
from did_vault.sd_jwt.disclosure import Disclosure
from did_vault.sd_jwt.holder import SDJWT
from did_vault.sd_jwt.issuer import (
    NEVER_DISCLOSABLE,
    issue_sd_jwt,
    issue_sd_jwt_vc,
)


def _payload(sd_jwt: str) -> dict[str, Any]:
    return parse_compact(sd_jwt.split("~")[0]).payload_object()


def test_issue_sd_jwt_vc_puts_the_registered_claims_in_the_clear(
    kit: Any, algorithm: KeyAlgorithm
) -> None:
    status = {"status_list": {"idx": 3, "uri": "https://issuer.example/sl/1"}}
    issued = kit.issue(algorithm, valid_from=kit.NOW - timedelta(days=1), status=status)
    assert issued.sd_jwt.endswith("~")
    header = parse_compact(issued.sd_jwt.split("~")[0]).header
    assert header == {
        "alg": algorithm.jws_algorithm,
        "typ": "dc+sd-jwt",
        "kid": issued.kid,
    }
    payload = _payload(issued.sd_jwt)
    issued_at = int((kit.NOW - timedelta(days=1)).timestamp())
    assert payload["iss"] == issued.issuer
    assert payload["iat"] == issued_at
    assert payload["nbf"] == issued_at
    assert payload["exp"] == int((kit.NOW + timedelta(days=365)).timestamp())
    assert payload["vct"] == kit.VCT
    assert payload["cnf"] == {"jwk": issued.holder_key.public_key.to_jwk()}
    assert payload["status"] == status
    assert payload["_sd_alg"] == "sha-256"
    for name in ("brand", "model", "serial", "warranty"):
        assert name not in payload


def test_issue_sd_jwt_vc_claims_resolve_back_for_the_holder(kit: Any) -> None:
    issued = kit.issue()
    claims = SDJWT.parse(issued.sd_jwt).claims()
    for name, value in kit.CLAIMS.items():
        assert claims[name] == value


def test_nested_and_array_claims_are_concealed_at_their_place(kit: Any) -> None:
    payload = _payload(kit.issue().sd_jwt)
    owner = payload["owner"]
    assert set(owner) == {"_sd"}
    colors = payload["colors"]
    assert [c for c in colors if not isinstance(c, dict)] == ["red"]
    hidden = [c for c in colors if isinstance(c, dict)]
    assert all(set(c) == {"..."} for c in hidden)


def test_recursive_disclosure_carries_the_inner_digests(kit: Any) -> None:
    issued = kit.issue()
    disclosures = SDJWT.parse(issued.sd_jwt).disclosures
    warranty = next(d for d in disclosures if d.name == "warranty")
    assert "valid_until" not in warranty.value
    assert warranty.value["level"] == "gold"
    inner = next(d for d in disclosures if d.name == "valid_until")
    assert inner.digest() in warranty.value["_sd"]


def test_sd_arrays_are_padded_to_the_bucket_and_sorted(kit: Any) -> None:
    for bucket in (4, 8, 16):
        payload = _payload(kit.issue(decoy_bucket=bucket).sd_jwt)
        assert len(payload["_sd"]) % bucket == 0
        assert payload["_sd"] == sorted(payload["_sd"])
        assert len(payload["colors"]) % bucket == 0


def test_the_number_of_claims_does_not_show_within_a_bucket(kit: Any) -> None:
    claims = {f"c{i}": i for i in range(7)}
    sizes = {
        len(_payload(kit.issue(claims=claims, disclosable=paths).sd_jwt)["_sd"])
        for paths in (
            [("c0",)],
            [(f"c{i}",) for i in range(3)],
            [(f"c{i}",) for i in range(7)],
        )
    }
    assert sizes == {8}


def test_no_decoys_with_a_zero_bucket(kit: Any) -> None:
    issued = kit.issue(decoy_bucket=0, disclosable=[("brand",), ("colors", 1)])
    payload = _payload(issued.sd_jwt)
    assert len(payload["_sd"]) == 1
    assert len(payload["colors"]) == 3


def test_digests_are_unique_and_salts_fresh(kit: Any) -> None:
    first = kit.issue(salt_source=None)
    second = kit.issue(salt_source=None)
    digests = _payload(first.sd_jwt)["_sd"]
    assert len(set(digests)) == len(digests)
    salts = {d.salt for d in SDJWT.parse(first.sd_jwt).disclosures}
    salts |= {d.salt for d in SDJWT.parse(second.sd_jwt).disclosures}
    assert len(salts) == 2 * len(kit.DISCLOSABLE)


def test_issuance_is_reproducible_with_an_injected_salt_source(kit: Any) -> None:
    assert kit.issue().sd_jwt == kit.issue().sd_jwt


@pytest.mark.parametrize("claim", sorted(NEVER_DISCLOSABLE))
def test_issue_refuses_to_conceal_claims_that_must_stay_clear(
    kit: Any, claim: str
) -> None:
    with pytest.raises(ValueError, match=r"cannot be selectively disclosable|_sd_alg"):
        issue_sd_jwt(
            {claim: "x", "a": 1},
            key=kit.ISSUER_KEYS[KeyAlgorithm.ED25519],
            kid=None,
            disclosable=[(claim,)],
            now=kit.NOW,
        )


@pytest.mark.parametrize("claim", ["iss", "exp", "cnf", "status", "vct", "iat"])
def test_issue_sd_jwt_vc_refuses_registered_claims_among_the_claims(
    kit: Any, claim: str
) -> None:
    with pytest.raises(ValueError, match="may not set"):
        kit.issue(claims={claim: "x"}, disclosable=[])


@pytest.mark.parametrize(
    "path",
    [("nope",), ("colors", 3), ("colors", "0"), ("brand", "x"), (), ("colors", True)],
    ids=str,
)
def test_issue_refuses_paths_not_in_the_claims(kit: Any, path: Any) -> None:
    with pytest.raises(ValueError, match="claim path"):
        kit.issue(disclosable=[path])


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_issue_refuses_reserved_claim_names(kit: Any, name: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        kit.issue(claims={"owner": {name: 1, "x": 2}}, disclosable=[("owner", "x")])


@pytest.mark.parametrize(
    "kid",
    ["did:key:z6MkOther#k", "https://issuer.example/key", "did:key:z6Mk", "kid"],
)
def test_issue_sd_jwt_vc_refuses_a_kid_of_another_did(kit: Any, kid: str) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    with pytest.raises(ValueError, match="kid"):
        issue_sd_jwt_vc(
            vct=kit.VCT,
            issuer_did=kit.did_of(issuer_key),
            key=issuer_key,
            kid=kid,
            claims={},
            disclosable=[],
            holder_key=issuer_key.public_key,
        )


def test_issue_sd_jwt_vc_refuses_an_empty_vct(kit: Any) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    with pytest.raises(ValueError, match="vct"):
        issue_sd_jwt_vc(
            vct="",
            issuer_did=kit.did_of(issuer_key),
            key=issuer_key,
            kid=kit.kid_of(issuer_key),
            claims={},
            disclosable=[],
            holder_key=issuer_key.public_key,
        )


def test_issue_sd_jwt_adds_iat_and_cnf(kit: Any) -> None:
    holder = kit.HOLDER_KEYS[KeyAlgorithm.P256].public_key
    sd_jwt = issue_sd_jwt(
        {"sub": "x"},
        key=kit.ISSUER_KEYS[KeyAlgorithm.P256],
        kid="key-1",
        disclosable=[],
        typ="example+sd-jwt",
        holder_key=holder,
        now=kit.NOW,
    )
    jws = parse_compact(sd_jwt.split("~")[0])
    assert jws.header == {"alg": "ES256", "typ": "example+sd-jwt", "kid": "key-1"}
    assert jws.payload_object() == {
        "sub": "x",
        "cnf": {"jwk": holder.to_jwk()},
        "iat": int(kit.NOW.timestamp()),
        "_sd_alg": "sha-256",
    }
    assert sd_jwt.count("~") == 1


def test_issue_sd_jwt_refuses_cnf_given_twice_and_a_negative_bucket(kit: Any) -> None:
    key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    with pytest.raises(ValueError, match="cnf"):
        issue_sd_jwt(
            {"cnf": {}}, key=key, kid=None, disclosable=[], holder_key=key.public_key
        )
    with pytest.raises(ValueError, match="decoy_bucket"):
        issue_sd_jwt({}, key=key, kid=None, disclosable=[], decoy_bucket=-1)


def test_disclosures_use_compact_utf8_json(kit: Any) -> None:
    issued = kit.issue(claims={"name": "Müller"}, disclosable=[("name",)])
    encoded = SDJWT.parse(issued.sd_jwt).disclosures[0].encoded
    raw = base64.urlsafe_b64decode(encoded + "==").decode("utf-8")
    assert raw == json.dumps(
        ["salt-00000000000000000", "name", "Müller"],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert Disclosure.parse(encoded).value == "Müller"
