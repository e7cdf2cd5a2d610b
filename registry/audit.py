"""Auditing a registry's transparency log from outside (issue 9, ``did-vault audit``).

An auditor remembers the last checkpoint it saw of each registry. Each audit
fetches the latest checkpoint, verifies its signature, asks for a consistency
proof from the remembered size and checks it with did_vault's
``check_consistency``: a smaller tree is ``log.rollback``, a proof that reaches the
new root but not the remembered one (or equal sizes with different roots) is
``log.fork``. The new checkpoint is remembered only if it passes.

The checkpoint-verifying key is trusted on first use: the first audit takes the
Ed25519 ``assertionMethod`` key of the registry's did:web document
(``/.well-known/did.json``) whose note signature is on the checkpoint, and pins it
(its C2SP ``vkey``) in the state; later audits use the pinned key only, so a
registry that changes its key is refused (``log.checkpoint-untrusted``) until the
auditor forgets the state on purpose.
"""

import base64
from dataclasses import dataclass
from typing import Any, Self

from did_vault import (
    Checkpoint,
    DIDDocument,
    KeyAlgorithm,
    LogProofError,
    NoteKey,
    UntrustedCheckpointError,
    check_consistency,
    parse_checkpoint,
    verify_checkpoint,
)
from registry.client import RegistryClient


@dataclass(frozen=True, slots=True)
class AuditState:
    """What an auditor remembers of one registry: its pinned key and last checkpoint."""

    vkey: str
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        return {"vkey": self.vkey, "checkpoint": self.checkpoint}

    @classmethod
    def from_json(cls, value: Any) -> Self:
        """Raises: ValueError (not a state this module wrote)."""
        if not isinstance(value, dict):
            raise ValueError("an audit state is a JSON object")
        vkey, checkpoint = value.get("vkey"), value.get("checkpoint")
        if not isinstance(vkey, str) or not isinstance(checkpoint, str):
            raise ValueError("an audit state has a vkey and a checkpoint")
        return cls(vkey, checkpoint)


@dataclass(frozen=True, slots=True)
class AuditResult:
    """One audit: the sizes compared and the state to remember."""

    origin: str
    old_size: int | None
    new_size: int
    root_hash: bytes
    first_use: bool
    state: AuditState

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "root_hash": self.root_hash.hex(),
            "first_use": self.first_use,
        }


def _key_on_first_use(client: RegistryClient, note: str) -> NoteKey:
    """The registry document's Ed25519 key whose signature is on ``note``.

    Raises:
        UntrustedCheckpointError: none of its keys signed the checkpoint.
        RegistryProblem: the document cannot be fetched.
    """
    origin = parse_checkpoint(note).checkpoint.origin
    document = DIDDocument.from_json(client.did_document())
    for method in document.methods_for("assertionMethod"):
        public_key = method.public_key()
        if public_key.algorithm is not KeyAlgorithm.ED25519:
            continue
        key = NoteKey(origin, public_key)
        try:
            verify_checkpoint(note, verifier_keys=[key])
        except UntrustedCheckpointError:
            continue
        return key
    raise UntrustedCheckpointError(
        "no key of the registry's DID document signed its checkpoint"
    )


def audit(client: RegistryClient, state: AuditState | None) -> AuditResult:
    """Fetch the registry's latest checkpoint and check it extends ``state``'s.

    Raises:
        RegistryProblem: the registry did not answer.
        MalformedCheckpointError, CheckpointSignatureError,
        UntrustedCheckpointError: the checkpoint is not validly signed by the
            pinned (or, first, the published) key.
        LogRollbackError, LogForkError, LogOriginMismatchError, LogProofError:
            the new checkpoint does not extend the remembered one.
    """
    note = client.log_checkpoint()
    if state is None:
        key = _key_on_first_use(client, note)
        new = verify_checkpoint(note, verifier_keys=[key]).checkpoint
        result_state = AuditState(key.to_vkey(), note)
        return AuditResult(
            new.origin, None, new.tree_size, new.root_hash, True, result_state
        )
    key = NoteKey.from_vkey(state.vkey)
    old = verify_checkpoint(state.checkpoint, verifier_keys=[key]).checkpoint
    new = verify_checkpoint(note, verifier_keys=[key]).checkpoint
    check_consistency(old, new, _proof(client, old, new))
    return AuditResult(
        new.origin,
        old.tree_size,
        new.tree_size,
        new.root_hash,
        False,
        AuditState(state.vkey, note),
    )


def _proof(client: RegistryClient, old: Checkpoint, new: Checkpoint) -> list[bytes]:
    """The consistency proof to check (none where no proof can exist)."""
    if old.origin != new.origin or not 0 < old.tree_size < new.tree_size:
        return []
    answer = client.log_consistency(old.tree_size, new.tree_size)
    try:
        return [base64.b64decode(h, validate=True) for h in answer.proof]
    except ValueError as exc:
        raise LogProofError(
            "the consistency proof is not base64", kind="consistency"
        ) from exc
