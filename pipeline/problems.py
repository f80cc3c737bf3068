"""Problems found in config, schemas or data, reported all at once with their locations."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline.naming import REPO_ROOT


def display_path(path: Path | str, root: Path | None = None) -> str:
    """A path as a person reads it in a problem: relative to the working directory when inside it,
    else to the project root (`root`, default this repository) when inside that, else absolute."""
    path = Path(path)
    if not path.is_absolute():
        return str(path)
    resolved = path.resolve()
    for base in (Path.cwd(), root or REPO_ROOT):
        try:
            return str(resolved.relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where (file, line, field or column), the value, and what was expected."""

    file: str
    line: int | None
    field: str | None
    value: Any
    message: str
    severity: Literal["error", "warning"] = "error"
    #: A stable name for the kind of problem (e.g. csvcheck's "millis", "minimum-users"), for code that
    #: must tell kinds apart without parsing messages.
    code: str | None = dataclasses.field(default=None, compare=False)

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        parts = [where]
        if self.field:
            parts.append(self.field)
        text = ": ".join(parts)
        shown = "" if self.value is None else f" (got {self.value!r})"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{text}: {self.message}{shown}"


class ProblemReport(Exception):
    """Raised with every problem found; str() is what a person reads."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(self.render())

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def render(self) -> str:
        count = len(self.errors)
        head = f"{count} problem{'s' if count != 1 else ''} found:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])
