"""validate() over whole pipelines: the shipped ones pass clean; schema, data and recipe problems
are reported together; the CLI prints problems (exit 1) or the deploy summary (exit 0)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from cli.commands import validate as command
from pipeline.config import PipelineConfig, load_config
from pipeline.naming import REPO_ROOT
from pipeline.problems import ProblemReport
from pipeline.validate import summary, validate


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repo's config and data that a test may break."""
    shutil.copytree(REPO_ROOT / "config", tmp_path / "config")
    ignore = shutil.ignore_patterns("*.py", "__pycache__")
    shutil.copytree(REPO_ROOT / "data", tmp_path / "data", ignore=ignore)
    return tmp_path


def load(repo: Path, edit: tuple[str, str] | None = None, env: str = "dev") -> PipelineConfig:
    path = repo / "config" / f"{env}.toml"
    if edit:
        text = path.read_text()
        assert edit[0] in text
        path.write_text(text.replace(edit[0], edit[1]))
    return load_config(env, path)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_shipped_pipelines_validate_clean(env: str) -> None:
    result = validate(load_config(env), REPO_ROOT)
    assert result.problems == []
    assert result.ok
    interactions = result.datasets["interactions"]
    assert interactions.rows and interactions.rows > 20_000
    assert interactions.users == 600 and interactions.items == 400
    assert set(interactions.event_types) == {"view", "click", "purchase"}
    result.raise_for_errors()  # no error: returns


def test_summary_says_what_would_be_deployed() -> None:
    config = load_config("dev")
    text = summary(config, validate(config, REPO_ROOT))
    for expected in (
        "Dataset group 'retail' -> dev-retail",
        "interactions data/interactions.csv: 28,974 rows, 600 users, 400 items",
        "2026-01-01 .. 2026-06-30 (180 days) -> dev-retail-interactions",
        "users        data/users.csv: 600 rows, 600 users -> dev-retail-users",
        "user-personalization     aws-user-personalization-v2 (no auto-training",
        "user-recs                solution user-personalization, min 1 TPS -> dev-retail-user-recs",
        'exclude-purchased        EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
        "Event tracker: web-events -> dev-retail-web-events",
    ):
        assert expected in text, expected


def test_semantic_similarity_needs_a_textual_field(repo: Path) -> None:
    schema_path = repo / "data" / "schemas" / "items.json"
    schema = json.loads(schema_path.read_text())
    schema["fields"][-1] = {"name": "DESCRIPTION", "type": ["null", "string"], "categorical": True}
    schema_path.write_text(json.dumps(schema))
    config = load(repo, ('recipe = "aws-sims"', 'recipe = "aws-semantic-similarity"'))
    result = validate(config, repo)
    (problem,) = result.errors
    assert (problem.file, problem.field, problem.value) == (
        "config/dev.toml",
        "solutions[1] (similar-items).recipe",
        "aws-semantic-similarity",
    )
    assert 'needs an items field marked "textual": true' in problem.message
    with pytest.raises(ProblemReport):
        result.raise_for_errors()


def test_semantic_similarity_with_the_shipped_items_is_fine(repo: Path) -> None:
    config = load(repo, ('recipe = "aws-sims"', 'recipe = "aws-semantic-similarity"'))
    assert validate(config, repo).ok


def test_filter_on_unknown_field(repo: Path) -> None:
    config = load(repo, ("Interactions.EVENT_TYPE", "Items.COLOUR"))
    (problem,) = validate(config, repo).errors
    assert (problem.field, problem.value) == ("filters[0] (exclude-purchased).expression", "Items.COLOUR")
    assert "no such field in the items schema; expected one of ['ITEM_ID', 'PRICE'" in problem.message


def test_interactions_referencing_missing_items_warn(repo: Path) -> None:
    items = repo / "data" / "items.csv"
    lines = items.read_text().splitlines(keepends=True)
    items.write_text("".join(lines[:-3]))  # drop the last three items: i0398..i0400
    result = validate(load(repo), repo)
    assert result.ok
    (warning,) = result.warnings
    assert warning.file == "data/interactions.csv" and warning.field == "ITEM_ID"
    assert warning.value == ["i0398", "i0399", "i0400"]
    assert "3 ITEM_ID values in interactions are not in the items dataset" in warning.message


def test_schema_and_data_problems_together(repo: Path) -> None:
    (repo / "data" / "schemas" / "users.json").write_text('{"type": "record", "name": "User", "fields": []}')
    csv_path = repo / "data" / "interactions.csv"
    csv_path.write_text(csv_path.read_text().replace(",1767226148,", ",1767226148000,", 1))
    result = validate(load(repo), repo)
    found = {(p.file, p.message.split(":")[0]) for p in result.errors}
    assert ("data/schemas/users.json", "expected 'Users'") in found
    assert ("data/schemas/users.json", "expected a non-empty list of fields") in found
    millis = next(p for p in result.errors if p.file == "data/interactions.csv")
    assert (millis.line, millis.field, millis.value) == (2, "TIMESTAMP", "1767226148000")


