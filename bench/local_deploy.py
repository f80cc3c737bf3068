"""Local deploy benchmark: how close the runner + handlers come to the floor, how chatty
the polling is, and how long a local deploy of the dev pipeline takes in real time.

1. Reference pipeline: the dev config cut to three imports, two solutions training in parallel and
   one campaign (and the exclude-purchased filter), with every service duration x4 (multi-hour
   trainings) and spread by a deterministic +-25 % per name, so polls cannot line up with
   completions by luck.
   - virtual deploy time / critical path      goal <= 1.02
   - Personalize describe calls per operation-hour of service operations   goal <= 60
2. The shipped dev pipeline: real seconds of the whole local deploy (runner.deploy plus saving the
   world, as `pz deploy` does), synth excluded.   goal < 30 s

Synthesis happens in-process before the clock starts (stacks.build_app, no cdk-nag). Each figure is
one run: the first two are virtual (the clock is the runner's, not the machine's), so a busy machine
does not move them. `--quick` deploys the reference pipeline only (the dev deploy is what the e2e
tests run) and judges no goal.
"""

from __future__ import annotations

import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from bench._report import load, verdict
from pipeline.naming import REPO_ROOT as REPO
from pipeline.naming import stack_name

RATIO_GOAL = 1.02
DESCRIBES_GOAL = 60.0
WALL_GOAL = 30.0
SCALE = 4.0
JITTER = 0.25


def reference_config() -> Any:
    from pipeline.config import PipelineConfig

    raw = tomllib.loads((REPO / "config" / "dev.toml").read_text())
    raw["environment"]["name"] = "bench"
    raw["solutions"] = [s for s in raw["solutions"] if s["name"] in ("user-personalization", "similar-items")]
    for solution in raw["solutions"]:
        solution["training_timeout"] = "12h"
    raw["campaigns"] = [c for c in raw["campaigns"] if c["name"] == "user-recs"]
    # the reference as defined (one filter): dev's later parameterised filter would add a short create
    raw["filters"] = [f for f in raw.get("filters", []) if f["name"] == "exclude-purchased"]
    return PipelineConfig.model_validate(raw)


def synth(config: Any, outdir: Path) -> Any:
    from local.runner import CloudAssembly
    from stacks import build_app

    app = build_app(
        config.environment.name, str(outdir), config=config, root=REPO, asset_dir=REPO / "lambda", nag=False
    )
    app.synth()
    return CloudAssembly.load(outdir).stack(stack_name(config.environment.name))


def deploy(artifact: Any, state: Path, scale: float = 1.0, jitter: float = 0.0) -> tuple[Any, float]:
    from cli.support import region_of
    from local.emulator.world import World
    from local.runner import Runner, StackStore

    world = World()
    world.personalize.durations.scale = scale
    world.personalize.durations.jitter = jitter
    runner = Runner(
        world, StackStore(state), out=lambda _: None, region=region_of(artifact), quiet_events=True
    )
    started = time.perf_counter()
    try:
        result = runner.deploy(artifact)
        world.save(state / "world.pkl")
    finally:
        runner.close()
    return result, time.perf_counter() - started


def run(quick: bool = False) -> bool:
    from local.runner import report

    with tempfile.TemporaryDirectory(prefix="bench-local-deploy-") as tmp:
        root = Path(tmp)
        reference = synth(reference_config(), root / "cdk-bench")

        result, _ = deploy(reference, root / "state-ref", scale=SCALE, jitter=JITTER)
        if not result.ok:
            print(f"reference pipeline did not deploy: {result.status} {result.reason}")
            return False
        cp = result.critical
        ratio = result.virtual_seconds / cp.seconds if cp and cp.seconds else float("inf")
        hours = sum(report.service_seconds(result).values()) / 3600
        describes = sum(n for k, n in result.api_calls.items() if k.startswith("personalize:Describe"))
        per_hour = describes / hours if hours else float("inf")
        print(
            f"reference pipeline (3 imports, 2 trainings in parallel, 1 campaign; durations x{SCALE:g}, "
            f"spread +-{JITTER:.0%}):"
        )
        print(f"  virtual deploy time   {report.hms(result.virtual_seconds)}")
        print(f"  critical path         {report.hms(cp.seconds if cp else 0)}  {cp.text() if cp else ''}")
        print(
            f"  ratio                 {ratio:.4f}   goal <= {RATIO_GOAL}  "
            f"{verdict(ratio <= RATIO_GOAL, quick)}"
        )
        print(
            f"  describe calls        {per_hour:.1f} per operation-hour ({describes} over {hours:.2f} h)   "
            f"goal <= {DESCRIBES_GOAL:g}  {verdict(per_hour <= DESCRIBES_GOAL, quick)}"
        )
        for line in _breakdown(result):
            print(f"    {line}")
        if quick:
            return True

        dev = synth(_dev_config(), root / "cdk-dev")
        before = load()
        dev_result, wall = deploy(dev, root / "state-dev")
        print("dev pipeline (shipped config), synth excluded:")
        print(
            f"  status                {dev_result.status}; virtual {report.hms(dev_result.virtual_seconds)}"
        )
        print(
            f"  real seconds          {wall:.1f} s (runner {dev_result.wall_seconds:.1f} s + world save)   "
            f"goal < {WALL_GOAL:g} s  {verdict(wall < WALL_GOAL, quick)}; {before} before, {load()} after"
        )
    return ratio <= RATIO_GOAL and per_hour <= DESCRIBES_GOAL and wall < WALL_GOAL and dev_result.ok


#: the waiter polls these (a WaitCondition per operation); the rest are short creates the Provider's
#: isComplete polls every queryInterval
LONG = {
    "DescribeDatasetImportJob": ("dataset-import-job",),
    "DescribeSolutionVersion": ("solution-version",),
    "DescribeCampaign": ("campaign", "campaign-update"),
}


def _breakdown(result: Any) -> list[str]:
    """Where the describes go: long operations (the waiter's schedule) vs short creates (the
    Provider's queryInterval)."""
    hours: dict[str, float] = {}
    for op in result.service_ops:
        end = op.end if op.end is not None else result.ended
        hours[op.kind] = hours.get(op.kind, 0.0) + (end - op.start) / 3600
    lines, short_calls = [], 0
    long_kinds = {k for kinds in LONG.values() for k in kinds}
    for key, calls in sorted(result.api_calls.items()):
        operation = key.split(":", 1)[-1]
        if not key.startswith("personalize:Describe"):
            continue
        if operation in LONG:
            h = sum(hours.get(k, 0.0) for k in LONG[operation])
            lines.append(
                f"{operation}: {calls} over {h:.2f} h = {calls / h if h else 0:.1f}/h (waiter schedule)"
            )
        else:
            short_calls += calls
    short_hours = sum(v for k, v in hours.items() if k not in long_kinds)
    lines.append(
        f"short creates (dataset group, schemas, datasets, solutions, filter, tracker): {short_calls} "
        f"over {short_hours:.2f} h (Provider queryInterval)"
    )
    return lines


def _dev_config() -> Any:
    from pipeline.config import load_config

    return load_config("dev")


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
