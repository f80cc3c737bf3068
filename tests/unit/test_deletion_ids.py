"""The list of users to delete: the data deletion job's input format (a USER_ID header, one id per
line), checked with file, line and value in every message."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.deletion import HEADER, MAX_ID_CHARS, ids_from_arguments, ids_from_file
from pipeline.problems import ProblemReport


def _write(tmp_path: Path, text: str | bytes, name: str = "ids.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_file_ids_keep_their_order_and_are_written_back_in_the_job_format(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufeffUSER_ID\r\nu2\r\nu1\r\n\r\nu3\r\n")
    ids = ids_from_file(path)
    assert ids.ids == ("u2", "u1", "u3")
    assert ids.to_csv() == b"USER_ID\nu2\nu1\nu3\n"


def test_repeated_ids_are_deleted_once_with_a_warning(tmp_path: Path) -> None:
    ids = ids_from_file(_write(tmp_path, "USER_ID\nu1\nu2\nu1\n"))
    assert ids.ids == ("u1", "u2") and ids.repeated == 1
    assert ids.warnings[0].line == 4 and "first at line 2" in str(ids.warnings[0])


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "the file is empty"),
        ("user_id\nu1\n", 1, f"header {HEADER} alone"),
        ("USER_ID,ITEM_ID\nu1,i1\n", 1, f"header {HEADER} alone"),
        ("USER_ID\nu1\nu2,i2\n", 3, "2 columns"),
        ("USER_ID\n u1\n", 2, "spaces"),
        ('USER_ID\n""\n', 2, "must not be empty"),
        (f"USER_ID\n{'x' * (MAX_ID_CHARS + 1)}\n", 2, f"at most {MAX_ID_CHARS}"),
        ('USER_ID\n"a,b"\n', 2, "a comma"),
        ("USER_ID\n", None, "no user ids"),
    ],
)
def test_bad_files_name_the_file_line_and_value(tmp_path: Path, text: str, line: int | None,
                                                words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ProblemReport) as report:
        ids_from_file(path)
    problem = report.value.errors[0]
    assert problem.file.endswith("ids.csv") and problem.line == line
    assert words in str(report.value)


def test_every_bad_line_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ProblemReport) as report:
        ids_from_file(_write(tmp_path, "USER_ID\n\"\"\nu1\n a\nb,c\n"))
    assert [p.line for p in report.value.errors] == [2, 4, 5]


def test_a_file_that_is_not_utf8_or_missing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProblemReport, match=r"ids\.csv:3: not UTF-8"):
        ids_from_file(_write(tmp_path, b"USER_ID\nu1\n\xff\xfe\n"))
    with pytest.raises(ProblemReport, match="cannot read it"):
        ids_from_file(tmp_path / "absent.csv")


def test_arguments_are_checked_like_file_lines() -> None:
    assert ids_from_arguments(["u1", "u2", "u1"]).ids == ("u1", "u2")
    with pytest.raises(ProblemReport) as report:
        ids_from_arguments(["u1", "", "a,b"])
    assert [p.field for p in report.value.errors] == ["argument 2", "argument 3"]
    with pytest.raises(ProblemReport, match="no user ids"):
        ids_from_arguments([])
