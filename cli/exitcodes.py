"""The command line's exit statuses, defined once: every command returns one of these, `pz --help`
prints them from here and docs/command-line.md lists them (a test keeps the two in step)."""

from __future__ import annotations

import textwrap
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    FLAGGED = 3
    INTERRUPTED = 130

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "done as asked (a diff that found changes too, unless --fail)",
    ExitCode.FAILED: "the operation failed: a deploy rolled back, a destroy stopped, synth or the "
    "service failed, a data deletion job FAILED, diff --fail found changes",
    ExitCode.USAGE: "usage error, or something you must fix first: arguments, a rejected config or "
    "data, no cloud assembly, a stack or campaign not deployed, credentials",
    ExitCode.FLAGGED: "review --fail-on: the review found a category named in --fail-on",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}
_SHORT = {
    ExitCode.OK: "done",
    ExitCode.FAILED: "the operation failed",
    ExitCode.USAGE: "usage or yours to fix",
    ExitCode.FLAGGED: "review flagged",
    ExitCode.INTERRUPTED: "interrupted",
}


class CommandError(Exception):
    """A command stopped with a message for the user and an exit status."""

    code = ExitCode.FAILED

    def __init__(self, message: str, code: ExitCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UserError(CommandError):
    """Something the user must fix (exit 2): the message says what and how."""

    code = ExitCode.USAGE


class OperationFailed(CommandError):
    """The operation ran and failed (exit 1)."""

    code = ExitCode.FAILED


def help_text(width: int = 96) -> str:
    """The exit statuses as `pz --help` shows them."""
    lines = ["exit status:"]
    for code in ExitCode:
        first = f"  {int(code):<5}"
        lines += textwrap.wrap(code.meaning, width, initial_indent=first, subsequent_indent=" " * len(first))
    return "\n".join(lines)


def short_help() -> str:
    """One line for each command's --help."""
    return "exit status: " + ", ".join(f"{int(code)} {_SHORT[code]}" for code in ExitCode) + " (pz --help)"
