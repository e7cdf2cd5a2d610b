"""did-vault credential issue --format sd-jwt-vc, share and verify, end to end."""

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from cli.nonces import FileNonceStore
from did_vault import SDJWT, NonceState, did_key_public_key

PASSPHRASE = "correct horse battery staple"
AUDIENCE = "did:web:repair-shop.example"
NONCE = "nonce-5f2a9c1e7b"
SUBJECT = {
    "item": {
        "brand": "Brand X",
        "model": "Trekking 7",
        "gtin": "09506000134352",
        "serialNumber": "WBX7-2026-000042",
        "warranty": {"validUntil": "2028-11-20"},
    },
    "ownedFrom": "2026-11-20",
    "acquisition": {
        "purchaseDate": "2026-11-20",
        "price": {"amount": "2499.00", "currency": "EUR"},
    },
}
SD = (
    "item.brand,item.model,item.gtin,item.serialNumber,item.warranty.validUntil,"
    "ownedFrom,acquisition.purchaseDate,acquisition.price"
)


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


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SystemExit) as exc_info:
        main([*args, "--json"])
    document = json.loads(capsys.readouterr().out)
    code = exc_info.value.code
    return (code if isinstance(code, int) else 0), document


@pytest.fixture
def held(home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    """A wallet holding a brand-issued SD-JWT VC for alice (P-256); its local id."""
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "brand")
    run(capsys, "did", "create", "--alias", "alice", "--key-type", "p256")
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps(SUBJECT))
    code, issued = run(
        capsys,
        *("credential", "issue", "--format", "sd-jwt-vc", "--issuer", "brand"),
        *("--holder", "alice", "--subject", str(subject), "--sd", SD, "--store"),
    )
    assert code == 0, issued
    assert issued["format"] == "dc+sd-jwt"
    assert issued["credential"].count("~") == 9  # 8 Disclosures, no KB-JWT
    return str(issued["stored"]["id"])


def share(
    capsys: pytest.CaptureFixture[str],
    credential: str,
    *extra: str,
    nonce: str = NONCE,
) -> tuple[int, dict[str, Any]]:
    return run(
        capsys,
        *("share", "--credential", credential, "--audience", AUDIENCE),
        *("--nonce", nonce, *extra),
    )


def presentation_file(tmp_path: Path, shared: dict[str, Any], name: str) -> Path:
    path = tmp_path / name
    path.write_text(shared["presentation"])
    return path


def verify(
    capsys: pytest.CaptureFixture[str],
    path: Path,
    *extra: str,
    audience: str = AUDIENCE,
    nonce: str = NONCE,
) -> tuple[int, dict[str, Any]]:
    return run(
        capsys, "verify", str(path), "--audience", audience, "--nonce", nonce, *extra
    )


def test_issue_keeps_the_sd_jwt_vc_with_its_type(held: str, capsys) -> None:
    code, listing = run(capsys, "credential", "list")
    assert code == 0
    [row] = listing["credentials"]
    assert row["id"] == held
    assert row["format"] == "dc+sd-jwt"
    assert row["types"] == ["urn:did-vault:vct:OwnershipCredential"]


def test_share_a_template_then_verify_it(held: str, capsys, tmp_path: Path) -> None:
    code, shared = share(capsys, held, "--template", "warranty-check")
    assert code == 0, shared
    assert shared["template"] == "warranty-check"
    assert shared["disclosed"] == [
        "item.brand",
        "item.model",
        "item.warranty.validUntil",
    ]
    assert "item.serialNumber" in shared["withheld"]
    assert "acquisition.price" in shared["withheld"]
    path = presentation_file(tmp_path, shared, "warranty.sd-jwt")

    code, result = verify(capsys, path, "--template", "warranty-check")
    assert code == 0, result
    assert result["verified"] is True
    assert result["claims"]["item"] == {
        "brand": "Brand X",
        "model": "Trekking 7",
        "warranty": {"validUntil": "2028-11-20"},
    }
    assert "ownedFrom" not in result["claims"]
    names = [check["check"] for check in result["checks"]]
    assert names[-2:] == ["nonce", "request"]
    assert "key-binding" in names


