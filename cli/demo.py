"""``make run``: the end-to-end story, told through the real ``did-vault`` command.

For now it covers the wallet: an owner creates an encrypted wallet, a DID for
themselves and one for an item they own, resolves them, backs the wallet up, restores
it elsewhere and changes the passphrase; a wrong passphrase is refused. Everything
happens in a temporary folder; the user's own wallet is never touched.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli.output import Output


class DemoError(Exception):
    pass


def _did_vault() -> list[str]:
    script = shutil.which("did-vault", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "cli"]


def _run(
    out: Output,
    args: list[str],
    *,
    env: dict[str, str],
    expect: int = 0,
) -> dict[str, object]:
    shown = " ".join(["did-vault", *args])
    out.step(f"$ {shown}")
    started = time.perf_counter()
    proc = subprocess.run(
        [*_did_vault(), *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != expect:
        raise DemoError(
            f"'{shown}' exited {proc.returncode}, expected {expect}:\n"
            f"{proc.stdout}{proc.stderr}"
        )
    document: dict[str, object] = json.loads(proc.stdout)
    out.detail(
        json.dumps(document, indent=2), seconds=elapsed, exit_code=proc.returncode
    )
    return document


def story(out: Output, workdir: Path, *, insecure_test_kdf: bool = False) -> None:
    """Run the story in ``workdir``; raise DemoError at the first surprise."""
    base_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DID_VAULT_")
    }
    if insecure_test_kdf:
        base_env["DID_VAULT_INSECURE_TEST_KDF"] = "1"
    owner_home = workdir / "alice-wallet"
    env = {
        **base_env,
        "DID_VAULT_HOME": str(owner_home),
        "DID_VAULT_PASSPHRASE": "correct horse battery staple",
    }

    out.heading("1. Alice creates her wallet (Argon2id, production parameters)")
    _run(out, ["init"], env=env)

    out.heading("2. A DID for Alice, and one for the e-bike she owns")
    alice = _run(out, ["did", "create", "--method", "key", "--alias", "alice"], env=env)
    _run(
        out,
        ["did", "create", "--method", "key", "--key-type", "p256", "--alias", "e-bike"],
        env=env,
    )
    _run(out, ["did", "create", "--method", "jwk", "--alias", "alice-jwk"], env=env)
    _run(out, ["did", "list"], env=env)

    out.heading("3. Anyone can resolve Alice's DID to its DID document, offline")
    _run(out, ["did", "resolve", str(alice["did"])], env=base_env)

    out.heading("4. An encrypted backup, restored into a new wallet home")
    backup = workdir / "alice.backup"
    backup_env = {**env, "DID_VAULT_BACKUP_PASSPHRASE": "a different backup secret"}
    _run(out, ["backup", "export", str(backup)], env=backup_env)
    restored_env = {**backup_env, "DID_VAULT_HOME": str(workdir / "restored-wallet")}
    _run(out, ["backup", "import", str(backup)], env=restored_env)
    restored = _run(out, ["did", "list"], env=restored_env)
    original = _run(out, ["did", "list"], env=env)
    if restored != original:
        raise DemoError("the restored wallet differs from the original")

    out.heading("5. Passphrase change; the old passphrase no longer opens the wallet")
    _run(
        out,
        ["passphrase", "change"],
        env={**env, "DID_VAULT_NEW_PASSPHRASE": "a new long passphrase"},
    )
    _run(out, ["did", "list"], env=env, expect=77)
    _run(
        out,
        ["did", "list"],
        env={**env, "DID_VAULT_PASSPHRASE": "a new long passphrase"},
    )


def main() -> None:
    out = Output(as_json=False)
    workdir = Path(tempfile.mkdtemp(prefix="did-vault-demo-"))
    try:
        story(out, workdir)
    except DemoError as exc:
        out.problem({"code": "demo.failed", "detail": str(exc)})
        sys.exit(1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out.heading("Done: every step above ran the real did-vault command.")


if __name__ == "__main__":
    main()
