"""What the commands share: paths, the world file, the cloud assembly for an environment (and when
to synthesize it again, as `cdk deploy` does), the region, and the runner set up over them."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.console import Console
from cli.exitcodes import OperationFailed, UserError
from pipeline.naming import REPO_ROOT, stack_name

if TYPE_CHECKING:
    from local.runner.assembly import StackArtifact
    from local.runner.engine import Runner

STATE_DIR = Path(".local")
#: What `cdk synth` reads (cdk.json's watch list, plus cdk.json and the pinned CDK library): a
#: cdk.out older than any file in them is stale.
SYNTH_INPUTS = (
    "app.py", "cdk.json", "requirements.txt",
    "stacks", "personalize_constructs", "pipeline", "lambda", "data", "config",
)


def add_state_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=REPO_ROOT / STATE_DIR,
        help="where the world file, stack state and timelines live (default: .local)",
    )


def add_assembly_options(parser: argparse.ArgumentParser) -> None:
    """`-o DIR` (where synth writes, as `cdk synth -o`) or `--app DIR` (use that assembly as it is,
    as `cdk deploy --app cdk.out`), and the state directory."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-o", "--output", type=Path, default=REPO_ROOT / "cdk.out", metavar="DIR",
        help="the cloud assembly, synthesized again first when missing, stale or for another "
        "environment (default: ./cdk.out)",
    )
    group.add_argument(
        "--app", type=Path, default=None, metavar="DIR",
        help="use the cloud assembly in DIR as it is, without synthesizing (as `cdk deploy --app cdk.out`)",
    )
    add_state_dir(parser)


def world_path(args: argparse.Namespace) -> Path:
    return Path(args.state_dir) / "world.pkl"


def load_world(args: argparse.Namespace) -> Any:
    from local.emulator.world import World

    path = world_path(args)
    if not path.exists():
        return World()
    try:
        return World.load(path)
    except (ValueError, TypeError, EOFError, AttributeError, ModuleNotFoundError) as error:
        raise UserError(
            f"cannot read the local world {path}: {error}\n"
            f"Delete {Path(args.state_dir)} (make clean) to start from an empty world."
        ) from error


def synth_command(env: str, cdk_out: Path) -> list[str]:
    """The pinned CDK CLI's synth (node_modules/.bin first on PATH)."""
    cmd = ["npx", "cdk", "synth", "-c", f"env={env}", "--quiet"]
    if cdk_out.resolve() != (REPO_ROOT / "cdk.out").resolve():
        cmd += ["--output", str(cdk_out)]
    return cmd


def check_config(env: str) -> None:
    """What synth checks first (config, schemas, data), in-process and in a second: a rejected
    config is the user's to fix (exit 2), not a failed synth."""
    from pipeline.config import load_config
    from pipeline.problems import ProblemReport
    from pipeline.validate import validate

    try:
        validate(load_config(env), REPO_ROOT).raise_for_errors()
    except ProblemReport as report:
        raise UserError(f"config/{env}.toml rejected (nothing synthesized)\n{report}") from None


def run_synth(env: str, cdk_out: Path, console: Console) -> None:
    """Validate, then `npx cdk synth -c env=<env> --quiet` with progress; its output is shown when
    it fails (or says something)."""
    check_config(env)
    cmd = synth_command(env, cdk_out)
    node_bin = REPO_ROOT / "node_modules" / ".bin"
    env_vars = dict(os.environ)
    if node_bin.is_dir():
        env_vars["PATH"] = f"{node_bin}{os.pathsep}{env_vars.get('PATH', '')}"
    if shutil.which("npx", path=env_vars["PATH"]) is None:
        raise UserError("npx is not on PATH: run `make install` (it installs the pinned Node.js and CDK CLI)")
    console.note("$ " + " ".join(cmd))
    done: subprocess.CompletedProcess[str] | None = None
    try:
        with console.progress(f"synthesizing {stack_name(env)}"):
            done = subprocess.run(
                cmd, cwd=REPO_ROOT, env=env_vars, check=False, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise OperationFailed(f"cdk synth failed (exit {done.returncode}); its output is above")
    finally:
        said = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part.strip()) if done else ""
        if said:
            console.note(said)


def assembly_dir(args: argparse.Namespace) -> Path:
    return Path(args.app if args.app is not None else args.output)


