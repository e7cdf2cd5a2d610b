"""The SD-JWT verifier: the happy path, and one test per failure with its exact code."""

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from did_vault.credentials.proofs import CachingResolver
from did_vault.credentials.token_status import (
    TokenStatusChecker,
    TokenStatusList,
    issue_status_list_token,
)
from did_vault.dids import DIDDocument, Resolver, VerificationMethod
from did_vault.errors import DidVaultError, ResolutionError
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.sd_jwt.disclosure import Disclosure, digest_of
from did_vault.sd_jwt.holder import SDJWT, present, to_json
from did_vault.sd_jwt.issuer import issue_sd_jwt
from did_vault.sd_jwt.nonces import InMemoryNonceStore
from did_vault.sd_jwt.verifier import SDJWTVerifier, verify_sd_jwt


def _code(excinfo: pytest.ExceptionInfo[DidVaultError]) -> str:
    return excinfo.value.code


def _verify(kit: Any, presentation: str, resolver: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("audience", kit.AUDIENCE)
    kwargs.setdefault("nonce", kit.NONCE)
    kwargs.setdefault("now", kit.NOW)
    return verify_sd_jwt(presentation, resolver=resolver, **kwargs)


def _fails(kit: Any, presentation: str, resolver: Any, **kwargs: Any) -> str:
    with pytest.raises(DidVaultError) as excinfo:
        _verify(kit, presentation, resolver, **kwargs)
    return _code(excinfo)


def _payload(kit: Any, **overrides: Any) -> dict[str, Any]:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    holder_key = kit.HOLDER_KEYS[KeyAlgorithm.ED25519]
    payload: dict[str, Any] = {
        "iss": kit.did_of(issuer_key),
        "iat": int(kit.NOW.timestamp()) - 3600,
        "exp": int(kit.NOW.timestamp()) + 3600,
        "vct": kit.VCT,
        "cnf": {"jwk": holder_key.public_key.to_jwk()},
        "_sd_alg": "sha-256",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def _forged(
    kit: Any,
    payload: Mapping[str, Any],
    disclosures: list[str] = [],  # noqa: B006 - never mutated
    *,
    header: Mapping[str, Any] | None = None,
    key: PrivateKey | None = None,
    disclose_all: bool = True,
) -> str:
    """A forged SD-JWT VC signed by the real issuer key, presented with a valid KB."""
    issuer_key = key or kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    full_header = (
        {"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": kit.kid_of(issuer_key)}
        if header is None
        else header
    )
    sd_jwt = kit.forge(
        payload, key=issuer_key, header=full_header, disclosures=disclosures
    )
    return _bind(kit, sd_jwt)


def _bind(
    kit: Any,
    sd_jwt: str,
    *,
    header: Mapping[str, Any] | None = None,
    key: PrivateKey | None = None,
    **claims: Any,
) -> str:
    """Append a KB-JWT made by hand (claims given as None are left out)."""
    kb_claims = {
        "iat": int(kit.NOW.timestamp()),
        "aud": kit.AUDIENCE,
        "nonce": kit.NONCE,
        "sd_hash": digest_of(sd_jwt),
        **claims,
    }
    kb_claims = {k: v for k, v in kb_claims.items() if v is not None}
    kb_header = header or {"alg": "EdDSA", "typ": "kb+jwt"}
    kb_key = key or kit.HOLDER_KEYS[KeyAlgorithm.ED25519]
    signing_input = f"{kit.segment(kb_header)}.{kit.segment(kb_claims)}"
    return f"{sd_jwt}{signing_input}.{kit.b64(kb_key.sign(signing_input.encode()))}"


# --- the happy path ---------------------------------------------------------------


def test_verify_sd_jwt_accepts_a_presentation_and_reports_every_check(
    kit: Any, resolver: Any, algorithm: KeyAlgorithm
) -> None:
    issued = kit.issue(algorithm)
    verified = _verify(kit, issued.present(), resolver)
    assert verified.claims["brand"] == "Brand X"
    assert verified.claims["warranty"] == {"valid_until": "2028-11-23", "level": "gold"}
    assert "model" not in verified.claims
    assert "serial" not in verified.claims
    assert verified.claims["owner"] == {}
    assert verified.claims["colors"] == ["red"]
    assert sorted(verified.disclosed_paths) == [
        ("brand",),
        ("warranty",),
        ("warranty", "valid_until"),
    ]
    assert verified.issuer == issued.issuer
    assert verified.vct == kit.VCT
    assert verified.holder_key == issued.holder_key.public_key
    assert verified.key_binding["aud"] == kit.AUDIENCE
    assert [check.name for check in verified.checks] == [
        "parse",
        "signature",
        "disclosures",
        "claims",
        "validity",
        "key-binding",
        "status",
    ]
    assert "_sd" not in verified.claims
    assert "_sd_alg" not in verified.claims


def test_verify_sd_jwt_accepts_the_json_serializations(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present()
    for general in (False, True):
        document = json.dumps(to_json(presentation, general=general))
        assert _verify(kit, document, resolver).claims["brand"] == "Brand X"


def test_verifier_object_verifies_many_with_a_caching_resolver(
    kit: Any, resolver: Any, algorithm: KeyAlgorithm
) -> None:
    issued = kit.issue(algorithm)
    verifier = SDJWTVerifier(resolver=CachingResolver(resolver))
    for disclose in ([("brand",)], [("model",), ("colors", 2)]):
        verified = verifier.verify(
            issued.present(disclose),
            audience=kit.AUDIENCE,
            nonce=kit.NONCE,
            now=kit.NOW,
        )
        assert len(verified.disclosed_paths) == len(disclose)


def test_verify_sd_jwt_with_an_issuer_key_resolver_for_plain_sd_jwts(kit: Any) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.P256]
    holder_key = kit.HOLDER_KEYS[KeyAlgorithm.P256]
    sd_jwt = issue_sd_jwt(
        {"sub": "user", "given_name": "Erika"},
        key=issuer_key,
        kid=None,
        disclosable=[("given_name",)],
        holder_key=holder_key.public_key,
        now=kit.NOW,
    )
    presentation = present(
        sd_jwt,
        disclose=[("given_name",)],
        holder_key=holder_key,
        audience=kit.AUDIENCE,
        nonce=kit.NONCE,
        now=kit.NOW,
    )
    asked: list[tuple[str | None, str | None]] = []

    def keys(iss: str | None, kid: str | None) -> PublicKey:
        asked.append((iss, kid))
        key: PublicKey = issuer_key.public_key
        return key

    verified = verify_sd_jwt(
        presentation,
        issuer_key_resolver=keys,
        audience=kit.AUDIENCE,
        nonce=kit.NONCE,
        now=kit.NOW,
        expected_typ=None,
    )
    assert verified.claims == {
        "sub": "user",
        "iat": int(kit.NOW.timestamp()),
        "cnf": {"jwk": holder_key.public_key.to_jwk()},
        "given_name": "Erika",
    }
    assert asked == [(None, None)]


def test_key_binding_not_required_accepts_a_presentation_without_one(
    kit: Any, resolver: Any
) -> None:
    issued = kit.issue()
    bare = present(
        issued.sd_jwt, disclose=[("brand",)], holder_key=None, audience=None, nonce=None
    )
    verified = _verify(
        kit, bare, resolver, audience=None, nonce=None, require_key_binding=False
    )
    assert verified.key_binding is None
    assert verified.checks[5].detail == "not required, none presented"


def test_key_binding_required_needs_an_audience_and_a_nonce_to_check(
    kit: Any, resolver: Any
) -> None:
    with pytest.raises(ValueError, match="audience and the nonce"):
        _verify(kit, kit.issue().present(), resolver, nonce=None)


def test_verify_sd_jwt_needs_exactly_one_key_source(kit: Any, resolver: Any) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        verify_sd_jwt(
            kit.issue().present(),
            resolver=resolver,
            issuer_key_resolver=lambda iss, kid: kit.ATTACKER_KEY.public_key,
            audience=kit.AUDIENCE,
            nonce=kit.NONCE,
        )


# --- the issuer's JWT --------------------------------------------------------------


def test_rejects_a_tampered_issuer_payload(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present()
    header, payload, signature = presentation.split("~")[0].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["vct"] = "https://registry.example/vct/something-else"
    tampered_jwt = f"{header}.{kit.segment(claims)}.{signature}"
    rest = presentation.split("~", 1)[1]
    sd_jwt = f"{tampered_jwt}~{rest.rsplit('~', 1)[0]}~"
    assert _fails(kit, _bind(kit, sd_jwt), resolver) == "proof.signature-invalid"


def test_rejects_alg_none(kit: Any, resolver: Any) -> None:
    header = kit.segment({"alg": "none", "typ": "dc+sd-jwt"})
    unsigned = f"{header}.{kit.segment(_payload(kit))}."
    assert _fails(kit, _bind(kit, unsigned + "~"), resolver) == "jws.alg-unsupported"


def test_rejects_hs256_with_the_public_key_as_secret(kit: Any, resolver: Any) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    header = {"alg": "HS256", "typ": "dc+sd-jwt", "kid": kit.kid_of(issuer_key)}
    signing_input = f"{kit.segment(header)}.{kit.segment(_payload(kit))}"
    for secret in (
        issuer_key.public_key.raw,
        json.dumps(issuer_key.public_key.to_jwk()).encode(),
    ):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        jwt = f"{signing_input}.{kit.b64(mac)}"
        assert _fails(kit, _bind(kit, jwt + "~"), resolver) == "jws.alg-unsupported"


@pytest.mark.parametrize("alg", ["RS256", "ES384", "ES256K", "PS256", "Ed25519", ""])
def test_rejects_algorithms_outside_the_allow_list(
    kit: Any, resolver: Any, alg: str
) -> None:
    header = {
        "alg": alg,
        "typ": "dc+sd-jwt",
        "kid": kit.kid_of(kit.ISSUER_KEYS[KeyAlgorithm.ED25519]),
    }
    presentation = _forged(kit, _payload(kit), header=header)
    assert _fails(kit, presentation, resolver) == "jws.alg-unsupported"


def test_rejects_an_allowed_algorithm_that_is_not_the_key_types(
    kit: Any, resolver: Any
) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    header = {"alg": "ES256", "typ": "dc+sd-jwt", "kid": kit.kid_of(issuer_key)}
    presentation = _forged(kit, _payload(kit), header=header)
    assert _fails(kit, presentation, resolver) == "jws.alg-mismatch"


def test_rejects_a_crit_header(kit: Any, resolver: Any) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    header = {
        "alg": "EdDSA",
        "typ": "dc+sd-jwt",
        "kid": kit.kid_of(issuer_key),
        "crit": ["b64"],
        "b64": True,
    }
    presentation = _forged(kit, _payload(kit), header=header)
    assert _fails(kit, presentation, resolver) == "jws.crit-unsupported"


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_ignores_keys_carried_in_the_header(
    kit: Any, resolver: Any, fetcher: Any, member: str
) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    values = {
        "jwk": kit.ATTACKER_KEY.public_key.to_jwk(),
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIBattacker"],
    }
    header = {
        "alg": "EdDSA",
        "typ": "dc+sd-jwt",
        "kid": kit.kid_of(issuer_key),
        member: values[member],
    }
    # Signed by the attacker, who names the real issuer and offers their own key.
    presentation = _forged(kit, _payload(kit), header=header, key=kit.ATTACKER_KEY)
    assert _fails(kit, presentation, resolver) == "proof.signature-invalid"
    assert fetcher.calls == []


def test_rejects_a_hostile_kid_without_resolving_it(
    kit: Any, resolver: Any, fetcher: Any
) -> None:
    header = {
        "alg": "EdDSA",
        "typ": "dc+sd-jwt",
        "kid": "did:web:attacker.example#key-1",
    }
    presentation = _forged(kit, _payload(kit), header=header, key=kit.ATTACKER_KEY)
    assert _fails(kit, presentation, resolver) == "credential.issuer-mismatch"
    cached = CachingResolver(resolver)
    assert _fails(kit, presentation, cached) == "credential.issuer-mismatch"
    assert fetcher.calls == []


@pytest.mark.parametrize("kid", [None, "key-1", "https://issuer.example/keys/1"])
def test_rejects_a_kid_that_is_not_a_did_url(
    kit: Any, resolver: Any, kid: str | None
) -> None:
    header = {"alg": "EdDSA", "typ": "dc+sd-jwt"}
    if kid is not None:
        header["kid"] = kid
    presentation = _forged(kit, _payload(kit), header=header)
    assert _fails(kit, presentation, resolver) == "sdjwt.malformed"


def test_rejects_a_key_not_listed_under_assertion_method(kit: Any) -> None:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    did = "did:example:issuer"
    document = DIDDocument(
        id=did,
        verification_method=[
            VerificationMethod(
                id=f"{did}#auth",
                type="Multikey",
                controller=did,
                public_key_multibase=issuer_key.public_key.to_multikey(),
            )
        ],
        authentication=[f"{did}#auth"],
    )
    resolver = Resolver({"example": lambda _: document})
    header = {"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": f"{did}#auth"}
    presentation = _forged(kit, _payload(kit, iss=did), header=header)
    assert _fails(kit, presentation, resolver) == "proof.relationship-invalid"
    cached = CachingResolver(resolver)
    assert _fails(kit, presentation, cached) == "proof.relationship-invalid"


def test_rejects_the_wrong_typ(kit: Any, resolver: Any) -> None:
    issued = kit.issue()
    assert (
        _fails(kit, issued.present(), resolver, expected_typ="vc+sd-jwt")
        == "sdjwt.typ-invalid"
    )
    header = {"alg": "EdDSA", "typ": "JWT", "kid": issued.kid}
    assert _fails(kit, _forged(kit, _payload(kit), header=header), resolver) == (
        "sdjwt.typ-invalid"
    )


@pytest.mark.parametrize("claim", ["iss", "vct", "cnf", "iat"])
def test_rejects_an_sd_jwt_vc_missing_a_required_claim(
    kit: Any, resolver: Any, claim: str
) -> None:
    payload = _payload(kit, **{claim: None})
    assert _fails(kit, _forged(kit, payload), resolver) == "sdjwt.malformed"


# --- validity ----------------------------------------------------------------------


def test_rejects_an_expired_sd_jwt(kit: Any, resolver: Any) -> None:
    issued = kit.issue(valid_until=kit.NOW - timedelta(minutes=5))
    assert _fails(kit, issued.present(), resolver) == "credential.expired"


def test_rejects_an_sd_jwt_not_yet_valid(kit: Any, resolver: Any) -> None:
    issued = kit.issue(valid_from=kit.NOW + timedelta(hours=1))
    assert _fails(kit, issued.present(), resolver) == "credential.not-yet-valid"


def test_rejects_an_sd_jwt_issued_in_the_future(kit: Any, resolver: Any) -> None:
    issued = kit.issue(now=kit.NOW + timedelta(hours=1))
    assert _fails(kit, issued.present(), resolver) == "credential.not-yet-valid"


def test_validity_allows_the_leeway(kit: Any, resolver: Any) -> None:
    issued = kit.issue(valid_until=kit.NOW - timedelta(seconds=30))
    assert _verify(kit, issued.present(), resolver, leeway=timedelta(minutes=1))


# --- disclosures -------------------------------------------------------------------


def _replace_disclosure(presentation: str, old: str, new: str) -> str:
    sd_jwt = presentation[: presentation.rfind("~") + 1]
    return sd_jwt.replace(f"~{old}~", f"~{new}~")


def test_rejects_a_changed_disclosure_value(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present([("brand",)])
    original = SDJWT.parse(presentation).disclosures[0]
    changed = Disclosure.create(salt=original.salt, name="brand", value="Brand Y")
    sd_jwt = _replace_disclosure(presentation, original.encoded, changed.encoded)
    assert _fails(kit, _bind(kit, sd_jwt), resolver) == "sdjwt.disclosure-unreferenced"


def test_rejects_a_reserialised_disclosure(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present([("brand",)])
    original = SDJWT.parse(presentation).disclosures[0]
    spaced = json.dumps([original.salt, original.name, original.value])  # ", " spacing
    reserialised = kit.b64(spaced.encode())
    assert reserialised != original.encoded
    sd_jwt = _replace_disclosure(presentation, original.encoded, reserialised)
    assert _fails(kit, _bind(kit, sd_jwt), resolver) == "sdjwt.disclosure-unreferenced"


def test_rejects_an_unreferenced_disclosure(kit: Any, resolver: Any) -> None:
    foreign = Disclosure.create(
        salt="c2FsdHNhbHRzYWx0c2FsdA", name="stolen", value=False
    )
    sd_jwt = kit.issue().present([("brand",)])
    sd_jwt = sd_jwt[: sd_jwt.rfind("~") + 1] + foreign.encoded + "~"
    assert _fails(kit, _bind(kit, sd_jwt), resolver) == "sdjwt.disclosure-unreferenced"


def test_rejects_a_digest_that_appears_twice(kit: Any, resolver: Any) -> None:
    disclosure = Disclosure.create(salt="salt-one-two-three", name="brand", value="X")
    digest = disclosure.digest()
    payload = _payload(kit, _sd=[digest], warranty={"_sd": [digest]})
    presentation = _forged(kit, payload, [disclosure.encoded])
    assert _fails(kit, presentation, resolver) == "sdjwt.digest-duplicate"


def test_rejects_the_same_disclosure_sent_twice(kit: Any, resolver: Any) -> None:
    disclosure = Disclosure.create(salt="salt-one-two-three", name="brand", value="X")
    payload = _payload(kit, _sd=[disclosure.digest()])
    presentation = _forged(kit, payload, [disclosure.encoded, disclosure.encoded])
    assert _fails(kit, presentation, resolver) == "sdjwt.digest-duplicate"


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_rejects_a_reserved_claim_name_in_a_disclosure(
    kit: Any, resolver: Any, name: str
) -> None:
    encoded = kit.b64(json.dumps(["salt-one-two-three", name, ["x"]]).encode())
    payload = _payload(kit, _sd=[digest_of(encoded)])
    assert _fails(kit, _forged(kit, payload, [encoded]), resolver) == (
        "sdjwt.claim-name-reserved"
    )


def test_rejects_the_array_digest_key_as_an_object_member(
    kit: Any, resolver: Any
) -> None:
    payload = _payload(kit, brand={"...": "x", "name": "Brand X"})
    assert _fails(kit, _forged(kit, payload), resolver) == "sdjwt.claim-name-reserved"


def test_rejects_a_disclosed_name_that_collides(kit: Any, resolver: Any) -> None:
    disclosure = Disclosure.create(salt="salt-one-two-three", name="brand", value="Y")
    payload = _payload(kit, brand="Brand X", _sd=[disclosure.digest()])
    assert _fails(kit, _forged(kit, payload, [disclosure.encoded]), resolver) == (
        "sdjwt.claim-collision"
    )


@pytest.mark.parametrize(
    "array",
    [
        ["only-a-salt"],
        ["salt", "name", "value", "extra"],
        [],
        [42, "name", "value"],
        ["salt", 42, "value"],
        ["salt", None, "value"],
        {"salt": "s", "name": "n", "value": "v"},
        "just a string",
    ],
    ids=lambda a: json.dumps(a)[:30],
)
def test_rejects_a_malformed_disclosure_array(
    kit: Any, resolver: Any, array: Any
) -> None:
    encoded = kit.b64(json.dumps(array).encode())
    payload = _payload(kit, _sd=[digest_of(encoded)])
    assert _fails(kit, _forged(kit, payload, [encoded]), resolver) == (
        "sdjwt.disclosure-invalid"
    )


@pytest.mark.parametrize(
    "encoded",
    [
        "not base64!",
        base64.urlsafe_b64encode(b'["salt", "name", "value"]').decode(),
        base64.urlsafe_b64encode(b"{}").decode().rstrip("="),
        base64.urlsafe_b64encode(b'["s", "n", NaN]').decode().rstrip("="),
    ],
    ids=["alphabet", "padded", "object", "nan"],
)
def test_rejects_a_disclosure_that_is_not_base64url_json(
    kit: Any, resolver: Any, encoded: str
) -> None:
    presentation = _forged(kit, _payload(kit), [encoded])
    assert _fails(kit, presentation, resolver) == "sdjwt.disclosure-invalid"


def test_rejects_an_array_element_disclosure_under_sd(kit: Any, resolver: Any) -> None:
    disclosure = Disclosure.create(salt="salt-one-two-three", name=None, value="red")
    payload = _payload(kit, _sd=[disclosure.digest()])
    assert _fails(kit, _forged(kit, payload, [disclosure.encoded]), resolver) == (
        "sdjwt.disclosure-invalid"
    )


def test_rejects_an_object_property_disclosure_in_an_array(
    kit: Any, resolver: Any
) -> None:
    disclosure = Disclosure.create(salt="salt-one-two-three", name="c", value="red")
    payload = _payload(kit, colors=[{"...": disclosure.digest()}])
    assert _fails(kit, _forged(kit, payload, [disclosure.encoded]), resolver) == (
        "sdjwt.disclosure-invalid"
    )


@pytest.mark.parametrize("sd", ["digest", [1], {"a": "b"}])
def test_rejects_an_sd_that_is_not_an_array_of_strings(
    kit: Any, resolver: Any, sd: Any
) -> None:
    payload = _payload(kit, _sd=sd)
    assert _fails(kit, _forged(kit, payload), resolver) == "sdjwt.malformed"


@pytest.mark.parametrize("sd_alg", ["sha-512", "md5", "SHA-256", 256])
def test_rejects_an_unsupported_sd_alg(kit: Any, resolver: Any, sd_alg: Any) -> None:
    payload = _payload(kit, _sd_alg=sd_alg)
    assert _fails(kit, _forged(kit, payload), resolver) == "sdjwt.alg-unsupported"


def test_rejects_a_nested_sd_alg(kit: Any, resolver: Any) -> None:
    payload = _payload(kit, warranty={"_sd_alg": "sha-256"})
    assert _fails(kit, _forged(kit, payload), resolver) == "sdjwt.malformed"


@pytest.mark.parametrize("claim", ["iss", "exp", "nbf", "cnf", "status", "vct", "iat"])
def test_rejects_a_concealed_claim_that_must_be_in_the_clear(
    kit: Any, resolver: Any, claim: str
) -> None:
    clear = _payload(kit)
    value = clear.get(claim, int(kit.NOW.timestamp()) - 60)
    if claim == "status":
        value = {"status_list": {"idx": 1, "uri": "https://issuer.example/sl"}}
    # iss stays in the clear as well: the issuer key is found through it.
    payload = clear if claim == "iss" else _payload(kit, **{claim: None})
    disclosure = Disclosure.create(salt="salt-one-two-three", name=claim, value=value)
    payload["_sd"] = [disclosure.digest()]
    assert _fails(kit, _forged(kit, payload, [disclosure.encoded]), resolver) == (
        "sdjwt.required-claim-concealed"
    )


# --- key binding -------------------------------------------------------------------


def test_rejects_a_stripped_key_binding_jwt(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present()
    stripped = presentation[: presentation.rfind("~") + 1]
    assert _fails(kit, stripped, resolver) == "sdjwt.kb-missing"


def test_key_binding_is_required_whatever_the_input_says(
    kit: Any, resolver: Any
) -> None:
    issued = kit.issue()
    bare = present(
        issued.sd_jwt, disclose=[("brand",)], holder_key=None, audience=None, nonce=None
    )
    assert _fails(kit, bare, resolver) == "sdjwt.kb-missing"


def test_rejects_a_key_binding_jwt_signed_by_another_key(
    kit: Any, resolver: Any
) -> None:
    issued = kit.issue()
    sd_jwt = issued.present()
    sd_jwt = sd_jwt[: sd_jwt.rfind("~") + 1]
    forged = _bind(kit, sd_jwt, key=kit.ATTACKER_KEY)
    assert _fails(kit, forged, resolver) == "sdjwt.kb-invalid"


def test_rejects_a_key_binding_jwt_with_the_wrong_typ(kit: Any, resolver: Any) -> None:
    sd_jwt = kit.issue().present()
    sd_jwt = sd_jwt[: sd_jwt.rfind("~") + 1]
    forged = _bind(kit, sd_jwt, header={"alg": "EdDSA", "typ": "JWT"})
    assert _fails(kit, forged, resolver) == "sdjwt.kb-invalid"


@pytest.mark.parametrize("claim", ["iat", "sd_hash"])
def test_rejects_a_key_binding_jwt_missing_a_claim(
    kit: Any, resolver: Any, claim: str
) -> None:
    sd_jwt = kit.issue().present()
    sd_jwt = sd_jwt[: sd_jwt.rfind("~") + 1]
    assert _fails(kit, _bind(kit, sd_jwt, **{claim: None}), resolver) == (
        "sdjwt.kb-invalid"
    )


def test_rejects_a_malformed_key_binding_jwt(kit: Any, resolver: Any) -> None:
    sd_jwt = kit.issue().present()
    sd_jwt = sd_jwt[: sd_jwt.rfind("~") + 1]
    assert _fails(kit, sd_jwt + "a.b.c", resolver) == "sdjwt.kb-invalid"


def test_rejects_the_wrong_nonce(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present(nonce="another-nonce")
    assert _fails(kit, presentation, resolver) == "sdjwt.nonce-invalid"


def test_rejects_a_key_binding_jwt_without_a_nonce(kit: Any, resolver: Any) -> None:
    sd_jwt = kit.issue().present()
    sd_jwt = sd_jwt[: sd_jwt.rfind("~") + 1]
    assert _fails(kit, _bind(kit, sd_jwt, nonce=None), resolver) == (
        "sdjwt.nonce-invalid"
    )


def test_rejects_the_wrong_audience(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present(audience="did:web:other-vendor.example")
    assert _fails(kit, presentation, resolver) == "sdjwt.audience-invalid"


@pytest.mark.parametrize("aud", [None, ["did:web:vendor.example"]])
def test_rejects_a_missing_or_list_audience(kit: Any, resolver: Any, aud: Any) -> None:
    sd_jwt = kit.issue().present()
    sd_jwt = sd_jwt[: sd_jwt.rfind("~") + 1]
    assert _fails(kit, _bind(kit, sd_jwt, aud=aud), resolver) == (
        "sdjwt.audience-invalid"
    )


def test_rejects_a_stale_key_binding_jwt(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present(now=kit.NOW - timedelta(minutes=10))
    assert _fails(kit, presentation, resolver) == "sdjwt.kb-stale"


def test_rejects_a_key_binding_jwt_from_the_future(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present(now=kit.NOW + timedelta(minutes=10))
    assert _fails(kit, presentation, resolver) == "sdjwt.kb-stale"


def test_key_binding_freshness_window_is_a_policy(kit: Any, resolver: Any) -> None:
    presentation = kit.issue().present(now=kit.NOW - timedelta(minutes=10))
    assert _verify(kit, presentation, resolver, max_kb_age=timedelta(minutes=15))


@pytest.mark.parametrize("change", ["add", "remove", "reorder"])
def test_rejects_an_sd_hash_mismatch(kit: Any, resolver: Any, change: str) -> None:
    issued = kit.issue()
    all_disclosures = [d.encoded for d in SDJWT.parse(issued.sd_jwt).disclosures]
    presentation = issued.present([("brand",), ("model",)])
    jwt, *sent, kb_jwt = presentation.split("~")
    if change == "add":
        sent.append(next(d for d in all_disclosures if d not in sent))
        assert len(sent) == 3
    elif change == "remove":
        sent.pop()
    else:
        sent.reverse()
    changed = "~".join([jwt, *sent, kb_jwt])
    assert _fails(kit, changed, resolver) == "sdjwt.sd-hash-mismatch"


def test_rejects_a_replayed_nonce(kit: Any, resolver: Any) -> None:
    store = InMemoryNonceStore(clock=lambda: kit.NOW)
    nonce = store.issue()
    presentation = kit.issue().present(nonce=nonce)
    verified = _verify(kit, presentation, resolver, nonce=nonce, nonce_store=store)
    assert verified.checks[-1].name == "nonce"
    assert _fails(kit, presentation, resolver, nonce=nonce, nonce_store=store) == (
        "sdjwt.nonce-replayed"
    )


def test_rejects_a_nonce_the_store_never_issued(kit: Any, resolver: Any) -> None:
    store = InMemoryNonceStore(clock=lambda: kit.NOW)
    presentation = kit.issue().present()
    assert _fails(kit, presentation, resolver, nonce_store=store) == (
        "sdjwt.nonce-invalid"
    )


def test_rejects_an_expired_nonce(kit: Any, resolver: Any) -> None:
    store = InMemoryNonceStore(ttl=timedelta(minutes=2), clock=lambda: kit.NOW)
    nonce = store.issue(now=kit.NOW - timedelta(minutes=3))
    presentation = kit.issue().present(nonce=nonce)
    assert _fails(kit, presentation, resolver, nonce=nonce, nonce_store=store) == (
        "sdjwt.nonce-invalid"
    )


def test_a_failed_presentation_does_not_burn_the_nonce(kit: Any, resolver: Any) -> None:
    store = InMemoryNonceStore(clock=lambda: kit.NOW)
    nonce = store.issue()
    issued = kit.issue()
    wrong_audience = issued.present(nonce=nonce, audience="did:web:elsewhere.example")
    assert _fails(kit, wrong_audience, resolver, nonce=nonce, nonce_store=store) == (
        "sdjwt.audience-invalid"
    )
    assert _verify(
        kit, issued.present(nonce=nonce), resolver, nonce=nonce, nonce_store=store
    )


# --- status ------------------------------------------------------------------------


STATUS_URI = "https://issuer.example/statuslists/1"


class _StatusFetcher:
    def __init__(self, token: str) -> None:
        self.token = token

    def fetch(self, url: str) -> bytes:
        if url != STATUS_URI:
            raise ResolutionError("not found", url=url)
        return self.token.encode()


def _status_checker(kit: Any, *, revoked: int | None) -> TokenStatusChecker:
    issuer_key = kit.ISSUER_KEYS[KeyAlgorithm.ED25519]
    status_list = TokenStatusList(1024)
    if revoked is not None:
        status_list.set(revoked, 1)
    token = issue_status_list_token(
        status_list,
        key=issuer_key,
        sub=STATUS_URI,
        iat=kit.NOW - timedelta(minutes=1),
        exp=kit.NOW + timedelta(hours=1),
    )
    return TokenStatusChecker(
        fetcher=_StatusFetcher(token),
        resolve_key=lambda uri, kid: issuer_key.public_key,
        clock=lambda: kit.NOW,
    )


def _with_status(kit: Any, idx: int) -> Any:
    return kit.issue(status={"status_list": {"idx": idx, "uri": STATUS_URI}})


def test_accepts_a_valid_status(kit: Any, resolver: Any) -> None:
    checker = _status_checker(kit, revoked=7)
    verified = _verify(
        kit, _with_status(kit, 3).present(), resolver, status_checker=checker
    )
    assert verified.checks[-1].detail == "status list checked"


def test_rejects_a_revoked_status(kit: Any, resolver: Any) -> None:
    checker = _status_checker(kit, revoked=3)
    presentation = _with_status(kit, 3).present()
    assert _fails(kit, presentation, resolver, status_checker=checker) == (
        "credential.revoked"
    )


def test_rejects_a_status_that_cannot_be_checked(kit: Any, resolver: Any) -> None:
    presentation = _with_status(kit, 3).present()
    assert _fails(kit, presentation, resolver) == "status.unchecked"


# --- input that is not an SD-JWT ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "no-tilde", "a.b.c", "a.b.c~", "~~", "x~y~", "{", '{"payload": 1}', "a.b~~"],
)
def test_rejects_input_that_is_not_an_sd_jwt(
    kit: Any, resolver: Any, text: str
) -> None:
    with pytest.raises(DidVaultError) as excinfo:
        _verify(kit, text, resolver)
    assert excinfo.value.code in ("sdjwt.malformed", "sdjwt.disclosure-invalid")
