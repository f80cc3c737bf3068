"""`diff`: what a deploy of the synthesized template would change against the last local deployment.

Properties are resolved with the deployed stack's physical ids and attributes, so the comparison is
on the values the handlers would receive (as CloudFormation's change sets compare them). A value
that depends on a resource being added or replaced cannot be known before the deploy: such a
property shows as "changes at deploy time".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from local.runner.intrinsics import Context, Resolver, TemplateError
from local.runner.state import StackState
from local.runner.template import SKIPPED_RULES, resource_type
from local.runner.update_rules import decide

UNKNOWN = object()


@dataclass
class Change:
    logical_id: str
    type: str
    action: str  # Add | Remove | Modify | Replace
    properties: list[str] = field(default_factory=list)
    note: str = ""

    def line(self) -> str:
        symbol = {"Add": "[+]", "Remove": "[-]", "Modify": "[~]", "Replace": "[~]"}[self.action]
        text = f"{symbol} {self.type} {self.logical_id}"
        if self.action == "Replace":
            text += " (replacement)"
        if self.properties:
            text += ": " + ", ".join(self.properties)
        if self.note:
            text += f"  ({self.note})"
        return text


def diff(
    template: dict[str, Any],
    state: StackState | None,
    account: str,
    region: str,
    parameters: dict[str, Any] | None = None,
) -> list[Change]:
    resources = template.get("Resources", {})
    if state is None or state.status in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"):
        return [Change(lid, spec.get("Type", "?"), "Add") for lid, spec in resources.items()]
    deployed = state.resources
    changed: set[str] = set()

    def ref(name: str) -> Any:
        if name in changed or name not in deployed:
            raise _Unknown(name)
        return deployed[name].physical_id

    def getatt(name: str, attr: str) -> Any:
        if name in changed or name not in deployed:
            raise _Unknown(name)
        return deployed[name].attributes.get(attr)

    ctx = Context(
        account=account,
        region=region,
        stack_name=state.name,
        stack_id=state.stack_id,
        parameters=dict(state.parameters) | dict(parameters or {}),
        mappings=template.get("Mappings", {}),
        condition_defs=template.get("Conditions", {}),
    )
    for name, spec in template.get("Parameters", {}).items():
        ctx.parameters.setdefault(name, "30" if "SSM" in str(spec.get("Type")) else spec.get("Default"))
    ctx.ref, ctx.getatt = ref, getatt
    changes: list[Change] = []
    for lid in _order(resources):
        spec = resources[lid]
        type_name = spec.get("Type", "?")
        resource_type(type_name)  # unknown types fail here as at deploy
        if spec.get("Condition") and not ctx.condition(spec["Condition"]):
            continue
        if lid not in deployed:
            changes.append(Change(lid, type_name, "Add"))
            changed.add(lid)
            continue
        old = deployed[lid]
        try:
            new_props = Resolver(ctx).resolve(spec.get("Properties", {}))
            unknown = False
        except _Unknown as missing:
            new_props, unknown = {}, True
            note = f"changes at deploy time: depends on {missing.name}"
        except TemplateError as error:
            changes.append(Change(lid, type_name, "Modify", note=f"cannot resolve: {error}"))
            changed.add(lid)
            continue
        if old.type != type_name:
            note = f"type {old.type} -> {type_name}: CloudFormation refuses the update"
            changes.append(Change(lid, type_name, "Modify", note=note))
            changed.add(lid)
            continue
        if unknown:
            changes.append(Change(lid, type_name, "Modify", note=note))
            changed.add(lid)
            continue
        keys = sorted(
            k for k in set(new_props) | set(old.properties) if new_props.get(k) != old.properties.get(k)
        )
        if keys:
            decision = decide(type_name, old.properties, new_props, region)
            action = "Replace" if decision.action == "Replace" else "Modify"
            refused = f"update fails: {decision.reason}" if decision.action == "Fail" else ""
            changes.append(Change(lid, type_name, action, keys, note=refused))
            changed.add(lid)
    for lid, res in deployed.items():
        if lid not in resources:
            policy = "" if res.deletion_policy != "Retain" else "retained: DeletionPolicy Retain"
            changes.append(Change(lid, res.type, "Remove", note=policy))
    return changes


class _Unknown(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _order(resources: dict[str, Any]) -> list[str]:
    """Dependencies first, so a changed resource marks what refers to it as changing too."""
    from local.runner.intrinsics import references

    deps = {}
    for lid, spec in resources.items():
        explicit = spec.get("DependsOn", [])
        explicit = [explicit] if isinstance(explicit, str) else list(explicit)
        deps[lid] = [d for d in explicit + list(references(spec.get("Properties", {}))) if d in resources]
    order: list[str] = []
    seen: set[str] = set()

    def visit(node: str) -> None:
        if node in seen:
            return
        seen.add(node)
        for dep in deps[node]:
            visit(dep)
        order.append(node)

    for lid in resources:
        visit(lid)
    return order


__all__ = ["SKIPPED_RULES", "Change", "diff"]