def test_missing_files(repo: Path) -> None:
    (repo / "data" / "users.csv").unlink()
    (repo / "data" / "schemas" / "items.json").unlink()
    result = validate(load(repo), repo)
    messages = sorted(str(p) for p in result.errors)
    assert any("config/dev.toml: datasets.users.source: no such file" in m for m in messages)
    assert any("data/schemas/items.json: schema file not found" in m for m in messages)


def test_s3_sources_are_skipped_with_a_note(repo: Path) -> None:
    config = load(repo, ('source = "data/users.csv"', 'source = "s3://my-bucket/users.csv"'))
    result = validate(config, repo)
    assert result.ok
    (note,) = result.warnings
    assert note.field == "datasets.users.source" and "not checked here" in note.message
    assert "(not checked locally)" in summary(config, result)


def test_solution_event_type_needs_enough_events(repo: Path) -> None:
    config = load(
        repo,
        (
            'name = "similar-items"\nrecipe = "aws-sims"',
            'name = "similar-items"\nrecipe = "aws-sims"\nevent_type = "add-to-cart"',
        ),
    )
    (problem,) = validate(config, repo).errors
    assert problem.value == "add-to-cart" and "the data has 0; expected at least 1000" in problem.message


def _args(env: str, root: Path) -> argparse.Namespace:
    return argparse.Namespace(env=env, root=root, config=None, json=False)


def test_cli_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run(_args("dev", REPO_ROOT)) == 0
    assert "Campaigns (billed hourly per TPS while they exist):" in capsys.readouterr().out


def test_cli_rejects_bad_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / "config" / "dev.toml"
    path.write_text(path.read_text().replace("min_provisioned_tps = 1", "min_provisioned_tps = 0"))
    assert command.run(_args("dev", repo)) == 2
    err = capsys.readouterr().err
    assert (
        "config rejected" in err
        and "campaigns[0].min_provisioned_tps: min_provisioned_tps must be at least 1" in err
    )


def test_cli_rejects_bad_data(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / "data" / "users.csv"
    path.write_text(path.read_text().replace("u0002,45-54", "u0002,", 1))
    assert command.run(_args("dev", repo)) == 2
    assert "data/users.csv:3: AGE_GROUP: empty value" in capsys.readouterr().err


def test_cli_through_the_dispatcher(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    assert main(["validate", "-c", "env=prod"]) == 0
    assert "Environment 'prod'" in capsys.readouterr().out


def test_incremental_import_size_cap(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import datafiles as module

    monkeypatch.setitem(module.MAX_IMPORT_BYTES, "INCREMENTAL", 1024**3 // 2048)  # 512 KiB stands in for 1 GB
    config = load(
        repo,
        ('source = "data/interactions.csv"', 'source = "data/interactions.csv"\nimport_mode = "INCREMENTAL"'),
    )
    (problem,) = validate(config, repo).errors
    assert problem.field == "datasets.interactions.source"
    assert problem.message == "954.3 KB; a INCREMENTAL import job takes at most 512.0 KB of interactions"


@pytest.mark.parametrize(
    ("expression", "value", "message"),
    [
        (
            'REMOVE ItemID WHERE Items.STYLE IN (\\"a\\")',
            'REMOVE ItemID WHERE Items.STYLE IN ("a")',
            "expected EXCLUDE|INCLUDE ItemID|UserID WHERE",
        ),
        (
            'INCLUDE ItemID WHERE Items.STYLE IN ($S) | EXCLUDE ItemID Interactions.EVENT_TYPE IN (\\"x\\")',
            'EXCLUDE ItemID Interactions.EVENT_TYPE IN ("x")',
            "expected EXCLUDE|INCLUDE",
        ),
        (
            "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.COST",
            "CurrentItem.COST",
            "no such field in the items",
        ),
        (
            'EXCLUDE ActionID WHERE Actions.X IN (\\"a\\")',
            'EXCLUDE ActionID WHERE Actions.X IN ("a")',
            "ActionID filters need an actions dataset",
        ),
    ],
)
def test_bad_filter_expressions(repo: Path, expression: str, value: str, message: str) -> None:
    old = "expression = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"purchase\")'"
    config = load(repo, (old, f'expression = "{expression}"'))
    (problem,) = validate(config, repo).errors
    assert (problem.field, problem.value) == ("filters[0] (exclude-purchased).expression", value)
    assert message in problem.message


def test_filter_on_an_event_type_the_data_lacks_warns(repo: Path) -> None:
    config = load(repo, ('IN ("purchase")', 'IN ("purchase", "add-to-cart")'))
    result = validate(config, repo)
    assert result.ok
    (warning,) = result.warnings
    assert warning.value == "add-to-cart" and "no interactions have this EVENT_TYPE" in warning.message
