"""The transparency log in the registry, on SQLite and PostgreSQL (issue 9).

Registration answers with a receipt that verifies offline; checkpoints grow
consistently; an edited row is found by ``verify_log``; a rewritten or rolled-back
history is found by an auditor; concurrent appends keep indices contiguous.
"""

import base64
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, func, select

from did_vault import (
    LogForkError,
    LogRollbackError,
    Opening,
    Receipt,
    check_consistency,
    check_registered_before,
    hash_leaf,
    parse_checkpoint,
    verify_checkpoint,
    verify_inclusion,
    verify_receipt,
)
from registry import log
from registry.audit import audit
from registry.client import RegistryClient
from registry.errors import LogCorruptError
from registry.identity import RegistryIdentity
from registry.log_models import LogCheckpoint, LogLeaf, LogNode
from registry.models import TrustEntryCreate, TrustRole
from registry.serial_keys import SerialKey
from registry.trust import add_entry, remove_entry

from .conftest import START

SERIAL = "8KQ2-00042X"
THREADS = 24


def _subject(serial: str) -> dict[str, Any]:
    return {
        "id": "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2",
        "type": "IndividualProduct",
        "name": "55-inch 4K television",
        "gtin": "09520123456788",
        "serialNumber": serial,
        "brand": {"type": "Brand", "name": "Example Vision"},
        "model": "EV-55Q8",
    }


EVIDENCE = [
    {
        "type": "ReceiptEvidence",
        "id": "urn:uuid:6f1c3a52-0d8e-4b7a-9f3e-000000000099",
        "digestMultibase": "uEiBvMoYJEMoPsqIMf9oUNmawnb-NtSOBlckKWG-1Qv8MrQ",
    }
]


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app(max_body_bytes=65_536)
    app.state.serial_key = SerialKey(bytes(range(32)))
    return app


@pytest.fixture
def owner_token(client, holder, authenticate) -> str:
    return str(authenticate(client, holder))


