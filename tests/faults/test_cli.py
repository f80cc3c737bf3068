"""`make faults` (`python -m tests.faults`): the table, the exit status, the doc it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import command
from tests.faults.command import main
from tests.faults.harness import Check
from tests.faults.scenarios import Outcome


def test_runs_chosen_scenarios_and_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-k", "campaign-quota"]) == 0
    out = capsys.readouterr().out
    assert "scenario" in out and "not stuck" in out and "10b. sixth campaign" in out
    assert "1/1 scenarios held every invariant" in out


def test_unknown_scenario_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-k", "no-such"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_a_failed_invariant_exits_non_zero_and_is_written_down(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(scenario: object, _assemblies: object) -> Outcome:
        return Outcome(
            "campaign-quota", "10b. x", "ROLLBACK_FAILED", [Check("not stuck", False, "stuck here")]
        )

    doc = tmp_path / "reliability.md"
    doc.write_text(f"# R\n\nintro\n{command.TABLE_START}\nold\n{command.TABLE_END}\n\ntail\n")
    monkeypatch.setattr(command, "run_scenario", failing)
    monkeypatch.setattr(command, "DOC", doc)
    assert main(["-k", "campaign-quota", "--write-doc"]) == 1
    assert "not stuck: stuck here" in capsys.readouterr().out
    text = doc.read_text()
    assert "intro" in text and "tail" in text and "old" not in text
    assert "| FAIL |" in text and "Measured " in text
