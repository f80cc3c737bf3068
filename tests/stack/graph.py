"""The template's dependency graph: DependsOn, Ref and Fn::GetAtt edges."""

from __future__ import annotations

from typing import Any


def references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if "Ref" in node and isinstance(node["Ref"], str):
            found.add(node["Ref"])
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def edges(template: dict[str, Any]) -> dict[str, set[str]]:
    """logical id -> the resources it directly depends on."""
    resources = template["Resources"]
    out: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends = resource.get("DependsOn", [])
        deps = set([depends] if isinstance(depends, str) else depends)
        deps |= references(resource.get("Properties", {}))
        out[logical_id] = {d for d in deps if d in resources}
    return out


def ancestors(template: dict[str, Any], logical_id: str) -> set[str]:
    graph = edges(template)
    seen: set[str] = set()
    stack = [logical_id]
    while stack:
        for dep in graph[stack.pop()]:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def before(template: dict[str, Any], first: str, then: str) -> bool:
    """True when `then` cannot be created before `first` exists."""
    return first in ancestors(template, then)
