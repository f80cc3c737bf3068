"""What the deploy / diff / destroy / recommend / demo commands share: paths, the world file, the
cloud assembly for an environment, and the runner set up over them."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.runner.assembly import AssemblyError, CloudAssembly, StackArtifact
from local.runner.engine import Runner
from local.runner.state import StackStore
from pipeline.naming import REPO_ROOT, stack_name

STATE_DIR = Path(".local")
#: Inputs of `cdk synth`: a cdk.out older than any of them is stale.
SYNTH_INPUTS = ("app.py", "stacks", "personalize_constructs", "pipeline", "lambda", "data", "config")


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cdk-out",
        type=Path,
        default=REPO_ROOT / "cdk.out",
        help="the cloud assembly to deploy (default: ./cdk.out)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=REPO_ROOT / STATE_DIR,
        help="where the world file, stack state and timelines live (default: .local)",
    )


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
        raise SystemExit(
            f"cannot read the local world {path}: {error}\n"
            f"Delete {Path(args.state_dir)} (make clean) to start from an empty world."
        ) from error


def synth_command(env: str) -> list[str]:
    return ["npx", "cdk", "synth", "-c", f"env={env}", "--quiet"]


def run_synth(env: str, cdk_out: Path) -> None:
    """`npx cdk synth -c env=<env>` (PATH carries node_modules/.bin when run from make)."""
    cmd = synth_command(env)
    if cdk_out.resolve() != (REPO_ROOT / "cdk.out").resolve():
        cmd += ["--output", str(cdk_out)]
    node_bin = REPO_ROOT / "node_modules" / ".bin"
    env_vars = dict(os.environ)
    if node_bin.is_dir():
        env_vars["PATH"] = f"{node_bin}{os.pathsep}{env_vars.get('PATH', '')}"
    if shutil.which("npx", path=env_vars["PATH"]) is None:
        raise SystemExit(
            "npx is not on PATH: run `make install` (it installs the pinned Node.js and CDK CLI)"
        )
    print("$ " + " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env_vars, check=False)
    if done.returncode != 0:
        raise SystemExit(f"cdk synth failed (exit {done.returncode})")


def assembly_for(env: str, cdk_out: Path, synth: bool) -> StackArtifact:
    """The stack artifact for `env`; with `synth`, synthesize first when missing, for another
    environment or stale. Without it, say what to run."""
    name = stack_name(env)
    problem = assembly_problem(env, cdk_out)
    stale = staleness(cdk_out) if problem is None else None
    if stale and synth:
        problem = stale
    elif stale:
        print(
            f"warning: {stale}; run `npx cdk synth -c env={env}` (or pass --synth) to deploy the "
            "current code",
            flush=True,
        )
    if problem and synth:
        print(f"{problem}: synthesizing", flush=True)
        run_synth(env, cdk_out)
        problem = assembly_problem(env, cdk_out)
    if problem:
        raise SystemExit(
            f"{problem}.\nRun `npx cdk synth -c env={env}` first "
            f"(or pass --synth to let this command run it)."
        )
    return CloudAssembly.load(cdk_out).stack(name)


def assembly_problem(env: str, cdk_out: Path) -> str | None:
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


def staleness(cdk_out: Path) -> str | None:
    """cdk.out older than the files synth reads (a warning: the tree may be mid-edit)."""
    stamp = (cdk_out / "manifest.json").stat().st_mtime
    newer = [p for p in _inputs() if p.stat().st_mtime > stamp + 1]
    if newer:
        shown = ", ".join(str(p.relative_to(REPO_ROOT)) for p in newer[:3])
        return f"{cdk_out} is older than {shown}{' ...' if len(newer) > 3 else ''}"
    return None


def _inputs() -> Iterator[Path]:
    for name in SYNTH_INPUTS:
        path = REPO_ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in path.rglob("*"):
                if (
                    file.is_file()
                    and "__pycache__" not in file.parts
                    and file.suffix in (".py", ".toml", ".json", ".csv")
                ):
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


def region_for_env(env: str, default: str = "us-east-1") -> str:
    from pipeline.config import load_config

    try:
        return load_config(env).environment.region or default
    except Exception:
        return default


@contextmanager
def runner_for(args: argparse.Namespace, region: str, quiet: bool = False) -> Iterator[tuple[Runner, Any]]:
    """A runner over the saved world; the world is saved again on the way out (even after a
    failure, so a rolled-back stack's state and the world agree)."""
    world = load_world(args)
    store = StackStore(Path(args.state_dir))
    runner = Runner(world, store, region=region, quiet_events=quiet)
    try:
        yield runner, world
    finally:
        runner.close()
        world.save(world_path(args))


def stdout_flush(text: str) -> None:
    print(text, flush=True)
    sys.stdout.flush()
