"""`pz review` as a user runs it, on two synthesized cloud assemblies (the shipped dev, deployed once
for the update matrix, and dev without the ranking solution and its campaign): the Markdown a pull
request gets, the JSON, the warnings first, and the exit statuses of --fail-on; and a training
longer than its configured timeout, warned about first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.exitcodes import ExitCode
from local.runner import StackArtifact
from review import Request, run
from tests.updates.changes import CHANGES, Change, Workspace, more_interactions, set_
from tests.updates.harness import head, pz

pytestmark = pytest.mark.slow
REMOVE = next(c for c in CHANGES if c.name == "solutions: remove one with its campaign")


@pytest.fixture(scope="module")
def apps(base: tuple[StackArtifact, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    base_artifact, _state = base
    return str(base_artifact.directory), str(head(REMOVE, tmp_path_factory.mktemp("review-head")).directory)


def review(apps: tuple[str, str], shared: Path, *extra: str) -> tuple[int, str]:
    return pz(
        "review",
        "-c",
        "env=dev",
        "--base-app",
        apps[0],
        "--app",
        apps[1],
        "--no-checkov",
        "--cache-dir",
        str(shared / "review-cache"),
        *extra,
    )


def test_markdown_summary_first_warnings_then_details(apps: tuple[str, str], shared: Path) -> None:
    code, out = review(apps, shared, "--production")
    assert code == ExitCode.OK, out
    lines = out.splitlines()
    assert lines[0].startswith("### Review of `Personalize-dev`")
    assert "4 deleted of" in lines[2] and "update UPDATE_COMPLETE" in lines[2], lines[2]
    warning = out.index("> [!WARNING]")
    assert "production-campaign-replaced" in out[warning : out.index("| Personalize resource |")]
    assert "`CampaignRanking` (campaign dev-retail-ranking) | deleted |" in out
    assert out.index("| Personalize resource |") < out.index("<details>")
    assert "<summary>Timeline:" in out and "<summary>Cost:" in out and "<summary>Security:" in out
    assert "**These prices are not verified against the pricing page**" in out


def test_json_and_fail_on(apps: tuple[str, str], shared: Path) -> None:
    code, out = review(apps, shared, "--json", "--fail-on", "campaign-deleted,reimport")
    assert code == ExitCode.FLAGGED == 3
    found = json.loads(out)
    assert found["flagged"] == ["campaign-deleted"] and found["fail_on"] == ["campaign-deleted", "reimport"]
    assert found["production"] is False and found["warnings"] == []
    outcomes = {r["logical_id"]: r["outcome"] for r in found["resources"] if r["kind"]}
    assert outcomes["CampaignRanking"] == outcomes["SolutionRanking"] == "deleted"
    assert outcomes["CampaignUserRecs"] == "untouched"
    before, after = found["cost"]["monthly_before"]["dollars"], found["cost"]["monthly_after"]["dollars"]
    assert after < before  # one campaign fewer billing every hour
    assert found["cost"]["prices"]["verified"] is False


def test_fail_on_absent_category_exits_0_and_unknown_is_a_usage_error(
    apps: tuple[str, str], shared: Path
) -> None:
    assert review(apps, shared, "--json", "--fail-on", "retraining")[0] == ExitCode.OK
    assert review(apps, shared, "--fail-on", "campaign-gone")[0] == ExitCode.USAGE


def test_an_app_that_is_not_an_assembly_is_a_usage_error(tmp_path: Path) -> None:
    code, _out = pz("review", "-c", "env=dev", "--base-app", str(tmp_path), "--app", str(tmp_path))
    assert code == ExitCode.USAGE


def test_a_training_longer_than_its_timeout_is_a_warning(
    base: tuple[StackArtifact, Path], shared: Path, tmp_path: Path
) -> None:
    """New data retrains every solution; user-personalization-v2 trains about 51 minutes on the duration
    model, so a 20-minute training_timeout makes its wait time out and the update roll back: the review
    says so first, from the model's duration (the training itself was stopped by the rollback)."""

    def mutate(ws: Workspace) -> None:
        more_interactions(ws)
        set_("solutions[user-personalization].training_timeout", "20m")(ws)

    short = head(Change("new data, training_timeout 20m", mutate, {}), tmp_path)
    found = run(
        Request(
            env="dev",
            base=base[0].directory,
            head=short.directory,
            checkov=False,
            cache=shared / "review-cache",
        )
    )
    assert found.update.status == "UPDATE_ROLLBACK_COMPLETE"
    assert [w.category for w in found.warnings] == ["update-failed", "timeout-exceeded"]
    assert found.warnings[1].message.startswith("TrainUserPersonalization: FULL training")
    assert "longer than its training_timeout 00:20:00" in found.warnings[1].message
    assert {"timeout-exceeded", "retraining", "update-failed"} <= set(found.categories)