def _register(client, token: str, serial: str) -> dict[str, Any]:
    response = client.post(
        "/v1/items",
        json={"self_asserted": {"item": _subject(serial), "evidence": EVIDENCE}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _event(n: int) -> dict[str, Any]:
    return log.make_event(log.EventType.TRANSFER, time=START, itemId=f"item-{n}")


def _append(engine: Engine, identity: RegistryIdentity, count: int) -> None:
    with Session(engine) as session:
        for n in range(count):
            log.log_event(session, _event(n), identity=identity, now=START)
        session.commit()


# --- registration receipts ------------------------------------------------------------


def test_registration_returns_a_receipt_that_verifies_offline(
    client, owner_token, identity
):
    body = _register(client, owner_token, SERIAL)

    receipt = Receipt.from_json(body["receipt"])
    opening = Opening.from_json(body["opening"])
    keys = [log.note_key_of(identity)]
    verified = verify_receipt(receipt, registry_keys=keys, opening=opening)
    assert verified.time == START
    check_registered_before(
        receipt, START + timedelta(seconds=1), registry_keys=keys, opening=opening
    )
    assert opening.event == {
        "type": "registration",
        "time": "2026-11-23T12:00:00Z",
        "itemId": body["item"]["id"],
        "ownershipId": body["item"]["ownership_id"],
    }
    assert SERIAL not in str(body["receipt"])


def test_ownership_credential_carries_the_registry_receipt(
    client, owner_token, identity
):
    body = _register(client, owner_token, SERIAL)

    carried = body["credential"]["credentialSubject"]["owns"]["registryReceipt"]
    receipt = body["receipt"]
    assert carried == {
        "logIndex": receipt["leafIndex"],
        "treeSize": parse_checkpoint(receipt["checkpoint"]).checkpoint.tree_size,
        "checkpoint": receipt["checkpoint"],
        "inclusionProof": receipt["inclusionProof"],
    }
    # The receipt rebuilt from the credential and the owner's opening verifies.
    opening = Opening.from_json(body["opening"])
    rebuilt = Receipt(
        carried["logIndex"],
        opening.commitment(),
        carried["checkpoint"],
        tuple(_b64(h) for h in carried["inclusionProof"]),
    )
    verify_receipt(rebuilt, registry_keys=[log.note_key_of(identity)], opening=opening)


def test_sd_jwt_ownership_credential_carries_the_receipt_as_a_disclosure(
    client, owner_token
):
    from did_vault import SDJWT

    body = _register(client, owner_token, SERIAL)

    parsed = SDJWT.parse(body["sd_jwt_credential"])
    assert ("registryReceipt",) in parsed.paths()  # disclosed only by choice
    carried = parsed.claims()["registryReceipt"]
    assert carried == body["credential"]["credentialSubject"]["owns"]["registryReceipt"]


def test_receipt_is_against_the_first_checkpoint_covering_the_event(
    client, owner_token, identity
):
    first = _register(client, owner_token, "A-1")
    second = _register(client, owner_token, "A-2")

    assert first["receipt"]["leafIndex"] == 0
    assert second["receipt"]["leafIndex"] == 1
    assert parse_checkpoint(first["receipt"]["checkpoint"]).checkpoint.tree_size == 1
    assert parse_checkpoint(second["receipt"]["checkpoint"]).checkpoint.tree_size == 2


def test_refused_registration_logs_nothing(client, owner_token, registry_engine):
    _register(client, owner_token, SERIAL)
    again = client.post(
        "/v1/items",
        json={"self_asserted": {"item": _subject(SERIAL), "evidence": EVIDENCE}},
        headers={"Authorization": f"Bearer {owner_token}"},
    )

    assert again.status_code == 409
    with Session(registry_engine) as session:
        assert log.log_size(session) == 1


# --- checkpoints and proofs over HTTP -------------------------------------------------


def test_successive_checkpoints_are_consistent(client, owner_token, identity):
    keys = [log.note_key_of(identity)]
    seen = []
    for n in range(5):
        _register(client, owner_token, f"S-{n}")
        note = client.get("/v1/log/checkpoint")
        assert note.status_code == 200
        assert note.headers["content-type"].startswith("text/plain")
        seen.append(verify_checkpoint(note.text, verifier_keys=keys).checkpoint)

    for i, old in enumerate(seen):
        for new in seen[i:]:
            answer = client.get(
                "/v1/log/proof/consistency",
                params={"old_size": old.tree_size, "new_size": new.tree_size},
            )
            assert answer.status_code == 200, answer.text
            check_consistency(old, new, [_b64(h) for h in answer.json()["proof"]])
    by_size = client.get(f"/v1/log/checkpoint/{seen[2].tree_size}")
    assert verify_checkpoint(by_size.text, verifier_keys=keys).checkpoint == seen[2]


def test_inclusion_proofs_and_leaves_match_the_checkpoint(
    client, owner_token, identity
):
    for n in range(3):
        _register(client, owner_token, f"I-{n}")
    note = client.get("/v1/log/checkpoint").text
    head = verify_checkpoint(note, verifier_keys=[log.note_key_of(identity)])
    leaves = client.get("/v1/log/leaves", params={"start": 0, "end": 3}).json()

    assert [leaf["index"] for leaf in leaves["data"]] == [0, 1, 2]
    for leaf in leaves["data"]:
        assert _b64(leaf["leaf_hash"]) == hash_leaf(_b64(leaf["leaf_data"]))
        proof = client.get(
            "/v1/log/proof/inclusion",
            params={"leaf_index": leaf["index"], "tree_size": 3},
        ).json()
        verify_inclusion(
            _b64(leaf["leaf_hash"]),
            [_b64(h) for h in proof["proof"]],
            leaf_index=leaf["index"],
            tree_size=3,
            root=head.checkpoint.root_hash,
        )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/log/proof/inclusion", {"leaf_index": 1, "tree_size": 1}),
        ("/v1/log/proof/inclusion", {"leaf_index": 0, "tree_size": 9}),
        ("/v1/log/proof/consistency", {"old_size": 2, "new_size": 1}),
        ("/v1/log/proof/consistency", {"old_size": 1, "new_size": 9}),
        ("/v1/log/leaves", {"start": 0, "end": 9}),
        ("/v1/log/leaves", {"start": 1, "end": 1}),
        ("/v1/log/leaves", {"start": 0, "end": 1 + log.MAX_LEAVES_PER_PAGE}),
    ],
)
def test_out_of_range_requests_are_refused(
    client, owner_token, assert_problem, path, params
):
    _register(client, owner_token, "R-1")
    _register(client, owner_token, "R-2")

    assert_problem(
        client.get(path, params=params), status=400, code="log.range-invalid"
    )


