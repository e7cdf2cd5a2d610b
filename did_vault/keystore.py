"""Encrypted containers at rest: one vetted default, no tuning knobs.

A container is one file: a fixed 51-byte header followed by the ChaCha20-Poly1305
(RFC 8439) ciphertext of a JSON object. The key comes from the passphrase through
Argon2id (RFC 9106, the second recommended "low-memory" option: t=3, m=64 MiB, p=4).
The whole header is the AEAD associated data, so a change to any byte of the file
fails authentication. The byte layout and the reasons behind it are in
``specs/design/0001-wallet-file-format.md``.

Opening answers one of three ways: the payload, ``KeystoreUnlockError`` (wrong
passphrase or any damage, deliberately indistinguishable, never partial data) or
``WeakKDFParametersError`` (the header asks for less work than the caller's floor;
refused before any key derivation). Writes are atomic (temp file, fsync, rename,
directory fsync), use mode 0600 and a fresh random nonce each time. An open
``Keystore`` holds an exclusive lock file beside the container so that two
processes cannot interleave their writes.
"""

import contextlib
import json
import os
import secrets
import struct
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

import filelock
from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from did_vault.errors import (
    KeystoreError,
    KeystoreExistsError,
    KeystoreLockedError,
    KeystoreNotFoundError,
    KeystoreUnlockError,
    WeakKDFParametersError,
)

RandBytes = Callable[[int], bytes]

WALLET_MAGIC = b"DVWALLET"
BACKUP_MAGIC = b"DVBACKUP"
FORMAT_VERSION = 1
KDF_ARGON2ID = 0x01  # Argon2id, version 0x13 (RFC 9106)
AEAD_CHACHA20_POLY1305 = 0x01  # RFC 8439, 96-bit nonce, 128-bit tag
SALT_SIZE = 16
NONCE_SIZE = 12
KEY_SIZE = 32
TAG_SIZE = 16
PADDING_BLOCK = 512
LOCK_SUFFIX = ".lock"
FILE_MODE = 0o600

# magic, version, kdf id, t, m (KiB), p, salt, aead id, nonce; big-endian, no padding
_HEADER = struct.Struct(">8sBBIII16sB12s")
HEADER_SIZE = _HEADER.size  # 51

# Above these a header is treated as damage: a tampered header must not make us
# allocate or compute without bound before the tag can be checked.
MAX_TIME_COST = 64
MAX_MEMORY_COST_KIB = 4 * 1024 * 1024  # 4 GiB
MAX_PARALLELISM = 64

_GENERIC_UNLOCK_DETAIL = "wrong passphrase or damaged file"


class ContainerKind(StrEnum):
    """What a container holds. Each kind has its own magic: none passes for another."""

    WALLET = "wallet"
    BACKUP = "backup"

    @property
    def magic(self) -> bytes:
        return WALLET_MAGIC if self is ContainerKind.WALLET else BACKUP_MAGIC


def _kdf_problem(time_cost: int, memory_cost_kib: int, parallelism: int) -> str | None:
    """Why these Argon2id parameters are impossible or absurd; None if sane."""
    if not 1 <= time_cost <= MAX_TIME_COST:
        return f"time cost must be in 1..{MAX_TIME_COST}"
    if not 1 <= parallelism <= MAX_PARALLELISM:
        return f"parallelism must be in 1..{MAX_PARALLELISM}"
    if not 8 * parallelism <= memory_cost_kib <= MAX_MEMORY_COST_KIB:
        return f"memory cost must be in 8*parallelism..{MAX_MEMORY_COST_KIB} KiB"
    return None


