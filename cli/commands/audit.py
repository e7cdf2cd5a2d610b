"""``did-vault audit --registry URL``: check that a registry's log only grows.

The last checkpoint seen of each registry, and the registry's pinned
checkpoint-verifying key (trusted on first use from its did:web document), are
kept in ``audit-state.json`` in the wallet home (no secret: the wallet need not be
unlocked). A rollback or a fork exits 1 with ``log.rollback`` / ``log.fork``, and
the remembered checkpoint is kept; see ``registry.audit``.
"""

import json
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from cli.context import CLIError, JsonOption, settings
from cli.output import Output
from registry.audit import AuditState, audit
from registry.client import DEFAULT_TIMEOUT, RegistryClient, RegistryProblem

STATE_FILE = "audit-state.json"
STATE_VERSION = 1


def _state_path() -> Path:
    return settings().wallet_home() / STATE_FILE


def load_states(path: Path) -> dict[str, Any]:
    """Every registry's remembered state (empty when there is no file yet).

    Raises:
        CLIError: ``cli.file-unreadable`` (unreadable, or not an audit state).
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CLIError(
            "cli.file-unreadable", f"cannot read {path}: {exc}", exit_code=65
        ) from exc
    registries = document.get("registries") if isinstance(document, dict) else None
    if not isinstance(registries, dict):
        raise CLIError(
            "cli.file-unreadable", f"{path} is not an audit state", exit_code=65
        )
    return registries


def save_states(path: Path, registries: dict[str, Any]) -> None:
    """Write the states atomically (a crash leaves the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    document = {"version": STATE_VERSION, "registries": registries}
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _problem(exc: RegistryProblem) -> CLIError:
    exit_code = 69 if exc.status in (0, 502, 503) else 65
    return CLIError(exc.code, str(exc), exit_code=exit_code)


def run_audit(
    client: RegistryClient, *, registry_url: str, state_path: Path
) -> dict[str, Any]:
    """Audit one registry and remember its new checkpoint if it passes.

    Raises:
        CLIError: the registry did not answer, or the state file is unreadable.
        did_vault's ``log.*`` verification errors (exit 1).
    """
    registries = load_states(state_path)
    key = registry_url.rstrip("/")
    remembered = registries.get(key)
    try:
        state = None if remembered is None else AuditState.from_json(remembered)
    except ValueError as exc:
        raise CLIError(
            "cli.file-unreadable", f"{state_path}: {exc}", exit_code=65
        ) from exc
    try:
        result = audit(client, state)
    except RegistryProblem as exc:
        raise _problem(exc) from exc
    registries[key] = result.state.to_json()
    save_states(state_path, registries)
    return {"registry": key, **result.to_json()}


def audit_command(
    registry: Annotated[
        str, typer.Option("--registry", help="The registry's base URL (https://…).")
    ],
    json_output: JsonOption = False,
) -> None:
    """Check that the registry's transparency log extends what was seen before."""
    output = Output(as_json=json_output)
    cfg = settings()
    client = RegistryClient(
        httpx.Client(
            base_url=registry.rstrip("/"),
            timeout=DEFAULT_TIMEOUT,
            verify=cfg.tls_verify(),
        )
    )
    try:
        result = run_audit(client, registry_url=registry, state_path=_state_path())
    finally:
        client.close()
    if result["first_use"]:
        message = (
            f"First audit: checkpoint of {result['new_size']} leaves remembered; "
            "the registry's key is now pinned."
        )
    else:
        message = f"Consistent: {result['old_size']} → {result['new_size']} leaves."
    output.result(result, message=message)