def test_share_a_request_file_then_verify_it_against_the_request(
    held: str, capsys, tmp_path: Path
) -> None:
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "credentials": [
                    {
                        "id": "bike",
                        "format": "dc+sd-jwt",
                        "meta": {
                            "vct_values": ["urn:did-vault:vct:OwnershipCredential"]
                        },
                        "claims": [
                            {"path": ["item", "serialNumber"]},
                            {"path": ["ownedFrom"]},
                        ],
                    }
                ]
            }
        )
    )
    code, shared = share(capsys, held, "--request", str(request))
    assert code == 0, shared
    assert shared["disclosed"] == ["item.serialNumber", "ownedFrom"]
    path = presentation_file(tmp_path, shared, "request.sd-jwt")

    code, result = verify(capsys, path, "--request", str(request))
    assert code == 0, result
    # The warranty object is in the clear; only its concealed member is withheld.
    assert result["claims"]["item"] == {
        "warranty": {},
        "serialNumber": "WBX7-2026-000042",
    }
    assert result["disclosed"] == ["item.serialNumber", "ownedFrom"]


def test_share_writes_the_presentation_to_a_new_file(
    held: str, capsys, tmp_path: Path
) -> None:
    out = tmp_path / "presentation.txt"
    code, shared = share(capsys, held, "--template", "stolen-check", "--out", str(out))
    assert code == 0, shared
    assert out.read_text().strip() == shared["presentation"]
    code, problem = share(capsys, held, "--template", "stolen-check", "--out", str(out))
    assert (code, problem["code"]) == (65, "cli.file-exists")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--nonce", "nonce-other", "sdjwt.nonce-invalid"),
        ("--audience", "did:web:someone-else.example", "sdjwt.audience-invalid"),
    ],
)
def test_verify_refuses_another_nonce_or_audience(
    held: str, capsys, tmp_path: Path, option: str, value: str, expected: str
) -> None:
    _, shared = share(capsys, held, "--template", "warranty-check")
    path = presentation_file(tmp_path, shared, "p.sd-jwt")
    kwargs = {option.removeprefix("--"): value}
    code, problem = verify(capsys, path, **kwargs)
    assert (code, problem["code"], problem["verified"]) == (1, expected, False)


def test_verify_refuses_a_replayed_presentation(
    held: str, capsys, tmp_path: Path
) -> None:
    _, shared = share(capsys, held, "--template", "warranty-check")
    path = presentation_file(tmp_path, shared, "p.sd-jwt")
    assert verify(capsys, path)[0] == 0
    code, problem = verify(capsys, path)
    assert (code, problem["code"]) == (1, "sdjwt.nonce-replayed")


def test_a_failed_verification_does_not_burn_the_nonce(
    held: str, capsys, tmp_path: Path
) -> None:
    _, shared = share(capsys, held, "--template", "warranty-check")
    path = presentation_file(tmp_path, shared, "p.sd-jwt")
    assert verify(capsys, path, audience="did:web:other.example")[0] == 1
    assert verify(capsys, path)[0] == 0


def test_verify_refuses_a_tampered_presentation(
    held: str, capsys, tmp_path: Path
) -> None:
    _, shared = share(capsys, held, "--template", "warranty-check")
    jwt, *disclosures, kb_jwt = shared["presentation"].split("~")
    # Drop a Disclosure: the KB-JWT's sd_hash no longer matches.
    path = tmp_path / "dropped.sd-jwt"
    path.write_text("~".join([jwt, *disclosures[1:], kb_jwt]))
    code, problem = verify(capsys, path)
    assert (code, problem["code"]) == (1, "sdjwt.sd-hash-mismatch")
    # Change the issuer's payload: its signature no longer verifies.
    header, payload, signature = jwt.split(".")
    forged = tmp_path / "forged.sd-jwt"
    forged.write_text(
        "~".join([f"{header}.{payload[:-2]}AA.{signature}", *disclosures, kb_jwt])
    )
    code, problem = verify(capsys, forged)
    assert code == 1
    assert problem["verified"] is False


def test_verify_refuses_a_presentation_that_does_not_answer_the_request(
    held: str, capsys, tmp_path: Path
) -> None:
    _, shared = share(capsys, held, "--template", "warranty-check")
    path = presentation_file(tmp_path, shared, "p.sd-jwt")
    code, problem = verify(capsys, path, "--template", "insurance-claim")
    assert (code, problem["code"]) == (1, "dcql.unsatisfiable")


def _excess_request(tmp_path: Path) -> Path:
    """A request that says it is warranty-check but also asks for the serial."""
    request = tmp_path / "excess.json"
    request.write_text(
        json.dumps(
            {
                "template": "warranty-check",
                "credentials": [
                    {
                        "id": "item",
                        "format": "dc+sd-jwt",
                        "meta": {
                            "vct_values": ["urn:did-vault:vct:OwnershipCredential"]
                        },
                        "claims": [
                            {"path": ["item", "brand"]},
                            {"path": ["item", "serialNumber"]},
                        ],
                    }
                ],
            }
        )
    )
    return request


