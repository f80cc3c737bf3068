"""[metric_attribution]: the config model's rules (botocore's limits, the expression grammar) and the
synth checks against the schemas (EVENT_TYPE, a numeric column that exists); each bad input is
reported with its field and value."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.naming import REPO_ROOT
from pipeline.problems import Problem, ProblemReport
from pipeline.validate import validate

SECTION = """
[metric_attribution]
output = "metrics/"

[[metric_attribution.metrics]]
name = "revenue"
event_type = "purchase"
expression = "SUM(Items.PRICE)"

[[metric_attribution.metrics]]
name = "views"
event_type = "view"
expression = "SAMPLECOUNT()"
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repo's config and data; dev.toml with the section above."""
    shutil.copytree(REPO_ROOT / "config", tmp_path / "config")
    shutil.copytree(
        REPO_ROOT / "data", tmp_path / "data", ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    path = tmp_path / "config" / "dev.toml"
    path.write_text(path.read_text() + SECTION)
    return tmp_path


def loaded_problems(repo: Path, old: str, new: str) -> list[Problem]:
    path = repo / "config" / "dev.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path)
    return raised.value.problems


def synth_problems(repo: Path) -> list[Problem]:
    return validate(load_config("dev", repo / "config" / "dev.toml"), repo).problems


def test_the_section_loads_and_validates_clean(repo: Path) -> None:
    config = load_config("dev", repo / "config" / "dev.toml")
    attribution = config.metric_attribution
    assert attribution is not None and attribution.output == "metrics/"
    assert next(m.api() for m in attribution.metrics) == {
        "eventType": "purchase",
        "metricName": "revenue",
        "expression": "SUM(Items.PRICE)",
    }
    assert attribution.metrics[0].summed == ("items", "PRICE") and attribution.metrics[1].summed is None
    assert synth_problems(repo) == []


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        (
            'expression = "SAMPLECOUNT()"',
            'expression = "AVG(Items.PRICE)"',
            "metric_attribution.metrics[1].expression",
            "SAMPLECOUNT()",
        ),
        (
            'expression = "SAMPLECOUNT()"',
            'expression = "SUM(Users.AGE)"',
            "metric_attribution.metrics[1].expression",
            "SUM(Items.<numeric column>)",
        ),
        (
            'event_type = "view"',
            'event_type = " "',
            "metric_attribution.metrics[1].event_type",
            "must not be empty",
        ),
        ('name = "views"', f'name = "{"v" * 257}"', "metric_attribution.metrics[1].name", "at most 256"),
        ('name = "views"', 'name = "REVENUE"', "metric_attribution.metrics", "repeat"),
        ('output = "metrics/"', 'output = "s3://elsewhere/"', "metric_attribution.output", "key prefix"),
        ('output = "metrics/"', 'output = "datasets/metrics/"', "metric_attribution.output", "datasets/"),
    ],
)
def test_each_rule_names_the_field(repo: Path, old: str, new: str, field: str, expected: str) -> None:
    (problem,) = loaded_problems(repo, old, new)
    assert problem.field == field and expected in problem.message
    assert problem.line is not None


def test_at_most_ten_metrics(repo: Path) -> None:
    extra = "".join(
        f'\n[[metric_attribution.metrics]]\nname = "m{i}"\nevent_type = "view"\n'
        f'expression = "SAMPLECOUNT()"\n'
        for i in range(9)
    )
    path = repo / "config" / "dev.toml"
    path.write_text(path.read_text() + extra)
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path)
    (problem,) = raised.value.problems
    assert problem.field == "metric_attribution.metrics" and "at most 10" in problem.message


def test_no_metrics(repo: Path) -> None:
    path = repo / "config" / "dev.toml"
    text = path.read_text()
    path.write_text(text[: text.index("[metric_attribution]")] + "[metric_attribution]\nmetrics = []\n")
    with pytest.raises(ProblemReport) as raised:
        load_config("dev", path)
    assert raised.value.problems[0].field == "metric_attribution.metrics"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("SUM(Items.CATEGORY_L1)", "numeric columns only; CATEGORY_L1 is string"),
        (
            "SUM(Items.MARGIN)",
            "no column MARGIN in the items schema; expected one of ['CREATION_TIMESTAMP', 'PRICE']",
        ),
        ("SUM(Interactions.EVENT_VALUE)", "no column EVENT_VALUE in the interactions schema"),
    ],
)
def test_a_summed_column_must_exist_and_be_numeric(repo: Path, expression: str, expected: str) -> None:
    path = repo / "config" / "dev.toml"
    path.write_text(path.read_text().replace('"SUM(Items.PRICE)"', f'"{expression}"'))
    (problem,) = [p for p in synth_problems(repo) if p.severity == "error"]
    assert problem.field == "metric_attribution.metrics[0] (revenue).expression"
    assert problem.value == expression and expected in problem.message


def test_sum_of_items_needs_the_items_dataset(repo: Path) -> None:
    path = repo / "config" / "dev.toml"
    text = path.read_text()
    start = text.index("[datasets.items]")
    end = text.index("[", start + 1)
    path.write_text(text[:start] + text[end:])
    errors = [p for p in synth_problems(repo) if p.severity == "error"]
    assert any(
        p.field == "metric_attribution.metrics[0] (revenue).expression"
        and "items dataset, which is not configured" in p.message
        for p in errors
    ), errors


def test_interactions_need_event_type(repo: Path) -> None:
    schema_path = repo / "data" / "schemas" / "interactions.json"
    schema = json.loads(schema_path.read_text())
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "EVENT_TYPE"]
    schema_path.write_text(json.dumps(schema))
    problems = [p for p in synth_problems(repo) if p.field == "metric_attribution"]
    assert any("EVENT_TYPE column" in p.message for p in problems), problems


def test_an_event_type_the_data_lacks_is_a_warning(repo: Path) -> None:
    path = repo / "config" / "dev.toml"
    path.write_text(path.read_text().replace('event_type = "view"', 'event_type = "Watch"'))
    (problem,) = synth_problems(repo)
    assert (
        problem.severity == "warning" and problem.field == "metric_attribution.metrics[1] (views).event_type"
    )
    assert problem.value == "Watch"
