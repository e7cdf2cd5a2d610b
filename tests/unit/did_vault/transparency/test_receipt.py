"""Receipts verified offline, the insurer's "registered before" check, and auditing."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from did_vault.errors import (
    CheckpointMismatchError,
    CheckpointSignatureError,
    CheckpointTimeMissingError,
    InsufficientWitnessesError,
    LogForkError,
    LogOriginMismatchError,
    LogProofError,
    LogRangeError,
    LogRollbackError,
    MalformedCheckpointError,
    MalformedReceiptError,
    OpeningMismatchError,
    RegisteredTooLateError,
    UntrustedCheckpointError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.transparency.checkpoint import (
    Checkpoint,
    NoteKey,
    cosign_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from did_vault.transparency.commitment import Opening, commit
from did_vault.transparency.merkle import (
    InMemoryNodeStore,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    root_at,
)
from did_vault.transparency.receipt import (
    Receipt,
    advance_receipt,
    check_consistency,
    check_registered_before,
    make_receipt,
    refresh_receipt,
    verify_receipt,
)

ORIGIN = "registry.example/log"
EVENTS = [{"type": "registration", "serialNumber": f"SN-{n}"} for n in range(10)]


class Log:
    """A tiny registry: commitments appended, checkpoints signed."""

    def __init__(self, key: PrivateKey) -> None:
        self.key = key
        self.store = InMemoryNodeStore()
        self.leaves: list[bytes] = []
        self.openings: list[Opening] = []

    def append(self, event: dict[str, str]) -> int:
        leaf, opening = commit(event)
        self.leaves.append(leaf)
        self.openings.append(opening)
        return self.store.append_data(leaf)

    def checkpoint(self, now: datetime, size: int | None = None) -> str:
        size = self.store.size if size is None else size
        body = Checkpoint(ORIGIN, size, root_at(self.store, size))
        return sign_checkpoint(body, self.key, now=now)

    def receipt(self, index: int, note: str) -> Receipt:
        return make_receipt(
            self.store,
            leaf_index=index,
            leaf_data=self.leaves[index],
            checkpoint=note,
            opening=self.openings[index],
        )


@pytest.fixture
def key(seed32: bytes) -> PrivateKey:
    return PrivateKey(KeyAlgorithm.ED25519, seed32)


@pytest.fixture
def keys(key: PrivateKey) -> list[NoteKey]:
    return [NoteKey(ORIGIN, key.public_key)]


@pytest.fixture
def log(key: PrivateKey) -> Log:
    log = Log(key)
    for event in EVENTS:
        log.append(event)
    return log


def test_every_receipt_verifies_offline(
    log: Log, keys: list[NoteKey], now: datetime
) -> None:
    note = log.checkpoint(now)
    for index, event in enumerate(EVENTS):
        receipt = log.receipt(index, note)
        verified = verify_receipt(receipt, registry_keys=keys)
        assert verified.leaf_index == index
        assert verified.event == event
        assert verified.time == now
        assert verified.checkpoint.checkpoint.tree_size == len(EVENTS)
        bare = Receipt(index, receipt.leaf_data, note, receipt.inclusion_proof)
        assert verify_receipt(bare, registry_keys=keys).event is None


def test_a_receipt_against_an_older_checkpoint(
    log: Log, keys: list[NoteKey], now: datetime
) -> None:
    old = log.checkpoint(now, size=4)
    verify_receipt(log.receipt(3, old), registry_keys=keys)
    with pytest.raises(LogRangeError):
        log.receipt(4, old)


def test_receipt_json_round_trip(log: Log, keys: list[NoteKey], now: datetime) -> None:
    receipt = log.receipt(5, log.checkpoint(now))
    public = json.loads(json.dumps(receipt.to_json()))
    assert "opening" not in public
    assert set(public) == {"leafIndex", "leafData", "checkpoint", "inclusionProof"}
    restored = Receipt.from_json(public)
    assert restored.opening is None
    assert verify_receipt(restored, registry_keys=keys, opening=receipt.opening).event
    private = Receipt.from_json(
        json.loads(json.dumps(receipt.to_json(include_opening=True)))
    )
    assert private == receipt
    assert "SN-5" not in repr(receipt)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: [],
        lambda r: {**r, "leafIndex": -1},
        lambda r: {**r, "leafIndex": True},
        lambda r: {**r, "leafIndex": "5"},
        lambda r: {**r, "leafData": "not base64!"},
        lambda r: {**r, "leafData": r["leafData"].rstrip("=")},
        lambda r: {**r, "checkpoint": 7},
        lambda r: {**r, "inclusionProof": "AAAA"},
        lambda r: {**r, "inclusionProof": ["AAAA"] * 65},
        lambda r: {**r, "inclusionProof": [1]},
        lambda r: {**r, "extra": 1},
        lambda r: {k: v for k, v in r.items() if k != "checkpoint"},
        lambda r: {**r, "opening": {"salt": "AAAA"}},
    ],
)
def test_malformed_receipts_are_refused(
    change: object, log: Log, now: datetime
) -> None:
    value = log.receipt(1, log.checkpoint(now)).to_json()
    with pytest.raises(MalformedReceiptError):
        Receipt.from_json(change(value))  # type: ignore[operator]


def test_a_wrong_receipt_is_rejected(
    log: Log, keys: list[NoteKey], now: datetime
) -> None:
    note = log.checkpoint(now)
    receipt = log.receipt(2, note)
    proof = receipt.inclusion_proof
    for wrong in (
        Receipt(3, receipt.leaf_data, note, proof),
        Receipt(2, log.leaves[3], note, proof),
        Receipt(2, receipt.leaf_data, note, proof[:-1]),
        Receipt(2, receipt.leaf_data, note, (*proof, proof[0])),
    ):
        with pytest.raises(LogProofError):
            verify_receipt(wrong, registry_keys=keys)
    with pytest.raises(OpeningMismatchError):
        verify_receipt(receipt, registry_keys=keys, opening=log.openings[3])
    stranger = NoteKey(
        ORIGIN, PrivateKey(KeyAlgorithm.ED25519, b"\x05" * 32).public_key
    )
    with pytest.raises(UntrustedCheckpointError):
        verify_receipt(receipt, registry_keys=[stranger])


# --- registered before a date --------------------------------------------------------


def test_registered_before_the_loss_date(
    log: Log, keys: list[NoteKey], now: datetime
) -> None:
    receipt = log.receipt(7, log.checkpoint(now))
    loss = now + timedelta(days=30)
    verified = check_registered_before(receipt, loss, registry_keys=keys)
    assert verified.event == EVENTS[7]
    with pytest.raises(RegisteredTooLateError) as caught:
        check_registered_before(receipt, now, registry_keys=keys)  # not strictly before
    assert caught.value.code == "log.registered-too-late"
    with pytest.raises(RegisteredTooLateError):
        check_registered_before(receipt, now - timedelta(seconds=1), registry_keys=keys)


def test_registered_before_needs_the_opening_and_a_time(
    log: Log, keys: list[NoteKey], now: datetime, key: PrivateKey
) -> None:
    note = log.checkpoint(now)
    later = now + timedelta(days=1)
    bare = Receipt.from_json(log.receipt(7, note).to_json())
    with pytest.raises(OpeningMismatchError):
        check_registered_before(bare, later, registry_keys=keys)
    body = parse_checkpoint(note).checkpoint
    untimed = log.receipt(7, sign_checkpoint(body, key, timestamped=False))
    with pytest.raises(CheckpointTimeMissingError):
        check_registered_before(untimed, later, registry_keys=keys)
    with pytest.raises(ValueError, match="timezone"):
        check_registered_before(
            log.receipt(7, note), datetime(2027, 1, 1), registry_keys=keys
        )


def test_a_trusted_witness_time_counts_an_untrusted_one_does_not(
    log: Log, keys: list[NoteKey], now: datetime
) -> None:
    witness_key = PrivateKey(KeyAlgorithm.ED25519, b"\x03" * 32)
    witness = NoteKey("witness.example/w1", witness_key.public_key)
    late = now + timedelta(days=10)
    early = now + timedelta(days=1)
    note = cosign_checkpoint(
        log.checkpoint(late), witness_key, name=witness.name, now=early
    )
    receipt = log.receipt(0, note)
    deadline = now + timedelta(days=5)
    verified = check_registered_before(
        receipt, deadline, registry_keys=keys, witness_keys=[witness]
    )
    assert verified.time == early
    with pytest.raises(RegisteredTooLateError):
        check_registered_before(receipt, deadline, registry_keys=keys)


# --- auditing -------------------------------------------------------------------


def _body(note: str) -> Checkpoint:
    return parse_checkpoint(note).checkpoint


def test_a_growing_log_is_consistent(log: Log, now: datetime) -> None:
    old = _body(log.checkpoint(now, size=3))
    for event in EVENTS:
        log.append(event)
    new = _body(log.checkpoint(now))
    check_consistency(old, new, consistency_proof(log.store, 3, new.tree_size))
    check_consistency(new, new, [])
    empty = _body(log.checkpoint(now, size=0))
    check_consistency(empty, new, [])


def test_rollback_fork_and_bad_proofs_are_told_apart(
    log: Log, key: PrivateKey, now: datetime
) -> None:
    old = _body(log.checkpoint(now))
    with pytest.raises(LogRollbackError) as rollback:
        check_consistency(old, _body(log.checkpoint(now, size=5)), [])
    assert rollback.value.code == "log.rollback"
    # A rewritten history: same origin, same size, a leaf changed.
    rewritten = Log(key)
    for event in [*EVENTS[:4], {"type": "registration", "serialNumber": "forged"}]:
        rewritten.append(event)
    for event in EVENTS[5:]:
        rewritten.append(event)
    fork = _body(rewritten.checkpoint(now))
    with pytest.raises(LogForkError):
        check_consistency(old, fork, [])
    # The rewritten log grows; its honest proof from old's size leads to its own
    # new root but not to the old root: a fork, not merely a bad proof.
    for event in EVENTS:
        rewritten.append(event)
    grown = _body(rewritten.checkpoint(now))
    proof = consistency_proof(rewritten.store, old.tree_size, grown.tree_size)
    with pytest.raises(LogForkError) as forked:
        check_consistency(old, grown, proof)
    assert forked.value.code == "log.fork"
    # A proof that leads nowhere is just invalid.
    for event in EVENTS:
        log.append(event)
    new = _body(log.checkpoint(now))
    good = consistency_proof(log.store, old.tree_size, new.tree_size)
    with pytest.raises(LogProofError):
        check_consistency(old, new, [hash_leaf(b"x"), *good[1:]])
    with pytest.raises(LogProofError):
        check_consistency(old, new, [])
    other = Checkpoint("other.example/log", new.tree_size, new.root_hash)
    with pytest.raises(LogOriginMismatchError):
        check_consistency(old, other, good)


def test_receipt_constructor_validates(now: datetime) -> None:
    with pytest.raises(ValueError, match="negative"):
        Receipt(-1, b"", "", ())
    with pytest.raises(TypeError):
        Receipt(True, b"", "", ())
    with pytest.raises(TypeError):
        Receipt(0, "data", "", ())  # type: ignore[arg-type]
    assert Receipt(0, b"", "", [b"x"]).inclusion_proof == (b"x",)  # type: ignore[arg-type]
    assert now.tzinfo is UTC


# --- witnessed receipts: refreshing the checkpoint, requiring witnesses ---------------

WITNESS = "witness.example/w1"
OTHER_WITNESS = "witness.example/w2"


@pytest.fixture
def witness_key() -> PrivateKey:
    return PrivateKey(KeyAlgorithm.ED25519, b"\x03" * 32)


@pytest.fixture
def witness(witness_key: PrivateKey) -> NoteKey:
    return NoteKey(WITNESS, witness_key.public_key)


def _lines(note: str) -> list[str]:
    return [sig.to_line() for sig in parse_checkpoint(note).signatures]


def _forged(note: str) -> str:
    """``note`` with its last signature line's last byte flipped."""
    parsed = parse_checkpoint(note)
    *rest, last = parsed.signatures
    blob = bytearray(last.signature)
    blob[-1] ^= 1
    line = type(last)(last.name, last.key_id, bytes(blob))
    return type(parsed)(parsed.checkpoint, (*rest, line)).to_note()


