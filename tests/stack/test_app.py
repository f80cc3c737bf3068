"""app.py / build_app: bad config or data stops synth before any template is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.naming import REPO_ROOT
from pipeline.problems import ProblemReport
from tests.stack.helpers import FIXTURES, config_with


def test_bad_recipe_fails_with_validator_message(tmp_path: Path) -> None:
    from stacks import build_app

    with pytest.raises(ProblemReport, match="retired by Amazon Personalize"):
        config = config_with(
            "dev", tmp_path, lambda t: t.replace('recipe = "aws-sims"', 'recipe = "aws-hrnn"')
        )
        build_app("dev", str(tmp_path / "out"), config=config, root=FIXTURES, asset_dir=REPO_ROOT / "lambda")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.template.json"))


def test_bad_data_fails_with_file_and_line(tmp_path: Path, workspace: Path) -> None:
    from pipeline.config import load_config
    from stacks import build_app

    with (workspace / "data" / "interactions.csv").open("a") as handle:
        handle.write("u1,i1,not-a-timestamp,view\n")
    with pytest.raises(ProblemReport) as raised:
        build_app(
            "dev",
            str(tmp_path / "out"),
            config=load_config("dev"),
            root=workspace,
            asset_dir=REPO_ROOT / "lambda",
        )
    text = str(raised.value)
    assert "interactions.csv" in text and "not-a-timestamp" in text
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.template.json"))


def test_missing_source_file_is_a_problem_not_a_traceback(tmp_path: Path, workspace: Path) -> None:
    from pipeline.config import load_config
    from stacks import build_app

    (workspace / "data" / "users.csv").unlink()
    with pytest.raises(ProblemReport, match=r"datasets\.users\.source"):
        build_app(
            "dev",
            str(tmp_path / "out"),
            config=load_config("dev"),
            root=workspace,
            asset_dir=REPO_ROOT / "lambda",
        )


def test_app_main_prints_report_and_exits_nonzero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import app

    def bad() -> None:
        raise ProblemReport([])

    monkeypatch.setattr(app, "build_app", bad)
    assert app.main() == 1
    assert "configuration rejected" in capsys.readouterr().err


def test_names_too_long_for_personalize_are_a_problem_report(tmp_path: Path) -> None:
    from stacks import build_app

    long_name = "g" * 60
    config = config_with("dev", tmp_path, lambda t: t.replace('name = "retail"', f'name = "{long_name}"'))
    with pytest.raises(ProblemReport):
        build_app("dev", str(tmp_path / "out"), config=config, root=FIXTURES, asset_dir=REPO_ROOT / "lambda")
