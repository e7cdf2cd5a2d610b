"""Witness cosignatures in the registry, on SQLite and PostgreSQL (design note 0006).

A trusted witness's cosignature of a stored checkpoint is kept once per tree size
and served on the checkpoint endpoints; an untrusted witness, a forged line, a
checkpoint the registry did not sign (or of a size it does not have) and an
impossible time are refused; ``registry witness --submit`` hands it in end to end.
"""

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli import registry_main
from did_vault import (
    Checkpoint,
    NoteKey,
    PrivateKey,
    cosign_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from registry import log, log_witnesses
from registry.client import RegistryClient
from registry.identity import RegistryIdentity, write_key_file
from registry.log_models import LogCosignature

from .conftest import START

WITNESS = "witness.example/w1"
OTHER = "witness.example/w2"


def _append(engine: Engine, identity: RegistryIdentity, count: int) -> None:
    with Session(engine) as session:
        for n in range(count):
            event = log.make_event(
                log.EventType.TRANSFER, time=START, itemId=f"item-{n}"
            )
            log.log_event(session, event, identity=identity, now=START)
        session.commit()


def _trust(engine: Engine, name: str, key: PrivateKey) -> str:
    vkey = NoteKey(name, key.public_key).to_vkey()
    with Session(engine) as session:
        log_witnesses.add_witness(session=session, vkey=vkey, now=START)
        session.commit()
    return vkey


def _post(client, note: str) -> Any:
    return client.post(
        "/v1/log/cosignatures",
        content=note.encode(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )


def _stored(engine: Engine) -> list[LogCosignature]:
    with Session(engine) as session:
        return list(session.exec(select(LogCosignature)).all())


@pytest.fixture
def witness_key() -> PrivateKey:
    return PrivateKey.generate()


@pytest.fixture
def logged(registry_engine, identity) -> str:
    """A log of three leaves and its checkpoint, as the registry serves it."""
    _append(registry_engine, identity, 3)
    with Session(registry_engine) as session:
        return log.checkpoint_note(session, 3)


def test_a_trusted_witness_cosignature_is_stored_and_served(
    client, registry_engine, identity, witness_key, logged
):
    vkey = _trust(registry_engine, WITNESS, witness_key)
    cosigned = cosign_checkpoint(logged, witness_key, name=WITNESS, now=START)

    response = _post(client, cosigned)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["origin"], body["tree_size"], body["ignored"]) == (
        log.origin_of(identity),
        3,
        0,
    )
    assert body["cosignatures"] == [
        {
            "witness": WITNESS,
            "vkey": vkey,
            "time": START.isoformat().replace("+00:00", "Z"),
            "stored": True,
        }
    ]
    witness_keys = [NoteKey(WITNESS, witness_key.public_key)]
    for path in ("/v1/log/checkpoint", "/v1/log/checkpoint/3"):
        served = client.get(path)
        assert served.status_code == 200, served.text
        assert served.text == cosigned
        checked = verify_checkpoint(
            served.text,
            verifier_keys=[log.note_key_of(identity)],
            witness_keys=witness_keys,
        )
        assert [c.name for c in checked.cosignatures if not c.by_log] == [WITNESS]


def test_a_repeat_is_idempotent_and_the_first_cosignature_stays(
    client, registry_engine, identity, witness_key, logged, clock
):
    _trust(registry_engine, WITNESS, witness_key)
    first = cosign_checkpoint(logged, witness_key, name=WITNESS, now=START)
    assert _post(client, first).status_code == 200
    clock.advance(60)
    later = cosign_checkpoint(
        logged, witness_key, name=WITNESS, now=START + timedelta(seconds=30)
    )

    again, other_time = _post(client, first), _post(client, later)

    assert again.status_code == other_time.status_code == 200
    assert [c["stored"] for c in again.json()["cosignatures"]] == [False]
    assert other_time.json()["cosignatures"][0]["time"] == "2026-11-23T12:00:00Z"
    assert len(_stored(registry_engine)) == 1
    assert client.get("/v1/log/checkpoint/3").text == first


def test_cosignatures_of_several_witnesses_are_served_together(
    client, registry_engine, identity, witness_key, logged
):
    other_key = PrivateKey.generate()
    _trust(registry_engine, WITNESS, witness_key)
    _trust(registry_engine, OTHER, other_key)
    assert _post(
        client, cosign_checkpoint(logged, witness_key, name=WITNESS, now=START)
    ).is_success
    served = client.get("/v1/log/checkpoint").text
    # The second witness cosigns what the registry serves, the first's line included.
    both = cosign_checkpoint(served, other_key, name=OTHER, now=START)

    response = _post(client, both)

    assert response.status_code == 200, response.text
    assert [(c["witness"], c["stored"]) for c in response.json()["cosignatures"]] == [
        (WITNESS, False),
        (OTHER, True),
    ]
    checked = verify_checkpoint(
        client.get("/v1/log/checkpoint/3").text,
        verifier_keys=[log.note_key_of(identity)],
        witness_keys=[
            NoteKey(WITNESS, witness_key.public_key),
            NoteKey(OTHER, other_key.public_key),
        ],
    )
    assert sorted(c.name for c in checked.cosignatures if not c.by_log) == [
        WITNESS,
        OTHER,
    ]


def test_an_untrusted_witness_is_refused_and_its_line_ignored(
    client, registry_engine, witness_key, logged, assert_problem
):
    stranger = PrivateKey.generate()
    _trust(registry_engine, WITNESS, witness_key)
    alone = cosign_checkpoint(logged, stranger, name="stranger.example", now=START)
    # The same name as a trusted witness, another key: an unknown line too.
    impostor = cosign_checkpoint(logged, stranger, name=WITNESS, now=START)

    for note in (alone, impostor):
        assert_problem(_post(client, note), status=422, code="witness.untrusted")

    mixed = cosign_checkpoint(alone, witness_key, name=WITNESS, now=START)
    response = _post(client, mixed)
    assert response.status_code == 200, response.text
    assert response.json()["ignored"] == 1
    assert client.get("/v1/log/checkpoint/3").text.count("stranger.example") == 0


def test_a_forged_cosignature_is_refused(
    client, registry_engine, witness_key, logged, assert_problem
):
    _trust(registry_engine, WITNESS, witness_key)
    parsed = parse_checkpoint(
        cosign_checkpoint(logged, witness_key, name=WITNESS, now=START)
    )
    *rest, line = parsed.signatures
    blob = bytearray(line.signature)
    blob[-1] ^= 1
    forged = type(parsed)(
        parsed.checkpoint, (*rest, type(line)(line.name, line.key_id, bytes(blob)))
    ).to_note()

    assert_problem(_post(client, forged), status=422, code="log.signature-invalid")
    assert _stored(registry_engine) == []


def test_a_checkpoint_the_registry_did_not_sign_is_refused(
    client, registry_engine, identity, witness_key, logged, assert_problem
):
    _trust(registry_engine, WITNESS, witness_key)
    body = parse_checkpoint(logged).checkpoint
    by_another_key = sign_checkpoint(body, PrivateKey.generate(), now=START)
    other_root = sign_checkpoint(
        Checkpoint(body.origin, body.tree_size, bytes(32)), identity.key, now=START
    )

    for note, status, code in (
        (by_another_key, 422, "log.checkpoint-untrusted"),
        (other_root, 422, "log.checkpoint-unknown"),
        ("not a note\n", 400, "log.checkpoint-malformed"),
    ):
        cosigned = (
            cosign_checkpoint(note, witness_key, name=WITNESS, now=START)
            if note.startswith(body.origin)
            else note
        )
        assert_problem(_post(client, cosigned), status=status, code=code)
    assert _stored(registry_engine) == []


def test_a_tree_size_the_registry_does_not_have_is_refused(
    client, registry_engine, identity, witness_key, logged, assert_problem
):
    _trust(registry_engine, WITNESS, witness_key)
    body = parse_checkpoint(logged).checkpoint
    for size in (4, 2**40):  # beyond the log
        note = sign_checkpoint(
            Checkpoint(body.origin, size, body.root_hash), identity.key, now=START
        )
        cosigned = cosign_checkpoint(note, witness_key, name=WITNESS, now=START)
        assert_problem(
            _post(client, cosigned), status=404, code="log.checkpoint-not-found"
        )


def test_a_cosignature_time_out_of_bounds_is_refused(
    client, registry_engine, witness_key, logged, assert_problem
):
    _trust(registry_engine, WITNESS, witness_key)
    skew = log_witnesses.CLOCK_SKEW + timedelta(seconds=1)
    for when in (START + skew, START - skew):
        cosigned = cosign_checkpoint(logged, witness_key, name=WITNESS, now=when)
        assert_problem(_post(client, cosigned), status=422, code="witness.time-invalid")
    within = cosign_checkpoint(
        logged, witness_key, name=WITNESS, now=START + log_witnesses.CLOCK_SKEW
    )
    assert _post(client, within).status_code == 200


def test_an_oversized_note_is_refused(make_app, witness_key, logged, assert_problem):
    app = make_app(max_body_bytes=1024 * 1024)
    with TestClient(app, raise_server_exceptions=False) as client:
        note = "x" * (log_witnesses.MAX_NOTE_BYTES + 1)
        assert_problem(_post(client, note), status=413, code="request.too-large")


def test_a_removed_witness_is_no_longer_served(
    client, registry_engine, witness_key, logged
):
    _trust(registry_engine, WITNESS, witness_key)
    assert _post(
        client, cosign_checkpoint(logged, witness_key, name=WITNESS, now=START)
    ).is_success
    with Session(registry_engine) as session:
        log_witnesses.remove_witness(session=session, name_or_vkey=WITNESS)
        session.commit()

    assert client.get("/v1/log/checkpoint/3").text == logged
    assert len(_stored(registry_engine)) == 1


def test_registry_witness_submit_hands_the_cosignature_in(
    app, client, registry_engine, identity, witness_key, tmp_path, monkeypatch
):
    key_file, state = tmp_path / "witness.key", tmp_path / "witness.json"
    write_key_file(key_file, witness_key)
    _trust(registry_engine, WITNESS, witness_key)
    monkeypatch.setattr(
        RegistryClient, "connect", classmethod(lambda cls, url: cls(client))
    )
    # The CLI cosigns with the wall clock: the checkpoint must not look newer.
    monkeypatch.setattr(registry_main, "_now", lambda: START + timedelta(seconds=5))
    _append(registry_engine, identity, 4)
    arguments = [
        "witness",
        "--registry",
        "http://registry.test",
        "--key-file",
        str(key_file),
        "--state-file",
        str(state),
        "--log-key",
        log.note_key_of(identity).to_vkey(),
        "--name",
        WITNESS,
        "--submit",
        "--json",
    ]

    result = CliRunner().invoke(registry_main.app, arguments)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["submitted"]["tree_size"] == 4
    assert [c["stored"] for c in document["submitted"]["cosignatures"]] == [True]
    with TestClient(app, raise_server_exceptions=False) as fresh:  # CLI closed it
        assert fresh.get("/v1/log/checkpoint").text == document["note"]


def test_registry_witness_submit_refused_still_prints_the_note(
    client, registry_engine, identity, witness_key, tmp_path, monkeypatch
):
    key_file, state = tmp_path / "witness.key", tmp_path / "witness.json"
    write_key_file(key_file, witness_key)
    monkeypatch.setattr(
        RegistryClient, "connect", classmethod(lambda cls, url: cls(client))
    )
    monkeypatch.setattr(registry_main, "_now", lambda: START)
    _append(registry_engine, identity, 2)
    arguments = [
        "witness",
        "--registry",
        "http://registry.test",
        "--key-file",
        str(key_file),
        "--state-file",
        str(state),
        "--log-key",
        log.note_key_of(identity).to_vkey(),
        "--name",
        WITNESS,
        "--submit",
    ]

    result = CliRunner().invoke(registry_main.app, arguments)

    assert result.exit_code == 65, result.output
    assert parse_checkpoint(result.stdout).checkpoint.tree_size == 2
    assert "witness.untrusted" in result.stderr
