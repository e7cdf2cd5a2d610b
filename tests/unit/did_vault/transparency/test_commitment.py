"""Salted event commitments: binding, hiding, and the opening the owner keeps."""

import hashlib
import json

import pytest

from did_vault.errors import (
    CanonicalizationError,
    MalformedReceiptError,
    OpeningMismatchError,
)
from did_vault.primitives.jcs import canonicalize
from did_vault.transparency.commitment import (
    COMMITMENT_TAG,
    Opening,
    commit,
    verify_opening,
)
from did_vault.transparency.merkle import hash_leaf

SALT = bytes(range(32))
EVENT = {
    "type": "registration",
    "item": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    "serialNumber": "SN-000123",
    "owner": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "price": {"amount": "1299.00", "currency": "EUR"},
}


def test_commitment_is_the_documented_hash() -> None:
    leaf, opening = commit(EVENT, salt=SALT)
    expected = hashlib.sha256(
        b"did-vault/event/v1\x00" + SALT + canonicalize(EVENT)
    ).digest()
    assert COMMITMENT_TAG == b"did-vault/event/v1\x00"
    assert leaf == expected
    assert len(leaf) == 32
    assert opening.commitment() == leaf
    assert verify_opening(leaf, opening) == EVENT


def test_member_order_does_not_matter_but_content_does() -> None:
    reordered = dict(reversed(list(EVENT.items())))
    assert commit(reordered, salt=SALT)[0] == commit(EVENT, salt=SALT)[0]
    changed = {**EVENT, "serialNumber": "SN-000124"}
    assert commit(changed, salt=SALT)[0] != commit(EVENT, salt=SALT)[0]


def test_an_opening_opens_only_its_own_commitment() -> None:
    leaf, opening = commit(EVENT, salt=SALT)
    other_salt = Opening(bytes(32), opening.canonical_event)
    other_event = Opening(SALT, canonicalize({**EVENT, "price": None}))
    for wrong in (other_salt, other_event):
        with pytest.raises(OpeningMismatchError) as caught:
            verify_opening(leaf, wrong)
        assert caught.value.code == "log.opening-invalid"
    with pytest.raises(OpeningMismatchError):
        verify_opening(hash_leaf(leaf), opening)
    with pytest.raises(TypeError):
        verify_opening(leaf, {"salt": SALT})  # type: ignore[arg-type]


def test_fresh_salts_make_equal_events_unlinkable() -> None:
    first, a = commit(EVENT)
    second, b = commit(EVENT)
    assert first != second
    assert a.salt != b.salt
    assert len(a.salt) == 32


def test_the_opening_keeps_its_secrets_out_of_repr() -> None:
    _, opening = commit(EVENT, salt=SALT)
    shown = repr(opening)
    assert "SN-000123" not in shown
    assert SALT.hex() not in shown
    assert str(SALT) not in shown


def test_the_event_is_a_fresh_copy() -> None:
    _, opening = commit(EVENT, salt=SALT)
    event = opening.event
    event["serialNumber"] = "tampered"
    assert opening.event == EVENT


def test_opening_json_round_trip() -> None:
    leaf, opening = commit(EVENT, salt=SALT)
    restored = Opening.from_json(json.loads(json.dumps(opening.to_json())))
    assert restored == opening
    assert verify_opening(leaf, restored) == EVENT


@pytest.mark.parametrize(
    "value",
    [
        [],
        {"salt": "AAAA"},
        {"salt": "AAAA", "event": {}, "extra": 1},
        {"salt": 1, "event": {}},
        {"salt": "AAAA", "event": []},
        {"salt": "AAAA", "event": {}},  # 3 bytes, not 32
        {"salt": "!!!", "event": {}},
        {"salt": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "event": {"x": 1e400}},
    ],
)
def test_malformed_openings_are_refused(value: object) -> None:
    with pytest.raises(MalformedReceiptError):
        Opening.from_json(value)  # type: ignore[arg-type]


def test_caller_mistakes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        commit(EVENT, salt=b"short")
    with pytest.raises(TypeError):
        commit(["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(CanonicalizationError):
        commit({"x": float("nan")})


def test_10000_candidate_serials_match_no_leaf() -> None:
    """The log reveals no serial: guessing and hashing finds nothing.

    50 registrations whose serials are among 10,000 candidates; every candidate is
    hashed the ways an attacker would try (raw, as an RFC 9162 leaf, the
    canonical event without salt, with a zero salt) and compared against every
    leaf's data and leaf hash.
    """
    candidates = [f"SN-{n:06d}" for n in range(10_000)]
    events = [{**EVENT, "serialNumber": candidates[n * 199]} for n in range(50)]
    leaves = [commit(event)[0] for event in events]
    public = set(leaves) | {hash_leaf(leaf) for leaf in leaves}
    found: list[str] = []
    template = {key: value for key, value in EVENT.items() if key != "serialNumber"}
    for serial in candidates:
        data = serial.encode()
        guesses = {
            hashlib.sha256(data).digest(),
            hash_leaf(data),
            hashlib.sha256(canonicalize({**template, "serialNumber": serial})).digest(),
            commit({**template, "serialNumber": serial}, salt=bytes(32))[0],
        }
        if guesses & public or any(data in leaf for leaf in leaves):
            found.append(serial)
    assert found == []
    # The same guesses do find the events once the salts are known (the owner's
    # openings): the test is not vacuous.
    leaf, opening = commit(events[0], salt=SALT)
    guess = {**template, "serialNumber": events[0]["serialNumber"]}
    assert commit(guess, salt=SALT)[0] == leaf
    assert verify_opening(leaf, opening) == guess
