"""`pz review` of a one-resource change on dev against one `cdk synth` of dev, same machine, same run.

The checkout: the repository's tracked files as they are in the working tree, copied into a scratch
git repository whose one commit is the base; `node_modules` and `.venv` are linked, as in a clone
that ran `make install`. The change, in that checkout's working tree: dev's first campaign's
`min_provisioned_tps` raised by one (one Custom::PersonalizeCampaign updated in place). The review
is the command itself, `python -m cli review -c env=dev --base HEAD --json --no-checkov`, in that
checkout (checkov is an optional tool run beside the simulation; not every machine has it). The
peer is `cdk synth -c env=dev` of the same checkout through the pinned CLI.

Warm checkout: one review first fills the review cache (the deployed base) and the file cache; then
rounds alternate the review and the synth (each round starts with the other one) and the ratio is
taken within a round; the median over RUNS rounds is judged. The cold review (no cache: the base
deployed too) is reported beside it. Each figure is wall time with the CPU time of the process tree
(it moves less with the load of a shared machine).

Goal: the warm review within 6x of one dev synth (and under 20 s on two cores, reported).
`python -m bench review`; `--quick` runs the cold review and one round, and judges no goal.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._report import load, median, verdict
from pipeline.naming import REPO_ROOT as ROOT

CDK = ROOT / "node_modules" / ".bin" / "cdk"
GOAL = 6.0
SECONDS_GOAL = 20.0
RUNS = 3
REVIEW = ["-m", "cli", "review", "-c", "env=dev", "--base", "HEAD", "--json", "--no-checkov"]
#: the one-resource change: the first campaign's provisioned TPS, one more
TPS = re.compile(r"^(min_provisioned_tps\s*=\s*)(\d+)", re.MULTILINE)


def _env() -> dict[str, str]:
    dropped = ("CDK_DEBUG", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in dropped}
    env["PATH"] = f"{CDK.parent}{os.pathsep}{env.get('PATH', '')}"
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    env["NO_COLOR"] = "1"
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def checkout(into: Path) -> Path:
    """A scratch git checkout of the working tree's tracked files (one commit), with the change."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    for linked in ("node_modules", ".venv"):
        (into / linked).symlink_to((ROOT / linked).resolve())
    _git(into, "init", "--quiet")
    _git(into, "add", "-A")
    _git(into, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "--quiet", "-m", "base")
    config = into / "config" / "dev.toml"
    text, count = TPS.subn(lambda m: f"{m.group(1)}{int(m.group(2)) + 1}", config.read_text(), count=1)
    if count != 1:
        raise RuntimeError("config/dev.toml has no min_provisioned_tps to change")
    config.write_text(text)
    return into


def _timed(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process tree, stdout) of one command."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)
    wall, used = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[-6:])}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return wall, used, done.stdout


def review(repo: Path, cache: bool = True) -> tuple[float, float, dict[str, object]]:
    """One review of the checkout's change; returns (wall, CPU, the review's JSON)."""
    args = [sys.executable, *REVIEW, *([] if cache else ["--no-cache"])]
    wall, cpu, out = _timed(args, repo)
    found = json.loads(out)
    return wall, cpu, found


def synth(repo: Path, outdir: Path) -> tuple[float, float]:
    args = [str(CDK), "synth", "--quiet", "--no-notices", "-o", str(outdir), "-c", "env=dev"]
    wall, cpu, _ = _timed(args, repo)
    return wall, cpu


def _changed(found: dict[str, object]) -> list[str]:
    resources = found.get("resources")
    rows = resources if isinstance(resources, list) else []
    return sorted(str(r.get("logical_id")) for r in rows
                  if isinstance(r, dict) and r.get("outcome") != "untouched")


def run(quick: bool = False) -> bool:
    if not CDK.exists():
        print("review: node_modules/.bin/cdk missing (make install)")
        return False
    before = load()
    with tempfile.TemporaryDirectory(prefix="bench-review-") as name:
        repo = checkout(Path(name) / "repo")
        cold_wall, cold_cpu, found = review(repo, cache=False)
        changed = _changed(found)
        print(f"pz review of a one-resource change on dev (min_provisioned_tps + 1); {before} before")
        print(f"  changed per the review: {', '.join(changed) or 'nothing'}")
        print(f"  cold (base deployed too, no cache): {cold_wall:.2f} s wall, {cold_cpu:.2f} s CPU")
        if not quick:
            review(repo)  # warms the file cache too (the cold review already filled the review cache)
        times: dict[str, list[tuple[float, float]]] = {"review": [], "synth": []}
        seconds: list[dict[str, float]] = []
        for index in range(1 if quick else RUNS):
            order = ["review", "synth"] if index % 2 else ["synth", "review"]
            for key in order:
                if key == "synth":
                    times[key].append(synth(repo, Path(name) / f"synth-{index}"))
                else:
                    wall, cpu, found = review(repo)
                    times[key].append((wall, cpu))
                    stages = found.get("seconds")
                    seconds.append(stages if isinstance(stages, dict) else {})
    return report(times, seconds, quick, before)


def report(times: dict[str, list[tuple[float, float]]], seconds: list[dict[str, float]], quick: bool,
           before: str) -> bool:
    """Print the figures and the ratio; True when the goal is met (a quick run judges none)."""
    ratios = [r[0] / s[0] for r, s in zip(times["review"], times["synth"], strict=True)]
    cpu_ratios = [r[1] / s[1] for r, s in zip(times["review"], times["synth"], strict=True)]
    warm = median([w for w, _ in times["review"]])
    print(f"  median of {len(ratios)} round(s), alternating; {load()} after ({before} before)")
    print(f"  warm review: {warm:.2f} s wall, {median([c for _, c in times['review']]):.2f} s CPU")
    print(f"  cdk synth -c env=dev: {median([w for w, _ in times['synth']]):.2f} s wall, "
          f"{median([c for _, c in times['synth']]):.2f} s CPU")
    if seconds:
        stages = {key: median([s.get(key, 0.0) for s in seconds]) for key in seconds[-1]}
        print("  the review's own stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    ratio = median(ratios)
    met = ratio <= GOAL
    print(f"  warm review / dev synth: {ratio:.2f}x (CPU {median(cpu_ratios):.2f}x); "
          f"under {SECONDS_GOAL:g} s: {'yes' if warm < SECONDS_GOAL else 'no'}")
    print(f"  goal: warm review within {GOAL:g}x of one dev synth: {ratio:.2f}x  {verdict(met, quick)}")
    return quick or met


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
