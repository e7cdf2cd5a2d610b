"""Signed checkpoints: C2SP ``tlog-checkpoint`` bodies in ``signed-note`` envelopes.

Formats, from the spec text (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint,
https://c2sp.org/tlog-cosignature):

* a **note** is UTF-8 text ending in a newline, a blank line, then one or more lines
  ``— <key name> <base64(4-byte key ID ‖ signature)>``; no ASCII control character
  other than newline anywhere. Key names are non-empty, with no Unicode space and no
  ``+``. Unknown signatures are ignored; a known signature that fails rejects the note;
  at least one known log signature must verify.
* a **checkpoint** body is the origin line, the tree size in canonical decimal, the
  root hash in standard base64 (32 bytes here: SHA-256), then optional non-empty
  extension lines.
* **Ed25519 note signatures** (type ``0x01``) sign the note text; key ID =
  ``SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4]``.
* **timestamped cosignatures** (``cosignature/v1``, type ``0x04``) sign
  ``"cosignature/v1\\ntime <t>\\n" ‖ note text`` and carry ``u64 t ‖ signature``
  after the key ID. They are how a checkpoint gets a trusted time (C2SP checkpoints
  have none): the registry adds one with its own key when it signs, and witnesses add
  theirs (``cosign_checkpoint``). A v1 cosignature states that, as of time ``t``, this
  was the largest consistent tree head the signer had seen — so the tree, and every
  leaf in it, existed at ``t``.

Keys are did_vault ``PrivateKey``/``PublicKey`` (Ed25519 only); :class:`NoteKey` names
one and also reads and writes the ``vkey`` form of ``golang.org/x/mod/sumdb/note``,
``name+<key ID hex>+base64(0x01 ‖ key)``.
"""

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self

from did_vault.errors import (
    CheckpointSignatureError,
    InvalidSignatureError,
    MalformedCheckpointError,
    UnsupportedAlgorithmError,
    UntrustedCheckpointError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.transparency.merkle import HASH_SIZE

SIGNATURE_TYPE_ED25519 = 0x01
SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
COSIGNATURE_V1_HEADER = "cosignature/v1"
SIGNATURE_LINE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
"""Signature lines accepted per note (the spec asks for at least 16; Go allows 100)."""
MAX_TIMESTAMP = 253402300799
"""9999-12-31T23:59:59Z: later cosignature times are refused as malformed."""
_MAX_TREE_SIZE = 2**64 - 1
_ED25519_SIGNATURE_SIZE = 64
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4): padded, canonical."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise MalformedCheckpointError(f"{what} is not standard base64") from exc
    if _b64encode(data) != text:
        raise MalformedCheckpointError(f"{what} is not canonical base64")
    return data


def _is_valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _require_ed25519(algorithm: KeyAlgorithm) -> None:
    if algorithm is not KeyAlgorithm.ED25519:
        raise UnsupportedAlgorithmError(
            "note signatures here are Ed25519", algorithm=algorithm.value
        )


