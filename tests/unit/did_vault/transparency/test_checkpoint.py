"""C2SP signed notes and checkpoints: syntax, signatures, cosignatures, trust rules."""

import base64
import contextlib
import hashlib
import struct
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.errors import (
    CheckpointSignatureError,
    MalformedCheckpointError,
    UnsupportedAlgorithmError,
    UntrustedCheckpointError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.transparency.checkpoint import (
    MAX_SIGNATURES,
    MAX_TIMESTAMP,
    Checkpoint,
    NoteKey,
    NoteSignature,
    cosign_checkpoint,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from did_vault.transparency.merkle import hash_leaf

ORIGIN = "registry.example/log"
ROOT = hash_leaf(b"root")


@pytest.fixture
def log_key(seed32: bytes) -> PrivateKey:
    return PrivateKey(KeyAlgorithm.ED25519, seed32)


@pytest.fixture
def log_note_key(log_key: PrivateKey) -> NoteKey:
    return NoteKey(ORIGIN, log_key.public_key)


@pytest.fixture
def witness_key() -> PrivateKey:
    return PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))


@pytest.fixture
def witness(witness_key: PrivateKey) -> NoteKey:
    return NoteKey("witness.example/w1", witness_key.public_key)


@pytest.fixture
def checkpoint() -> Checkpoint:
    return Checkpoint(ORIGIN, 42, ROOT)


@pytest.fixture
def note(checkpoint: Checkpoint, log_key: PrivateKey, now: datetime) -> str:
    return sign_checkpoint(checkpoint, log_key, now=now)


def _line(name: str, key_id: int, signature: bytes) -> str:
    return NoteSignature(name, key_id, signature).to_line() + "\n"


# --- bodies ---------------------------------------------------------------------


def test_checkpoint_text_round_trips(checkpoint: Checkpoint) -> None:
    text = checkpoint.to_text()
    root = base64.b64encode(ROOT).decode()
    assert text == f"{ORIGIN}\n42\n{root}\n"
    assert Checkpoint.from_text(text) == checkpoint
    extended = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "ext two"))
    assert Checkpoint.from_text(extended.to_text()) == extended


@pytest.mark.parametrize(
    "text",
    [
        "Log\n123\n",  # too few lines
        "\n123\n{root}\n",  # empty origin
        "Log\n123\n{root}",  # no final newline
        "Log\nbananas\n{root}\n",
        "Log\n-34\n{root}\n",
        "Log\n0123\n{root}\n",  # leading zero
        "Log\n+1\n{root}\n",
        "Log\n18446744073709551616\n{root}\n",  # 2**64
        "Log\n123\nThisIsn'tBase64\n",
        "Log\n123\nYmFuYW5hcw==\n",  # base64, but not 32 bytes
        "Log\n123\n{root_unpadded}\n",
        "Log\n123\n{root}\n\n",  # an empty extension line
        "Log\n123\n{root}\next\n\n",
    ],
)
def test_malformed_checkpoint_bodies_are_refused(text: str) -> None:
    root = base64.b64encode(ROOT).decode()
    text = text.format(root=root, root_unpadded=root.rstrip("="))
    with pytest.raises(MalformedCheckpointError):
        Checkpoint.from_text(text)


def test_checkpoint_constructor_validates() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Checkpoint(ORIGIN, 1, b"short")
    with pytest.raises(ValueError, match="uint64"):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(TypeError):
        Checkpoint(ORIGIN, True, ROOT)
    with pytest.raises(ValueError, match="one line"):
        Checkpoint("two\nlines", 1, ROOT)
    with pytest.raises(ValueError, match="one line"):
        Checkpoint(ORIGIN, 1, ROOT, ("",))


# --- signing and verifying --------------------------------------------------------


