"""Domain dataset groups and recommenders in the config and at synth: each rule of the domain's
schema requirements and use cases, shown failing on a bad input that names the file and field."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.domains import USE_CASES, check_domain_schema, use_cases_of
from pipeline.naming import REPO_ROOT
from pipeline.problems import Problem, ProblemReport
from pipeline.validate import validate

VOD = (REPO_ROOT / "config" / "vod.toml").read_text()


def vod_schema(dataset_type: str) -> dict[str, Any]:
    path = REPO_ROOT / "data" / "schemas" / "vod" / f"{dataset_type}.json"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def config_problems(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "vod.toml"
    path.write_text(text)
    with pytest.raises(ProblemReport) as raised:
        load_config("vod", path, root=REPO_ROOT)
    return raised.value.problems


def test_the_shipped_vod_example_is_valid_and_has_two_recommenders() -> None:
    config = load_config("vod")
    assert config.dataset_group.domain == "VIDEO_ON_DEMAND"
    assert len(config.recommenders) >= 2 and not config.solutions
    assert all(r.min_recommendation_requests_per_second == 1 for r in config.recommenders)
    assert validate(config, REPO_ROOT).problems == []


def test_a_recipe_of_the_other_domain_is_refused_naming_the_valid_ones(tmp_path: Path) -> None:
    text = VOD.replace('recipe = "aws-vod-because-you-watched-x"',
                       'recipe = "aws-ecomm-frequently-bought-together"')
    (problem,) = config_problems(tmp_path, text)
    assert problem.field == "recommenders[1].recipe"
    assert "ECOMMERCE use case" in problem.message
    assert all(name in problem.message for name in use_cases_of("VIDEO_ON_DEMAND"))


def test_a_custom_recipe_is_refused_as_a_recommender(tmp_path: Path) -> None:
    text = VOD.replace('recipe = "aws-vod-because-you-watched-x"', 'recipe = "aws-sims"')
    (problem,) = config_problems(tmp_path, text)
    assert problem.field == "recommenders[1].recipe" and "aws-vod-trending-now" in problem.message


def test_recommenders_need_a_domain_dataset_group(tmp_path: Path) -> None:
    text = VOD.replace('domain = "VIDEO_ON_DEMAND"', "")
    problems = config_problems(tmp_path, text)
    assert {p.field for p in problems} == {"recommenders[0].recipe", "recommenders[1].recipe"}
    assert all("domain dataset group" in p.message for p in problems)


def test_a_use_case_that_trains_on_items_needs_the_items_dataset(tmp_path: Path) -> None:
    text = VOD.replace("[datasets.items]", "[datasets.unused]", 1)
    problems = config_problems(tmp_path, text)
    assert any(p.field == "recommenders[0].recipe" and "[datasets.items]" in p.message for p in problems)


def test_exploration_only_for_use_cases_that_recommend_for_a_user(tmp_path: Path) -> None:
    text = VOD.replace('recipe = "aws-vod-because-you-watched-x"',
                       'recipe = "aws-vod-because-you-watched-x"\nexploration_weight = 0.5')
    (problem,) = config_problems(tmp_path, text)
    assert problem.field == "recommenders[1].exploration_weight"
    assert "aws-vod-top-picks" in problem.message


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("min_recommendation_requests_per_second", "0", "at least 1"),
    ("exploration_weight", "1.5", "between 0 and 1"),
    ("exploration_item_age_cutoff", "0", "minimum is 1"),
])
def test_recommender_numbers_are_bounded(tmp_path: Path, key: str, value: str, expected: str) -> None:
    text = re.sub(rf"^{key} = \S+", f"{key} = {value}", VOD, count=1, flags=re.MULTILINE)
    problems = config_problems(tmp_path, text)
    assert any(p.field == f"recommenders[0].{key}" and expected in p.message for p in problems), problems


def test_neither_solutions_nor_recommenders_is_an_error(tmp_path: Path) -> None:
    head = VOD.split("[[recommenders]]")[0]
    (problem,) = config_problems(tmp_path, head)
    assert problem.field == "solutions" and "nothing to train" in problem.message


def test_duplicate_names_and_the_quota_of_five_per_dataset_group(tmp_path: Path) -> None:
    extra = '\n[[recommenders]]\nname = "top-picks"\nrecipe = "aws-vod-most-popular"\n' * 4
    problems = config_problems(tmp_path, VOD + extra)
    assert any(p.field == "recommenders" and "at most 5" in p.message for p in problems)
    assert any(p.field == "recommenders[2].name" and "duplicate" in p.message for p in problems)


def test_every_use_case_belongs_to_one_domain_with_five_each() -> None:
    assert len(use_cases_of("ECOMMERCE")) == 5 and len(use_cases_of("VIDEO_ON_DEMAND")) == 5
    assert all(case.arn == f"arn:aws:personalize:::recipe/{name}" for name, case in USE_CASES.items())


# ---- schemas against the domain's required fields and reserved keywords ---------------------------

def _without(schema: dict[str, Any], name: str) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    out["fields"] = [f for f in out["fields"] if f["name"] != name]
    return out


def _changed(schema: dict[str, Any], name: str, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    for found in out["fields"]:
        if found["name"] == name:
            found.update(changes)
            for key, value in list(found.items()):
                if value is None:
                    del found[key]
    return out


def test_the_shipped_vod_schemas_meet_the_domain() -> None:
    for dataset_type in ("interactions", "items", "users"):
        assert check_domain_schema(vod_schema(dataset_type), dataset_type, "VIDEO_ON_DEMAND", "x.json") == []


@pytest.mark.parametrize(("dataset_type", "missing"), [
    ("interactions", "EVENT_TYPE"), ("interactions", "TIMESTAMP"), ("items", "GENRES"),
    ("items", "CREATION_TIMESTAMP"),
])
def test_a_missing_required_field_is_named(dataset_type: str, missing: str) -> None:
    (problem,) = check_domain_schema(_without(vod_schema(dataset_type), missing), dataset_type,
                                     "VIDEO_ON_DEMAND", "data/schemas/vod/x.json")
    assert problem.file == "data/schemas/vod/x.json" and problem.field == "fields"
    assert f"missing the required field {missing}" in problem.message


def test_a_reserved_keyword_with_the_wrong_type_is_named() -> None:
    schema = _changed(vod_schema("items"), "DURATION", type="string")
    (problem,) = check_domain_schema(schema, "items", "VIDEO_ON_DEMAND", "items.json")
    assert problem.field == "fields[3] (DURATION).type"
    assert "reserved keyword DURATION (float" in problem.message


def test_a_reserved_categorical_string_must_be_categorical_and_a_plain_one_must_not() -> None:
    schema = _changed(vod_schema("items"), "GENRES", categorical=None)
    (problem,) = check_domain_schema(schema, "items", "VIDEO_ON_DEMAND", "items.json")
    assert problem.field == "fields[2] (GENRES).categorical" and '"categorical": true' in problem.message
    schema = _changed(vod_schema("interactions"), "EVENT_TYPE", categorical=True)
    (problem,) = check_domain_schema(schema, "interactions", "VIDEO_ON_DEMAND", "i.json")
    assert problem.field == "fields[3] (EVENT_TYPE).categorical"
    assert "cannot be categorical" in problem.message


def test_a_required_field_cannot_be_nullable() -> None:
    schema = _changed(vod_schema("interactions"), "TIMESTAMP", type=["null", "long"])
    (problem,) = check_domain_schema(schema, "interactions", "VIDEO_ON_DEMAND", "i.json")
    assert problem.field == "fields[2] (TIMESTAMP).type" and "cannot be nullable" in problem.message


def test_users_need_a_metadata_field_besides_reserved_keywords() -> None:
    schema = _without(vod_schema("users"), "AGE_GROUP")
    (problem,) = check_domain_schema(schema, "users", "VIDEO_ON_DEMAND", "users.json")
    assert "at least 1 metadata field" in problem.message


def test_ecommerce_items_need_price_and_category() -> None:
    schema = {"type": "record", "name": "Items", "fields": [{"name": "ITEM_ID", "type": "string"}]}
    messages = [p.message for p in check_domain_schema(schema, "items", "ECOMMERCE", "items.json")]
    assert any("PRICE (float)" in m for m in messages) and any("CATEGORY_L1 (categorical string)" in m
                                                               for m in messages)


def test_synth_reports_a_domain_schema_problem_with_the_schema_file(tmp_path: Path) -> None:
    schemas = tmp_path / "data" / "schemas" / "vod"
    schemas.mkdir(parents=True)
    for dataset_type in ("interactions", "items", "users"):
        schema = vod_schema(dataset_type)
        if dataset_type == "items":
            schema = _changed(schema, "GENRES", categorical=None)
        (schemas / f"{dataset_type}.json").write_text(json.dumps(schema))
    (tmp_path / "data" / "vod").symlink_to(REPO_ROOT / "data" / "vod")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "vod.toml").write_text(VOD)
    config = load_config("vod", tmp_path / "config" / "vod.toml", root=tmp_path)
    problems = validate(config, tmp_path).errors
    assert [(p.file, p.field) for p in problems] == [
        ("data/schemas/vod/items.json", "fields[2] (GENRES).categorical")]
