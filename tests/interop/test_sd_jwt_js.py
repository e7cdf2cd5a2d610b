"""Cross-verification with the OpenWallet Foundation SD-JWT implementation (npm).

``interop/sdjwt.mjs`` runs @sd-jwt/sd-jwt-vc 0.17.1 with @sd-jwt/crypto-nodejs 0.17.0
(pinned in interop/package-lock.json), offline, with ES256 and EdDSA keys. Our SD-JWT
VCs and presentations verify there, theirs verify here, and tampered ones fail in both.

Needs ``node`` and the installed harness (``npm ci --prefix interop``); without them
the tests skip and say why, unless ``REQUIRE_NODE=1``, which makes them fail.
"""

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from did_vault.dids import create_did_key, default_resolver
from did_vault.errors import DidVaultError
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.primitives.b64 import b64url_decode, b64url_encode
from did_vault.sd_jwt.dcql import HeldCredential, answer_query, load_template
from did_vault.sd_jwt.holder import SDJWT, present
from did_vault.sd_jwt.issuer import issue_sd_jwt_vc
from did_vault.sd_jwt.verifier import VerifiedSDJWT, verify_sd_jwt

pytestmark = pytest.mark.node

INTEROP = Path(__file__).parents[2] / "interop"
HARNESS = INTEROP / "sdjwt.mjs"
REQUIRED_PACKAGES = ("@sd-jwt/sd-jwt-vc", "@sd-jwt/crypto-nodejs", "@sd-jwt/core")
NODE_TIMEOUT_SECONDS = 60

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
VCT = "urn:did-vault:vct:OwnershipCredential"
AUDIENCE = "did:web:pawnshop.example"
NONCE = "n-4Fq9Zp2xL0"

KEYS = {
    "ES256": (
        PrivateKey(KeyAlgorithm.P256, bytes.fromhex("31" * 32)),
        PrivateKey(KeyAlgorithm.P256, bytes.fromhex("32" * 32)),
    ),
    "EdDSA": (
        PrivateKey(KeyAlgorithm.ED25519, bytes(range(32))),
        PrivateKey(KeyAlgorithm.ED25519, bytes(range(1, 33))),
    ),
}
ALGS = tuple(KEYS)

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
    ("ownedFrom",),
    ("evidence", 0),
    ("evidence", 1),
    ("evidence", 2),
]
# The same claims and disclosability, as the npm library's disclosure frame.
DISCLOSURE_FRAME = {
    "_sd": ["item", "owner", "ownedFrom"],
    "item": {"_sd": ["brand", "model", "gtin", "serialNumber", "warranty"]},
    "evidence": {"_sd": [0, 1, 2]},
}


def _missing_harness() -> str | None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not on PATH"
    modules = INTEROP / "node_modules"
    if not modules.is_dir():
        return (
            f"{modules} is absent: install the pinned packages with "
            "`npm ci --prefix interop --no-audit --no-fund`"
        )
    for package in REQUIRED_PACKAGES:
        if not (modules / package / "package.json").is_file():
            return f"{package} is missing in {modules}: run `npm ci --prefix interop`"
    return None


@pytest.fixture(scope="module", autouse=True)
def harness() -> None:
    reason = _missing_harness()
    if reason is None:
        return
    if os.environ.get("REQUIRE_NODE") == "1":
        pytest.fail(f"REQUIRE_NODE=1 but the npm harness cannot run: {reason}")
    pytest.skip(f"npm cross-verification harness unavailable: {reason}")


class _HarnessError(Exception):
    """sdjwt.mjs failed (its error is the message)."""


def _node(command: str, request: dict[str, Any]) -> dict[str, Any]:
    completed = subprocess.run(
        ["node", str(HARNESS), command],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        reply: dict[str, Any] = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"sdjwt.mjs {command} gave no JSON: {completed.stderr[-2000:]}")
    if completed.returncode != 0:
        raise _HarnessError(reply.get("error", completed.stderr))
    return reply


def _issuer(alg: str) -> tuple[PrivateKey, str, str]:
    key = KEYS[alg][0]
    did = str(create_did_key(key.public_key))
    return key, did, f"{did}#{key.public_key.to_multikey()}"


