"""The list of users a data deletion job deletes: read from the command line or a file, checked
against the service's documented input format, and written as the CSV the job reads.

The format (Personalize developer guide, "Preparing your data deletion file and uploading it to
Amazon S3", https://docs.aws.amazon.com/personalize/latest/dg/prepare-deletion-input-file.html, and
CreateDataDeletionJob, https://docs.aws.amazon.com/personalize/latest/dg/API_CreateDataDeletionJob.html):
a CSV file "with a single USER_ID column that lists the users IDs": a `USER_ID` header, then one id
per line; at most 100 MB in total ("Amazon Personalize endpoints and quotas"); a user id has at most
256 characters (the Users and Interactions dataset requirements). The pages state no quoting rule,
so an id that would need CSV quoting (a comma, a double quote, a line break) is refused rather than
written in a form the service may read differently.

Shared by the product code that uploads the list (recs/deletion.py) and the template that lets the
service role read it (personalize_constructs/service_role.py): both use `DELETION_PREFIX`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.problems import Problem, ProblemReport, display_path

#: Where in the pipeline's data bucket the command puts each job's list of user ids (its own prefix:
#: the service role reads it, and no import reads it as a dataset).
DELETION_PREFIX = "deletions/"
HEADER = "USER_ID"
MAX_ID_CHARS = 256
#: "Maximum total size of your data deletion input file or files: 100 MB" (endpoints and quotas)
MAX_FILE_BYTES = 100 * 1024 * 1024
#: characters that would need CSV quoting, for which the deletion file format states no rule
_NEEDS_QUOTING = {",": "a comma", '"': "a double quote", "\n": "a line break", "\r": "a line break"}


@dataclass(frozen=True)
class UserIds:
    """The checked ids, in the order given, each once; `repeated` counts the ids given again."""

    ids: tuple[str, ...]
    source: str
    repeated: int = 0
    warnings: tuple[Problem, ...] = ()

    def to_csv(self) -> bytes:
        """The deletion job's input file: the USER_ID header, then one id per line."""
        return ("\n".join([HEADER, *self.ids]) + "\n").encode("utf-8")


def _check_id(value: str, file: str, line: int | None, field: str) -> Problem | None:
    if value == "":
        return Problem(file, line, field, value, "a user id must not be empty", code="empty-id")
    if value != value.strip():
        return Problem(file, line, field, value,
                       "a user id must not start or end with spaces (Personalize matches ids exactly)",
                       code="spaces")
    if len(value) > MAX_ID_CHARS:
        return Problem(file, line, field, value[:40] + "...",
                       f"{len(value)} characters; a user id has at most {MAX_ID_CHARS}", code="long-id")
    for char, name in _NEEDS_QUOTING.items():
        if char in value:
            return Problem(file, line, field, value,
                           f"a user id with {name} cannot be listed: the deletion file is a one-column CSV "
                           "whose documented format has no quoting", code="quoting")
    return None


def _collect(entries: Iterable[tuple[str, int | None, str]], file: str,
             problems: list[Problem]) -> UserIds:
    seen: dict[str, int | None] = {}
    repeated = 0
    warnings: list[Problem] = []
    for value, line, field in entries:
        problem = _check_id(value, file, line, field)
        if problem is not None:
            problems.append(problem)
            continue
        if value in seen:
            repeated += 1
            if repeated <= 5:
                first = seen[value]
                where = f"line {first}" if first is not None else "an earlier argument"
                warnings.append(Problem(file, line, field, value, f"listed again (first at {where}); "
                                        "deleted once", severity="warning", code="repeated"))
            continue
        seen[value] = line
    if not seen and not problems:
        problems.append(Problem(file, None, None, None, "no user ids to delete", code="no-ids"))
    ids = UserIds(tuple(seen), file, repeated, tuple(warnings))
    if len(ids.to_csv()) > MAX_FILE_BYTES:
        problems.append(Problem(file, None, None, None,
                                f"the list is {len(ids.to_csv())} bytes; a data deletion job reads at most "
                                f"{MAX_FILE_BYTES} bytes (100 MB): split it into several jobs",
                                code="too-large"))
    if problems:
        problems.sort(key=lambda problem: problem.line or 0)
        raise ProblemReport([*problems, *warnings])
    return ids


def ids_from_arguments(values: Iterable[str]) -> UserIds:
    """User ids given one by one (the command line's USER_ID arguments); ProblemReport if any is bad."""
    entries = [(value, None, f"argument {number}") for number, value in enumerate(values, start=1)]
    return _collect(entries, "command line", [])


def ids_from_file(path: Path | str) -> UserIds:
    """The ids of a deletion file in the service's format (a `USER_ID` header, one id per line);
    blank lines are skipped. ProblemReport naming the file, line and value of every problem."""
    path = Path(path)
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ProblemReport([Problem(shown, None, None, None, f"cannot read it: {error.strerror or error}",
                                     code="unreadable")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ProblemReport([Problem(shown, None, None, None,
                                     f"{len(raw)} bytes; a data deletion job reads at most {MAX_FILE_BYTES} "
                                     "bytes (100 MB): split it into several jobs", code="too-large")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ProblemReport([Problem(shown, line, None, None, "not UTF-8 text", code="encoding")]) from None
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    entries: list[tuple[str, int | None, str]] = []
    try:
        header = next(rows, None)
        if header is None:
            raise ProblemReport([Problem(shown, None, None, None,
                                         f"the file is empty: expected a {HEADER} header, then one user id "
                                         "per line", code="no-header")])
        if [h.strip() for h in header] != [HEADER]:
            raise ProblemReport([Problem(shown, 1, None, ",".join(header),
                                         f"the first line must be the header {HEADER} alone (the data "
                                         "deletion job's format: one USER_ID column)", code="header")])
        for row in rows:
            line = rows.line_num
            if not row:
                continue
            if len(row) != 1:
                problems.append(Problem(shown, line, HEADER, ",".join(row),
                                        f"{len(row)} columns; the file has one column, {HEADER}",
                                        code="columns"))
                continue
            entries.append((row[0], line, HEADER))
    except csv.Error as error:
        problems.append(Problem(shown, rows.line_num, None, None, f"not a valid CSV line: {error}",
                                code="csv"))
    return _collect(entries, shown, problems)
