"""checkov's configuration (.checkov.yaml, used by `make lint` and `pz review`): every skipped check is
named on a line of its own with its reason, and the file stays what checkov reads."""

from __future__ import annotations

import re

import yaml

from pipeline.naming import REPO_ROOT

CONFIG = REPO_ROOT / ".checkov.yaml"
SKIP = re.compile(r"^  - (?P<check>CKV2?_[A-Z0-9]+_\d+)\s+#\s*(?P<why>\S.{20,})$")


def unexplained(text: str) -> list[str]:
    """The skip-check entries without a check id and a reason of some substance on their line."""
    lines = text.splitlines()
    start = lines.index("skip-check:") + 1
    entries = [line for line in lines[start:] if line.startswith("  - ")]
    return [line for line in entries if not SKIP.match(line)]


def test_every_skipped_check_has_its_reason() -> None:
    text = CONFIG.read_text()
    parsed = yaml.safe_load(text)
    assert parsed["framework"] == ["cloudformation"] and parsed["skip-download"] is True
    assert parsed["skip-check"], "nothing skipped: remove the list instead"
    assert unexplained(text) == []
    assert len(parsed["skip-check"]) == len(set(parsed["skip-check"]))


def test_a_skip_without_a_reason_is_caught() -> None:
    broken = CONFIG.read_text() + "  - CKV_AWS_999\n  - CKV_AWS_998  # ok\n"
    assert unexplained(broken) == ["  - CKV_AWS_999", "  - CKV_AWS_998  # ok"]
