"""`pz demo -c env=dev`: the main job offline, in five numbered steps. Synthesize (when cdk.out is
missing or stale, as deploy does), deploy to the local world, ask each campaign (recommendations for
a sample user, similar items for a sample item, a personalized ranking of a short list), show the
solution metrics, destroy and show what is left. Installing is make's job (`make demo`); this
command installs nothing."""

from __future__ import annotations

import argparse
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from cli.console import Console
from cli.exitcodes import CommandError, ExitCode, OperationFailed
from cli.shared import show_left
from cli.support import add_assembly_options, assembly_for, region_of, runner_for, synth_reason

STEPS = 5
EXAMPLES = """
  pz demo                                    # dev: synth, deploy, recommend, metrics, destroy
  pz demo -c env=prod --keep                 # leave the stack deployed (pz destroy -c env=prod)
  pz demo --events                           # every resource event of the deploy and destroy
  make demo                                  # installs what is missing first, then this
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_assembly_options(parser)
    parser.add_argument("--keep", action="store_true", help="do not destroy at the end")
    parser.add_argument("--events", action="store_true", help="print every resource event")


def run(args: argparse.Namespace) -> int:
    from local.runner import report
    from local.runner.engine import StackError
    from local.runner.inventory import leftovers
    from pipeline.config import load_config
    from recs import Recommender, RecsError
    from recs.render import table
    from recs.stack import DeployedStack

    console = Console(args.no_color)
    if args.app is not None:
        console.step(1, STEPS, f"synth: skipped, deploying {args.app} as it is (--app)")
    elif synth_reason(args.env, args.output) is None:
        console.step(1, STEPS, f"synth: {args.output} is current for env {args.env}")
    else:
        console.step(1, STEPS, "synth")
    artifact = assembly_for(args.env, args, console)
    region = region_of(artifact)
    timeline = Path(args.state_dir) / f"{args.env}-timeline.md"
    console.step(2, STEPS, f"deploy {artifact.name} to the local world (virtual clock)")
    with runner_for(args, region, console, quiet=not args.events) as (runner, world):
        with _progress(console, f"deploying {artifact.name}", args.events):
            try:
                result = runner.deploy(artifact)
            except StackError as error:
                raise OperationFailed(f"deploy failed before it started: {error}") from error
        timeline.parent.mkdir(parents=True, exist_ok=True)
        timeline.write_text(report.timeline_markdown(result, f"{artifact.name} local deploy timeline"))
        console.print(report.summary(result, str(timeline)))
        if not result.ok:
            return ExitCode.FAILED
        state = runner.state(artifact.name)
        outputs = {key: str(value) for key, value in (state.outputs if state else {}).items()}
        stack = DeployedStack(args.env, artifact.name, region, state.status if state else "", outputs)
        rec = Recommender(stack, config=load_config(args.env), activate=world.active)
        fields = rec.catalog.display_fields
        console.step(3, STEPS, "recommend: ask each campaign")
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
            console.step(4, STEPS, "solution metrics (holdout evaluation of each trained version)")
            for solution, metrics in rec.solution_metrics().items():
                shown = ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items())[:6])
                print(f"  {solution}: {shown}")
        except RecsError as error:
            raise CommandError(str(error), ExitCode(error.exit_code)) from error
        if args.keep:
            console.step(5, STEPS, f"destroy: skipped (--keep); `pz destroy -c env={args.env}` removes it")
            return ExitCode.OK
        console.step(5, STEPS, f"destroy {artifact.name}")
        with _progress(console, f"destroying {artifact.name}", args.events):
            gone = runner.destroy(artifact.name)
        if gone is not None:
            console.print(report.summary(gone))
        state = runner.state(artifact.name)
        with world.active():
            left = leftovers(world, args.env, region, state, stack=artifact.name)
        console.print(show_left(left, args.env))
        return ExitCode.OK if gone is None or gone.ok else ExitCode.FAILED


def _progress(console: Console, text: str, events: bool) -> AbstractContextManager[None]:
    """A spinner, unless the events are shown (they are the progress then)."""
    return nullcontext() if events else console.progress(text)


def banner(text: str) -> None:
    print(f"\n== {text}", flush=True)
