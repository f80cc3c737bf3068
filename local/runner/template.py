"""Reading a template before anything is created, as CloudFormation validates it: which resource
type serves each resource, the parameters' values, the resources whose Condition holds, each one's
dependencies (DependsOn, Ref, Fn::GetAtt, Fn::Sub), and the errors CloudFormation gives first
(an unknown type, intrinsic function, Transform or Rule; unresolved dependencies; a cycle; an
attribute Fn::GetAtt names that the type does not have; a read-only property set; on an update, a
resource whose type changed under the same logical id). DeletionPolicy / UpdateReplacePolicy
`Snapshot` on a type that takes no snapshot is noted (the runner deletes it).

The engine deploys what this returns; `diff` uses the same registry of types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.runner import schemas
from local.runner.custom import CustomResource
from local.runner.intrinsics import (
    INTRINSICS,
    Context,
    TemplateError,
    attribute_references,
    is_intrinsic,
    references,
)
from local.runner.resources import NATIVE, ResourceType

CUSTOM = CustomResource()
#: values for SSM-typed parameters (the bootstrap stack is not emulated)
SSM_PARAMETERS = {"/cdk-bootstrap/hnb659fds/version": "30"}
SKIPPED_RULES = {"CheckBootstrapVersion": "the CDK bootstrap stack is not emulated locally"}


def resource_type(type_name: str) -> ResourceType:
    if type_name in NATIVE:
        return NATIVE[type_name]
    if type_name.startswith("Custom::") or type_name == "AWS::CloudFormation::CustomResource":
        return CUSTOM
    raise TemplateError(f"resource type {type_name} is not supported by the local runner")


def check_sections(template: dict[str, Any], note: Callable[[str], None]) -> None:
    """Transform and Rules: a Rule the runner knows to be about the bootstrap stack is skipped
    with a note; anything else is an error."""
    if template.get("Transform"):
        raise TemplateError(f"Transform {template['Transform']} is not supported by the local runner")
    for name in template.get("Rules", {}):
        if name in SKIPPED_RULES:
            note(f"rule {name} skipped: {SKIPPED_RULES[name]}")
        else:
            raise TemplateError(f"rule {name}: template Rules are not evaluated by the local runner")


def parameter_values(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """Each parameter's value: given, else its Default; SSM-typed ones from `SSM_PARAMETERS`;
    AllowedValues checked; list types split."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        value = given.get(name, spec.get("Default"))
        kind = str(spec.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter::Value<"):
            if value not in SSM_PARAMETERS:
                raise TemplateError(f"parameter {name}: SSM parameter {value!r} has no local value")
            value = SSM_PARAMETERS[value]
        if value is None:
            raise TemplateError(f"parameter {name} needs a value (no Default)")
        allowed = spec.get("AllowedValues")
        if allowed and value not in allowed:
            raise TemplateError(f"parameter {name}: {value!r} is not one of {allowed}")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            value = str(value).split(",")
        values[name] = value
    return values


def resources_and_dependencies(
    template: dict[str, Any], ctx: Context
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The resources to deploy (their Condition holds) and what each depends on; every type is
    checked, also those of resources a false Condition leaves out."""
    resources = {}
    for lid, spec in template.get("Resources", {}).items():
        resource_type(spec.get("Type", "?"))
        condition = spec.get("Condition")
        if condition is not None and not ctx.condition(condition):
            continue
        check_functions(spec.get("Properties", {}), lid)
        resources[lid] = spec
    deps: dict[str, list[str]] = {}
    params = set(template.get("Parameters", {}))
    for lid, spec in resources.items():
        explicit = spec.get("DependsOn", [])
        explicit = [explicit] if isinstance(explicit, str) else list(explicit)
        implicit = [r for r in references(spec.get("Properties", {})) if r not in params]
        missing = sorted({d for d in explicit + implicit if d not in resources})
        if missing:
            raise TemplateError(
                f"Template format error: Unresolved resource dependencies {missing} "
                f"in the Resources block of the template ({lid})"
            )
        deps[lid] = sorted(set(explicit + implicit))
    check_cycles(deps)
    check_getatts(template, ctx.region)
    check_read_only(resources, ctx.region)
    return resources, deps


def check_read_only(resources: dict[str, Any], region: str) -> None:
    """A property the type's schema lists in `readOnlyProperties` cannot be specified by the
    customer (resource type schema reference; cfn-lint E3040). CloudFormation's own handling varies
    (ignored, or the provider answers InvalidRequest): either way the template is wrong, so the
    runner refuses it before anything starts. A custom resource's properties are its provider's:
    any name is passed through."""
    for lid, spec in resources.items():
        type_name = str(spec.get("Type"))
        if schemas.schema_type(type_name) == schemas.CUSTOM_RESOURCE:
            continue
        found = schemas.schema(type_name, region)
        props = spec.get("Properties", {})
        for pointer in found.read_only:
            if isinstance(props, dict) and schemas.values_at(props, pointer):
                raise TemplateError(
                    f"Template error: resource {lid} ({type_name}) sets read-only property "
                    f"{schemas.pointer_name(pointer)}: read only properties are not allowed "
                    f"({found.source}, readOnlyProperties)"
                )


def check_getatts(template: dict[str, Any], region: str) -> None:
    """Every literal `Fn::GetAtt` (and `${X.Attr}`) in resources and outputs names an attribute the
    target's type has (its schema, as cfn-lint reads it), with CloudFormation's validation error."""
    declared = template.get("Resources", {})
    sections = [(lid, spec.get("Properties", {})) for lid, spec in declared.items()]
    sections += [(f"output {name}", spec.get("Value")) for name, spec in template.get("Outputs", {}).items()]
    for _where, fragment in sections:
        for logical, attribute in attribute_references(fragment):
            target = declared.get(logical)
            if target is None:
                continue  # an unresolved dependency: reported as such
            if not schemas.has_attribute(str(target.get("Type")), attribute, region):
                raise TemplateError(
                    f"Template error: resource {logical} does not support attribute type {attribute} "
                    "in Fn::GetAtt"
                )


def check_type_changes(resources: dict[str, Any], deployed: dict[str, Any]) -> None:
    """CloudFormation refuses an update that changes a resource's type under the same logical id,
    before anything starts (the change set fails; the stack stays as it was)."""
    changed = sorted(
        lid for lid, spec in resources.items() if lid in deployed and deployed[lid].type != spec.get("Type")
    )
    if changed:
        raise TemplateError(
            "Update of resource type is not permitted. The new template modifies resource type of the "
            f"following resources: [{', '.join(changed)}]"
        )


def check_policies(template: dict[str, Any], note: Callable[[str], None]) -> None:
    """`Snapshot` applies only to the types that take snapshots (cfn-lint E3035, from the
    DeletionPolicy reference); on any other type the runner deletes the resource, and says so."""
    for lid, spec in template.get("Resources", {}).items():
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            type_name = str(spec.get("Type"))
            if spec.get(attribute) == "Snapshot" and type_name not in schemas.snapshot_types():
                takers = ", ".join(sorted(schemas.snapshot_types()))
                note(
                    f"{lid}: {attribute} Snapshot on {type_name}, which takes no snapshot (only "
                    f"{takers} do): the local runner deletes it without one"
                )


def check_functions(value: Any, where: str) -> None:
    if isinstance(value, list):
        for item in value:
            check_functions(item, where)
    elif isinstance(value, dict):
        name = is_intrinsic(value)
        if name is not None and name not in INTRINSICS:
            raise TemplateError(f"{where}: intrinsic function {name} is not supported by the local runner")
        for item in value.values():
            check_functions(item, where)


def check_cycles(deps: dict[str, list[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(node) :]
            raise TemplateError(f"Circular dependency between resources: {sorted(set(cycle))}")
        state[node] = 1
        for dep in deps.get(node, []):
            visit(dep, [*path, node])
        state[node] = 2

    for node in deps:
        visit(node, [])