def test_share_refuses_a_request_asking_more_than_its_template(
    held: str, capsys, tmp_path: Path
) -> None:
    code, problem = share(capsys, held, "--request", str(_excess_request(tmp_path)))
    assert (code, problem["code"]) == (1, "dcql.exceeds-template")


def test_share_with_allow_excess_warns_and_answers(
    held: str, capsys, tmp_path: Path
) -> None:
    request = _excess_request(tmp_path)
    with pytest.raises(SystemExit) as exc_info:
        main(
            [
                *("share", "--credential", held, "--request", str(request)),
                *("--audience", AUDIENCE, "--nonce", NONCE, "--allow-excess", "--json"),
            ]
        )
    captured = capsys.readouterr()
    assert exc_info.value.code in (0, None)
    shared = json.loads(captured.out)
    assert "item.serialNumber" in shared["disclosed"]
    assert shared["warnings"]
    assert "warning" in captured.err
    assert "serialNumber" in captured.err


def test_share_names_the_problem_when_no_credential_answers(
    held: str, capsys, tmp_path: Path
) -> None:
    request = tmp_path / "other.json"
    request.write_text(
        json.dumps(
            {
                "credentials": [
                    {
                        "id": "x",
                        "format": "dc+sd-jwt",
                        "meta": {"vct_values": ["urn:example:vct:Other"]},
                        "claims": [{"path": ["item", "brand"]}],
                    }
                ]
            }
        )
    )
    code, problem = share(capsys, held, "--request", str(request))
    assert (code, problem["code"]) == (1, "dcql.unsatisfiable")


def test_share_needs_exactly_one_request_source(held: str, capsys) -> None:
    code, problem = share(capsys, held)
    assert (code, problem["code"]) == (2, "cli.usage")


def test_share_refuses_an_unknown_template(held: str, capsys) -> None:
    code, problem = share(capsys, held, "--template", "everything")
    assert problem["code"] == "dcql.template-unknown"
    assert code == 65


def test_human_share_summarises_what_is_disclosed_and_withheld(
    held: str, capsys
) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main(
            [
                *("share", "--credential", held, "--template", "warranty-check"),
                *("--audience", AUDIENCE, "--nonce", NONCE),
            ]
        )
    assert exc_info.value.code in (0, None)
    out = capsys.readouterr().out
    assert "disclosed: item.brand, item.model, item.warranty.validUntil" in out
    assert "withheld:" in out
    assert "item.serialNumber" in out.split("withheld:")[1]


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (("--sd", "item.colour"), 65, "cli.claims-invalid"),
        (("--sd", "item..brand"), 65, "input.malformed"),
        (("--sd", "vct"), 65, "cli.claims-invalid"),
        (("--format", "jwt"), 2, "cli.usage"),
        (("--format", "sd-jwt-vc", "--suite", "eddsa-jcs-2022"), 2, "cli.usage"),
    ],
)
def test_issue_sd_jwt_vc_refuses_bad_options(
    held: str, capsys, tmp_path: Path, args: tuple[str, ...], code: int, expected: str
) -> None:
    subject = tmp_path / "s.json"
    subject.write_text(json.dumps(SUBJECT))
    base = ["credential", "issue", "--issuer", "brand", "--subject", str(subject)]
    base += ["--holder", "alice"]
    if "--format" not in args:
        base += ["--format", "sd-jwt-vc"]
    got, problem = run(capsys, *base, *args)
    assert (got, problem["code"]) == (code, expected)


def test_issue_sd_jwt_vc_binds_to_the_subjects_did_by_default(
    held: str, capsys, tmp_path: Path
) -> None:
    other = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    subject = tmp_path / "s.json"
    subject.write_text(json.dumps({"sub": other, "item": {"brand": "Brand X"}}))
    code, issued = run(
        capsys,
        *("credential", "issue", "--format", "sd-jwt-vc", "--issuer", "brand"),
        *("--subject", str(subject), "--sd", "item.brand", "--vct", "urn:x:vct:T"),
    )
    assert code == 0, issued
    parsed = SDJWT.parse(issued["credential"])
    assert parsed.payload["vct"] == "urn:x:vct:T"
    assert parsed.payload["cnf"] == {"jwk": did_key_public_key(other).to_jwk()}
    assert parsed.claims()["item"] == {"brand": "Brand X"}


