"""`python -m local diff -c env=<name>`: what deploying cdk.out would change against the last local
deployment (added, removed, modified and replaced resources, with the changed properties)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.support import add_common, assembly_for, region_of, stack_name
from local.runner.diffing import diff
from local.runner.state import StackStore

ACCOUNT = "123456789012"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--synth", action="store_true", help="run `npx cdk synth` first when needed")
    parser.add_argument("--fail", action="store_true", help="exit 1 when there are differences")


def run(args: argparse.Namespace) -> int:
    artifact = assembly_for(args.env, args.cdk_out, args.synth)
    state = StackStore(Path(args.state_dir)).load(stack_name(args.env))
    changes = diff(artifact.template, state, ACCOUNT, region_of(artifact))
    if state is None or state.status == "DELETE_COMPLETE":
        print(f"Stack {artifact.name}: not deployed locally; a deploy creates {len(changes)} resources")
    else:
        print(f"Stack {artifact.name} ({state.status})")
    if not changes:
        print("There were no differences")
        return 0
    if state is not None and state.status != "DELETE_COMPLETE":
        for change in changes:
            print(change.line())
        print(f"\n{len(changes)} resource(s) change")
    return 1 if args.fail else 0
