"""What `pz` prints: --json objects scripts can read, colour only on a terminal, and a bad config
as an error with the validator's message (never a silent default region)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from cli.console import Console
from cli.exitcodes import UserError
from cli.main import main
from cli.support import region_for_env
from tests.cli.helpers import write_assembly

REPO = Path(__file__).resolve().parents[2]


def test_region_for_env_reads_the_config() -> None:
    assert region_for_env("dev") == "ap-southeast-2"


def test_region_for_env_refuses_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "dev.toml"
    config.write_text((REPO / "config" / "dev.toml").read_text().replace(
        'region = "ap-southeast-2"', 'region = "mars-north-1x"'
    ))
    assert 'region = "mars-north-1x"' in config.read_text()
    with pytest.raises(UserError) as raised:
        region_for_env("dev", path=config)
    assert raised.value.code == 2
    message = str(raised.value)
    assert message.startswith("environment 'dev': config rejected")
    assert "environment.region: 'mars-north-1x' is not an AWS region name" in message
    assert f"{config.name}:" in message  # file and line, as the validator says


def test_destroy_with_nothing_deployed_and_a_bad_environment_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """destroy needs the region only when no stack state names it: then the config must be sound."""
    assert main(["destroy", "-c", "env=nope", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "pz destroy: environment 'nope': config rejected" in err
    assert "no such config file; environments: ['dev', 'prod', 'vod']" in err


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-c", "env=dev", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["environment"] == "dev" and shown["ok"] is True
    assert set(shown["datasets"]) == {"interactions", "items", "users"}
    assert shown["datasets"]["interactions"]["rows"] > 0
    assert all(p["severity"] == "warning" for p in shown["problems"])


def test_validate_json_lists_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    shutil.copytree(REPO / "data", tmp_path / "data")
    config = tmp_path / "config" / "dev.toml"
    config.write_text(config.read_text().replace("min_provisioned_tps = 1", "min_provisioned_tps = 0", 1))
    assert main(["validate", "-c", "env=dev", "--root", str(tmp_path), "--json"]) == 2
    shown = json.loads(capsys.readouterr().out)
    assert shown["ok"] is False
    (problem,) = [p for p in shown["problems"] if p["severity"] == "error"]
    assert problem["field"].endswith("min_provisioned_tps") and problem["value"] == 0
    assert problem["file"].endswith("dev.toml") and isinstance(problem["line"], int)
    assert "must be at least 1" in problem["message"] and problem["text"].startswith(problem["file"])


def test_diff_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = write_assembly(tmp_path / "cdk.out")
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    (app / "Personalize-dev.template.json").write_text(json.dumps(template))
    args = ["diff", "-c", "env=dev", "--app", str(app), "--state-dir", str(tmp_path), "--json"]
    assert main(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {
        "stack": "Personalize-dev",
        "deployed_status": None,
        "changes": [
            {"logical_id": "Topic", "type": "AWS::SNS::Topic", "action": "Add", "properties": [], "note": ""}
        ],
    }
    assert main([*args, "--fail"]) == 1


def test_destroy_json_when_nothing_is_deployed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["destroy", "-c", "env=dev", "--state-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"result": None, "left": {}}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def console_on(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, no_color: bool = False) -> Console:
    monkeypatch.setattr("sys.stdout", stream)
    monkeypatch.setattr("sys.stderr", stream)
    return Console(no_color)


EVENT = "   [3/9] CREATE_COMPLETE   DatasetGroup   00:00:20"


def test_colour_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    terminal = Terminal()
    console_on(monkeypatch, terminal).event(EVENT)
    console_on(monkeypatch, terminal).print("Personalize-dev: ROLLBACK_COMPLETE")
    assert terminal.getvalue() == (
        "   [3/9] \033[32mCREATE_COMPLETE\033[0m   DatasetGroup   00:00:20\n"
        "Personalize-dev: \033[31mROLLBACK_COMPLETE\033[0m\n"
    )
    piped = io.StringIO()
    console_on(monkeypatch, piped).event(EVENT)
    assert piped.getvalue() == EVENT + "\n"


@pytest.mark.parametrize(
    ("variable", "flag"), [(("NO_COLOR", "1"), False), (("TERM", "dumb"), False), ((None, None), True)]
)
def test_no_color(
    monkeypatch: pytest.MonkeyPatch, variable: tuple[str | None, str | None], flag: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    name, value = variable
    if name and value:
        monkeypatch.setenv(name, value)
    terminal = Terminal()
    console_on(monkeypatch, terminal, no_color=flag).event(EVENT)
    assert "\033[" not in terminal.getvalue()


def test_progress_in_a_log_is_a_start_and_an_end_line(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    console = console_on(monkeypatch, log)
    with console.progress("synthesizing Personalize-dev"):
        pass
    with pytest.raises(RuntimeError), console.progress("deploying"):
        raise RuntimeError
    lines = log.getvalue().splitlines()
    assert lines[0] == "synthesizing Personalize-dev ..."
    assert lines[1].startswith("synthesizing Personalize-dev: done (") and lines[1].endswith(" s)")
    assert lines[2] == "deploying ..." and lines[3].startswith("deploying: failed (")
