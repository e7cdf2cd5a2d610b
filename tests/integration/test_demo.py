"""`make run` keeps working: the demo story runs the real did-vault command."""

from pathlib import Path

import pytest

from cli.demo import story
from cli.output import Output


def test_demo_story_runs_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story(Output(as_json=False), tmp_path, insecure_test_kdf=True)
    out = capsys.readouterr().out
    assert "did-vault init" in out
    assert "keystore.unlock-failed" in out  # the old passphrase is refused at the end
