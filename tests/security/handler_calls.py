"""The API operations the custom-resource handlers can call, read from their source (AST), so the
least-privilege tests derive what each function's role needs from the code, not from a list.

An operation name counts where a handler names it for a client: a string that is a positional
argument of a call (`ctx.pz("list_solutions", ...)`, `self.call(ctx, "UpdateDataset", ...)`,
`list_all(ctx, "list_datasets", ...)`, `s3("copy_object", ...)`) or an f-string made of a fixed
part and the kind's label (`f"describe_{self.snake(self.label)}"`, `f"Create{self.label}"`), which
is expanded with each kind's label. A name counts only when it is an operation of botocore's model
of a service the handlers use. This over-approximates (a name in an error message counts too),
which can only make the check demand more, never less.

Which function makes a call: the Provider's OnEvent/IsComplete run every kind module and base;
the waiter's Poll/Signal run the functions of waiter.py that entry.poll/entry.signal reach; the
kinds' modules reach waiter.py only through what they name as `waiter.<function>`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import botocore.session

from pipeline.naming import REPO_ROOT

PACKAGE = REPO_ROOT / "lambda" / "personalize_handlers"
#: Services the handlers call, in the order an ambiguous name is resolved (ListTagsForResource is
#: both Personalize's and Step Functions'; the handlers only tag Personalize resources).
SERVICES = ("personalize", "s3", "stepfunctions")
#: Declarations, not callers: the contract names the operations its properties feed.
NOT_CALLERS = frozenset({"contract.py"})


@cache
def _operations(service: str) -> dict[str, str]:
    """snake_case and PascalCase spellings -> the operation name."""
    model = botocore.session.get_session().get_service_model(service)
    out = {}
    for name in model.operation_names:
        out[name] = name
        out[re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()] = name
    return out


def operation(text: str) -> tuple[str, str] | None:
    """(service, Operation) for a name a handler gives a client, or None."""
    for service in SERVICES:
        found = _operations(service).get(text)
        if found:
            return service, found
    return None


def snake(label: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", label).lower()


@dataclass(frozen=True)
class Named:
    """An operation name in a module: literal, or a template around the kind's label."""

    function: str  # top-level function or Class.method it appears in
    text: str  # the literal, or the template with `{}` where the label goes
    templated: bool

    def expand(self, labels: Iterable[str]) -> set[tuple[str, str]]:
        if not self.templated:
            found = operation(self.text)
            return {found} if found else set()
        out = set()
        for label in labels:
            filled = self.text.replace("{}", snake(label) if "_" in self.text or self.text[:1].islower()
                                       else label)
            found = operation(filled)
            if found:
                out.add(found)
        return out


def _template(node: ast.JoinedStr) -> str | None:
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            if not re.fullmatch(r"[A-Za-z_]*", value.value):
                return None
            parts.append(value.value)
        else:
            parts.append("{}")
    text = "".join(parts)
    return text if "{}" in text and text != "{}" else None


class _Scan(ast.NodeVisitor):
    def __init__(self) -> None:
        self.scope: list[str] = []
        self.named: list[Named] = []
        #: top-level function -> top-level names it calls
        self.calls: dict[str, set[str]] = {}
        #: function -> names referenced as waiter.<name>
        self.waiter_refs: dict[str, set[str]] = {}

    @property
    def where(self) -> str:
        return ".".join(self.scope) or "<module>"

    def _scoped(self, node: ast.AST, name: str) -> None:
        self.scope.append(name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node, node.name)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self.named.append(Named(self.where, arg.value, templated=False))
        if isinstance(node.func, ast.Name):
            self.calls.setdefault(self.where, set()).add(node.func.id)
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = _template(node)
        if text is not None:
            self.named.append(Named(self.where, text, templated=True))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "waiter":
            self.waiter_refs.setdefault(self.where, set()).add(node.attr)
        self.generic_visit(node)


@cache
def scan(path: Path) -> _Scan:
    found = _Scan()
    found.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("*.py") if p.name not in NOT_CALLERS)


def reachable(module: Path, roots: Iterable[str]) -> set[str]:
    """Top-level functions of `module` reachable from `roots` through direct calls."""
    graph = scan(module).calls
    seen: set[str] = set()
    todo = [r for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(graph.get(name, ()))
    return seen


@dataclass(frozen=True)
class Needed:
    """An operation a function's role needs, and for which resource types (None: any present)."""

    service: str
    operation: str
    module: str
    kinds: frozenset[str] | None  # resource types (Custom::Personalize*) whose handler calls it


def calls_by_function(kind_modules: dict[str, set[str]], labels: Iterable[str]) -> dict[str, list[Needed]]:
    """Entry function (on_event, is_complete, poll, signal) -> what it can call.

    `kind_modules`: module file name -> the resource types whose kind it defines (a module with no
    kind is shared by all); `labels`: the kinds' labels the templates hold (f-strings expand to
    these)."""
    labels = list(labels)
    waiter = PACKAGE / "waiter.py"
    entry = scan(PACKAGE / "entry.py").waiter_refs
    handler: list[Needed] = []
    waiter_roots_handler: set[str] = set()
    for module in modules():
        if module.name == "waiter.py":
            continue
        scanned = scan(module)
        kinds = kind_modules.get(module.name)
        for named in scanned.named:
            for service, op in named.expand(labels):
                handler.append(Needed(service, op, module.name, frozenset(kinds) if kinds else None))
        if module.name != "entry.py":
            for refs in scanned.waiter_refs.values():
                waiter_roots_handler |= refs

    def from_waiter(roots: set[str]) -> list[Needed]:
        functions = reachable(waiter, roots)
        return [
            Needed(service, op, "waiter.py", None)
            for named in scan(waiter).named
            if named.function.split(".")[0] in functions
            for service, op in named.expand(labels)
        ]

    handler += from_waiter(waiter_roots_handler)
    poller = from_waiter(entry.get("poll", set()) | entry.get("signal", set()))
    return {"on_event": handler, "is_complete": handler, "poll": poller, "signal": poller}