def test_share_refuses_a_credential_bound_to_a_key_elsewhere(
    held: str, capsys, tmp_path: Path
) -> None:
    other = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    subject = tmp_path / "s.json"
    subject.write_text(json.dumps({"item": {"brand": "Brand X"}}))
    code, issued = run(
        capsys,
        *("credential", "issue", "--format", "sd-jwt-vc", "--issuer", "brand"),
        *("--holder", other, "--subject", str(subject), "--sd", "item.brand"),
        "--store",
    )
    assert code == 0, issued
    code, problem = share(
        capsys, issued["stored"]["id"], "--template", "warranty-check"
    )
    assert (code, problem["code"]) == (65, "cli.holder-key-missing")


# --- the file-backed nonce store ----------------------------------------------------

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_file_nonce_store_accepts_each_nonce_once_across_instances(
    tmp_path: Path,
) -> None:
    path = tmp_path / "home" / "verifier-nonces.json"
    assert FileNonceStore(path).consume("n1", now=T0) is NonceState.ACCEPTED
    assert FileNonceStore(path).consume("n1", now=T0) is NonceState.REPLAYED
    assert FileNonceStore(path).consume("n2", now=T0) is NonceState.ACCEPTED
    assert path.stat().st_mode & 0o777 == 0o600


def test_file_nonce_store_forgets_nonces_after_the_retention(tmp_path: Path) -> None:
    store = FileNonceStore(tmp_path / "n.json", retention=timedelta(minutes=15))
    store.consume("n1", now=T0)
    store.consume("n2", now=T0 + timedelta(minutes=10))
    assert store.consume("n1", now=T0 + timedelta(minutes=14)) is NonceState.REPLAYED
    later = T0 + timedelta(minutes=16)
    assert store.consume("n3", now=later) is NonceState.ACCEPTED
    assert len(store) == 2  # n1 pruned; n2 and n3 kept


def test_file_nonce_store_refuses_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "n.json"
    path.write_text("not json")
    with pytest.raises(Exception, match="nonce file") as caught:
        FileNonceStore(path).consume("n1", now=T0)
    assert getattr(caught.value, "code", None) == "cli.nonce-store-damaged"


# --- Data Integrity presentations ---------------------------------------------------

DI_SUBJECT = {
    "brand": {"type": "Brand", "name": "Brand X"},
    "model": "Trekking 7",
    "serialNumber": "WBX7-2026-000042",
}


def _ldp_request(tmp_path: Path, *paths: list[Any], types: Any = None) -> Path:
    query: dict[str, Any] = {
        "id": "item",
        "format": "ldp_vc",
        "meta": {
            "type_values": types or [["VerifiableCredential", "ItemIdentityCredential"]]
        },
    }
    if paths:
        query["claims"] = [{"path": path} for path in paths]
    request = tmp_path / "ldp-request.json"
    request.write_text(json.dumps({"credentials": [query]}))
    return request


@pytest.fixture
def di_presentation(home: Path, capsys, tmp_path: Path) -> Path:
    """A Data Integrity VP by alice of a brand-issued ItemIdentityCredential, bound
    to AUDIENCE and NONCE."""
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "brand")
    _, alice = run(capsys, "did", "create", "--alias", "alice")
    subject = tmp_path / "di-subject.json"
    subject.write_text(json.dumps({"id": alice["did"], **DI_SUBJECT}))
    code, issued = run(
        capsys,
        *("credential", "issue", "--issuer", "brand", "--subject", str(subject)),
        *("--type", "ItemIdentityCredential", "--store"),
        *("--context", "https://registry.example/ns/registry/v1"),
    )
    assert code == 0, issued
    out = tmp_path / "vp.json"
    code, presented = run(
        capsys,
        *("present", "--credential", issued["id"], "--holder", "alice"),
        *("--challenge", NONCE, "--domain", AUDIENCE, "--out", str(out)),
    )
    assert code == 0, presented
    return out


def test_verify_a_data_integrity_presentation_against_an_ldp_vc_request(
    di_presentation: Path, capsys, tmp_path: Path
) -> None:
    request = _ldp_request(
        tmp_path, ["credentialSubject", "brand", "name"], ["credentialSubject", "model"]
    )
    code, result = verify(capsys, di_presentation, "--request", str(request))
    assert code == 0, result
    assert result["verified"] is True
    assert result["format"] == "ldp_vp"
    assert result["credentials"][0]["credentialSubject"]["model"] == "Trekking 7"
    names = [check["check"] for check in result["checks"]]
    assert names[-4:] == ["credentials", "holder", "nonce", "request"]
    # a Data Integrity VP shows the whole credential: what was not asked is listed
    assert "credentialSubject.serialNumber" in result["unrequested"]
    assert "credentialSubject.model" not in result["unrequested"]


