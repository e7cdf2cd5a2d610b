"""Wallet: the owner's DIDs and their private keys, in one encrypted file.

A wallet home is a directory (mode 0700) holding ``wallet.dvault``, an encrypted
container (``did_vault.keystore``), and its lock file ``wallet.dvault.lock``. An open
``Wallet`` holds the lock until it is closed, so use it as a context manager. The
decrypted payload is versioned JSON, ``{"format": 1, "created_at": …, "dids": […]}``;
members this version does not know are kept as they are, so later versions can add
credentials and items. Every change is written at once and atomically: a failed write
leaves both the file and the open ``Wallet`` as they were.

The wallet also holds the owner's items (``"inventory": {"version": 1, "items": […]}``):
each has its own did:key, minted here and kept like any other wallet DID, and a
self-issued ItemIdentityCredential naming it, signed by the owner's DID. Every item
carries an import key (the source's row reference, the registry's uniqueness key,
or a digest of the normalised row), so adding the same rows again, e.g. after a
crash, creates no duplicates; a batch of items is written in one atomic write.

Backups are containers of their own kind (magic ``DVBACKUP``), under their own
passphrase, and are restored only into a new wallet home. The file format is described
in ``specs/design/0001-wallet-file-format.md``.
"""

import dataclasses
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from did_vault.credentials.issuer import issue_credential
from did_vault.credentials.model import VerifiableCredential
from did_vault.credentials.suites import ECDSA_JCS_2019, EDDSA_JCS_2022
from did_vault.dids.methods.jwk import VERIFICATION_METHOD_FRAGMENT, create_did_jwk
from did_vault.dids.methods.key import create_did_key
from did_vault.errors import (
    AliasExistsError,
    AliasNotFoundError,
    CredentialNotFoundError,
    DidVaultError,
    ItemNotIdentifiableError,
    KeystoreExistsError,
    KeystoreNotFoundError,
    KeystoreUnlockError,
    MalformedInputError,
    MalformedReceiptError,
    UnsupportedAlgorithmError,
    UnsupportedDIDMethodError,
    UnsupportedError,
    WalletItemNotFoundError,
)
from did_vault.items.credential import build_item_identity_credential
from did_vault.items.model import (
    INVENTORY_FORMAT,
    INVENTORY_VERSION,
    InventoryEntry,
    InventoryExport,
    Item,
    OwnershipInfo,
    RegistryStatus,
    format_date_time,
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
from did_vault.transparency.receipt import Receipt

WALLET_FILE_NAME = "wallet.dvault"
WALLET_FORMAT = 1
BACKUP_FORMAT = 1
HOME_MODE = 0o700
AUTO_ALIAS_PREFIX = "did-"
AUTO_CREDENTIAL_PREFIX = "cred-"
CREDENTIAL_FORMAT_DI = "vc-di"  # VCDM 2.0 JSON-LD with Data Integrity proofs
CREDENTIAL_FORMAT_SD_JWT_VC = "dc+sd-jwt"  # IETF SD-JWT VC, kept in compact form
CREDENTIAL_FORMATS = (CREDENTIAL_FORMAT_DI, CREDENTIAL_FORMAT_SD_JWT_VC)
INVENTORY_MEMBER = "inventory"  # the payload member holding the items
ITEMS_VERSION = 1
AUTO_ITEM_PREFIX = "item-"
# Stands for the item's DID in drafts: the wallet mints the real one when it adds it.
PENDING_ITEM_DID = "did:key:pending"
DIDMethod = Literal["key", "jwk"]
ItemOutcome = Literal["created", "updated", "unchanged"]
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
    # the log receipt the issuing registry returned, with the owner's opening
    # (``Receipt.to_json(include_opening=True)``): private, shown only on purpose
    receipt: dict[str, Any] | None = dataclasses.field(default=None, repr=False)

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
            # where the issuing registry logged it (``receipt`` has the proof)
            "log_index": (
                self.receipt.get("leafIndex") if self.receipt is not None else None
            ),
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
        receipt = _receipt_json(entry.get("receipt"))
        if entry["format"] == CREDENTIAL_FORMAT_SD_JWT_VC:
            stored = _stored_sd_jwt(entry["id"], entry["raw"], added_at)
            return replace(stored, receipt=receipt)
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
        receipt=receipt,
    )