def test_empty_log_has_no_checkpoint(client, assert_problem):
    assert_problem(
        client.get("/v1/log/checkpoint"), status=404, code="log.checkpoint-not-found"
    )
    assert_problem(
        client.get("/v1/log/checkpoint/3"), status=404, code="log.checkpoint-not-found"
    )


def test_trust_list_changes_are_logged(registry_engine, identity):
    with Session(registry_engine) as session:
        entry = add_entry(
            session=session,
            entry_in=TrustEntryCreate(did="did:web:police.test", role=TrustRole.POLICE),
            now=START,
        )
        assert entry.id is not None
        remove_entry(session=session, entry_id=entry.id, now=START)
        session.commit()
    with Session(registry_engine) as session:
        assert log.log_size(session) == 2
        report = log.verify_log(session, identity=identity, now=START)
        session.commit()
    assert report.signed_tail == 2


# --- tampering ------------------------------------------------------------------------


def test_verify_log_accepts_an_intact_log(registry_engine, identity):
    _append(registry_engine, identity, 11)
    with Session(registry_engine) as session:
        report = log.verify_log(session, identity=identity, now=START)

    assert (report.size, report.checkpoints, report.latest_checkpoint) == (11, 11, 11)
    assert report.signed_tail is None


@pytest.mark.parametrize(
    ("table", "where", "column"),
    [
        pytest.param(LogLeaf, LogLeaf.index == 3, "leaf_data", id="leaf-data"),
        pytest.param(LogLeaf, LogLeaf.index == 3, "leaf_hash", id="leaf-hash"),
        pytest.param(
            LogNode,
            (LogNode.level == 1) & (LogNode.position == 2),
            "hash",
            id="inner-node",
        ),
        pytest.param(
            LogNode,
            (LogNode.level == 0) & (LogNode.position == 9),
            "hash",
            id="leaf-node",
        ),
        pytest.param(
            LogCheckpoint, LogCheckpoint.tree_size == 6, "root_hash", id="checkpoint"
        ),
    ],
)
def test_a_row_edited_behind_the_registrys_back_is_detected(
    registry_engine, identity, table, where, column
):
    _append(registry_engine, identity, 11)
    with Session(registry_engine) as session:
        session.execute(update(table).where(where).values({column: b"\x42" * 32}))
        session.commit()

    with Session(registry_engine) as session, pytest.raises(LogCorruptError):
        log.verify_log(session, identity=identity, now=START)


def test_a_consistently_rewritten_leaf_is_detected(registry_engine, identity):
    _append(registry_engine, identity, 11)
    forged = b"\x42" * 32
    with Session(registry_engine) as session:
        session.execute(
            update(LogLeaf)
            .where(col(LogLeaf.index) == 3)
            .values(leaf_data=forged, leaf_hash=hash_leaf(forged))
        )
        session.execute(
            update(LogNode)
            .where((col(LogNode.level) == 0) & (col(LogNode.position) == 3))
            .values(hash=hash_leaf(forged))
        )
        session.commit()

    with Session(registry_engine) as session, pytest.raises(LogCorruptError):
        log.verify_log(session, identity=identity, now=START)


def test_an_edited_node_stops_new_checkpoints(registry_engine, identity):
    _append(registry_engine, identity, 4)
    with Session(registry_engine) as session:
        session.execute(
            update(LogNode)
            .where((col(LogNode.level) == 2) & (col(LogNode.position) == 0))
            .values(hash=b"\x00" * 32)
        )
        session.commit()

    with Session(registry_engine) as session, pytest.raises(LogCorruptError):
        log.log_event(session, _event(99), identity=identity, now=START)


