"""Validation speed and memory on a generated ~1 GB interactions file, beside the tools a data
engineer would otherwise run before an import: polars and pyarrow's CSV reader doing the same checks
(bench/_peers.py says which), on the same file, in the same run.

Goals: check_csv at least 2x as fast as the faster of the two, and its peak memory under 200 MB
(the peers' peaks are printed beside it). Each tool runs in a fresh process (bench._peers) that
times itself from importing its library to its answer and reports its own peak resident memory as
VmHWM (/proc/self/status; not ru_maxrss, which Linux carries from a parent into its child across
fork+exec). check_csv checks a big file with two processes: the worker's peak is added.
Rounds alternate the tools (each round starts with the next one), the page cache is warmed first,
and every ratio is taken within a round, so a neighbour's burst on this shared machine hits the
validator and its peers alike; the median over RUNS rounds is printed and judged. The tools must
agree on the statistics (rows, users, users with 2+ interactions, items, events per type, first and
last timestamp), or the comparison is void and the benchmark fails.

`python -m bench validation` (or `make bench`); BENCH_MB=<size> changes the file size;
`--quick` runs each tool once on a small file (a smoke check, no goal judged).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._report import load, median, verdict
from pipeline.naming import REPO_ROOT as ROOT

OUT = ROOT / "bench" / "out"
TARGET_MB = int(os.environ.get("BENCH_MB", "1024"))
#: A quick run's file: past csvcheck's numpy threshold (8 MB), so the big-file path runs too.
QUICK_MB = 12
RUNS = 3
GOAL_SPEEDUP = 2.0
GOAL_RSS_MB = 200
TOOLS = ("check_csv", "polars", "pyarrow")
PEERS = TOOLS[1:]
#: What every tool must report alike on the clean file.
AGREED = ("rows", "users", "users_with_2", "items", "events", "ts_min", "ts_max")
HEADER = b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\n"
SCHEMA = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_TYPE", "type": "string"},
        {"name": "DEVICE", "type": ["null", "string"], "categorical": True},
    ],
}


def make_file(path: Path, megabytes: int, blocks: int = 16, rows: int = 100_000) -> Path:
    """A realistic-shaped interactions file: 200k users, 50k items, six months of epoch seconds.
    Built from `blocks` distinct random blocks of `rows` rows repeated (generation stays a few
    seconds); kept between runs."""
    target = megabytes * 1024 * 1024
    if path.is_file() and abs(path.stat().st_size - target) < 64 << 20:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    events = [b"view"] * 6 + [b"click"] * 3 + [b"purchase"]
    devices = [b"web", b"ios", b"android", b""]
    parts = []
    for _ in range(blocks):
        lines = [
            b"u%06d,i%05d,%d,%s,%s\n"
            % (
                int(rng.paretovariate(1.2) * 1000) % 200000,
                int(rng.paretovariate(1.1) * 50) % 50000,
                1767225600 + rng.randrange(15552000),
                rng.choice(events),
                rng.choice(devices),
            )
            for _ in range(rows)
        ]
        parts.append(b"".join(lines))
    written = 0
    with open(path, "wb") as out:
        out.write(HEADER)
        while written < target:
            block = parts[(written // len(parts[0])) % len(parts)]
            out.write(block)
            written += len(block)
    return path


def measure(tool: str, path: Path) -> dict[str, Any]:
    """One tool on the file, in a fresh process (bench._peers)."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench._peers", tool, str(path), json.dumps(SCHEMA)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def rounds(path: Path, runs: int) -> dict[str, list[dict[str, Any]]]:
    """Every tool once per round; each round starts with the next tool, so none always goes first."""
    with open(path, "rb") as stream:  # warm the page cache: no tool pays for the disk
        while stream.read(16 << 20):
            pass
    out: dict[str, list[dict[str, Any]]] = {tool: [] for tool in TOOLS}
    for index in range(runs):
        for tool in TOOLS[index % len(TOOLS) :] + TOOLS[: index % len(TOOLS)]:
            out[tool].append(measure(tool, path))
    return out