def _holder(alg: str) -> PrivateKey:
    return KEYS[alg][1]


def _ours(alg: str) -> str:
    key, did, kid = _issuer(alg)
    return issue_sd_jwt_vc(
        vct=VCT,
        issuer_did=did,
        key=key,
        kid=kid,
        claims=CLAIMS,
        disclosable=DISCLOSABLE,
        holder_key=_holder(alg).public_key,
        now=NOW,
    )


def _our_present(alg: str, sd_jwt: str, disclose: list[tuple[str | int, ...]]) -> str:
    return present(
        sd_jwt,
        disclose=disclose,
        holder_key=_holder(alg),
        audience=AUDIENCE,
        nonce=NONCE,
        now=NOW,
    )


def _our_verify(presentation: str) -> VerifiedSDJWT:
    return verify_sd_jwt(
        presentation,
        audience=AUDIENCE,
        nonce=NONCE,
        resolver=default_resolver(),
        now=NOW,
    )


def _their_issue(alg: str) -> str:
    key, did, kid = _issuer(alg)
    payload = {
        "iss": did,
        "iat": EPOCH - 3600,
        "exp": EPOCH + 365 * 86400,
        "vct": VCT,
        "cnf": {"jwk": _holder(alg).public_key.to_jwk()},
        **CLAIMS,
    }
    reply = _node(
        "issue",
        {
            "key": key.to_jwk(),
            "alg": alg,
            "kid": kid,
            "payload": payload,
            "disclosureFrame": DISCLOSURE_FRAME,
        },
    )
    sd_jwt: str = reply["sdJwt"]
    return sd_jwt


def _their_present(alg: str, sd_jwt: str, frame: dict[str, Any]) -> str:
    reply = _node(
        "present",
        {
            "sdJwt": sd_jwt,
            "presentationFrame": frame,
            "holderKey": _holder(alg).to_jwk(),
            "alg": alg,
            "aud": AUDIENCE,
            "nonce": NONCE,
            "iat": EPOCH,
        },
    )
    presentation: str = reply["presentation"]
    return presentation


def _their_verify(
    alg: str, presentation: str, *, nonce: str = NONCE, aud: str = AUDIENCE
) -> dict[str, Any]:
    return _node(
        "verify",
        {
            "presentation": presentation,
            "issuerKey": _issuer(alg)[0].public_key.to_jwk(),
            "aud": aud,
            "nonce": nonce,
            "now": EPOCH,
        },
    )


def _disclosed(claims: dict[str, Any]) -> dict[str, Any]:
    registered = {"iss", "iat", "exp", "nbf", "vct", "cnf", "status"}
    return {k: v for k, v in claims.items() if k not in registered}


# --- ours, verified by them -----------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_our_presentation_verifies_in_the_npm_library(alg: str) -> None:
    presentation = _our_present(
        alg, _ours(alg), [("item", "brand"), ("item", "model"), ("evidence", 1)]
    )
    reply = _their_verify(alg, presentation)
    assert reply["header"]["typ"] == "dc+sd-jwt"
    assert reply["header"]["alg"] == alg
    assert reply["kb"]["payload"]["aud"] == AUDIENCE
    assert reply["payload"]["vct"] == VCT
    assert _disclosed(reply["payload"]) == {
        "item": {"brand": "Brand X", "model": "Trekking 7"},
        "evidence": ["uEiDphoto1"],
    }
    assert reply["payload"] == _our_verify(presentation).claims


@pytest.mark.parametrize("alg", ALGS)
def test_our_dcql_answer_verifies_in_the_npm_library(alg: str) -> None:
    sd_jwt = _ours(alg)
    held = HeldCredential.from_sd_jwt(SDJWT.parse(sd_jwt))
    match = answer_query(load_template("warranty-check"), [held]).matches[0]
    reply = _their_verify(alg, _our_present(alg, sd_jwt, list(match.disclose)))
    assert _disclosed(reply["payload"]) == {
        "item": {
            "brand": "Brand X",
            "model": "Trekking 7",
            "warranty": {"validUntil": "2028-11-20"},
        },
        "evidence": [],
    }


