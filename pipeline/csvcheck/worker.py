"""The second process for a big local file: `python -m pipeline.csvcheck.worker` checks a byte range
(the file's second half) through the numpy fast path and sends back its clean blocks' statistics and
where the blocks it could not prove clean are; the caller checks those with the exact path, after its
own half, so problems stay in file order.

A plain subprocess, not multiprocessing, so no caller's main module is re-imported (app.py, the local
import job and the command line have no __main__ guard to rely on). Needs numpy, as the path it runs.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.csvcheck.core import Checker, Problems, blocks, peak_rss_kb
from pipeline.csvcheck.fast_numpy import Keys, NumpyBlocks
from pipeline.naming import REPO_ROOT
from pipeline.schema import fields_of


class Limited:
    """A file read from `start` up to `end` (exclusive), with read(n) only, as core.blocks wants."""

    def __init__(self, path: Path, start: int, end: int):
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._file.seek(start)
        self._left = end - start

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._file.read(self._left if size < 0 else min(size, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


def split_point(path: Path, middle: int) -> int | None:
    """The first line start at or after `middle`, or None (no newline after it)."""
    with open(path, "rb") as stream:
        stream.seek(middle - 1)
        position = middle - 1
        while chunk := stream.read(1 << 16):
            found = chunk.find(b"\n")
            if found >= 0:
                return position + found + 1
            position += len(chunk)
    return None


def start_worker(path: Path, start: int, end: int, schema: dict[str, Any], dataset_type: str) -> Any:
    """`python -m pipeline.csvcheck.worker` on [start, end), with the schema on its stdin."""
    root = str(REPO_ROOT)
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    worker = subprocess.Popen(
        [sys.executable, "-m", "pipeline.csvcheck.worker", str(path), str(start), str(end), dataset_type],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert worker.stdin is not None
    worker.stdin.write(json.dumps(schema).encode())
    worker.stdin.close()
    return worker


def worker_result(worker: Any) -> dict[str, Any] | None:
    """The worker's counts, or None when it failed (the caller then checks that part itself)."""
    try:
        result: dict[str, Any] = pickle.load(worker.stdout)
    except Exception:  # any failure: the caller does the work itself
        result = {}
    worker.stdout.close()
    if worker.wait() != 0 or not result:
        return None
    return result


def merge(into: NumpyBlocks, result: dict[str, Any]) -> None:
    """Add a worker's clean-block statistics to this process's."""
    c = into.c
    c.rows += result["rows"]
    if result["ts"] is not None:
        c.timestamps(*result["ts"])
    for name in ("users", "items", "events"):
        target: Keys = getattr(into, name)
        for words, pair in result[name].items():
            target.pend(words, pair)


def main(argv: list[str]) -> int:
    """Check [start, end) of a file: clean blocks' statistics, and where the blocks that are not are."""
    path, start, end, dataset_type = Path(argv[0]), int(argv[1]), int(argv[2]), argv[3]
    schema = json.loads(sys.stdin.buffer.read())
    checker = Checker(fields_of(schema), dataset_type, Problems(str(path), 0))
    numpy_blocks = NumpyBlocks(checker)
    stream = Limited(path, start, end)
    failed: list[tuple[int, int, int]] = []
    offset, line, quotes = start, 0, False
    try:
        for block in blocks(stream, b""):
            quotes = quotes or b'"' in block
            lines = numpy_blocks.fast(block)
            if not lines:
                lines = block.count(b"\n")
                failed.append((offset, len(block), line))
            offset += len(block)
            line += lines
    finally:
        stream.close()
    ts = None if checker.ts_min is None or checker.ts_max is None else (checker.ts_min, checker.ts_max)
    result = {
        "rows": checker.rows,
        "ts": ts,
        "users": numpy_blocks.users.merged(),
        "items": numpy_blocks.items.merged(),
        "events": numpy_blocks.events.merged(),
        "failed": failed,
        "lines": line,
        "end": offset,
        "quotes": quotes,
        "peak_kb": peak_rss_kb(),
    }
    pickle.dump(result, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
