"""cdk-nag's AwsSolutions pack runs inside the app (3.x Validations API): zero unacknowledged
findings, and the check is live (remove the acknowledgments and synth fails)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

from pipeline.config import load_config
from pipeline.naming import REPO_ROOT, stack_name
from stack.conftest import FIXTURES, Synth


def _violations(outdir: Path) -> list[str]:
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    data = json.loads(report.read_text())
    return [
        f"{v['ruleName']} {c['constructPath']}"
        for plugin in data.get("pluginReports", [])
        for v in plugin.get("violations", [])
        for c in v.get("violatingConstructs", [])
    ]


def test_shipped_configs_are_nag_clean(shipped: Synth) -> None:
    # The fixture synth ran with the plugin (a violation raises before the template is written).
    assert shipped.template_path.exists()
    assert _violations(shipped.outdir) == []


def test_nag_runs_and_fails_without_acknowledgments(tmp_path: Path) -> None:
    from stacks import build_app

    app = build_app(
        "dev",
        str(tmp_path),
        config=load_config("dev"),
        root=FIXTURES,
        asset_dir=REPO_ROOT / "lambda",
        nag=False,
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    found = _violations(tmp_path)
    assert any(v.startswith("AwsSolutions-S10 ") for v in found)
    assert any(v.startswith("AwsSolutions-IAM5[") for v in found)


def acknowledgments(synth: Synth) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) from the stack's cloud-assembly metadata."""
    metadata = json.loads((synth.outdir / f"{stack_name(synth.env)}.metadata.json").read_text())
    found = []
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:acknowledged-rules":
                for rule, reason in entry["data"].items():
                    found.append((path, rule, reason))
    return found


def test_every_acknowledgment_is_specific_and_narrow(shipped: Synth) -> None:
    found = acknowledgments(shipped)
    assert found
    stack_path = f"/{stack_name(shipped.env)}"
    for path, rule, reason in found:
        assert rule.startswith("AwsSolutions::AwsSolutions-"), rule
        assert len(reason) >= 60, (path, rule, reason)
        assert path != stack_path, "no stack-wide acknowledgments"
        # Wildcard acknowledgments name the finding, never the whole rule.
        if "IAM5" in rule or "IAM4" in rule:
            assert "[" in rule, rule
