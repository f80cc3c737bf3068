"""Terminal output for the commands: results on stdout, progress and notes on stderr; colour only
on a terminal (NO_COLOR, --no-color and TERM=dumb turn it off); a spinner with the elapsed time on
long work when stderr is a terminal, a start and an end line when it is not (CI logs)."""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

RESET = "\033[0m"
STYLES = {"red": "\033[31m", "green": "\033[32m", "yellow": "\033[33m", "cyan": "\033[36m",
          "bold": "\033[1m", "dim": "\033[2m"}
#: CloudFormation statuses as the event and summary lines print them (CREATE_COMPLETE, ...).
STATUS = re.compile(r"\b[A-Z]+(?:_[A-Z]+)*_(?:COMPLETE|FAILED|IN_PROGRESS)\b")
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def color_wanted(stream: TextIO, disabled: bool = False) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    if disabled or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def status_style(status: str) -> str:
    """The colour the CDK CLI gives a stack or resource status."""
    if "FAILED" in status or "ROLLBACK" in status:
        return "red"
    if status.endswith("_COMPLETE"):
        return "green"
    return "yellow"


class Console:
    """Where a command writes. Made when the command runs, so it writes to the sys.stdout and
    sys.stderr of that moment (pytest's capture included)."""

    def __init__(self, no_color: bool = False, events_to_stderr: bool = False) -> None:
        self.out: TextIO = sys.stdout
        self.err: TextIO = sys.stderr
        self.color_out = color_wanted(self.out, no_color)
        self.color_err = color_wanted(self.err, no_color)
        self.events_to_stderr = events_to_stderr

    def style(self, text: str, style: str, stream: TextIO | None = None) -> str:
        on = self.color_err if stream is self.err else self.color_out
        return f"{STYLES[style]}{text}{RESET}" if on else text

    def paint_statuses(self, line: str, stream: TextIO) -> str:
        if not (self.color_err if stream is self.err else self.color_out):
            return line
        return STATUS.sub(lambda m: self.style(m.group(0), status_style(m.group(0)), stream), line)

    def print(self, text: str = "") -> None:
        """A result line (stdout), statuses in colour on a terminal."""
        print(self.paint_statuses(text, self.out), file=self.out, flush=True)

    def event(self, line: str) -> None:
        """A resource event from the runner (stdout; stderr when stdout carries --json)."""
        stream = self.err if self.events_to_stderr else self.out
        print(self.paint_statuses(line, stream), file=stream, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def warn(self, text: str) -> None:
        print(self.style("warning:", "yellow", self.err) + " " + text, file=self.err, flush=True)

    def error(self, prefix: str, text: str) -> None:
        print(self.style(f"{prefix}:", "red", self.err) + " " + text, file=self.err, flush=True)

    def step(self, number: int, total: int, text: str) -> None:
        """A numbered step of a long command (the demo's synth, deploy, ...), on stdout."""
        print("\n" + self.style(f"[{number}/{total}] {text}", "bold", self.out), file=self.out, flush=True)

    @contextmanager
    def progress(self, text: str) -> Iterator[None]:
        """Long work: a spinner with the elapsed seconds on a terminal, else a start line; then one
        line with the time taken (or that it failed)."""
        started = time.monotonic()
        stop = threading.Event()
        spinner: threading.Thread | None = None
        if _isatty(self.err) and os.environ.get("TERM") != "dumb":
            spinner = threading.Thread(target=self._spin, args=(text, started, stop), daemon=True)
            spinner.start()
        else:
            self.note(f"{text} ...")
        ok = False
        try:
            yield
            ok = True
        finally:
            stop.set()
            if spinner is not None:
                spinner.join()
                self.err.write("\r\033[K")
            seconds = time.monotonic() - started
            mark = self.style("done", "green", self.err) if ok else self.style("failed", "red", self.err)
            self.note(f"{text}: {mark} ({seconds:.1f} s)")

    def _spin(self, text: str, started: float, stop: threading.Event) -> None:
        frame = 0
        while not stop.wait(0.1):
            shown = f"\r{SPINNER[frame % len(SPINNER)]} {text} ({time.monotonic() - started:.0f} s)"
            self.err.write(shown + "\033[K")
            self.err.flush()
            frame += 1


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