def disagreements(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Where a tool found a problem in the clean file, or its statistics differ from check_csv's."""
    reference = results["check_csv"][0]["summary"]
    found = []
    for tool, runs in results.items():
        for run in runs:
            summary = run["summary"]
            if summary["problems"]:
                found.append(f"{tool}: unexpected problems {summary['problems'][:3]}")
            differ = {
                k: (summary.get(k), reference.get(k)) for k in AGREED if summary.get(k) != reference.get(k)
            }
            if differ:
                found.append(f"{tool}: differs from check_csv (theirs, ours): {differ}")
    return found


def run(quick: bool = False) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        if quick:
            path = make_file(Path(tmp) / "interactions.csv", QUICK_MB, blocks=2, rows=20_000)
        else:
            path = make_file(OUT / f"interactions-{TARGET_MB}mb.csv", TARGET_MB)
        size_mb = path.stat().st_size / 1e6
        before = load()
        results = rounds(path, 1 if quick else RUNS)
        after = load()
    print(f"file: {path.name} ({size_mb:,.0f} MB); {before} before, {after} after")
    return judge(results, size_mb, quick)


def judge(results: dict[str, list[dict[str, Any]]], size_mb: float, quick: bool) -> bool:
    """Print every tool's figures and check_csv's ratio to each; True when the goals are met (a quick
    run judges none) and the tools agree."""
    problems = disagreements(results)
    for line in problems:
        print(f"  {line}")
    if problems:
        print("the tools do not agree on the same file: no comparison")
        return False
    ours = results["check_csv"]
    runs = len(ours)
    stats = ours[0]["summary"]
    print(
        f"  {stats['rows']:,} rows, {stats['users']:,} users ({stats['users_with_2']:,} with 2+ "
        f"interactions), {stats['items']:,} items; median of {runs} round(s), tools alternating"
    )

    def within_rounds(peer: list[dict[str, Any]], key: str) -> float:
        """Median over the rounds of the peer's figure over check_csv's in the same round."""
        return median([p[key] / c[key] for p, c in zip(peer, ours, strict=True)])

    print(f"  {'tool':10s} {'wall s':>7s} {'MB/s':>7s} {'CPU s':>6s} {'peak MB':>8s}   check_csv is")
    for tool in TOOLS:
        seconds = median([r["seconds"] for r in results[tool]])
        cpu = median([r["cpu"] for r in results[tool]])
        peak = max(r["peak_kb"] for r in results[tool]) / 1024
        beside = (
            "(the validator)"
            if tool == "check_csv"
            else f"{within_rounds(results[tool], 'seconds'):.2f}x as fast, "
            f"{within_rounds(results[tool], 'cpu'):.2f}x less CPU"
        )
        print(f"  {tool:10s} {seconds:7.2f} {size_mb / seconds:7,.0f} {cpu:6.2f} {peak:8,.0f}   {beside}")
    # Per round: the faster peer's time over check_csv's.
    speedup = median(
        [min(results[peer][i]["seconds"] for peer in PEERS) / ours[i]["seconds"] for i in range(runs)]
    )
    rss_mb = max(r["peak_kb"] for r in ours) / 1024
    worker_mb = max(r["worker_peak_kb"] for r in ours) / 1024
    speed_met, memory_met = speedup >= GOAL_SPEEDUP, rss_mb < GOAL_RSS_MB
    print(
        f"  speed: check_csv {speedup:.2f}x as fast as the faster peer (median of the rounds' ratios); "
        f"goal >= {GOAL_SPEEDUP:g}x  {verdict(speed_met, quick)}"
    )
    peers_peak = ", ".join(
        f"{peer} {max(r['peak_kb'] for r in results[peer]) / 1024:,.0f} MB" for peer in PEERS
    )
    print(
        f"  memory: check_csv peak {rss_mb:,.0f} MB (its worker's {worker_mb:,.0f} MB included; "
        f"{peers_peak}); goal < {GOAL_RSS_MB} MB  {verdict(memory_met, quick)}"
    )
    return quick or (speed_met and memory_met)