def test_refresh_receipt_takes_the_witnesses_cosignatures_of_the_same_checkpoint(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey, witness
) -> None:
    note = log.checkpoint(now)
    receipt = log.receipt(4, note)
    cosigned = cosign_checkpoint(
        note, witness_key, name=WITNESS, now=now + timedelta(minutes=1)
    )

    refreshed = refresh_receipt(receipt, cosigned, registry_keys=keys)

    assert refreshed.checkpoint == cosigned
    assert (refreshed.leaf_index, refreshed.leaf_data) == (4, receipt.leaf_data)
    assert refreshed.inclusion_proof == receipt.inclusion_proof
    assert refreshed.opening == receipt.opening
    verified = verify_receipt(refreshed, registry_keys=keys, witness_keys=[witness])
    assert [c.name for c in verified.witnesses] == [WITNESS]
    assert verified.event == EVENTS[4]
    # nothing new: the receipt comes back as it was
    assert refresh_receipt(receipt, note, registry_keys=keys) is receipt
    assert refresh_receipt(refreshed, cosigned, registry_keys=keys) is refreshed


def test_refresh_receipt_keeps_lines_the_new_note_lacks(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey
) -> None:
    note = log.checkpoint(now)
    other_key = PrivateKey(KeyAlgorithm.ED25519, b"\x04" * 32)
    first = cosign_checkpoint(note, witness_key, name=WITNESS, now=now)
    second = cosign_checkpoint(note, other_key, name=OTHER_WITNESS, now=now)
    receipt = refresh_receipt(log.receipt(0, note), first, registry_keys=keys)

    refreshed = refresh_receipt(receipt, second, registry_keys=keys)

    assert set(_lines(refreshed.checkpoint)) == set(_lines(first)) | set(_lines(second))
    assert len(_lines(refreshed.checkpoint)) == 4
    verify_receipt(refreshed, registry_keys=keys)


