"""cdk-nag's AwsSolutions pack runs inside the app (3.x Validations API): zero unacknowledged
findings, and the check is live (remove the acknowledgments and synth fails)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks

from pipeline.config import load_config
from pipeline.naming import REPO_ROOT, stack_name
from tests.stack.helpers import FIXTURES, Synth, acknowledgments, nag_violations


def test_shipped_configs_are_nag_clean(shipped: Synth) -> None:
    # The fixture synth ran with the plugin (a violation raises before the template is written).
    assert shipped.template_path.exists()
    assert nag_violations(shipped.outdir) == []


def test_the_domain_example_is_nag_clean(vod: Synth) -> None:
    assert vod.template_path.exists()
    assert nag_violations(vod.outdir) == []


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
    found = nag_violations(tmp_path)
    assert any(v.startswith("AwsSolutions-S10 ") for v in found)
    assert any(v.startswith("AwsSolutions-IAM5[") for v in found)


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