@dataclass(frozen=True, slots=True)
class NoteKey:
    """A named Ed25519 public key that signs notes (a log key or a witness key)."""

    name: str
    public_key: PublicKey

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _is_valid_key_name(self.name):
            raise ValueError("a key name is non-empty, without spaces or '+'")
        _require_ed25519(self.public_key.algorithm)

    def key_id(self, signature_type: int = SIGNATURE_TYPE_ED25519) -> int:
        """``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`` as a big-endian uint32."""
        digest = hashlib.sha256(
            self.name.encode() + b"\n" + bytes([signature_type]) + self.public_key.raw
        ).digest()
        return int.from_bytes(digest[:4], "big")

    @classmethod
    def from_vkey(cls, text: str) -> Self:
        """Parse a Go ``note`` verifier key ``name+hhhhhhhh+base64(0x01 ‖ key)``.

        Raises:
            MalformedCheckpointError: not that shape, a key ID that does not match,
                or a type other than Ed25519 (0x01).
        """
        # The name has no "+"; the base64 key material may.
        parts = text.split("+", 2) if isinstance(text, str) else []
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise MalformedCheckpointError("not a verifier key name+id+key")
        name, key_id, material = parts
        raw = _b64decode(material, "the verifier key")
        if len(raw) != 33 or raw[0] != SIGNATURE_TYPE_ED25519:
            raise MalformedCheckpointError("not an Ed25519 verifier key")
        if not _is_valid_key_name(name):
            raise MalformedCheckpointError("invalid key name in the verifier key")
        try:
            key = cls(name, PublicKey(KeyAlgorithm.ED25519, raw[1:]))
        except ValueError as exc:
            raise MalformedCheckpointError("invalid verifier key") from exc
        if key.key_id() != int(key_id, 16):
            raise MalformedCheckpointError("the verifier key's ID does not match it")
        return key

    def to_vkey(self) -> str:
        """The Go ``note`` verifier key string."""
        material = _b64encode(bytes([SIGNATURE_TYPE_ED25519]) + self.public_key.raw)
        return f"{self.name}+{self.key_id():08x}+{material}"


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, key ID, and the bytes after the key ID."""

    name: str
    key_id: int
    signature: bytes

    def to_line(self) -> str:
        """The line, without its newline."""
        blob = struct.pack(">I", self.key_id) + self.signature
        return f"{SIGNATURE_LINE_PREFIX}{self.name} {_b64encode(blob)}"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note as parsed, signatures not verified."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def to_note(self) -> str:
        """The note: text, blank line, one line per signature."""
        return _format_note(self.text, self.signatures)


def _format_note(text: str, signatures: Sequence[NoteSignature]) -> str:
    return text + "\n" + "".join(sig.to_line() + "\n" for sig in signatures)


def _check_text(text: str) -> None:
    if not text.endswith("\n") or _CONTROL.search(text):
        raise ValueError("note text ends in a newline and has no control characters")


def parse_note(note: str | bytes) -> SignedNote:
    """Split a signed note into its text and signature lines (syntax only).

    Raises:
        MalformedCheckpointError: anything the signed-note format forbids.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedCheckpointError("a note is UTF-8") from exc
    if not isinstance(note, str):
        raise TypeError("a note is str or bytes")
    if _CONTROL.search(note):
        raise MalformedCheckpointError("control character in the note")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise MalformedCheckpointError("no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise MalformedCheckpointError("a signed note has at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedCheckpointError("too many signatures", limit=MAX_SIGNATURES)
    signatures: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(SIGNATURE_LINE_PREFIX):
            raise MalformedCheckpointError("a signature line starts with '— '")
        parts = line[len(SIGNATURE_LINE_PREFIX) :].split(" ")
        if len(parts) != 2 or not _is_valid_key_name(parts[0]):
            raise MalformedCheckpointError("a signature line is '— <name> <base64>'")
        blob = _b64decode(parts[1], "a signature")
        if len(blob) < 5:
            raise MalformedCheckpointError(
                "a signature is a key ID and at least a byte"
            )
        (key_id,) = struct.unpack(">I", blob[:4])
        signatures.append(NoteSignature(parts[0], key_id, blob[4:]))
    return SignedNote(text, tuple(signatures))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A C2SP ``tlog-checkpoint`` body: origin, tree size, root hash, extensions."""

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not isinstance(line, str) or not line or _CONTROL.search(line):
                raise ValueError("checkpoint lines are non-empty, one line each")
            if "\n" in line:
                raise ValueError("checkpoint lines are non-empty, one line each")
        if isinstance(self.tree_size, bool) or not isinstance(self.tree_size, int):
            raise TypeError("tree_size is an integer")
        if not 0 <= self.tree_size <= _MAX_TREE_SIZE:
            raise ValueError("tree_size is a uint64")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise ValueError("root_hash is 32 bytes")
        object.__setattr__(self, "extensions", tuple(self.extensions))

    def to_text(self) -> str:
        """The note text (ends in a newline)."""
        lines = [self.origin, str(self.tree_size), _b64encode(self.root_hash)]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Self:
        """Parse a checkpoint body strictly (so that ``to_text`` gives it back).

        Raises:
            MalformedCheckpointError: fewer than three lines, an empty line, a size
                that is not canonical decimal or beyond uint64, a root that is not
                32 bytes of canonical standard base64.
        """
        if not text.endswith("\n"):
            raise MalformedCheckpointError("a checkpoint ends in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not all(lines):
            raise MalformedCheckpointError(
                "a checkpoint has three or more non-empty lines"
            )
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text) or int(size_text) > _MAX_TREE_SIZE:
            raise MalformedCheckpointError("the tree size is not canonical decimal")
        root = _b64decode(root_text, "the root hash")
        if len(root) != HASH_SIZE:
            raise MalformedCheckpointError("the root hash is not 32 bytes")
        try:
            checkpoint = cls(origin, int(size_text), root, tuple(extensions))
        except ValueError as exc:
            raise MalformedCheckpointError("invalid checkpoint line") from exc
        return checkpoint


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint note as parsed: the body and its signatures, none verified."""

    checkpoint: Checkpoint
    signatures: tuple[NoteSignature, ...]

    def to_note(self) -> str:
        """The signed note text."""
        return _format_note(self.checkpoint.to_text(), self.signatures)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified ``cosignature/v1``: who signed, and the time it states."""

    name: str
    timestamp: int  # POSIX seconds
    by_log: bool  # True: a log key; False: a witness key
    line: str = field(default="", compare=False)  # the signature line carrying it
    key: NoteKey | None = field(default=None, compare=False, repr=False)  # verifier

    @property
    def time(self) -> datetime:
        """The timestamp as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp, UTC)


