"""Every error class has a unique, well-formed code that specs/problems.md documents."""

import re
from pathlib import Path

import pytest

import did_vault.errors as errors_module
from did_vault.errors import DidVaultError, InvalidDIDError

PROBLEMS_MD = Path(__file__).resolve().parents[3] / "specs" / "problems.md"
CODE_SHAPE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z0-9]+(-[a-z0-9]+)*)+$")


def _all_subclasses(cls: type[DidVaultError]) -> list[type[DidVaultError]]:
    found: list[type[DidVaultError]] = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found


def _documented_codes() -> dict[str, str]:
    """code → documented class name, from the did_vault section of problems.md."""
    codes: dict[str, str] = {}
    text = PROBLEMS_MD.read_text(encoding="utf-8")
    section = text.split("\n## did_vault\n", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z0-9.\-]+)` \| `(\w+)` \|", line)
        if match:
            codes[match.group(1)] = match.group(2)
    return codes


ERROR_CLASSES = [
    cls
    for cls in _all_subclasses(DidVaultError)
    if cls.__module__ == errors_module.__name__
]


def test_every_error_code_is_unique() -> None:
    codes = [cls.code for cls in ERROR_CLASSES]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_error_code_is_well_formed_and_documented(cls: type[DidVaultError]) -> None:
    assert CODE_SHAPE.match(cls.code), cls.code
    documented = _documented_codes()
    assert documented.get(cls.code) == cls.__name__


def test_every_documented_code_exists() -> None:
    defined = {cls.code for cls in ERROR_CLASSES}
    assert set(_documented_codes()) <= defined


def test_error_keeps_detail_and_json_safe_context() -> None:
    exc = InvalidDIDError("DID must start with 'did:'", position=0)
    assert exc.to_dict() == {
        "code": "did.invalid",
        "title": "Invalid DID",
        "detail": "DID must start with 'did:'",
        "context": {"position": 0},
    }
    assert str(exc) == "DID must start with 'did:'"