def test_sign_and_verify_a_checkpoint(
    note: str, log_note_key: NoteKey, checkpoint: Checkpoint, now: datetime
) -> None:
    verified = verify_checkpoint(note, verifier_keys=[log_note_key])
    assert verified.checkpoint == checkpoint
    assert verified.signers == (ORIGIN,)
    assert verified.time == now
    assert verified.note == note
    assert [c.by_log for c in verified.cosignatures] == [True]
    # Both lines carry the log's name; the key IDs differ by signature type.
    parsed = parse_checkpoint(note)
    assert [s.key_id for s in parsed.signatures] == [
        log_note_key.key_id(0x01),
        log_note_key.key_id(0x04),
    ]
    assert parsed.to_note() == note
    assert verify_checkpoint(note.encode(), verifier_keys=[log_note_key]).note == note


def test_key_id_is_the_spec_hash(log_note_key: NoteKey) -> None:
    raw = log_note_key.public_key.raw
    for kind in (0x01, 0x04):
        digest = hashlib.sha256(ORIGIN.encode() + b"\n" + bytes([kind]) + raw).digest()
        assert log_note_key.key_id(kind) == int.from_bytes(digest[:4], "big")


def test_untimestamped_checkpoint_has_no_time(
    checkpoint: Checkpoint, log_key: PrivateKey, log_note_key: NoteKey
) -> None:
    note = sign_checkpoint(checkpoint, log_key, timestamped=False)
    assert note.count("\u2014 ") == 1
    assert verify_checkpoint(note, verifier_keys=[log_note_key]).time is None


def test_a_tampered_body_or_signature_is_rejected(
    note: str, log_note_key: NoteKey
) -> None:
    with pytest.raises(CheckpointSignatureError) as caught:
        verify_checkpoint(
            note.replace("\n42\n", "\n43\n"), verifier_keys=[log_note_key]
        )
    assert caught.value.code == "log.signature-invalid"
    parsed = parse_checkpoint(note)
    first = parsed.signatures[0]
    bad = NoteSignature(first.name, first.key_id, bytes(64))
    forged = parsed.checkpoint.to_text() + "\n" + _line(bad.name, bad.key_id, bytes(64))
    with pytest.raises(CheckpointSignatureError):
        verify_checkpoint(forged, verifier_keys=[log_note_key])


def test_a_bad_log_cosignature_rejects_the_whole_note(
    note: str, log_note_key: NoteKey
) -> None:
    parsed = parse_checkpoint(note)
    good, stamped = parsed.signatures
    wrong_time = struct.pack(">Q", 1) + stamped.signature[8:]
    text = parsed.checkpoint.to_text()
    forged = (
        text
        + "\n"
        + _line(good.name, good.key_id, good.signature)
        + _line(stamped.name, stamped.key_id, wrong_time)
    )
    with pytest.raises(CheckpointSignatureError):
        verify_checkpoint(forged, verifier_keys=[log_note_key])


def test_unknown_signatures_are_ignored_and_one_known_is_required(
    note: str, log_note_key: NoteKey, witness: NoteKey
) -> None:
    stranger = PrivateKey(KeyAlgorithm.ED25519, b"\x07" * 32)
    stranger_key = NoteKey(ORIGIN, stranger.public_key)  # same name, other key
    noisy = note + _line("someone.else", 0x12345678, b"\x00" * 64)
    noisy += _line(ORIGIN, stranger_key.key_id(), b"\x00" * 64)
    assert verify_checkpoint(noisy, verifier_keys=[log_note_key]).signers == (ORIGIN,)
    with pytest.raises(UntrustedCheckpointError) as caught:
        verify_checkpoint(note, verifier_keys=[stranger_key])
    assert caught.value.code == "log.checkpoint-untrusted"
    with pytest.raises(UntrustedCheckpointError):
        verify_checkpoint(note, verifier_keys=[])
    # A witness key alone is not a log key.
    with pytest.raises(UntrustedCheckpointError):
        verify_checkpoint(note, verifier_keys=[], witness_keys=[witness])


