"""Every error code the command line raises itself is in specs/problems.md."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CODE = re.compile(r"""["'](cli\.[a-z0-9]+(?:-[a-z0-9]+)*)["']""")


def test_every_cli_code_is_documented() -> None:
    used = {
        match.group(1)
        for path in (ROOT / "cli").rglob("*.py")
        for match in CODE.finditer(path.read_text(encoding="utf-8"))
    }
    documented = set(
        re.findall(r"`(cli\.[a-z0-9-]+)`", (ROOT / "specs/problems.md").read_text())
    )
    assert used
    assert used <= documented, sorted(used - documented)


def test_each_cli_code_has_one_row() -> None:
    rows = re.findall(
        r"^\| `(cli\.[a-z0-9-]+)` \|",
        (ROOT / "specs/problems.md").read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    assert rows
    assert sorted(code for code in set(rows) if rows.count(code) > 1) == []
