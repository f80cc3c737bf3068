"""`make install` gives a fresh clone the `pz` console script: the project installed editable (with a
pinned build backend) into .venv, whose bin/pz runs this program from any directory; `python -m cli`
is the same program; no other entry point is left."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PZ = Path(sys.executable).with_name("pz")


def test_pyproject_declares_the_console_script_and_pins_the_build_backend() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"] == {"pz": "cli.main:main"}
    (backend,) = pyproject["build-system"]["requires"]
    assert re.fullmatch(r"setuptools==\d+\.\d+\.\d+", backend)
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "cli*" in packages and "recs*" in packages and "local*" in packages


def test_make_install_installs_the_project_editable() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile[makefile.index("$(VENV)/.installed:") : makefile.index("node_modules/.installed:")]
    assert "pyproject.toml" in recipe.splitlines()[0]
    assert "--no-deps --editable ." in recipe and "test -x $(PZ)" in recipe
    assert re.search(r"^install: \$\(VENV\)/\.installed", makefile, flags=re.MULTILINE)


def test_the_installed_console_script_is_pz() -> None:
    """After `make install` (make test runs it first): the venv's metadata names the entry point and
    .venv/bin/pz runs it, from another working directory."""
    site = sysconfig.get_paths()["purelib"]
    installed = {d.metadata["Name"]: d for d in importlib.metadata.distributions(path=[site])}
    assert "personalize-pipeline-cdk" in installed, f"the project is not installed in {site}"
    scripts = installed["personalize-pipeline-cdk"].entry_points.select(group="console_scripts")
    assert [(s.name, s.value) for s in scripts] == [("pz", "cli.main:main")]
    assert PZ.is_file(), f"{PZ} is missing: run `make install`"
    done = subprocess.run([str(PZ), "--help"], cwd="/", capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "commands:" in done.stdout and "  deploy " in done.stdout and "  recommend " in done.stdout


def test_python_m_cli_is_the_same_program(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--version"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith("pz ")


def test_the_old_entry_points_are_gone() -> None:
    for module in ("local", "recs"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"], cwd=REPO, capture_output=True, text=True, check=False
        )
        assert done.returncode != 0 and "No module named" in done.stderr, module


def test_docs_and_messages_name_the_one_command_line() -> None:
    """README, docs/ and the product code tell the user `pz ...`, never a removed entry point."""
    stale = re.compile(r"python -m (?:local|recs)\b(?!\.)")
    files = [REPO / "README.md", *(REPO / "docs").glob("*.md")]
    for package in ("cli", "recs", "local", "pipeline", "stacks", "personalize_constructs", "lambda"):
        files += (REPO / package).rglob("*.py")
    found = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in files for m in stale.finditer(p.read_text())]
    assert found == []
