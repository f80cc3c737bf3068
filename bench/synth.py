"""`cdk synth` of the dev and prod apps beside two empty CDK apps, same machine, same run.

The peers, each one stack with nothing in it, through the same pinned CLI (`node_modules/.bin/cdk`,
what `npx cdk` runs), so CLI, Python and jsii start-up are in every figure:
- an empty app with aws-cdk-lib's defaults: what `cdk init` gives a team (`cdk.App()`, no feature
  flags in cdk.json, so the library's built-in CloudFormation validation runs, as by default);
- an empty app with this project's settings: cdk.json's context (the feature flags) and the App
  arguments `stacks.build_app` passes (built-in validation and construct stack traces off). Against
  it the difference is our app alone: constructs, asset staging, the config and data validator,
  cdk-nag.
Neither empty app carries app.py's garbage-collector freeze (it saves our app ~0.4 s of imports).

Goal: the dev synth within 1.5x of the empty app with the library's defaults. Reported beside it:
the ratio to the empty app with the project's settings, the absolute synth times of dev and prod,
and cdk-nag's share of the dev synth (the dev app once more with cdk_nag neither imported nor run).

Rounds alternate the apps (each round starts with the next one) and every ratio is taken within a
round; the median over RUNS rounds is printed and judged. The 2-core machine is shared and a
neighbour's burst moves single wall times a lot, so each synth also records the CPU time of the
CLI's whole process tree (CLI, Python app, jsii's Node.js kernel; every process is waited for, so
its usage lands in RUSAGE_CHILDREN): it moves much less with the load, so it tells a real change from
noise; it is not the wall time (V8's helper threads work on the second core).
`python -m bench synth`; `--quick` synthesizes each app once and judges no goal.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._report import load, median, verdict
from pipeline.naming import REPO_ROOT as ROOT

CDK = ROOT / "node_modules" / ".bin" / "cdk"
GOAL = 1.5
RUNS = 5

EMPTY_DEFAULT = """
import aws_cdk as cdk
app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
"""

#: The App arguments stacks.build_app passes (cdk.json's context reaches it through the CLI).
EMPTY_PROJECT = """
import aws_cdk as cdk
app = cdk.App(
    context={"aws:cdk:disable-creation-stack-traces": True},
    stack_traces=False,
    builtin_cloud_formation_validation=False,
)
cdk.Stack(app, "Empty")
app.synth()
"""

#: app.py as shipped, with cdk_nag replaced by a module that refuses any use and build_app told
#: nag=False: the dev synth without cdk-nag's import (its jsii assembly) or its checks.
NO_NAG = """
import functools, gc, runpy, sys, types
gc.disable()  # as app.py does before its imports (they happen here, first)

