"""Credential benchmark: Data Integrity issue and verify against the raw Ed25519 limit.

Run with ``python -m bench.credentials`` (``python -m bench`` runs it after the key
benchmark). In one run: raw Ed25519 sign and verify (``cryptography``, the same library
the suites use), then eddsa-jcs-2022 and eddsa-rdfc-2022 issue and verify of a realistic
ownership credential of about 1.5 KB, printed as ops/s and as a fraction of the raw
rate. Verification uses a ``CachingResolver``, as a long-running verifier would: DID
resolution is then paid once per DID and TTL, not per credential.

Targets (issue 4): eddsa-jcs-2022 verify ≥ 70 % and sign ≥ 50 % of the raw rates.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.keys import Row, environment, measure, render
from did_vault import (
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    CachingResolver,
    KeyAlgorithm,
    PrivateKey,
    create_did_key,
    default_resolver,
    issue_credential,
    keys,
    verify_credential,
    verify_proofs,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def ownership_credential(issuer: str, owner: str) -> dict[str, Any]:
    """An ownership credential of the size the registry issues (~1.5 KB as JSON).

    Only credentials-v2 terms and ``name``/``description`` are used so that the RDFC
    suite, which refuses undefined terms, signs the same document.
    """
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:3f1d1f46-4f0e-4c5c-9f8e-2b6f1b8f2d1a",
        "type": ["VerifiableCredential"],
        "issuer": {"id": issuer, "name": "Example Registry"},
        "name": "Ownership of an e-bike",
        "description": (
            "The holder is the registered owner of the item described below, "
            "recorded by the registry on 2026-11-23 after a brand-issued purchase "
            "credential was presented and checked."
        ),
        "validFrom": "2026-11-23T12:00:00Z",
        "validUntil": "2036-11-23T12:00:00Z",
        "credentialSubject": {
            "id": owner,
            "name": "Alice Example",
            "description": (
                "Brand X Trekking 7 e-bike, frame number WBX7-2026-000042, colour "
                "moss green, GTIN 09506000134352, serial 42, purchased 2026-11-20 "
                "from Example Cycles for 2499.00 EUR; warranty valid until "
                "2028-11-20; evidence: receipt sha256 "
                "uEiDm1p9S2aY1mAGbSxKkq9lE2pQoV7k3r4t5y6u7i8o9p0, photos (3) "
                "hash-linked; registry log index 1042, checkpoint 2026-11-23; "
                "previous owner none (first registration); stolen-check clear; "
                "insured with Example Mutual under policy EM-2026-77 since 2026-11-21."
            ),
        },
        "relatedResource": [
            {
                "id": "https://registry.example/evidence/receipt-42",
                "digestSRI": "sha384-S57yQDg1MTzF56Oi9DbSQ14u7jBy0RDdx0Yb"
                "eV7shwhCS88G8SCXeFq82PafhCrW",
            },
            {
                "id": "https://registry.example/evidence/photo-42-1",
                "digestSRI": "sha384-OBVP7Ev9Jn6BvDl1kWu7vvAcSjCu6fJo6w8+"
                "yX1vKpB+QqfsAVbYxXIhR8ZpJ2J8",
            },
        ],
    }


DEFAULT_BACKEND = keys.DEFAULT_VERIFY_BACKEND
# The default first: it is what did_vault verifies with.
BACKENDS: tuple[keys.VerifyBackend, ...] = (
    DEFAULT_BACKEND,
    *(b for b in ("sodium", "cryptography") if b != DEFAULT_BACKEND),
)
LIBRARY = {"sodium": "libsodium", "cryptography": "cryptography"}


def credential_rows(*, repeats: int, target_s: float) -> list[Row]:
    rows: list[Row] = []
    key = PrivateKey.generate(KeyAlgorithm.ED25519)
    issuer = str(create_did_key(key.public_key))
    method = f"{issuer}#{key.public_key.to_multikey()}"
    owner = str(create_did_key(PrivateKey.generate().public_key))
    credential = ownership_credential(issuer, owner)
    size = len(json.dumps(credential, separators=(",", ":")))
    resolver = CachingResolver(default_resolver())

    def run(name: str, func: Callable[[], object]) -> Row:
        row = Row(name, measure(func, repeats=repeats, target_s=target_s))
        rows.append(row)
        return row

    message = json.dumps(credential).encode()[:64]  # a 64-byte hash pair is signed
    signature = key.sign(message)
    raw_sign = run("raw Ed25519 sign (64 B)", lambda: key.sign(message))
    raw_verify = {
        backend: run(
            f"raw Ed25519 verify, {LIBRARY[backend]} (64 B)",
            lambda backend=backend: key.public_key.verify(
                signature, message, backend=backend
            ),
        )
        for backend in BACKENDS
    }

    def fraction(row: Row, raw: Row, target: float | None, of: str = "") -> Row:
        assert row.median_s
        assert raw.median_s
        share = raw.median_s / row.median_s
        note = f"{share:6.1%} of raw{f' {of}' if of else ''}"
        if target is not None:
            note += (
                f" (target ≥ {target:.0%}: {'met' if share >= target else 'MISSED'})"
            )
        return Row(row.name, row.median_s, note)

    for suite, targets in (
        (EDDSA_JCS_2022, (0.5, 0.7)),
        (EDDSA_RDFC_2022, (None, None)),
    ):
        signed = issue_credential(
            credential,
            key=key,
            verification_method=method,
            cryptosuite=suite,
            created=NOW,
        )
        issue = run(
            f"{suite} issue ({size} B credential)",
            lambda suite=suite: issue_credential(
                credential,
                key=key,
                verification_method=method,
                cryptosuite=suite,
                created=NOW,
            ),
        )
        rows[rows.index(issue)] = fraction(issue, raw_sign, targets[0])
        for backend in BACKENDS:
            # Verification takes the process default; each backend is measured
            # against its own raw rate (the issue's "same library").
            keys.DEFAULT_VERIFY_BACKEND = backend
            try:
                proof_only = run(
                    f"{suite} verify proof, {LIBRARY[backend]}",
                    lambda signed=signed: verify_proofs(
                        signed,
                        resolver=resolver,
                        expected_purpose="assertionMethod",
                        now=NOW,
                    ),
                )
                full = run(
                    f"{suite} verify credential (pipeline), {LIBRARY[backend]}",
                    lambda signed=signed: verify_credential(
                        signed, resolver=resolver, now=NOW
                    ),
                )
            finally:
                keys.DEFAULT_VERIFY_BACKEND = DEFAULT_BACKEND
            raw = raw_verify[backend]
            rows[rows.index(proof_only)] = fraction(
                proof_only, raw, targets[1], LIBRARY[backend]
            )
            rows[rows.index(full)] = fraction(full, raw, targets[1], LIBRARY[backend])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.credentials", description=__doc__
    )
    parser.add_argument("--repeats", type=int, default=7, help="batches per row")
    parser.add_argument("--target-ms", type=float, default=60.0, help="time per batch")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(environment())
    rows = credential_rows(repeats=args.repeats, target_s=args.target_ms / 1000)
    print(render(rows))
    print(
        f"(median of {args.repeats} batches per row; "
        f"total {time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