def assembly_for(env: str, args: argparse.Namespace, console: Console) -> StackArtifact:
    """The stack artifact for `env`. By default synthesized first when missing, for another
    environment or stale, as `cdk deploy` does; with --app, the assembly as it is."""
    from local.runner.assembly import CloudAssembly

    cdk_out = assembly_dir(args)
    if args.app is not None:
        problem = assembly_problem(env, cdk_out)
        if problem:
            raise UserError(
                f"{problem}.\nRun `pz synth -c env={env}` first, or drop --app to let this command "
                "synthesize."
            )
        stale = staleness(cdk_out)
        if stale:
            console.warn(f"{stale}: deploying it as it is (--app)")
    else:
        reason = synth_reason(env, cdk_out)
        if reason:
            console.note(f"{reason}: synthesizing")
            run_synth(env, cdk_out, console)
            problem = assembly_problem(env, cdk_out)
            if problem:
                raise OperationFailed(f"cdk synth ran but {problem}")
    return CloudAssembly.load(cdk_out).stack(stack_name(env))


def synth_reason(env: str, cdk_out: Path, root: Path = REPO_ROOT) -> str | None:
    """Why cdk.out must be synthesized again for `env` (missing, unreadable, for another
    environment, older than what synth reads under `root`), or None when it is current."""
    return assembly_problem(env, cdk_out) or staleness(cdk_out, root)


def assembly_problem(env: str, cdk_out: Path) -> str | None:
    from local.runner.assembly import AssemblyError, CloudAssembly

    manifest = cdk_out / "manifest.json"
    if not manifest.exists():
        return f"{cdk_out} has no cloud assembly"
    try:
        assembly = CloudAssembly.load(cdk_out)
    except (AssemblyError, OSError, ValueError, KeyError) as error:
        return f"{cdk_out} is not a readable cloud assembly ({error})"
    names = [s.name for s in assembly.stacks]
    if stack_name(env) not in names:
        return f"{cdk_out} was synthesized for {', '.join(names) or 'no stack'}, not {stack_name(env)}"
    return None


def staleness(cdk_out: Path, root: Path = REPO_ROOT) -> str | None:
    """cdk.out older than a file synth reads, or None."""
    stamp = (cdk_out / "manifest.json").stat().st_mtime
    newer = [p for p in synth_inputs(root) if p.stat().st_mtime > stamp + 1]
    if newer:
        shown = ", ".join(str(p.relative_to(root)) for p in newer[:3])
        return f"{cdk_out} is older than {shown}{' ...' if len(newer) > 3 else ''}"
    return None


def synth_inputs(root: Path = REPO_ROOT) -> Iterator[Path]:
    """Every file of SYNTH_INPUTS (the lambda asset is the whole folder, so any file counts), bytecode
    caches aside."""
    for name in SYNTH_INPUTS:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in path.rglob("*"):
                if file.is_file() and "__pycache__" not in file.parts:
                    yield file


def region_of(artifact: StackArtifact, default: str = "us-east-1") -> str:
    """The region the stack was synthesized for (manifest environment), else `default`."""
    manifest = json.loads((artifact.directory / "manifest.json").read_text())
    for entry in manifest.get("artifacts", {}).values():
        if (
            entry.get("type") == "aws:cloudformation:stack"
            and (entry.get("properties", {}).get("stackName") or entry.get("displayName")) == artifact.name
        ):
            region = str(entry.get("environment", "")).rsplit("/", 1)[-1]
            if region and region != "unknown-region":
                return region
    return default


def region_for_env(env: str, default: str = "us-east-1", path: Path | None = None) -> str:
    """config/<env>.toml's (or `path`'s) environment.region, else `default`; a config the validator
    rejects is an error (exit 2) with the validator's message, never a silent default."""
    from pipeline.config import load_config
    from pipeline.problems import ProblemReport

    try:
        return load_config(env, path).environment.region or default
    except ProblemReport as report:
        raise UserError(f"environment {env!r}: config rejected\n{report}") from None


@contextmanager
def runner_for(
    args: argparse.Namespace, region: str, console: Console, quiet: bool = False
) -> Iterator[tuple[Runner, Any]]:
    """A runner over the saved world, its events on `console`; the world is saved again on the way
    out (even after a failure, so a rolled-back stack's state and the world agree)."""
    from local.runner.engine import Runner
    from local.runner.state import StackStore

    world = load_world(args)
    store = StackStore(Path(args.state_dir))
    runner = Runner(world, store, out=console.event, region=region, quiet_events=quiet)
    try:
        yield runner, world
    finally:
        runner.close()
        world.save(world_path(args))
