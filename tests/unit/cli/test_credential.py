"""did-vault credential / present / presentation: issue, hold, present, verify."""

import json
import os
from pathlib import Path

import pytest

from cli.main import main

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    wallet_home = tmp_path / "wallet"
    for name in list(os.environ):
        if name.startswith("DID_VAULT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DID_VAULT_HOME", str(wallet_home))
    monkeypatch.setenv("DID_VAULT_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DID_VAULT_INSECURE_TEST_KDF", "1")
    return wallet_home


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as exc_info:
        main([*args, "--json"])
    document = json.loads(capsys.readouterr().out)
    code = exc_info.value.code
    return (code if isinstance(code, int) else 0), document


@pytest.fixture
def owner(home: Path, capsys, tmp_path: Path) -> dict[str, str]:
    """A wallet with an issuer (brand), an owner, and the owner's subject file."""
    run(capsys, "init")
    _, brand = run(capsys, "did", "create", "--alias", "brand")
    _, p256 = run(capsys, "did", "create", "--alias", "shop", "--key-type", "p256")
    _, alice = run(capsys, "did", "create", "--alias", "alice")
    subject = tmp_path / "subject.json"
    subject.write_text(
        json.dumps({"id": alice["did"], "name": "E-bike", "serialNumber": "SN-1"})
    )
    return {
        "brand": brand["did"],
        "shop": p256["did"],
        "alice": alice["did"],
        "subject": str(subject),
    }


@pytest.mark.parametrize(
    ("issuer", "suite", "expected"),
    [
        ("brand", None, "eddsa-jcs-2022"),
        ("brand", "eddsa-rdfc-2022", "eddsa-rdfc-2022"),
        ("shop", None, "ecdsa-jcs-2019"),
        ("shop", "ecdsa-rdfc-2019", "ecdsa-rdfc-2019"),
    ],
)
def test_issued_credential_verifies_with_every_suite(
    owner, capsys, tmp_path: Path, issuer: str, suite: str | None, expected: str
) -> None:
    out = tmp_path / "credential.json"
    # RDFC signs only what the contexts define: keep to credentials-v2 terms.
    subject = tmp_path / "v2-subject.json"
    subject.write_text(json.dumps({"id": owner["alice"], "name": "E-bike"}))
    args = ["credential", "issue", "--issuer", issuer, "--subject", str(subject)]
    args += ["--out", str(out)]
    if suite:
        args += ["--suite", suite]
    code, credential = run(capsys, *args)
    assert code == 0
    assert credential["proof"]["cryptosuite"] == expected
    assert credential["issuer"] == owner[issuer]
    assert json.loads(out.read_text()) == credential

    code, result = run(capsys, "credential", "verify", str(out))
    assert code == 0
    assert result["verified"] is True
    assert [c["check"] for c in result["checks"]] == [
        "parse",
        "data-model",
        "proof",
        "validity",
        "status",
    ]


def test_tampered_credential_exits_1_with_the_failed_check(
    owner, capsys, tmp_path: Path
) -> None:
    _, credential = run(
        capsys,
        "credential",
        "issue",
        "--issuer",
        "brand",
        "--subject",
        owner["subject"],
    )
    credential["credentialSubject"]["serialNumber"] = "SN-2"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(credential))
    code, problem = run(capsys, "credential", "verify", str(forged))
    assert (code, problem["verified"]) == (1, False)
    assert problem["code"] == "proof.verification-failed"
    assert problem["check"] == "proof"


def test_valid_until_before_now_is_refused_at_issue(owner, capsys) -> None:
    code, problem = run(
        capsys,
        "credential",
        "issue",
        "--issuer",
        "brand",
        "--subject",
        owner["subject"],
        "--valid-until",
        "2001-01-01T00:00:00",
    )
    assert (code, problem["code"]) == (65, "credential.malformed")


