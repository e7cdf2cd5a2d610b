"""Single-use verifier nonces across ``did-vault verify`` calls, in one small file.

The verifier side of the command line is one process per call, so an in-memory
store would accept the same presentation twice. :class:`FileNonceStore` keeps the
nonces it has accepted in ``verifier-nonces.json`` (mode 0600) beside the wallet,
under an exclusive lock, and forgets each once a presentation using it could no
longer pass the Key Binding freshness check anyway.

The nonce is chosen by the person verifying (``--nonce``), not issued here, so any
nonce not seen before is accepted once; :meth:`FileNonceStore.issue` mints fresh
ones for a verifier that wants them.
"""

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from cli.context import CLIError
from did_vault import NonceState

NONCE_FILE_NAME: Final = "verifier-nonces.json"
DEFAULT_RETENTION: Final = timedelta(minutes=15)
"""Longer than the verifier's Key Binding window (5 minutes plus leeway)."""
MAX_NONCES: Final = 10_000
NONCE_BYTES: Final = 16


class FileNonceStore:
    """A :class:`~did_vault.NonceStore` in a JSON file, safe across processes."""

    def __init__(self, path: Path, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        self._path = Path(path)
        self._lock_path = self._path.with_name(self._path.name + ".lock")
        self._retention = retention

    @property
    def path(self) -> Path:
        return self._path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, float]]:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            entries = self._read()
            before = dict(entries)
            yield entries
            if entries != before:
                self._write(entries)
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self) -> dict[str, float]:
        try:
            data: Any = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # Starting over would let a replay through: refuse to check instead.
            raise CLIError(
                "cli.nonce-store-damaged",
                f"cannot read the verifier nonce file {self._path}: {exc}",
                exit_code=78,
            ) from exc
        used = data.get("used") if isinstance(data, dict) else None
        if not isinstance(used, dict):
            raise CLIError(
                "cli.nonce-store-damaged",
                f"{self._path} is not a verifier nonce file",
                exit_code=78,
            )
        return {
            str(nonce): float(until)
            for nonce, until in used.items()
            if isinstance(until, int | float) and not isinstance(until, bool)
        }

    def _write(self, entries: dict[str, float]) -> None:
        temporary = self._path.with_name(self._path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"format": 1, "used": entries}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._path)

    @staticmethod
    def _prune(entries: dict[str, float], now: float) -> None:
        for nonce in [n for n, until in entries.items() if until <= now]:
            del entries[nonce]
        while len(entries) > MAX_NONCES:
            del entries[min(entries, key=entries.__getitem__)]

    def issue(self, *, now: datetime | None = None) -> str:
        """A fresh random nonce (128 bits); it is remembered only once used."""
        del now  # any unseen nonce is accepted once: nothing to record
        return secrets.token_urlsafe(NONCE_BYTES)

    def consume(self, nonce: str, *, now: datetime) -> NonceState:
        """Accept ``nonce`` once; a second use within the retention is REPLAYED."""
        moment = now.astimezone(UTC).timestamp()
        with self._locked() as entries:
            self._prune(entries, moment)
            if nonce in entries:
                return NonceState.REPLAYED
            entries[nonce] = moment + self._retention.total_seconds()
            return NonceState.ACCEPTED

    def __len__(self) -> int:
        """How many used nonces are remembered."""
        with self._locked() as entries:
            return len(entries)
