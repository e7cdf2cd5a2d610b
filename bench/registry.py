"""Registry service benchmark: a running registry over loopback, on SQLite and
PostgreSQL.

Run with ``python -m bench.registry`` (or ``python -m bench``). For each store it
migrates a fresh database, adds a brand issuer to the trust list, starts
``registry serve`` in a subprocess on 127.0.0.1 (a free port), and drives it with
httpx (one pooled client, several threads), bounded by a request count AND a time
limit per phase:

- ``GET /healthz``: the framework's own ceiling on this machine (same app, same
  middlewares, one thread-pool hop, no work);
- ``POST /v1/items``: registrations (the owner's presentation of a brand credential
  issued to the owner's DID, presentation and credential verified, nonce consumed,
  trust, schema, keyed hash, one transaction, two credentials signed; the nonces
  are fetched and the presentations signed before the phase);
- ``GET /v1/items/{id}``: ownership lookups by the owner (token checked, one select).

Target (issue 7): lookups ≥ 80 % of the trivial endpoint's rate. PostgreSQL is
``REGISTRY_BENCH_POSTGRES_URL`` (default the test server on 127.0.0.1); a schema of
its own is created and dropped; it is skipped with a note when unreachable.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from did_vault import (
    KeyAlgorithm,
    PrivateKey,
    create_did_key,
    create_presentation,
    issue_credential,
    sign_presentation,
)
from registry import migrations
from registry.db import make_engine
from registry.models import TrustEntryCreate, TrustRole
from registry.serial_keys import write_serial_key_file
from registry.trust import add_entry

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BRAND = "Bench Bikes"
GTIN = "09506000134352"
LOOKUP_TARGET = 0.80
STARTUP_TIMEOUT_S = 20.0
ROUNDS = 5


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    count: int
    seconds: float
    latencies: tuple[float, ...]
    failures: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def combine(rounds: list[Phase]) -> Phase:
    """One phase from several rounds of the same requests."""
    return Phase(
        rounds[0].name,
        sum(r.count for r in rounds),
        sum(r.seconds for r in rounds),
        tuple(latency for r in rounds for latency in r.latencies),
        sum(r.failures for r in rounds),
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _key(seed: int) -> PrivateKey:
    return PrivateKey(KeyAlgorithm.ED25519, bytes([seed]) * 32)


def _did(key: PrivateKey) -> tuple[str, str]:
    did = create_did_key(key.public_key)
    return str(did), f"{did}#{did.method_specific_id}"


def run_phase(
    name: str,
    call: Callable[[int], httpx.Response],
    *,
    count: int,
    max_seconds: float,
    threads: int,
    expect: int,
) -> Phase:
    """``count`` calls (``call(i)``) over ``threads`` threads, stopping at the limit."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    next_index = 0
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        nonlocal next_index, failures
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline:
            with lock:
                index = next_index
                next_index += 1
            if index >= count:
                break
            started = time.perf_counter()
            response = call(index)
            mine.append(time.perf_counter() - started)
            if response.status_code != expect:
                bad += 1
        with lock:
            latencies.extend(mine)
            failures += bad

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return Phase(name, len(latencies), elapsed, tuple(latencies), failures)


def _unreachable(admin_url: str) -> str | None:
    """Why PostgreSQL cannot be used, or None."""
    engine = make_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return type(exc).__name__
    finally:
        engine.dispose()
    return None


