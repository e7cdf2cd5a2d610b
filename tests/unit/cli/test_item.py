"""did-vault item import / list / show."""

import json
import os
from pathlib import Path

import pytest

from cli.commands import item as item_command
from cli.main import main

PASSPHRASE = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "homebox"


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
def owner(home: Path, capsys) -> str:
    run(capsys, "init")
    _, alice = run(capsys, "did", "create", "--alias", "alice")
    return alice["did"]


def fixture(name: str = "export.csv") -> str:
    return str(FIXTURES / name)


def test_dry_run_reports_and_imports_nothing(owner, capsys):
    code, result = run(
        capsys, "item", "import", fixture(), "--dry-run", "--currency", "eur"
    )
    assert code == 0
    assert result == {
        "file": fixture(),
        "source": "homebox",
        "rows": 5,
        "dry_run": True,
    }
    code, listed = run(capsys, "item", "list")
    assert (code, listed) == (0, {"items": []})


def test_dry_run_needs_no_wallet(home, capsys):
    code, result = run(
        capsys, "item", "import", fixture(), "--dry-run", "--currency", "EUR"
    )
    assert code == 0
    assert result["rows"] == 5


def test_a_file_with_problems_imports_nothing_and_reports_each(owner, capsys):
    code, problem = run(
        capsys,
        "item",
        "import",
        fixture("export-bad-values.csv"),
        "--currency",
        "EUR",
    )
    assert code == 65
    assert problem["code"] == "import.invalid"
    first = problem["problems"][0]
    assert first == {
        "row": 2,
        "line": 2,
        "column": "HB.field.GTIN",
        "pointer": "/item/gtin",
        "rule": "gtin-check-digit",
        "code": "item.gtin-invalid",
        "message": first["message"],
    }
    assert {p["row"] for p in problem["problems"]} == {2, 4, 5, 6}
    assert run(capsys, "item", "list")[1] == {"items": []}


def test_wrong_encoding_is_reported(owner, capsys):
    code, problem = run(capsys, "item", "import", fixture("export-latin1.csv"))
    assert code == 65
    assert problem["code"] == "import.encoding-invalid"
    code, result = run(
        capsys,
        "item",
        "import",
        fixture("export-latin1.csv"),
        "--encoding",
        "latin-1",
        "--currency",
        "EUR",
    )
    assert code == 0
    assert result["created"] == 5


def test_import_then_rerun_creates_no_duplicates(owner, capsys):
    args = ["item", "import", fixture(), "--currency", "EUR"]
    code, result = run(capsys, *args)
    assert code == 0
    assert (result["created"], result["updated"], result["unchanged"]) == (5, 0, 0)
    assert [i["row"] for i in result["items"]] == [2, 3, 4, 5, 6]
    code, again = run(capsys, *args)
    assert (again["created"], again["unchanged"]) == (0, 5)
    assert [i["did"] for i in again["items"]] == [i["did"] for i in result["items"]]
    _, listed = run(capsys, "item", "list")
    assert [i["name"] for i in listed["items"]][:2] == [
        "55-inch 4K television",
        "Commuter e-bike",
    ]
    assert all(i["owner"] == owner for i in listed["items"])


def test_show_an_item_by_import_ref(owner, capsys):
    run(capsys, "item", "import", fixture(), "--currency", "EUR")
    code, shown = run(capsys, "item", "show", "tv-livingroom")
    assert code == 0
    assert shown["entry"]["item"]["serialNumber"] == "8KQ2-00042X"
    assert shown["entry"]["id"] == shown["did"]
    (credential,) = shown["credentials"]
    assert credential["types"] == ["VerifiableCredential", "ItemIdentityCredential"]
    assert credential["subjects"] == [shown["did"]]
    code, missing = run(capsys, "item", "show", "nope")
    assert (code, missing["code"]) == (65, "wallet.item-not-found")


def test_owner_is_required_when_ambiguous(owner, capsys):
    run(capsys, "did", "create", "--alias", "bob")
    code, problem = run(capsys, "item", "import", fixture(), "--currency", "EUR")
    assert (code, problem["code"]) == (2, "cli.owner-required")
    code, _ = run(
        capsys, "item", "import", fixture(), "--currency", "EUR", "--owner", "bob"
    )
    assert code == 0
    _, listed = run(capsys, "item", "list")
    assert {i["owner"] for i in listed["items"]} != {owner}


def test_generic_csv_with_a_mapping(owner, capsys, tmp_path):
    data = tmp_path / "things.csv"
    data.write_text("Thing,Serial\nKettle,K-1\n", encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps({"columns": {"Thing": "name", "Serial": "serialNumber"}})
    )
    code, result = run(capsys, "item", "import", str(data), "--mapping", str(mapping))
    assert (code, result["created"], result["source"]) == (0, 1, "csv")
    mapping.write_text(json.dumps({"columns": {"Thing": "nmae"}}))
    code, problem = run(capsys, "item", "import", str(data), "--mapping", str(mapping))
    assert (code, problem["code"]) == (65, "import.mapping-invalid")


def test_unreadable_file(owner, capsys, tmp_path):
    code, problem = run(capsys, "item", "import", str(tmp_path / "missing.csv"))
    assert (code, problem["code"]) == (65, "cli.file-unreadable")


def test_list_from_a_registry_without_registry_support(owner, capsys, monkeypatch):
    monkeypatch.setattr(item_command, "REGISTRY_MODULE", "cli.commands.no_such_module")
    code, problem = run(capsys, "item", "list", "--registry", "https://r.example")
    assert (code, problem["code"]) == (2, "cli.unsupported")


def test_list_from_a_registry_delegates(owner, capsys, monkeypatch):
    calls: list[tuple] = []
    fake = type(
        "FakeModule",
        (),
        {
            "list_registry_items": staticmethod(
                lambda output, cfg, url, passphrase_file: (
                    calls.append((url, passphrase_file))
                    or output.result({"registry": url})
                )
            )
        },
    )
    monkeypatch.setattr(item_command.importlib, "import_module", lambda name: fake)
    code, result = run(capsys, "item", "list", "--registry", "https://r.example")
    assert (code, result) == (0, {"registry": "https://r.example"})
    assert calls == [("https://r.example", None)]


def test_human_output_shows_a_problem_table(owner, capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(["item", "import", fixture("export-short-rows.csv"), "--currency", "EUR"])
    assert exc_info.value.code == 65
    captured = capsys.readouterr()
    assert "row-length" in captured.out
    assert "import.row-invalid" in captured.err


def test_did_list_names_the_item_of_each_item_did(owner, capsys):
    code, imported = run(capsys, "item", "import", fixture(), "--currency", "EUR")
    assert code == 0, imported
    code, items = run(capsys, "item", "list")
    assert code == 0, items
    by_did = {item["did"]: item["id"] for item in items["items"]}

    code, listing = run(capsys, "did", "list")
    assert code == 0, listing
    rows = {row["did"]: row["item"] for row in listing["dids"]}
    assert rows[owner] is None
    assert {did: item for did, item in rows.items() if item is not None} == by_did
