"""Regenerate did_vault/__init__.py from the public names of its modules.

Run after adding a public name: ``python tools/gen_public_api.py``; then update the
pinned list in tests/test_public_api.py (the test prints the difference).
"""

import importlib
import inspect
import subprocess
from pathlib import Path

# module -> names it exports (None: every public class and function defined there)
SOURCES: dict[str, list[str] | None] = {
    "did_vault.errors": None,
    "did_vault.keys": ["KeyAlgorithm", "PrivateKey", "PublicKey"],
    "did_vault.dids": "ALL",  # type: ignore[dict-item]
    "did_vault.keystore": ["ContainerKind", "KDFParameters"],
    "did_vault.wallet": [
        "PENDING_ITEM_DID",
        "AddedItem",
        "ItemDraft",
        "StoredCredential",
        "Wallet",
        "WalletDID",
        "WalletItem",
    ],
    "did_vault.items.importing": [
        "CSVMapping",
        "ImportReport",
        "ImportedRow",
        "Target as ImportTarget",
        "load_mapping",
        "neutralize_cell",
        "read_csv",
        "read_inventory",
        "read_inventory_json",
        "restore_cell",
    ],
    "did_vault.items.exporting": [
        "inventory_csv",
        "inventory_json",
        "inventory_pdf",
        "mask_serial",
    ],
    "did_vault.credentials": "ALL",  # type: ignore[dict-item]
    "did_vault.credentials.status": [
        "BitstringStatusList",
        "BitstringStatusListEntry",
        "StatusListChecker",
        "StatusPurpose",
        "StatusResult",
        "build_status_list_credential",
        "make_status_entry",
    ],
    "did_vault.sd_jwt": [
        "ClaimPath",
        "Disclosure",
        "InMemoryNonceStore",
        "NonceStore",
        "SDJWT",
        "VerifiedSDJWT",
        "issue_sd_jwt",
        "issue_sd_jwt_vc",
        "present as present_sd_jwt",
        "verify_sd_jwt",
    ],
    "did_vault.sd_jwt.verifier": ["SDJWTVerifier"],
    "did_vault.sd_jwt.issuer": ["SDJWTIssuer"],
    "did_vault.sd_jwt.nonces": ["NonceState"],
    "did_vault.sd_jwt.sharing": [
        "SharedSDJWT",
        "check_request",
        "format_claim_path",
        "holder_binding_key",
        "holder_key_for",
        "parse_claim_path",
        "parse_claim_paths",
        "share_sd_jwt",
        "status_key_resolver",
    ],
    "did_vault.sd_jwt.dcql": [
        "CredentialMatch",
        "DCQLAnswer",
        "DCQLQuery",
        "HeldCredential",
        "answer_query",
        "check_against_template",
        "load_template",
        "template_names",
    ],
    "did_vault.credentials.request": [
        "PresentationAnswer",
        "check_holder_is_subject",
        "check_presentation_request",
    ],
    "did_vault.credentials.token_status": [
        "TokenStatus",
        "TokenStatusChecker",
        "TokenStatusList",
        "issue_status_list_token",
        "verify_status_list_token",
    ],
    "did_vault.transparency": [
        "EMPTY_ROOT",
        "Checkpoint",
        "Cosignature",
        "InMemoryNodeStore",
        "NodeID",
        "NodeStore",
        "NoteKey",
        "Opening",
        "Receipt",
        "VerifiedCheckpoint",
        "VerifiedReceipt",
        "advance_receipt",
        "append_siblings",
        "check_consistency",
        "check_registered_before",
        "commit as commit_event",
        "consistency_proof",
        "cosign_checkpoint",
        "hash_leaf",
        "inclusion_proof",
        "make_receipt",
        "nodes_for_append",
        "parse_checkpoint",
        "refresh_receipt",
        "root_at",
        "root_hash",
        "sign_checkpoint",
        "verify_checkpoint",
        "verify_consistency",
        "verify_inclusion",
        "verify_opening",
        "verify_receipt",
    ],
}
EXTRA = Path(__file__).with_name("public_api_extra.txt")
# Sub-packages exported as modules (their names would clash at the top level).
MODULES = ["items"]


def _names(module_name: str, spec: object) -> list[str]:
    module = importlib.import_module(module_name)
    if spec == "ALL":
        return list(module.__all__)
    if spec is None:
        return [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and getattr(value, "__module__", None) == module_name
        ]
    return list(spec)  # type: ignore[call-overload]


def main() -> None:
    sources = dict(SOURCES)
    if EXTRA.exists():
        for line in EXTRA.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                module_name, _, names = line.partition(":")
                sources[module_name.strip()] = [n.strip() for n in names.split(",")]
    lines = [
        '"""did_vault: a self-sovereign identity wallet library.',
        "",
        "Keys, DIDs (did:key, did:jwk, did:web), the encrypted wallet, verifiable",
        "credentials with Data Integrity proofs and status lists, SD-JWT VCs with",
        "DCQL presentation requests; ``items`` is the standard item and ownership",
        "schema (models, identifiers, validation). Everything a caller needs is",
        "importable from here; other submodules are implementation detail.",
        '"""',
        "",
    ]
    every: list[str] = list(MODULES)
    for module in MODULES:
        lines.append(f"from did_vault import {module}")
    for module_name, spec in sources.items():
        names = sorted(_names(module_name, spec))
        every.extend(name.split(" as ")[-1] for name in names)
        lines.append(f"from {module_name} import (")
        lines.extend(f"    {name}," for name in names)
        lines.append(")")
    lines.append("")
    lines.append("__all__ = [")
    lines.extend(f'    "{name}",' for name in sorted(set(every)))
    lines.append("]")
    target = Path("did_vault/__init__.py")
    target.write_text("\n".join(lines) + "\n")
    subprocess.run(["ruff", "check", "--fix", "-q", str(target)], check=True)
    subprocess.run(["ruff", "format", "-q", str(target)], check=True)


if __name__ == "__main__":
    main()