def test_refresh_receipt_refuses_a_note_of_another_checkpoint(
    log: Log, keys: list[NoteKey], key: PrivateKey, now: datetime
) -> None:
    note = log.checkpoint(now)
    receipt = log.receipt(2, note)
    body = parse_checkpoint(note).checkpoint
    other_size = log.checkpoint(now, size=5)
    other_root = sign_checkpoint(Checkpoint(ORIGIN, body.tree_size, bytes(32)), key)
    other_log = sign_checkpoint(
        Checkpoint("other.example/log", body.tree_size, body.root_hash), key
    )
    other_keys = [*keys, NoteKey("other.example/log", key.public_key)]

    for wrong, error, code in (
        (other_size, CheckpointMismatchError, "log.checkpoint-mismatch"),
        (other_root, LogForkError, "log.fork"),
    ):
        with pytest.raises(error) as caught:
            refresh_receipt(receipt, wrong, registry_keys=keys)
        assert caught.value.code == code
    with pytest.raises(LogOriginMismatchError):
        refresh_receipt(receipt, other_log, registry_keys=other_keys)


def test_refresh_receipt_refuses_a_note_the_registry_did_not_sign(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey, witness
) -> None:
    note = log.checkpoint(now)
    receipt = log.receipt(2, note)
    stranger = PrivateKey(KeyAlgorithm.ED25519, b"\x05" * 32)
    body = parse_checkpoint(note).checkpoint
    by_stranger = sign_checkpoint(body, stranger, now=now)
    cosigned = cosign_checkpoint(note, witness_key, name=WITNESS, now=now)

    with pytest.raises(UntrustedCheckpointError):
        refresh_receipt(receipt, by_stranger, registry_keys=keys)
    with pytest.raises(CheckpointSignatureError):
        refresh_receipt(receipt, _forged(note), registry_keys=keys)
    with pytest.raises(CheckpointSignatureError):  # a trusted witness's forged line
        refresh_receipt(
            receipt, _forged(cosigned), registry_keys=keys, witness_keys=[witness]
        )
    with pytest.raises(MalformedCheckpointError):
        refresh_receipt(receipt, "not a note\n", registry_keys=keys)


