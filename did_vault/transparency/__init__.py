"""A tamper-evident transparency log, independent of storage (RFC 9162, C2SP).

``merkle``: RFC 9162 hashing, inclusion and consistency proofs over a ``NodeStore``;
``checkpoint``: C2SP ``tlog-checkpoint`` bodies in ``signed-note`` envelopes, with
timestamped ``cosignature/v1`` lines; ``commitment``: salted commitments to events, so
the log reveals nothing; ``receipt``: what an owner keeps and an insurer or auditor
checks offline. Design: ``specs/design/0005-transparency-log.md``.
"""

from did_vault.transparency.checkpoint import (
    Checkpoint,
    Cosignature,
    NoteKey,
    NoteSignature,
    SignedCheckpoint,
    SignedNote,
    VerifiedCheckpoint,
    VerifiedNote,
    cosign_checkpoint,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from did_vault.transparency.commitment import Opening, commit, verify_opening
from did_vault.transparency.merkle import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    NodeID,
    NodeStore,
    append_siblings,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    nodes_for_append,
    root_at,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from did_vault.transparency.receipt import (
    Receipt,
    VerifiedReceipt,
    advance_receipt,
    check_consistency,
    check_registered_before,
    make_receipt,
    refresh_receipt,
    verify_receipt,
)

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "Cosignature",
    "InMemoryNodeStore",
    "NodeID",
    "NodeStore",
    "NoteKey",
    "NoteSignature",
    "Opening",
    "Receipt",
    "SignedCheckpoint",
    "SignedNote",
    "VerifiedCheckpoint",
    "VerifiedNote",
    "VerifiedReceipt",
    "advance_receipt",
    "append_siblings",
    "check_consistency",
    "check_registered_before",
    "commit",
    "consistency_proof",
    "cosign_checkpoint",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "make_receipt",
    "nodes_for_append",
    "parse_checkpoint",
    "parse_note",
    "refresh_receipt",
    "root_at",
    "root_from_inclusion_proof",
    "root_hash",
    "sign_checkpoint",
    "sign_note",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
    "verify_opening",
    "verify_receipt",
]
