"""A WaitConditionHandle + WaitCondition pair whose logical ids carry a hash of the operation's inputs
and of the wait's own settings.

A custom resource cannot wait more than an hour; training can take many. The custom resource starts
the operation and the Step Functions waiter, which signals the handle when Personalize is done. A
handle can be signalled once, so waiting again (new data, new training) needs new logical ids: the
hash of the inputs in the id gives exactly that, and an unchanged deploy keeps the same ids and
does not wait at all. CloudFormation cannot update a WaitCondition's Count, Handle or Timeout
("Updates aren't supported", AWS::CloudFormation::WaitCondition reference), so those settings are in
the hash too: a new timeout is a new WaitCondition, never an update of the old one.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from pipeline.config import MAX_WAIT_SECONDS
from pipeline.naming import digest

#: One signal ends the wait (the waiter sends exactly one, success or failure).
COUNT = 1


class LongWait(Construct):
    """`<label>WaitHandle<hash>` and `<label>Wait<hash>`; pass `handle_ref` to the custom resource as
    WaitHandle, then call `after(resource)` so the condition starts waiting once the operation started."""

    def __init__(
        self, scope: Construct, id: str, *, label: str, inputs_hash: str, timeout_seconds: int
    ) -> None:
        super().__init__(scope, id)
        if not 0 < timeout_seconds <= MAX_WAIT_SECONDS:
            raise ValueError(f"{label}: wait timeout {timeout_seconds}s is outside 1..{MAX_WAIT_SECONDS}s")
        # Everything CloudFormation cannot update in place: the operation's inputs (a new handle),
        # Timeout and Count.
        self.inputs_hash = digest(inputs_hash, timeout_seconds, COUNT)
        self.handle_logical_id = f"{label}WaitHandle{self.inputs_hash}"
        self.condition_logical_id = f"{label}Wait{self.inputs_hash}"
        self.handle = cdk.CfnWaitConditionHandle(self, "Handle")
        self.handle.override_logical_id(self.handle_logical_id)
        self.condition = cdk.CfnWaitCondition(
            self, "Condition", handle=self.handle.ref, timeout=str(timeout_seconds), count=COUNT
        )
        self.condition.override_logical_id(self.condition_logical_id)

    @property
    def handle_ref(self) -> str:
        return self.handle.ref

    def after(self, resource: cdk.CfnResource) -> None:
        """The condition waits only once the operation (and its waiter execution) has started; call
        it once the operation's own DependsOn are set. The handle is created with the operation,
        not at stack start: it gets the operation's DependsOn (e.g. the previous wait). Its
        presigned URL lives about 24 hours from the handle's creation (observed, not documented;
        docs/aws-contracts.md), and a chain of 12-hour waits would outlive a handle minted at start."""
        self.condition.add_resource_dependency(resource)
        for dependency in resource.obtain_dependencies():
            if isinstance(dependency, cdk.CfnResource) and dependency is not self.handle:
                self.handle.add_resource_dependency(dependency)
