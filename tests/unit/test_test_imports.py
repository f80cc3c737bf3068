"""The tests' one import style (tests/README.md): a suite's shared code is imported absolutely from
its helpers module, `from tests.<suite>.helpers import ...`; never relatively, never from a conftest,
never as a bare suite name that only resolves when pytest put a test folder on sys.path."""

from __future__ import annotations

import ast
from pathlib import Path

from pipeline.naming import REPO_ROOT

TESTS = REPO_ROOT / "tests"
#: Test folders whose names are not also project packages (cli, local, recs and bench are both).
SUITES = {
    p.name for p in TESTS.iterdir() if (p / "__init__.py").is_file() and not (REPO_ROOT / p.name).is_dir()
}


def bad_imports(path: Path) -> list[str]:
    """Each import in `path` that breaks the style, as 'file:line: module'."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            first = name.split(".")[0]
            if (name.startswith(".") or first in SUITES or "conftest" in name.split(".")
                    or first.endswith(("helpers", "harness"))):
                out.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {name}")
    return out


def test_tests_import_shared_code_one_way() -> None:
    found = [bad for path in sorted(TESTS.rglob("*.py")) for bad in bad_imports(path)]
    hint = "import shared test code as `from tests.<suite>.helpers import ...`:\n"
    assert found == [], hint + "\n".join(found)


def test_the_check_catches_each_old_style(tmp_path: Path) -> None:
    planted = tmp_path / "test_planted.py"
    planted.write_text(
        "from .conftest import Local\nfrom stack.conftest import synth\nimport pz_helpers\n"
        "def f():\n    from handler_harness import Pipeline\n"
        "from tests.stack.helpers import synth\nfrom local.runner import Runner\n"
    )
    planted = planted.rename(TESTS / "unit" / "_planted_for_import_check.py")
    try:
        lines = [bad.rsplit(": ", 1)[1] for bad in bad_imports(planted)]
    finally:
        planted.unlink()
    assert lines == [".conftest", "stack.conftest", "pz_helpers", "handler_harness"]
