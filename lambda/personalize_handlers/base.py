"""The lifecycle every resource kind shares; each kind module fills in its calls and checks.

Stateless by design: `is_complete` decides from the event and one describe what to do next, so a
duplicated or retried invocation can never lose track of where the resource is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from . import waiter
from .clients import Api, error_code, error_message
from .common import Event, HandlerError, failure, is_personalize_arn, read, unique_name
from .contract import ResourceType

IN_PROGRESS = frozenset({"CREATE PENDING", "CREATE IN_PROGRESS"})
DELETING = frozenset({"DELETE PENDING", "DELETE IN_PROGRESS"})
ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE FAILED"

NOT_FOUND = "ResourceNotFoundException"
IN_USE = "ResourceInUseException"
ALREADY_EXISTS = "ResourceAlreadyExistsException"


@dataclass
class Ctx:
    """One invocation: the event, the resource's display name and a logging Personalize client."""

    event: Event
    name: str
    pz: Api
    #: the name the resource was created (or adopted) with in this invocation
    created: str | None = None
    #: service time of this invocation's refused delete (Dataset: the import deadline's start)
    delete_started: float | None = None

    @property
    def props(self) -> dict[str, Any]:
        return self.event.properties


class Kind:
    """Base for one `Custom::Personalize<X>` type. Subclasses name their contract (`spec`), set the
    class attributes and implement `create_params` and `mismatches`; the rest is shared."""

    #: the type's contract (contract.py): its properties, what updates in place, its Data
    spec: ClassVar[ResourceType]
    arn_kind: ClassVar[str]  # "dataset-group": the ARN's resource segment
    arn_key: ClassVar[str]  # "datasetGroupArn": the ARN parameter / response key
    result_key: ClassVar[str]  # "datasetGroup": the describe response's object
    name_prop: ClassVar[str] = "Name"
    #: the waiter's kind for long operations (None: finished by is_complete)
    waiter_kind: ClassVar[str | None] = None
    #: True when the physical name is unique per request (import jobs, solution versions)
    name_per_request: ClassVar[bool] = False
    #: the name's key in List* items (adoption by name)
    name_key: ClassVar[str] = "name"
    #: statuses of a create still under way
    running: ClassVar[frozenset[str]] = IN_PROGRESS

    # ---- the contract ------------------------------------------------------------------------

    @property
    def resource_type(self) -> str:
        return self.spec.type

    @property
    def label(self) -> str:
        """"DatasetGroup": used in operation names and messages."""
        return self.spec.kind

    @property
    def in_place(self) -> frozenset[str]:
        """Properties an Update may change without replacing the resource."""
        return self.spec.in_place

    @property
    def taggable(self) -> bool:
        return self.spec.taggable

    def prop(self, ctx: Ctx, name: str, props: Mapping[str, Any] | None = None) -> Any:
        """Property `name` of the event's new properties (or of `props`) as the contract declares it:
        a required one missing, or a value of the wrong type, is a HandlerError naming it."""
        return read(self.spec.prop(name), ctx.props if props is None else props, self.label, ctx.name)

    # ---- names and calls -----------------------------------------------------------------

    @property
    def create_op(self) -> str:
        return f"Create{self.label}"

    def snake(self, op: str) -> str:
        return "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")

    def display_name(self, event: Event) -> str:
        value = event.properties.get(self.name_prop) or event.old_properties.get(self.name_prop)
        return str(value) if value else event.logical_id or "(unnamed)"

    def base_name(self, ctx: Ctx) -> str:
        """The configured name, before any per-request suffix."""
        name: str = self.prop(ctx, self.name_prop)
        return name

    def physical_name(self, ctx: Ctx) -> str:
        """The name the resource is created with: per-request kinds add a hash of the RequestId, so a
        duplicate event adopts and a later re-run gets a new job or version."""
        base = self.base_name(ctx)
        return unique_name(base, ctx.event.request_id) if self.name_per_request else base

    def call(self, ctx: Ctx, op: str, **params: Any) -> dict[str, Any]:
        """Call Personalize; turn service errors into the contract's message."""
        try:
            return ctx.pz(self.snake(op), **params)
        except (ClientError, BotoCoreError) as exc:
            raise failure(self.label, ctx.name, op, error_message(exc)) from exc

    def describe(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        """The describe object, or None when the resource does not exist."""
        try:
            response = ctx.pz(f"describe_{self.snake(self.label)}", **{self.arn_key: arn})
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return None
            raise failure(self.label, ctx.name, f"Describe{self.label}", error_message(exc)) from exc
        result: dict[str, Any] = response[self.result_key]
        return result

    def find_listed(self, ctx: Ctx, name: str, op: str, key: str, **params: Any) -> dict[str, Any] | None:
        """The describe object of the item named `name` in a List* call's `key`, or None."""
        for item in list_all(ctx, op, key, **params):
            if item.get(self.name_key) == name:
                return self.describe(ctx, item[self.arn_key])
        return None

    # ---- subclass hooks ------------------------------------------------------------------

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        """The kind's Create<X> parameters; `request` adds the tags."""
        raise NotImplementedError

    def request(self, ctx: Ctx, name: str) -> dict[str, Any]:
        """Create<X>'s parameters: the kind's own, then `tags` (every taggable kind's create takes
        them, so the resource never exists untagged)."""
        params = self.create_params(ctx, name)
        tags = self.prop(ctx, "Tags") if self.taggable else None
        if tags:
            params["tags"] = tags
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        """Human-readable differences between the wanted and an existing configuration."""
        raise NotImplementedError

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        """An existing resource with this name (describe object), or None."""
        raise NotImplementedError

    def data(self, ctx: Ctx, arn: str, described: Mapping[str, Any] | None = None) -> dict[str, Any]:
        described = described or {}
        name = described.get("name") or described.get("jobName") or self.created_name(ctx, arn)
        return {"Arn": arn, "Name": name}

    def created_name(self, ctx: Ctx, arn: str) -> str:
        return str(ctx.created or ctx.event.data.get("Name") or ctx.props.get(self.name_prop)
                   or arn.rsplit("/", 1)[-1])

    def update_in_place(self, ctx: Ctx, arn: str, changed: set[str]) -> None:
        """Apply the in-place changes (tags here; kinds add their own)."""
        if "Tags" in changed:
            self.retag(ctx, arn)

    def ready(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        """Data when the create/update finished, None while it runs; raises when it failed."""
        described = self.describe(ctx, arn)
        if described is None:
            raise failure(self.label, ctx.name, f"Describe{self.label}",
                          f"{arn} does not exist (deleted while being created?)")
        status = described.get("status", ACTIVE)
        if status == ACTIVE:
            return self.data(ctx, arn, described)
        if status == CREATE_FAILED:
            raise failure(self.label, ctx.name, self.create_op,
                          described.get("failureReason") or "CREATE FAILED without a failureReason")
        if status in self.running:
            return None
        raise failure(self.label, ctx.name, self.create_op, f"unexpected status {status!r}")

    # ---- create ----------------------------------------------------------------------------

    def create(self, ctx: Ctx) -> str:
        name = self.physical_name(ctx)
        ctx.created = name
        existing = self.find(ctx, name) if self.find_first else None
        if existing is None:
            try:
                response = ctx.pz(self.snake(self.create_op), **self.request(ctx, name))
                arn: str = response[self.arn_key]
                return arn
            except ClientError as exc:
                if error_code(exc) != ALREADY_EXISTS:
                    raise failure(self.label, name, self.create_op, error_message(exc)) from exc
                existing = self.find(ctx, name)
                if existing is None:
                    raise failure(self.label, name, self.create_op,
                                  f"{error_message(exc)} (and no {self.label} named {name} was found"
                                  " to adopt)") from exc
            except BotoCoreError as exc:
                # Every attempt's response was lost (connection errors, retries exhausted): the
                # create may have taken effect. Failing now would orphan it, since the Provider
                # answers the rollback's Delete of its CREATE_FAILED marker itself (framework.ts),
                # so look it up by name and adopt it, by the same rule as ResourceAlreadyExists.
                # When the lookup fails too, its error escapes and a redelivery adopts later.
                existing = self.find(ctx, name)
                if existing is None:
                    raise failure(self.label, name, self.create_op,
                                  f"{error_message(exc)} (and no {self.label} named {name} was found"
                                  " to adopt)") from exc
        diffs = self.mismatches(ctx, existing)
        if diffs:
            raise failure(self.label, name, self.create_op,
                          f"a {self.label} named {name} already exists with a different configuration "
                          f"({'; '.join(diffs)}); delete it or choose another name")
        arn = str(existing[self.arn_key])
        if self.taggable and self.prop(ctx, "Tags"):
            self.retag(ctx, arn)
        return arn

    #: look for an existing resource before creating (kinds whose create is not name-unique)
    find_first: ClassVar[bool] = False

    def retag(self, ctx: Ctx, arn: str) -> None:
        """Make the resource's tags exactly the wanted ones (TagResource / UntagResource)."""
        if not self.taggable:
            return
        wanted = {t["tagKey"]: t["tagValue"] for t in self.prop(ctx, "Tags") or ()}
        old = {t["tagKey"] for t in self.prop(ctx, "Tags", ctx.event.old_properties) or ()}
        try:
            current = {t["tagKey"]: t["tagValue"] for t in
                       ctx.pz("list_tags_for_resource", resourceArn=arn).get("tags", [])}
        except ClientError:
            current = {}
        removed = sorted((old | set(current)) - set(wanted))
        if removed:
            self.call(ctx, "UntagResource", resourceArn=arn, tagKeys=removed)
        if wanted and wanted != {k: current.get(k) for k in wanted}:
            self.call(ctx, "TagResource", resourceArn=arn,
                      tags=[{"tagKey": k, "tagValue": v} for k, v in sorted(wanted.items())])

    # ---- entry points ----------------------------------------------------------------------

    def on_event(self, ctx: Ctx) -> dict[str, Any]:
        event = ctx.event
        if self.waiter_kind and ctx.props.get("WaitHandle") and event.request_type != "Delete":
            waiter.check_configured(self.label, ctx.name)  # before starting anything billable
        if event.request_type == "Create":
            arn = self.create(ctx)
            self.started(ctx, arn, update=False)
            return {"PhysicalResourceId": arn, "Data": self.data(ctx, arn)}
        if event.request_type == "Update":
            return self.on_update(ctx)
        self.on_delete(ctx)
        return {"PhysicalResourceId": event.physical_id or event.logical_id}

    def on_update(self, ctx: Ctx) -> dict[str, Any]:
        event = ctx.event
        arn = event.physical_id or ""
        changed = event.changed()
        if is_personalize_arn(arn, self.arn_kind) and changed <= self.in_place:
            self.update_in_place(ctx, arn, changed)
            if "WaitHandle" in changed or self.restarts_wait(changed):
                self.started(ctx, arn, update=True)
            return {"PhysicalResourceId": arn, "Data": self.data(ctx, arn)}
        if is_personalize_arn(arn, self.arn_kind) and self.satisfies(ctx, arn):
            # An Update back to what this resource already is: CloudFormation's update rollback
            # sends one (the old properties) after the new ones failed. Keep it; never pay twice.
            if "WaitHandle" in changed:
                self.started(ctx, arn, update=True)
            return {"PhysicalResourceId": arn, "Data": self.data(ctx, arn)}
        same_name = not self.name_per_request and self.name_prop not in changed
        if same_name and is_personalize_arn(arn, self.arn_kind):
            immutable = sorted(changed - self.in_place)
            raise failure(self.label, ctx.name, "Update",
                          f"{', '.join(immutable)} cannot change in place and {self.name_prop} did not "
                          f"change, so a replacement would collide with {arn}; give the new "
                          "configuration a new name (pipeline.naming hashes immutable inputs into it)")
        new_arn = self.create(ctx)  # replacement: CloudFormation deletes the old one afterwards
        self.started(ctx, new_arn, update=False)
        return {"PhysicalResourceId": new_arn, "Data": self.data(ctx, new_arn)}

    def satisfies(self, ctx: Ctx, arn: str) -> bool:
        """Whether the resource `arn` names already has the wanted properties, so an Update that
        would replace it can keep it (kinds whose replacement is costly say how to tell)."""
        return False

    def restarts_wait(self, changed: set[str]) -> bool:
        """In-place changes that are themselves long operations (campaign update)."""
        return False

    def started(self, ctx: Ctx, arn: str, update: bool) -> None:
        """For long kinds with a WaitHandle: start the Step Functions waiter."""
        handle = ctx.props.get("WaitHandle")
        if self.waiter_kind and handle:
            kind = self.waiter_kind_for(update)
            waiter.start_waiter(kind=kind, arn=arn, handle_url=str(handle),
                                resource=ctx.event.logical_id or ctx.name, label=self.label, name=ctx.name)

    def waiter_kind_for(self, update: bool) -> str:
        assert self.waiter_kind is not None
        return self.waiter_kind

    def is_complete(self, ctx: Ctx) -> dict[str, Any]:
        event = ctx.event
        if event.request_type == "Delete":
            return {"IsComplete": self.delete_finished(ctx)}
        arn = event.physical_id or ""
        if self.waiter_kind and ctx.props.get("WaitHandle"):
            # The WaitCondition does the waiting; the waiter signals success or failure.
            return {"IsComplete": True, "Data": self.data(ctx, arn)}
        data = self.ready(ctx, arn)
        if data is None:
            return {"IsComplete": False}
        return {"IsComplete": True, "Data": data}

    # ---- delete ----------------------------------------------------------------------------

    def target(self, ctx: Ctx) -> str | None:
        """The ARN to delete: the physical id, or (when Create never reported one, e.g. a crash
        after the create call) the resource found by its deterministic name."""
        physical = ctx.event.physical_id
        if is_personalize_arn(physical, self.arn_kind):
            return physical
        if self.name_per_request:
            return None
        name = ctx.props.get(self.name_prop)
        if not name:
            return None
        found = self.find(ctx, str(name))
        return str(found[self.arn_key]) if found else None

    def on_delete(self, ctx: Ctx) -> None:
        arn = self.target(ctx)
        if arn is not None and not self.clear_leftovers(ctx, arn):
            self.try_delete(ctx, arn)

    def clear_leftovers(self, ctx: Ctx, arn: str) -> bool:
        """Remove what must go before the resource itself (DatasetGroup: what is still inside it);
        True while anything is left, so the delete waits and is_complete asks again."""
        return False

    def try_delete(self, ctx: Ctx, arn: str) -> None:
        """Ask for deletion; gone or in use (a dependent still deleting) is retried from is_complete."""
        try:
            ctx.pz(f"delete_{self.snake(self.label)}", **{self.arn_key: arn})
        except ClientError as exc:
            if error_code(exc) in (NOT_FOUND, IN_USE):
                return
            raise failure(self.label, ctx.name, f"Delete{self.label}", error_message(exc)) from exc

    def delete_finished(self, ctx: Ctx) -> bool:
        arn = self.target(ctx)
        if arn is None:
            return True
        described = self.describe(ctx, arn)
        if described is None:
            return True
        status = described.get("status")
        if status in DELETING or status in IN_PROGRESS:
            return False
        if self.clear_leftovers(ctx, arn):
            return False  # leftovers still going: the delete would be refused
        self.try_delete(ctx, arn)
        return self.describe(ctx, arn) is None


class Job(Kind):
    """A one-shot job (dataset import, batch inference). Its name is JobName plus a hash of the
    RequestId (a duplicated event adopts the job the first one started, a later run gets a new
    job); only Tags and WaitHandle change in place (the contract); there is no Delete<X>Job (the
    job record stays with its dataset or solution version), so Delete is a no-op."""

    name_prop = "JobName"
    name_key = "jobName"
    name_per_request = True

    def on_delete(self, ctx: Ctx) -> None:
        """Nothing to delete: no Delete<X>Job exists."""

    def delete_finished(self, ctx: Ctx) -> bool:
        return True


def json_value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def list_all(ctx: Ctx, op: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated List* call."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs = dict(params, maxResults=100)
        if token:
            kwargs["nextToken"] = token
        try:
            response = ctx.pz(op, **kwargs)
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return items
            raise HandlerError(f"{op} failed: {error_message(exc)}") from exc
        items.extend(response.get(key, []))
        token = response.get("nextToken")
        if not token:
            return items


def diff(field: str, existing: Any, wanted: Any) -> str:
    return f"{field}: existing {existing!r}, wanted {wanted!r}"


def diffs(wanted: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """A `diff` per wanted field whose existing value is not equal to it, in `wanted`'s order."""
    return [diff(key, actual.get(key), value) for key, value in wanted.items() if actual.get(key) != value]