def test_a_required_witness_before_the_deadline_passes(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey, witness
) -> None:
    witnessed = now + timedelta(minutes=2)
    note = cosign_checkpoint(log.checkpoint(now), witness_key, name=WITNESS, now=now)
    note = cosign_checkpoint(note, witness_key, name=WITNESS, now=witnessed)
    receipt = log.receipt(1, note)
    deadline = witnessed + timedelta(seconds=1)

    verified = check_registered_before(
        receipt, deadline, registry_keys=keys, witness_keys=[witness]
    )

    assert [(c.name, c.time) for c in verified.witnessed_before(deadline)] == [
        (WITNESS, witnessed)
    ]
    assert verified.witnesses[0].key == witness
    assert verified.event == EVENTS[1]
    # explicitly none required: today's rule, the registry's time counts
    check_registered_before(
        receipt,
        now + timedelta(seconds=1),
        registry_keys=keys,
        witness_keys=[witness],
        required_witnesses=0,
    )


def test_a_required_witness_missing_late_untrusted_or_forged_fails(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey, witness
) -> None:
    deadline = now + timedelta(days=1)
    note = log.checkpoint(now)  # the registry's own time is early enough
    stranger = PrivateKey(KeyAlgorithm.ED25519, b"\x05" * 32)
    cases = {
        "none": note,
        "after": cosign_checkpoint(
            note, witness_key, name=WITNESS, now=deadline + timedelta(seconds=1)
        ),
        "at": cosign_checkpoint(note, witness_key, name=WITNESS, now=deadline),
        "untrusted": cosign_checkpoint(
            note, stranger, name="stranger.example", now=now
        ),
        "impostor": cosign_checkpoint(note, stranger, name=WITNESS, now=now),
    }
    for case, cosigned in cases.items():
        receipt = log.receipt(1, cosigned)
        check_registered_before(receipt, deadline, registry_keys=keys)  # as today
        with pytest.raises(InsufficientWitnessesError) as caught:
            check_registered_before(
                receipt, deadline, registry_keys=keys, witness_keys=[witness]
            )
        assert caught.value.code == "log.witnesses-insufficient", case
        assert caught.value.context["witnessed_before"] == 0
    forged = log.receipt(
        1, _forged(cosign_checkpoint(note, witness_key, name=WITNESS, now=now))
    )
    with pytest.raises(CheckpointSignatureError) as caught_forged:
        check_registered_before(
            forged, deadline, registry_keys=keys, witness_keys=[witness]
        )
    assert caught_forged.value.code == "log.signature-invalid"