@dataclass(frozen=True, slots=True)
class KDFParameters:
    """Argon2id cost parameters: passes, memory in KiB, lanes.

    ``MINIMUM`` is RFC 9106's second recommended option (low-memory profile) and the
    default floor when opening; ``PRODUCTION`` (for new files) spends more passes on
    the same memory. ``TESTING`` is cheap, for test suites only; the default floor
    refuses it.
    """

    time_cost: int
    memory_cost_kib: int
    parallelism: int

    MINIMUM: ClassVar["KDFParameters"]
    PRODUCTION: ClassVar["KDFParameters"]
    TESTING: ClassVar["KDFParameters"]

    def __post_init__(self) -> None:
        for name in ("time_cost", "memory_cost_kib", "parallelism"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"KDFParameters.{name} must be an int")
        problem = _kdf_problem(self.time_cost, self.memory_cost_kib, self.parallelism)
        if problem is not None:
            raise ValueError(problem)

    def describe(self) -> dict[str, str | int]:
        """The parameters as a JSON-safe mapping (for display; holds no secret)."""
        return {
            "algorithm": "argon2id",
            "time_cost": self.time_cost,
            "memory_cost_kib": self.memory_cost_kib,
            "parallelism": self.parallelism,
        }

    def meets(self, floor: "KDFParameters") -> bool:
        """True if these parameters cost an attacker at least as much as ``floor``.

        Passes and memory are compared. Parallelism is not: fewer lanes over the same
        memory and passes only slow the legitimate user down, not a guesser.
        """
        return (
            self.time_cost >= floor.time_cost
            and self.memory_cost_kib >= floor.memory_cost_kib
        )


# The floor: RFC 9106 §4 second recommended option (the low-memory profile).
KDFParameters.MINIMUM = KDFParameters(
    time_cost=3, memory_cost_kib=64 * 1024, parallelism=4
)
# New wallets: the same 64 MiB profile with more passes, so that unlocking takes
# about 0.3-0.5 s on a 2-core machine (bench/ measures it). Raising this later never
# locks out existing wallets, which are checked against MINIMUM only.
KDFParameters.PRODUCTION = KDFParameters(
    time_cost=8, memory_cost_kib=64 * 1024, parallelism=4
)
KDFParameters.TESTING = KDFParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)


@dataclass(frozen=True, slots=True)
class _Header:
    kind: ContainerKind
    kdf: KDFParameters
    salt: bytes
    nonce: bytes

    def pack(self) -> bytes:
        return _HEADER.pack(
            self.kind.magic,
            FORMAT_VERSION,
            KDF_ARGON2ID,
            self.kdf.time_cost,
            self.kdf.memory_cost_kib,
            self.kdf.parallelism,
            self.salt,
            AEAD_CHACHA20_POLY1305,
            self.nonce,
        )

    @classmethod
    def unpack(cls, data: bytes, *, kind: ContainerKind) -> Self:
        """Parse and sanity-check a header; anything unexpected is damage."""
        if len(data) < HEADER_SIZE + TAG_SIZE:
            raise KeystoreUnlockError(_GENERIC_UNLOCK_DETAIL)
        magic, version, kdf_id, t, m, p, salt, aead_id, nonce = _HEADER.unpack_from(
            data
        )
        if (
            magic != kind.magic
            or version != FORMAT_VERSION
            or kdf_id != KDF_ARGON2ID
            or aead_id != AEAD_CHACHA20_POLY1305
            or _kdf_problem(t, m, p) is not None
        ):
            raise KeystoreUnlockError(_GENERIC_UNLOCK_DETAIL)
        return cls(kind, KDFParameters(t, m, p), salt, nonce)


def _passphrase_bytes(passphrase: str) -> bytes:
    # NFC so that the same passphrase typed on systems that compose characters
    # differently derives the same key (as RFC 8265 OpaqueString does).
    if not isinstance(passphrase, str):
        raise TypeError("the passphrase must be a str")
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _derive_key(passphrase: str, salt: bytes, kdf: KDFParameters) -> bytes:
    try:
        return hash_secret_raw(
            secret=_passphrase_bytes(passphrase),
            salt=salt,
            time_cost=kdf.time_cost,
            memory_cost=kdf.memory_cost_kib,
            parallelism=kdf.parallelism,
            hash_len=KEY_SIZE,
            type=Type.ID,
            version=0x13,
        )
    except (HashingError, MemoryError) as exc:
        raise KeystoreUnlockError(_GENERIC_UNLOCK_DETAIL) from exc


def _check_new_passphrase(passphrase: str) -> None:
    if not _passphrase_bytes(passphrase):
        raise ValueError("the passphrase must not be empty")


def _encode_payload(payload: Mapping[str, Any]) -> bytes:
    if not isinstance(payload, Mapping):
        raise TypeError("the payload must be a JSON object (a Mapping)")
    text = json.dumps(
        payload,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    ).encode("utf-8")
    # Pad with JSON whitespace so the file size only reveals the payload size in
    # PADDING_BLOCK steps (roughly how many keys the wallet holds).
    return text + b" " * (-len(text) % PADDING_BLOCK)


