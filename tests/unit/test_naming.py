"""pipeline.naming: the one definition of the stack's name, the repository and the name rules."""

from __future__ import annotations

import subprocess
import sys

from pipeline.naming import NAME_MAX, NAME_PATTERN, REPO_ROOT, STACK_PREFIX, physical_name, stack_name


def test_stack_name() -> None:
    assert stack_name("dev") == "Personalize-dev" and stack_name("prod").startswith(STACK_PREFIX)


def test_repo_root_holds_the_project() -> None:
    assert (REPO_ROOT / "cdk.json").is_file() and (REPO_ROOT / "lambda" / "personalize_handlers").is_dir()


def test_importable_without_the_cdk() -> None:
    """The command line and recs name stacks without starting jsii (or loading pydantic)."""
    code = (
        "import sys, pipeline.naming; "
        "print(sorted(m for m in ('aws_cdk', 'jsii', 'constructs', 'pydantic') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_physical_names_are_environment_first_and_versioned() -> None:
    assert physical_name("dev", "retail", "items") == "dev-retail-items"
    versioned = physical_name("dev", "retail", "sims", version_of={"recipe": "x"})
    assert versioned.startswith("dev-retail-sims-") and len(versioned) == len("dev-retail-sims-") + 6
    assert versioned == physical_name("dev", "retail", "sims", version_of={"recipe": "x"})
    assert versioned != physical_name("dev", "retail", "sims", version_of={"recipe": "y"})


def test_long_names_are_shortened_within_the_rule() -> None:
    name = physical_name("dev", "g" * 40, "s" * 40, version_of="v")
    assert len(name) <= NAME_MAX and NAME_PATTERN.match(name) and name.startswith("dev-ggg")