def test_required_witnesses_counts_distinct_witness_keys(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey, witness
) -> None:
    other_key = PrivateKey(KeyAlgorithm.ED25519, b"\x04" * 32)
    other = NoteKey(OTHER_WITNESS, other_key.public_key)
    # the same witness key under a second name is still one witness
    alias = NoteKey("alias.example", witness_key.public_key)
    deadline = now + timedelta(days=1)
    one = cosign_checkpoint(log.checkpoint(now), witness_key, name=WITNESS, now=now)
    one = cosign_checkpoint(one, witness_key, name=alias.name, now=now)
    both = cosign_checkpoint(one, other_key, name=OTHER_WITNESS, now=now)
    trusted = [witness, alias, other]

    with pytest.raises(InsufficientWitnessesError) as caught:
        check_registered_before(
            log.receipt(0, one),
            deadline,
            registry_keys=keys,
            witness_keys=trusted,
            required_witnesses=2,
        )
    assert caught.value.context == {
        "required": 2,
        "witnessed_before": 1,
        "cosigned": 1,
        "deadline": int(deadline.timestamp()),
    }
    verified = check_registered_before(
        log.receipt(0, both),
        deadline,
        registry_keys=keys,
        witness_keys=trusted,
        required_witnesses=2,
    )
    assert len(verified.witnesses) == 2
    assert {c.key.public_key for c in verified.witnesses if c.key} == {
        witness_key.public_key,
        other_key.public_key,
    }


