"""When deploy, diff and demo synthesize (as `cdk deploy` runs the app first): cdk.out missing, for
another environment or older than a file synth reads; `--app DIR` never synthesizes. The synth
itself is replaced by a recorder that writes a small assembly: these tests are about the decision."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cli import support
from cli.console import Console
from cli.main import main
from tests.cli.helpers import write_assembly

STALE = 1_000_000.0  # an mtime in 1970: older than every file of the repository


@pytest.fixture
def synths(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Path]]:
    """Each run_synth call (env, output), answered with a fresh assembly for that env."""
    calls: list[tuple[str, Path]] = []

    def fake(env: str, cdk_out: Path, console: Console) -> None:
        calls.append((env, cdk_out))
        write_assembly(cdk_out, support.stack_name(env))

    monkeypatch.setattr(support, "run_synth", fake)
    return calls


def test_reasons(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "stacks" / "__pycache__").mkdir(parents=True)
    (root / "app.py").write_text("")
    (root / "stacks" / "stack.py").write_text("")
    os.utime(root / "app.py", (STALE - 10, STALE - 10))
    os.utime(root / "stacks" / "stack.py", (STALE - 10, STALE - 10))
    cdk_out = tmp_path / "cdk.out"

    assert support.synth_reason("dev", cdk_out, root) == f"{cdk_out} has no cloud assembly"
    write_assembly(cdk_out, mtime=STALE)
    assert support.synth_reason("dev", cdk_out, root) is None
    assert support.synth_reason("prod", cdk_out, root) == (
        f"{cdk_out} was synthesized for Personalize-dev, not Personalize-prod"
    )
    (root / "stacks" / "__pycache__" / "stack.cpython-311.pyc").write_text("")  # bytecode: no input
    assert support.synth_reason("dev", cdk_out, root) is None
    (root / "stacks" / "stack.py").write_text("# edited")
    assert support.synth_reason("dev", cdk_out, root) == f"{cdk_out} is older than stacks/stack.py"
    (cdk_out / "manifest.json").write_text("{not json")
    assert "is not a readable cloud assembly" in (support.synth_reason("dev", cdk_out, root) or "")


def test_the_lambda_asset_counts_whole(tmp_path: Path) -> None:
    """Any file of lambda/ is in the handler asset, not only .py files."""
    root = tmp_path / "repo"
    (root / "lambda").mkdir(parents=True)
    cdk_out = write_assembly(tmp_path / "cdk.out", mtime=STALE)
    assert support.staleness(cdk_out, root) is None
    (root / "lambda" / "requirements.lock").write_text("")
    assert support.staleness(cdk_out, root) == f"{cdk_out} is older than lambda/requirements.lock"


def diff(*args: str) -> int:
    return main(["diff", "-c", "env=dev", *args])


def test_diff_synthesizes_a_missing_assembly(
    tmp_path: Path, synths: list[tuple[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_out = tmp_path / "cdk.out"
    assert diff("-o", str(cdk_out), "--state-dir", str(tmp_path)) == 0
    assert synths == [("dev", cdk_out)]
    captured = capsys.readouterr()
    assert f"{cdk_out} has no cloud assembly: synthesizing" in captured.err
    assert "Stack Personalize-dev: not deployed locally; a deploy creates 0 resources" in captured.out


def test_current_assembly_is_used_as_it_is(tmp_path: Path, synths: list[tuple[str, Path]]) -> None:
    cdk_out = write_assembly(tmp_path / "cdk.out")
    assert diff("-o", str(cdk_out), "--state-dir", str(tmp_path)) == 0
    assert synths == []


@pytest.mark.parametrize("stack", ["Personalize-prod", "Personalize-dev"])
def test_stale_or_other_env_assembly_is_synthesized_again(
    tmp_path: Path, synths: list[tuple[str, Path]], stack: str
) -> None:
    cdk_out = write_assembly(tmp_path / "cdk.out", stack, mtime=None if stack.endswith("prod") else STALE)
    assert diff("-o", str(cdk_out), "--state-dir", str(tmp_path)) == 0
    assert synths == [("dev", cdk_out)]


def test_deploy_and_demo_decide_the_same_way(
    tmp_path: Path, synths: list[tuple[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy and demo go through assembly_for like diff: a missing assembly is synthesized; the
    runner itself is not needed to show it (it is stopped right after the decision)."""

    class Stop(Exception):
        pass

    def stop(*_args: Any, **_kwargs: Any) -> Any:
        raise Stop

    monkeypatch.setattr("cli.commands.deploy.runner_for", stop)
    monkeypatch.setattr("cli.commands.demo.runner_for", stop)
    for command in ("deploy", "demo"):
        cdk_out = tmp_path / command
        with pytest.raises(Stop):
            main([command, "-c", "env=dev", "-o", str(cdk_out), "--state-dir", str(tmp_path)])
        assert synths[-1] == ("dev", cdk_out)
    assert len(synths) == 2


def test_app_never_synthesizes(
    tmp_path: Path, synths: list[tuple[str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none"
    assert diff("--app", str(missing), "--state-dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"pz diff: {missing} has no cloud assembly." in err and "pz synth -c env=dev" in err
    stale = write_assembly(tmp_path / "stale", mtime=STALE)
    assert diff("--app", str(stale), "--state-dir", str(tmp_path)) == 0
    assert "warning:" in capsys.readouterr().err
    other = write_assembly(tmp_path / "prod", "Personalize-prod")
    assert diff("--app", str(other), "--state-dir", str(tmp_path)) == 2
    assert synths == []


def test_a_rejected_config_stops_before_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real run_synth validates in-process first: an unknown environment exits 2 before npx."""
    assert main(["synth", "-c", "env=nope", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "pz synth: config/nope.toml rejected (nothing synthesized)" in err
    assert "no such config file; environments: ['dev', 'prod', 'vod']" in err
    assert not (tmp_path / "out").exists()