def test_verify_log_signs_an_unsigned_tail_consistent_with_the_last_checkpoint(
    registry_engine, identity
):
    _append(registry_engine, identity, 5)
    with Session(registry_engine) as session:
        for n in range(3):  # appended, then a crash before any checkpoint
            log.append_event(session, _event(n), now=START)
        session.commit()
    with Session(registry_engine) as session:
        report = log.verify_log(session, identity=identity, now=START)
        session.commit()

    assert report.signed_tail == 8
    keys = [log.note_key_of(identity)]
    with Session(registry_engine) as session:
        old = verify_checkpoint(log.checkpoint_note(session, 5), verifier_keys=keys)
        new = verify_checkpoint(log.checkpoint_note(session), verifier_keys=keys)
        proof = log.consistency(session, old_size=5, new_size=8)
    check_consistency(old.checkpoint, new.checkpoint, proof)


def _rewrite_history(engine: Engine, identity: RegistryIdentity, size: int) -> None:
    """What a dishonest operator does: drop the log and rebuild another."""
    with Session(engine) as session:
        for table in (LogCheckpoint, LogNode, LogLeaf):
            session.execute(delete(table))
        session.commit()
    _append(engine, identity, size)


def test_an_auditor_detects_a_rewritten_history(registry_engine, identity):
    _append(registry_engine, identity, 5)
    keys = [log.note_key_of(identity)]
    with Session(registry_engine) as session:
        old = verify_checkpoint(log.checkpoint_note(session), verifier_keys=keys)
    _rewrite_history(registry_engine, identity, 7)
    with Session(registry_engine) as session:
        new = verify_checkpoint(log.checkpoint_note(session), verifier_keys=keys)
        proof = log.consistency(session, old_size=5, new_size=7)

    with pytest.raises(LogForkError):
        check_consistency(old.checkpoint, new.checkpoint, proof)


def test_an_auditor_detects_a_rollback(registry_engine, identity):
    _append(registry_engine, identity, 6)
    keys = [log.note_key_of(identity)]
    with Session(registry_engine) as session:
        old = verify_checkpoint(log.checkpoint_note(session), verifier_keys=keys)
    _rewrite_history(registry_engine, identity, 3)
    with Session(registry_engine) as session:
        new = verify_checkpoint(log.checkpoint_note(session), verifier_keys=keys)

    with pytest.raises(LogRollbackError):
        check_consistency(old.checkpoint, new.checkpoint, [])


# --- concurrency ----------------------------------------------------------------------


def test_concurrent_appends_keep_indices_contiguous_and_checkpoints_consistent(
    registry_engine, identity
):
    errors: list[BaseException] = []
    indices: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        try:
            start.wait()
            with Session(registry_engine) as session:
                logged = log.log_event(session, _event(n), identity=identity, now=START)
                session.commit()
            with lock:
                indices.append(logged.leaf_index)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(indices) == list(range(THREADS))
    keys = [log.note_key_of(identity)]
    with Session(registry_engine) as session:
        assert session.exec(select(func.count()).select_from(LogLeaf)).one() == THREADS
        notes = session.exec(
            select(LogCheckpoint.note).order_by(col(LogCheckpoint.tree_size))
        ).all()
        heads = [verify_checkpoint(n, verifier_keys=keys).checkpoint for n in notes]
        assert [h.tree_size for h in heads] == sorted({h.tree_size for h in heads})
        for i, old in enumerate(heads):
            for new in heads[i + 1 :]:
                proof = log.consistency(
                    session, old_size=old.tree_size, new_size=new.tree_size
                )
                check_consistency(old, new, proof)
        report = log.verify_log(session, identity=identity, now=START)
    assert report.size == THREADS


# --- the auditor against the served app -----------------------------------------------


def test_auditor_follows_the_served_log_and_detects_a_rewrite(
    client, owner_token, registry_engine, identity
):
    registry_client = RegistryClient(client)
    for n in range(5):
        _register(client, owner_token, f"U-{n}")
    first = audit(registry_client, None)
    assert (first.first_use, first.new_size) == (True, 5)
    assert first.state.vkey == log.note_key_of(identity).to_vkey()
    for n in range(2):
        _register(client, owner_token, f"V-{n}")
    second = audit(registry_client, first.state)
    assert (second.old_size, second.new_size) == (5, 7)

    _rewrite_history(registry_engine, identity, 9)

    with pytest.raises(LogForkError):
        audit(registry_client, second.state)
