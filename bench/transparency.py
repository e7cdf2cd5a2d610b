"""Transparency log benchmark: appends, and proof cost as the log grows.

Run with ``python -m bench.transparency`` (``python -m bench`` runs it last). For logs
of 10⁴, 10⁵ and 10⁶ leaves in ``InMemoryNodeStore`` (every complete subtree kept,
which is what the registry's database will keep):

- **append**: leaves per second while building the log (leaf hash given; O(log n)
  worst case, two node writes on average);
- **inclusion proof** / **consistency proof**: generation (one batched read of
  O(log n) nodes, then the hashes of the one incomplete subtree) and verification
  (RFC 9162 §2.1.3.2 / §2.1.4.2: one hash per proof element), cycling over spread-out
  leaf indices and old sizes;
- **root at an earlier size**: from at most log2(n) + 1 stored nodes.

The note column gives the average number of stored nodes a generation reads and the
proof length; both grow with log2(n), so times should grow by about
log2(10⁶) / log2(10⁴) = 1.5x from the smallest log to the largest, not 100x.
Database-backed numbers (SQLite, PostgreSQL) come with the registry's store.
"""

import argparse
import hashlib
import math
import sys
import time
from collections.abc import Callable, Sequence

from bench.keys import Row, environment, measure, render
from did_vault.transparency.merkle import (
    InMemoryNodeStore,
    NodeID,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    root_at,
    verify_consistency,
    verify_inclusion,
)

SIZES = (10_000, 100_000, 1_000_000)
SAMPLES = 64  # distinct indices / old sizes cycled through per row


class _CountingStore:
    """Wraps a store to count the nodes one generation reads."""

    def __init__(self, store: InMemoryNodeStore) -> None:
        self.store, self.reads = store, 0

    @property
    def size(self) -> int:
        return self.store.size

    def get_nodes(self, ids: Sequence[NodeID], /) -> list[bytes]:
        self.reads += len(ids)
        return self.store.get_nodes(ids)


def _build(size: int) -> tuple[InMemoryNodeStore, list[bytes], float]:
    leaves = [hash_leaf(i.to_bytes(8, "big")) for i in range(size)]
    store = InMemoryNodeStore()
    start = time.perf_counter()
    for leaf in leaves:
        store.append(leaf)
    return store, leaves, time.perf_counter() - start


def _cycle(items: list[int]) -> Callable[[], int]:
    position = [0]

    def next_item() -> int:
        position[0] = (position[0] + 1) % len(items)
        return items[position[0]]

    return next_item


def size_rows(size: int, *, repeats: int, target_s: float) -> list[Row]:
    """Every row for a log of ``size`` leaves."""
    store, leaves, build_s = _build(size)
    rows = [Row(f"append, {size:,} leaves", build_s / size, "in-memory NodeStore")]
    root = root_at(store, size)
    step = size // SAMPLES
    indices = [i * step + (i * 7919) % step for i in range(SAMPLES)]
    olds = [max(1, i * step + (i * 104_729) % step) for i in range(SAMPLES)]
    paths = {i: inclusion_proof(store, i, size) for i in indices}
    old_roots = {m: root_at(store, m) for m in olds}
    proofs = {m: consistency_proof(store, m, size) for m in olds}

    counting = _CountingStore(store)
    for i in indices:
        inclusion_proof(counting, i, size)
    inc_reads = counting.reads / SAMPLES
    counting.reads = 0
    for m in olds:
        consistency_proof(counting, m, size)
    con_reads = counting.reads / SAMPLES
    inc_len = sum(len(p) for p in paths.values()) / SAMPLES
    con_len = sum(len(p) for p in proofs.values()) / SAMPLES

    next_index, next_old = _cycle(indices), _cycle(olds)

    def gen_inclusion() -> object:
        return inclusion_proof(store, next_index(), size)

    def check_inclusion() -> None:
        i = next_index()
        verify_inclusion(
            leaves[i],
            paths[i],
            leaf_index=i,
            tree_size=size,
            root=root,
        )

    def gen_consistency() -> object:
        return consistency_proof(store, next_old(), size)

    def check_consistency() -> None:
        m = next_old()
        verify_consistency(
            proofs[m],
            old_size=m,
            new_size=size,
            old_root=old_roots[m],
            new_root=root,
        )

    def earlier_root() -> object:
        return root_at(store, next_old())

    def timed(func: Callable[[], object]) -> float:
        return measure(func, repeats=repeats, target_s=target_s)

    rows += [
        Row(
            "  inclusion proof, generate",
            timed(gen_inclusion),
            f"{inc_reads:.1f} nodes read",
        ),
        Row(
            "  inclusion proof, verify",
            timed(check_inclusion),
            f"{inc_len:.1f} hashes",
        ),
        Row(
            "  consistency proof, generate",
            timed(gen_consistency),
            f"{con_reads:.1f} nodes read",
        ),
        Row(
            "  consistency proof, verify",
            timed(check_consistency),
            f"{con_len:.1f} hashes",
        ),
        Row("  root at an earlier size", timed(earlier_root)),
    ]
    return rows


def _growth(rows: list[Row], sizes: Sequence[int]) -> str:
    """How each proof row grew from the smallest log to the largest."""
    by_name: dict[str, list[float]] = {}
    for row in rows:
        if row.name.startswith("  ") and row.median_s:
            by_name.setdefault(row.name.strip(), []).append(row.median_s)
    parts = [
        f"{name}: {times[-1] / times[0]:.2f}x"
        for name, times in by_name.items()
        if len(times) > 1
    ]
    small, large = min(sizes), max(sizes)
    log_ratio = math.log2(large) / math.log2(small)
    head = f"growth {small:,} -> {large:,} leaves (log2 ratio {log_ratio:.2f}x): "
    return head + "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.transparency", description=__doc__
    )
    parser.add_argument("--repeats", type=int, default=7, help="batches per row")
    parser.add_argument(
        "--target-ms", type=float, default=40.0, help="time per batch (ms)"
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(SIZES),
        help="log sizes in leaves (default: 10^4 10^5 10^6)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(environment())
    print(f"sha256 backend: {hashlib.sha256().name} (OpenSSL via hashlib)")
    rows: list[Row] = []
    for size in args.sizes:
        rows += size_rows(size, repeats=args.repeats, target_s=args.target_ms / 1000)
    print(render(rows))
    print(_growth(rows, args.sizes))
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