def test_required_witnesses_refuses_impossible_requirements(
    log: Log, keys: list[NoteKey], key: PrivateKey, now: datetime, witness
) -> None:
    receipt = log.receipt(0, log.checkpoint(now))
    later = now + timedelta(days=1)
    for witness_keys, required in (([], 1), ([witness], 2), ([witness], -1)):
        with pytest.raises(ValueError, match="witness"):
            check_registered_before(
                receipt,
                later,
                registry_keys=keys,
                witness_keys=witness_keys,
                required_witnesses=required,
            )
    registry_as_witness = NoteKey("witness.example/self", key.public_key)
    with pytest.raises(ValueError, match="registry"):
        check_registered_before(
            receipt, later, registry_keys=keys, witness_keys=[registry_as_witness]
        )


# --- moving a receipt to a later, witnessed checkpoint --------------------------------


def _grown(log: Log) -> tuple[Receipt, int]:
    """A receipt of leaf 3 at size 5, then the log grown past it."""
    receipt = log.receipt(3, log.checkpoint(datetime(2026, 1, 1, tzinfo=UTC), 5))
    for event in EVENTS:
        log.append(event)
    return receipt, log.store.size


def _advance(log: Log, receipt: Receipt, note: str, keys, **overrides) -> Receipt:
    size = parse_checkpoint(note).checkpoint.tree_size
    old = parse_checkpoint(receipt.checkpoint).checkpoint.tree_size
    arguments = {
        "inclusion_proof": inclusion_proof(log.store, receipt.leaf_index, size),
        "consistency_proof": consistency_proof(log.store, old, size),
        "registry_keys": keys,
    } | overrides
    return advance_receipt(receipt, note, **arguments)


def test_advance_receipt_moves_a_receipt_to_a_later_witnessed_checkpoint(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey, witness
) -> None:
    receipt, size = _grown(log)
    witnessed = now + timedelta(hours=1)
    later = cosign_checkpoint(
        log.checkpoint(now), witness_key, name=WITNESS, now=witnessed
    )
    deadline = witnessed + timedelta(seconds=1)
    with pytest.raises(InsufficientWitnessesError):
        check_registered_before(
            receipt, deadline, registry_keys=keys, witness_keys=[witness]
        )

    moved = _advance(log, receipt, later, keys, witness_keys=[witness])

    assert moved.checkpoint == later
    assert (moved.leaf_index, moved.leaf_data) == (3, receipt.leaf_data)
    assert moved.opening == receipt.opening
    assert moved.inclusion_proof == tuple(inclusion_proof(log.store, 3, size))
    verified = check_registered_before(
        moved, deadline, registry_keys=keys, witness_keys=[witness]
    )
    assert verified.checkpoint.checkpoint.tree_size == size
    assert verified.event == EVENTS[3]
    # the later bound is still a true one, not an earlier one
    with pytest.raises(InsufficientWitnessesError):
        check_registered_before(
            moved, witnessed, registry_keys=keys, witness_keys=[witness]
        )


def test_advance_receipt_to_the_same_size_merges_as_refresh_does(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey
) -> None:
    note = log.checkpoint(now)
    receipt = log.receipt(2, note)
    cosigned = cosign_checkpoint(note, witness_key, name=WITNESS, now=now)

    moved = advance_receipt(
        receipt,
        cosigned.encode(),
        inclusion_proof=(),
        consistency_proof=(),
        registry_keys=keys,
    )

    assert moved == refresh_receipt(receipt, cosigned, registry_keys=keys)


