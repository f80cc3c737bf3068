"""The fault matrix as tests: every scenario deploys the synthesized template on the local
runner with the local Personalize's fault injection, in a fresh World on the virtual clock, and
must hold every invariant (tests/faults/harness.py) and its own checks. `make faults`
runs the same scenarios and prints the table."""

from __future__ import annotations

import pytest

from tests.faults import report
from tests.faults.harness import Assemblies, Check
from tests.faults.scenarios import BY_KEY, SCENARIOS, Outcome, run_scenario


def _param(key: str) -> object:
    scenario = BY_KEY[key]
    marks: list[pytest.MarkDecorator] = [pytest.mark.slow]
    if scenario.known_bug:
        marks.append(pytest.mark.xfail(strict=True, reason=scenario.known_bug))
    return pytest.param(key, marks=marks, id=key)


@pytest.mark.parametrize("key", [_param(s.key) for s in SCENARIOS])
def test_scenario_holds_every_invariant(key: str, fault_assemblies: Assemblies) -> None:
    outcome = run_scenario(BY_KEY[key], fault_assemblies)
    assert not outcome.error, outcome.error
    names = {c.name.split(": ")[-1] for c in outcome.checks}
    # every scenario reports all four invariants (n/a only where they do not apply)
    assert set(report.INVARIANTS) <= names, names
    assert outcome.ok, f"{outcome.outcome}\n{report.failures([outcome])}"


def test_a_failed_invariant_fails_the_scenario_and_the_table() -> None:
    """The verdict cannot pass by construction: one NO makes the scenario and the row FAIL."""
    good = Outcome(
        "k",
        "t",
        "ROLLBACK_COMPLETE",
        [
            Check("not stuck", True),
            Check("nothing left", True),
            Check("retained data", None),
            Check("error is clear", True),
        ],
    )
    bad = Outcome(
        "k",
        "t",
        "ROLLBACK_FAILED",
        [
            Check("not stuck", False, "ROLLBACK_FAILED"),
            Check("nothing left", True),
            Check("retained data", None),
            Check("error is clear", True),
        ],
    )
    assert good.ok and not bad.ok
    assert report.rows([good])[0][2:6] == ["yes", "yes", "n/a", "yes"]
    assert report.rows([bad])[0][2] == "NO" and report.rows([bad])[0][-3] == "FAIL"
    assert "not stuck: ROLLBACK_FAILED" in report.failures([bad])
    crashed = Outcome("k", "t", "", [], error="boom")
    assert not crashed.ok and "crashed" in report.failures([crashed])


def test_the_matrix_covers_its_twelve_scenarios() -> None:
    """The twelve numbered scenarios of docs/reliability.md's table each have at least one entry
    (numbered by its title)."""
    numbers = {s.title.split(".")[0].rstrip("abc") for s in SCENARIOS}
    assert {str(n) for n in range(1, 13)} <= numbers, numbers
    assert len({s.key for s in SCENARIOS}) == len(SCENARIOS)
