"""Validation speed and memory on a generated ~1 GB interactions file, beside `wc -l` on the same file.

Goals (issue 2): check_csv at least a third of `wc -l`'s throughput, peak memory under 200 MB.
The validation runs in a fresh subprocess that reports its own peak resident memory as VmHWM
(/proc/self/status). Not ru_maxrss: Linux carries the parent's high-water mark across fork+exec into
the child's ru_maxrss, so a child of a big parent (`make bench` runs the synth and deploy benchmarks
in the same process first) reported the parent's peak (one run: 304 MB). A big file is checked by two
processes; the worker's own peak is reported too, and the goal applies to their sum.
`python -m bench validation` (or `make bench`); BENCH_MB=<size> changes the file size.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.naming import REPO_ROOT as ROOT

OUT = ROOT / "bench" / "out"
TARGET_MB = int(os.environ.get("BENCH_MB", "1024"))
GOAL_RATIO = 1 / 3
GOAL_RSS_MB = 200
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


def make_file(path: Path, megabytes: int) -> Path:
    """A realistic-shaped interactions file: 200k users, 50k items, six months of epoch seconds.
    Built from 16 distinct random blocks repeated (generation stays a few seconds); kept between runs."""
    target = megabytes * 1024 * 1024
    if path.is_file() and abs(path.stat().st_size - target) < 64 << 20:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    events = [b"view"] * 6 + [b"click"] * 3 + [b"purchase"]
    devices = [b"web", b"ios", b"android", b""]
    blocks = []
    for _ in range(16):
        rows = [
            b"u%06d,i%05d,%d,%s,%s\n"
            % (
                int(rng.paretovariate(1.2) * 1000) % 200000,
                int(rng.paretovariate(1.1) * 50) % 50000,
                1767225600 + rng.randrange(15552000),
                rng.choice(events),
                rng.choice(devices),
            )
            for _ in range(100_000)
        ]
        blocks.append(b"".join(rows))
    written = 0
    with open(path, "wb") as out:
        out.write(HEADER)
        while written < target:
            block = blocks[(written // len(blocks[0])) % len(blocks)]
            out.write(block)
            written += len(block)
    return path


def time_wc(path: Path) -> float:
    subprocess.run(["wc", "-l", str(path)], check=True, capture_output=True)  # warm the page cache
    start = time.perf_counter()
    subprocess.run(["wc", "-l", str(path)], check=True, capture_output=True)
    return time.perf_counter() - start


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from pipeline.csvcheck import check_csv, peak_rss_kb
schema = json.loads(sys.argv[2])
start = time.perf_counter()
result = check_csv(Path(sys.argv[1]), schema, "interactions", file=sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rows": result.rows, "problems": [str(p) for p in result.problems],
                  "users": result.stats.unique_users, "items": result.stats.unique_items,
                  "peak_kb": peak_rss_kb(), "worker_peak_kb": result.worker_peak_kb or 0,
                  "cpu": [sum(resource.getrusage(who)[:2])
                          for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]}))
"""


def time_validation(path: Path) -> dict[str, Any]:
    schema = SCHEMA
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), json.dumps(schema)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def floors(path: Path) -> list[tuple[str, float]]:
    """What single passes over the same bytes cost here, as a ceiling for any validator written in
    Python: reading alone, counting newlines (`wc -l` in Python), and with numpy only locating the
    fields (newline and comma positions), which any check of values must do first."""
    size_mb = path.stat().st_size / 1e6

    def rate(step: Callable[[bytes], object]) -> float:
        start = time.perf_counter()
        with open(path, "rb") as stream:
            while block := stream.read(2 << 20):
                step(block)
        return size_mb / (time.perf_counter() - start)

    out = [("read 2 MB blocks, nothing else", rate(lambda block: None))]
    out.append(("bytes.count(newline) per block", rate(lambda block: block.count(b"\n"))))
    try:
        import numpy as np
    except ImportError:
        return out

    def boundaries(block: bytes) -> None:
        array = np.frombuffer(block, dtype=np.uint8)
        np.flatnonzero(array == 10)
        np.flatnonzero(array == 44)

    out.append(("numpy: field boundaries only (1 core)", rate(boundaries)))
    return out


def run() -> bool:
    path = make_file(OUT / f"interactions-{TARGET_MB}mb.csv", TARGET_MB)
    size_mb = path.stat().st_size / 1e6
    wc_seconds = time_wc(path)
    measured = time_validation(path)
    seconds = float(measured["seconds"])
    main_mb = int(measured["peak_kb"]) / 1024
    worker_mb = int(measured["worker_peak_kb"]) / 1024
    rss_mb = main_mb + worker_mb
    wc_rate, check_rate = size_mb / wc_seconds, size_mb / seconds
    ratio = check_rate / wc_rate
    print(
        f"file: {path} ({size_mb:,.0f} MB, {measured['rows']:,} rows, {measured['users']:,} users, "
        f"{measured['items']:,} items)"
    )
    print(f"wc -l:     {wc_seconds:6.2f} s  {wc_rate:8,.0f} MB/s")
    print(
        f"check_csv: {seconds:6.2f} s  {check_rate:8,.0f} MB/s  (ratio {ratio:.3f}; goal >= {GOAL_RATIO:.3f})"
    )
    cpu_main, cpu_worker = (float(x) for x in measured["cpu"])
    print(
        f"           CPU {cpu_main:.2f} s + worker {cpu_worker:.2f} s: "
        f"{size_mb / (cpu_main + cpu_worker):,.0f} MB per CPU-second (less sensitive to a busy machine)"
    )
    for name, mb_per_s in floors(path):
        print(f"  floor: {name:40s} {mb_per_s:8,.0f} MB/s  (ratio {mb_per_s / wc_rate:.3f})")
    print(
        f"peak memory: {rss_mb:,.0f} MB (validation process {main_mb:,.0f} MB + worker process "
        f"{worker_mb:,.0f} MB; goal < {GOAL_RSS_MB} MB)"
    )
    if measured["problems"]:
        print(f"unexpected problems: {measured['problems']}")
        return False
    met = ratio >= GOAL_RATIO and rss_mb < GOAL_RSS_MB
    if not met:
        print(
            "goal missed: "
            + ", ".join(
                m for m, bad in (("speed", ratio < GOAL_RATIO), ("memory", rss_mb >= GOAL_RSS_MB)) if bad
            )
        )
    return met
