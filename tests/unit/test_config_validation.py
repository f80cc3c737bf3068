"""Config validation against a corpus of bad configs: every problem at once, each with file, line,
key and what was expected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.config import PipelineConfig, load_config
from pipeline.naming import REPO_ROOT
from pipeline.problems import Problem, ProblemReport

BASE = """\
[environment]
name = "dev"
region = "ap-southeast-2"
tags = { project = "recs" }

[dataset_group]
name = "retail"

[datasets.interactions]
schema = "data/schemas/interactions.json"
source = "data/interactions.csv"

[datasets.items]
schema = "data/schemas/items.json"
source = "data/items.csv"

[[solutions]]
name = "user-personalization"
recipe = "aws-user-personalization-v2"
training_timeout = "6h"

[[solutions]]
name = "similar"
recipe = "aws-sims"

[[campaigns]]
name = "user-recs"
solution = "user-personalization"
min_provisioned_tps = 1
"""


def problems_for(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "dev.toml"
    path.write_text(text)
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path)
    assert all(p.file == str(path) for p in raised.value.problems)
    return raised.value.problems


def one(tmp_path: Path, text: str) -> Problem:
    (problem,) = problems_for(tmp_path, text)
    return problem


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_shipped_configs_load(env: str) -> None:
    config = load_config(env)
    assert isinstance(config, PipelineConfig) and config.environment.name == env
    assert all(not s.auto_training for s in config.solutions)


def test_base_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.write_text(BASE)
    assert load_config("dev", path).solutions[0].training_timeout == 6 * 3600


def test_unknown_key(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('name = "retail"', 'name = "retail"\nkms = "x"'))
    assert (problem.line, problem.field, problem.message) == (8, "dataset_group.kms", "unknown key 'kms'")


def test_wrong_type(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace("min_provisioned_tps = 1", 'min_provisioned_tps = "one"'))
    assert (problem.line, problem.field, problem.value) == (29, "campaigns[0].min_provisioned_tps", "one")
    assert "integer" in problem.message


def test_bad_name(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('name = "user-recs"', 'name = "user recs!"'))
    assert (problem.line, problem.field, problem.value) == (27, "campaigns[0].name", "user recs!")
    assert "not a valid Personalize name: 1-63 characters matching" in problem.message


def test_name_too_long(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('name = "similar"', f'name = "{"s" * 64}"'))
    assert problem.field == "solutions[1].name" and "1-63 characters" in problem.message


def test_duplicate_solution_names(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('name = "similar"', 'name = "user-personalization"'))
    assert (problem.line, problem.field, problem.value) == (23, "solutions[1].name", "user-personalization")
    assert "duplicate solution name" in problem.message


def test_campaign_on_unknown_solution(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('solution = "user-personalization"', 'solution = "ranking"'))
    assert (problem.line, problem.field, problem.value) == (28, "campaigns[0].solution", "ranking")
    assert "not a configured solution; expected one of ['similar', 'user-personalization']" in problem.message


def test_timeout_over_12_hours(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('training_timeout = "6h"', 'training_timeout = "13h"'))
    assert (problem.line, problem.field) == (20, "solutions[0].training_timeout")
    assert problem.value == "13h"
    assert "out of range (46800s): expected more than 0 and at most 12h (43200s)" in problem.message


def test_bad_duration(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('training_timeout = "6h"', 'training_timeout = "6 hours"'))
    assert problem.value == "6 hours" and "expected a duration like '6h'" in problem.message


def test_tps_under_one(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace("min_provisioned_tps = 1", "min_provisioned_tps = 0"))
    assert (problem.line, problem.value) == (29, 0) and "must be at least 1" in problem.message


@pytest.mark.parametrize("retired", ["aws-hrnn", "aws-hrnn-metadata", "aws-hrnn-coldstart"])
def test_retired_recipes_name_the_successor(tmp_path: Path, retired: str) -> None:
    problem = one(tmp_path, BASE.replace('recipe = "aws-sims"', f'recipe = "{retired}"'))
    assert (problem.line, problem.field, problem.value) == (24, "solutions[1].recipe", retired)
    assert "retired" in problem.message and "use 'aws-user-personalization-v2' instead" in problem.message


@pytest.mark.parametrize("lab_recipe", ["aws-popularity-count", "aws-sims", "aws-personalized-ranking"])
def test_lab_recipes_work(tmp_path: Path, lab_recipe: str) -> None:
    path = tmp_path / "dev.toml"
    path.write_text(BASE.replace('recipe = "aws-sims"', f'recipe = "{lab_recipe}"'))
    assert load_config("dev", path).solutions[1].recipe == lab_recipe


def test_unknown_recipe(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('recipe = "aws-sims"', 'recipe = "aws-magic"'))
    assert problem.value == "aws-magic"
    assert "unknown recipe; expected one of" in problem.message and "aws-sims" in problem.message


def test_similar_items_needs_items(tmp_path: Path) -> None:
    text = BASE.replace('recipe = "aws-sims"', 'recipe = "aws-similar-items"')
    text = text.replace(
        '[datasets.items]\nschema = "data/schemas/items.json"\nsource = "data/items.csv"\n', ""
    )
    problem = one(tmp_path, text)
    assert (
        problem.field == "solutions[1].recipe"
        and "needs an items dataset: add [datasets.items]" in problem.message
    )


def test_campaign_on_user_segmentation_refused(tmp_path: Path) -> None:
    text = BASE.replace('recipe = "aws-user-personalization-v2"', 'recipe = "aws-item-affinity"')
    problem = one(tmp_path, text)
    assert problem.field == "campaigns[0].solution"
    assert "USER_SEGMENTATION recipe: it serves batch segment jobs only" in problem.message


def test_too_many_campaigns(tmp_path: Path) -> None:
    extra = "".join(f'\n[[campaigns]]\nname = "c{n}"\nsolution = "similar"\n' for n in range(5))
    problem = one(tmp_path, BASE + extra)
    assert problem.field == "campaigns" and "6 campaigns; a dataset group allows at most 5" in problem.message


def test_every_problem_at_once(tmp_path: Path) -> None:
    """A field error (TPS) must not hide the cross-checks (recipe, references, duplicates)."""
    text = (
        BASE.replace("min_provisioned_tps = 1", "min_provisioned_tps = 0")
        .replace('recipe = "aws-sims"', 'recipe = "aws-hrnn"')
        .replace('solution = "user-personalization"', 'solution = "nope"')
        + '\n[[filters]]\nname = "f"\nexpression = "EXCLUDE ItemID WHERE Items.X IN (\\"a\\")"\n'
        + '\n[[filters]]\nname = "f"\nexpression = "x"\n'
    )
    found = {(p.field, p.message.split(";")[0].split(":")[0]) for p in problems_for(tmp_path, text)}
    assert (
        "campaigns[0].min_provisioned_tps",
        "min_provisioned_tps must be at least 1 (CreateCampaign's minimum)",
    ) in found
    assert (
        "solutions[1].recipe",
        "retired by Amazon Personalize and no longer available for new solutions",
    ) in found
    assert ("campaigns[0].solution", "not a configured solution") in found
    assert ("filters[1].name", "duplicate filter name") in found


def test_invalid_toml_has_a_line(tmp_path: Path) -> None:
    problem = one(tmp_path, BASE.replace('name = "retail"', 'name = "retail'))
    assert problem.line == 7 and problem.message.startswith("not valid TOML")


def test_environment_name_must_match_file(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "dev.toml").write_text(BASE.replace('name = "dev"', 'name = "prod"'))
    from pipeline import config as config_module

    with pytest.raises(ProblemReport) as raised:
        load_config("dev", config_module.config_path("dev", config_dir))
    (problem,) = raised.value.problems
    assert (problem.line, problem.field, problem.value) == (2, "environment.name", "prod")


def test_missing_section(tmp_path: Path) -> None:
    text = BASE.split("[datasets.interactions]")[0] + "[[solutions]]" + BASE.split("[[solutions]]", 1)[1]
    problem = one(tmp_path, text)
    assert (problem.field, problem.message) == ("datasets", "Field required")


def test_bad_region_and_account(tmp_path: Path) -> None:
    text = BASE.replace('region = "ap-southeast-2"', 'region = "sydney"\naccount = "12345"')
    found = {p.field: p.message for p in problems_for(tmp_path, text)}
    assert "is not an AWS region name" in found["environment.region"]
    assert "expected 12 digits" in found["environment.account"]


def test_missing_config_file_lists_environments(tmp_path: Path) -> None:
    (tmp_path / "prod.toml").write_text(BASE)
    with pytest.raises(ProblemReport) as raised:
        load_config("staging", tmp_path / "staging.toml")
    assert "no such config file; environments: ['prod']" in str(raised.value)


# --- problems read once: the value is shown once, paths relative, config and data together --------

BAD_VALUES = [
    ("min_provisioned_tps = 1", "min_provisioned_tps = 0", 0),
    ('training_timeout = "6h"', 'training_timeout = "13h"', "13h"),
    ('training_timeout = "6h"', 'training_timeout = "6 hours"', "6 hours"),
    ('name = "retail"', 'name = "re tail"', "re tail"),
    ('recipe = "aws-sims"', 'recipe = "aws-hrnn"', "aws-hrnn"),
    ('recipe = "aws-sims"', 'recipe = "aws-magic"', "aws-magic"),
]


@pytest.mark.parametrize(("old", "new", "value"), BAD_VALUES)
def test_value_is_shown_once(tmp_path: Path, old: str, new: str, value: object) -> None:
    """str(problem) appends "(got <value>)": the message itself must not repeat the value."""
    problem = one(tmp_path, BASE.replace(old, new, 1))
    assert problem.value == value
    assert _mentions(problem.message, value) is False
    assert str(problem).endswith(f"(got {value!r})")


def test_monitoring_values_shown_once(tmp_path: Path) -> None:
    text = BASE + '\n[monitoring]\nidle_alarm_hours = 200\nalarm_email = "nope"\n'
    problems = problems_for(tmp_path, text)
    assert [p.value for p in problems] == [200, "nope"]
    for problem in problems:
        assert _mentions(problem.message, problem.value) is False, str(problem)


def _mentions(message: str, value: object) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(str(value))}(?![\w.])", message) is not None


def test_paths_relative_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").mkdir()
    path = tmp_path / "config" / "dev.toml"
    path.write_text(BASE.replace("min_provisioned_tps = 1", "min_provisioned_tps = 0"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path)
    assert [p.file for p in raised.value.problems] == ["config/dev.toml"]
    assert str(raised.value).splitlines()[1].startswith("  - config/dev.toml:")


def test_display_path() -> None:
    from pipeline.problems import display_path

    assert display_path(Path.cwd() / "config" / "dev.toml") == "config/dev.toml"
    assert display_path("data/x.csv") == "data/x.csv"
    assert display_path(Path("/elsewhere/x.toml")) == "/elsewhere/x.toml"
    outside = Path("/elsewhere/repo")
    assert display_path(outside / "config" / "dev.toml", outside) == "config/dev.toml"
    assert display_path(REPO_ROOT / "data" / "items.csv") == "data/items.csv"


def _repo(tmp_path: Path, config: str, interactions: str | None = None) -> Path:
    """A project laid out like this one: config/dev.toml, data/ (shipped schemas and CSVs)."""
    root = REPO_ROOT
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "dev.toml").write_text(config)
    (tmp_path / "data" / "schemas").mkdir(parents=True)
    for name in ("interactions", "items", "users"):
        source = root / "data" / "schemas" / f"{name}.json"
        (tmp_path / "data" / "schemas" / f"{name}.json").write_text(source.read_text())
        (tmp_path / "data" / f"{name}.csv").write_text((root / "data" / f"{name}.csv").read_text())
    if interactions is not None:
        (tmp_path / "data" / "interactions.csv").write_text(interactions)
    return tmp_path / "config" / "dev.toml"


def test_config_and_data_problems_in_one_report(tmp_path: Path) -> None:
    """A bad solution name must not hide a broken CSV: both in one report."""
    root = REPO_ROOT
    data = (root / "data" / "interactions.csv").read_text().splitlines(keepends=True)
    data[4] = data[4].replace(data[4].split(",")[2], "1767225600123", 1)
    path = _repo(tmp_path, BASE.replace('name = "similar"', 'name = "sim ilar"'), "".join(data))
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path, root=tmp_path)
    found = [(p.file, p.line, p.field) for p in raised.value.errors]
    assert (str(path), 23, "solutions[1].name") in found
    assert ("data/interactions.csv", 5, "TIMESTAMP") in found
    (millis,) = [p for p in raised.value.errors if p.field == "TIMESTAMP"]
    assert millis.code == "millis" and millis.value == "1767225600123"


def test_environment_mismatch_reports_data_too(tmp_path: Path) -> None:
    path = _repo(tmp_path, BASE.replace('name = "dev"', 'name = "prod"'), "USER_ID\n")
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path, root=tmp_path)
    assert [p.field for p in raised.value.errors][:2] == ["environment.name", None]
    assert "header must equal" in raised.value.errors[1].message


def test_broken_datasets_section_reads_no_data(tmp_path: Path) -> None:
    """Which files to check is unknown when [datasets] itself is wrong: config problems only."""
    path = _repo(tmp_path, BASE.replace('source = "data/interactions.csv"', "source = 5"), "junk\n")
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path, root=tmp_path)
    assert {p.field for p in raised.value.problems} == {"datasets.interactions.source"}


def test_data_checked_only_with_a_known_root(tmp_path: Path) -> None:
    """A config outside this repository's config/ without `root`: its files are not guessed at."""
    path = _repo(tmp_path, BASE.replace("min_provisioned_tps = 1", "min_provisioned_tps = 0"), "junk\n")
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path)
    assert [p.field for p in raised.value.problems] == ["campaigns[0].min_provisioned_tps"]
