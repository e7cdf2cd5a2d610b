"""Items held in the wallet: own DIDs, self-issued credentials, idempotent batches."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from did_vault import (
    PENDING_ITEM_DID,
    ItemDraft,
    Wallet,
    default_resolver,
    items,
    verify_credential,
)
from did_vault.errors import (
    AliasNotFoundError,
    KeystoreError,
    KeystoreUnlockError,
    MalformedInputError,
    UnsupportedError,
    WalletItemNotFoundError,
)
from did_vault.keystore import KDFParameters, Keystore
from did_vault.wallet import wallet_path

PASSPHRASE = "wallet passphrase"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
TESTING = KDFParameters.TESTING


def make_item(name: str = "55-inch TV", **fields: object) -> items.Item:
    document: dict[str, object] = {
        "id": PENDING_ITEM_DID,
        "type": "IndividualProduct",
        "name": name,
    }
    document.update(fields)
    return items.Item.from_json(document)


def draft(name: str, **fields: object) -> ItemDraft:
    return ItemDraft(item=make_item(name), **fields)  # type: ignore[arg-type]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "w"


@pytest.fixture
def wallet(home: Path):
    with Wallet.create(home, PASSPHRASE, kdf=TESTING, now=NOW) as opened:
        opened.create_did("key", alias="alice", now=NOW)
        yield opened


def reopen(home: Path) -> Wallet:
    return Wallet.open(home, PASSPHRASE, kdf_floor=TESTING)


def test_add_item_mints_a_did_key_and_a_signed_identity_credential(wallet):
    held = wallet.add_item(
        make_item(gtin="09520123456788", serialNumber="8KQ2-00042X"),
        owner="alice",
        import_ref="tv-1",
        now=NOW,
    )
    owner = wallet.get_did("alice").did
    assert held.did.startswith("did:key:z6Mk")
    assert held.item.id == held.did == held.entry.id
    assert held.owner == owner
    assert held.local_id == "item-1"
    assert held.import_key == "ref:tv-1"
    assert held.registry_status is items.RegistryStatus.UNREGISTERED
    # the item's key is kept like any wallet DID, under the item's local id
    record = wallet.get_did(held.did)
    assert record.alias == "item-1"
    assert wallet.signing_key(held.did).public_key is not None
    (stored,) = wallet.item_credentials("item-1")
    assert stored.types == ("VerifiableCredential", "ItemIdentityCredential")
    assert stored.issuer == owner
    assert stored.subject_ids == (held.did,)
    document = stored.document()
    items.validate_credential(document)
    verify_credential(document, resolver=default_resolver(), now=NOW)


def test_owner_must_be_a_wallet_did(wallet):
    with pytest.raises(AliasNotFoundError):
        wallet.add_item(make_item(), owner="bob", now=NOW)
    assert wallet.list_items() == []


def test_adding_the_same_rows_again_creates_no_duplicates(wallet, home):
    drafts = [draft(f"Chair {n}") for n in range(5)]
    first = wallet.add_items(drafts, owner="alice", now=NOW)
    assert [r.outcome for r in first] == ["created"] * 5
    dids, credentials = len(wallet.list_dids()), len(wallet.list_credentials())
    again = wallet.add_items(drafts, owner="alice", now=LATER)
    assert [r.outcome for r in again] == ["unchanged"] * 5
    assert [r.item for r in again] == [r.item for r in first]
    assert (len(wallet.list_dids()), len(wallet.list_credentials())) == (
        dids,
        credentials,
    )
    wallet.close()
    with reopen(home) as reopened:
        assert reopened.list_items() == [r.item for r in first]
        rerun = reopened.add_items(drafts, owner="alice", now=LATER)
        assert {r.outcome for r in rerun} == {"unchanged"}


def test_import_key_prefers_ref_then_uniqueness_key_then_row_digest():
    assert draft("TV", import_ref="hb-7").key() == "ref:hb-7"
    identified = ItemDraft(item=make_item(gtin="09520123456788", serialNumber="AB 12"))
    assert identified.key() == "key:01/09520123456788/21/ab12"
    plain = draft("Chair")
    assert plain.key() == f"row:{plain.digest()}"
    assert draft("Chair").key() == plain.key()
    assert draft("Chair", location="Garden").key() != plain.key()


def test_a_changed_row_updates_the_item_in_place(wallet):
    (created,) = wallet.add_items(
        [draft("TV", import_ref="tv", location="Living room")], owner="alice", now=NOW
    )
    # bookkeeping only: same DID, no new credential
    (moved,) = wallet.add_items(
        [draft("TV", import_ref="tv", location="Bedroom")], owner="alice", now=LATER
    )
    assert moved.outcome == "updated"
    assert moved.item.did == created.item.did
    assert moved.item.entry.location == "Bedroom"
    assert moved.item.credential_ids == created.item.credential_ids
    assert moved.item.updated_at == LATER
    # the item itself changed: a new identity credential naming the same DID
    (renamed,) = wallet.add_items(
        [draft("OLED TV", import_ref="tv", location="Bedroom")],
        owner="alice",
        now=LATER,
    )
    assert renamed.outcome == "updated"
    assert len(renamed.item.credential_ids) == 2
    newest = wallet.get_credential(renamed.item.credential_ids[-1]).document()
    assert newest["credentialSubject"]["name"] == "OLED TV"
    assert newest["credentialSubject"]["id"] == created.item.did
    assert len(wallet.list_items()) == 1


def test_duplicate_keys_within_one_batch_update_the_first(wallet):
    results = wallet.add_items(
        [draft("TV", import_ref="tv"), draft("TV 2", import_ref="tv")],
        owner="alice",
        now=NOW,
    )
    assert [r.outcome for r in results] == ["created", "updated"]
    assert len(wallet.list_items()) == 1


def test_a_batch_is_one_write(wallet, monkeypatch):
    writes: list[int] = []
    original = Keystore.write

    def counting(self, payload):
        writes.append(1)
        return original(self, payload)

    monkeypatch.setattr(Keystore, "write", counting)
    wallet.add_items([draft(f"Box {n}") for n in range(100)], owner="alice", now=NOW)
    assert len(writes) == 1
    wallet.add_items([draft(f"Box {n}") for n in range(100)], owner="alice", now=NOW)
    assert len(writes) == 1  # nothing changed: nothing written


def test_a_failed_write_changes_nothing_and_a_rerun_completes(
    wallet, home, monkeypatch
):
    drafts = [draft(f"Lamp {n}") for n in range(3)]
    before = (wallet.list_dids(), wallet.list_credentials())

    def crash(self, payload):
        raise KeystoreError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(Keystore, "write", crash)
        with pytest.raises(KeystoreError):
            wallet.add_items(drafts, owner="alice", now=NOW)
    assert wallet.list_items() == []
    assert (wallet.list_dids(), wallet.list_credentials()) == before
    results = wallet.add_items(drafts, owner="alice", now=NOW)
    assert [r.outcome for r in results] == ["created"] * 3
    wallet.close()
    with reopen(home) as reopened:
        assert len(reopened.list_items()) == 3


def test_get_item_by_local_id_did_or_import_ref(wallet):
    held = wallet.add_item(make_item(), owner="alice", import_ref="hb-1", now=NOW)
    assert wallet.get_item("item-1") == held
    assert wallet.get_item(held.did) == held
    assert wallet.get_item("hb-1") == held
    with pytest.raises(WalletItemNotFoundError) as exc_info:
        wallet.get_item("item-9")
    assert exc_info.value.code == "wallet.item-not-found"


def test_update_item_sets_status_and_links_credentials(wallet, home):
    held = wallet.add_item(make_item(), owner="alice", now=NOW)
    other = wallet.add_credential(
        wallet.get_credential(held.credential_ids[0]).raw, local_id="registry-vc"
    )
    updated = wallet.update_item(
        held.did,
        registry_status=items.RegistryStatus.REGISTERED,
        add_credentials=[other.local_id],
        now=LATER,
    )
    assert updated.registry_status is items.RegistryStatus.REGISTERED
    assert updated.credential_ids == (*held.credential_ids, "registry-vc")
    wallet.close()
    with reopen(home) as reopened:
        assert reopened.get_item(held.did) == updated


def test_export_inventory_is_valid_and_carries_the_credentials(wallet):
    ownership = items.OwnershipInfo.from_json(
        {
            "type": "OwnershipInfo",
            "typeOfGood": PENDING_ITEM_DID,
            "ownedFrom": "2025-05-02T00:00:00Z",
            "acquisition": {"price": {"amount": "1299.00", "currency": "EUR"}},
        }
    )
    held = wallet.add_item(
        make_item(serialNumber="SN-1"),
        owner="alice",
        ownership=ownership,
        tags=["Electronics"],
        quantity=1,
        now=NOW,
    )
    export = wallet.export_inventory(now=LATER)
    document = export.to_json()
    items.validate_document(document, "inventory-export")
    assert document["owner"] == wallet.get_did("alice").did
    assert document["exportedAt"] == "2026-11-24T09:30:00Z"
    (entry,) = document["items"]
    assert entry["id"] == held.did
    assert entry["ownership"]["typeOfGood"] == held.did
    assert entry["tags"] == ["Electronics"]
    assert [c["type"][1] for c in entry["credentials"]] == ["ItemIdentityCredential"]


def test_export_inventory_needs_an_owner_when_it_is_ambiguous(wallet):
    wallet.create_did("key", alias="bob", now=NOW)
    with pytest.raises(MalformedInputError):
        wallet.export_inventory(now=NOW)  # no items, two DIDs
    wallet.add_item(make_item("A"), owner="alice", now=NOW)
    assert len(wallet.export_inventory(now=NOW).items) == 1
    wallet.add_item(make_item("B"), owner="bob", now=NOW)
    with pytest.raises(MalformedInputError):
        wallet.export_inventory(now=NOW)
    assert [e.item.name for e in wallet.export_inventory(owner="bob").items] == ["B"]


def test_backup_restores_the_items(wallet, tmp_path):
    held = wallet.add_item(make_item(), owner="alice", now=NOW)
    backup = tmp_path / "backup.dvbak"
    wallet.export_backup(backup, "backup passphrase", kdf=TESTING, now=NOW)
    with Wallet.import_backup(
        backup,
        "backup passphrase",
        home=tmp_path / "restored",
        passphrase=PASSPHRASE,
        kdf=TESTING,
        kdf_floor=TESTING,
    ) as restored:
        assert restored.list_items() == [held]


def _payload_with(home: Path, mutate) -> None:
    with Keystore.open(wallet_path(home), PASSPHRASE, kdf_floor=TESTING) as store:
        payload = store.payload
        mutate(payload)
        store.write(payload)


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.__setitem__("inventory", []),
        lambda p: p["inventory"].__setitem__("items", {}),
        lambda p: p["inventory"].__setitem__("version", "1"),
        lambda p: p["inventory"]["items"][0].__setitem__("did", "did:key:z6Mkother"),
        lambda p: p["inventory"]["items"][0].__setitem__("credentials", ["cred-99"]),
        lambda p: p["inventory"]["items"][0]["entry"]["item"].pop("name"),
        lambda p: p["inventory"]["items"].append(p["inventory"]["items"][0]),
        lambda p: p["inventory"]["items"][0].__setitem__("added_at", "yesterday"),
    ],
    ids=[
        "not-an-object",
        "items-not-a-list",
        "version-not-an-int",
        "did-not-held",
        "credential-not-held",
        "entry-breaks-schema",
        "duplicate-item",
        "bad-timestamp",
    ],
)
def test_damaged_items_are_refused_as_damage(wallet, home, damage):
    wallet.add_item(make_item(), owner="alice", now=NOW)
    wallet.close()
    _payload_with(home, damage)
    with pytest.raises(KeystoreUnlockError):
        reopen(home)


def test_newer_items_version_is_unsupported(wallet, home):
    wallet.close()
    _payload_with(home, lambda p: p.__setitem__("inventory", {"version": 2}))
    with pytest.raises(UnsupportedError):
        reopen(home)


def test_import_keys_are_per_owner(wallet):
    wallet.create_did("key", alias="bob", now=NOW)
    (alices,) = wallet.add_items([draft("TV", import_ref="tv")], owner="alice")
    (bobs,) = wallet.add_items([draft("TV", import_ref="tv")], owner="bob")
    assert (alices.outcome, bobs.outcome) == ("created", "created")
    assert alices.item.did != bobs.item.did
