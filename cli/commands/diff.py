"""`pz diff -c env=NAME`: what deploying the stack would change against the last local deployment
(added, removed, modified and replaced resources, with the changed properties); synthesizes first
when cdk.out is missing or stale, as `cdk diff` does."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.console import Console
from cli.exitcodes import ExitCode
from cli.support import add_assembly_options, assembly_for, region_of
from pipeline.naming import stack_name

ACCOUNT = "123456789012"
#: As `cdk diff` colours them, on a terminal.
STYLES = {"Add": "green", "Remove": "red", "Modify": "yellow", "Replace": "red"}
EXAMPLES = """
  pz diff -c env=dev                         # after changing config, data or code
  pz diff -c env=dev --fail                  # exit 1 when there are differences (as cdk diff --fail)
  pz diff -c env=dev --app cdk.out --json    # {"stack", "deployed_status", "changes": [...]}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_assembly_options(parser)
    parser.add_argument("--fail", action="store_true", help="exit 1 when there are differences")
    parser.add_argument("--json", action="store_true", help="print the changes as one JSON object")


def run(args: argparse.Namespace) -> int:
    from local.runner.diffing import diff
    from local.runner.state import StackStore

    console = Console(args.no_color)
    artifact = assembly_for(args.env, args, console)
    state = StackStore(Path(args.state_dir)).load(stack_name(args.env))
    changes = diff(artifact.template, state, ACCOUNT, region_of(artifact))
    deployed = state is not None and state.status != "DELETE_COMPLETE"
    code = ExitCode.FAILED if changes and args.fail else ExitCode.OK
    if args.json:
        shown = {
            "stack": artifact.name,
            "deployed_status": state.status if deployed and state else None,
            "changes": [
                {"logical_id": c.logical_id, "type": c.type, "action": c.action,
                 "properties": c.properties, "note": c.note}
                for c in changes
            ],
        }
        print(json.dumps(shown, indent=1))
        return code
    if not deployed:
        console.print(
            f"Stack {artifact.name}: not deployed locally; a deploy creates {len(changes)} resources"
        )
    else:
        console.print(f"Stack {artifact.name} ({state.status if state else ''})")
    if not changes:
        console.print("There were no differences")
        return code
    if deployed:
        for change in changes:
            console.print(console.style(change.line(), STYLES[change.action]))
        console.print(f"\n{len(changes)} resource(s) change")
    return code