@dataclass(frozen=True, slots=True)
class VerifiedNote:
    """A note whose known signatures all verified (at least one log signature)."""

    text: str
    signers: tuple[str, ...]  # names of the log keys whose note signature verified
    cosignatures: tuple[Cosignature, ...] = field(default=())

    @property
    def time(self) -> datetime | None:
        """The earliest verified cosignature time, or None if there is none."""
        if not self.cosignatures:
            return None
        return min(c.time for c in self.cosignatures)


@dataclass(frozen=True, slots=True)
class VerifiedCheckpoint:
    """A checkpoint whose signatures verified, with its trusted time if any."""

    checkpoint: Checkpoint
    note: str
    signers: tuple[str, ...]
    cosignatures: tuple[Cosignature, ...] = ()

    @property
    def time(self) -> datetime | None:
        """The earliest verified cosignature time (the log's or a witness's)."""
        if not self.cosignatures:
            return None
        return min(c.time for c in self.cosignatures)


def _timestamp(now: datetime | None) -> int:
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    seconds = int(now.timestamp())
    if not 0 <= seconds <= MAX_TIMESTAMP:
        raise ValueError("now is outside the representable range")
    return seconds


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_V1_HEADER}\ntime {timestamp}\n{text}".encode()


def _note_signature(text: str, key: PrivateKey, name: str) -> NoteSignature:
    _require_ed25519(key.algorithm)
    note_key = NoteKey(name, key.public_key)
    return NoteSignature(name, note_key.key_id(), key.sign(text.encode()))


def _cosignature(
    text: str, key: PrivateKey, name: str, timestamp: int
) -> NoteSignature:
    _require_ed25519(key.algorithm)
    note_key = NoteKey(name, key.public_key)
    signature = key.sign(_cosigned_message(text, timestamp))
    return NoteSignature(
        name,
        note_key.key_id(SIGNATURE_TYPE_COSIGNATURE_V1),
        struct.pack(">Q", timestamp) + signature,
    )


def _merge(
    signatures: Sequence[NoteSignature], new: Sequence[NoteSignature]
) -> list[NoteSignature]:
    """Existing lines, less those by the same (name, key ID) as a new one, + new."""
    replaced = {(sig.name, sig.key_id) for sig in new}
    kept = [sig for sig in signatures if (sig.name, sig.key_id) not in replaced]
    return [*kept, *new]


def sign_note(
    text: str,
    key: PrivateKey,
    *,
    name: str,
    signatures: Sequence[NoteSignature] = (),
) -> str:
    """Sign a note text with an Ed25519 note signature (type 0x01).

    ``signatures`` already on the note are kept, except one by the same key, which
    the new signature replaces.

    Raises:
        UnsupportedAlgorithmError: the key is not Ed25519.
    """
    _check_text(text)
    return _format_note(text, _merge(signatures, [_note_signature(text, key, name)]))


def sign_checkpoint(
    checkpoint: Checkpoint,
    key: PrivateKey,
    *,
    name: str | None = None,
    now: datetime | None = None,
    timestamped: bool = True,
) -> str:
    """Sign a checkpoint as the log: a note signature, and a timestamped cosignature.

    ``name`` defaults to the origin (the spec's recommendation). With ``timestamped``
    the same key also adds a ``cosignature/v1`` line stating ``now`` (default: the
    current time), which is the checkpoint's trusted time for receipts.

    Raises:
        UnsupportedAlgorithmError: the key is not Ed25519.
    """
    name = checkpoint.origin if name is None else name
    text = checkpoint.to_text()
    signatures = [_note_signature(text, key, name)]
    if timestamped:
        signatures.append(_cosignature(text, key, name, _timestamp(now)))
    return _format_note(text, signatures)


def cosign_checkpoint(
    note: str | bytes, key: PrivateKey, *, name: str, now: datetime | None = None
) -> str:
    """Add a witness's timestamped ``cosignature/v1`` to a checkpoint note.

    The witness must first have checked the log's signature and consistency with
    the last checkpoint it cosigned (see ``check_consistency``); this only signs.

    Raises:
        MalformedCheckpointError: the note is not a checkpoint.
        UnsupportedAlgorithmError: the key is not Ed25519.
    """
    parsed = parse_checkpoint(note)
    text = parsed.checkpoint.to_text()
    new = _cosignature(text, key, name, _timestamp(now))
    return _format_note(text, _merge(parsed.signatures, [new]))


