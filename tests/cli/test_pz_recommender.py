"""`pz recommender`: its usage, and the errors a caller can fix (exit 2) before anything is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.exitcodes import ExitCode
from cli.main import main


def test_stop_needs_a_deployed_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["recommender", "stop", "top-picks", "-c", "env=vod", "--state-dir", str(tmp_path)])
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "Personalize-vod is not deployed locally" in err and "pz deploy -c env=vod" in err


def test_the_action_is_one_of_stop_start_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommender", "pause", "top-picks", "-c", "env=vod"]) == ExitCode.USAGE
    assert "invalid choice: 'pause'" in capsys.readouterr().err


def test_recommend_takes_a_campaign_or_a_recommender_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["recommend", "-c", "env=vod", "--campaign", "a", "--recommender", "b", "--user-id", "p0001"]
    assert main(argv) == ExitCode.USAGE
    assert "not allowed with argument" in capsys.readouterr().err