def test_rdfc_refuses_terms_the_contexts_do_not_define(owner, capsys) -> None:
    code, problem = run(
        capsys,
        "credential",
        "issue",
        "--issuer",
        "brand",
        "--subject",
        owner["subject"],
        "--suite",
        "eddsa-rdfc-2022",
    )
    assert (code, problem["code"]) == (65, "context.term-undefined")


def test_wrong_suite_for_the_key_is_a_clear_error(owner, capsys) -> None:
    code, problem = run(
        capsys,
        "credential",
        "issue",
        "--issuer",
        "shop",
        "--subject",
        owner["subject"],
        "--suite",
        "eddsa-jcs-2022",
    )
    assert (code, problem["code"]) == (65, "cli.suite-key-mismatch")


def test_unknown_suite_exits_65(owner, capsys) -> None:
    code, problem = run(
        capsys,
        "credential",
        "issue",
        "--issuer",
        "brand",
        "--subject",
        owner["subject"],
        "--suite",
        "rsa-2048",
    )
    assert (code, problem["code"]) == (65, "proof.cryptosuite-unsupported")


def test_subject_that_is_not_json_exits_65(owner, capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, problem = run(
        capsys, "credential", "issue", "--issuer", "brand", "--subject", str(bad)
    )
    assert (code, problem["code"]) == (65, "cli.json-invalid")


def test_import_verifies_keeps_and_shows_the_exact_credential(
    owner, capsys, tmp_path: Path
) -> None:
    out = tmp_path / "c.json"
    run(
        capsys,
        "credential",
        "issue",
        "--issuer",
        "brand",
        "--subject",
        owner["subject"],
        "--out",
        str(out),
    )
    code, stored = run(capsys, "credential", "import", str(out), "--as", "bike")
    assert (code, stored["id"]) == (0, "bike")
    code, listing = run(capsys, "credential", "list")
    assert [c["id"] for c in listing["credentials"]] == ["bike"]
    code, shown = run(capsys, "credential", "show", "bike")
    assert shown == json.loads(out.read_text())


def test_import_refuses_a_forged_credential(owner, capsys, tmp_path: Path) -> None:
    _, credential = run(
        capsys,
        "credential",
        "issue",
        "--issuer",
        "brand",
        "--subject",
        owner["subject"],
    )
    credential["issuer"] = owner["shop"]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(credential))
    code, problem = run(capsys, "credential", "import", str(forged))
    assert code == 1
    assert problem["verified"] is False
    _, listing = run(capsys, "credential", "list")
    assert listing["credentials"] == []


def test_present_and_verify_bound_to_challenge_and_domain(
    owner, capsys, tmp_path: Path
) -> None:
    run(
        capsys,
        "credential",
        "issue",
        "--issuer",
        "brand",
        "--subject",
        owner["subject"],
        "--store",
    )
    vp = tmp_path / "vp.json"
    code, presentation = run(
        capsys,
        "present",
        "--credential",
        "cred-1",
        "--challenge",
        "nonce-42",
        "--domain",
        "shop.example",
        "--out",
        str(vp),
    )
    assert code == 0
    assert presentation["holder"] == owner["alice"]

    verify = ["presentation", "verify", str(vp), "--domain", "shop.example"]
    code, result = run(capsys, *verify, "--challenge", "nonce-42")
    assert (code, result["verified"]) == (0, True)
    assert result["credentials"][0]["issuer"] == owner["brand"]

    code, problem = run(capsys, *verify, "--challenge", "nonce-43")
    assert (code, problem["code"]) == (1, "proof.challenge-invalid")
    code, problem = run(
        capsys,
        "presentation",
        "verify",
        str(vp),
        "--challenge",
        "nonce-42",
        "--domain",
        "evil.example",
    )
    assert (code, problem["code"]) == (1, "proof.domain-invalid")


def test_present_unknown_credential_exits_65(owner, capsys) -> None:
    code, problem = run(
        capsys,
        "present",
        "--credential",
        "cred-9",
        "--challenge",
        "n",
        "--domain",
        "d.example",
    )
    assert (code, problem["code"]) == (65, "wallet.credential-not-found")
