"""`pz delete-users`: what it refuses before anything is uploaded, with exit 2 and a message naming
the file, line and value (its runs against a deploy: tests/e2e/test_data_deletion.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.exitcodes import ExitCode
from cli.main import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["delete-users", "-c", "env=dev", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_bad_ids_in_a_file_stop_with_exit_2_naming_file_line_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "forget.csv"
    ids.write_text("USER_ID\nu0001\nu0002,i0001\n\n u0003\n")
    code, out, err = _run(["--file", str(ids), "--state-dir", str(tmp_path / "nothing")], capsys)
    assert code == ExitCode.USAGE and out == ""
    assert "forget.csv:3: USER_ID: 2 columns" in err and "'u0002,i0001'" in err
    assert "forget.csv:5: USER_ID" in err and "' u0003'" in err
    assert not (tmp_path / "nothing").exists()


def test_a_file_without_the_user_id_header_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "forget.csv"
    ids.write_text("u0001\nu0002\n")
    code, _, err = _run(["--file", str(ids)], capsys)
    assert code == ExitCode.USAGE and "forget.csv:1: the first line must be the header USER_ID" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], "name the users to delete"),
        (["u1", "--file", "x.csv"], "not both"),
        (["u1", "--poll-seconds", "0"], "--poll-seconds must be positive"),
        (["u1", ""], "argument 2: a user id must not be empty"),
        (["u1", "--target", "gcp"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(argv, capsys)
    assert code == ExitCode.USAGE and words in err


def test_a_stack_not_deployed_locally_exits_2_saying_how_to_deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["u0001", "--state-dir", str(tmp_path), "--json"], capsys)
    assert code == ExitCode.USAGE and out == ""
    assert "Personalize-dev is not deployed locally" in err and "pz deploy -c env=dev" in err
