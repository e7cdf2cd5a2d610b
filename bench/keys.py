"""Key benchmark: signing, verification, Multikey codecs, did:key, wallet unlock.

Run with ``python -m bench.keys`` (or ``python -m bench``). Plain Python, no pytest.
Each row is timed in repeats of a calibrated batch; the median per-operation time of
the repeats is reported, with operations per second and, where two ways of doing the
same thing are compared, their ratio. See bench/README.md for what the numbers mean.
"""

import argparse
import importlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cryptography
import nacl
from multiformats import multibase

from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.primitives.multikey import (
    ED25519_PUB,
    decode_multikey,
    encode_multikey,
    varint_decode,
    varint_encode,
)

MESSAGE = b"bench: register item gtin 09506000134352 serial 42" * 4  # 204 bytes
BENCH_PASSPHRASE = "correct horse battery staple (bench only)"


@dataclass(frozen=True, slots=True)
class Row:
    """One benchmark result (or a note why it could not run)."""

    name: str
    median_s: float | None
    note: str = ""

    @property
    def ops_per_s(self) -> float | None:
        return None if not self.median_s else 1.0 / self.median_s


def measure(
    func: Callable[[], object],
    *,
    repeats: int,
    target_s: float,
    max_number: int = 100_000,
) -> float:
    """Median seconds per call over ``repeats`` batches of about ``target_s`` each."""
    func()  # warm up (imports, caches, first-call allocation)
    number = 1
    while number < max_number:
        start = time.perf_counter()
        for _ in range(number):
            func()
        if time.perf_counter() - start >= target_s / 4:
            break
        number *= 4
    per_call: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            func()
        per_call.append((time.perf_counter() - start) / number)
    return statistics.median(per_call)


def measure_slow(func: Callable[[], object], *, runs: int) -> float:
    """Median seconds per call for operations too slow to batch (one call a run)."""
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ratio(row: Row, baseline: Row) -> str:
    """How ``row`` compares with ``baseline``: "2.0x faster than …" or "… slower …"."""
    if not row.median_s or not baseline.median_s:
        return "n/a"
    ratio = baseline.median_s / row.median_s
    if ratio >= 1:
        return f"{ratio:.1f}x faster than"
    return f"{1 / ratio:.1f}x slower than"


def key_rows(*, repeats: int, target_s: float) -> list[Row]:
    """Generation, signing and verification for both algorithms."""
    rows: list[Row] = []
    ed = PrivateKey.generate(KeyAlgorithm.ED25519)
    p256 = PrivateKey.generate(KeyAlgorithm.P256)
    ed_sig, p256_sig = ed.sign(MESSAGE), p256.sign(MESSAGE)

    def run(name: str, func: Callable[[], object], note: str = "") -> Row:
        row = Row(name, measure(func, repeats=repeats, target_s=target_s), note)
        rows.append(row)
        return row

    ed_gen = run("Ed25519 key generation", lambda: PrivateKey.generate())
    p256_gen = run(
        "P-256 key generation", lambda: PrivateKey.generate(KeyAlgorithm.P256)
    )
    ed_sign = run("Ed25519 sign (204 B)", lambda: ed.sign(MESSAGE))
    p256_sign = run("P-256 sign (204 B)", lambda: p256.sign(MESSAGE))
    ed_verify = run(
        "Ed25519 verify, cryptography",
        lambda: ed.public_key.verify(ed_sig, MESSAGE),
    )
    ed_verify_na = run(
        "Ed25519 verify, libsodium",
        lambda: ed.public_key.verify(ed_sig, MESSAGE, backend="sodium"),
    )
    p256_verify = run("P-256 verify", lambda: p256.public_key.verify(p256_sig, MESSAGE))
    rows[rows.index(p256_gen)] = Row(
        p256_gen.name, p256_gen.median_s, f"{_ratio(p256_gen, ed_gen)} Ed25519"
    )
    rows[rows.index(p256_sign)] = Row(
        p256_sign.name, p256_sign.median_s, f"{_ratio(p256_sign, ed_sign)} Ed25519"
    )
    rows[rows.index(ed_verify_na)] = Row(
        ed_verify_na.name,
        ed_verify_na.median_s,
        f"{_ratio(ed_verify_na, ed_verify)} cryptography",
    )
    rows[rows.index(p256_verify)] = Row(
        p256_verify.name,
        p256_verify.median_s,
        f"{_ratio(p256_verify, ed_verify)} Ed25519",
    )
    return rows


