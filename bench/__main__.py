"""Run every benchmark module in bench/ (each exposes `run() -> bool`, True when its goals are met)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main(names: list[str]) -> int:
    modules = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    chosen = [m for m in modules if not names or m in names]
    failed = []
    for name in chosen:
        print(f"== bench {name}", flush=True)
        if not importlib.import_module(f"bench.{name}").run():
            failed.append(name)
    print(f"benchmarks: {len(chosen) - len(failed)} met their goals, {len(failed)} missed: {failed}")
    return 1 if failed else 0


raise SystemExit(main(sys.argv[1:]))
