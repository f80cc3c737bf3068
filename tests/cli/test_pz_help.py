"""`pz`'s shape: one entry point whose --help lists every command, per-command help with examples,
--version, usage errors and interrupts with the documented exit statuses, and the docs page that
documents those statuses once."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from cli.exitcodes import ExitCode
from cli.main import COMMANDS, main

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_every_command_with_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith("usage: pz <command> [options]")
    listed = re.findall(r"^  ([a-z][a-z-]*) {2,}(.+)$", out, flags=re.MULTILINE)
    assert [name for name, _ in listed] == list(COMMANDS)
    for name, line in listed:
        assert COMMANDS[name].startswith(line.strip())
    for code in ExitCode:
        assert re.search(rf"^  {int(code)} +{re.escape(code.meaning[:40])}", out, flags=re.MULTILINE)


def test_every_command_module_is_listed_and_every_listed_command_exists() -> None:
    # a command with a dash lives in a module with an underscore (`delete-users`: delete_users.py)
    found = (REPO / "cli" / "commands").glob("*.py")
    modules = {p.stem.replace("_", "-") for p in found if p.stem != "__init__"}
    assert modules == set(COMMANDS)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_help_has_usage_options_and_examples(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith(f"usage: pz {command} ")
    examples = out[out.index("examples:\n") :].splitlines()[1:]
    assert any(line.strip().startswith(f"pz {command}") for line in examples), examples
    assert "--no-color" in out and "exit status: 0 done, 1 the operation failed, 2 usage" in out
    if command != "serve":
        assert "-c KEY=VALUE, --context KEY=VALUE" in out


@pytest.mark.parametrize("command", ["validate", "deploy", "diff", "destroy", "recommend", "delete-users"])
def test_scripts_get_json(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == ExitCode.OK
    assert "--json" in capsys.readouterr().out


def test_version_is_the_project_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == ExitCode.OK
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert capsys.readouterr().out.strip() == f"pz {project['version']} (personalize-pipeline-cdk)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], "invalid choice: 'nope'"),
        ([], "name a command"),
        (["deploy", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["validate", "-c", "dev"], "-c expects KEY=VALUE, got 'dev'"),
        (["deploy", "--app", "a", "-o", "b"], "not allowed with argument"),
        (["serve", "-c", "env=dev"], "unrecognized arguments: -c"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_unknown_environment_exits_2_with_the_environments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-c", "env=nope"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "config/nope.toml: no such config file; environments: ['dev', 'prod', 'vod']" in err


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.commands import validate

    def interrupted(_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "run", interrupted)
    assert main(["validate"]) == ExitCode.INTERRUPTED == 130
    assert "pz validate: interrupted" in capsys.readouterr().err


def test_exit_statuses_are_documented_once_as_defined() -> None:
    """docs/command-line.md's table is the enum, row for row."""
    text = (REPO / "docs" / "command-line.md").read_text()
    section = text[text.index("## Exit status") :]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.MULTILINE)
    assert [(int(code), meaning) for code, meaning in rows] == [(int(c), c.meaning) for c in ExitCode]
    readme = (REPO / "README.md").read_text()
    assert "docs/command-line.md" in readme

