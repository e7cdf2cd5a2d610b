"""``did-vault audit --registry URL`` against a registry faked in memory.

The fake serves a did:web document, signed checkpoints of an in-memory RFC 9162
tree and consistency proofs through ``httpx.MockTransport``: no network, no
server. A rollback or a fork exits 1 with its code and keeps the remembered
checkpoint; the key seen on first use stays pinned.
"""

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.commands import audit as audit_command
from cli.main import main
from did_vault import (
    Checkpoint,
    InMemoryNodeStore,
    KeyAlgorithm,
    PrivateKey,
    build_did_web_document,
    consistency_proof,
    root_at,
    sign_checkpoint,
)

URL = "https://registry.test"
ORIGIN = "registry.test/log"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class FakeRegistry:
    """A registry's public log endpoints over an in-memory tree."""

    def __init__(self, key: PrivateKey) -> None:
        self.key = key
        self.store = InMemoryNodeStore()
        self.served_size: int | None = None  # a rolled-back registry serves less

    def append(self, count: int, *, tag: bytes = b"event") -> None:
        for n in range(count):
            self.store.append_data(tag + bytes([self.store.size % 256, n]))

    def fork(self, size: int) -> None:
        """Replace the history with another one of ``size`` leaves."""
        self.store = InMemoryNodeStore()
        self.append(size, tag=b"forged")

    def note(self) -> str:
        size = self.store.size if self.served_size is None else self.served_size
        body = Checkpoint(ORIGIN, size, root_at(self.store, size))
        return sign_checkpoint(body, self.key, now=NOW)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/did.json":
            document = build_did_web_document(
                "registry.test", keys=[self.key.public_key]
            )
            return httpx.Response(200, json=document.to_json())
        if path == "/v1/log/checkpoint":
            return httpx.Response(200, text=self.note())
        if path == "/v1/log/proof/consistency":
            old = int(request.url.params["old_size"])
            new = int(request.url.params["new_size"])
            proof = consistency_proof(self.store, old, new)
            return httpx.Response(
                200,
                json={
                    "old_size": old,
                    "new_size": new,
                    "proof": [base64.b64encode(h).decode() for h in proof],
                },
            )
        return httpx.Response(404, json={"code": "request.not-found"})


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
    fake = FakeRegistry(PrivateKey(KeyAlgorithm.ED25519, bytes(range(32))))
    real_client = httpx.Client

    def client(**kwargs: Any) -> httpx.Client:
        kwargs.pop("verify", None)
        return real_client(transport=httpx.MockTransport(fake.handle), **kwargs)

    monkeypatch.setattr(audit_command.httpx, "Client", client)
    return fake


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DID_VAULT_HOME", str(tmp_path / "wallet"))
    return tmp_path / "wallet"


def run(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "--registry", URL, "--json"])
    out = capsys.readouterr().out
    code = exited.value.code
    assert isinstance(code, int)
    return code, json.loads(out)


def _state(home: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((home / "audit-state.json").read_text())
    return document


def test_first_audit_pins_the_key_and_remembers_the_checkpoint(registry, home, capsys):
    registry.append(5)

    code, result = run(capsys)

    assert code == 0
    assert (result["first_use"], result["old_size"], result["new_size"]) == (
        True,
        None,
        5,
    )
    state = _state(home)["registries"][URL]
    assert state["vkey"].startswith(ORIGIN + "+")
    assert state["checkpoint"] == registry.note()


def test_a_grown_log_is_consistent(registry, home, capsys):
    registry.append(5)
    run(capsys)
    registry.append(6)

    code, result = run(capsys)

    assert code == 0
    assert (result["first_use"], result["old_size"], result["new_size"]) == (
        False,
        5,
        11,
    )
    assert _state(home)["registries"][URL]["checkpoint"] == registry.note()


def test_an_unchanged_log_is_consistent(registry, home, capsys):
    registry.append(3)
    run(capsys)

    code, result = run(capsys)

    assert code == 0
    assert result["old_size"] == result["new_size"] == 3


def test_a_rollback_exits_1_and_keeps_the_remembered_checkpoint(registry, home, capsys):
    registry.append(8)
    run(capsys)
    remembered = _state(home)
    registry.served_size = 5

    code, problem = run(capsys)

    assert (code, problem["code"]) == (1, "log.rollback")
    assert _state(home) == remembered


@pytest.mark.parametrize(("old", "new"), [(5, 9), (6, 6), (3, 12)])
def test_a_forked_history_exits_1(registry, home, capsys, old, new):
    registry.append(old)
    run(capsys)
    remembered = _state(home)
    registry.fork(new)

    code, problem = run(capsys)

    assert code == 1
    assert problem["code"] in {"log.fork", "log.proof-invalid"}
    assert _state(home) == remembered


def test_a_fork_the_proof_shows_is_reported_as_a_fork(registry, home, capsys):
    registry.append(5)
    run(capsys)
    registry.fork(7)

    code, problem = run(capsys)

    assert (code, problem["code"]) == (1, "log.fork")


def test_a_changed_registry_key_is_refused(registry, home, capsys):
    registry.append(4)
    run(capsys)
    registry.key = PrivateKey(KeyAlgorithm.ED25519, bytes([9]) * 32)

    code, problem = run(capsys)

    assert (code, problem["code"]) == (1, "log.checkpoint-untrusted")


def test_a_checkpoint_signed_by_a_key_not_in_the_document_is_refused(
    registry, home, capsys, monkeypatch
):
    registry.append(4)
    other = PrivateKey(KeyAlgorithm.ED25519, bytes([9]) * 32)
    body = Checkpoint(ORIGIN, 4, root_at(registry.store, 4))
    monkeypatch.setattr(registry, "note", lambda: sign_checkpoint(body, other, now=NOW))

    code, problem = run(capsys)

    assert (code, problem["code"]) == (1, "log.checkpoint-untrusted")
    assert not (home / "audit-state.json").exists()


def test_an_unreadable_state_file_is_a_usage_problem(registry, home, capsys):
    home.mkdir(parents=True)
    (home / "audit-state.json").write_text("not json")

    code, problem = run(capsys)

    assert (code, problem["code"]) == (65, "cli.file-unreadable")
