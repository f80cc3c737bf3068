"""`python -m local destroy -c env=<name>`: delete the local deployment in reverse dependency order
(DeletionPolicy Retain honoured), then show what is left in the local world for that environment."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.shared import show_left
from cli.support import add_common, region_for_env, runner_for, stack_name
from local.runner import report
from local.runner.inventory import leftovers
from local.runner.state import StackStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--quiet", action="store_true", help="no per-resource events, only the summary")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    name = stack_name(args.env)
    state = StackStore(Path(args.state_dir)).load(name)
    region = _region(state.stack_id, region_for_env(args.env)) if state else region_for_env(args.env)
    with runner_for(args, region, quiet=args.quiet or args.json) as (runner, world):
        result = runner.destroy(name)
        state = runner.state(name)
        with world.active():
            left = leftovers(world, args.env, runner.region, state)
    if args.json:
        print(json.dumps({"result": report.as_dict(result) if result else None, "left": left}, indent=1))
        return 0 if result is None or result.ok else 1
    if result is None:
        print(f"{name}: not deployed locally (nothing to destroy)")
    else:
        print()
        print(report.summary(result))
    print()
    print(show_left(left, args.env))
    return 0 if result is None or result.ok else 1


def _region(stack_id: str, default: str) -> str:
    parts = stack_id.split(":")
    return parts[3] if len(parts) > 4 and parts[3] else default
