"""The public API of did_vault: sorted, complete, and changed only on purpose."""

import inspect

import did_vault
import did_vault.dids
import did_vault.errors


def _ruff_order(name: str) -> tuple[int, str]:
    # RUF022's isort-style order: CONSTANTS, then Classes, then functions.
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted_without_duplicates() -> None:
    assert did_vault.__all__ == sorted(set(did_vault.__all__), key=_ruff_order)


def test_every_exported_name_resolves() -> None:
    for name in did_vault.__all__:
        assert getattr(did_vault, name) is not None, name


def test_every_error_class_is_exported() -> None:
    errors = {
        name
        for name, value in vars(did_vault.errors).items()
        if inspect.isclass(value) and issubclass(value, did_vault.errors.DidVaultError)
    }
    assert errors <= set(did_vault.__all__)


def test_every_dids_name_is_exported() -> None:
    assert set(did_vault.dids.__all__) <= set(did_vault.__all__)


def test_wallet_keys_and_kdf_are_exported() -> None:
    assert {
        "KDFParameters",
        "KeyAlgorithm",
        "PrivateKey",
        "PublicKey",
        "Wallet",
        "WalletDID",
    } <= set(did_vault.__all__)
