"""The house's floors, read from the code: every import statement of the project's own modules
(top level, inside functions and under TYPE_CHECKING alike), resolved to the module it names.

Rules held here (docs/architecture.md, "Packages and their imports", draws the same graph):
- a package imports only the packages below it (ALLOWED); product code never imports local/ or
  cli/, with one documented exception: recs' local target, imported lazily when chosen;
- no import cycle between modules, lazy imports included;
- the Lambda asset (lambda/personalize_handlers) imports only the standard library and boto3;
- the diagram in docs/architecture.md has exactly the package arrows the code has.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.naming import REPO_ROOT

#: package name -> where its modules live (a file or a folder below the repository root).
PACKAGES: dict[str, str] = {
    "lambda": "lambda/personalize_handlers",
    "pipeline": "pipeline",
    "personalize_constructs": "personalize_constructs",
    "stacks": "stacks",
    "app": "app.py",
    "recs": "recs",
    "local.emulator": "local/emulator",
    "local.runner": "local/runner",
    "cli": "cli",
    "bench": "bench",
}

#: What each package may import, floor by floor (itself always). The runner takes the world it
#: deploys to as an argument, so it needs nothing of the emulator's code.
ALLOWED: dict[str, set[str]] = {
    "lambda": set(),
    "pipeline": set(),
    "personalize_constructs": {"pipeline", "lambda"},
    "stacks": {"personalize_constructs", "pipeline"},
    "app": {"stacks", "pipeline"},
    "local.emulator": {"pipeline"},
    "local.runner": {"local.emulator"},
    "recs": {"pipeline", "local.emulator", "local.runner"},
    "cli": {"recs", "stacks", "pipeline", "local.emulator", "local.runner"},
    "bench": {
        "cli", "recs", "stacks", "pipeline", "personalize_constructs", "local.emulator", "local.runner",
    },
}

#: The one place product code may reach local/: recs' local target, imported only when chosen.
LAZY_LOCAL = {"recs.local_target"}
LAMBDA_THIRD_PARTY = {"boto3", "botocore"}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported project module, or a top-level third-party/stdlib name
    path: Path
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[0] == "lambda":
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules(root: Path = REPO_ROOT) -> dict[str, tuple[str, Path]]:
    """Every project module: name -> (package, file)."""
    found: dict[str, tuple[str, Path]] = {}
    for package, where in PACKAGES.items():
        place = root / where
        files = [place] if place.is_file() else sorted(place.rglob("*.py"))
        for file in files:
            found[module_name(file)] = (package, file)
    return found


MODULES = project_modules()


def owner(name: str) -> str | None:
    """The project module an import names (the longest known prefix), or None outside the project."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, source: str | None = None) -> list[Import]:
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from package import submodule` names the submodule; anything else names the module.
            subs = [f"{stem}.{alias.name}" for alias in node.names]
            names = [sub if sub in MODULES else stem for sub in subs]
        else:
            continue
        for name in names:
            target = owner(name) or name.partition(".")[0]
            if target != module:
                found.append(Import(module, target, path, node.lineno))
    return found


ALL_IMPORTS = [imp for name, (_, path) in MODULES.items() for imp in imports_of(name, path)]


def package_edges() -> set[tuple[str, str]]:
    edges = set()
    for imp in ALL_IMPORTS:
        if imp.target in MODULES:
            a, b = MODULES[imp.source][0], MODULES[imp.target][0]
            if a != b:
                edges.add((a, b))
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def off_floor(imports: list[Import]) -> list[str]:
    """Each import of a project module that ALLOWED does not admit, as `file:line: ...`."""
    wrong = []
    for imp in imports:
        if imp.target not in MODULES:
            continue
        a, b = MODULES[imp.source][0], MODULES[imp.target][0]
        if a == b or b in ALLOWED[a]:
            continue
        wrong.append(f"{imp.path.relative_to(REPO_ROOT)}:{imp.line}: {a} imports {imp.target} ({b})")
    return wrong


def test_every_package_imports_only_what_is_below_it() -> None:
    wrong = off_floor(ALL_IMPORTS)
    assert not wrong, "imports that go up or sideways:\n" + "\n".join(wrong)


def test_product_code_reaches_local_only_through_recs_local_target() -> None:
    wrong = [
        f"{imp.path.relative_to(REPO_ROOT)}:{imp.line}: {imp.source} imports {imp.target}"
        for imp in ALL_IMPORTS
        if imp.source.startswith("recs")
        and imp.target in MODULES
        and MODULES[imp.target][0].startswith("local.")
        and imp.source not in LAZY_LOCAL
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for imp in ALL_IMPORTS:
        if imp.target in MODULES:
            graph.setdefault(imp.source, set()).add(imp.target)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_an_upward_import_is_reported() -> None:
    """pipeline importing stacks, parsed from source as the real modules are, breaks the rule."""
    fake = REPO_ROOT / "pipeline" / "config.py"
    added = imports_of("pipeline.config", fake, source="def f():\n    from stacks import build_app\n")
    assert off_floor(imports_of("pipeline.config", fake)) == []
    assert off_floor(added) == ["pipeline/config.py:2: pipeline imports stacks (stacks)"]


def test_the_lambda_asset_needs_only_the_runtime() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    wrong = [
        f"{imp.path.relative_to(REPO_ROOT)}:{imp.line}: {imp.target}"
        for imp in ALL_IMPORTS
        if MODULES[imp.source][0] == "lambda"
        and imp.target not in MODULES
        and imp.target not in stdlib
        and imp.target not in LAMBDA_THIRD_PARTY
    ]
    assert not wrong, "the Lambda asset ships stdlib + boto3 only:\n" + "\n".join(wrong)


def drawn_edges() -> set[tuple[str, str]]:
    """The arrows of the packages diagram in docs/architecture.md (`a --> b` lines)."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("<!-- import-graph:start -->", 1)[1].split("<!-- import-graph:end -->", 1)[0]
    ids = dict(re.findall(r"^\s*(\w+)\[\"?([\w./]+)", block, flags=re.M))
    edges = set()
    for a, b in re.findall(r"^\s*(\w+)\s*-->\s*(\w+)\s*$", block, flags=re.M):
        edges.add((ids.get(a, a), ids.get(b, b)))
    return edges


def test_the_architecture_diagram_draws_the_code() -> None:
    drawn = drawn_edges()
    actual = package_edges()
    assert drawn == actual, (
        f"in the code, not drawn: {sorted(actual - drawn)}; drawn, not in the code: {sorted(drawn - actual)}"
    )


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_package_exists(package: str) -> None:
    assert any(pkg == package for pkg, _ in MODULES.values())