def _receipt_json(value: Any) -> dict[str, Any] | None:
    """A credential's kept log receipt, checked for shape (None if there is none).

    Raises:
        MalformedReceiptError: not a receipt with its opening.
    """
    if value is None:
        return None
    receipt = Receipt.from_json(value)
    if receipt.opening is None:
        raise MalformedReceiptError("a kept receipt carries its opening")
    return receipt.to_json(include_opening=True)


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


# --- items -------------------------------------------------------------------------


def _canonical(document: Any) -> str:
    return json.dumps(
        document, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


@dataclass(frozen=True, slots=True)
class ItemDraft:
    """An item to add to the wallet, with the owner's bookkeeping about it.

    ``item.id`` and ``ownership.type_of_good`` are placeholders (use
    ``PENDING_ITEM_DID``): the wallet mints the item's DID and puts it in both.
    ``import_key`` defaults to :meth:`key`.
    """

    item: Item
    ownership: OwnershipInfo | None = None
    import_ref: str | None = None
    location: str | None = None
    tags: tuple[str, ...] = ()
    quantity: int | None = None
    notes: str | None = None
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)
    import_key: str | None = None

    def content(self) -> dict[str, Any]:
        """The normalised row: the entry's JSON without DIDs or credentials."""
        entry = self.entry_for(PENDING_ITEM_DID).to_json()
        entry.pop("id")
        entry.pop("credentials")
        entry.pop("registryStatus")
        entry["item"].pop("id")
        if "ownership" in entry:
            entry["ownership"].pop("typeOfGood")
        return entry

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical JSON of :meth:`content`."""
        return hashlib.sha256(_canonical(self.content()).encode()).hexdigest()

    def key(self) -> str:
        """The import key: ``ref:`` + the source's row reference, else ``key:`` +
        the registry's uniqueness key, else ``row:`` + :meth:`digest`."""
        if self.import_key is not None:
            return self.import_key
        if self.import_ref is not None:
            return f"ref:{self.import_ref}"
        try:
            return f"key:{self.item.uniqueness_key()}"
        except ItemNotIdentifiableError:
            return f"row:{self.digest()}"

    def entry_for(
        self,
        did: str,
        *,
        registry_status: RegistryStatus = RegistryStatus.UNREGISTERED,
    ) -> InventoryEntry:
        """The inventory entry of this draft for the item DID ``did`` (no
        credentials).

        Raises:
            pydantic.ValidationError: the draft breaks the inventory schema.
        """
        document: dict[str, Any] = {
            "id": did,
            "item": {**self.item.to_json(), "id": did},
            "credentials": [],
            "registryStatus": registry_status.value,
        }
        if self.ownership is not None:
            document["ownership"] = {**self.ownership.to_json(), "typeOfGood": did}
        optional = {
            "importRef": self.import_ref,
            "location": self.location,
            "tags": list(self.tags) or None,
            "quantity": self.quantity,
            "notes": self.notes,
            "extra": dict(self.extra) or None,
        }
        document.update({k: v for k, v in optional.items() if v is not None})
        return InventoryEntry.from_json(document)


