"""`pz review -c env=NAME --base REF`: what merging the working tree would do to the deployed
pipeline, found by doing it on the local world: the merge base of REF and HEAD and the working tree
are synthesized, the base deployed to a scratch world and updated to the head on the virtual clock.
Markdown for a pull request (or --json); exit 3 when a --fail-on category is found. The work is
the review package's; this is its command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.console import Console
from cli.exitcodes import ExitCode, OperationFailed, UserError
from pipeline.naming import REPO_ROOT

EXAMPLES = """
  pz review -c env=dev --base main                   # Markdown for the pull request, on stdout
  pz review -c env=prod --base origin/main --fail-on campaign-replaced,data-deleted
  pz review -c env=dev --base main --json | jq .warnings
  pz review -c env=dev --base v1.2 --exact-base      # the ref itself, not its merge base with HEAD
  make review BASE=main ENV=prod                     # the same through make
  pz review -c env=dev --base-app base.out --app cdk.out   # two cloud assemblies already synthesized
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from review.kinds import categories

    parser.add_argument("--base", default="main", metavar="REF",
                        help="the git ref to compare with: its merge base with HEAD (default: main)")
    parser.add_argument("--exact-base", action="store_true",
                        help="review against REF itself rather than its merge base with HEAD")
    parser.add_argument("--base-app", type=Path, default=None, metavar="DIR",
                        help="the base as a synthesized cloud assembly (instead of --base)")
    parser.add_argument("--app", type=Path, default=None, metavar="DIR",
                        help="the head as a synthesized cloud assembly (default: the working tree, "
                        "synthesized)")
    parser.add_argument("--json", action="store_true", help="print the review as one JSON object")
    parser.add_argument("-o", "--output", type=Path, default=None, metavar="FILE",
                        help="also write the Markdown to FILE (e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument(
        "--fail-on", default="", metavar="CATEGORIES",
        help="comma-separated categories that make the command exit 3 (docs/review.md): "
        + ", ".join(sorted(categories())),
    )
    parser.add_argument("--pricing", type=Path, default=None, metavar="FILE",
                        help="a TOML file overriding review/pricing.toml (per region)")
    production = parser.add_mutually_exclusive_group()
    production.add_argument("--production", dest="production", action="store_true", default=None,
                            help="treat the environment as production (default: named prod, or it "
                            "retains data)")
    production.add_argument("--no-production", dest="production", action="store_false")
    parser.add_argument("--no-checkov", action="store_true", help="skip checkov (it takes seconds)")
    parser.add_argument("--no-cache", action="store_true",
                        help="deploy the base afresh even when it was deployed for an earlier review")
    parser.add_argument("--cache-dir", type=Path, default=REPO_ROOT / ".local" / "review-cache",
                        metavar="DIR", help="where deployed bases are kept (default: .local/review-cache)")


def fail_on(value: str) -> list[str]:
    from review.kinds import categories

    wanted = [c.strip() for c in value.split(",") if c.strip()]
    unknown = sorted(set(wanted) - set(categories()))
    if unknown:
        noun = "category" if len(unknown) == 1 else "categories"
        raise UserError(f"--fail-on: unknown {noun} {', '.join(unknown)}; "
                        f"expected some of: {', '.join(sorted(categories()))}")
    return wanted


def run(args: argparse.Namespace) -> int:
    import tempfile

    from local.runner import AssemblyError
    from review import Request, SourceError
    from review import run as run_review
    from review.cost import PricingError
    from review.render import as_json, markdown
    from review.simulate import SimulationError
    from review.sources import Tree, export, resolve, working_tree

    console = Console(args.no_color)
    wanted = fail_on(args.fail_on)
    if args.pricing is not None and not args.pricing.is_file():
        raise UserError(f"--pricing {args.pricing}: no such file")
    for option, folder in (("--base-app", args.base_app), ("--app", args.app)):
        if folder is not None and not (folder / "manifest.json").is_file():
            raise UserError(f"{option} {folder}: not a cloud assembly (no manifest.json)")
    if args.app is None and not (REPO_ROOT / "config" / f"{args.env}.toml").is_file():
        raise UserError(f"no config/{args.env}.toml in the working tree")
    with tempfile.TemporaryDirectory(prefix="pz-review-base-") as tmp:
        try:
            base: Path | Tree
            if args.base_app is not None:
                base = args.base_app
            else:
                commit, label = resolve(args.base, merge_base=not args.exact_base)
                base = export(commit, label, Path(tmp) / "tree")
            request = Request(
                env=args.env, base=base, head=args.app or working_tree(), production=args.production,
                pricing=args.pricing, cache=None if args.no_cache else args.cache_dir,
                checkov=not args.no_checkov,
            )
            review = run_review(request, step=console.progress)
        except SourceError as error:
            raise (UserError if error.user_error else OperationFailed)(str(error)) from None
        except SimulationError as error:
            raise OperationFailed(str(error)) from None
        except AssemblyError as error:  # an assembly without the environment's stack
            raise UserError(f"{error} (synthesized for -c env={args.env}?)") from None
        except PricingError as error:
            raise UserError(str(error)) from None
    flagged = [c for c in wanted if c in review.categories]
    text = markdown(review)
    if args.output is not None:
        with open(args.output, "a", encoding="utf-8") as stream:
            stream.write(text)
    if args.json:
        print(json.dumps(as_json(review, wanted, flagged), indent=1, default=str))
    else:
        sys.stdout.write(text)
    if flagged:
        console.warn(f"--fail-on: found {', '.join(flagged)}")
        return ExitCode.FLAGGED
    return ExitCode.OK
