"""did-vault export --format json|csv|pdf."""

import io
import json
import os
import stat
from pathlib import Path

import pytest
from pypdf import PdfReader

from cli.main import main
from did_vault import items, read_csv, read_inventory_json

PASSPHRASE = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "homebox" / "export.csv"


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
def stocked(home: Path, capsys) -> str:
    run(capsys, "init")
    _, alice = run(capsys, "did", "create", "--alias", "alice")
    code, _ = run(capsys, "item", "import", str(FIXTURE), "--currency", "EUR")
    assert code == 0
    return alice["did"]


def test_export_json(stocked, capsys, tmp_path):
    out = tmp_path / "inventory.json"
    code, result = run(capsys, "export", "--format", "json", "--out", str(out))
    assert code == 0
    assert result["items"] == 5
    assert result["owner"] == stocked
    assert result["bytes"] == out.stat().st_size
    document = json.loads(out.read_bytes())
    items.validate_document(document, "inventory-export")
    assert read_inventory_json(out.read_bytes()).is_valid
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_export_csv_reimports_cleanly(stocked, capsys, tmp_path):
    out = tmp_path / "inventory.csv"
    code, result = run(capsys, "export", "--format", "CSV", "--out", str(out))
    assert (code, result["format"]) == (0, "csv")
    report = read_csv(out.read_bytes())
    assert report.is_valid
    assert len(report.rows) == 5


def test_export_pdf_masks_serials(stocked, capsys, tmp_path):
    out = tmp_path / "inventory.pdf"
    code, _ = run(capsys, "export", "--format", "pdf", "--out", str(out))
    assert code == 0
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "55-inch 4K television" in text
    assert "*******042X" in text
    assert "8KQ2-00042X" not in text


def test_export_never_overwrites(stocked, capsys, tmp_path):
    out = tmp_path / "inventory.json"
    out.write_text("keep me")
    code, problem = run(capsys, "export", "--out", str(out))
    assert (code, problem["code"]) == (65, "cli.file-exists")
    assert out.read_text() == "keep me"


def test_export_names_the_owner_when_ambiguous(stocked, capsys, tmp_path):
    run(capsys, "did", "create", "--alias", "bob")
    run(capsys, "item", "import", str(FIXTURE), "--currency", "EUR", "--owner", "bob")
    code, problem = run(capsys, "export", "--out", str(tmp_path / "a.json"))
    assert (code, problem["code"]) == (65, "input.malformed")
    code, result = run(
        capsys, "export", "--owner", "bob", "--out", str(tmp_path / "b.json")
    )
    assert (code, result["items"]) == (0, 5)


def test_export_unknown_format_is_a_usage_error(stocked, capsys, tmp_path):
    code, problem = run(
        capsys, "export", "--format", "xlsx", "--out", str(tmp_path / "x")
    )
    assert (code, problem["code"]) == (2, "cli.usage")
