"""``registry log verify`` in-process: an unsigned tail, then a tampered row."""

import json
import os
import sqlite3
from pathlib import Path

import pytest

from cli.registry_main import app
from did_vault import KeyAlgorithm, NoteKey, PrivateKey
from registry.identity import write_key_file


@pytest.fixture(autouse=True)
def registry_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("REGISTRY_"):
            monkeypatch.delenv(name)
    database = tmp_path / "data" / "registry.sqlite3"
    key_file = tmp_path / "keys" / "registry.key"
    write_key_file(key_file, PrivateKey(KeyAlgorithm.ED25519, bytes(range(32))))
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("REGISTRY_SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("REGISTRY_DID_DOMAIN", "registry.test")
    return database


def run(capsys, *args: str) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as exc_info:
        app([*args, "--json"], prog_name="registry")
    code = exc_info.value.code
    return (code if isinstance(code, int) else 0), json.loads(capsys.readouterr().out)


def _trust_twice(capsys) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    for n in range(2):
        code, _ = run(
            capsys, "trust", "add", f"did:web:police{n}.test", "--role", "police"
        )
        assert code == 0


def test_log_verify_signs_the_unsigned_tail_then_finds_nothing_to_sign(capsys):
    _trust_twice(capsys)

    code, first = run(capsys, "log", "verify")
    assert code == 0
    assert (first["size"], first["signed_tail"], first["checkpoints"]) == (2, 2, 1)
    assert first["vkey"].startswith("registry.test/log+")

    code, second = run(capsys, "log", "verify")
    assert code == 0
    assert (second["size"], second["signed_tail"], second["latest_checkpoint"]) == (
        2,
        None,
        2,
    )


def test_log_verify_reports_a_tampered_leaf(capsys, registry_env):
    _trust_twice(capsys)
    run(capsys, "log", "verify")
    with sqlite3.connect(registry_env) as db:
        db.execute('UPDATE log_leaf SET leaf_data = ? WHERE "index" = 1', (b"x" * 32,))

    code, problem = run(capsys, "log", "verify")

    assert (code, problem["code"]) == (65, "log.corrupt")


def test_log_verify_before_upgrade_says_to_migrate(capsys):
    code, problem = run(capsys, "log", "verify")

    assert (code, problem["code"]) == (69, "db.not-migrated")


WITNESS_VKEY = NoteKey(
    "witness.test/w1", PrivateKey(KeyAlgorithm.ED25519, bytes([9]) * 32).public_key
).to_vkey()


def test_log_witness_add_list_remove(capsys):
    assert run(capsys, "db", "upgrade")[0] == 0

    code, added = run(capsys, "log", "witness", "add", WITNESS_VKEY, "--note", "w1")
    assert code == 0
    assert (added["name"], added["vkey"], added["note"]) == (
        "witness.test/w1",
        WITNESS_VKEY,
        "w1",
    )
    code, again = run(capsys, "log", "witness", "add", WITNESS_VKEY)
    assert (code, again["code"]) == (65, "witness.exists")
    code, listed = run(capsys, "log", "witness", "list")
    assert (code, [w["vkey"] for w in listed["data"]]) == (0, [WITNESS_VKEY])

    code, removed = run(capsys, "log", "witness", "remove", "witness.test/w1")
    assert (code, removed["vkey"]) == (0, WITNESS_VKEY)
    code, missing = run(capsys, "log", "witness", "remove", WITNESS_VKEY)
    assert (code, missing["code"]) == (65, "witness.not-found")
    assert run(capsys, "log", "witness", "list")[1] == {"data": []}


def test_log_witness_add_refuses_what_is_not_a_vkey(capsys):
    assert run(capsys, "db", "upgrade")[0] == 0

    code, problem = run(capsys, "log", "witness", "add", "witness.test/w1")

    assert (code, problem["code"]) == (65, "log.checkpoint-malformed")
