"""Log receipts, checked offline, and consistency between checkpoints (auditing).

A **receipt** is what the registry returns for every event it logs: the leaf index,
the leaf data (the event's commitment), a signed checkpoint whose tree holds the leaf,
and the RFC 9162 inclusion proof from the leaf to that checkpoint's root. With a
registry key (and optionally witness keys) it verifies with no network
(:func:`verify_receipt`); with the owner's opening it also shows *which* event the
leaf is.

"Registered before T" (the insurer's check, :func:`check_registered_before`): the
receipt verifies, the opening matches, and the checkpoint carries a verified
``cosignature/v1`` time — by the registry key or a trusted witness — earlier than T.
A cosignature states that the tree existed at its time, so the leaf did too.

JSON form (members in camelCase, byte strings in standard base64 like the
checkpoint's root hash)::

    {"leafIndex": 7, "leafData": "…", "checkpoint": "<signed note>",
     "inclusionProof": ["…", …], "opening": {"salt": "…", "event": {…}}}

``opening`` is optional and private: a receipt is shared without it, unless proving
the event is the point.
"""

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from did_vault.errors import (
    CheckpointTimeMissingError,
    LogForkError,
    LogOriginMismatchError,
    LogProofError,
    LogRollbackError,
    MalformedReceiptError,
    OpeningMismatchError,
    RegisteredTooLateError,
)
from did_vault.transparency.checkpoint import (
    Checkpoint,
    NoteKey,
    VerifiedCheckpoint,
    parse_checkpoint,
    verify_checkpoint,
)
from did_vault.transparency.commitment import Opening, verify_opening
from did_vault.transparency.merkle import (
    NodeStore,
    consistency_roots,
    hash_leaf,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

_MEMBERS = {"leafIndex", "leafData", "checkpoint", "inclusionProof"}
MAX_PROOF_ELEMENTS = 64
"""Inclusion proofs are at most 64 hashes long (tree sizes are uint64)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedReceiptError(f"{what} is a base64 string")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise MalformedReceiptError(f"{what} is not standard base64") from exc
    if _b64(data) != text:
        raise MalformedReceiptError(f"{what} is not canonical base64")
    return data


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof that a leaf is in the log, as of a signed checkpoint."""

    leaf_index: int
    leaf_data: bytes
    checkpoint: str
    inclusion_proof: tuple[bytes, ...]
    opening: Opening | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.leaf_index, bool) or not isinstance(self.leaf_index, int):
            raise TypeError("leaf_index is an integer")
        if self.leaf_index < 0:
            raise ValueError("leaf_index is not negative")
        if not isinstance(self.leaf_data, bytes) or not isinstance(
            self.checkpoint, str
        ):
            raise TypeError("leaf_data is bytes and checkpoint the note text")
        object.__setattr__(self, "inclusion_proof", tuple(self.inclusion_proof))

    def to_json(self, *, include_opening: bool = False) -> dict[str, Any]:
        """The JSON form; the opening only on request (it is private)."""
        body: dict[str, Any] = {
            "leafIndex": self.leaf_index,
            "leafData": _b64(self.leaf_data),
            "checkpoint": self.checkpoint,
            "inclusionProof": [_b64(p) for p in self.inclusion_proof],
        }
        if include_opening and self.opening is not None:
            body["opening"] = self.opening.to_json()
        return body

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Self:
        """Read the JSON form (signatures and proof are checked by ``verify_receipt``).

        Raises:
            MalformedReceiptError: missing or unknown members, wrong types, bad base64.
        """
        if not isinstance(value, Mapping):
            raise MalformedReceiptError("a receipt is a JSON object")
        members = set(value)
        if not members >= _MEMBERS or not members <= _MEMBERS | {"opening"}:
            raise MalformedReceiptError(
                "a receipt has leafIndex, leafData, checkpoint, inclusionProof"
                " and optionally opening"
            )
        index, note, proof = (
            value["leafIndex"],
            value["checkpoint"],
            value["inclusionProof"],
        )
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise MalformedReceiptError("leafIndex is a non-negative integer")
        if not isinstance(note, str):
            raise MalformedReceiptError("checkpoint is the signed note text")
        if not isinstance(proof, list) or len(proof) > MAX_PROOF_ELEMENTS:
            raise MalformedReceiptError("inclusionProof is a list of up to 64 hashes")
        hashes = tuple(_unb64(p, "an inclusion proof element") for p in proof)
        opening = None
        if "opening" in value:
            opening = Opening.from_json(value["opening"])
        return cls(index, _unb64(value["leafData"], "leafData"), note, hashes, opening)


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    """A receipt that verified: the checkpoint, and the event if it was opened."""

    leaf_index: int
    checkpoint: VerifiedCheckpoint
    event: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def time(self) -> datetime | None:
        """The checkpoint's earliest trusted time (None if not timestamped)."""
        return self.checkpoint.time