def test_a_cosignature_alone_does_not_make_a_checkpoint_trusted(
    checkpoint: Checkpoint, log_key: PrivateKey, log_note_key: NoteKey, now: datetime
) -> None:
    note = sign_checkpoint(checkpoint, log_key, now=now)
    parsed = parse_checkpoint(note)
    only_cosig = parsed.checkpoint.to_text() + "\n" + parsed.signatures[1].to_line()
    with pytest.raises(UntrustedCheckpointError):
        verify_checkpoint(only_cosig + "\n", verifier_keys=[log_note_key])


def test_witness_cosignatures(
    note: str,
    log_note_key: NoteKey,
    witness_key: PrivateKey,
    witness: NoteKey,
    now: datetime,
) -> None:
    earlier = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    cosigned = cosign_checkpoint(note, witness_key, name=witness.name, now=earlier)
    assert cosigned.startswith(note)
    verified = verify_checkpoint(
        cosigned, verifier_keys=[log_note_key], witness_keys=[witness]
    )
    assert [(c.name, c.time, c.by_log) for c in verified.cosignatures] == [
        (ORIGIN, now, True),
        (witness.name, earlier, False),
    ]
    assert verified.time == earlier
    # Each cosignature names the line that carries it (to keep or serve it).
    assert [c.line + "\n" for c in verified.cosignatures] == cosigned.splitlines(
        keepends=True
    )[-2:]
    # Without the witness key its line is just an unknown signature.
    assert verify_checkpoint(cosigned, verifier_keys=[log_note_key]).time == now
    # Cosigning again replaces the witness's line.
    again = cosign_checkpoint(cosigned, witness_key, name=witness.name, now=now)
    assert again.count(witness.name) == 1
    # A witness line that does not verify rejects the note.
    text = parse_checkpoint(cosigned).checkpoint.to_text()
    signatures = parse_checkpoint(cosigned).signatures
    tampered = signatures[-1]
    broken = text + "\n" + "".join(s.to_line() + "\n" for s in signatures[:-1])
    broken += _line(tampered.name, tampered.key_id, tampered.signature[:8] + bytes(64))
    with pytest.raises(CheckpointSignatureError):
        verify_checkpoint(broken, verifier_keys=[log_note_key], witness_keys=[witness])


def test_malformed_cosignatures(
    note: str, log_note_key: NoteKey, witness_key: PrivateKey, witness: NoteKey
) -> None:
    short = note + _line(witness.name, witness.key_id(0x04), bytes(64))
    with pytest.raises(MalformedCheckpointError):
        verify_checkpoint(short, verifier_keys=[log_note_key], witness_keys=[witness])
    text = parse_checkpoint(note).checkpoint.to_text()
    late = MAX_TIMESTAMP + 1
    message = f"cosignature/v1\ntime {late}\n{text}".encode()
    blob = struct.pack(">Q", late) + witness_key.sign(message)
    far = note + _line(witness.name, witness.key_id(0x04), blob)
    with pytest.raises(MalformedCheckpointError):
        verify_checkpoint(far, verifier_keys=[log_note_key], witness_keys=[witness])


# --- note syntax ------------------------------------------------------------------


TEXT = "If you think cryptography is the answer to your problem,\n"


@pytest.mark.parametrize(
    "build",
    [
        lambda text, sig: text,
        lambda text, sig: text + "\n",
        lambda text, sig: text + "\n" + sig[:-1],
        lambda text, sig: "\x01" + text + "\n" + sig,
        lambda text, sig: text + "\n" + sig.replace("\u2014 ", "\u2014 Bad Name "),
        lambda text, sig: text + "\n" + sig + "Unexpected line.\n",
        lambda text, sig: text + "\n" + sig.replace("\u2014 ", "- "),
        lambda text, sig: text + "\n" + sig.replace("\u2014 ", "\u2014 a+b "),
        lambda text, sig: text + "\n" + sig.replace("=\n", "\n"),
        lambda text, sig: text + "\n" + "\u2014 name AAAA\n",  # under 5 bytes
        lambda text, sig: text + "\n" + sig.replace("\n", "\r\n"),
        lambda text, sig: text[:-1] + "\t\n\n" + sig,
    ],
)
def test_malformed_notes_are_refused(build: object, log_key: PrivateKey) -> None:
    signed = sign_note(TEXT, log_key, name="PeterNeumann")
    sig = signed[len(TEXT) + 1 :]
    with pytest.raises(MalformedCheckpointError):
        parse_note(build(TEXT, sig))  # type: ignore[operator]


