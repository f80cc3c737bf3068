"""CloudFormation's update rules: what a change to a deployed resource's properties does.

`decide` answers, for one resource whose resolved properties changed, one of:
- Update: in place, same physical resource;
- Replace: a new physical resource, the old one deleted in the cleanup phase;
- Fail: CloudFormation refuses; the resource fails with CloudFormation's message and the stack
  rolls back.

Ground truth, in this order:
1. `REFUSALS`: properties CloudFormation refuses to change at all, each with its source. The
   schemas cannot say this: WaitCondition has no createOnlyProperties although its reference page
   says updates aren't supported; a custom resource's ServiceToken is createOnly in its schema, yet
   CloudFormation fails the update instead of replacing; KMS::Key has none, and its resource
   provider fails the update.
2. The type's schema (schemas.py): a change to a `createOnlyProperties` property is a replacement.
3. A replacement that would keep a custom name fails ("You can't perform an update that causes a
   custom-named resource to be replaced"): the name properties are those whose schema description
   says so, and a `primaryIdentifier` the template sets (two resources cannot share it).
4. Anything else is an update in place.

A changed resource type under the same logical id is refused before the update starts (template.py,
`check_type_changes`). docs/aws-fidelity.md lists every rule with its source and the test that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from local.runner.schemas import TypeSchema, pointer_name, schema, values_at

WAITCONDITION_PAGE = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
    "aws-resource-cloudformation-waitcondition.html"
)
CUSTOM_NAME_PAGE = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html"
)
CUSTOM_NAME_MESSAGE = (
    "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
    "Rename {name} and update the stack again."
)
#: the sentence a name property's schema description carries
_NAME_SENTENCE = re.compile(
    r"If you specify a name, you can(?:not|'t) perform updates that require replacement of this resource"
)


@dataclass(frozen=True)
class Refusal:
    """Properties CloudFormation refuses to change: the update fails with `message`.
    `schema_defaults`: an absent property counts as its schema `default` (the resource provider
    fills the defaults in before it compares)."""

    properties: tuple[str, ...]
    message: str
    source: str
    schema_defaults: bool = False


REFUSALS: dict[str, Refusal] = {
    "AWS::CloudFormation::WaitCondition": Refusal(
        ("Count", "Handle", "Timeout"),
        "Updates aren't supported for AWS::CloudFormation::WaitCondition properties Count, Handle and "
        "Timeout (changed: {changed}); a changed wait needs a new logical id (and a new handle)",
        WAITCONDITION_PAGE,
    ),
    "AWS::CloudFormation::CustomResource": Refusal(
        ("ServiceToken",),
        "Modifying service token is not allowed.",
        "the UPDATE_FAILED event CloudFormation gives (github.com/aws-solutions/aws-waf-security-automations"
        "/issues/114, serverless/serverless#9240, cloudcomponents/cdk-constructs#197); the reference page "
        "says 'Updates aren't supported' (cloudformation-coverage-roadmap#802)",
    ),
    "AWS::KMS::Key": Refusal(
        ("KeySpec", "KeyUsage", "Origin", "MultiRegion"),
        'Resource handler returned message: "Invalid request provided: You cannot change the values of '
        'the KeySpec, KeyUsage, Origin, or MultiRegion properties of an AWS::KMS::Key resource." '
        "(HandlerErrorCode: InvalidRequest)",
        "the schema's description of AWS::KMS::Key (cfnlint/data/schemas/resources/88e734780d711c68.json) "
        "and its resource provider, aws-cloudformation-resource-providers-kms "
        "key/src/main/java/software/amazon/kms/key/BaseHandlerStd.java (validateResourceModel); the "
        "message format: cloudformation-cli-java-plugin ExceptionMessages.INVALID_REQUEST",
        schema_defaults=True,
    ),
}


@dataclass(frozen=True)
class Decision:
    action: Literal["Update", "Replace", "Fail"]
    #: the properties that decided it (changed ones for an update)
    properties: tuple[str, ...] = ()
    #: CloudFormation's message when the update fails
    reason: str = ""
    #: where the rule comes from (a schema file or a page)
    source: str = ""


def changed_properties(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def name_properties(spec: TypeSchema) -> list[str]:
    """The properties that hold a custom name: their schema description says a named resource
    cannot be replaced, or they are the type's primary identifier, set by the template."""
    read_only = {pointer_name(p) for p in spec.read_only}
    names = [p for p in spec.properties if _NAME_SENTENCE.search(spec.description(p))]
    identifier = [pointer_name(p) for p in spec.primary_identifier]
    # only an identifier the template sets in full (a FunctionName plus a generated Id is not a name)
    if (
        len(identifier) == 1
        and "." not in identifier[0]
        and identifier[0] not in read_only
        and identifier[0] not in names
    ):
        names.append(identifier[0])
    return names


def decide(type_name: str, old: dict[str, Any], new: dict[str, Any], region: str) -> Decision:
    """What CloudFormation does when a resource's properties change from `old` to `new`."""
    spec = schema(type_name, region)
    changed = changed_properties(old, new)
    if not changed:
        return Decision("Update", (), "", spec.source)
    refusal = REFUSALS.get(spec.type_name)
    if refusal is not None:

        def value(props: dict[str, Any], name: str) -> Any:
            return props.get(name, spec.default(name) if refusal.schema_defaults else None)

        refused = tuple(p for p in refusal.properties if value(old, p) != value(new, p))
        if refused:
            reason = refusal.message.format(changed=", ".join(refused))
            return Decision("Fail", refused, reason, refusal.source)
    replaced = tuple(pointer_name(p) for p in spec.create_only if values_at(old, p) != values_at(new, p))
    if not replaced:
        return Decision("Update", tuple(changed), "", spec.source)
    for name in name_properties(spec):
        if name in old and name in new and old[name] == new[name]:
            return Decision("Fail", replaced, CUSTOM_NAME_MESSAGE.format(name=new[name]), CUSTOM_NAME_PAGE)
    return Decision("Replace", replaced, "", spec.source)


__all__ = ["CUSTOM_NAME_MESSAGE", "REFUSALS", "Decision", "Refusal", "decide", "name_properties"]
