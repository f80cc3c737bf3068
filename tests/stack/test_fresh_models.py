"""The fresh-model keys in the template: typed schedule, event weights and sync reach the solution's
and campaign's properties; training_mode reaches the training; a refresh marker (source_version, the
`refresh` context) is new work for an s3:// source's import and nothing else changes without one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.naming import REPO_ROOT, stack_name
from tests.stack.helpers import config_with, synth


def _typed(text: str) -> str:
    text = text.replace(
        'auto_training = false               # the service\'s default retrains weekly, billed each time',
        'auto_training = true\nauto_training_schedule = "rate(3 days)"\n'
        'event_weights = [{ event_type = "purchase", weight = 1.0 }, { event_type = "view", weight = 0.2 }]',
    )
    text = text.replace('min_provisioned_tps = 1', 'min_provisioned_tps = 1\nsync_with_latest = true')
    update = 'recipe = "aws-user-personalization"\ntraining_mode = "UPDATE"'
    return text.replace('recipe = "aws-sims"', update)


def test_typed_keys_reach_the_resources(tmp_path: Path) -> None:
    result = synth("dev", tmp_path / "out", config=config_with("dev", tmp_path, _typed))
    solution = result.resources["SolutionUserPersonalization"]["Properties"]
    assert solution["PerformAutoTraining"] == "true"
    assert solution["SolutionConfig"] == {
        "autoTrainingConfig": {"schedulingExpression": "rate(3 days)"},
        "eventsConfig": {"eventParametersList": [{"eventType": "purchase", "weight": 1.0},
                                                 {"eventType": "view", "weight": 0.2}]},
    }
    campaign = result.resources["CampaignUserRecs"]["Properties"]
    assert campaign["CampaignConfig"] == {"syncWithLatestSolutionVersion": True}
    assert campaign["SolutionVersionArn"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["SolutionUserPersonalization", "Arn"]}, "/$LATEST"]]}
    assert result.resources["TrainSimilarItems"]["Properties"]["TrainingMode"] == "UPDATE"
    assert result.resources["TrainUserPersonalization"]["Properties"]["TrainingMode"] == "FULL"


def _s3(version: str | None) -> Any:
    def edit(text: str) -> str:
        marker = f'\nsource_version = "{version}"' if version else ""
        return text.replace('source = "data/users.csv"', f'source = "s3://producer/users.csv"{marker}')
    return edit


def _imports(tmp_path: Path, label: str, version: str | None, **context: str) -> dict[str, Any]:
    from stacks import build_app

    (tmp_path / label).mkdir()
    config = config_with("dev", tmp_path / label, _s3(version))
    out = tmp_path / f"out-{label}"
    build_app("dev", str(out), config=config, root=REPO_ROOT, asset_dir=REPO_ROOT / "lambda", nag=False,
              context=dict(context)).synth()
    template = json.loads((out / f"{stack_name('dev')}.template.json").read_text())
    resources: dict[str, Any] = template["Resources"]
    return resources


def _waits(resources: dict[str, Any], label: str) -> list[str]:
    return sorted(k for k in resources if k.startswith(label) and "Wait" in k)


def test_a_refresh_marker_is_new_work_for_the_s3_import_only(tmp_path: Path) -> None:
    plain = _imports(tmp_path, "plain", None)
    token = _imports(tmp_path, "token", None, refresh="2026-12-04")
    marked = _imports(tmp_path, "marked", "v2")
    source = {lid: plain[lid]["Properties"]["SourceHash"] for lid in ("ImportInteractions", "ImportUsers")}
    for other in (token, marked):
        assert other["ImportUsers"]["Properties"]["SourceHash"] != source["ImportUsers"]
        assert _waits(other, "ImportUsers") != _waits(plain, "ImportUsers")
        assert _waits(other, "TrainUserPersonalization") != _waits(plain, "TrainUserPersonalization")
        # the repo's files did not change: their imports stay as they were
        assert other["ImportInteractions"]["Properties"]["SourceHash"] == source["ImportInteractions"]
        assert _waits(other, "ImportInteractions") == _waits(plain, "ImportInteractions")
    hashes = {r["ImportUsers"]["Properties"]["SourceHash"] for r in (plain, token, marked)}
    assert len(hashes) == 3


def test_without_markers_the_s3_source_hash_is_the_one_deployed_before(tmp_path: Path) -> None:
    from pipeline.naming import digest

    plain = _imports(tmp_path, "plain", None)
    # what stacks deployed before refresh markers existed computed: a stack upgrades without importing
    assert plain["ImportUsers"]["Properties"]["SourceHash"] == digest("s3://producer/users.csv", length=16)
