"""`make run` keeps working: the demo story runs the real commands, end to end.

The story starts a registry on 127.0.0.1 (HTTPS, a throwaway CA) in a subprocess;
nothing leaves 127.0.0.1. Steps whose registry capability is not merged yet are
printed as pending and never faked.
"""

from pathlib import Path

import pytest

from cli.commands.lifecycle import available_capabilities
from cli.demo import STEPS, StepStatus, run_in_process, story
from cli.output import Output

ALWAYS = ["wallets", "trust", "issue", "register", "warranty", "insure"]


def test_demo_story_runs_every_available_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = story(
        Output(as_json=False), tmp_path, insecure_test_kdf=True, runner=run_in_process
    )

    out = capsys.readouterr().out
    assert report.passed()[: len(ALWAYS)] == ALWAYS
    assert [s.key for s in report.steps] == [s.key for s in STEPS]
    capabilities = available_capabilities()
    for step, result in zip(STEPS, report.steps, strict=True):
        if all(need in capabilities for need in step.needs) and all(
            earlier in report.passed() for earlier in step.after
        ):
            assert result.status is StepStatus.PASSED, result
        else:
            assert result.status is StepStatus.PENDING, result
    assert "registry db upgrade" in out
    assert "did-vault item register" in out
    assert "sdjwt.nonce-replayed" in out  # the replayed warranty proof is refused
    assert out.count("not available yet") >= len(report.pending())


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

    assert report.passed() == ALWAYS
    assert set(report.pending()) == {s.key for s in STEPS} - set(ALWAYS)
    out = capsys.readouterr().out
    for name in ("transfer", "missing", "stolen", "stolen-check"):
        assert f"the registry's {name} capability is not merged yet" in out
