"""Every registry error has a unique, well-formed code documented under ``## registry``
in specs/problems.md, with the class, HTTP status and exit code the code uses."""

import re
from pathlib import Path

import pytest

import registry.errors as errors_module
from did_vault import DidVaultError
from registry.errors import RegistryError
from registry.problems import status_for

PROBLEMS_MD = Path(__file__).resolve().parents[3] / "specs" / "problems.md"
CODE_SHAPE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z0-9]+(-[a-z0-9]+)*)+$")
ROW = re.compile(r"^\| `([a-z0-9.\-]+)` \| `(\w+)` \| (\d+) \| (\d+) \|")


def _registry_section() -> dict[str, tuple[str, int, int]]:
    """code → (class, HTTP, exit) from the ``## registry`` table."""
    text = PROBLEMS_MD.read_text(encoding="utf-8")
    section = text.split("\n## registry\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, int, int]] = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = (
                match.group(2),
                int(match.group(3)),
                int(match.group(4)),
            )
    return rows


def _subclasses(cls: type[RegistryError]) -> list[type[RegistryError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


ERROR_CLASSES = [
    cls
    for cls in _subclasses(RegistryError)
    if cls.__module__ == errors_module.__name__
]


def _did_vault_codes() -> set[str]:
    found: set[str] = set()
    stack: list[type[DidVaultError]] = [DidVaultError]
    while stack:
        cls = stack.pop()
        if not issubclass(cls, RegistryError):
            found.add(cls.code)
            stack.extend(cls.__subclasses__())
    return found


def test_registry_codes_are_unique_and_distinct_from_did_vault():
    codes = [cls.code for cls in ERROR_CLASSES]
    assert len(codes) == len(set(codes))
    assert not set(codes) & _did_vault_codes()


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_error_is_documented_with_its_status_and_exit(cls):
    assert CODE_SHAPE.match(cls.code), cls.code
    assert _registry_section().get(cls.code) == (
        cls.__name__,
        status_for(cls),
        cls.exit_code,
    )


def test_every_documented_registry_code_exists():
    assert set(_registry_section()) <= {cls.code for cls in ERROR_CLASSES}


def test_every_registry_class_is_exported_by_module_docstring():
    doc = errors_module.__doc__ or ""
    for cls in ERROR_CLASSES:
        assert cls.__name__ in doc
        assert f"[{cls.code}]" in doc