@contextmanager
def _postgres_url(admin_url: str) -> Iterator[str]:
    admin = make_engine(admin_url)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def running_registry(database_url: str, folder: Path, brand_did: str) -> Iterator[str]:
    """A migrated database with a trusted brand, and ``registry serve`` on it."""
    engine = make_engine(database_url)
    migrations.upgrade(engine)
    with Session(engine) as session:
        add_entry(
            session=session,
            entry_in=TrustEntryCreate(
                did=brand_did, role=TrustRole.BRAND_ISSUER, brand=BRAND
            ),
            now=datetime.now(UTC),
        )
        session.commit()
    engine.dispose()
    signing_key = folder / "signing.multikey"
    if not signing_key.exists():
        descriptor = os.open(signing_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(_key(99).to_multikey())
        write_serial_key_file(folder / "serial.key")
    port = _free_port()
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_SIGNING_KEY_FILE": str(signing_key),
        "REGISTRY_SERIAL_KEY_FILE": str(folder / "serial.key"),
        "REGISTRY_DID_DOMAIN": "localhost",
        "REGISTRY_DID_PORT": str(port),
        "REGISTRY_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli.registry_main import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"registry did not start: {error[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def _brand_credentials(
    brand: PrivateKey, count: int, prefix: str, *, subject: str
) -> list[dict[str, Any]]:
    did, method = _did(brand)
    documents = []
    for number in range(count):
        unsigned = {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://registry.example/ns/registry/v1",
            ],
            "type": ["VerifiableCredential", "ItemIdentityCredential"],
            "issuer": did,
            "credentialSubject": {
                "id": subject,
                "type": "IndividualProduct",
                "name": "Trekking bike",
                "gtin": GTIN,
                "serialNumber": f"{prefix}-{number:06d}",
                "brand": {"type": "Brand", "name": BRAND},
                "model": "Trekking 7",
            },
        }
        documents.append(
            issue_credential(unsigned, key=brand, verification_method=method)
        )
    return documents


def _token(client: httpx.Client, owner: PrivateKey) -> str:
    did, method = _did(owner)
    issued = client.post("/v1/auth/challenge", json={"did": did}).json()
    presentation = sign_presentation(
        create_presentation([], holder=did),
        key=owner,
        verification_method=method,
        challenge=issued["challenge"],
        domain=issued["audience"],
    )
    answer = client.post(
        "/v1/auth/token",
        json={"challenge": issued["challenge"], "presentation": presentation},
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _presented(
    client: httpx.Client, token: str, owner: PrivateKey, credential: dict[str, Any]
) -> dict[str, Any]:
    """A registration body: the credential presented by the owner (its subject),
    bound to a fresh registry nonce and the registry's DID."""
    did, method = _did(owner)
    issued = client.post(
        "/v1/items/nonce", headers={"Authorization": f"Bearer {token}"}
    )
    issued.raise_for_status()
    nonce = issued.json()["nonce"]
    presentation = sign_presentation(
        create_presentation([credential], holder=did),
        key=owner,
        verification_method=method,
        challenge=nonce,
        domain=issued.json()["audience"],
    )
    return {"presentation": presentation, "nonce": nonce}


def bench_store(
    label: str, database_url: str, folder: Path, args: argparse.Namespace
) -> list[Phase]:
    brand, owner = _key(41), _key(7)
    brand_did, _ = _did(brand)
    credentials = _brand_credentials(
        brand, args.registrations, label, subject=_did(owner)[0]
    )
    with running_registry(database_url, folder, brand_did) as base:
        limits = httpx.Limits(max_connections=args.threads * 2)
        with httpx.Client(base_url=base, limits=limits, timeout=30.0) as client:
            token = _token(client, owner)
            headers = {"Authorization": f"Bearer {token}"}
            registered: list[str] = []
            bodies = [_presented(client, token, owner, c) for c in credentials]

            def register(index: int) -> httpx.Response:
                response = client.post("/v1/items", json=bodies[index], headers=headers)
                if response.status_code == 201:
                    registered.append(response.json()["item"]["id"])
                return response

            def lookup(index: int) -> httpx.Response:
                item_id = registered[index % len(registered)]
                return client.get(f"/v1/items/{item_id}", headers=headers)

            def trivial(_index: int) -> httpx.Response:
                return client.get("/healthz")

            for _ in range(200):  # warm up connections, caches and the JIT-less paths
                trivial(0)
            registration = run_phase(
                f"{label}: POST /v1/items (register)",
                register,
                count=args.registrations,
                max_seconds=args.seconds,
                threads=args.threads,
                expect=201,
            )
            if not registered:
                return [registration]
            # The ceiling and the lookups alternate in rounds, so that a change in
            # the machine's load during the run affects both alike.
            ceiling: list[Phase] = []
            lookups: list[Phase] = []
            for _ in range(ROUNDS):
                for name, call, into in (
                    (f"{label}: GET /healthz (ceiling)", trivial, ceiling),
                    (f"{label}: GET /v1/items/{{id}} (lookup)", lookup, lookups),
                ):
                    into.append(
                        run_phase(
                            name,
                            call,
                            count=args.requests // ROUNDS,
                            max_seconds=args.seconds / ROUNDS,
                            threads=args.threads,
                            expect=200,
                        )
                    )
            phases = [combine(ceiling), registration, combine(lookups)]
    return phases


def render(phases: list[Phase]) -> str:
    header = f"{'phase':<44} {'requests':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    lines = [header, "-" * len(header)]
    for phase in phases:
        fail = f"  ({phase.failures} failed)" if phase.failures else ""
        p50, p99 = phase.percentile(0.5) * 1000, phase.percentile(0.99) * 1000
        lines.append(
            f"{phase.name:<44} {phase.count:>8} {phase.rate:>9.0f} "
            f"{p50:>8.2f} {p99:>8.2f}{fail}"
        )
    return "\n".join(lines)


def ratios(phases: list[Phase]) -> tuple[list[str], bool]:
    """Lookup rate as a fraction of the trivial endpoint's, per store."""
    lines, met = [], True
    by_store: dict[str, dict[str, Phase]] = {}
    for phase in phases:
        store, _, what = phase.name.partition(": ")
        by_store.setdefault(store, {})[what.split(" ")[0] + what.split(" ")[1]] = phase
    for store, named in by_store.items():
        ceiling = named.get("GET/healthz")
        lookup = named.get("GET/v1/items/{id}")
        if ceiling is None or lookup is None or not ceiling.rate:
            continue
        fraction = lookup.rate / ceiling.rate
        ok = fraction >= LOOKUP_TARGET
        met = met and ok
        lines.append(
            f"{store}: lookups at {fraction:.0%} of /healthz "
            f"(target ≥ {LOOKUP_TARGET:.0%}: {'met' if ok else 'NOT met'})"
        )
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registry")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--registrations", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.registrations, args.seconds = 400, 40, 3.0
    print(f"Registry service benchmark ({os.cpu_count()} CPUs, {args.threads} threads)")
    phases: list[Phase] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        phases += bench_store(
            "sqlite", f"sqlite:///{folder / 'bench.sqlite3'}", folder, args
        )
        admin = os.environ.get("REGISTRY_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        unreachable = _unreachable(admin)
        if unreachable is None:
            with _postgres_url(admin) as url:
                phases += bench_store("postgresql", url, folder, args)
        else:
            notes.append(
                f"postgresql: skipped ({unreachable}); set "
                "REGISTRY_BENCH_POSTGRES_URL to a reachable server"
            )
    print(render(phases))
    lines, met = ratios(phases)
    for line in [*lines, *notes]:
        print(line)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
