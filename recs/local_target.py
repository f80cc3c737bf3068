"""The local target: the stack `pz deploy` made, from the runner's state directory, and
the saved local world that serves it. Only imported when target="local" is chosen (it brings
local/ and moto)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from pipeline.naming import stack_name
from recs.errors import StackNotDeployed
from recs.stack import DeployedStack


def deploy_hint(env: str) -> str:
    return (
        f"deploy it locally with `pz deploy -c env={env}` (it synthesizes first), "
        "or use --target aws for the stack on AWS"
    )


def open_local(env: str, state_dir: Path) -> tuple[DeployedStack, Any]:
    """(the deployed stack, the World serving it); StackNotDeployed when there is none."""
    from local.emulator.world import World
    from local.runner.state import StackStore

    name = stack_name(env)
    state = StackStore(state_dir).load(name)
    if state is None:
        raise StackNotDeployed(
            f"stack {name} is not deployed locally (nothing in {state_dir}): {deploy_hint(env)}"
        )
    parts = state.stack_id.split(":")
    region = parts[3] if len(parts) > 3 else "us-east-1"
    outputs = {key: str(value) for key, value in state.outputs.items()}
    stack = DeployedStack(env, name, region, state.status, outputs, "the local runner")
    stack.check_serving(deploy_hint(env))
    path = state_dir / "world.pkl"
    if not path.exists():
        raise StackNotDeployed(f"{state_dir} has the state of {name} but no world.pkl: {deploy_hint(env)}")
    try:
        world = World.load(path)
    except (
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        EOFError,
        AttributeError,
        ImportError,
        OSError,
    ) as error:
        raise StackNotDeployed(
            f"cannot read the local world {path} ({error}): delete {state_dir} (make clean), then "
            f"{deploy_hint(env)}"
        ) from None
    return stack, world
