"""The registry command in-process: db upgrade, trust add|remove|list, bad config."""

import json
import os
from pathlib import Path

import pytest

from cli.registry_main import app

OPERATOR = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


@pytest.fixture(autouse=True)
def registry_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("REGISTRY_"):
            monkeypatch.delenv(name)
    database = tmp_path / "data" / "registry.sqlite3"
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{database}")
    return database


def run(capsys, *args: str) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as exc_info:
        app([*args, "--json"], prog_name="registry")
    code = exc_info.value.code
    return (code if isinstance(code, int) else 0), json.loads(capsys.readouterr().out)


def test_upgrade_then_trust_round_trip(capsys):
    code, upgraded = run(capsys, "db", "upgrade")
    assert code == 0
    assert upgraded["to"] == upgraded["head"]

    code, added = run(capsys, "trust", "add", OPERATOR, "--role", "operator")
    assert code == 0
    assert added["role"] == "operator"

    code, _ = run(
        capsys,
        "trust",
        "add",
        "did:web:brand.example",
        "--role",
        "brand-issuer",
        "--brand",
        "Brand X",
    )
    assert code == 0

    code, listed = run(capsys, "trust", "list", "--role", "brand-issuer")
    assert code == 0
    assert [entry["did"] for entry in listed["data"]] == ["did:web:brand.example"]

    code, removed = run(capsys, "trust", "remove", OPERATOR, "--role", "operator")
    assert code == 0
    assert removed["id"] == added["id"]


def test_trust_before_upgrade_says_to_migrate(capsys):
    code, problem = run(capsys, "trust", "list")
    assert code == 69
    assert problem["code"] == "db.not-migrated"


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (("trust", "add", "not-a-did", "--role", "police"), "did.invalid", 65),
        (("trust", "add", OPERATOR, "--role", "brand-issuer"), "trust.invalid", 65),
        (("trust", "remove", OPERATOR, "--role", "insurer"), "trust.not-found", 65),
    ],
    ids=["not-a-did", "brand-missing", "remove-unknown"],
)
def test_trust_refusals_carry_codes(capsys, args, code, exit_code):
    run(capsys, "db", "upgrade")
    exit_status, problem = run(capsys, *args)
    assert exit_status == exit_code
    assert problem["code"] == code


def test_duplicate_trust_entry_is_refused(capsys):
    run(capsys, "db", "upgrade")
    run(capsys, "trust", "add", OPERATOR, "--role", "operator")
    code, problem = run(capsys, "trust", "add", OPERATOR, "--role", "operator")
    assert code == 65
    assert problem["code"] == "trust.exists"


def test_bad_configuration_exits_78(capsys, monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "mysql://127.0.0.1/x")
    code, problem = run(capsys, "db", "upgrade")
    assert code == 78
    assert problem["code"] == "config.invalid"


def test_serve_refuses_bad_key_file_before_starting(tmp_path, monkeypatch, capsys):
    key = tmp_path / "key"
    key.write_text("not a key", encoding="utf-8")
    key.chmod(0o600)
    monkeypatch.setenv("REGISTRY_SIGNING_KEY_FILE", str(key))
    # serve configures process-wide logging first; keep pytest's handlers here.
    monkeypatch.setattr("registry.service.configure_logging", lambda level: None)
    with pytest.raises(SystemExit) as exc_info:
        app(["serve", "--port", "1"], prog_name="registry")
    assert exc_info.value.code == 78
    assert "config.invalid" in capsys.readouterr().err
