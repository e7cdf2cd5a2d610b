"""Cross-verification with Digital Bazaar's Data Integrity implementation (npm).

``interop/di.mjs`` runs @digitalbazaar/vc with the eddsa-jcs-2022 and
eddsa-rdfc-2022 cryptosuites, offline (versions pinned in interop/package-lock.json).
Their credentials verify here, ours verify there, tampered ones fail in both, and
RDFC-1.0 canonical forms are byte-equal to their rdf-canonize's.

Needs ``node`` and the installed harness (``npm ci --prefix interop``); without them
the tests skip and say why, unless ``REQUIRE_NODE=1``, which makes them fail.
"""

import copy
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from did_vault.credentials.issuer import issue_credential
from did_vault.credentials.rdfc import canonicalize_rdfc
from did_vault.credentials.verifier import verify_credential
from did_vault.dids import create_did_key, default_resolver
from did_vault.errors import (
    MalformedInputError,
    ProofVerificationError,
    UndefinedTermError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey

pytestmark = pytest.mark.node

INTEROP = Path(__file__).parents[2] / "interop"
HARNESS = INTEROP / "di.mjs"
REQUIRED_PACKAGES = (
    "@digitalbazaar/vc",
    "@digitalbazaar/data-integrity",
    "@digitalbazaar/eddsa-jcs-2022-cryptosuite",
    "@digitalbazaar/eddsa-rdfc-2022-cryptosuite",
    "@digitalbazaar/ed25519-multikey",
    "@digitalbazaar/credentials-context",
    "@digitalbazaar/data-integrity-context",
    "@digitalbazaar/multikey-context",
)
SUITES = ("eddsa-jcs-2022", "eddsa-rdfc-2022")
NODE_TIMEOUT_SECONDS = 60

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
CREATED = datetime(2025, 6, 1, 8, 30, 0, tzinfo=UTC)
ISSUER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
ISSUER = str(create_did_key(ISSUER_KEY.public_key))
ISSUER_METHOD = f"{ISSUER}#{ISSUER_KEY.public_key.to_multikey()}"
VOCAB = "https://vocab.example/registry#"


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


@pytest.fixture(scope="module")
def harness() -> None:
    reason = _missing_harness()
    if reason is None:
        return
    if os.environ.get("REQUIRE_NODE") == "1":
        pytest.fail(f"REQUIRE_NODE=1 but the npm harness cannot run: {reason}")
    pytest.skip(f"npm cross-verification harness unavailable: {reason}")


def _node(command: str, request: dict[str, Any], *args: str) -> dict[str, Any]:
    completed = subprocess.run(
        ["node", str(HARNESS), command, *args],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        reply: dict[str, Any] = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"di.mjs {command} gave no JSON: {completed.stderr[-2000:]}")
    if completed.returncode != 0:
        raise _HarnessError(reply.get("error", completed.stderr))
    return reply


class _HarnessError(Exception):
    """di.mjs failed (its error is the message)."""


def _key_request() -> dict[str, str]:
    return {
        "publicKeyMultibase": ISSUER_KEY.public_key.to_multikey(),
        "secretKeyMultibase": ISSUER_KEY.to_multikey(),
    }


def _credential() -> dict[str, Any]:
    """A credential using only terms of the credentials v2 context."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:5f2c7d0e-8a1b-4c3d-9e4f-000000000042",
        "type": ["VerifiableCredential"],
        "name": "Proof of purchase",
        "description": "E-bike, frame number WTU123456789, bought 2025-05-30",
        "issuer": ISSUER,
        "validFrom": "2025-06-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:owner-7",
            "name": "Brand X e-bike \u201cCity 7\u201d \u2014 warranty to 2027",
        },
    }


def _rich_credential() -> dict[str, Any]:
    """Inline context, nested blank nodes, language, controls: RDFC-1.0 corners."""
    credential = _credential()
    credential["@context"] = [
        "https://www.w3.org/ns/credentials/v2",
        {"@vocab": VOCAB},
    ]
    credential["credentialSubject"] = {
        "id": "did:example:owner-7",
        "item": {
            "type": "IndividualProduct",
            "identifiers": [
                {"propertyID": "frame", "value": "WTU123456789"},
                {"propertyID": "frame", "value": "WTU123456789"},
                {"propertyID": "battery", "value": "B-77\tA"},
            ],
            "note": {"@value": "f\u00fcr den Stadtverkehr", "@language": "de"},
            "controls": "bell\u0007 form\u000c del\u007f",
            "price": {"amount": 1899.5, "currency": "EUR"},
        },
    }
    return credential


def _our_credential(suite: str, credential: dict[str, Any]) -> dict[str, Any]:
    return issue_credential(
        credential,
        key=ISSUER_KEY,
        verification_method=ISSUER_METHOD,
        cryptosuite=suite,
        created=CREATED,
    )


def _their_credential(suite: str, credential: dict[str, Any]) -> dict[str, Any]:
    reply = _node(
        "issue",
        {
            "credential": credential,
            "key": _key_request(),
            "created": CREATED.isoformat().replace("+00:00", "Z"),
        },
        "--suite",
        suite,
    )
    signed: dict[str, Any] = reply["credential"]
    return signed


def _verify_here(signed: dict[str, Any]) -> Any:
    return verify_credential(signed, resolver=default_resolver(), now=NOW)


def _verify_there(signed: dict[str, Any]) -> dict[str, Any]:
    return _node("verify", {"credential": signed})


def _cases() -> list[Any]:
    cases = [pytest.param(suite, _credential, id=f"{suite}-basic") for suite in SUITES]
    # Digital Bazaar's eddsa-jcs-2022 compares @context entries with ===, so an
    # inline context object never matches its copy in the proof: rdfc only.
    cases.append(pytest.param("eddsa-rdfc-2022", _rich_credential, id="rdfc-rich"))
    return cases


TAMPERINGS = {
    "subject-claim": ("credentialSubject", "id", "did:example:someone-else"),
    "issuer-claim": ("description", None, "E-bike, bought 2025-05-31"),
    "proof-created": ("proof", "created", "2025-06-01T08:30:01Z"),
    "proof-value": ("proof", "proofValue", None),
}


def _tamper(signed: dict[str, Any], how: str) -> dict[str, Any]:
    tampered = copy.deepcopy(signed)
    member, inner, value = TAMPERINGS[how]
    if how == "proof-value":
        proof_value = tampered["proof"]["proofValue"]
        # Change one base58 character in the middle: still decodes to 64 bytes.
        middle = len(proof_value) // 2
        replacement = "2" if proof_value[middle] != "2" else "3"
        tampered["proof"]["proofValue"] = (
            proof_value[:middle] + replacement + proof_value[middle + 1 :]
        )
    elif inner is None:
        tampered[member] = value
    else:
        tampered[member][inner] = value
    return tampered


# --- both ways ------------------------------------------------------------------------


@pytest.mark.parametrize(("suite", "make"), _cases())
def test_their_credential_verifies_here(harness, suite, make):
    signed = _their_credential(suite, make())
    assert signed["proof"]["cryptosuite"] == suite
    result = _verify_here(signed)
    assert [proof.cryptosuite for proof in result.proofs] == [suite]
    assert result.proofs[0].controller == ISSUER


@pytest.mark.parametrize(("suite", "make"), _cases())
def test_our_credential_verifies_there(harness, suite, make):
    signed = _our_credential(suite, make())
    assert signed["proof"]["cryptosuite"] == suite
    assert _verify_there(signed) == {"verified": True, "errors": []}


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
@pytest.mark.parametrize("suite", SUITES)
def test_their_tampered_credential_fails_here(harness, suite, how):
    signed = _tamper(_their_credential(suite, _credential()), how)
    with pytest.raises(ProofVerificationError) as caught:
        _verify_here(signed)
    assert caught.value.code == "proof.verification-failed"


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
@pytest.mark.parametrize("suite", SUITES)
def test_our_tampered_credential_fails_there(harness, suite, how):
    signed = _tamper(_our_credential(suite, _credential()), how)
    reply = _verify_there(signed)
    assert reply["verified"] is False
    assert reply["errors"]


@pytest.mark.parametrize("suite", SUITES)
def test_their_untampered_credential_still_verifies_there(harness, suite):
    # The control for the tampering tests: the harness itself accepts its output.
    assert _verify_there(_their_credential(suite, _credential()))["verified"] is True


# --- RDFC-1.0 byte for byte -------------------------------------------------------


def _canonical_there(document: dict[str, Any]) -> bytes:
    return _node("canonize", {"document": document})["nquads"].encode("utf-8")


CANONICAL_CASES = {
    "basic": _credential(),
    "rich": _rich_credential(),
    "escapes": {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": VOCAB}],
        "text": "".join(chr(code) for code in range(0x20)) + '"\\\x7f\u00a0\U0001d11e',
    },
    "blank-node-twins": {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": VOCAB}],
        "items": [{"b": 1}, {"b": 1}, {"c": {"d": "x"}}, {"c": {"d": "y"}}],
    },
    "direction-and-numbers": {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": VOCAB}],
        "title": {
            "@value": "\u05e9\u05dc\u05d5\u05dd",
            "@language": "he",
            "@direction": "rtl",
        },
        "numbers": [0, -1, 1.5, 1e21, 2**53 + 1, 12345678901234567890, True, False],
    },
    "proof-graph": {
        **_credential(),
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-06-01T08:30:00Z",
            "verificationMethod": ISSUER_METHOD,
            "proofPurpose": "assertionMethod",
            "proofValue": "z3abc",
        },
    },
}


@pytest.mark.parametrize("name", sorted(CANONICAL_CASES))
def test_canonical_form_equals_rdf_canonize(harness, name):
    document = CANONICAL_CASES[name]
    assert canonicalize_rdfc(document) == _canonical_there(document)


REFUSED_BY_BOTH = {
    "undefined-term": (
        {**_credential(), "serialNumber": "SN-1"},
        UndefinedTermError,
    ),
    "relative-id": (
        {**_credential(), "id": "credential-42"},
        UndefinedTermError,
    ),
    "bad-language-tag": (
        {
            "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": VOCAB}],
            "note": {"@value": "x", "@language": "en_GB"},
        },
        MalformedInputError,
    ),
    "poison-graph": (
        {
            "@graph": [
                {
                    "@id": f"_:n{i}",
                    "https://example.org/next": {"@id": f"_:n{(i + 1) % 6}"},
                }
                for i in range(6)
            ]
        },
        MalformedInputError,
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED_BY_BOTH))
def test_both_refuse_what_they_cannot_canonicalize_safely(harness, name):
    document, error = REFUSED_BY_BOTH[name]
    with pytest.raises(error):
        canonicalize_rdfc(document)
    with pytest.raises(_HarnessError):
        _canonical_there(document)
