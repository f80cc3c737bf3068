"""`pz destroy -c env=NAME`: delete the local deployment in reverse dependency order (DeletionPolicy
Retain honoured), then show what is left in the local world for that environment.

Unlike `cdk destroy` it does not synthesize: the deployed stack's state holds its template and
region, so a working tree mid-edit (or a config that no longer validates) never stands between a
user and tearing down what bills."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.console import Console
from cli.exitcodes import ExitCode
from cli.shared import show_left
from cli.support import add_state_dir, region_for_env, runner_for
from pipeline.naming import stack_name

EXAMPLES = """
  pz destroy -c env=dev                      # events, then what is left (dev: nothing)
  pz destroy -c env=prod                     # prod keeps its retained data bucket, listed at the end
  pz destroy -c env=dev --json               # {"result": {...} or null, "left": {...}}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)
    parser.add_argument("--quiet", action="store_true", help="no per-resource events, only the summary")
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON (events, if any, go to stderr)"
    )


def run(args: argparse.Namespace) -> int:
    from local.runner import report
    from local.runner.inventory import leftovers
    from local.runner.state import StackStore

    console = Console(args.no_color, events_to_stderr=args.json)
    name = stack_name(args.env)
    state = StackStore(Path(args.state_dir)).load(name)
    region = _region(state.stack_id) if state else None
    with runner_for(args, region or region_for_env(args.env), console, quiet=args.quiet) as (runner, world):
        result = runner.destroy(name)
        state = runner.state(name)
        with world.active():
            left = leftovers(world, args.env, runner.region, state, stack=name)
    code = ExitCode.OK if result is None or result.ok else ExitCode.FAILED
    if args.json:
        done = report.as_dict(result) | {"reason": result.reason} if result else None
        shown = {"result": done, "left": left}
        print(json.dumps(shown, indent=1, default=str))
        return code
    if result is None:
        console.print(f"{name}: not deployed locally (nothing to destroy)")
    else:
        console.print()
        console.print(report.summary(result))
    console.print()
    console.print(show_left(left, args.env))
    return code


def _region(stack_id: str) -> str | None:
    """The region in the stack's id (arn:aws:cloudformation:<region>:...)."""
    parts = stack_id.split(":")
    return parts[3] if len(parts) > 4 and parts[3] else None
