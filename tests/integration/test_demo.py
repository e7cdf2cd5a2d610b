"""`make run` keeps working: the demo prints every step, and those whose registry
capability is not merged yet as pending (never faked). The whole story on each
store is ``test_story.py``.
"""

from pathlib import Path

import pytest

from cli.demo import STEPS, run_in_process, story
from cli.output import Output

WITHOUT_REGISTRY_LIFECYCLE = [
    "wallets",
    "trust",
    "issue",
    "register",
    "warranty",
    "insure",
]


def test_demo_prints_steps_pending_without_their_capability(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = story(
        Output(as_json=False),
        tmp_path,
        insecure_test_kdf=True,
        capabilities=frozenset(),
        runner=run_in_process,
    )

    assert report.passed() == WITHOUT_REGISTRY_LIFECYCLE
    assert set(report.pending()) == {s.key for s in STEPS} - set(
        WITHOUT_REGISTRY_LIFECYCLE
    )
    out = capsys.readouterr().out
    assert "registry db upgrade" in out
    assert "did-vault item register" in out
    assert "sdjwt.nonce-replayed" in out  # the replayed warranty proof is refused
    for name in ("transfer", "missing", "stolen", "stolen-check"):
        assert f"the registry's {name} capability is not merged yet" in out
    assert out.count("not available yet") >= len(report.pending())
