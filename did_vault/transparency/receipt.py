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
A cosignature states that the tree existed at its time, so the leaf did too. An
insurer who does not want to take the registry's word for the time requires
witnesses: then at least that many trusted witnesses' cosignatures must be before T.

A receipt is built when the event is logged, before any witness has seen its
checkpoint. :func:`refresh_receipt` later puts in a note of the *same* checkpoint
(origin, size, root) that carries more signatures, such as witness cosignatures the
registry collected since; the inclusion proof stays valid. Witnesses cosign the
registry's *latest* checkpoint, so a receipt's own one is often never witnessed:
:func:`advance_receipt` then moves the receipt to a later, witnessed checkpoint
(new inclusion proof, checked to extend the kept one), a later but still true
"registered before" bound.

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
    CheckpointMismatchError,
    CheckpointTimeMissingError,
    InsufficientWitnessesError,
    LogForkError,
    LogOriginMismatchError,
    LogProofError,
    LogRollbackError,
    MalformedReceiptError,
    OpeningMismatchError,
    RegisteredTooLateError,
)
from did_vault.transparency.checkpoint import (
    MAX_SIGNATURES,
    Checkpoint,
    Cosignature,
    NoteKey,
    SignedCheckpoint,
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

    @property
    def witnesses(self) -> tuple[Cosignature, ...]:
        """The trusted witnesses' verified cosignatures, earliest first: one per
        witness public key (its earliest), the registry's own never among them."""
        earliest: dict[bytes | str, Cosignature] = {}
        for cosignature in self.checkpoint.cosignatures:
            if cosignature.by_log:
                continue
            key = cosignature.key
            witness = cosignature.name if key is None else key.public_key.raw
            kept = earliest.get(witness)
            if kept is None or cosignature.timestamp < kept.timestamp:
                earliest[witness] = cosignature
        return tuple(sorted(earliest.values(), key=lambda c: c.timestamp))

    def witnessed_before(self, deadline: datetime) -> tuple[Cosignature, ...]:
        """The witnesses (as :attr:`witnesses`) whose cosignature is before
        ``deadline``, earliest first."""
        if deadline.tzinfo is None:
            raise ValueError("deadline must be timezone-aware")
        return tuple(c for c in self.witnesses if c.time < deadline)


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


def _required_witnesses(
    required: int | None,
    *,
    registry_keys: Sequence[NoteKey],
    witness_keys: Sequence[NoteKey],
) -> int:
    """How many witnesses must vouch: ``required``, or 1 when witness keys are given."""
    witnesses = {key.public_key.raw for key in witness_keys}
    if required is None:
        required = 1 if witnesses else 0
    if isinstance(required, bool) or not isinstance(required, int):
        raise TypeError("required_witnesses is an integer")
    if required < 0:
        raise ValueError("required_witnesses is not negative")
    if required > len(witnesses):
        raise ValueError("more witnesses required than trusted witness keys given")
    if required and witnesses & {key.public_key.raw for key in registry_keys}:
        raise ValueError("a witness key is the registry's own key")
    return required


def check_registered_before(
    receipt: Receipt,
    deadline: datetime,
    *,
    registry_keys: Sequence[NoteKey],
    witness_keys: Sequence[NoteKey] = (),
    required_witnesses: int | None = None,
    opening: Opening | None = None,
) -> VerifiedReceipt:
    """The insurer's check: this event was in the log strictly before ``deadline``.

    Needs an opening (argument or in the receipt). Without witness keys (or with
    ``required_witnesses=0``) the checkpoint needs a verified timestamped
    cosignature, by the registry or a trusted witness, and the earliest such time
    must be before the deadline. With witness keys, ``required_witnesses``
    (default 1) distinct trusted witnesses must have cosigned the checkpoint before
    the deadline; the registry's own time then does not count.

    Raises:
        everything ``verify_receipt`` raises (a forged cosignature by a trusted
            witness is ``CheckpointSignatureError``), and
        OpeningMismatchError: no opening to check.
        CheckpointTimeMissingError: no verified timestamp on the checkpoint.
        RegisteredTooLateError: the earliest trusted time is not before ``deadline``.
        InsufficientWitnessesError: fewer trusted witnesses than required cosigned
            the checkpoint before ``deadline``.
        ValueError: a naive deadline; more witnesses required than keys given, or
            a witness key that is the registry's.
    """
    if deadline.tzinfo is None:
        raise ValueError("deadline must be timezone-aware")
    required = _required_witnesses(
        required_witnesses, registry_keys=registry_keys, witness_keys=witness_keys
    )
    verified = verify_receipt(
        receipt,
        registry_keys=registry_keys,
        witness_keys=witness_keys,
        opening=opening,
    )
    if verified.event is None:
        raise OpeningMismatchError("the check needs the opening of the event")
    if required:
        vouching = verified.witnessed_before(deadline)
        if len(vouching) < required:
            raise InsufficientWitnessesError(
                "fewer trusted witnesses than required cosigned the checkpoint"
                " before the deadline",
                required=required,
                witnessed_before=len(vouching),
                cosigned=len(verified.witnesses),
                deadline=int(deadline.timestamp()),
            )
        return verified
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


def refresh_receipt(
    receipt: Receipt,
    note: str | bytes,
    *,
    registry_keys: Sequence[NoteKey],
    witness_keys: Sequence[NoteKey] = (),
) -> Receipt:
    """The receipt with ``note``'s signatures added to its checkpoint.

    ``note`` must be a note of the receipt's own checkpoint (same origin, tree
    size and root hash), signed by a registry key, typically fetched later from
    the registry with the witnesses' cosignatures it collected since. Every
    signature line of the receipt's note is kept (a line by the same key name and
    ID as one in ``note`` is taken from ``note``), so nothing is lost if the
    registry stopped serving a witness; the inclusion proof and opening stay as
    they are, since the tree is the same. Both notes are verified with
    ``registry_keys`` (and ``witness_keys``, so a forged line of a trusted witness
    is refused here rather than kept). The result equals ``receipt`` when ``note``
    adds nothing.

    Raises:
        MalformedCheckpointError: either note is not a checkpoint note.
        UntrustedCheckpointError, CheckpointSignatureError: either note's
            signatures (no registry signature, or a known key's that fails).
        LogOriginMismatchError: ``note`` is of another log.
        CheckpointMismatchError: ``note`` is of another tree size.
        LogForkError: ``note`` is signed by the registry for the same size with
            another root (two signed views of one tree size).
    """

    def verified(text: str | bytes) -> Checkpoint:
        return verify_checkpoint(
            text, verifier_keys=registry_keys, witness_keys=witness_keys
        ).checkpoint

    old, new = verified(receipt.checkpoint), verified(note)
    if new.origin != old.origin:
        raise LogOriginMismatchError("the note is of another log than the receipt")
    if new.tree_size != old.tree_size:
        raise CheckpointMismatchError(
            "the note is of another tree size than the receipt's checkpoint",
            receipt_size=old.tree_size,
            note_size=new.tree_size,
        )
    if new.root_hash != old.root_hash:
        raise LogForkError(
            "the registry signed two roots for one tree size",
            tree_size=old.tree_size,
        )
    fresh = parse_checkpoint(note).signatures
    held = parse_checkpoint(receipt.checkpoint).signatures
    seen = {(sig.name, sig.key_id) for sig in fresh}
    kept = [sig for sig in held if (sig.name, sig.key_id) not in seen]
    # The fresh note's lines first (the registry's own among them), then those
    # only the kept note had, within the signed-note limit.
    signatures = (*fresh, *kept)[:MAX_SIGNATURES]
    if {sig.to_line() for sig in signatures} <= {sig.to_line() for sig in held}:
        return receipt  # nothing new
    merged = SignedCheckpoint(new, signatures).to_note()
    verified(merged)
    return Receipt(
        receipt.leaf_index,
        receipt.leaf_data,
        merged,
        receipt.inclusion_proof,
        receipt.opening,
    )


def advance_receipt(
    receipt: Receipt,
    note: str | bytes,
    *,
    inclusion_proof: Sequence[bytes],
    consistency_proof: Sequence[bytes],
    registry_keys: Sequence[NoteKey],
    witness_keys: Sequence[NoteKey] = (),
) -> Receipt:
    """The receipt moved to ``note``, a later checkpoint of the same log.

    For a receipt whose own checkpoint no witness cosigned (witnesses cosign the
    registry's latest checkpoint, and the log grows with every event): ``note`` is
    a later checkpoint (tree size m ≥ the receipt's n) signed by a registry key,
    ``inclusion_proof`` the RFC 9162 proof of the receipt's leaf at size m and
    ``consistency_proof`` the proof from n to m, as the registry serves them
    (``GET /v1/log/proof/inclusion``, ``GET /v1/log/proof/consistency``). The kept
    receipt is verified first (its note, its proof, its opening if any); then the
    later checkpoint must extend the receipt's (so the owner takes no other view of
    the log than the one it holds), and the same leaf must be in it. The result
    has ``note`` and the new proof, and the same leaf index, leaf data and opening,
    so ``Wallet.replace_receipts`` takes it. A note of the receipt's own size is
    merged as :func:`refresh_receipt` does.

    A "registered before T" check on the result rests on the later checkpoint's
    times: a weaker (later) bound than the receipt's own checkpoint would give,
    but still true, since the leaf is included in the later tree. So a receipt
    whose own checkpoint is witnessed is better kept as it is.

    Raises:
        MalformedCheckpointError: either note is not a checkpoint note.
        UntrustedCheckpointError, CheckpointSignatureError: either note's
            signatures (no registry signature, or a known key's that fails).
        LogOriginMismatchError: ``note`` is of another log.
        LogRollbackError: ``note``'s tree is smaller than the receipt's.
        LogForkError: ``note``'s tree does not extend the receipt's (a proof that
            leads to its root but not to the receipt's, or another root at the
            same size).
        LogProofError: the kept receipt's, the consistency or the inclusion proof
            does not verify (``context.kind`` says which kind).
        OpeningMismatchError: the kept receipt's opening does not open its leaf.
    """
    old = verify_receipt(
        receipt, registry_keys=registry_keys, witness_keys=witness_keys
    ).checkpoint.checkpoint
    new = verify_checkpoint(
        note, verifier_keys=registry_keys, witness_keys=witness_keys
    ).checkpoint
    check_consistency(old, new, tuple(consistency_proof))
    if new.tree_size == old.tree_size:
        return refresh_receipt(
            receipt, note, registry_keys=registry_keys, witness_keys=witness_keys
        )
    proof = tuple(inclusion_proof)
    verify_inclusion(
        hash_leaf(receipt.leaf_data),
        proof,
        leaf_index=receipt.leaf_index,
        tree_size=new.tree_size,
        root=new.root_hash,
    )
    text = note if isinstance(note, str) else note.decode("utf-8")
    return Receipt(receipt.leaf_index, receipt.leaf_data, text, proof, receipt.opening)


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
