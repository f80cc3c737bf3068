"""`make faults` (`python -m tests.faults [-k KEY ...] [--write-doc]`): run the fault matrix on the local
runner and the local Personalize's fault injection; print scenario -> outcome -> invariants held;
exit 1 if any invariant or scenario check fails. The scenarios choose their
configs (the small test pipeline under tests/faults/configs/, and the shipped dev and prod)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.faults import report
from tests.faults.harness import REPO, Assemblies
from tests.faults.scenarios import BY_KEY, SCENARIOS, Outcome, run_scenario

DOC = REPO / "docs" / "reliability.md"
TABLE_START = "<!-- fault-matrix:start -->"
TABLE_END = "<!-- fault-matrix:end -->"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-k",
        "--only",
        action="append",
        default=[],
        metavar="KEY",
        help="run only these scenarios (repeatable): " + ", ".join(s.key for s in SCENARIOS),
    )
    parser.add_argument(
        "--write-doc",
        action="store_true",
        help="write the measured table into docs/reliability.md with the date and commit",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    unknown = [k for k in args.only if k not in {s.key for s in SCENARIOS}]
    if unknown:
        print(f"unknown scenario(s) {unknown}; known: {[s.key for s in SCENARIOS]}", file=sys.stderr)
        return 2
    chosen = [s for s in SCENARIOS if not args.only or s.key in args.only]
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="faultmatrix-") as tmp:
        assemblies = Assemblies(Path(tmp))
        for scenario in chosen:
            print(f"... {scenario.title}", flush=True)
            outcome = run_scenario(scenario, assemblies)
            outcomes.append(outcome)
            print(
                f"    {outcome.outcome}: {'PASS' if outcome.ok else 'FAIL'} ({outcome.real_seconds:.1f} s)",
                flush=True,
            )
    total = time.perf_counter() - started
    print()
    print(report.text_table(outcomes))
    failed = report.failures(outcomes)
    print()
    print(f"{sum(o.ok for o in outcomes)}/{len(outcomes)} scenarios held every invariant; {total:.0f} s real")
    if failed:
        print("\nFailed checks:\n" + failed)
    bugs = known_bugs(outcomes)
    if bugs:
        print("\nKnown bugs behind the failures (their tests are xfail(strict=True)):\n" + bugs)
    if args.write_doc:
        write_doc(outcomes, total, failed)
        print(f"\nwrote {DOC}")
    return 0 if all(o.ok for o in outcomes) else 1


def known_bugs(outcomes: list[Outcome]) -> str:
    """The recorded cause of each failing scenario that has one."""
    return "\n".join(
        f"- {o.key}: {BY_KEY[o.key].known_bug}" for o in outcomes if not o.ok and BY_KEY[o.key].known_bug
    )


def commit() -> str:
    """The commit measured: `git rev-parse` of the tree, or FAULTS_COMMIT for an exported tree."""
    import os
    import subprocess

    if os.environ.get("FAULTS_COMMIT"):
        return os.environ["FAULTS_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{out}{' (with uncommitted changes)' if dirty else ''}"


def write_doc(outcomes: list[Outcome], seconds: float, failed: str) -> None:
    """Replace the table between the markers in docs/reliability.md (the prose around it stays)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    bugs = known_bugs(outcomes)
    block = "\n".join(
        [
            TABLE_START,
            f"Measured {stamp} on commit {commit()} with `make faults` "
            f"({len(outcomes)} scenarios, {seconds:.0f} s real on this 2-core machine).",
            "",
            report.markdown(outcomes),
            "",
            "Failed checks:" if failed else "Every invariant held.",
            *([failed] if failed else []),
            *(
                [
                    "",
                    "Known bugs behind the failures (their tests in tests/faults are xfail(strict=True)):",
                    bugs,
                ]
                if bugs
                else []
            ),
            TABLE_END,
        ]
    )
    text = (
        DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Reliability\n\n{TABLE_START}\n{TABLE_END}\n"
    )
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    DOC.write_text(head + block + tail, encoding="utf-8")
