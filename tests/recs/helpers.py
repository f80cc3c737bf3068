"""What the recommendation tests share (their fixtures live in conftest.py): the deployed dev stack's
state, its parameterised filter, and `pz recommend` run in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.naming import stack_name

REPO = Path(__file__).resolve().parents[2]
REGION = "ap-southeast-2"  # config/dev.toml
PARAM_FILTER = "in-category"
PARAM_EXPRESSION = "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"


@dataclass(frozen=True)
class Deployed:
    state_dir: Path
    outputs: dict[str, str]

    def copy_state(self, target: Path, **changes: Any) -> Path:
        """A state dir sharing this world (symlinked) whose stack state has `changes` applied."""
        (target / "stacks").mkdir(parents=True)
        state = json.loads((self.state_dir / "stacks" / f"{stack_name('dev')}.json").read_text())
        state.update(changes)
        (target / "stacks" / f"{stack_name('dev')}.json").write_text(json.dumps(state))
        (target / "world.pkl").symlink_to(self.state_dir / "world.pkl")
        return target


def categories(row: dict[str, str]) -> set[str]:
    return set(row["CATEGORY_L1"].split("|"))


def pz_recommend(argv: list[str]) -> int:
    """`pz recommend ARGV...`, in-process."""
    from cli.main import main

    return main(["recommend", *argv])
