"""What the command-line tests share: a small cloud assembly as far as the runner's loader and the
synth decision read it."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_assembly(cdk_out: Path, stack: str = "Personalize-dev", mtime: float | None = None) -> Path:
    """A cloud assembly with one empty stack, as far as the runner's loader and the decision read."""
    cdk_out.mkdir(parents=True, exist_ok=True)
    (cdk_out / f"{stack}.template.json").write_text(json.dumps({"Resources": {}}))
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            stack: {
                "type": "aws:cloudformation:stack",
                "environment": "aws://unknown-account/ap-southeast-2",
                "properties": {"templateFile": f"{stack}.template.json"},
            }
        },
    }
    (cdk_out / "manifest.json").write_text(json.dumps(manifest))
    if mtime is not None:
        os.utime(cdk_out / "manifest.json", (mtime, mtime))
    return cdk_out