def test_invalid_utf8_is_refused(log_key: PrivateKey) -> None:
    signed = sign_note(TEXT, log_key, name="PeterNeumann").encode()
    with pytest.raises(MalformedCheckpointError):
        parse_note(b"\xff" + signed)


def test_signature_count_limit(log_key: PrivateKey) -> None:
    signed = sign_note(TEXT, log_key, name="PeterNeumann")
    sig = signed[len(TEXT) + 1 :]
    key = NoteKey("PeterNeumann", log_key.public_key)
    many = TEXT + "\n" + sig * MAX_SIGNATURES
    assert verify_note(many, verifier_keys=[key]).signers == ("PeterNeumann",)
    with pytest.raises(MalformedCheckpointError):
        parse_note(TEXT + "\n" + sig * (MAX_SIGNATURES + 1))


def test_note_text_may_hold_blank_lines(log_key: PrivateKey) -> None:
    text = "Note\n\n"
    signed = sign_note(text, log_key, name="k")
    assert parse_note(signed).text == text
    verify_note(signed, verifier_keys=[NoteKey("k", log_key.public_key)])


def test_sign_note_replaces_its_own_signature(log_key: PrivateKey) -> None:
    key = NoteKey("k", log_key.public_key)
    old = NoteSignature("k", key.key_id(), b"BADSIGN")
    other = NoteSignature("other", 1, b"x" * 64)
    signed = sign_note(TEXT, log_key, name="k", signatures=[old, other])
    assert [s.name for s in parse_note(signed).signatures] == ["other", "k"]
    with pytest.raises(ValueError, match="newline"):
        sign_note("abc", log_key, name="k")


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from("ab \n\u2014+=A/\t\x01é"), max_size=80))
def test_parsing_arbitrary_text_fails_only_as_malformed(text: str) -> None:
    with contextlib.suppress(MalformedCheckpointError):
        parse_checkpoint(text)


# --- keys -------------------------------------------------------------------------


def test_note_keys(log_note_key: NoteKey) -> None:
    assert NoteKey.from_vkey(log_note_key.to_vkey()) == log_note_key
    name, key_id, material = log_note_key.to_vkey().split("+", 2)
    for bad in [
        f"{name}+00000000+{material}",
        f"{name}+{key_id}",
        f"{name}+{key_id}+{material}x",
        f"{name}+{key_id.upper()}+{material}",
        f"+{key_id}+{material}",
    ]:
        with pytest.raises(MalformedCheckpointError):
            NoteKey.from_vkey(bad)
    for bad_name in ["", "a b", "a+b", "tab\there"]:
        with pytest.raises(ValueError, match="key name"):
            NoteKey(bad_name, log_note_key.public_key)


def test_only_ed25519_keys_sign_notes(checkpoint: Checkpoint, seed32: bytes) -> None:
    p256 = PrivateKey(KeyAlgorithm.P256, b"\x01" * 32)
    with pytest.raises(UnsupportedAlgorithmError):
        sign_checkpoint(checkpoint, p256)
    with pytest.raises(UnsupportedAlgorithmError):
        NoteKey("k", p256.public_key)


def test_verifier_keys_are_note_keys_and_may_repeat(
    note: str, log_note_key: NoteKey
) -> None:
    assert verify_checkpoint(note, verifier_keys=[log_note_key, log_note_key])
    with pytest.raises(TypeError):
        verify_checkpoint(note, verifier_keys=["not a key"])  # type: ignore[list-item]


def test_now_must_be_aware(checkpoint: Checkpoint, log_key: PrivateKey) -> None:
    with pytest.raises(ValueError, match="timezone"):
        sign_checkpoint(checkpoint, log_key, now=datetime(2026, 1, 1))
