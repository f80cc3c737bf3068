"""`pz` over a synthesized cloud assembly: deploy, recommend, diff, destroy, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cli.main import main
from local.runner import StackArtifact
from pipeline.naming import stack_name

pytestmark = pytest.mark.slow


def test_deploy_recommend_diff_destroy(
    tmp_path: Path, assemblies: Callable[[str], StackArtifact], capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_out = str(assemblies("dev").directory)
    common = ["-c", "env=dev", "--app", cdk_out, "--state-dir", str(tmp_path)]
    state = ["-c", "env=dev", "--state-dir", str(tmp_path)]  # recommend and destroy need no assembly
    assert main(["deploy", *common, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Personalize-dev: CREATE_COMPLETE" in out and "critical path" in out
    timeline = (tmp_path / "dev-timeline.md").read_text()
    assert "gantt" in timeline and ":crit," in timeline
    assert (tmp_path / "world.pkl").exists() and (tmp_path / "stacks" / f"{stack_name('dev')}.json").exists()

    assert (
        main(
            [
                "recommend",
                *state,
                "--campaign",
                "user-recs",
                "--user-id",
                "u0246",
                "--num",
                "5",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert "recommendations for user u0246" in lines[0] and len(lines) == 2 + 5
    assert (
        main(
            [
                "recommend",
                *state,
                "--campaign",
                "ranking",
                "--user-id",
                "u0246",
                "--rank",
                "i0103,i0010,i0067",
            ]
        )
        == 0
    )
    ranked = capsys.readouterr().out.splitlines()[2:]
    assert sorted(line.split()[1] for line in ranked) == ["i0010", "i0067", "i0103"]
    assert main(["recommend", *state, "--campaign", "nope", "--user-id", "u1"]) == 2
    assert "campaign 'nope' is not in the deployed stack" in capsys.readouterr().err

    assert main(["diff", *common]) == 0
    assert "There were no differences" in capsys.readouterr().out
    assert main(["diff", *common, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "stack": "Personalize-dev", "deployed_status": "CREATE_COMPLETE", "changes": []
    }

    # the same deploy again: an update with nothing to change, as JSON (events on stderr)
    assert main(["deploy", *common, "--json"]) == 0
    captured = capsys.readouterr()
    shown = json.loads(captured.out)
    assert (shown["stack"], shown["operation"]) == ("Personalize-dev", "UPDATE")
    assert shown["status"] == "UPDATE_COMPLETE"
    assert shown["outputs"]["CampaignArnUserRecs"].endswith(":campaign/dev-retail-user-recs")
    assert shown["timeline"] == str(tmp_path / "dev-timeline.md") and "UPDATE_COMPLETE" in captured.err

    assert main(["destroy", *state, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "DELETE_COMPLETE" in out and "Left in the local world for dev: nothing." in out
    assert main(["destroy", *state, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"result": None, "left": {}}


def test_deploy_without_assembly_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deploy", "-c", "env=dev", "--app", str(tmp_path / "none"), "--state-dir", str(tmp_path)])
    assert code == 2
    assert "has no cloud assembly" in capsys.readouterr().err


def test_deploy_with_assembly_for_another_env(
    tmp_path: Path, assemblies: Callable[[str], StackArtifact], capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_out = str(assemblies("dev").directory)
    assert main(["deploy", "-c", "env=prod", "--app", cdk_out, "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "was synthesized for Personalize-dev, not Personalize-prod" in err
    assert "pz synth -c env=prod" in err