def parse_checkpoint(note: str | bytes) -> SignedCheckpoint:
    """Parse a checkpoint note without verifying any signature.

    Raises:
        MalformedCheckpointError: not a signed note, or its text not a checkpoint.
    """
    parsed = parse_note(note)
    return SignedCheckpoint(Checkpoint.from_text(parsed.text), parsed.signatures)


def _verifier_table(
    verifier_keys: Sequence[NoteKey], witness_keys: Sequence[NoteKey]
) -> dict[tuple[str, int], tuple[NoteKey, int, bool]]:
    table: dict[tuple[str, int], tuple[NoteKey, int, bool]] = {}
    entries: list[tuple[NoteKey, int, bool]] = []
    for key in verifier_keys:
        entries.append((key, SIGNATURE_TYPE_ED25519, True))
        entries.append((key, SIGNATURE_TYPE_COSIGNATURE_V1, True))
    entries.extend((key, SIGNATURE_TYPE_COSIGNATURE_V1, False) for key in witness_keys)
    for key, kind, is_log in entries:
        if not isinstance(key, NoteKey):
            raise TypeError("verifier keys are NoteKey values")
        slot = (key.name, key.key_id(kind))
        previous = table.get(slot)
        if previous is not None and previous[0] != key:
            raise ValueError(f"two different keys share the name and ID {slot}")
        if previous is None or is_log:
            table[slot] = (key, kind, is_log)
    return table


def verify_note(
    note: str | bytes,
    *,
    verifier_keys: Sequence[NoteKey],
    witness_keys: Sequence[NoteKey] = (),
) -> VerifiedNote:
    """Verify a signed note against the log's keys and, optionally, witness keys.

    Log keys are checked for Ed25519 note signatures and ``cosignature/v1`` lines,
    witness keys for ``cosignature/v1`` lines. A line whose (name, key ID) is not a
    known key is ignored.

    Raises:
        MalformedCheckpointError: not a signed note, or a cosignature that is not
            ``u64 timestamp ‖ 64-byte signature`` or states an impossible time.
        CheckpointSignatureError: a known key's signature does not verify.
        UntrustedCheckpointError: no log key's note signature is on the note.
    """
    parsed = parse_note(note)
    table = _verifier_table(verifier_keys, witness_keys)
    message = parsed.text.encode()
    signers: list[str] = []
    cosignatures: list[Cosignature] = []
    for sig in parsed.signatures:
        entry = table.get((sig.name, sig.key_id))
        if entry is None:
            continue
        key, kind, is_log = entry
        if kind == SIGNATURE_TYPE_ED25519:
            _verify(key, sig.signature, message)
            if key.name not in signers:
                signers.append(key.name)
            continue
        if len(sig.signature) != 8 + _ED25519_SIGNATURE_SIZE:
            raise MalformedCheckpointError(
                "a cosignature is a timestamp and a 64-byte signature", key=key.name
            )
        (timestamp,) = struct.unpack(">Q", sig.signature[:8])
        if timestamp > MAX_TIMESTAMP:
            raise MalformedCheckpointError(
                "cosignature time out of range", key=key.name
            )
        _verify(key, sig.signature[8:], _cosigned_message(parsed.text, timestamp))
        cosignatures.append(
            Cosignature(key.name, timestamp, is_log, sig.to_line(), key)
        )
    if not signers:
        raise UntrustedCheckpointError("no signature by a known log key")
    return VerifiedNote(parsed.text, tuple(signers), tuple(cosignatures))


def _verify(key: NoteKey, signature: bytes, message: bytes) -> None:
    try:
        key.public_key.verify(signature, message)
    except InvalidSignatureError as exc:
        raise CheckpointSignatureError(
            "a signature by a known key does not verify", key=key.name
        ) from exc


def verify_checkpoint(
    note: str | bytes,
    *,
    verifier_keys: Sequence[NoteKey],
    witness_keys: Sequence[NoteKey] = (),
) -> VerifiedCheckpoint:
    """Verify a checkpoint note and parse its body.

    Raises:
        MalformedCheckpointError: not a checkpoint note.
        CheckpointSignatureError: a known key's signature does not verify.
        UntrustedCheckpointError: no log key's note signature is on it.
    """
    checked = verify_note(note, verifier_keys=verifier_keys, witness_keys=witness_keys)
    checkpoint = Checkpoint.from_text(checked.text)
    note_text = note if isinstance(note, str) else note.decode("utf-8")
    return VerifiedCheckpoint(
        checkpoint, note_text, checked.signers, checked.cosignatures
    )