def make_receipt(
    store: NodeStore,
    *,
    leaf_index: int,
    leaf_data: bytes,
    checkpoint: str,
    opening: Opening | None = None,
) -> Receipt:
    """Build the receipt of a leaf against a signed checkpoint, proof from ``store``.

    The checkpoint's tree size may be anything up to the store's size, so a receipt
    can be made against an older checkpoint too. Nothing is verified here.

    Raises:
        MalformedCheckpointError: the checkpoint is not a checkpoint note.
        LogRangeError: the leaf is not in the checkpoint's tree, or the tree is
            larger than the store.
    """
    tree_size = parse_checkpoint(checkpoint).checkpoint.tree_size
    proof = inclusion_proof(store, leaf_index, tree_size)
    return Receipt(leaf_index, leaf_data, checkpoint, tuple(proof), opening)


def verify_receipt(
    receipt: Receipt,
    *,
    registry_keys: Sequence[NoteKey],
    witness_keys: Sequence[NoteKey] = (),
    opening: Opening | None = None,
) -> VerifiedReceipt:
    """Verify a receipt offline: checkpoint signatures, inclusion proof, and opening.

    The opening checked is ``opening`` if given, else the receipt's own, if any.

    Raises:
        MalformedCheckpointError: the checkpoint is not a checkpoint note.
        UntrustedCheckpointError, CheckpointSignatureError: its signatures.
        LogProofError: the inclusion proof does not lead to the checkpoint's root.
        OpeningMismatchError: the opening does not open the leaf.
    """
    verified = verify_checkpoint(
        receipt.checkpoint, verifier_keys=registry_keys, witness_keys=witness_keys
    )
    tree = verified.checkpoint
    verify_inclusion(
        hash_leaf(receipt.leaf_data),
        receipt.inclusion_proof,
        leaf_index=receipt.leaf_index,
        tree_size=tree.tree_size,
        root=tree.root_hash,
    )
    opening = opening if opening is not None else receipt.opening
    event = verify_opening(receipt.leaf_data, opening) if opening is not None else None
    return VerifiedReceipt(receipt.leaf_index, verified, event)


def check_registered_before(
    receipt: Receipt,
    deadline: datetime,
    *,
    registry_keys: Sequence[NoteKey],
    witness_keys: Sequence[NoteKey] = (),
    opening: Opening | None = None,
) -> VerifiedReceipt:
    """The insurer's check: this event was in the log strictly before ``deadline``.

    Needs an opening (argument or in the receipt) and a verified timestamped
    cosignature on the checkpoint, by the registry or a trusted witness; the
    earliest such time must be before the deadline.

    Raises:
        everything ``verify_receipt`` raises, and
        OpeningMismatchError: no opening to check.
        CheckpointTimeMissingError: no verified timestamp on the checkpoint.
        RegisteredTooLateError: the earliest trusted time is not before ``deadline``.
    """
    if deadline.tzinfo is None:
        raise ValueError("deadline must be timezone-aware")
    verified = verify_receipt(
        receipt,
        registry_keys=registry_keys,
        witness_keys=witness_keys,
        opening=opening,
    )
    if verified.event is None:
        raise OpeningMismatchError("the check needs the opening of the event")
    time = verified.time
    if time is None:
        raise CheckpointTimeMissingError("the checkpoint carries no trusted time")
    if not time < deadline:
        raise RegisteredTooLateError(
            "the checkpoint is not older than the deadline",
            checkpoint_time=int(time.timestamp()),
            deadline=int(deadline.timestamp()),
        )
    return verified


def check_consistency(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Check that ``new`` extends ``old`` (both already signature-checked).

    Raises:
        LogOriginMismatchError: the checkpoints are of different logs.
        LogRollbackError: the new tree is smaller than the old one.
        LogForkError: equal sizes with different roots, or a proof that leads to the
            new root but not to the old one.
        LogProofError: the proof does not verify (which may also hide a fork).
    """
    if old.origin != new.origin:
        raise LogOriginMismatchError("the checkpoints are of different logs")
    if new.tree_size < old.tree_size:
        raise LogRollbackError(
            "the new checkpoint has fewer leaves than the old one",
            old_size=old.tree_size,
            new_size=new.tree_size,
        )
    if new.tree_size == old.tree_size and new.root_hash != old.root_hash:
        raise LogForkError("two checkpoints of one size with different roots")
    try:
        verify_consistency(
            proof,
            old_size=old.tree_size,
            new_size=new.tree_size,
            old_root=old.root_hash,
            new_root=new.root_hash,
        )
    except LogProofError:
        if 0 < old.tree_size < new.tree_size and _leads_to_new_root_only(
            proof, old, new
        ):
            raise LogForkError(
                "the proof leads to the new root but not to the old one"
            ) from None
        raise


def _leads_to_new_root_only(
    proof: Sequence[bytes], old: Checkpoint, new: Checkpoint
) -> bool:
    try:
        fr, sr = consistency_roots(
            proof,
            old_size=old.tree_size,
            new_size=new.tree_size,
            old_root=old.root_hash,
        )
    except LogProofError:
        return False
    return sr == new.root_hash and fr != old.root_hash