def _decode_payload(plaintext: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise KeystoreUnlockError(_GENERIC_UNLOCK_DETAIL) from exc
    if not isinstance(payload, dict):
        raise KeystoreUnlockError(_GENERIC_UNLOCK_DETAIL)
    return payload


def _encrypt(
    payload: Mapping[str, Any],
    key: bytes,
    *,
    kind: ContainerKind,
    kdf: KDFParameters,
    salt: bytes,
    randbytes: RandBytes,
) -> bytes:
    nonce = randbytes(NONCE_SIZE)
    header = _Header(kind, kdf, salt, nonce).pack()
    return header + ChaCha20Poly1305(key).encrypt(
        nonce, _encode_payload(payload), header
    )


def _open(
    data: bytes, passphrase: str, *, kind: ContainerKind, kdf_floor: KDFParameters
) -> tuple[_Header, bytes, dict[str, Any]]:
    """Header, derived key and payload of a container, or one of the two errors."""
    header = _Header.unpack(data, kind=kind)
    if not header.kdf.meets(kdf_floor):
        raise WeakKDFParametersError(
            "the file's key derivation parameters are below the required floor",
            time_cost=header.kdf.time_cost,
            memory_cost_kib=header.kdf.memory_cost_kib,
            parallelism=header.kdf.parallelism,
        )
    key = _derive_key(passphrase, header.salt, header.kdf)
    try:
        plaintext = ChaCha20Poly1305(key).decrypt(
            header.nonce, data[HEADER_SIZE:], data[:HEADER_SIZE]
        )
    except InvalidTag as exc:
        raise KeystoreUnlockError(_GENERIC_UNLOCK_DETAIL) from exc
    return header, key, _decode_payload(plaintext)


def seal(
    payload: Mapping[str, Any],
    passphrase: str,
    *,
    kind: ContainerKind = ContainerKind.WALLET,
    kdf: KDFParameters = KDFParameters.PRODUCTION,
    randbytes: RandBytes = os.urandom,
) -> bytes:
    """Encrypt a JSON object into container bytes under a fresh salt and nonce.

    Raises:
        ValueError: an empty passphrase, or a payload that is not JSON-serialisable.
    """
    _check_new_passphrase(passphrase)
    salt = randbytes(SALT_SIZE)
    key = _derive_key(passphrase, salt, kdf)
    return _encrypt(payload, key, kind=kind, kdf=kdf, salt=salt, randbytes=randbytes)


def unseal(
    data: bytes,
    passphrase: str,
    *,
    kind: ContainerKind = ContainerKind.WALLET,
    kdf_floor: KDFParameters = KDFParameters.MINIMUM,
) -> dict[str, Any]:
    """Decrypt container bytes to their JSON object.

    Raises:
        WeakKDFParametersError: the header's parameters are below ``kdf_floor``.
        KeystoreUnlockError: wrong passphrase, wrong kind, or any damage.
    """
    return _open(bytes(data), passphrase, kind=kind, kdf_floor=kdf_floor)[2]


# --- files ------------------------------------------------------------------------


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable. Not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(directory: Path, name: str, data: bytes) -> Path:
    temp = directory / f".{name}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temp, flags, FILE_MODE)
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, FILE_MODE)  # exact mode whatever the umask
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _write_atomically(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write a whole file so that a crash leaves either the old or the new content.

    Raises:
        KeystoreExistsError: ``overwrite`` is false and ``path`` exists.
        KeystoreError: the operating system refused the write.
    """
    try:
        temp = _write_temp(path.parent, path.name, data)
        try:
            if overwrite:
                os.replace(temp, path)
            else:
                _publish_new(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_directory(path.parent)
    except KeystoreError:
        raise
    except OSError as exc:
        raise KeystoreError("could not write the file", path=str(path)) from exc


def _publish_new(temp: Path, path: Path) -> None:
    # A hard link publishes the complete file and fails if the name is taken, so no
    # existing file is ever overwritten, not even by a racing writer.
    try:
        os.link(temp, path)
    except FileExistsError as exc:
        raise KeystoreExistsError("the file already exists", path=str(path)) from exc
    except OSError:
        # Filesystems without hard links: check, then rename (the lock serialises us).
        if path.exists():
            raise KeystoreExistsError(
                "the file already exists", path=str(path)
            ) from None
        os.replace(temp, path)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise KeystoreNotFoundError("no such file", path=str(path)) from exc
    except IsADirectoryError as exc:
        raise KeystoreUnlockError(_GENERIC_UNLOCK_DETAIL) from exc
    except OSError as exc:
        raise KeystoreError("could not read the file", path=str(path)) from exc


def lock_path(path: Path) -> Path:
    """The lock file guarding a container: its name plus ``.lock``, beside it."""
    return path.with_name(path.name + LOCK_SUFFIX)


def _acquire(path: Path, timeout: float) -> filelock.BaseFileLock:
    lock = filelock.FileLock(
        lock_path(path), timeout=timeout, mode=FILE_MODE, thread_local=False
    )
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise KeystoreLockedError(
            "the file is in use by another process", path=str(path)
        ) from exc
    except OSError as exc:
        raise KeystoreError("could not lock the file", path=str(path)) from exc
    return lock


def seal_file(
    path: Path,
    payload: Mapping[str, Any],
    passphrase: str,
    *,
    kind: ContainerKind,
    kdf: KDFParameters = KDFParameters.PRODUCTION,
    randbytes: RandBytes = os.urandom,
) -> None:
    """Write a new container file (mode 0600, atomically); never overwrites.

    Raises:
        KeystoreExistsError: ``path`` already exists.
        KeystoreError: the operating system refused the write.
        ValueError: an empty passphrase.
    """
    path = Path(path)
    if path.exists():
        raise KeystoreExistsError("the file already exists", path=str(path))
    data = seal(payload, passphrase, kind=kind, kdf=kdf, randbytes=randbytes)
    _write_atomically(path, data, overwrite=False)


def unseal_file(
    path: Path,
    passphrase: str,
    *,
    kind: ContainerKind,
    kdf_floor: KDFParameters = KDFParameters.MINIMUM,
) -> dict[str, Any]:
    """Read and decrypt a container file.

    Raises:
        KeystoreNotFoundError: no file at ``path``.
        WeakKDFParametersError: the header's parameters are below ``kdf_floor``.
        KeystoreUnlockError: wrong passphrase, wrong kind, or any damage.
    """
    return unseal(_read(Path(path)), passphrase, kind=kind, kdf_floor=kdf_floor)


class Keystore:
    """An unlocked container file, held under its lock until ``close()``.

    The derived key stays in memory while open, so writes cost no key derivation;
    each write still uses a fresh nonce. ``payload`` is a copy: change it, then
    ``write()`` it back.
    """

    __slots__ = (
        "_kdf",
        "_key",
        "_kind",
        "_lock",
        "_path",
        "_payload",
        "_randbytes",
        "_salt",
    )

    def __init__(
        self,
        *,
        path: Path,
        kind: ContainerKind,
        lock: filelock.BaseFileLock,
        kdf: KDFParameters,
        salt: bytes,
        key: bytes,
        payload: dict[str, Any],
        randbytes: RandBytes,
    ) -> None:
        self._path, self._kind, self._lock = path, kind, lock
        self._kdf, self._salt = kdf, salt
        self._key: bytes | None = key
        self._payload, self._randbytes = payload, randbytes

    @classmethod
    def create(
        cls,
        path: Path,
        payload: Mapping[str, Any],
        passphrase: str,
        *,
        kind: ContainerKind = ContainerKind.WALLET,
        kdf: KDFParameters = KDFParameters.PRODUCTION,
        lock_timeout: float = 0.0,
        randbytes: RandBytes = os.urandom,
    ) -> Self:
        """Create a new container file and return it open and locked.

        Raises:
            KeystoreExistsError: a file already exists at ``path``.
            KeystoreLockedError: another process holds the lock.
            KeystoreError: the operating system refused the write.
            ValueError: an empty passphrase.
        """
        path = Path(path)
        _check_new_passphrase(passphrase)
        if path.exists():
            raise KeystoreExistsError("the file already exists", path=str(path))
        lock = _acquire(path, lock_timeout)
        try:
            salt = randbytes(SALT_SIZE)
            key = _derive_key(passphrase, salt, kdf)
            data = _encrypt(
                payload, key, kind=kind, kdf=kdf, salt=salt, randbytes=randbytes
            )
            _write_atomically(path, data, overwrite=False)
        except BaseException:
            lock.release()
            raise
        return cls(
            path=path,
            kind=kind,
            lock=lock,
            kdf=kdf,
            salt=salt,
            key=key,
            payload=_decode_payload(_encode_payload(payload)),
            randbytes=randbytes,
        )

    @classmethod
    def open(
        cls,
        path: Path,
        passphrase: str,
        *,
        kind: ContainerKind = ContainerKind.WALLET,
        kdf_floor: KDFParameters = KDFParameters.MINIMUM,
        lock_timeout: float = 0.0,
        randbytes: RandBytes = os.urandom,
    ) -> Self:
        """Lock and unlock an existing container file.

        Raises:
            KeystoreNotFoundError: no file at ``path``.
            KeystoreLockedError: another process holds the lock.
            WeakKDFParametersError: the header's parameters are below ``kdf_floor``.
            KeystoreUnlockError: wrong passphrase, wrong kind, or any damage.
        """
        path = Path(path)
        if not path.exists():
            raise KeystoreNotFoundError("no such file", path=str(path))
        lock = _acquire(path, lock_timeout)
        try:
            header, key, payload = _open(
                _read(path), passphrase, kind=kind, kdf_floor=kdf_floor
            )
        except BaseException:
            lock.release()
            raise
        return cls(
            path=path,
            kind=kind,
            lock=lock,
            kdf=header.kdf,
            salt=header.salt,
            key=key,
            payload=payload,
            randbytes=randbytes,
        )

    @property
    def path(self) -> Path:
        return self._path

    @property
    def kind(self) -> ContainerKind:
        return self._kind

    @property
    def kdf(self) -> KDFParameters:
        """The Argon2id parameters of the file as it is on disk now."""
        return self._kdf

    @property
    def is_closed(self) -> bool:
        return self._key is None

    @property
    def payload(self) -> dict[str, Any]:
        """A copy of the decrypted JSON object."""
        self._check_open()
        return _decode_payload(_encode_payload(self._payload))

    def _check_open(self) -> bytes:
        if self._key is None:
            raise ValueError("the keystore is closed")
        return self._key

    def write(self, payload: Mapping[str, Any]) -> None:
        """Replace the file's content atomically (same key, fresh nonce).

        On failure the file and ``payload`` are left as they were.

        Raises:
            KeystoreError: the operating system refused the write.
        """
        key = self._check_open()
        data = _encrypt(
            payload,
            key,
            kind=self._kind,
            kdf=self._kdf,
            salt=self._salt,
            randbytes=self._randbytes,
        )
        _write_atomically(self._path, data, overwrite=True)
        self._payload = _decode_payload(_encode_payload(payload))

    def change_passphrase(
        self, new_passphrase: str, *, kdf: KDFParameters | None = None
    ) -> None:
        """Re-encrypt under a new passphrase and fresh salt, in one atomic rename.

        A crash leaves either the old file (opens with the old passphrase) or the new
        one. ``kdf`` upgrades the Argon2id parameters; by default they are kept.

        Raises:
            KeystoreError: the operating system refused the write (the old file stays).
            ValueError: an empty passphrase.
        """
        self._check_open()
        _check_new_passphrase(new_passphrase)
        kdf = self._kdf if kdf is None else kdf
        salt = self._randbytes(SALT_SIZE)
        key = _derive_key(new_passphrase, salt, kdf)
        data = _encrypt(
            self._payload,
            key,
            kind=self._kind,
            kdf=kdf,
            salt=salt,
            randbytes=self._randbytes,
        )
        _write_atomically(self._path, data, overwrite=True)
        self._kdf, self._salt, self._key = kdf, salt, key

    def close(self) -> None:
        """Forget the key and release the lock; closing twice is harmless."""
        if self._key is None:
            return
        self._key = None
        self._payload = {}
        with contextlib.suppress(OSError):
            self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else "open"
        return f"Keystore({self._kind.value}, {str(self._path)!r}, {state})"
