"""Run the benchmark modules in bench/ (each exposes `run(quick) -> bool`, True when its goals are met).

`python -m bench [--quick] [NAME ...]`: every module, or the ones named. `--quick` runs each
measurement once, on small inputs where a module has them: a smoke check for the test suite that
judges no goal (the figures of one run on a busy machine prove nothing). Exit 1 when a goal is
missed (or, quick or not, when a benchmark could not compare: its tools disagreed or failed).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import time

import bench


def main(argv: list[str] | None = None) -> int:
    modules = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(modules)}")
    parser.add_argument("--quick", action="store_true", help="each measurement once; no goal checked")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(modules))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; expected some of {modules}")
    chosen = [m for m in modules if not args.names or m in args.names]
    failed = []
    for name in chosen:
        print(f"== bench {name}{' (quick: each measurement once, no goal checked)' if args.quick else ''}")
        started = time.perf_counter()
        if not importlib.import_module(f"bench.{name}").run(quick=args.quick):
            failed.append(name)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    what = "ran" if args.quick else "met their goals"
    print(f"benchmarks: {len(chosen) - len(failed)} {what}, {len(failed)} failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