@dataclass(frozen=True, slots=True)
class WalletItem:
    """An item held in the wallet: its DID, owner, entry and credentials."""

    local_id: str
    did: str
    owner: str
    entry: InventoryEntry  # its ``credentials`` are empty: see ``credential_ids``
    import_key: str
    digest: str
    credential_ids: tuple[str, ...]
    added_at: datetime
    updated_at: datetime

    @property
    def item(self) -> Item:
        return self.entry.item

    @property
    def registry_status(self) -> RegistryStatus:
        return self.entry.registry_status

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary for display (``entry`` has the whole record)."""
        return {
            "id": self.local_id,
            "did": self.did,
            "owner": self.owner,
            "name": self.item.name,
            "serial_number": self.item.serial_number,
            "registry_status": self.registry_status.value,
            "import_ref": self.entry.import_ref,
            "import_key": self.import_key,
            "credentials": list(self.credential_ids),
            "added": _timestamp(self.added_at),
            "updated": _timestamp(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class AddedItem:
    """What adding one draft did: ``created``, ``updated`` or ``unchanged``."""

    item: WalletItem
    outcome: ItemOutcome


def _item_json(item: WalletItem) -> dict[str, Any]:
    return {
        "id": item.local_id,
        "did": item.did,
        "owner": item.owner,
        "import_key": item.import_key,
        "digest": item.digest,
        "credentials": list(item.credential_ids),
        "added_at": _timestamp(item.added_at),
        "updated_at": _timestamp(item.updated_at),
        "entry": item.entry.to_json(),
    }


def _wallet_item(entry: Any, dids: set[str], credentials: set[str]) -> WalletItem:
    """Rebuild a held item from the payload (raises on damage)."""
    names = ("id", "did", "owner", "import_key", "digest", "added_at", "updated_at")
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(name), str) for name in names
    ):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    refs = entry.get("credentials")
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    if not isinstance(entry.get("entry"), dict):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    try:
        item = WalletItem(
            local_id=_check_alias(entry["id"]),
            did=entry["did"],
            owner=entry["owner"],
            entry=InventoryEntry.from_json(entry["entry"]),
            import_key=entry["import_key"],
            digest=entry["digest"],
            credential_ids=tuple(refs),
            added_at=_utc(datetime.fromisoformat(entry["added_at"])),
            updated_at=_utc(datetime.fromisoformat(entry["updated_at"])),
        )
    except (DidVaultError, ValueError) as exc:
        raise KeystoreUnlockError(_CONTENT_DAMAGED) from exc
    if (
        item.entry.id != item.did
        or item.entry.credentials
        or item.did not in dids
        or item.owner not in dids
        or not set(item.credential_ids) <= credentials
    ):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    return item


def _items(
    payload: dict[str, Any],
    records: Sequence[WalletDID],
    credentials: Sequence[StoredCredential],
) -> list[WalletItem]:
    """The held items of a payload, in the order they were added."""
    section = payload.get(INVENTORY_MEMBER, {"version": ITEMS_VERSION, "items": []})
    if not isinstance(section, dict):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    version = section.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    if version != ITEMS_VERSION:
        raise UnsupportedError(
            "the wallet's items were written by a newer version of did_vault",
            items_version=version,
        )
    entries = section.get("items")
    if not isinstance(entries, list):
        raise KeystoreUnlockError(_CONTENT_DAMAGED)
    dids = {record.did for record in records}
    held = {c.local_id for c in credentials}
    found = [_wallet_item(entry, dids, held) for entry in entries]
    for values in (
        [item.local_id for item in found],
        [item.did for item in found],
        [(item.owner, item.import_key) for item in found],
    ):
        if len(set(values)) != len(values):
            raise KeystoreUnlockError(_CONTENT_DAMAGED)
    return found


def _suite_for(algorithm: KeyAlgorithm) -> str:
    return EDDSA_JCS_2022 if algorithm is KeyAlgorithm.ED25519 else ECDSA_JCS_2019


def wallet_path(home: Path) -> Path:
    """Where the wallet file of a wallet home is."""
    return Path(home) / WALLET_FILE_NAME


class Wallet:
    """An unlocked wallet, holding its lock until ``close()`` (or the ``with`` ends).

    Raises (every method):
        ValueError: the wallet is closed.
    """

    __slots__ = ("_credentials", "_home", "_items", "_payload", "_records", "_store")

    def __init__(self, *, home: Path, store: Keystore) -> None:
        self._home, self._store = home, store
        self._payload = store.payload
        self._records = _records(self._payload)
        self._credentials = _credentials(self._payload)
        self._items = _items(self._payload, self._records, self._credentials)

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
        receipt: Mapping[str, Any] | None = None,
    ) -> StoredCredential:
        """Keep a credential, exactly as received (verify it first: this does not).

        ``local_id`` defaults to the first free ``cred-<n>``. ``receipt`` is the
        issuing registry's log receipt with the owner's opening (the JSON form of
        ``Receipt.to_json(include_opening=True)``), kept beside the credential as
        the owner's offline proof of when the event was logged.

        A VC Data Model 2.0 document (JSON) is kept as ``vc-di``; a compact SD-JWT
        VC (``<jwt>~<disclosure>~…~``) as ``dc+sd-jwt``, with all its disclosures.

        Raises:
            MalformedCredentialError: not a VC Data Model 2.0 credential.
            MalformedSDJWTError: looks like an SD-JWT but is not one.
            MalformedReceiptError: a ``receipt`` that is not one, or has no opening.
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
        kept_receipt = _receipt_json(receipt)
        entry: dict[str, Any] = {
            "id": local_id,
            "format": CREDENTIAL_FORMAT_SD_JWT_VC
            if is_sd_jwt
            else CREDENTIAL_FORMAT_DI,
            "raw": raw,
            "added_at": _timestamp(_utc(now)),
        }
        if kept_receipt is not None:
            entry["receipt"] = kept_receipt
        stored = _stored_credential(entry)
        entries = self._payload.get("credentials", [])
        self._save({**self._payload, "credentials": [*entries, entry]})
        self._credentials = [*self._credentials, stored]
        return stored

    def replace_receipts(
        self, receipts: Mapping[str, Mapping[str, Any]]
    ) -> list[StoredCredential]:
        """Replace kept log receipts, by credential local id, in one atomic write.

        Each new receipt must be for the same leaf as the one it replaces (same
        ``leafIndex``, ``leafData`` and opening): this is for a receipt whose
        checkpoint gained signatures (``refresh_receipt``) or that moved to a
        later checkpoint (``advance_receipt``), not for another event.
        Returns the updated credentials, in the order given.

        Raises:
            CredentialNotFoundError: a local id the wallet does not hold.
            MalformedReceiptError: a receipt that is not one, or has no opening.
            ValueError: a credential that keeps no receipt, or a receipt for
                another leaf.
            KeystoreError: the operating system refused the write (nothing changed).
        """
        self._check_open()
        by_id = {stored.local_id: stored for stored in self._credentials}
        kept: dict[str, dict[str, Any]] = {}
        for local_id, receipt in receipts.items():
            stored = by_id.get(local_id)
            if stored is None:
                raise CredentialNotFoundError(
                    "no credential with this id in the wallet", id=str(local_id)[:256]
                )
            new = _receipt_json(receipt)
            old = stored.receipt
            if old is None or new is None:
                raise ValueError(f"credential {local_id} keeps no receipt to replace")
            same_leaf = ("leafIndex", "leafData", "opening")
            if any(new[name] != old[name] for name in same_leaf):
                raise ValueError(f"the receipt for {local_id} is for another leaf")
            kept[local_id] = new
        entries = [
            {**entry, "receipt": kept[entry["id"]]} if entry["id"] in kept else entry
            for entry in self._payload.get("credentials", [])
        ]
        credentials = [
            replace(stored, receipt=kept[stored.local_id])
            if stored.local_id in kept
            else stored
            for stored in self._credentials
        ]
        self._save({**self._payload, "credentials": entries})
        self._credentials = credentials
        updated = {stored.local_id: stored for stored in credentials}
        return [updated[local_id] for local_id in kept]

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

    # --- items -------------------------------------------------------------------

    def add_item(
        self,
        item: Item,
        *,
        owner: str,
        ownership: OwnershipInfo | None = None,
        import_ref: str | None = None,
        location: str | None = None,
        tags: Sequence[str] = (),
        quantity: int | None = None,
        notes: str | None = None,
        extra: Mapping[str, str] | None = None,
        import_key: str | None = None,
        now: datetime | None = None,
    ) -> WalletItem:
        """Hold ``item`` (its ``id`` is replaced by a new did:key) with a
        self-issued ItemIdentityCredential signed by ``owner`` (alias or DID).

        An item whose import key the wallet already holds is updated, not
        duplicated (see :meth:`add_items`).

        Raises:
            AliasNotFoundError: ``owner`` is not a wallet DID.
            SchemaViolationError: the item breaks the standard schema.
            KeystoreError: the operating system refused the write (nothing changed).
        """
        draft = ItemDraft(
            item=item,
            ownership=ownership,
            import_ref=import_ref,
            location=location,
            tags=tuple(tags),
            quantity=quantity,
            notes=notes,
            extra=dict(extra or {}),
            import_key=import_key,
        )
        return self.add_items([draft], owner=owner, now=now)[0].item

    def add_items(
        self,
        drafts: Sequence[ItemDraft],
        *,
        owner: str,
        now: datetime | None = None,
    ) -> list[AddedItem]:
        """Hold many items in one atomic write (all of them or none).

        Each new item gets its own did:key (alias ``item-<n>``, kept like other
        wallet DIDs) and an ItemIdentityCredential issued and signed by ``owner``.
        A draft whose import key the wallet (or an earlier draft of the batch)
        already holds for this owner is ``unchanged`` when its normalised row is
        the same, else ``updated``: same DID, new entry, and a new credential if
        the item itself changed. Registry status and earlier credentials are kept.

        Raises:
            AliasNotFoundError: ``owner`` is not a wallet DID.
            SchemaViolationError: an item breaks the standard schema.
            KeystoreError: the operating system refused the write (nothing changed).
        """
        _, owner_record = self._find(owner)
        owner_key = self.signing_key(owner_record.did)
        moment = _utc(now).replace(microsecond=0)
        records = list(self._records)
        did_entries = list(self._payload["dids"])
        credentials = list(self._credentials)
        credential_entries = list(self._payload.get("credentials", []))
        held = list(self._items)
        by_key = {(i.owner, i.import_key): index for index, i in enumerate(held)}
        taken = {r.alias for r in records} | {i.local_id for i in held}
        taken_credentials = {c.local_id for c in credentials}
        counters = {"item": len(held), "cred": len(credentials)}
        results: list[AddedItem] = []

        def next_name(kind: str, prefix: str, used: set[str]) -> str:
            while True:
                counters[kind] += 1
                name = f"{prefix}{counters[kind]}"
                if name not in used:
                    used.add(name)
                    return name

        def identity_credential(item: Item) -> str:
            unsigned = build_item_identity_credential(
                item,
                owner=owner_record.did,
                valid_from=moment,
                credential_id=f"urn:uuid:{uuid.uuid4()}",
            )
            signed = issue_credential(
                unsigned,
                key=owner_key,
                verification_method=owner_record.verification_method,
                cryptosuite=_suite_for(owner_record.algorithm),
                created=moment,
            )
            local_id = next_name("cred", AUTO_CREDENTIAL_PREFIX, taken_credentials)
            entry = {
                "id": local_id,
                "format": CREDENTIAL_FORMAT_DI,
                "raw": _credential_text(signed),
                "added_at": _timestamp(moment),
            }
            credentials.append(_stored_credential(entry))
            credential_entries.append(entry)
            return local_id

        for draft in drafts:
            key, digest = draft.key(), draft.digest()
            index = by_key.get((owner_record.did, key))
            if index is not None:
                old = held[index]
                if old.digest == digest:
                    results.append(AddedItem(item=old, outcome="unchanged"))
                    continue
                entry = draft.entry_for(old.did, registry_status=old.registry_status)
                refs = old.credential_ids
                if entry.item != old.item:
                    refs = (*refs, identity_credential(entry.item))
                new = WalletItem(
                    local_id=old.local_id,
                    did=old.did,
                    owner=old.owner,
                    entry=entry,
                    import_key=key,
                    digest=digest,
                    credential_ids=refs,
                    added_at=old.added_at,
                    updated_at=moment,
                )
                held[index] = new
                results.append(AddedItem(item=new, outcome="updated"))
                continue
            item_key = PrivateKey.generate(KeyAlgorithm.ED25519)
            did, verification_method = _new_did("key", item_key)
            entry = draft.entry_for(did)
            local_id = next_name("item", AUTO_ITEM_PREFIX, taken)
            record = WalletDID(
                alias=local_id,
                did=did,
                method="key",
                algorithm=KeyAlgorithm.ED25519,
                verification_method=verification_method,
                created_at=moment,
            )
            records.append(record)
            did_entries.append(_entry(record, item_key))
            new = WalletItem(
                local_id=local_id,
                did=did,
                owner=owner_record.did,
                entry=entry,
                import_key=key,
                digest=digest,
                credential_ids=(identity_credential(entry.item),),
                added_at=moment,
                updated_at=moment,
            )
            by_key[(owner_record.did, key)] = len(held)
            held.append(new)
            results.append(AddedItem(item=new, outcome="created"))
        if all(result.outcome == "unchanged" for result in results):
            return results
        self._save(
            {
                **self._payload,
                "dids": did_entries,
                "credentials": credential_entries,
                INVENTORY_MEMBER: {
                    "version": ITEMS_VERSION,
                    "items": [_item_json(item) for item in held],
                },
            }
        )
        self._records, self._credentials, self._items = records, credentials, held
        return results

    def list_items(self) -> list[WalletItem]:
        """The held items, oldest first."""
        self._check_open()
        return list(self._items)

    def get_item(self, ref: str) -> WalletItem:
        """An item by its local id (``item-<n>``), its DID or its import reference.

        Raises:
            WalletItemNotFoundError: no such item in the wallet.
        """
        self._check_open()
        for item in self._items:
            if ref in (item.local_id, item.did):
                return item
        for item in self._items:
            if item.entry.import_ref == ref:
                return item
        raise WalletItemNotFoundError(
            "no item with this id, DID or import reference in the wallet",
            id=str(ref)[:256],
        )

    def update_item(
        self,
        ref: str,
        *,
        registry_status: RegistryStatus | None = None,
        add_credentials: Sequence[str] = (),
        now: datetime | None = None,
    ) -> WalletItem:
        """Set an item's registry status and/or link held credentials to it
        (e.g. the registry's OwnershipCredential, added with ``add_credential``).

        Raises:
            WalletItemNotFoundError: no such item in the wallet.
            CredentialNotFoundError: a credential id the wallet does not hold.
            KeystoreError: the operating system refused the write (nothing changed).
        """
        old = self.get_item(ref)
        refs = list(old.credential_ids)
        for local_id in add_credentials:
            stored = self.get_credential(local_id).local_id
            if stored not in refs:
                refs.append(stored)
        entry = old.entry
        if registry_status is not None:
            entry = InventoryEntry.from_json(
                {**entry.to_json(), "registryStatus": RegistryStatus(registry_status)}
            )
        new = WalletItem(
            local_id=old.local_id,
            did=old.did,
            owner=old.owner,
            entry=entry,
            import_key=old.import_key,
            digest=old.digest,
            credential_ids=tuple(refs),
            added_at=old.added_at,
            updated_at=_utc(now).replace(microsecond=0),
        )
        held = [new if item.local_id == old.local_id else item for item in self._items]
        self._save(
            {
                **self._payload,
                INVENTORY_MEMBER: {
                    "version": ITEMS_VERSION,
                    "items": [_item_json(item) for item in held],
                },
            }
        )
        self._items = held
        return new

    def item_credentials(self, ref: str) -> list[StoredCredential]:
        """The held credentials linked to an item, oldest first.

        Raises:
            WalletItemNotFoundError: no such item in the wallet.
        """
        item = self.get_item(ref)
        return [self.get_credential(local_id) for local_id in item.credential_ids]

    def export_inventory(
        self, *, owner: str | None = None, now: datetime | None = None
    ) -> InventoryExport:
        """The items of ``owner`` (alias or DID) as one versioned inventory, each
        with its credentials as held (Data Integrity ones; SD-JWT VCs are not
        JSON objects and stay in the wallet).

        ``owner`` may be left out when every item has the same owner, or when the
        wallet holds no item and exactly one DID that is not an item's.

        Raises:
            AliasNotFoundError: ``owner`` is not a wallet DID.
            MalformedInputError: no ``owner`` given and it is ambiguous.
        """
        self._check_open()
        if owner is not None:
            owner_did = self._find(owner)[1].did
        else:
            owners = {item.owner for item in self._items}
            if not owners:
                item_dids = {item.did for item in self._items}
                owners = {r.did for r in self._records if r.did not in item_dids}
            if len(owners) != 1:
                raise MalformedInputError(
                    "name the owner whose inventory to export", owners=len(owners)
                )
            (owner_did,) = owners
        entries = []
        for item in self._items:
            if item.owner != owner_did:
                continue
            documents = [
                stored.document()
                for stored in self.item_credentials(item.local_id)
                if stored.format == CREDENTIAL_FORMAT_DI
            ]
            entries.append(
                InventoryEntry.from_json(
                    {**item.entry.to_json(), "credentials": documents}
                )
            )
        return InventoryExport(
            format=INVENTORY_FORMAT,
            version=INVENTORY_VERSION,
            exported_at=format_date_time(_utc(now).replace(microsecond=0)),
            owner=owner_did,
            items=tuple(entries),
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
        # refuse a bad backup before creating anything
        _items(payload, _records(payload), _credentials(payload))
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
        self._items = []

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
