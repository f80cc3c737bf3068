"""cfn-lint finds no errors in the synthesized templates (warnings are listed, not failed: the
ones seen are W3005, redundant DependsOn that CDK itself emits)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.stack.helpers import Synth

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def test_cfn_lint_reports_no_errors(dev: Synth, prod: Synth, vod: Synth) -> None:
    result = subprocess.run(
        [str(CFN_LINT), "--format", "parseable", str(dev.template_path), str(prod.template_path),
         str(vod.template_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Exit code bits: 2 = error, 4 = warning, 8 = informational; 1 = cfn-lint itself failed.
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert result.returncode & 3 == 0, result.stdout + result.stderr
    assert errors == []
