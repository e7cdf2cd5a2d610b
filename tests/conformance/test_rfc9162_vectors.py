"""RFC 9162 Merkle vectors and C2SP signed-note / checkpoint / cosignature examples.

Sources and commits: ``vectors/rfc9162/SOURCE.md`` and ``vectors/c2sp-note/SOURCE.md``.
"""

import base64
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from did_vault.errors import (
    CheckpointSignatureError,
    LogProofError,
    MalformedCheckpointError,
    UntrustedCheckpointError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.transparency.checkpoint import (
    Checkpoint,
    NoteKey,
    parse_checkpoint,
    parse_note,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from did_vault.transparency.merkle import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root_at,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

pytestmark = pytest.mark.conformance

VECTORS = Path(__file__).parent / "vectors"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text("utf-8"))


HASHER = _load("rfc9162/hasher.json")["vectors"]
TREE = _load("rfc9162/tree-8.json")
TESTDATA = _load("rfc9162/testdata.json")
GO = _load("c2sp-note/go-note.json")
C2SP = _load("c2sp-note/c2sp-examples.json")

LEAVES = [bytes.fromhex(x) for x in TREE["leaves"]]
ROOTS = [bytes.fromhex(x) for x in TREE["roots"]]
SOME_HASH = bytes.fromhex(TREE["sha256SomeHash"])
INCLUSION = [v for v in TREE["inclusionProofs"] if v["leaf"] > 0]  # 0/0 is invalid
CONSISTENCY = TREE["consistencyProofs"]


def _hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


@pytest.fixture(scope="module")
def store() -> InMemoryNodeStore:
    built = InMemoryNodeStore()
    for leaf in LEAVES:
        built.append_data(leaf)
    return built


# --- hashing and roots --------------------------------------------------------------


@pytest.mark.parametrize("vector", HASHER, ids=[v["name"] for v in HASHER])
def test_hasher_vector(vector: dict[str, str]) -> None:
    if vector["function"] == "empty_root":
        got = EMPTY_ROOT
    elif vector["function"] == "hash_leaf":
        got = hash_leaf(bytes.fromhex(vector["leaf"]))
    else:
        got = hash_children(
            bytes.fromhex(vector["left"]), bytes.fromhex(vector["right"])
        )
    assert got.hex() == vector["want"]


@pytest.mark.parametrize("size", range(1, 9), ids=lambda n: f"root-{n}")
def test_root_of_the_first_n_leaves(store: InMemoryNodeStore, size: int) -> None:
    assert root_at(store, size) == ROOTS[size - 1]


# --- inclusion --------------------------------------------------------------------


def _inclusion_id(v: dict[str, Any]) -> str:
    return f"leaf-{v['leaf']}-of-{v['size']}"


@pytest.mark.parametrize("vector", INCLUSION, ids=_inclusion_id)
def test_inclusion_vector_is_generated_and_verifies(
    store: InMemoryNodeStore, vector: dict[str, Any]
) -> None:
    index, size, path = vector["leaf"] - 1, vector["size"], _hexes(vector["proof"])
    leaf = hash_leaf(LEAVES[index])
    assert inclusion_proof(store, index, size) == path
    assert (
        root_from_inclusion_proof(leaf, path, leaf_index=index, tree_size=size)
        == (ROOTS[size - 1])
    )
    verify_inclusion(leaf, path, leaf_index=index, tree_size=size, root=ROOTS[size - 1])


@pytest.mark.parametrize("vector", INCLUSION, ids=_inclusion_id)
def test_inclusion_vector_corruptions_are_rejected(vector: dict[str, Any]) -> None:
    """The probes of corruptInclusionProof in the source's verify_test.go."""
    m, n, path = vector["leaf"] - 1, vector["size"], _hexes(vector["proof"])
    root, leaf = ROOTS[n - 1], hash_leaf(LEAVES[m])
    probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (m - 1, n, root, leaf, path),
        (m + 1, n, root, leaf, path),
        (m ^ 2, n, root, leaf, path),
        (m, n * 2, root, leaf, path),
        (m, n // 2, root, leaf, path),
        (m, n, root, b"WrongLeaf", path),
        (m, n, EMPTY_ROOT, leaf, path),
        (m, n, SOME_HASH, leaf, path),
        (m, n, root, leaf, [*path, b""]),
        (m, n, root, leaf, [*path, root]),
        (m, n, root, leaf, [b"", *path]),
        (m, n, root, leaf, [root, *path]),
    ]
    for i, element in enumerate(path):
        flipped = [*path]
        flipped[i] = bytes([element[0] ^ 8]) + element[1:]
        probes.append((m, n, root, leaf, flipped))
    if path:
        probes.append((m, n, root, leaf, path[:-1]))
    if len(path) > 1:
        probes.append((m, n, root, leaf, [path[0], SOME_HASH, *path[1:]]))
    for index, size, root_, leaf_, path_ in probes:
        with pytest.raises(LogProofError):
            verify_inclusion(leaf_, path_, leaf_index=index, tree_size=size, root=root_)


def test_inclusion_single_entry_and_degenerate_probes() -> None:
    """TestVerifyInclusionSingleEntry and TestVerifyInclusion of the source."""
    leaf = hash_leaf(b"data")
    verify_inclusion(leaf, [], leaf_index=0, tree_size=1, root=leaf)
    for root, leaf_ in [(leaf, b""), (b"", leaf), (b"", b"")]:
        with pytest.raises(LogProofError):
            verify_inclusion(leaf_, [], leaf_index=0, tree_size=1, root=root)
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        for leaf_, root in [
            (SOME_HASH, b""),
            (b"", EMPTY_ROOT),
            (SOME_HASH, EMPTY_ROOT),
        ]:
            with pytest.raises(LogProofError):
                verify_inclusion(leaf_, [], leaf_index=index, tree_size=size, root=root)


# --- consistency --------------------------------------------------------------------


def _consistency_id(v: dict[str, Any]) -> str:
    return f"{v['size1']}-to-{v['size2']}"


@pytest.mark.parametrize("vector", CONSISTENCY, ids=_consistency_id)
def test_consistency_vector_is_generated_and_verifies(
    store: InMemoryNodeStore, vector: dict[str, Any]
) -> None:
    m, n, proof = vector["size1"], vector["size2"], _hexes(vector["proof"])
    assert consistency_proof(store, m, n) == proof
    verify_consistency(
        proof, old_size=m, new_size=n, old_root=ROOTS[m - 1], new_root=ROOTS[n - 1]
    )


@pytest.mark.parametrize(
    "vector", [v for v in CONSISTENCY if v["proof"]], ids=_consistency_id
)
def test_consistency_vector_corruptions_are_rejected(vector: dict[str, Any]) -> None:
    """The probes of corruptConsistencyProof in the source's verify_test.go."""
    m, n, proof = vector["size1"], vector["size2"], _hexes(vector["proof"])
    r1, r2 = ROOTS[m - 1], ROOTS[n - 1]
    probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (m - 1, n, r1, r2, proof),
        (m + 1, n, r1, r2, proof),
        (m ^ 2, n, r1, r2, proof),
        (m, n * 2, r1, r2, proof),
        (m, n // 2, r1, r2, proof),
        (m, n, b"WrongRoot", r2, proof),
        (m, n, r1, b"WrongRoot", proof),
        (m, n, r2, r1, proof),
        (m, n, r1, r2, []),
        (m, n, r1, r2, [*proof, b""]),
        (m, n, r1, r2, [*proof, r1]),
        (m, n, r1, r2, [*proof, r2]),
        (m, n, r1, r2, [b"", *proof]),
        (m, n, r1, r2, [r1, *proof]),
        (m, n, r1, r2, [r2, *proof]),
        (m, n, r1, r2, [proof[0], *proof]),
        (m, n, r1, r2, proof[:-1]),
    ]
    for i, element in enumerate(proof):
        flipped = [*proof]
        flipped[i] = bytes([element[0] ^ 16]) + element[1:]
        probes.append((m, n, r1, r2, flipped))
    for old, new, root1, root2, proof_ in probes:
        with pytest.raises(LogProofError):
            verify_consistency(
                proof_, old_size=old, new_size=new, old_root=root1, new_root=root2
            )


def test_consistency_degenerate_cases() -> None:
    """TestVerifyConsistency of the source, where its roots are real hashes.

    The source accepts any root at size 0 ("don't care"); here a tree of size 0
    must have the empty-tree root, so those rows use SHA-256("") instead.
    """
    r = ROOTS[0]
    verify_consistency(
        [], old_size=0, new_size=0, old_root=EMPTY_ROOT, new_root=EMPTY_ROOT
    )
    verify_consistency([], old_size=0, new_size=1, old_root=EMPTY_ROOT, new_root=r)
    verify_consistency([], old_size=1, new_size=1, old_root=r, new_root=r)
    for old, new, r1, r2, proof in [
        (0, 0, EMPTY_ROOT, r, []),
        (1, 1, r, SOME_HASH, []),
        (1, 0, r, EMPTY_ROOT, []),
        (2, 1, ROOTS[1], r, []),
        (1, 2, r, ROOTS[1], []),
        (1, 1, EMPTY_ROOT, r, []),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
    ]:
        with pytest.raises(LogProofError):
            verify_consistency(
                proof, old_size=old, new_size=new, old_root=r1, new_root=r2
            )


@pytest.mark.parametrize("vector", TESTDATA["inclusion"], ids=lambda v: v["file"])
def test_testdata_inclusion(vector: dict[str, Any]) -> None:
    b64 = base64.b64decode
    verify_inclusion(
        b64(vector["leafHash"]),
        [b64(p) for p in vector["proof"] or []],
        leaf_index=vector["leafIdx"],
        tree_size=vector["treeSize"],
        root=b64(vector["root"]),
    )


@pytest.mark.parametrize("vector", TESTDATA["consistency"], ids=lambda v: v["file"])
def test_testdata_consistency(vector: dict[str, Any]) -> None:
    b64 = base64.b64decode
    verify_consistency(
        [b64(p) for p in vector["proof"] or []],
        old_size=vector["size1"],
        new_size=vector["size2"],
        old_root=b64(vector["root1"]),
        new_root=b64(vector["root2"]),
    )


# --- signed notes (golang.org/x/mod/sumdb/note) ------------------------------------


def _peter_signer() -> tuple[PrivateKey, str]:
    prefix, private, name, key_hash, material = GO["peterSignerKey"].split("+", 4)
    assert (prefix, private) == ("PRIVATE", "KEY")
    raw = base64.b64decode(material)
    assert raw[0] == 0x01
    assert key_hash == GO["peterKeyHash"]
    return PrivateKey(KeyAlgorithm.ED25519, raw[1:]), name


def test_go_signer_reproduces_the_published_signature() -> None:
    key, name = _peter_signer()
    verifier = NoteKey.from_vkey(GO["peterVerifierKey"])
    assert verifier.public_key == key.public_key
    assert f"{verifier.key_id():08x}" == GO["peterKeyHash"]
    assert verifier.to_vkey() == GO["peterVerifierKey"]
    assert sign_note(GO["text"], key, name=name) == GO["text"] + "\n" + GO["peterSig"]


def test_go_note_verifies_with_one_or_both_keys() -> None:
    peter = NoteKey.from_vkey(GO["peterVerifierKey"])
    enoch = NoteKey.from_vkey(GO["enochVerifierKey"])
    assert f"{enoch.key_id():08x}" == GO["enochKeyHash"]
    note = GO["text"] + "\n" + GO["peterSig"] + GO["enochSig"]
    assert verify_note(note, verifier_keys=[peter]).signers == ("PeterNeumann",)
    assert verify_note(note, verifier_keys=[peter, enoch]).signers == (
        "PeterNeumann",
        "EnochRoot",
    )
    assert verify_note(note, verifier_keys=[peter]).text == GO["text"]
    with pytest.raises(UntrustedCheckpointError):
        verify_note(note, verifier_keys=[])
    doubled = GO["text"] + "\n" + GO["peterSig"] * 2 + GO["enochSig"] * 2
    assert verify_note(doubled, verifier_keys=[peter]).signers == ("PeterNeumann",)


def test_go_note_with_a_corrupted_known_signature_is_rejected() -> None:
    peter = NoteKey.from_vkey(GO["peterVerifierKey"])
    sig = GO["peterSig"]
    corrupted = GO["text"] + "\n" + sig[:60] + "ABCD" + sig[60:]
    with pytest.raises(CheckpointSignatureError):
        verify_note(corrupted, verifier_keys=[peter])
    changed = GO["text"].replace("cryptography", "cryptographY") + "\n" + sig
    with pytest.raises(CheckpointSignatureError):
        verify_note(changed, verifier_keys=[peter])
    # An unknown key's corrupted signature is only ignored.
    enoch = GO["enochSig"]
    noisy = GO["text"] + "\n" + sig + enoch[:60] + "ABCD" + enoch[60:]
    assert verify_note(noisy, verifier_keys=[peter]).signers == ("PeterNeumann",)


@pytest.mark.parametrize(
    "build",
    [
        lambda t, s: t,
        lambda t, s: t + "\n",
        lambda t, s: t + "\n" + s[:-1],
        lambda t, s: "\x01" + t + "\n" + s,
        lambda t, s: t + "\n" + "\u2014 Bad Name " + s.split(" ")[-1].rstrip("\n"),
        lambda t, s: t + "\n" + s + "Unexpected line.\n",
    ],
    ids=[
        "text-only",
        "no-signatures",
        "no-final-newline",
        "control-character",
        "space-in-name",
        "trailing-line",
    ],
)
def test_go_malformed_notes(build: Any) -> None:
    with pytest.raises(MalformedCheckpointError):
        parse_note(build(GO["text"], GO["peterSig"]))


def test_go_invalid_utf8_note() -> None:
    with pytest.raises(MalformedCheckpointError):
        parse_note(b"\xff" + (GO["text"] + "\n" + GO["peterSig"]).encode())


@pytest.mark.parametrize("vkey", GO["badVerifierKeys"])
def test_go_bad_verifier_keys(vkey: str) -> None:
    with pytest.raises(MalformedCheckpointError):
        NoteKey.from_vkey(vkey)


# --- C2SP examples ------------------------------------------------------------------


def test_c2sp_checkpoint_example_parses() -> None:
    example = C2SP["checkpoint"]
    parsed = parse_checkpoint(example["note"])
    assert parsed.checkpoint == Checkpoint(
        example["origin"], example["treeSize"], base64.b64decode(example["rootHash"])
    )
    assert parsed.to_note() == example["note"]
    assert [s.name for s in parsed.signatures] == [example["origin"]]


def test_c2sp_cosignature_example() -> None:
    example = C2SP["cosignature"]
    parsed = parse_checkpoint(example["note"])
    _, witness_sig = parsed.signatures
    assert witness_sig.name == example["witnessName"]
    assert len(witness_sig.signature) == 8 + 64
    (timestamp,) = struct.unpack(">Q", witness_sig.signature[:8])
    assert timestamp == example["timestamp"]
    text = parsed.checkpoint.to_text()
    assert example["signedMessage"] == f"cosignature/v1\ntime {timestamp}\n{text}"
    # No public keys are published: every signature is unknown to an unrelated key.
    unrelated = PrivateKey(KeyAlgorithm.ED25519, bytes(32)).public_key
    with pytest.raises(UntrustedCheckpointError):
        verify_checkpoint(
            example["note"],
            verifier_keys=[NoteKey(parsed.checkpoint.origin, unrelated)],
            witness_keys=[NoteKey(example["witnessName"], unrelated)],
        )


def test_cosignature_timestamp_vector() -> None:
    vectors = C2SP["cosignatureTimestamps"]
    works = base64.b64decode(vectors["works"]["signature"])
    assert len(works) == 4 + 8 + 64
    assert struct.unpack(">Q", works[4:12])[0] == vectors["works"]["timestamp"]
    plain = base64.b64decode(vectors["wrongType"]["signature"])
    assert len(plain) == 4 + 64  # a note signature: no timestamp to read


@pytest.mark.parametrize("vkey", C2SP["verifierKeys"]["ed25519"])
def test_verifier_key_with_a_plus_in_its_base64(vkey: str) -> None:
    key = NoteKey.from_vkey(vkey)
    assert key.to_vkey() == vkey
