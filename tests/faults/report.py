"""The fault matrix's table: scenario -> outcome -> invariants held, for the terminal and for
docs/reliability.md (kept with the date it was run)."""

from __future__ import annotations

from collections.abc import Sequence

from tests.faults.scenarios import Outcome

INVARIANTS = ("not stuck", "nothing left", "retained data", "error is clear")


def _mark(held: bool | None) -> str:
    return "n/a" if held is None else ("yes" if held else "NO")


def invariant_cells(outcome: Outcome) -> list[str]:
    """The four invariants' verdicts (prefixed ones, e.g. `dev: not stuck`, fold into their column:
    any failure is NO, all n/a is n/a)."""
    cells = []
    for name in INVARIANTS:
        found = [c.held for c in outcome.checks if c.name == name or c.name.endswith(f": {name}")]
        if not found:
            cells.append("-" if outcome.error else "n/a")
        elif any(h is False for h in found):
            cells.append("NO")
        elif all(h is None for h in found):
            cells.append("n/a")
        else:
            cells.append("yes")
    return cells


def scenario_checks(outcome: Outcome) -> str:
    """The scenario's own promises, held / total."""
    own = [c for c in outcome.checks if not any(c.name == n or c.name.endswith(f": {n}") for n in INVARIANTS)]
    held = sum(1 for c in own if c.held)
    return f"{held}/{len(own)}" if own else "-"


def rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    return [
        [
            o.title,
            o.outcome,
            *invariant_cells(o),
            scenario_checks(o),
            "PASS" if o.ok else "FAIL",
            f"{o.real_seconds:.1f}",
            f"{o.virtual_seconds / 3600:.2f}",
        ]
        for o in outcomes
    ]


HEADER = ["scenario", "outcome", *INVARIANTS, "scenario checks", "verdict", "real s", "virtual h"]


def markdown(outcomes: Sequence[Outcome]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows(outcomes)]
    return "\n".join(lines)


def text_table(outcomes: Sequence[Outcome]) -> str:
    table = [HEADER, *rows(outcomes)]
    widths = [min(70, max(len(r[i]) for r in table)) for i in range(len(HEADER))]
    out = []
    for n, row in enumerate(table):
        out.append("  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def failures(outcomes: Sequence[Outcome]) -> str:
    """Every failed check (and crashed scenario) with its detail: what to look at."""
    lines = []
    for o in outcomes:
        if o.error:
            lines.append(f"- {o.key}: scenario crashed: {o.error.strip()}")
        for c in o.checks:
            if c.held is False:
                lines.append(f"- {o.key}: {c.name}: {c.detail}")
    return "\n".join(lines)
