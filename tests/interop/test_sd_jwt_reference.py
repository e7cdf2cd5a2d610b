"""Cross-verification with the IETF SD-JWT reference implementation (PyPI ``sd-jwt``).

The reference (pinned in pyproject's dev extra and requirements.lock) issues, presents
and verifies SD-JWTs on jwcrypto. Its Key Binding JWT check hard-codes ES256, so every
key here is P-256. Our SD-JWT VCs and presentations verify there, theirs verify here,
and tampered ones fail in both. The reference's holder stamps the KB-JWT ``iat`` with
``time.time()``; the tests pin that clock to the fixed one.
"""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jwcrypto.jwk import JWK  # type: ignore[import-untyped]
from sd_jwt.common import SDObj  # type: ignore[import-untyped]
from sd_jwt.holder import SDJWTHolder  # type: ignore[import-untyped]
from sd_jwt.issuer import SDJWTIssuer  # type: ignore[import-untyped]
from sd_jwt.verifier import SDJWTVerifier  # type: ignore[import-untyped]

from did_vault.dids import create_did_key, default_resolver
from did_vault.errors import DidVaultError, UnsatisfiableQueryError
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.primitives.b64 import b64url_decode, b64url_encode
from did_vault.sd_jwt.dcql import HeldCredential, answer_query, load_template
from did_vault.sd_jwt.holder import SDJWT, present
from did_vault.sd_jwt.issuer import issue_sd_jwt_vc
from did_vault.sd_jwt.verifier import VerifiedSDJWT, verify_sd_jwt

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
ISSUER_KEY = PrivateKey(KeyAlgorithm.P256, bytes.fromhex("11" * 32))
HOLDER_KEY = PrivateKey(KeyAlgorithm.P256, bytes.fromhex("22" * 32))
ISSUER = str(create_did_key(ISSUER_KEY.public_key))
KID = f"{ISSUER}#{ISSUER_KEY.public_key.to_multikey()}"
VCT = "urn:did-vault:vct:OwnershipCredential"
AUDIENCE = "did:web:repair.example"
NONCE = "n-0S6_WzA2Mj"

CLAIMS: dict[str, Any] = {
    "item": {
        "brand": "Brand X",
        "model": "Trekking 7",
        "gtin": "09506000134352",
        "serialNumber": "WBX7-42",
        "warranty": {"validUntil": "2028-11-20"},
    },
    "owner": {"name": "Alice Example"},
    "ownedFrom": "2026-11-20",
    "evidence": ["uEiDreceipt", "uEiDphoto1", "uEiDphoto2"],
}
DISCLOSABLE = [
    ("item",),
    ("item", "brand"),
    ("item", "model"),
    ("item", "gtin"),
    ("item", "serialNumber"),
    ("item", "warranty"),
    ("owner",),
    ("owner", "name"),
    ("ownedFrom",),
    ("evidence", 0),
    ("evidence", 1),
    ("evidence", 2),
]


def _jwk(key: PrivateKey, *, private: bool) -> JWK:
    jwk = key.to_jwk() if private else key.public_key.to_jwk()
    return JWK(**jwk)


def _ours() -> str:
    return issue_sd_jwt_vc(
        vct=VCT,
        issuer_did=ISSUER,
        key=ISSUER_KEY,
        kid=KID,
        claims=CLAIMS,
        disclosable=DISCLOSABLE,
        holder_key=HOLDER_KEY.public_key,
        now=NOW,
    )


def _our_presentation(disclose: list[tuple[str | int, ...]]) -> str:
    return present(
        _ours(),
        disclose=disclose,
        holder_key=HOLDER_KEY,
        audience=AUDIENCE,
        nonce=NONCE,
        now=NOW,
    )


def _reference_verify(
    presentation: str, *, nonce: str = NONCE, aud: str = AUDIENCE
) -> dict[str, Any]:
    def issuer_key(issuer: str, header: dict[str, Any]) -> JWK:
        assert issuer == ISSUER
        assert header["kid"] == KID
        return _jwk(ISSUER_KEY, private=False)

    verifier = SDJWTVerifier(
        presentation, issuer_key, expected_aud=aud, expected_nonce=nonce
    )
    payload: dict[str, Any] = verifier.get_verified_payload()
    return payload


