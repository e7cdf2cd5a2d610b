"""Merkle tree hashing and proofs (RFC 9162 §2.1, https://www.rfc-editor.org/rfc/rfc9162).

Hashing is RFC 9162 (= RFC 6962) with SHA-256: a leaf is ``SHA-256(0x00 ‖ d)``, an
interior node ``SHA-256(0x01 ‖ left ‖ right)``, the empty tree ``SHA-256("")``. The
two prefixes keep a leaf from ever hashing like a node (second-preimage resistance).

Proofs are generated over a :class:`NodeStore`: anything that can return the hash of a
*complete* subtree, addressed by ``NodeID(level, position)`` — the subtree of the
``2**level`` leaves from ``position * 2**level`` up to ``(position + 1) * 2**level``
(excluded). A log that keeps every complete subtree (one row per node: about twice
the number of leaves) answers an inclusion or consistency proof, or the root at any
earlier size, by reading O(log n) nodes in one batch and hashing O(log n) times:
nothing is recomputed from the leaves. :func:`append_siblings` and
:func:`nodes_for_append` say which nodes an append reads and writes, so a database
store and :class:`InMemoryNodeStore` share one rule.

Verification is pure: :func:`verify_inclusion` (§2.1.3.2) and
:func:`verify_consistency` (§2.1.4.2) take bytes and integers and raise
:class:`~did_vault.errors.LogProofError`, never return ``False``.
"""

import hashlib
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from did_vault.errors import LogProofError, LogRangeError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() (RFC 9162 §2.1.1)."""

_sha256 = hashlib.sha256


class NodeID(NamedTuple):
    """A complete subtree: ``2**level`` leaves from leaf ``position * 2**level`` on."""

    level: int
    position: int


class NodeStore(Protocol):
    """Read access to the hashes of a log's complete subtrees.

    ``size`` is the number of leaves appended so far. ``get_nodes`` returns the hash
    of every requested complete subtree, in the order asked, and may assume each
    lies within ``[0, size)`` (the proof functions only ask for such nodes). A
    database store answers it with one query (``WHERE (level, idx) IN …``).
    """

    @property
    def size(self) -> int: ...

    def get_nodes(self, ids: Sequence[NodeID], /) -> Sequence[bytes]: ...


def hash_leaf(data: bytes) -> bytes:
    """The leaf hash ``SHA-256(0x00 ‖ data)``."""
    return _sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The interior node hash ``SHA-256(0x01 ‖ left ‖ right)``."""
    return _sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (``size`` ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf *data*, straight from RFC 9162 §2.1.1 (the reference)."""
    return root_from_leaf_hashes([hash_leaf(leaf) for leaf in leaves])


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already hashed leaves (RFC 9162 §2.1.1, iteratively)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Hash level by level; an odd node out is carried up unchanged, which gives the
    # same tree as the RFC's "largest power of two smaller than n" split.
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [
            hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# --- which complete subtrees make up a range ---------------------------------------


def range_nodes(start: int, end: int) -> list[NodeID]:
    """The complete subtrees whose fold is MTH(D[start:end]), left to right.

    ``start`` must be where the RFC's recursion puts a subtree (a multiple of the
    largest power of two not above ``end - start``, or 0): the leaves split by the
    binary digits of ``end - start``, largest first.
    """
    ids: list[NodeID] = []
    size = end - start
    while size:
        level = size.bit_length() - 1
        ids.append(NodeID(level, start >> level))
        start += 1 << level
        size -= 1 << level
    return ids


def _fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its complete subtrees: hash right to left."""
    result = hashes[-1]
    for node in reversed(hashes[:-1]):
        result = hash_children(node, result)
    return result


