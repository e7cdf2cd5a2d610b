"""``make run``: the end-to-end story, told through the real ``did-vault`` command.

For now it covers the wallet: an owner creates an encrypted wallet, a DID for
themselves and one for an item they own, and resolves them; a brand issues a signed
credential for the item, the owner keeps it and presents it to a repair shop bound to
the shop's challenge and domain; a replayed presentation and an altered credential are
refused; the owner backs the wallet up, restores it elsewhere and changes the
passphrase; a wrong passphrase is refused. Everything
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

    out.heading("4. Brand X issues Alice a signed credential for her e-bike")
    brand_env = {
        **base_env,
        "DID_VAULT_HOME": str(workdir / "brand-x-wallet"),
        "DID_VAULT_PASSPHRASE": "brand x issuing key passphrase",
    }
    _run(out, ["init"], env=brand_env)
    _run(out, ["did", "create", "--alias", "brand-x"], env=brand_env)
    subject = workdir / "e-bike.json"
    subject.write_text(
        json.dumps(
            {
                "id": alice["did"],
                "name": "Brand X Trekking 7 e-bike",
                "description": "frame WBX7-2026-000042, warranty until 2028-11-20",
            }
        )
    )
    credential = workdir / "e-bike-credential.json"
    _run(
        out,
        [
            *("credential", "issue", "--issuer", "brand-x", "--subject", str(subject)),
            *("--valid-until", "2028-11-20T00:00:00Z", "--out", str(credential)),
        ],
        env=brand_env,
    )
    _run(out, ["credential", "import", str(credential), "--as", "e-bike"], env=env)

    out.heading("5. A repair shop asks for proof; Alice presents it bound to the shop")
    presentation = workdir / "presentation.json"
    _run(
        out,
        [
            *("present", "--credential", "e-bike", "--challenge", "shop-nonce-7f3a"),
            *("--domain", "repair.example", "--out", str(presentation)),
        ],
        env=env,
    )
    verify = ["presentation", "verify", str(presentation)]
    _run(
        out,
        [*verify, "--challenge", "shop-nonce-7f3a", "--domain", "repair.example"],
        env=base_env,
    )
    out.step("# replayed to another shop, the presentation is refused:")
    _run(
        out,
        [*verify, "--challenge", "other-nonce", "--domain", "pawn.example"],
        env=base_env,
        expect=1,
    )
    forged = workdir / "forged.json"
    document = json.loads(credential.read_text())
    document["credentialSubject"]["description"] = "frame WBX7-2026-000099"
    forged.write_text(json.dumps(document))
    out.step("# a credential altered after signing is refused:")
    _run(out, ["credential", "verify", str(forged)], env=base_env, expect=1)

    out.heading("6. An encrypted backup, restored into a new wallet home")
    backup = workdir / "alice.backup"
    backup_env = {**env, "DID_VAULT_BACKUP_PASSPHRASE": "a different backup secret"}
    _run(out, ["backup", "export", str(backup)], env=backup_env)
    restored_env = {**backup_env, "DID_VAULT_HOME": str(workdir / "restored-wallet")}
    _run(out, ["backup", "import", str(backup)], env=restored_env)
    restored = _run(out, ["did", "list"], env=restored_env)
    original = _run(out, ["did", "list"], env=env)
    if restored != original:
        raise DemoError("the restored wallet differs from the original")

    out.heading("7. Passphrase change; the old passphrase no longer opens the wallet")
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
