"""`pz delete-users -c env=dev USER_ID ... | --file ids.csv`: delete users and their data from the
deployed dataset group with a Personalize data deletion job (recs/deletion.py), wait for it with
progress, and report its outcome and what it does not cover (docs/data-deletion.md).

Exit status: 0 the job COMPLETED (or was started, with --no-wait); 1 the job FAILED or the service
failed; 2 something to fix first: the ids (every problem with file, line and value), arguments, the
stack not deployed, credentials or permissions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.console import Console
from cli.exitcodes import CommandError, ExitCode, UserError
from pipeline.deletion import UserIds, ids_from_arguments, ids_from_file
from pipeline.naming import REPO_ROOT
from pipeline.problems import ProblemReport
from recs.deletion import NOT_COVERED, POLL_SECONDS, DataDeletion, DeletionJob
from recs.errors import RecsError

EXAMPLES = """
  pz delete-users -c env=dev u0001 u0002             # these users, from the local deploy
  pz delete-users -c env=dev --file forget.csv        # a file: a USER_ID header, one id per line
  pz delete-users -c env=prod --target aws --file forget.csv --json
  pz delete-users -c env=prod --target aws --file forget.csv --no-wait   # start it, do not wait
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user_ids", nargs="*", metavar="USER_ID", help="user ids to delete")
    parser.add_argument(
        "--file", type=Path, metavar="CSV",
        help="the users to delete: a CSV with a USER_ID header and one id per line (the data deletion "
        "job's input format)",
    )
    parser.add_argument("--json", action="store_true", help="print the outcome as one JSON object")
    parser.add_argument(
        "--no-wait", action="store_true",
        help="start the job and print its ARN without waiting (the service may take up to a day)",
    )
    parser.add_argument(
        "--poll-seconds", type=float, default=POLL_SECONDS, metavar="S",
        help=f"seconds between DescribeDataDeletionJob calls while waiting (default {POLL_SECONDS:.0f})",
    )
    parser.add_argument(
        "--target", choices=("local", "aws"), default="local",
        help="local: the stack `pz deploy` made (default); aws: the stack `cdk deploy` made, found with "
        "CloudFormation DescribeStacks and your AWS credentials",
    )
    parser.add_argument(
        "--region", help="aws: the stack's region (default: the config's, else your profile's)"
    )
    parser.add_argument("--profile", help="aws: the AWS profile to use (default: the usual credential chain)")
    parser.add_argument(
        "--state-dir", type=Path, default=REPO_ROOT / ".local",
        help="local: where the local deploy keeps its state (default: .local)",
    )


def read_ids(args: argparse.Namespace) -> UserIds:
    if args.file is not None and args.user_ids:
        raise UserError("give user ids or --file, not both")
    if args.file is None and not args.user_ids:
        raise UserError("name the users to delete: USER_ID ... or --file CSV (`pz delete-users --help`)")
    if args.poll_seconds <= 0:
        raise UserError(f"--poll-seconds must be positive, got {args.poll_seconds}")
    try:
        return ids_from_file(args.file) if args.file is not None else ids_from_arguments(args.user_ids)
    except ProblemReport as report:
        raise UserError(f"the users to delete are not in the data deletion job's format:\n{report}") from None


def run(args: argparse.Namespace) -> int:
    console = Console(args.no_color, events_to_stderr=True)
    ids = read_ids(args)
    for warning in ids.warnings:
        console.warn(str(warning).removeprefix("warning: "))
    if ids.repeated > len(ids.warnings):
        console.warn(f"{ids.repeated} ids were listed more than once; each is deleted once")

    def progress(job: DeletionJob) -> None:
        console.note(f"  {job.name}: {job.status} ({_duration(job.waited_seconds)})")

    try:
        with DataDeletion.for_environment(
            args.env, target=args.target, region=args.region, profile=args.profile, state_dir=args.state_dir
        ) as deletion:
            job = deletion.start(ids)
            console.note(
                f"data deletion job {job.name} for {job.users} user{'s' if job.users != 1 else ''} of "
                f"{job.dataset_group_arn}\n  list: {job.data_location}"
            )
            if not args.no_wait:
                job = deletion.wait(job, on_progress=progress, poll_seconds=args.poll_seconds)
    except RecsError as error:
        raise CommandError(str(error), ExitCode(error.exit_code)) from error
    show(job, console, as_json=args.json, waited=not args.no_wait)
    if job.failed:
        console.error(f"pz {args.command}", f"the data deletion job FAILED: {job.failure_reason}")
        return ExitCode.FAILED
    return ExitCode.OK


def show(job: DeletionJob, console: Console, *, as_json: bool, waited: bool) -> None:
    if as_json:
        print(json.dumps(job.to_json(), indent=1))
        return
    if not waited:
        console.print(f"{job.name}: {job.status} ({job.arn})")
        console.print(
            f"check it with `aws personalize describe-data-deletion-job --data-deletion-job-arn {job.arn}`"
        )
    elif job.status == "COMPLETED":
        console.print(f"{job.name}: COMPLETED, {job.num_deleted} records deleted ({job.arn})")
    else:
        console.print(f"{job.name}: {job.status} ({job.arn})")
        return
    console.print("Not covered by a data deletion job (docs/data-deletion.md):")
    for what, source in NOT_COVERED:
        console.print(f"  - {what}\n    {source}")
    sys.stdout.flush()


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