@pytest.mark.parametrize("alg", ALGS)
def test_npm_library_rejects_our_presentation_for_another_nonce_or_audience(
    alg: str,
) -> None:
    presentation = _our_present(alg, _ours(alg), [("ownedFrom",)])
    with pytest.raises(_HarnessError, match="Nonce"):
        _their_verify(alg, presentation, nonce="another")
    with pytest.raises(_HarnessError, match="aud"):
        _their_verify(alg, presentation, aud="did:web:other.example")


# --- theirs, verified here ------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_npm_presentation_verifies_here(alg: str) -> None:
    presentation = _their_present(
        alg,
        _their_issue(alg),
        {"item": {"brand": True, "serialNumber": True}, "evidence": {"2": True}},
    )
    verified = _our_verify(presentation)
    assert verified.vct == VCT
    assert verified.holder_key == _holder(alg).public_key
    assert _disclosed(verified.claims) == {
        "item": {"brand": "Brand X", "serialNumber": "WBX7-42"},
        "evidence": ["uEiDphoto2"],
    }
    assert verified.claims == _their_verify(alg, presentation)["payload"]


@pytest.mark.parametrize("alg", ALGS)
def test_npm_issuance_presented_by_us_verifies_in_both(alg: str) -> None:
    sd_jwt = _their_issue(alg)
    held = HeldCredential.from_sd_jwt(SDJWT.parse(sd_jwt))
    assert held.disclosable == frozenset(DISCLOSABLE)
    match = answer_query(load_template("resale-ownership"), [held]).matches[0]
    presentation = _our_present(alg, sd_jwt, list(match.disclose))
    expected = {
        "item": {
            "brand": "Brand X",
            "model": "Trekking 7",
            "gtin": "09506000134352",
            "serialNumber": "WBX7-42",
        },
        "ownedFrom": "2026-11-20",
        "evidence": [],
    }
    assert _disclosed(_our_verify(presentation).claims) == expected
    assert _disclosed(_their_verify(alg, presentation)["payload"]) == expected


# --- tampering fails in both ----------------------------------------------------------


def _tamper_disclosure(presentation: str) -> str:
    """Change the brand in its Disclosure, re-encoded cleanly."""
    parts = presentation.split("~")
    for n, part in enumerate(parts[1:-1], start=1):
        decoded = json.loads(b64url_decode(part))
        if len(decoded) == 3 and decoded[1] == "brand":
            parts[n] = b64url_encode(json.dumps([decoded[0], "brand", "Z"]).encode())
    return "~".join(parts)


def _tamper_payload(presentation: str) -> str:
    """Change a clear claim in the issuer-signed payload, keeping the signature."""
    jwt, *rest = presentation.split("~")
    header, payload, signature = jwt.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["vct"] = "urn:did-vault:vct:Forged"
    forged = b64url_encode(json.dumps(claims).encode())
    return "~".join([f"{header}.{forged}.{signature}", *rest])


def _drop_disclosure(presentation: str) -> str:
    """Remove one Disclosure after the KB-JWT was made (sd_hash no longer fits)."""
    parts = presentation.split("~")
    return "~".join([parts[0], *parts[2:]])


def _strip_key_binding(presentation: str) -> str:
    return presentation.rsplit("~", 1)[0] + "~"


TAMPERINGS = {
    "disclosure value": _tamper_disclosure,
    "issuer payload": _tamper_payload,
    "disclosure removed": _drop_disclosure,
    "key binding stripped": _strip_key_binding,
}


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_our_tampered_presentation_fails_in_both(alg: str, tamper: Any) -> None:
    presentation = tamper(
        _our_present(alg, _ours(alg), [("item", "brand"), ("ownedFrom",)])
    )
    with pytest.raises(_HarnessError):
        _their_verify(alg, presentation)
    with pytest.raises(DidVaultError):
        _our_verify(presentation)


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_npm_tampered_presentation_fails_in_both(alg: str, tamper: Any) -> None:
    presentation = tamper(
        _their_present(
            alg, _their_issue(alg), {"item": {"brand": True}, "ownedFrom": True}
        )
    )
    with pytest.raises(_HarnessError):
        _their_verify(alg, presentation)
    with pytest.raises(DidVaultError):
        _our_verify(presentation)
