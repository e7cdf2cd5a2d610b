"""The did-vault command end to end, in-process: outputs, codes and exit codes."""

import json
import os
import stat
from pathlib import Path

import pytest

from cli.main import main
from did_vault.dids import resolve_did_key

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


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    """Run did-vault with --json; return (exit code, the one JSON document, stderr)."""
    with pytest.raises(SystemExit) as exc_info:
        main([*args, "--json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)  # exactly one JSON document, or this fails
    code = exc_info.value.code
    return (code if isinstance(code, int) else 0), document, captured.err


def test_init_then_did_create_works_end_to_end(home: Path, capsys) -> None:
    code, created, _ = run(capsys, "init")
    assert code == 0
    assert Path(created["wallet"]).is_file()
    assert stat.S_IMODE(Path(created["wallet"]).stat().st_mode) == 0o600

    code, did, _ = run(capsys, "did", "create", "--method", "key", "--alias", "alice")
    assert code == 0
    assert did["alias"] == "alice"
    assert did["did"].startswith("did:key:z6Mk")
    document = resolve_did_key(did["did"])
    assert str(document.id) == did["did"]

    code, listing, _ = run(capsys, "did", "list")
    assert code == 0
    assert [entry["did"] for entry in listing["dids"]] == [did["did"]]


@pytest.mark.parametrize(
    ("method", "key_type", "prefix"),
    [
        ("key", "ed25519", "did:key:z6Mk"),
        ("key", "p256", "did:key:zDn"),
        ("jwk", "ed25519", "did:jwk:"),
        ("jwk", "p256", "did:jwk:"),
    ],
)
def test_did_create_makes_each_method_and_key_type(
    home: Path, capsys, method: str, key_type: str, prefix: str
) -> None:
    run(capsys, "init")
    code, did, _ = run(
        capsys, "did", "create", "--method", method, "--key-type", key_type
    )
    assert code == 0
    assert did["did"].startswith(prefix)
    code, resolved, _ = run(capsys, "did", "resolve", did["did"])
    assert code == 0
    assert resolved["id"] == did["did"]


def test_did_show_prints_record_and_document(home: Path, capsys) -> None:
    run(capsys, "init")
    _, did, _ = run(capsys, "did", "create", "--alias", "bike")
    code, shown, _ = run(capsys, "did", "show", "bike")
    assert code == 0
    assert shown["did"] == did["did"]
    assert shown["document"]["id"] == did["did"]
    assert "secret" not in json.dumps(shown).lower()


def test_commands_without_wallet_exit_78_with_code(home: Path, capsys) -> None:
    code, problem, _ = run(capsys, "did", "list")
    assert (code, problem["code"]) == (78, "keystore.not-found")


def test_init_refuses_to_overwrite_an_existing_wallet(home: Path, capsys) -> None:
    run(capsys, "init")
    code, problem, _ = run(capsys, "init")
    assert (code, problem["code"]) == (65, "keystore.exists")


def test_wrong_passphrase_exits_77(home: Path, capsys, monkeypatch) -> None:
    run(capsys, "init")
    monkeypatch.setenv("DID_VAULT_PASSPHRASE", "not the passphrase")
    code, problem, _ = run(capsys, "did", "list")
    assert (code, problem["code"]) == (77, "keystore.unlock-failed")


def test_test_kdf_wallet_is_refused_by_production_configuration(
    home: Path, capsys, monkeypatch
) -> None:
    run(capsys, "init")
    monkeypatch.delenv("DID_VAULT_INSECURE_TEST_KDF")
    code, problem, _ = run(capsys, "did", "list")
    assert (code, problem["code"]) == (77, "keystore.kdf-too-weak")


def test_missing_passphrase_without_terminal_is_a_usage_error(
    home: Path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("DID_VAULT_PASSPHRASE")
    code, problem, _ = run(capsys, "init")
    assert (code, problem["code"]) == (2, "cli.passphrase-missing")


def test_passphrase_file_is_read_and_trailing_newline_dropped(
    home: Path, capsys, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DID_VAULT_PASSPHRASE")
    secret_file = tmp_path / "pass.txt"
    secret_file.write_text("from a file\n")
    assert run(capsys, "init", "--passphrase-file", str(secret_file))[0] == 0
    monkeypatch.setenv("DID_VAULT_PASSPHRASE", "from a file")
    assert run(capsys, "did", "list")[0] == 0


def test_unreadable_passphrase_file_exits_65(home: Path, capsys, tmp_path) -> None:
    code, problem, _ = run(
        capsys, "init", "--passphrase-file", str(tmp_path / "missing.txt")
    )
    assert (code, problem["code"]) == (65, "cli.file-unreadable")


def test_duplicate_alias_exits_65(home: Path, capsys) -> None:
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "alice")
    code, problem, _ = run(capsys, "did", "create", "--alias", "alice")
    assert (code, problem["code"]) == (65, "wallet.alias-exists")


def test_unknown_alias_exits_65(home: Path, capsys) -> None:
    run(capsys, "init")
    code, problem, _ = run(capsys, "did", "show", "nobody")
    assert (code, problem["code"]) == (65, "wallet.alias-not-found")


@pytest.mark.parametrize(
    ("did", "expected"),
    [
        ("not-a-did", "did.invalid"),
        ("did:key:z0OIl", "encoding.invalid"),
        (
            "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
            "key.algorithm-unsupported",
        ),
        ("did:example:123", "did.method-unsupported"),
    ],
)
def test_resolve_rejects_bad_dids_with_their_code(
    home: Path, capsys, did: str, expected: str
) -> None:
    code, problem, _ = run(capsys, "did", "resolve", did)
    assert problem["code"] == expected
    assert code in (65, 69)


def test_resolve_refuses_did_web_on_private_address_before_connecting(
    home: Path, capsys
) -> None:
    code, problem, _ = run(capsys, "did", "resolve", "did:web:192.168.1.10")
    assert (code, problem["code"]) == (69, "did.host-forbidden")


def test_usage_error_exits_2_with_one_json_document(home: Path, capsys) -> None:
    code, problem, _ = run(capsys, "did", "create", "--method", "nope")
    assert (code, problem["code"]) == (2, "cli.usage")


def test_backup_round_trips_into_a_new_home(
    home: Path, capsys, monkeypatch, tmp_path: Path
) -> None:
    run(capsys, "init")
    run(capsys, "did", "create", "--alias", "alice")
    run(capsys, "did", "create", "--method", "jwk", "--key-type", "p256")
    _, original, _ = run(capsys, "did", "list")
    monkeypatch.setenv("DID_VAULT_BACKUP_PASSPHRASE", "backup secret")
    backup = tmp_path / "wallet.backup"
    code, exported, _ = run(capsys, "backup", "export", str(backup))
    assert (code, exported["dids"]) == (0, 2)

    monkeypatch.setenv("DID_VAULT_HOME", str(tmp_path / "restored"))
    monkeypatch.setenv("DID_VAULT_PASSPHRASE", "new home passphrase")
    code, imported, _ = run(capsys, "backup", "import", str(backup))
    assert (code, imported["dids"]) == (0, 2)
    _, restored, _ = run(capsys, "did", "list")
    assert restored == original


def test_backup_import_with_wrong_backup_passphrase_exits_77(
    home: Path, capsys, monkeypatch, tmp_path: Path
) -> None:
    run(capsys, "init")
    monkeypatch.setenv("DID_VAULT_BACKUP_PASSPHRASE", "backup secret")
    backup = tmp_path / "wallet.backup"
    run(capsys, "backup", "export", str(backup))
    monkeypatch.setenv("DID_VAULT_HOME", str(tmp_path / "restored"))
    monkeypatch.setenv("DID_VAULT_BACKUP_PASSPHRASE", "wrong")
    code, problem, _ = run(capsys, "backup", "import", str(backup))
    assert (code, problem["code"]) == (77, "keystore.unlock-failed")
    assert not (tmp_path / "restored" / "wallet.dvault").exists()


def test_passphrase_change_switches_which_passphrase_opens(
    home: Path, capsys, monkeypatch
) -> None:
    run(capsys, "init")
    monkeypatch.setenv("DID_VAULT_NEW_PASSPHRASE", "the new one")
    assert run(capsys, "passphrase", "change")[0] == 0
    code, problem, _ = run(capsys, "did", "list")
    assert (code, problem["code"]) == (77, "keystore.unlock-failed")
    monkeypatch.setenv("DID_VAULT_PASSPHRASE", "the new one")
    assert run(capsys, "did", "list")[0] == 0


def test_locked_wallet_exits_75(home: Path, capsys) -> None:
    from did_vault.keystore import KDFParameters
    from did_vault.wallet import Wallet

    run(capsys, "init")
    with Wallet.open(home, PASSPHRASE, kdf_floor=KDFParameters.TESTING):
        code, problem, _ = run(capsys, "did", "list")
    assert (code, problem["code"]) == (75, "keystore.locked")


def test_unexpected_error_prints_no_trace(home: Path, capsys, monkeypatch) -> None:
    import cli.context as cli_context

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(cli_context, "default_resolver", explode)
    code, problem, err = run(capsys, "did", "resolve", "did:key:z6Mk")
    assert (code, problem["code"]) == (70, "internal")
    assert "secret internals" not in json.dumps(problem)
    assert "Traceback" not in err


def test_human_output_keeps_did_key_text_intact(home: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["init"])
    with pytest.raises(SystemExit):
        main(["did", "create", "--alias", "alice"])
    out = capsys.readouterr().out
    assert "did:key:z6Mk" in out
