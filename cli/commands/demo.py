"""`python -m local demo -c env=dev`: the main job offline. Synthesize (`npx cdk synth`), deploy to
the local world, ask each campaign (recommendations for a sample user, similar items for a sample
item, a personalized ranking of a short list), show the solution metrics, destroy, show what is left.
Installing is make's job (`make demo`); this command installs nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.shared import show_left
from cli.support import add_common, assembly_for, region_of, run_synth, runner_for
from local.runner import report
from local.runner.engine import StackError
from local.runner.inventory import leftovers
from pipeline.config import load_config
from recs import Recommender, RecsError
from recs.render import table
from recs.stack import DeployedStack


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--no-synth", action="store_true", help="use cdk.out as it is (must be for this env)")
    parser.add_argument("--keep", action="store_true", help="do not destroy at the end")
    parser.add_argument("--events", action="store_true", help="print every resource event")


def run(args: argparse.Namespace) -> int:
    if not args.no_synth:
        run_synth(args.env, args.cdk_out)
    artifact = assembly_for(args.env, args.cdk_out, synth=False)
    region = region_of(artifact)
    timeline = Path(args.state_dir) / f"{args.env}-timeline.md"
    banner(f"deploy {artifact.name} to the local world (virtual clock)")
    with runner_for(args, region, quiet=not args.events) as (runner, world):
        try:
            result = runner.deploy(artifact)
        except StackError as error:
            print(f"deploy failed before it started: {error}")
            return 1
        timeline.parent.mkdir(parents=True, exist_ok=True)
        timeline.write_text(report.timeline_markdown(result, f"{artifact.name} local deploy timeline"))
        print(report.summary(result, str(timeline)))
        if not result.ok:
            return 1
        state = runner.state(artifact.name)
        outputs = {key: str(value) for key, value in (state.outputs if state else {}).items()}
        stack = DeployedStack(args.env, artifact.name, region, state.status if state else "", outputs)
        rec = Recommender(stack, config=load_config(args.env), activate=world.active)
        fields = rec.catalog.display_fields
        try:
            order = {"user": 0, "related-items": 1, "ranking": 2}
            for query in sorted(rec.campaigns().values(), key=lambda q: (order[q.kind], q.name)):
                if query.kind == "ranking":
                    banner(
                        f"{query.name}: personalized ranking of {', '.join(query.sample_items)} "
                        f"for user {query.sample_user}"
                    )
                    served = rec.rank(query.name, query.sample_user or "", query.sample_items)
                elif query.kind == "related-items":
                    banner(f"{query.name}: items similar to {query.sample_item}")
                    served = rec.recommend(query.name, item_id=query.sample_item, num=10)
                else:
                    banner(f"{query.name}: recommendations for user {query.sample_user}")
                    served = rec.recommend(query.name, user_id=query.sample_user, num=10)
                print(table(served.items, fields))
            banner("solution metrics (holdout evaluation of each trained version)")
            for solution, metrics in rec.solution_metrics().items():
                shown = ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items())[:6])
                print(f"  {solution}: {shown}")
        except RecsError as error:
            print(f"demo: {error}")
            return 1
        if args.keep:
            print("\n--keep: the stack stays deployed (python -m local destroy -c env=... removes it)")
            return 0
        banner(f"destroy {artifact.name}")
        gone = runner.destroy(artifact.name)
        if gone is not None:
            print(report.summary(gone))
        state = runner.state(artifact.name)
        with world.active():
            left = leftovers(world, args.env, region, state)
        print(show_left(left, args.env))
        return 0 if gone is None or gone.ok else 1


def banner(text: str) -> None:
    print(f"\n== {text}", flush=True)
