"""The typed keys that keep a model fresh: training_mode, auto_training_schedule, event_weights,
sync_with_latest, source_version. Each bad value is refused naming file, field, value and what was
expected (sources: pipeline/recipes.py, docs/fresh-models.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import PipelineConfig, load_config
from pipeline.problems import Problem, ProblemReport

BASE = """\
[environment]
name = "dev"

[dataset_group]
name = "retail"

[datasets.interactions]
schema = "data/schemas/interactions.json"
source = "data/interactions.csv"

[[solutions]]
name = "up"
recipe = "aws-user-personalization"
SOLUTION_EXTRA

[[campaigns]]
name = "recs"
solution = "up"
CAMPAIGN_EXTRA
"""


def text(solution: str = "", campaign: str = "") -> str:
    return BASE.replace("SOLUTION_EXTRA", solution).replace("CAMPAIGN_EXTRA", campaign)


def problems(tmp_path: Path, body: str) -> list[Problem]:
    path = tmp_path / "dev.toml"
    path.write_text(body)
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path)
    assert all(p.file == str(path) for p in raised.value.problems)
    return raised.value.problems


def loaded(tmp_path: Path, body: str) -> PipelineConfig:
    path = tmp_path / "dev.toml"
    path.write_text(body)
    return load_config("dev", path)


def test_typed_keys_become_the_api_configs(tmp_path: Path) -> None:
    solution_keys = 'auto_training = true\nauto_training_schedule = "rate(3 days)"\ntraining_mode = "UPDATE"'
    config = loaded(tmp_path, text(solution_keys, "sync_with_latest = true"))
    solution, campaign = config.solutions[0], config.campaigns[0]
    assert solution.training_mode == "UPDATE"
    assert solution.api_solution_config == {"autoTrainingConfig": {"schedulingExpression": "rate(3 days)"}}
    assert campaign.api_campaign_config == {"syncWithLatestSolutionVersion": True} and campaign.follows_latest


def test_defaults_bill_nothing_more(tmp_path: Path) -> None:
    solution = loaded(tmp_path, text()).solutions[0]
    assert (solution.auto_training, solution.training_mode) == (False, "FULL")
    assert solution.api_solution_config == {}


def test_event_weights_on_a_v2_recipe(tmp_path: Path) -> None:
    body = text('event_weights = [{ event_type = "purchase", weight = 1.0 }, '
                '{ event_type = "view", weight = 0.25, value_threshold = 0.5 }]').replace(
        'recipe = "aws-user-personalization"', 'recipe = "aws-user-personalization-v2"')
    config = loaded(tmp_path, body).solutions[0].api_solution_config
    assert config == {"eventsConfig": {"eventParametersList": [
        {"eventType": "purchase", "weight": 1.0},
        {"eventType": "view", "weight": 0.25, "eventValueThreshold": 0.5},
    ]}}


def test_update_refused_outside_user_personalization(tmp_path: Path) -> None:
    body = text('training_mode = "UPDATE"').replace(
        'recipe = "aws-user-personalization"', 'recipe = "aws-user-personalization-v2"')
    (problem,) = problems(tmp_path, body)
    assert (problem.field, problem.value, problem.line) == ("solutions[0].training_mode", "UPDATE", 14)
    assert "supported only by aws-user-personalization" in problem.message
    assert "not by aws-user-personalization-v2" in problem.message


def test_training_mode_takes_full_or_update(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, text('training_mode = "AUTOTRAIN"'))
    assert (problem.field, problem.value) == ("solutions[0].training_mode", "AUTOTRAIN")
    assert "'FULL' or 'UPDATE'" in problem.message


@pytest.mark.parametrize(
    "schedule", ["rate(0 days)", "rate(31 days)", "rate(7 hours)", "every week", "rate(7days)"]
)
def test_schedule_is_rate_n_days_1_to_30(tmp_path: Path, schedule: str) -> None:
    found = problems(tmp_path, text(f'auto_training = true\nauto_training_schedule = "{schedule}"'))
    (problem,) = [p for p in found if p.field == "solutions[0].auto_training_schedule"]
    assert problem.value == schedule and "expected 'rate(N days)' with N from 1 to 30" in problem.message


@pytest.mark.parametrize("schedule", ["rate(1 day)", "rate(30 days)", "rate(14 days)"])
def test_schedules_the_service_takes(tmp_path: Path, schedule: str) -> None:
    body = text(f'auto_training = true\nauto_training_schedule = "{schedule}"')
    assert loaded(tmp_path, body).solutions[0].auto_training_schedule == schedule


def test_schedule_without_auto_training_is_refused(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, text('auto_training_schedule = "rate(7 days)"'))
    assert (problem.field, problem.value) == ("solutions[0].auto_training_schedule", "rate(7 days)")
    assert "set auto_training = true" in problem.message


def test_event_weights_refused_outside_the_v2_recipes(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, text('event_weights = [{ event_type = "view", weight = 0.5 }]'))
    assert (problem.field, problem.value) == ("solutions[0].event_weights", "aws-user-personalization")
    assert "aws-personalized-ranking-v2, aws-user-personalization-v2" in problem.message


def test_event_weight_out_of_range(tmp_path: Path) -> None:
    body = text('event_weights = [{ event_type = "view", weight = 1.5 }]').replace(
        'recipe = "aws-user-personalization"', 'recipe = "aws-user-personalization-v2"')
    found = problems(tmp_path, body)
    assert any(p.field == "solutions[0].event_weights[0].weight" and p.value == 1.5
               and "less than or equal to 1" in p.message for p in found)


def test_at_most_ten_event_weights(tmp_path: Path) -> None:
    weights = ", ".join(f'{{ event_type = "e{n}", weight = 0.1 }}' for n in range(11))
    body = text(f"event_weights = [{weights}]").replace(
        'recipe = "aws-user-personalization"', 'recipe = "aws-user-personalization-v2"')
    assert any(p.field == "solutions[0].event_weights" and "at most 10" in p.message
               for p in problems(tmp_path, body))


def test_schedule_set_both_ways_is_refused(tmp_path: Path) -> None:
    body = text('auto_training = true\nauto_training_schedule = "rate(3 days)"\n'
                'solution_config = { autoTrainingConfig = { schedulingExpression = "rate(5 days)" } }')
    (problem,) = problems(tmp_path, body)
    assert (problem.field, problem.value) == ("solutions[0].solution_config", "autoTrainingConfig")
    assert "keep one" in problem.message


def test_raw_solution_config_alone_still_works(tmp_path: Path) -> None:
    body = text('auto_training = true\n'
                'solution_config = { autoTrainingConfig = { schedulingExpression = "rate(5 days)" } }')
    config = loaded(tmp_path, body).solutions[0].api_solution_config
    assert config == {"autoTrainingConfig": {"schedulingExpression": "rate(5 days)"}}


def test_sync_set_both_ways_is_refused(tmp_path: Path) -> None:
    both = "sync_with_latest = true\ncampaign_config = { syncWithLatestSolutionVersion = false }"
    body = text(campaign=both)
    (problem,) = problems(tmp_path, body)
    assert (problem.field, problem.value) == ("campaigns[0].campaign_config", "syncWithLatestSolutionVersion")


def test_source_version_is_a_short_string(tmp_path: Path) -> None:
    body = text().replace('source = "data/interactions.csv"',
                          f'source = "data/interactions.csv"\nsource_version = "{"x" * 129}"')
    (problem,) = problems(tmp_path, body)
    assert problem.field == "datasets.interactions.source_version" and "at most 128" in problem.message


def test_auto_training_without_a_synced_campaign_warns(tmp_path: Path) -> None:
    from pipeline.naming import REPO_ROOT
    from pipeline.validate import summary, validate

    config = loaded(tmp_path, text('auto_training = true\nauto_training_schedule = "rate(3 days)"'))
    result = validate(config, REPO_ROOT)
    (warning,) = [p for p in result.warnings if p.field == "solutions[0].auto_training"]
    assert "reach no campaign: recs" in warning.message and "sync_with_latest = true" in warning.message
    assert "auto-training ON, rate(3 days) (billed each run)" in summary(config, result)
    synced = loaded(tmp_path, text('auto_training = true', "sync_with_latest = true"))
    synced_result = validate(synced, REPO_ROOT)
    assert not [p for p in synced_result.warnings if p.field == "solutions[0].auto_training"]
    assert "follows the newest version" in summary(synced, synced_result)
