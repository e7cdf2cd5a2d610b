"""The faster paths give the same results: kept issuers, parsed SD-JWTs, encoders."""

import base64
import json
from typing import Any

import pytest

from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.primitives.b64 import b64url_encode, b64url_encode_bytes
from did_vault.primitives.jws import (
    decode_json,
    encode_header,
    parse_compact,
    sign_compact,
    sign_encoded,
    verify_compact,
)
from did_vault.sd_jwt.disclosure import Disclosure
from did_vault.sd_jwt.holder import SDJWT, present
from did_vault.sd_jwt.issuer import SDJWTIssuer, issue_sd_jwt_vc, public_jwk
from did_vault.sd_jwt.verifier import verify_sd_jwt


@pytest.mark.parametrize("seed", [bytes(31) + b"\x09", bytes([0xA5]) * 32])
@pytest.mark.parametrize("algorithm", list(KeyAlgorithm), ids=str)
def test_public_jwk_is_to_jwk(algorithm: KeyAlgorithm, seed: bytes) -> None:
    key = PrivateKey(algorithm, seed).public_key
    assert public_jwk(key) == key.to_jwk()


@pytest.mark.parametrize("size", range(40))
def test_b64url_encode_bytes_is_the_text_encoding(size: int) -> None:
    data = bytes(range(256))[size : size * 2] + b"\xfb\xff" * size
    expected = base64.urlsafe_b64encode(data).rstrip(b"=")
    assert b64url_encode_bytes(data) == expected
    assert b64url_encode(data) == expected.decode()


@pytest.mark.parametrize("text", ['{"a":1}', "[1,2]", ' {"a":1}', '{"a":1} '])
def test_decode_json_fast_path_decodes_as_json(text: str) -> None:
    assert decode_json(text) == json.loads(text)


@pytest.mark.parametrize(
    "text", ['{"a":1}x', '{"a":1,"a":2}', "{", '{"a":NaN}', "[1] [2]"]
)
def test_decode_json_fast_path_keeps_the_strict_rules(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each input its own reason
        decode_json(text)


def test_sign_encoded_under_a_kept_header_is_sign_compact(kit: Any) -> None:
    key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]  # Ed25519: deterministic signatures
    header = {"typ": "example", "alg": "EdDSA"}
    segment = encode_header(header, key)
    signed = sign_encoded(segment, {"a": 1}, key)
    assert signed == sign_compact(header, {"a": 1}, key)
    verify_compact(parse_compact(signed), key.public_key)


def test_a_kept_issuer_issues_what_the_function_issues(
    kit: Any, algorithm: KeyAlgorithm
) -> None:
    issuer_key = kit.ISSUER_KEYS[algorithm]
    holder = kit.HOLDER_KEYS[algorithm].public_key
    common: dict[str, Any] = {
        "vct": kit.VCT,
        "claims": kit.CLAIMS,
        "disclosable": kit.DISCLOSABLE,
        "holder_key": holder,
        "now": kit.NOW,
    }
    issuer = SDJWTIssuer(
        issuer_did=kit.did_of(issuer_key), key=issuer_key, kid=kit.kid_of(issuer_key)
    )
    kept = issuer.issue(**common, salt_source=kit.salts())
    once = issue_sd_jwt_vc(
        issuer_did=kit.did_of(issuer_key),
        key=issuer_key,
        kid=kit.kid_of(issuer_key),
        salt_source=kit.salts(),
        **common,
    )
    # Same header, payload and Disclosures (ES256 signatures are randomized).
    assert kept.split("~")[1:] == once.split("~")[1:]
    assert kept.split(".")[:2] == once.split(".")[:2]
    assert SDJWT.parse(issuer.issue(**common)).claims() == SDJWT.parse(kept).claims()


@pytest.mark.parametrize("kid", ["did:key:z6MkOther#k", "kid", "did:key:z6Mk"])
def test_a_kept_issuer_checks_its_kid_once_up_front(kit: Any, kid: str) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    with pytest.raises(ValueError, match="kid"):
        SDJWTIssuer(issuer_did=kit.did_of(issuer_key), key=issuer_key, kid=kid)


def test_random_salts_are_fresh_144_bit_values(kit: Any) -> None:
    issued = kit.issue(salt_source=None).sd_jwt
    salts = [Disclosure.parse(text).salt for text in issued.split("~")[1:-1]]
    assert len(set(salts)) == len(salts) == len(kit.DISCLOSABLE)
    assert all(len(base64.urlsafe_b64decode(salt)) == 18 for salt in salts)
    again = [
        Disclosure.parse(t).salt
        for t in kit.issue(salt_source=None).sd_jwt.split("~")[1:-1]
    ]
    assert not set(salts) & set(again)


def test_present_accepts_a_parsed_sd_jwt_and_reuses_it(kit: Any, resolver: Any) -> None:
    issued = kit.issue()
    parsed = SDJWT.parse(issued.sd_jwt)
    disclose = [("brand",), ("warranty", "valid_until")]
    for _ in range(2):
        presentation = present(
            parsed,
            disclose=disclose,
            holder_key=issued.holder_key,
            audience=kit.AUDIENCE,
            nonce=kit.NONCE,
            now=kit.NOW,
        )
        assert presentation == issued.present(disclose)
        verified = verify_sd_jwt(
            presentation,
            audience=kit.AUDIENCE,
            nonce=kit.NONCE,
            resolver=resolver,
            now=kit.NOW,
        )
        assert verified.claims["brand"] == kit.CLAIMS["brand"]
        assert "model" not in verified.claims


def test_claims_of_a_parsed_sd_jwt_are_a_fresh_copy_each_time(kit: Any) -> None:
    parsed = SDJWT.parse(kit.issue().sd_jwt)
    claims = parsed.claims()
    claims["warranty"]["valid_until"] = "tampered"
    claims["colors"].append("blue")
    assert parsed.claims()["warranty"]["valid_until"] == "2028-11-23"
    assert parsed.claims()["colors"] == kit.CLAIMS["colors"]