def multikey_rows(*, repeats: int, target_s: float) -> list[Row]:
    """Multikey framing with the base58 package vs multiformats' generic codec."""
    raw = PrivateKey.generate().public_key.raw
    framed = varint_encode(ED25519_PUB) + raw
    text = encode_multikey(ED25519_PUB, raw)

    def generic_encode() -> str:
        return str(multibase.encode(framed, "base58btc"))

    def generic_decode() -> tuple[int, bytes]:
        data = bytes(multibase.decode(text))
        codec, used = varint_decode(data)
        return codec, data[used:]

    if generic_encode() != text or generic_decode() != (ED25519_PUB, raw):
        raise RuntimeError("the two Multikey codecs disagree")
    fast_enc = Row(
        "Multikey encode, base58",
        measure(
            lambda: encode_multikey(ED25519_PUB, raw),
            repeats=repeats,
            target_s=target_s,
        ),
    )
    slow_enc = Row(
        "Multikey encode, multiformats",
        measure(generic_encode, repeats=repeats, target_s=target_s),
    )
    fast_dec = Row(
        "Multikey decode, base58",
        measure(lambda: decode_multikey(text), repeats=repeats, target_s=target_s),
    )
    slow_dec = Row(
        "Multikey decode, multiformats",
        measure(generic_decode, repeats=repeats, target_s=target_s),
    )
    parse = Row(
        "PublicKey.from_multikey (+ curve check)",
        measure(
            lambda: PublicKey.from_multikey(text), repeats=repeats, target_s=target_s
        ),
    )
    return [
        fast_enc,
        Row(slow_enc.name, slow_enc.median_s, f"{_ratio(slow_enc, fast_enc)} base58"),
        fast_dec,
        Row(slow_dec.name, slow_dec.median_s, f"{_ratio(slow_dec, fast_dec)} base58"),
        parse,
    ]


def _optional(module: str, name: str) -> Any | None:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def did_key_rows(*, repeats: int, target_s: float) -> list[Row]:
    """did:key resolution (DID string to DID document), if the method exists yet."""
    resolve = _optional("did_vault.dids.methods.key", "resolve_did_key")
    if resolve is None:
        return [Row("did:key resolve", None, "not available yet")]
    rows: list[Row] = []
    for algorithm in KeyAlgorithm:
        public = PrivateKey.generate(algorithm).public_key
        did = f"did:key:{public.to_multikey()}"
        resolve(did)  # fail loudly here, not inside the timing loop
        rows.append(
            Row(
                f"did:key resolve, {algorithm.value}",
                measure(partial(resolve, did), repeats=repeats, target_s=target_s),
            )
        )
    return rows


def wallet_rows(*, runs: int) -> list[Row]:
    """Wallet unlock at ``KDFParameters.PRODUCTION``, if the wallet exists yet."""
    wallet_cls = _optional("did_vault.wallet", "Wallet")
    kdf_cls = _optional("did_vault.keystore", "KDFParameters")
    if wallet_cls is None or kdf_cls is None or not hasattr(kdf_cls, "PRODUCTION"):
        return [Row("wallet unlock (production KDF)", None, "not available yet")]
    kdf = kdf_cls.PRODUCTION
    params = (
        f"argon2id t={kdf.time_cost} m={kdf.memory_cost_kib // 1024} MiB "
        f"p={kdf.parallelism}"
    )
    with tempfile.TemporaryDirectory(prefix="did-vault-bench-") as tmp:
        home = Path(tmp) / "wallet"
        wallet_cls.create(home, BENCH_PASSPHRASE, kdf=kdf).close()

        def unlock() -> None:
            wallet_cls.open(home, BENCH_PASSPHRASE).close()

        unlock()  # warm up
        median = measure_slow(unlock, runs=runs)
    return [Row("wallet unlock (production KDF)", median, params)]


def _format_time(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds * 1e3:9.1f} ms"
    return f"{seconds * 1e6:9.1f} µs"


def render(rows: list[Row]) -> str:
    """The result table as fixed-width text."""
    width = max(len(row.name) for row in rows)
    lines = [
        f"{'operation':<{width}}  {'median':>12}  {'ops/s':>11}  ratio / note",
        f"{'-' * width}  {'-' * 12}  {'-' * 11}  {'-' * 24}",
    ]
    for row in rows:
        if row.median_s is None:
            lines.append(f"{row.name:<{width}}  {'-':>12}  {'-':>11}  {row.note}")
            continue
        ops = row.ops_per_s or 0.0
        lines.append(
            f"{row.name:<{width}}  {_format_time(row.median_s):>12}  "
            f"{ops:>11,.0f}  {row.note}"
        )
    return "\n".join(lines)


def environment() -> str:
    """One line naming what the numbers were measured on."""
    return (
        f"Python {platform.python_version()} ({platform.machine()}), "
        f"cryptography {cryptography.__version__}, "
        f"PyNaCl {nacl.__version__}, "
        f"{os.cpu_count()} CPUs"
    )


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.keys", description=__doc__)
    parser.add_argument("--repeats", type=int, default=7, help="batches per row")
    parser.add_argument(
        "--target-ms", type=float, default=40.0, help="time per batch (ms)"
    )
    parser.add_argument("--unlock-runs", type=int, default=5, help="wallet unlocks")
    args = parser.parse_args(argv)
    options = {"repeats": args.repeats, "target_s": args.target_ms / 1000}

    started = time.perf_counter()
    print(environment())
    rows = [
        *key_rows(**options),
        *multikey_rows(**options),
        *did_key_rows(**options),
        *wallet_rows(runs=args.unlock_runs),
    ]
    print(render(rows))
    elapsed = time.perf_counter() - started
    print(f"(median of {args.repeats} batches per row; total {elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
