"""The real CLI, as a user runs it: `npx cdk synth -c env=dev|prod` with no AWS credentials, on the
repository's own data; and a bad environment fails fast with the message and no template."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pipeline.naming import REPO_ROOT, stack_name

#: What `npx cdk` runs: the pinned CLI from package.json.
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
pytestmark = pytest.mark.skipif(not CDK.exists(), reason="npm packages not installed (make install)")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        PATH=f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        CDK_DISABLE_VERSION_CHECK="1",
    )
    return env


def _synth(env_name: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CDK), "synth", "-c", f"env={env_name}", "--quiet", "--no-notices", "-o", str(tmp_path / "out")],
        cwd=REPO_ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_cdk_synth_without_credentials(env_name: str, tmp_path: Path) -> None:
    result = _synth(env_name, tmp_path)
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "out" / f"{stack_name(env_name)}.template.json").read_text())
    assert len([r for r in template["Resources"].values() if r["Type"] == "Custom::PersonalizeCampaign"]) == 3
    assert "Traceback" not in result.stderr


def test_bad_environment_fails_fast_with_the_message(tmp_path: Path) -> None:
    result = _synth("nope", tmp_path)
    assert result.returncode != 0
    assert "config/nope.toml: no such config file; environments: ['dev', 'prod', 'vod']" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "out").glob("*.template.json")) if (tmp_path / "out").exists() else True