def test_advance_receipt_refuses_a_smaller_tree_or_another_log(
    log: Log, keys: list[NoteKey], key: PrivateKey, now: datetime
) -> None:
    receipt = log.receipt(3, log.checkpoint(now))
    smaller = log.checkpoint(now, size=5)
    with pytest.raises(LogRollbackError) as rollback:
        advance_receipt(
            receipt,
            smaller,
            inclusion_proof=inclusion_proof(log.store, 3, 5),
            consistency_proof=(),
            registry_keys=keys,
        )
    assert rollback.value.code == "log.rollback"

    receipt, size = _grown(log)
    other = sign_checkpoint(
        Checkpoint("other.example/log", size, root_at(log.store, size)), key, now=now
    )
    other_keys = [*keys, NoteKey("other.example/log", key.public_key)]
    with pytest.raises(LogOriginMismatchError):
        _advance(log, receipt, other, other_keys)


def test_advance_receipt_refuses_a_note_the_registry_did_not_sign(
    log: Log, keys: list[NoteKey], now: datetime, witness_key: PrivateKey, witness
) -> None:
    receipt, size = _grown(log)
    later = log.checkpoint(now)
    stranger = PrivateKey(KeyAlgorithm.ED25519, b"\x05" * 32)
    by_stranger = sign_checkpoint(parse_checkpoint(later).checkpoint, stranger)
    cosigned = cosign_checkpoint(later, witness_key, name=WITNESS, now=now)

    with pytest.raises(UntrustedCheckpointError):
        _advance(log, receipt, by_stranger, keys)
    with pytest.raises(CheckpointSignatureError):
        _advance(log, receipt, _forged(later), keys)
    with pytest.raises(CheckpointSignatureError):  # a trusted witness's forged line
        _advance(log, receipt, _forged(cosigned), keys, witness_keys=[witness])
    with pytest.raises(MalformedCheckpointError):
        advance_receipt(
            receipt,
            "not a note\n",
            inclusion_proof=inclusion_proof(log.store, 3, size),
            consistency_proof=consistency_proof(log.store, 5, size),
            registry_keys=keys,
        )


def test_advance_receipt_refuses_a_wrong_inclusion_proof(
    log: Log, keys: list[NoteKey], now: datetime
) -> None:
    receipt, size = _grown(log)
    later = log.checkpoint(now)
    for wrong in (
        inclusion_proof(log.store, 2, size),  # another leaf's path
        inclusion_proof(log.store, 3, 5),  # the old tree's path
        (),
    ):
        with pytest.raises(LogProofError) as caught:
            _advance(log, receipt, later, keys, inclusion_proof=wrong)
        assert caught.value.context["kind"] == "inclusion"
    # a kept receipt that does not verify is not moved either
    broken = Receipt(3, hash_leaf(b"x"), receipt.checkpoint, receipt.inclusion_proof)
    with pytest.raises(LogProofError):
        _advance(log, broken, later, keys)


def test_advance_receipt_refuses_a_later_root_that_does_not_extend_the_receipts(
    log: Log, keys: list[NoteKey], key: PrivateKey, now: datetime
) -> None:
    receipt, _ = _grown(log)
    # A rewritten history, signed by the registry: leaf 1 changed, then grown.
    rewritten = Log(key)
    rewritten.append({"type": "registration", "serialNumber": "SN-0"})
    rewritten.append({"type": "registration", "serialNumber": "forged"})
    for leaf in log.leaves[2:]:
        rewritten.store.append_data(leaf)
    forked = rewritten.checkpoint(now)

    with pytest.raises(LogForkError) as caught:
        _advance(rewritten, receipt, forked, keys)  # its honest proofs
    assert caught.value.code == "log.fork"
    with pytest.raises(LogProofError) as bad:
        _advance(log, receipt, log.checkpoint(now), keys, consistency_proof=())
    assert bad.value.context["kind"] == "consistency"
