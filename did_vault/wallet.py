"""Wallet: the owner's DIDs and their private keys, in one encrypted file.

A wallet home is a directory (mode 0700) holding ``wallet.dvault``, an encrypted
container (``did_vault.keystore``), and its lock file ``wallet.dvault.lock``. An open
``Wallet`` holds the lock until it is closed, so use it as a context manager. The
decrypted payload is versioned JSON, ``{"format": 1, "created_at": …, "dids": […]}``;
members this version does not know are kept as they are, so later versions can add
credentials and items. Every change is written at once and atomically: a failed write
leaves both the file and the open ``Wallet`` as they were.

Backups are containers of their own kind (magic ``DVBACKUP``), under their own
passphrase, and are restored only into a new wallet home. The file format is described
in ``specs/design/0001-wallet-file-format.md``.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from did_vault.credentials.model import VerifiableCredential
from did_vault.dids.methods.jwk import VERIFICATION_METHOD_FRAGMENT, create_did_jwk
from did_vault.dids.methods.key import create_did_key
from did_vault.errors import (
    AliasExistsError,
    AliasNotFoundError,
    CredentialNotFoundError,
    DidVaultError,
    KeystoreExistsError,
    KeystoreNotFoundError,
    KeystoreUnlockError,
    MalformedInputError,
    UnsupportedAlgorithmError,
    UnsupportedDIDMethodError,
    UnsupportedError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.keystore import (
    ContainerKind,
    KDFParameters,
    Keystore,
    seal_file,
    unseal_file,
)
from did_vault.sd_jwt.holder import SDJWT

WALLET_FILE_NAME = "wallet.dvault"
WALLET_FORMAT = 1
BACKUP_FORMAT = 1
HOME_MODE = 0o700
AUTO_ALIAS_PREFIX = "did-"
AUTO_CREDENTIAL_PREFIX = "cred-"
CREDENTIAL_FORMAT_DI = "vc-di"  # VCDM 2.0 JSON-LD with Data Integrity proofs
CREDENTIAL_FORMAT_SD_JWT_VC = "dc+sd-jwt"  # IETF SD-JWT VC, kept in compact form
CREDENTIAL_FORMATS = (CREDENTIAL_FORMAT_DI, CREDENTIAL_FORMAT_SD_JWT_VC)
DIDMethod = Literal["key", "jwk"]
DID_METHODS: tuple[DIDMethod, ...] = ("key", "jwk")

# Aliases are short names people type; they never look like a DID, so a name given to
# get_did() is unambiguous.
_ALIAS_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
_CONTENT_DAMAGED = "the wallet content is not valid"


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _check_alias(alias: str) -> str:
    if not isinstance(alias, str):
        raise TypeError("an alias must be a str")
    if _ALIAS_RE.fullmatch(alias) is None:
        raise MalformedInputError(
            "an alias is 1-64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return alias


@dataclass(frozen=True, slots=True)
class WalletDID:
    """A DID kept in the wallet. It holds no key: use ``Wallet.signing_key()``."""

    alias: str
    did: str
    method: str
    algorithm: KeyAlgorithm
    verification_method: str
    created_at: datetime

    def to_dict(self) -> dict[str, str]:
        """JSON-safe fields for display (``created`` as RFC 3339 UTC)."""
        return {
            "alias": self.alias,
            "did": self.did,
            "method": self.method,
            "algorithm": self.algorithm.value,
            "verification_method": self.verification_method,
            "created": _timestamp(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A credential held in the wallet, kept byte for byte as it was received."""

    local_id: str
    format: str
    raw: str = ""  # the JSON text exactly as received
    credential_id: str | None = None
    issuer: str = ""
    types: tuple[str, ...] = ()
    subject_ids: tuple[str, ...] = ()
    valid_until: str | None = None
    added_at: datetime | None = None

    def document(self) -> dict[str, Any]:
        """The credential as a JSON object (VC: the document; SD-JWT VC: every claim
        with all the holder's disclosures applied)."""
        if self.format == CREDENTIAL_FORMAT_SD_JWT_VC:
            return SDJWT.parse(self.raw).claims()
        document: dict[str, Any] = json.loads(self.raw)
        return document

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary for display (without the document)."""
        return {
            "id": self.local_id,
            "format": self.format,
            "credential_id": self.credential_id,
            "issuer": self.issuer,
            "types": list(self.types),
            "subjects": list(self.subject_ids),
            "valid_until": self.valid_until,
            "added": _timestamp(self.added_at) if self.added_at else None,
        }


def _credential_text(document: Mapping[str, Any] | str | bytes) -> str:
    if isinstance(document, bytes):
        return document.decode("utf-8")
    if isinstance(document, str):
        return document
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _stored_credential(entry: Any) -> StoredCredential:
    """Rebuild a held credential from the payload (raises on damage)."""
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(name), str) for name in ("id", "format", "raw", "added_at")
    ):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    if entry["format"] not in CREDENTIAL_FORMATS:
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    try:
        added_at = _utc(datetime.fromisoformat(entry["added_at"]))
        if entry["format"] == CREDENTIAL_FORMAT_SD_JWT_VC:
            return _stored_sd_jwt(entry["id"], entry["raw"], added_at)
        model = VerifiableCredential.from_json(entry["raw"])
    except (DidVaultError, ValueError) as exc:
        raise KeystoreUnlockError(_CONTENT_DAMAGED) from exc
    subjects = model.credential_subject
    subject_list = subjects if isinstance(subjects, list) else [subjects]
    types = [model.type] if isinstance(model.type, str) else list(model.type)
    return StoredCredential(
        local_id=_check_alias(entry["id"]),
        format=entry["format"],
        raw=entry["raw"],
        credential_id=model.id,
        issuer=model.issuer_id,
        types=tuple(types),
        subject_ids=tuple(str(s["id"]) for s in subject_list if "id" in s),
        valid_until=_timestamp(model.valid_until) if model.valid_until else None,
        added_at=added_at,
    )


def _stored_sd_jwt(local_id: str, raw: str, added_at: datetime) -> StoredCredential:
    """Summarise an SD-JWT VC from its (unverified) Issuer-signed JWT and claims."""
    parsed = SDJWT.parse(raw)
    payload = parsed.payload
    claims = parsed.claims()
    expires = payload.get("exp")
    subject = claims.get("sub")
    return StoredCredential(
        local_id=_check_alias(local_id),
        format=CREDENTIAL_FORMAT_SD_JWT_VC,
        raw=raw,
        credential_id=str(payload["jti"])
        if isinstance(payload.get("jti"), str)
        else None,
        issuer=str(payload.get("iss", "")),
        types=(str(payload.get("vct", "")),),
        subject_ids=(subject,) if isinstance(subject, str) else (),
        valid_until=(
            _timestamp(datetime.fromtimestamp(expires, UTC))
            if isinstance(expires, int) and not isinstance(expires, bool)
            else None
        ),
        added_at=added_at,
    )


def _new_did(method: str, key: PrivateKey) -> tuple[str, str]:
    """The DID and the id of its verification method for a key."""
    if method == "key":
        did = create_did_key(key.public_key)
        fragment = key.public_key.to_multikey()  # did:key: "#" + the Multikey value
    else:
        did = create_did_jwk(key.public_key)
        fragment = VERIFICATION_METHOD_FRAGMENT  # did:jwk: always "#0"
    return str(did), str(did.with_fragment(fragment))


def _entry(record: WalletDID, key: PrivateKey) -> dict[str, str]:
    return {
        "alias": record.alias,
        "did": record.did,
        "method": record.method,
        "algorithm": record.algorithm.value,
        "verification_method": record.verification_method,
        "created_at": _timestamp(record.created_at),
        "secret_key_multibase": key.to_multikey(),
    }


def _record(entry: Any) -> WalletDID:
    """Rebuild a record from the payload, checking that its key matches its DID."""
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(name), str)
        for name in (
            "alias",
            "did",
            "method",
            "algorithm",
            "verification_method",
            "created_at",
            "secret_key_multibase",
        )
    ):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    try:
        key = PrivateKey.from_multikey(entry["secret_key_multibase"])
        record = WalletDID(
            alias=_check_alias(entry["alias"]),
            did=entry["did"],
            method=entry["method"],
            algorithm=KeyAlgorithm(entry["algorithm"]),
            verification_method=entry["verification_method"],
            created_at=_utc(datetime.fromisoformat(entry["created_at"])),
        )
        if record.method not in DID_METHODS or key.algorithm is not record.algorithm:
            raise KeystoreUnlockError(_CONTENT_DAMAGED)
        if _new_did(record.method, key) != (record.did, record.verification_method):
            raise KeystoreUnlockError(_CONTENT_DAMAGED)
    except (DidVaultError, ValueError) as exc:
        if isinstance(exc, KeystoreUnlockError):
            raise
        raise KeystoreUnlockError(_CONTENT_DAMAGED) from exc
    return record


def _records(payload: dict[str, Any]) -> list[WalletDID]:
    """Validate a decrypted wallet payload and return its DIDs, in creation order."""
    version = payload.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    if version != WALLET_FORMAT:
        raise UnsupportedError(
            "the wallet was written by a newer version of did_vault", format=version
        )
    entries = payload.get("dids")
    if not isinstance(entries, list):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    records = [_record(entry) for entry in entries]
    for field in ("alias", "did"):
        values = [getattr(record, field) for record in records]
        if len(set(values)) != len(values):
            raise KeystoreUnlockError(_CONTENT_DAMAGED)
    return records


def _credentials(payload: dict[str, Any]) -> list[StoredCredential]:
    """The held credentials of a payload, in the order they were added."""
    entries = payload.get("credentials", [])
    if not isinstance(entries, list):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    stored = [_stored_credential(entry) for entry in entries]
    if len({c.local_id for c in stored}) != len(stored):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    return stored


def wallet_path(home: Path) -> Path:
    """Where the wallet file of a wallet home is."""
    return Path(home) / WALLET_FILE_NAME


class Wallet:
    """An unlocked wallet, holding its lock until ``close()`` (or the ``with`` ends).

    Raises (every method):
        ValueError: the wallet is closed.
    """

    __slots__ = ("_credentials", "_home", "_payload", "_records", "_store")

    def __init__(self, *, home: Path, store: Keystore) -> None:
        self._home, self._store = home, store
        self._payload = store.payload
        self._records = _records(self._payload)
        self._credentials = _credentials(self._payload)

    # --- opening -----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        home: Path,
        passphrase: str,
        *,
        kdf: KDFParameters = KDFParameters.PRODUCTION,
        now: datetime | None = None,
        lock_timeout: float = 0.0,
    ) -> Self:
        """Create an empty wallet in ``home`` (made 0700 if missing) and open it.

        Raises:
            KeystoreExistsError: ``home`` already has a wallet.
            KeystoreLockedError: another process holds the wallet's lock.
            KeystoreError: the operating system refused the write.
            ValueError: an empty passphrase or a naive ``now``.
        """
        payload = {
            "format": WALLET_FORMAT,
            "created_at": _timestamp(_utc(now)),
            "dids": [],
        }
        return cls._create_with(
            Path(home), payload, passphrase, kdf=kdf, lock_timeout=lock_timeout
        )

    @classmethod
    def _create_with(
        cls,
        home: Path,
        payload: dict[str, Any],
        passphrase: str,
        *,
        kdf: KDFParameters,
        lock_timeout: float,
    ) -> Self:
        path = wallet_path(home)
        if path.exists():
            raise KeystoreExistsError("a wallet already exists here", path=str(path))
        home.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
        store = Keystore.create(
            path,
            payload,
            passphrase,
            kind=ContainerKind.WALLET,
            kdf=kdf,
            lock_timeout=lock_timeout,
        )
        return cls._adopt(home, store)

    @classmethod
    def _adopt(cls, home: Path, store: Keystore) -> Self:
        try:
            return cls(home=home, store=store)
        except BaseException:
            store.close()
            raise

    @classmethod
    def open(
        cls,
        home: Path,
        passphrase: str,
        *,
        kdf_floor: KDFParameters = KDFParameters.MINIMUM,
        lock_timeout: float = 0.0,
    ) -> Self:
        """Lock and unlock the wallet in ``home``.

        Raises:
            KeystoreNotFoundError: ``home`` has no wallet.
            KeystoreLockedError: another process holds the wallet's lock.
            WeakKDFParametersError: the file's KDF parameters are below ``kdf_floor``.
            KeystoreUnlockError: wrong passphrase or a damaged file.
            UnsupportedError: a wallet format newer than this library.
        """
        home = Path(home)
        path = wallet_path(home)
        if not path.exists():
            raise KeystoreNotFoundError("no wallet here", path=str(path))
        store = Keystore.open(
            path,
            passphrase,
            kind=ContainerKind.WALLET,
            kdf_floor=kdf_floor,
            lock_timeout=lock_timeout,
        )
        return cls._adopt(home, store)

    @staticmethod
    def exists(home: Path) -> bool:
        """True if ``home`` holds a wallet file."""
        return wallet_path(Path(home)).exists()

    # --- state -------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self._home

    @property
    def path(self) -> Path:
        """The wallet file."""
        return self._store.path

    @property
    def kdf(self) -> KDFParameters:
        """The Argon2id parameters the wallet file is encrypted with."""
        return self._store.kdf

    @property
    def is_closed(self) -> bool:
        return self._store.is_closed

    def _check_open(self) -> None:
        if self._store.is_closed:
            raise ValueError("the wallet is closed")

    def _save(self, payload: dict[str, Any]) -> None:
        self._store.write(payload)
        self._payload = payload

    # --- DIDs --------------------------------------------------------------------

    def create_did(
        self,
        method: DIDMethod,
        *,
        algorithm: KeyAlgorithm = KeyAlgorithm.ED25519,
        alias: str | None = None,
        now: datetime | None = None,
    ) -> WalletDID:
        """Make a fresh key, derive its DID, and keep both in the wallet.

        ``alias`` defaults to the first free ``did-<n>``.

        Raises:
            UnsupportedDIDMethodError: a method other than ``key`` or ``jwk``.
            UnsupportedAlgorithmError: an algorithm other than Ed25519 or P-256.
            MalformedInputError: an alias that breaks the alias rules.
            AliasExistsError: the alias is taken.
            KeystoreError: the operating system refused the write (nothing changed).
        """
        self._check_open()
        if method not in DID_METHODS:
            raise UnsupportedDIDMethodError(
                "the wallet creates did:key and did:jwk DIDs", method=str(method)
            )
        try:
            algorithm = KeyAlgorithm(algorithm)
        except ValueError as exc:
            raise UnsupportedAlgorithmError(
                "the wallet creates Ed25519 and P-256 keys", algorithm=str(algorithm)
            ) from exc
        taken = {record.alias for record in self._records}
        if alias is None:
            number = len(self._records) + 1
            while f"{AUTO_ALIAS_PREFIX}{number}" in taken:
                number += 1
            alias = f"{AUTO_ALIAS_PREFIX}{number}"
        elif _check_alias(alias) in taken:
            raise AliasExistsError("the alias is already in use", alias=alias)
        key = PrivateKey.generate(algorithm)
        did, verification_method = _new_did(method, key)
        record = WalletDID(
            alias=alias,
            did=did,
            method=method,
            algorithm=algorithm,
            verification_method=verification_method,
            created_at=_utc(now).replace(microsecond=0),
        )
        self._save(
            {**self._payload, "dids": [*self._payload["dids"], _entry(record, key)]}
        )
        self._records = [*self._records, record]
        return record

    def list_dids(self) -> list[WalletDID]:
        """The wallet's DIDs, oldest first."""
        self._check_open()
        return list(self._records)

    def _find(self, alias_or_did: str) -> tuple[int, WalletDID]:
        self._check_open()
        for index, record in enumerate(self._records):
            if alias_or_did in (record.alias, record.did):
                return index, record
        raise AliasNotFoundError(
            "no DID with this alias or DID in the wallet", name=str(alias_or_did)
        )

    def get_did(self, alias_or_did: str) -> WalletDID:
        """A DID by its alias or by the DID itself.

        Raises:
            AliasNotFoundError: no such alias or DID in the wallet.
        """
        return self._find(alias_or_did)[1]

    def signing_key(self, alias_or_did: str) -> PrivateKey:
        """The private key of a wallet DID. Handle with care; never log it.

        Raises:
            AliasNotFoundError: no such alias or DID in the wallet.
        """
        index, _ = self._find(alias_or_did)
        return PrivateKey.from_multikey(
            self._payload["dids"][index]["secret_key_multibase"]
        )

    # --- credentials -------------------------------------------------------------

    def add_credential(
        self,
        document: Mapping[str, Any] | str | bytes,
        *,
        local_id: str | None = None,
        now: datetime | None = None,
    ) -> StoredCredential:
        """Keep a credential, exactly as received (verify it first: this does not).

        ``local_id`` defaults to the first free ``cred-<n>``.

        A VC Data Model 2.0 document (JSON) is kept as ``vc-di``; a compact SD-JWT
        VC (``<jwt>~<disclosure>~…~``) as ``dc+sd-jwt``, with all its disclosures.

        Raises:
            MalformedCredentialError: not a VC Data Model 2.0 credential.
            MalformedSDJWTError: looks like an SD-JWT but is not one.
            MalformedInputError: a ``local_id`` that breaks the alias rules.
            AliasExistsError: the local id is taken.
            KeystoreError: the operating system refused the write (nothing changed).
        """
        self._check_open()
        raw = _credential_text(document)
        is_sd_jwt = not raw.lstrip().startswith("{")
        if is_sd_jwt:
            raw = raw.strip()
            SDJWT.parse(raw).claims()
        else:
            VerifiableCredential.from_json(raw)
        taken = {c.local_id for c in self._credentials}
        if local_id is None:
            number = len(self._credentials) + 1
            while f"{AUTO_CREDENTIAL_PREFIX}{number}" in taken:
                number += 1
            local_id = f"{AUTO_CREDENTIAL_PREFIX}{number}"
        elif _check_alias(local_id) in taken:
            raise AliasExistsError("the credential id is already in use", id=local_id)
        entry = {
            "id": local_id,
            "format": CREDENTIAL_FORMAT_SD_JWT_VC
            if is_sd_jwt
            else CREDENTIAL_FORMAT_DI,
            "raw": raw,
            "added_at": _timestamp(_utc(now)),
        }
        stored = _stored_credential(entry)
        entries = self._payload.get("credentials", [])
        self._save({**self._payload, "credentials": [*entries, entry]})
        self._credentials = [*self._credentials, stored]
        return stored

    def list_credentials(self) -> list[StoredCredential]:
        """The held credentials, oldest first."""
        self._check_open()
        return list(self._credentials)

    def get_credential(self, ref: str) -> StoredCredential:
        """A held credential by its local id or by the credential's own ``id``.

        Raises:
            CredentialNotFoundError: no such credential in the wallet.
        """
        self._check_open()
        for stored in self._credentials:
            if ref in (stored.local_id, stored.credential_id):
                return stored
        raise CredentialNotFoundError(
            "no credential with this id in the wallet", id=str(ref)[:256]
        )

    # --- passphrase and backups --------------------------------------------------

    def change_passphrase(
        self, new_passphrase: str, *, kdf: KDFParameters | None = None
    ) -> None:
        """Re-encrypt the wallet under a new passphrase, in one atomic replace.

        A crash leaves either the old file (old passphrase) or the new one. ``kdf``
        sets new Argon2id parameters; by default the current ones are kept.

        Raises:
            KeystoreError: the operating system refused the write (nothing changed).
            ValueError: an empty passphrase.
        """
        self._check_open()
        self._store.change_passphrase(new_passphrase, kdf=kdf)

    def export_backup(
        self,
        path: Path,
        backup_passphrase: str,
        *,
        kdf: KDFParameters = KDFParameters.PRODUCTION,
        now: datetime | None = None,
    ) -> None:
        """Write the whole wallet to a new encrypted backup file (mode 0600).

        The backup has its own magic, so it is never mistaken for a wallet, and its
        own passphrase, which may differ from the wallet's.

        Raises:
            KeystoreExistsError: ``path`` already exists (backups never overwrite).
            KeystoreError: the operating system refused the write.
            ValueError: an empty passphrase or a naive ``now``.
        """
        self._check_open()
        payload = {
            "format": BACKUP_FORMAT,
            "exported_at": _timestamp(_utc(now)),
            "wallet": self._payload,
        }
        seal_file(
            Path(path), payload, backup_passphrase, kind=ContainerKind.BACKUP, kdf=kdf
        )

    @classmethod
    def import_backup(
        cls,
        path: Path,
        backup_passphrase: str,
        *,
        home: Path,
        passphrase: str,
        kdf: KDFParameters = KDFParameters.PRODUCTION,
        kdf_floor: KDFParameters = KDFParameters.MINIMUM,
        lock_timeout: float = 0.0,
    ) -> Self:
        """Restore a backup into a new wallet in ``home`` and open it.

        ``kdf_floor`` applies to the backup file, ``kdf`` to the new wallet file.

        Raises:
            KeystoreExistsError: ``home`` already has a wallet (never overwritten).
            KeystoreNotFoundError: no backup file at ``path``.
            WeakKDFParametersError: the backup's KDF parameters are below the floor.
            KeystoreUnlockError: wrong backup passphrase, not a backup, or damage.
            UnsupportedError: a backup or wallet format newer than this library.
            KeystoreLockedError: another process holds the new wallet's lock.
            ValueError: an empty passphrase.
        """
        home = Path(home)
        target = wallet_path(home)
        if target.exists():
            raise KeystoreExistsError("a wallet already exists here", path=str(target))
        backup = unseal_file(
            Path(path),
            backup_passphrase,
            kind=ContainerKind.BACKUP,
            kdf_floor=kdf_floor,
        )
        version = backup.get("format")
        if version != BACKUP_FORMAT:
            if isinstance(version, int) and not isinstance(version, bool):
                raise UnsupportedError(
                    "the backup was written by a newer version of did_vault",
                    format=version,
                )
            raise KeystoreUnlockError(_CONTENT_DAMAGED)
        payload = backup.get("wallet")
        if not isinstance(payload, dict):
            raise KeystoreUnlockError(_CONTENT_DAMAGED)
        _records(payload)  # refuse a bad backup before creating anything
        _credentials(payload)
        return cls._create_with(
            home, payload, passphrase, kdf=kdf, lock_timeout=lock_timeout
        )

    # --- closing -----------------------------------------------------------------

    def close(self) -> None:
        """Release the lock and forget the decrypted content; closing twice is fine."""
        self._store.close()
        self._payload = {}
        self._records = []
        self._credentials = []

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
        state = "closed" if self.is_closed else f"{len(self._records)} DIDs"
        return f"Wallet({str(self._home)!r}, {state})"