class Absent(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        def refuse(*args, **kwargs):
            raise RuntimeError(f"cdk_nag.{name} used in the benchmark's no-nag app")
        return refuse

sys.modules["cdk_nag"] = Absent("cdk_nag")
sys.path.insert(0, sys.argv[1])
import stacks
stacks.build_app = functools.partial(stacks.build_app, nag=False)
sys.argv = [sys.argv[1] + "/app.py"]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

#: key -> what it is, as printed.
APPS = {
    "empty-default": "empty app, aws-cdk-lib's defaults",
    "empty-project": "empty app, the project's settings",
    "dev": "dev app",
    "prod": "prod app",
    "dev-no-nag": "dev app without cdk-nag",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "CDK_DEBUG"}
    env["PATH"] = f"{CDK.parent}{os.pathsep}{env.get('PATH', '')}"
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(cwd: Path, args: list[str], outdir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the CLI's whole process tree) of one `cdk synth`."""
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


def _apps(tmp: Path) -> dict[str, tuple[Path, list[str]]]:
    """Each app as (directory the CLI runs in, extra CLI arguments)."""
    python = sys.executable
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.pop("env", None)
    for key, source, cdk_json in (
        ("empty-default", EMPTY_DEFAULT, {"app": f"{python} app.py"}),
        ("empty-project", EMPTY_PROJECT, {"app": f"{python} app.py", "context": context}),
    ):
        (tmp / key).mkdir()
        (tmp / key / "app.py").write_text(source)
        (tmp / key / "cdk.json").write_text(json.dumps(cdk_json))
    (tmp / "no_nag.py").write_text(NO_NAG)
    return {
        "empty-default": (tmp / "empty-default", []),
        "empty-project": (tmp / "empty-project", []),
        "dev": (ROOT, ["-c", "env=dev"]),
        "prod": (ROOT, ["-c", "env=prod"]),
        "dev-no-nag": (ROOT, ["-c", "env=dev", "--app", f"{python} {tmp / 'no_nag.py'} {ROOT}"]),
    }


def measure(runs: int = RUNS) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of every app, once per round; each round starts with the next app."""
    keys = list(APPS)
    times: dict[str, list[tuple[float, float]]] = {key: [] for key in keys}
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as name:
        tmp = Path(name)
        apps = _apps(tmp)
        for index in range(runs):
            for key in keys[index % len(keys) :] + keys[: index % len(keys)]:
                cwd, args = apps[key]
                times[key].append(_time(cwd, args, tmp / f"{key}-out-{index}"))
    return times


def _ratio(times: dict[str, list[tuple[float, float]]], app: str, peer: str, part: int) -> float:
    """Median over the rounds of app / peer within each round (part 0: wall, 1: CPU)."""
    return median([a[part] / p[part] for a, p in zip(times[app], times[peer], strict=True)])


def run(quick: bool = False) -> bool:
    if not CDK.exists():
        print("synth: node_modules/.bin/cdk missing (make install)")
        return False
    before = load()
    times = measure(1 if quick else RUNS)
    print(f"cdk synth through the pinned CLI; {before} before, {load()} after")
    return report(times, quick)


def report(times: dict[str, list[tuple[float, float]]], quick: bool) -> bool:
    """Print every app's times and the ratios; True when the goal is met (a quick run judges none)."""
    print(f"  median of {len(times['dev'])} round(s), apps alternating")
    print(f"  {'app':36s} {'wall s':>7s} {'CPU s':>7s}   dev app / it (CPU)")
    for key, label in APPS.items():
        wall = median([w for w, _ in times[key]])
        cpu = median([c for _, c in times[key]])
        beside = (
            f"{_ratio(times, 'dev', key, 0):.2f}x ({_ratio(times, 'dev', key, 1):.2f}x)"
            if key.startswith("empty")
            else ""
        )
        print(f"  {label:36s} {wall:7.2f} {cpu:7.2f}   {beside}")
    for app in ("dev", "prod"):
        for peer in ("empty-default", "empty-project"):
            print(
                f"  {APPS[app]} / {APPS[peer]}: {_ratio(times, app, peer, 0):.2f}x "
                f"(CPU {_ratio(times, app, peer, 1):.2f}x)"
            )
    nag = [
        (d[0] - n[0], (d[0] - n[0]) / d[0]) for d, n in zip(times["dev"], times["dev-no-nag"], strict=True)
    ]
    nag_cpu = [(d[1] - n[1]) / d[1] for d, n in zip(times["dev"], times["dev-no-nag"], strict=True)]
    print(
        f"  cdk-nag's share of the dev synth: {median([s for s, _ in nag]):.2f} s, "
        f"{median([f for _, f in nag]):.0%} of the wall time ({median(nag_cpu):.0%} of the CPU time)"
    )
    ratio = _ratio(times, "dev", "empty-default", 0)
    met = ratio <= GOAL
    print(
        f"  goal: dev app within {GOAL:g}x of the empty app with aws-cdk-lib's defaults: {ratio:.2f}x  "
        f"{verdict(met, quick)}"
    )
    return quick or met


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