def test_verify_a_data_integrity_presentation_without_a_request(
    di_presentation: Path, capsys
) -> None:
    code, result = verify(capsys, di_presentation)
    assert code == 0, result
    assert result["unrequested"] == []


def test_verify_refuses_a_data_integrity_presentation_for_a_template(
    di_presentation: Path, capsys
) -> None:
    code, problem = verify(capsys, di_presentation, "--template", "warranty-check")
    assert (code, problem["code"], problem["verified"]) == (
        1,
        "dcql.unsatisfiable",
        False,
    )
    assert "Data Integrity presentation" in problem["detail"]


def test_verify_refuses_a_data_integrity_presentation_missing_a_claim(
    di_presentation: Path, capsys, tmp_path: Path
) -> None:
    request = _ldp_request(tmp_path, ["credentialSubject", "gtin"])
    code, problem = verify(capsys, di_presentation, "--request", str(request))
    assert (code, problem["code"]) == (1, "dcql.unsatisfiable")


def test_verify_refuses_a_data_integrity_presentation_of_another_type(
    di_presentation: Path, capsys, tmp_path: Path
) -> None:
    request = _ldp_request(tmp_path, types=[["OwnershipCredential"]])
    code, problem = verify(capsys, di_presentation, "--request", str(request))
    assert (code, problem["code"]) == (1, "dcql.unsatisfiable")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--nonce", "nonce-other", "proof.challenge-invalid"),
        ("--audience", "did:web:someone-else.example", "proof.domain-invalid"),
    ],
)
def test_verify_refuses_a_data_integrity_presentation_for_another_verifier(
    di_presentation: Path, capsys, option: str, value: str, expected: str
) -> None:
    kwargs = {option.removeprefix("--"): value}
    code, problem = verify(capsys, di_presentation, **kwargs)
    assert (code, problem["code"], problem["verified"]) == (1, expected, False)


def test_verify_refuses_a_replayed_data_integrity_presentation(
    di_presentation: Path, capsys
) -> None:
    assert verify(capsys, di_presentation)[0] == 0
    code, problem = verify(capsys, di_presentation)
    assert (code, problem["code"]) == (1, "sdjwt.nonce-replayed")


def test_a_failed_data_integrity_verification_does_not_burn_the_nonce(
    di_presentation: Path, capsys
) -> None:
    assert verify(capsys, di_presentation, audience="did:web:other.example")[0] == 1
    assert verify(capsys, di_presentation)[0] == 0


def test_verify_refuses_a_tampered_data_integrity_presentation(
    di_presentation: Path, capsys, tmp_path: Path
) -> None:
    document = json.loads(di_presentation.read_text())
    document["verifiableCredential"][0]["credentialSubject"]["model"] = "Other"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    code, problem = verify(capsys, tampered)
    assert code == 1
    assert problem["verified"] is False


def test_human_verify_of_a_data_integrity_presentation_says_what_it_showed(
    di_presentation: Path, capsys, tmp_path: Path
) -> None:
    request = _ldp_request(tmp_path, ["credentialSubject", "model"])
    with pytest.raises(SystemExit) as exc_info:
        main(
            [
                *("verify", str(di_presentation), "--audience", AUDIENCE),
                *("--nonce", NONCE, "--request", str(request)),
            ]
        )
    assert exc_info.value.code in (0, None)
    out = capsys.readouterr().out
    assert "Valid presentation." in out
    assert "shows its credentials whole" in out


def test_verify_refuses_a_credential_about_someone_else_than_the_holder(
    home: Path, capsys, tmp_path: Path
) -> None:
    """Mallory saw Alice's credential and presents it in her own VP: the
    presentation verifies as such, but it is not about its holder."""
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "brand")
    _, alice = run(capsys, "did", "create", "--alias", "alice")
    run(capsys, "did", "create", "--alias", "mallory")
    subject = tmp_path / "di-subject.json"
    subject.write_text(json.dumps({"id": alice["did"], **DI_SUBJECT}))
    code, issued = run(
        capsys,
        *("credential", "issue", "--issuer", "brand", "--subject", str(subject)),
        *("--type", "ItemIdentityCredential", "--store"),
        *("--context", "https://registry.example/ns/registry/v1"),
    )
    assert code == 0, issued
    out = tmp_path / "vp.json"
    code, presented = run(
        capsys,
        *("present", "--credential", issued["id"], "--holder", "mallory"),
        *("--challenge", NONCE, "--domain", AUDIENCE, "--out", str(out)),
    )
    assert code == 0, presented

    code, problem = verify(capsys, out)
    assert code == 1, problem
    assert problem["code"] == "presentation.holder-mismatch"
