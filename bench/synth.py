"""`cdk synth` of the dev app against an empty CDK app's synth, same machine, same run.

Goal: the dev app's synth takes at most 1.5x the empty app's. Both go through the pinned CLI
(`node_modules/.bin/cdk`, what `npx cdk` runs), so CLI start-up, Python and jsii start-up are in
both; the difference is our constructs, asset hashing/staging, the validator and cdk-nag.

The goal is judged on wall time (median of RUNS, runs alternating). The 2-core machine is shared, and
a neighbour's burst moves single wall times by +-0.3 s, so each run also records the CPU time of the
whole process tree (CLI, Python app, jsii's Node.js kernel: every process is waited for, so its usage
lands in RUSAGE_CHILDREN). CPU time hardly moves with a neighbour's load, so it tells a real change
from noise; it is not the wall time (V8's helper threads compile and collect on the second core).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.naming import REPO_ROOT as ROOT

CDK = ROOT / "node_modules" / ".bin" / "cdk"
GOAL = 1.5
RUNS = 3

EMPTY_APP = """
import sys
import aws_cdk as cdk
app = cdk.App(builtin_cloud_formation_validation=sys.argv[1] == "on")
cdk.Stack(app, "Empty")
app.synth()
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{CDK.parent}{os.pathsep}{env.get('PATH', '')}"
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(cwd: Path, args: list[str], outdir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the CLI's whole process tree)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "-o", str(outdir), *args],
        cwd=cwd,
        env=_env(),
        check=True,
        capture_output=True,
        timeout=600,
    )
    return time.perf_counter() - start, _children_cpu() - cpu


def measure(runs: int = RUNS) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of: the empty app with aws-cdk-lib's built-in CloudFormation
    validation off (as our app ships) and on (the library default), and the dev app. Runs alternate
    so drift hits all alike."""
    times: dict[str, list[tuple[float, float]]] = {"empty": [], "empty-default": [], "dev": []}
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        (empty / "app.py").write_text(EMPTY_APP)
        for index in range(runs):
            for key, flag in (("empty", "off"), ("empty-default", "on")):
                (empty / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py {flag}"}))
                times[key].append(_time(empty, [], Path(tmp) / f"{key}-out-{index}"))
            times["dev"].append(_time(ROOT, ["-c", "env=dev"], Path(tmp) / f"dev-out-{index}"))
    return {
        key: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for key, values in times.items()
    }


def run() -> bool:
    if not CDK.exists():
        print("synth: node_modules/.bin/cdk missing (make install)")
        return False
    median = measure()
    (empty, empty_cpu), (dev, dev_cpu) = median["empty"], median["dev"]
    ratio = dev / empty
    print(
        f"synth (median of {RUNS}): empty app {empty:.2f}s, dev app {dev:.2f}s, "
        f"ratio {ratio:.2f} (goal <= {GOAL}); same validation settings (built-in CloudFormation "
        f"validation off, as the app ships). Empty app with the library default (on): "
        f"{median['empty-default'][0]:.2f}s. CPU of the process tree: empty {empty_cpu:.2f}s, "
        f"dev {dev_cpu:.2f}s, ratio {dev_cpu / empty_cpu:.2f}."
    )
    return ratio <= GOAL


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
