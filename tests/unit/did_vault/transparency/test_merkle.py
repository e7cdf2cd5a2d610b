"""RFC 9162 hashing and proofs: every valid proof up to 64 leaves, and its mutations.

The (m, n) matrices run inside a few test functions (one failure list each) rather
than as thousands of pytest cases, so the module stays fast. The oracle is a direct
transcription of the RFC's recursive definitions over the leaf data.
"""

import hashlib
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.errors import LogProofError, LogRangeError
from did_vault.transparency.merkle import (
    EMPTY_ROOT,
    InMemoryNodeStore,
    NodeID,
    append_siblings,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    nodes_for_append,
    range_nodes,
    root_at,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

MAX = 64
LEAVES = [f"leaf {i}".encode() for i in range(MAX)]


# --- the oracle: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 word for word ----------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return subproof(m, d, True) if 0 < m < len(d) else []


# --- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def store() -> InMemoryNodeStore:
    built = InMemoryNodeStore()
    for leaf in LEAVES:
        built.append_data(leaf)
    return built


@pytest.fixture(scope="module")
def roots() -> list[bytes]:
    return [mth(LEAVES[:n]) for n in range(MAX + 1)]


def _flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


def _bits(*salts: int) -> set[int]:
    """First, last and a position that moves with the case: all 256 get exercised."""
    return {0, 7, 255, sum(salts) * 37 % 256}


def _rejects(check: Callable[..., object], *args: object, **kwargs: object) -> bool:
    try:
        check(*args, **kwargs)
    except LogProofError:
        return True
    return False


# --- hashing --------------------------------------------------------------------


def test_hashes_are_rfc9162_prefixed_sha256() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert hash_leaf(b"x") == hashlib.sha256(b"\x00x").digest()
    assert hash_children(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()


def test_root_hash_matches_the_recursive_definition_for_every_size(
    roots: list[bytes],
) -> None:
    for n in range(MAX + 1):
        assert root_hash(LEAVES[:n]) == roots[n]
        assert root_from_leaf_hashes([hash_leaf(x) for x in LEAVES[:n]]) == roots[n]


def test_root_at_every_earlier_size_comes_from_stored_subtrees(
    store: InMemoryNodeStore, roots: list[bytes]
) -> None:
    assert store.size == MAX
    assert [root_at(store, n) for n in range(MAX + 1)] == roots


def test_a_64_byte_leaf_equal_to_two_child_hashes_does_not_collide() -> None:
    left, right = hash_leaf(b"a"), hash_leaf(b"b")
    two_leaves = root_hash([b"a", b"b"])
    forged = root_hash([left + right])  # one leaf whose data is the two hashes
    assert two_leaves == hash_children(left, right)
    assert forged != two_leaves
    assert hash_leaf(left + right) != hash_children(left, right)
    with pytest.raises(LogProofError):
        verify_inclusion(
            hash_leaf(left + right), [], leaf_index=0, tree_size=1, root=two_leaves
        )
    # Nor can the node be passed off as a leaf of the 2-leaf tree's parent.
    with pytest.raises(LogProofError):
        verify_inclusion(two_leaves, [], leaf_index=0, tree_size=1, root=forged)


# --- generation -----------------------------------------------------------------


def test_proofs_match_the_rfc_definitions_for_every_size(
    store: InMemoryNodeStore,
) -> None:
    wrong: list[str] = []
    for n in range(1, MAX + 1):
        for m in range(n):
            if inclusion_proof(store, m, n) != path(m, LEAVES[:n]):
                wrong.append(f"inclusion {m} of {n}")
        for m in range(n + 1):
            if consistency_proof(store, m, n) != proof(m, LEAVES[:n]):
                wrong.append(f"consistency {m} to {n}")
    assert wrong == []


def test_generation_refuses_what_is_outside_the_log(store: InMemoryNodeStore) -> None:
    for index, size in [(0, 0), (5, 5), (-1, 3), (0, MAX + 1), (0, -1)]:
        with pytest.raises(LogRangeError):
            inclusion_proof(store, index, size)
    for old, new in [(5, 4), (0, MAX + 1), (-1, 3)]:
        with pytest.raises(LogRangeError):
            consistency_proof(store, old, new)
    with pytest.raises(LogRangeError):
        root_at(store, MAX + 1)
    with pytest.raises(LogRangeError):
        store.get_nodes([NodeID(6, 1)])  # leaves 64..127: not complete
    with pytest.raises(TypeError):
        inclusion_proof(store, True, 3)


class CountingStore:
    """A synthetic store of 10 million leaves that counts what a proof reads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls: list[list[NodeID]] = []

    def get_nodes(self, ids: Sequence[NodeID], /) -> list[bytes]:
        self.calls.append(list(ids))
        for level, position in ids:
            assert (position + 1) << level <= self.size, "asked for an incomplete node"
        return [
            hashlib.sha256(f"{i.level}/{i.position}".encode()).digest() for i in ids
        ]


@pytest.mark.parametrize("size", [10_000_000, 2**23, 2**23 + 1, 9_999_999])
def test_proofs_at_ten_million_leaves_read_o_log_n_nodes_in_one_batch(
    size: int,
) -> None:
    depth = (size - 1).bit_length()
    for make in (
        lambda s: inclusion_proof(s, 0, size),
        lambda s: inclusion_proof(s, size - 1, size),
        lambda s: inclusion_proof(s, size // 3, size),
        lambda s: consistency_proof(s, size // 2 + 1, size),
        lambda s: consistency_proof(s, 12_345, size),
        lambda s: root_at(s, size),
    ):
        counting = CountingStore(size)
        make(counting)
        assert len(counting.calls) == 1
        assert len(counting.calls[0]) <= 2 * depth + 2


def test_range_nodes_split_a_range_into_aligned_complete_subtrees() -> None:
    assert range_nodes(0, 13) == [NodeID(3, 0), NodeID(2, 2), NodeID(0, 12)]
    assert range_nodes(8, 16) == [NodeID(3, 1)]
    assert range_nodes(4, 4) == []


def test_append_completes_one_node_per_trailing_one_bit() -> None:
    assert append_siblings(0) == []
    assert append_siblings(7) == [NodeID(0, 6), NodeID(1, 2), NodeID(2, 0)]
    leaf = hash_leaf(b"x")
    nodes = nodes_for_append(3, leaf, [b"\x01" * 32, b"\x02" * 32])
    assert [node for node, _ in nodes] == [NodeID(0, 3), NodeID(1, 1), NodeID(2, 0)]
    assert nodes[1][1] == hash_children(b"\x01" * 32, leaf)
    with pytest.raises(ValueError, match="sibling"):
        nodes_for_append(3, leaf, [])
    with pytest.raises(ValueError, match="32 bytes"):
        nodes_for_append(0, b"short", [])


def test_a_replayed_store_built_from_the_append_rule_matches(
    store: InMemoryNodeStore,
) -> None:
    # What a database store does: read the siblings, write the new nodes.
    rows: dict[NodeID, bytes] = {}
    for index, leaf in enumerate(LEAVES):
        siblings = [rows[node] for node in append_siblings(index)]
        rows.update(nodes_for_append(index, hash_leaf(leaf), siblings))
    assert len(rows) == 2 * MAX - 1
    assert store.get_nodes(list(rows)) == list(rows.values())


# --- inclusion verification -------------------------------------------------------


def test_every_inclusion_proof_up_to_64_leaves_verifies(
    store: InMemoryNodeStore, roots: list[bytes]
) -> None:
    for n in range(1, MAX + 1):
        for m in range(n):
            leaf = hash_leaf(LEAVES[m])
            path_ = inclusion_proof(store, m, n)
            verify_inclusion(leaf, path_, leaf_index=m, tree_size=n, root=roots[n])
            assert (
                root_from_inclusion_proof(leaf, path_, leaf_index=m, tree_size=n)
                == roots[n]
            )


def _inclusion_mutations(
    m: int, n: int, leaf: bytes, path_: list[bytes], roots: list[bytes]
) -> list[tuple[str, bytes, list[bytes], int, int, bytes]]:
    root = roots[n]
    out: list[tuple[str, bytes, list[bytes], int, int, bytes]] = []
    for j, element in enumerate(path_):
        for bit in _bits(m, n, j):
            changed = [*path_]
            changed[j] = _flip(element, bit)
            out.append((f"bit {bit} of element {j}", leaf, changed, m, n, root))
        out.append(
            (
                f"element {j} truncated",
                leaf,
                [*path_[:j], element[:31], *path_[j + 1 :]],
                m,
                n,
                root,
            )
        )
    out += [
        ("index - 1", leaf, path_, m - 1, n, root),
        ("index + 1", leaf, path_, m + 1, n, root),
        ("index ^ 2", leaf, path_, m ^ 2, n, root),
        ("size * 2", leaf, path_, m, n * 2, root),
        ("size / 2", leaf, path_, m, n // 2, root),
        ("wrong leaf", hash_leaf(b"wrong"), path_, m, n, root),
        ("unhashed leaf", b"WrongLeaf", path_, m, n, root),
        (
            "leaf data for hash",
            LEAVES[m] + bytes(32 - len(LEAVES[m])),
            path_,
            m,
            n,
            root,
        ),
        ("empty root", leaf, path_, m, n, EMPTY_ROOT),
        ("no root", leaf, path_, m, n, b""),
        ("root of n - 1", leaf, path_, m, n, roots[n - 1]),
        ("leaf as root", leaf, path_, m, n, leaf)
        if n > 1
        else ("", b"", [], 0, 0, b""),
        ("trailing root", leaf, [*path_, root], m, n, root),
        ("trailing empty", leaf, [*path_, b""], m, n, root),
        ("preceding root", leaf, [root, *path_], m, n, root),
        ("preceding empty", leaf, [b"", *path_], m, n, root),
    ]
    if path_:
        out.append(("missing last", leaf, path_[:-1], m, n, root))
        out.append(("missing first", leaf, path_[1:], m, n, root))
    if len(path_) > 1:
        out.append(
            ("inserted", leaf, [path_[0], hash_leaf(b"x"), *path_[1:]], m, n, root)
        )
        out.append(("swapped", leaf, [path_[1], path_[0], *path_[2:]], m, n, root))
    return [case for case in out if case[0]]


def test_inclusion_verifier_rejects_every_mutation(
    store: InMemoryNodeStore, roots: list[bytes]
) -> None:
    accepted: list[str] = []
    count = 0
    for n in range(1, MAX + 1):
        for m in range(n):
            leaf = hash_leaf(LEAVES[m])
            path_ = inclusion_proof(store, m, n)
            for name, leaf_, path2, m2, n2, root in _inclusion_mutations(
                m, n, leaf, path_, roots
            ):
                count += 1
                if not _rejects(
                    verify_inclusion,
                    leaf_,
                    path2,
                    leaf_index=m2,
                    tree_size=n2,
                    root=root,
                ):
                    accepted.append(f"{m} of {n}: {name}")
    assert accepted == []
    assert count > 50_000


def test_inclusion_rejects_a_size_whose_path_length_differs(
    store: InMemoryNodeStore, roots: list[bytes]
) -> None:
    # The proof is not fully consumed (or runs out) for any such size.
    lengths = {
        (m, n): len(path(m, LEAVES[:n])) for n in range(1, MAX + 1) for m in range(n)
    }
    accepted: list[str] = []
    for n in range(1, MAX + 1):
        for m in range(n):
            leaf, path_ = hash_leaf(LEAVES[m]), inclusion_proof(store, m, n)
            for other in range(m + 1, MAX + 1):
                if lengths[m, other] != len(path_) and not _rejects(
                    verify_inclusion,
                    leaf,
                    path_,
                    leaf_index=m,
                    tree_size=other,
                    root=roots[n],
                ):
                    accepted.append(f"{m} of {n} as size {other}")
    assert accepted == []


def test_inclusion_edge_cases() -> None:
    leaf = hash_leaf(b"data")
    verify_inclusion(leaf, [], leaf_index=0, tree_size=1, root=leaf)
    for index, size in [(0, 0), (1, 0), (2, 1), (1, 1)]:
        with pytest.raises(LogProofError):
            verify_inclusion(leaf, [], leaf_index=index, tree_size=size, root=leaf)
    with pytest.raises(LogProofError):
        verify_inclusion(b"", [], leaf_index=0, tree_size=1, root=b"")
    with pytest.raises(TypeError):
        verify_inclusion(leaf, [], leaf_index=0, tree_size=1.0, root=leaf)  # type: ignore[arg-type]


# --- consistency verification -----------------------------------------------------


def test_every_consistency_proof_up_to_64_leaves_verifies(
    store: InMemoryNodeStore, roots: list[bytes]
) -> None:
    for n in range(MAX + 1):
        for m in range(n + 1):
            verify_consistency(
                consistency_proof(store, m, n),
                old_size=m,
                new_size=n,
                old_root=roots[m],
                new_root=roots[n],
            )


def _consistency_mutations(
    m: int, n: int, proof_: list[bytes], roots: list[bytes]
) -> list[tuple[str, list[bytes], int, int, bytes, bytes]]:
    r1, r2 = roots[m], roots[n]
    out: list[tuple[str, list[bytes], int, int, bytes, bytes]] = []
    for j, element in enumerate(proof_):
        for bit in _bits(m, n, j):
            changed = [*proof_]
            changed[j] = _flip(element, bit)
            out.append((f"bit {bit} of element {j}", changed, m, n, r1, r2))
        out.append(
            (
                f"element {j} truncated",
                [*proof_[:j], element[:31], *proof_[j + 1 :]],
                m,
                n,
                r1,
                r2,
            )
        )
    out += [
        ("old size - 1", proof_, m - 1, n, r1, r2),
        ("old size + 1", proof_, m + 1, n, r1, r2),
        ("old size ^ 2", proof_, m ^ 2, n, r1, r2),
        ("new size * 2", proof_, m, n * 2, r1, r2),
        ("new size / 2", proof_, m, n // 2, r1, r2),
        ("sizes swapped", proof_, n, m, r2, r1),
        ("wrong old root", proof_, m, n, hash_leaf(b"WrongRoot"), r2),
        ("wrong new root", proof_, m, n, r1, hash_leaf(b"WrongRoot")),
        ("empty old root", proof_, m, n, b"", r2),
        ("empty new root", proof_, m, n, r1, b""),
        ("empty-tree old root", proof_, m, n, EMPTY_ROOT, r2),
        ("swapped roots", proof_, m, n, r2, r1),
        ("empty proof", [], m, n, r1, r2),
        ("trailing garbage", [*proof_, b""], m, n, r1, r2),
        ("trailing old root", [*proof_, r1], m, n, r1, r2),
        ("trailing new root", [*proof_, r2], m, n, r1, r2),
        ("preceding garbage", [b"", *proof_], m, n, r1, r2),
        ("preceding old root", [r1, *proof_], m, n, r1, r2),
        ("preceding new root", [r2, *proof_], m, n, r1, r2),
        ("preceding proof[0]", [proof_[0], *proof_], m, n, r1, r2),
        ("truncated proof", proof_[:-1], m, n, r1, r2),
        ("missing first", proof_[1:], m, n, r1, r2),
        ("old size 0 with the proof", proof_, 0, n, EMPTY_ROOT, r2),
        ("equal sizes with the proof", proof_, n, n, r2, r2),
    ]
    return out


def test_consistency_verifier_rejects_every_mutation(
    store: InMemoryNodeStore, roots: list[bytes]
) -> None:
    accepted: list[str] = []
    count = 0
    for n in range(2, MAX + 1):
        for m in range(1, n):
            proof_ = consistency_proof(store, m, n)
            for name, p, m2, n2, r1, r2 in _consistency_mutations(m, n, proof_, roots):
                count += 1
                if not _rejects(
                    verify_consistency,
                    p,
                    old_size=m2,
                    new_size=n2,
                    old_root=r1,
                    new_root=r2,
                ):
                    accepted.append(f"{m} to {n}: {name}")
    assert accepted == []
    assert count > 50_000


def test_consistency_rejects_a_new_size_the_proof_does_not_fit(
    store: InMemoryNodeStore, roots: list[bytes]
) -> None:
    lengths = {
        (m, n): len(proof(m, LEAVES[:n]))
        for n in range(1, MAX + 1)
        for m in range(1, n + 1)
    }
    accepted: list[str] = []
    for n in range(2, MAX + 1):
        for m in range(1, n):
            proof_ = consistency_proof(store, m, n)
            for other in range(m + 1, MAX + 1):
                if lengths[m, other] != len(proof_) and not _rejects(
                    verify_consistency,
                    proof_,
                    old_size=m,
                    new_size=other,
                    old_root=roots[m],
                    new_root=roots[n],
                ):
                    accepted.append(f"{m} to {n} as {other}")
    assert accepted == []


def test_consistency_edge_cases(roots: list[bytes]) -> None:
    some = hash_leaf(b"some")
    verify_consistency(
        [], old_size=0, new_size=0, old_root=EMPTY_ROOT, new_root=EMPTY_ROOT
    )
    verify_consistency(
        [], old_size=0, new_size=5, old_root=EMPTY_ROOT, new_root=roots[5]
    )
    verify_consistency([], old_size=3, new_size=3, old_root=roots[3], new_root=roots[3])
    for old, new, r1, r2, p in [
        (0, 0, EMPTY_ROOT, some, []),  # equal sizes, different roots
        (3, 3, roots[3], roots[4], []),
        (0, 5, some, roots[5], []),  # an empty tree has the empty root
        (0, 5, EMPTY_ROOT, roots[5], [some]),  # m = 0 with a non-empty proof
        (3, 3, roots[3], roots[3], [some]),
        (4, 3, roots[4], roots[3], []),  # m > n
        (1, 2, roots[1], roots[2], []),  # a proof is due
        (-1, 2, roots[1], roots[2], []),
    ]:
        with pytest.raises(LogProofError):
            verify_consistency(p, old_size=old, new_size=new, old_root=r1, new_root=r2)


# --- properties -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_any_single_bit_flip_breaks_a_proof(size: int, data: st.DataObject) -> None:
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    built = InMemoryNodeStore()
    for leaf in leaves:
        built.append_data(leaf)
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))
    root = root_at(built, size)
    path_ = inclusion_proof(built, index, size)
    cons = consistency_proof(built, old, size)
    verify_inclusion(
        hash_leaf(leaves[index]), path_, leaf_index=index, tree_size=size, root=root
    )
    verify_consistency(
        cons, old_size=old, new_size=size, old_root=root_at(built, old), new_root=root
    )
    if path_:
        j = data.draw(st.integers(0, len(path_) - 1))
        path_[j] = _flip(path_[j], data.draw(st.integers(0, 255)))
        with pytest.raises(LogProofError):
            verify_inclusion(
                hash_leaf(leaves[index]),
                path_,
                leaf_index=index,
                tree_size=size,
                root=root,
            )
    if cons:
        j = data.draw(st.integers(0, len(cons) - 1))
        cons[j] = _flip(cons[j], data.draw(st.integers(0, 255)))
        with pytest.raises(LogProofError):
            verify_consistency(
                cons,
                old_size=old,
                new_size=size,
                old_root=root_at(built, old),
                new_root=root,
            )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=200))
def test_incremental_roots_match_the_definition(leaves: list[bytes]) -> None:
    built = InMemoryNodeStore()
    for i, leaf in enumerate(leaves):
        assert built.append_data(leaf) == i
    for n in {0, 1, len(leaves) // 2, len(leaves) - 1, len(leaves)}:
        assert root_at(built, n) == root_hash(leaves[:n])