def _ranges_hashes(store: NodeStore, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """MTH of every range, reading all their complete subtrees in one batch."""
    plans = [range_nodes(start, end) for start, end in ranges]
    wanted = [node for plan in plans for node in plan]
    found = list(store.get_nodes(wanted)) if wanted else []
    if len(found) != len(wanted):
        raise ValueError("the node store returned the wrong number of nodes")
    out: list[bytes] = []
    position = 0
    for plan in plans:
        out.append(_fold(found[position : position + len(plan)]))
        position += len(plan)
    return out


def _check_size(store: NodeStore, tree_size: int) -> None:
    if isinstance(tree_size, bool) or not isinstance(tree_size, int):
        raise TypeError("tree sizes are integers")
    if tree_size < 0 or tree_size > store.size:
        raise LogRangeError(
            "tree size outside the log", tree_size=tree_size, log_size=store.size
        )


def root_at(store: NodeStore, tree_size: int) -> bytes:
    """MTH of the first ``tree_size`` leaves, from at most log2(n) + 1 stored nodes.

    Raises:
        LogRangeError: ``tree_size`` is negative or above the store's size.
    """
    _check_size(store, tree_size)
    if tree_size == 0:
        return EMPTY_ROOT
    return _ranges_hashes(store, [(0, tree_size)])[0]


def inclusion_ranges(leaf_index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(m, D[n]) (RFC 9162 §2.1.3.1), in order."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, tree_size
    while end - start > 1:
        k = _split(end - start)
        if leaf_index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # PATH lists the sibling nearest the leaf first
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(m, D[n]) (RFC 9162 §2.1.4.1)."""
    if old_size == 0 or old_size == new_size:
        return []
    ranges: list[tuple[int, int]] = []
    start, end, is_original = 0, new_size, True
    while True:
        if old_size == end:  # SUBPROOF(m, D[m], b)
            if not is_original:
                ranges.append((start, end))
            break
        k = _split(end - start)
        if old_size - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            is_original = False
    ranges.reverse()
    return ranges


def inclusion_proof(store: NodeStore, leaf_index: int, tree_size: int) -> list[bytes]:
    """The audit path of leaf ``leaf_index`` in the tree of ``tree_size`` leaves.

    Raises:
        LogRangeError: ``tree_size`` above the store's size, or ``leaf_index`` not
            below ``tree_size``.
    """
    _check_size(store, tree_size)
    if isinstance(leaf_index, bool) or not isinstance(leaf_index, int):
        raise TypeError("leaf indices are integers")
    if not 0 <= leaf_index < tree_size:
        raise LogRangeError(
            "leaf index outside the tree", leaf_index=leaf_index, tree_size=tree_size
        )
    return _ranges_hashes(store, inclusion_ranges(leaf_index, tree_size))


def consistency_proof(store: NodeStore, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of ``new_size``'s.

    Empty when ``old_size`` is 0 or equals ``new_size`` (nothing to prove).

    Raises:
        LogRangeError: a size above the store's size, or ``old_size > new_size``.
    """
    _check_size(store, new_size)
    _check_size(store, old_size)
    if old_size > new_size:
        raise LogRangeError(
            "old tree size above the new one", old_size=old_size, new_size=new_size
        )
    return _ranges_hashes(store, consistency_ranges(old_size, new_size))


# --- appending ------------------------------------------------------------------------


def append_siblings(index: int) -> list[NodeID]:
    """The stored nodes that appending leaf ``index`` combines with, lowest first.

    One per trailing 1 bit of ``index``: the left neighbours that the new leaf
    completes into larger subtrees.
    """
    ids: list[NodeID] = []
    level = 0
    while (index >> level) & 1:
        ids.append(NodeID(level, (index >> level) - 1))
        level += 1
    return ids


def nodes_for_append(
    index: int, leaf_hash: bytes, siblings: Sequence[bytes]
) -> list[tuple[NodeID, bytes]]:
    """Every node that appending leaf ``index`` completes: the leaf and its new parents.

    ``siblings`` are the hashes of :func:`append_siblings` ``(index)``, in order.
    """
    if len(leaf_hash) != HASH_SIZE:
        raise ValueError("a leaf hash is 32 bytes")
    if len(siblings) != len(append_siblings(index)):
        raise ValueError("wrong number of sibling hashes for this index")
    nodes = [(NodeID(0, index), leaf_hash)]
    current = leaf_hash
    for level, sibling in enumerate(siblings):
        current = hash_children(sibling, current)
        nodes.append((NodeID(level + 1, index >> (level + 1)), current))
    return nodes


class InMemoryNodeStore:
    """A :class:`NodeStore` in memory: every complete subtree, packed per level.

    ``append`` costs O(log n) hashes at worst (amortised two). Meant for tests,
    benchmarks and small tools; the registry keeps the same nodes in its database.
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        # _levels[l] holds the hashes of the complete subtrees of level l, 32 bytes
        # each, in index order.
        self._levels: list[bytearray] = [bytearray()]

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return len(self._levels[0]) // HASH_SIZE

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf *hash* (see :func:`hash_leaf`); return its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        levels = self._levels
        index = len(levels[0]) // HASH_SIZE
        levels[0] += leaf_hash
        # nodes_for_append, inlined: each trailing 1 bit of the index completes a
        # parent from the stored left sibling and the node just written.
        current, level, position = bytes(leaf_hash), 0, index
        while position & 1:
            start = (position - 1) * HASH_SIZE
            sibling = levels[level][start : start + HASH_SIZE]
            current = _sha256(NODE_PREFIX + sibling + current).digest()
            level, position = level + 1, position >> 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += current
        return index

    def append_data(self, data: bytes) -> int:
        """Append leaf data (hashed with :func:`hash_leaf`); return its index."""
        return self.append(hash_leaf(data))

    def get_nodes(self, ids: Sequence[NodeID], /) -> list[bytes]:
        """The hashes of the given complete subtrees.

        Raises:
            LogRangeError: a node that is not (yet) a complete subtree.
        """
        out: list[bytes] = []
        for level, position in ids:
            offset = position * HASH_SIZE
            if (
                level < 0
                or position < 0
                or level >= len(self._levels)
                or offset + HASH_SIZE > len(self._levels[level])
            ):
                raise LogRangeError(
                    "no such complete subtree", level=level, position=position
                )
            out.append(bytes(self._levels[level][offset : offset + HASH_SIZE]))
        return out


# --- verification ---------------------------------------------------------------------


def _check_hash(value: object, what: str, kind: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise LogProofError(f"{what} is not a 32-byte hash", kind=kind)
    return bytes(value)


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an integer")
    return value


def root_from_inclusion_proof(
    leaf_hash: bytes, proof: Sequence[bytes], *, leaf_index: int, tree_size: int
) -> bytes:
    """The root that an inclusion proof leads to (RFC 9162 §2.1.3.2, steps 1-4).

    Raises:
        LogProofError: the index is not below the size, an element is not 32
            bytes, or the proof has too many or too few elements for the position.
    """
    kind = "inclusion"
    leaf_index = _check_int(leaf_index, "leaf_index")
    tree_size = _check_int(tree_size, "tree_size")
    if not 0 <= leaf_index < tree_size:
        raise LogProofError("leaf index not below the tree size", kind=kind)
    result = _check_hash(leaf_hash, "the leaf hash", kind)
    fn, sn = leaf_index, tree_size - 1
    for element in proof:
        p = _check_hash(element, "a proof element", kind)
        if sn == 0:
            raise LogProofError("the proof has too many elements", kind=kind)
        if fn & 1 or fn == sn:
            result = hash_children(p, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = hash_children(result, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise LogProofError("the proof has too few elements", kind=kind)
    return result


def verify_inclusion(
    leaf_hash: bytes,
    proof: Sequence[bytes],
    *,
    leaf_index: int,
    tree_size: int,
    root: bytes,
) -> None:
    """Check that ``leaf_hash`` is leaf ``leaf_index`` of the tree with this root.

    Raises:
        LogProofError: the proof does not verify.
    """
    expected = _check_hash(root, "the root", "inclusion")
    computed = root_from_inclusion_proof(
        leaf_hash, proof, leaf_index=leaf_index, tree_size=tree_size
    )
    if computed != expected:
        raise LogProofError(
            "the inclusion proof leads to another root", kind="inclusion"
        )


def consistency_roots(
    proof: Sequence[bytes], *, old_size: int, new_size: int, old_root: bytes
) -> tuple[bytes, bytes]:
    """The (old, new) roots a consistency proof leads to (RFC 9162 §2.1.4.2, 1-6).

    Only for ``0 < old_size < new_size``; the caller compares the result.

    Raises:
        LogProofError: an empty proof, an element that is not 32 bytes, or too many
            or too few elements for the two sizes.
    """
    kind = "consistency"
    if not proof:
        raise LogProofError("empty consistency proof", kind=kind)
    path = [_check_hash(element, "a proof element", kind) for element in proof]
    if old_size & (old_size - 1) == 0:  # an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise LogProofError("the proof has too many elements", kind=kind)
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise LogProofError("the proof has too few elements", kind=kind)
    return fr, sr


def verify_consistency(
    proof: Sequence[bytes],
    *,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
) -> None:
    """Check that the tree (``old_size``, ``old_root``) is a prefix of the new one.

    Equal sizes need equal roots and an empty proof; size 0 needs the empty-tree
    root and an empty proof.

    Raises:
        LogProofError: the proof does not verify (including ``old_size >
            new_size``, a size-0 tree whose root is not SHA-256(""), and a
            non-empty proof where none is due).
    """
    kind = "consistency"
    old_size = _check_int(old_size, "old_size")
    new_size = _check_int(new_size, "new_size")
    old_root = _check_hash(old_root, "the old root", kind)
    new_root = _check_hash(new_root, "the new root", kind)
    if old_size < 0 or old_size > new_size:
        raise LogProofError("the old size is above the new size", kind=kind)
    if old_size == 0 or old_size == new_size:
        if proof:
            raise LogProofError("a proof where none is due", kind=kind)
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise LogProofError("an empty tree with a non-empty root", kind=kind)
        if old_size == new_size and old_root != new_root:
            raise LogProofError("equal sizes with different roots", kind=kind)
        return
    fr, sr = consistency_roots(
        proof, old_size=old_size, new_size=new_size, old_root=old_root
    )
    if fr != old_root or sr != new_root:
        raise LogProofError(
            "the consistency proof does not lead to both roots", kind=kind
        )