def _our_verify(presentation: str) -> VerifiedSDJWT:
    return verify_sd_jwt(
        presentation,
        audience=AUDIENCE,
        nonce=NONCE,
        resolver=default_resolver(),
        now=NOW,
    )


def _reference_issue() -> str:
    """An SD-JWT VC made by the reference: nested, array-element and flat SD claims."""
    claims = {
        "iss": ISSUER,
        "iat": int(NOW.timestamp()) - 3600,
        "vct": VCT,
        "cnf": {"jwk": HOLDER_KEY.public_key.to_jwk()},
        SDObj("item"): {
            SDObj("brand"): "Brand X",
            SDObj("model"): "Trekking 7",
            SDObj("serialNumber"): "WBX7-42",
        },
        SDObj("owner"): {"name": "Alice Example"},
        SDObj("ownedFrom"): "2026-11-20",
        "evidence": [SDObj("uEiDreceipt"), SDObj("uEiDphoto1"), "uEiDclear"],
    }
    issuer = SDJWTIssuer(
        claims,
        _jwk(ISSUER_KEY, private=True),
        sign_alg="ES256",
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": KID},
    )
    issuance: str = issuer.sd_jwt_issuance
    return issuance


@pytest.fixture
def reference_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference's holder stamps KB-JWT ``iat`` from ``time.time()``: pin it."""
    monkeypatch.setattr("sd_jwt.holder.time", lambda: NOW.timestamp())


def _reference_present(issuance: str, disclose: dict[str, Any]) -> str:
    holder = SDJWTHolder(issuance)
    holder.create_presentation(
        disclose,
        nonce=NONCE,
        aud=AUDIENCE,
        holder_key=_jwk(HOLDER_KEY, private=True),
        sign_alg="ES256",
    )
    presentation: str = holder.sd_jwt_presentation
    return presentation


def _without_registered(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k not in {"iss", "iat", "vct", "cnf"}}


# --- ours, verified by the reference ------------------------------------------------


def test_our_presentation_verifies_in_the_reference() -> None:
    presentation = _our_presentation(
        [("item", "brand"), ("item", "model"), ("ownedFrom",)]
    )
    payload = _reference_verify(presentation)
    assert payload["iss"] == ISSUER
    assert payload["vct"] == VCT
    assert payload["cnf"] == {"jwk": HOLDER_KEY.public_key.to_jwk()}
    assert _without_registered(payload) == {
        "item": {"brand": "Brand X", "model": "Trekking 7"},
        "ownedFrom": "2026-11-20",
        "evidence": [],
    }
    assert payload == _our_verify(presentation).claims


def test_our_array_element_and_nested_disclosures_verify_in_the_reference() -> None:
    presentation = _our_presentation(
        [("evidence", 1), ("item", "warranty"), ("owner", "name")]
    )
    payload = _reference_verify(presentation)
    assert payload["evidence"] == ["uEiDphoto1"]
    assert payload["item"] == {"warranty": {"validUntil": "2028-11-20"}}
    assert payload["owner"] == {"name": "Alice Example"}


def test_our_full_issuance_is_readable_by_the_reference_holder() -> None:
    holder = SDJWTHolder(_ours())
    holder.create_presentation({"item": {"serialNumber": True}})
    # No KB here: the reference verifier checks the signature and the digests.
    verifier = SDJWTVerifier(
        holder.sd_jwt_presentation, lambda iss, header: _jwk(ISSUER_KEY, private=False)
    )
    assert verifier.get_verified_payload()["item"] == {"serialNumber": "WBX7-42"}


def test_dcql_answer_presented_by_us_verifies_in_the_reference() -> None:
    held = HeldCredential.from_sd_jwt(SDJWT.parse(_ours()))
    match = answer_query(load_template("resale-ownership"), [held]).matches[0]
    presentation = _our_presentation(list(match.disclose))
    payload = _reference_verify(presentation)
    assert _without_registered(payload) == {
        "item": {
            "brand": "Brand X",
            "model": "Trekking 7",
            "gtin": "09506000134352",
            "serialNumber": "WBX7-42",
        },
        "ownedFrom": "2026-11-20",
        "evidence": [],
    }


def test_reference_rejects_our_presentation_for_another_nonce_or_audience() -> None:
    presentation = _our_presentation([("item", "brand")])
    with pytest.raises(ValueError, match="nonce"):
        _reference_verify(presentation, nonce="another")
    with pytest.raises(ValueError, match="audience"):
        _reference_verify(presentation, aud="did:web:other.example")


def _tamper_disclosure(presentation: str) -> str:
    """Change the brand in its Disclosure, re-encoded cleanly."""
    parts = presentation.split("~")
    for n, part in enumerate(parts[1:-1], start=1):
        salt, name, _value = json.loads(b64url_decode(part))
        if name == "brand":
            forged = json.dumps([salt, name, "Brand Z"]).encode()
            parts[n] = b64url_encode(forged)
    return "~".join(parts)


def _tamper_payload(presentation: str) -> str:
    """Change a clear claim in the issuer-signed payload, keeping the signature."""
    jwt, *rest = presentation.split("~")
    header, payload, signature = jwt.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["vct"] = "urn:did-vault:vct:Forged"
    forged = b64url_encode(json.dumps(claims).encode())
    return "~".join([f"{header}.{forged}.{signature}", *rest])


def _drop_kb_disclosure(presentation: str) -> str:
    """Remove one Disclosure after the KB-JWT was made (sd_hash no longer fits)."""
    parts = presentation.split("~")
    return "~".join([parts[0], *parts[2:]])


TAMPERINGS = {
    "disclosure value": _tamper_disclosure,
    "issuer payload": _tamper_payload,
    "disclosure removed": _drop_kb_disclosure,
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_our_tampered_presentation_fails_in_both(tamper: Any) -> None:
    presentation = tamper(
        _our_presentation([("item", "brand"), ("item", "model"), ("ownedFrom",)])
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - the reference raises bare types
        _reference_verify(presentation)
    with pytest.raises(DidVaultError):
        _our_verify(presentation)


# --- theirs, verified here ----------------------------------------------------------


@pytest.mark.usefixtures("reference_clock")
def test_reference_presentation_verifies_here() -> None:
    presentation = _reference_present(
        _reference_issue(),
        {"item": {"brand": True, "model": True}, "ownedFrom": True},
    )
    verified = _our_verify(presentation)
    assert verified.issuer == ISSUER
    assert verified.vct == VCT
    assert verified.holder_key == HOLDER_KEY.public_key
    assert _without_registered(verified.claims) == {
        "item": {"brand": "Brand X", "model": "Trekking 7"},
        "ownedFrom": "2026-11-20",
        "evidence": ["uEiDclear"],
    }
    assert verified.claims == _reference_verify(presentation)


@pytest.mark.usefixtures("reference_clock")
def test_reference_array_element_disclosures_verify_here() -> None:
    presentation = _reference_present(
        _reference_issue(), {"evidence": [False, True], "owner": True}
    )
    verified = _our_verify(presentation)
    assert verified.claims["evidence"] == ["uEiDphoto1", "uEiDclear"]
    assert verified.claims["owner"] == {"name": "Alice Example"}
    assert "item" not in verified.claims


def test_reference_issuance_answers_a_dcql_template_here() -> None:
    held = HeldCredential.from_sd_jwt(SDJWT.parse(_reference_issue()))
    # The reference credential has no warranty: warranty-check cannot be answered,
    # but stolen-check can, by its second option (brand, model, serial).
    with pytest.raises(UnsatisfiableQueryError):
        answer_query(load_template("warranty-check"), [held])
    stolen = answer_query(load_template("stolen-check"), [held]).matches[0]
    assert set(stolen.disclosures) == {
        ("item",),
        ("item", "brand"),
        ("item", "model"),
        ("item", "serialNumber"),
    }


@pytest.mark.usefixtures("reference_clock")
@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_reference_tampered_presentation_fails_in_both(tamper: Any) -> None:
    presentation = tamper(
        _reference_present(
            _reference_issue(),
            {"item": {"brand": True, "model": True}, "ownedFrom": True},
        )
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - the reference raises bare types
        _reference_verify(presentation)
    with pytest.raises(DidVaultError):
        _our_verify(presentation)
