"""CloudFormation's stack operations, on the local world and its virtual clock.

`Runner.deploy` creates or updates a stack from a synthesized template; `Runner.destroy` deletes
it. Each operation is one `Engine`: resources start as soon as everything they depend on
(DependsOn, Ref, Fn::GetAtt, Fn::Sub) is complete, so independent ones run at the same virtual
time on the simulation (sim.py). The first failure stops new work and lets what is in flight finish
(WaitConditions are cancelled); then rollback.py rolls the operation back, and after a successful
update it runs the cleanup phase. Deletes go through deletion.py.

What a resource type may ask of the operation is the `Host` protocol (host.py); the engine is its
implementation. The template is checked by template.py before anything is created; what the
operation records is results.py's `Journal` and `OperationResult`.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local.emulator import moto_internals
from local.runner import report
from local.runner.assembly import StackArtifact
from local.runner.assets import Assets, publish_file_assets
from local.runner.deletion import Action, Deletion
from local.runner.intrinsics import Context, Resolver, TemplateError
from local.runner.lambdas import LambdaService
from local.runner.observe import Attribution, Moment, OperationObserver, Watchers
from local.runner.resources import LambdaFunctionType, Op, ResourceFailed
from local.runner.results import Journal, OperationResult, Timing
from local.runner.rollback import Rollback, Touched
from local.runner.signals import SignalServer
from local.runner.sim import Cancelled, Proc, Simulation, Sleep, Task, Until
from local.runner.state import ResourceState, StackState, StackStore
from local.runner.stepfunctions import Executions
from local.runner.template import (
    check_policies,
    check_sections,
    check_type_changes,
    parameter_values,
    resource_type,
    resources_and_dependencies,
)
from local.runner.update_rules import decide

#: how long background Step Functions executions may run on after a stack operation ends
DRAIN_SECONDS = 13 * 3600


class StackError(Exception):
    """The stack operation could not start (bad template, stack in a state that forbids it)."""


class Runner:
    """The local CloudFormation: one per process, over one World."""

    def __init__(
        self,
        world: Any,
        store: StackStore,
        out: Callable[[str], None] = print,
        region: str = "us-east-1",
        quiet_events: bool = False,
    ) -> None:
        self.world = world
        self.store = store
        self.out = out
        self.region = region
        self.account = getattr(world, "account_id", "123456789012")
        self.signals = SignalServer(store.root / "waitcondition.port")
        self.lambdas = LambdaService(region, world.clock.now, store.root / "lambda.log")
        self.quiet_events = quiet_events
        #: deliver every custom resource request to onEvent twice (at-least-once delivery)
        self.duplicate_deliveries = False
        #: called after every stack event and every `watchers.every` virtual seconds (observe.py)
        self.watchers = Watchers()

    def close(self) -> None:
        self.signals.close()
        self.lambdas.logs.close()

    # --- public operations ---------------------------------------------------------------------
    def deploy(
        self,
        artifact: StackArtifact,
        parameters: dict[str, str] | None = None,
        cancel_after: float | None = None,
    ) -> OperationResult:
        """Create or update the stack. `cancel_after` (virtual seconds): cancel the operation then,
        as CancelUpdateStack or a DeleteStack during CREATE_IN_PROGRESS does (it rolls back)."""
        previous = self.store.load(artifact.name)
        if previous is not None and previous.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
            self.out(f"{artifact.name}: previous create rolled back ({previous.status}); deleting it first")
            self.destroy(artifact.name)
            previous = None
        if previous is not None and previous.status == "DELETE_COMPLETE":
            previous = None
        if previous is not None and not previous.status.endswith("_COMPLETE"):
            raise StackError(
                f"stack {artifact.name} is in {previous.status}: it cannot be updated (destroy it first)"
            )
        engine = Engine(self, artifact, previous, parameters or {})
        engine.cancel_after = cancel_after
        return engine.deploy()

    def destroy(self, stack_name: str) -> OperationResult | None:
        state = self.store.load(stack_name)
        if state is None or state.status == "DELETE_COMPLETE":
            return None
        engine = Engine(self, None, state, {})
        return engine.destroy()

    def state(self, stack_name: str) -> StackState | None:
        return self.store.load(stack_name)


class Engine:
    """One stack operation."""

    def __init__(
        self,
        runner: Runner,
        artifact: StackArtifact | None,
        previous: StackState | None,
        parameters: dict[str, str],
    ) -> None:
        self.runner = runner
        self.world = runner.world
        self._artifact = artifact
        self.assets = Assets(runner.store, artifact)
        self.previous = previous
        self.lambdas: LambdaService = runner.lambdas
        self.signals: SignalServer = runner.signals
        self.account = runner.account
        self.region = runner.region
        self.partition = "aws"
        name = artifact.name if artifact else previous.name  # type: ignore[union-attr]
        self.stack_name = name
        self.stack_id = (
            previous.stack_id
            if previous
            else (
                f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{name}/"
                f"{uuid.UUID(hashlib.md5(f'{name}/{self.now()}'.encode()).hexdigest())}"
            )
        )
        self.parameter_values = parameters
        self.request_counter = 0
        self.journal = Journal(self.now, None if runner.quiet_events else runner.out)
        self.sim = Simulation(self.world.clock, after_step=None)
        self.observer = OperationObserver(self.world)
        self.attribution = Attribution()
        invoke_denied = getattr(self.world, "invoke_denied", None)
        self.executions = Executions(
            self.sim, self.lambdas, self.now, self.account, self.region, self.attribution, self.note,
            authorize=(lambda role, fn, session: invoke_denied(role, fn, session, self.region))
            if invoke_denied else None,
        )
        self._clients: dict[str, Any] = {}
        self.t0 = self.journal.t0
        self.cancel_after: float | None = None
        self.touched: dict[str, Touched] = {}
        self.lambdas.after_invoke = [self._after_invoke]
        self._ticker: Task | None = None

    def _watch(self) -> None:
        """Show the runner's watchers every stack event and, on a daemon task, every tick."""
        watchers = self.runner.watchers
        if not watchers:
            return
        self.journal.listeners.append(lambda event: watchers.show(Moment(event.at, event)))
        self._ticker = self.sim.spawn(watchers.ticks(self.now), "watchers", observer=True)

    def _unwatch(self) -> None:
        if self._ticker is not None:
            self.sim.cancel(self._ticker)
            self._ticker = None

    @property
    def artifact(self) -> StackArtifact:
        if self._artifact is None:
            raise ResourceFailed("no cloud assembly for this operation (assets are only read on deploy)")
        return self._artifact

    # --- the Host: what resource types may ask (host.py) ---------------------------------------
    def now(self) -> float:
        return float(self.world.clock.now())

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                region_name=self.region,
                config=Config(retries={"mode": "standard", "max_attempts": 10}),
            )
        return self._clients[service]

    def note(self, message: str) -> None:
        self.journal.note(message)

    def invoke(self, arn: str, payload: Any, logical_id: str) -> Any:
        with self.attribution.acting_for(logical_id):
            return self.lambdas.invoke(arn, payload)

    def next_request_number(self) -> int:
        self.request_counter += 1
        return self.request_counter

    def resource_properties(self, type_name: str, physical_id: str) -> dict[str, Any] | None:
        for res in self.resources.values():
            if res.type == type_name and res.physical_id == physical_id:
                return res.properties
        return None

    @property
    def duplicate_deliveries(self) -> bool:
        return self.runner.duplicate_deliveries

    def function_code(self, logical_id: str, code: dict[str, Any], runtime: str) -> Path | None:
        return self.assets.function_code(logical_id, code, runtime)

    def published_asset(self, key: str) -> Path:
        return self.assets.published(key)

    def _after_invoke(self) -> None:
        """After every Lambda invocation: the service operations and Step Functions executions it
        started belong to the resource it served."""
        self.observer.after_invoke(self.attribution.current)
        self.executions.start_new()

    # --- template ------------------------------------------------------------------------------
    def _context(self, template: dict[str, Any]) -> Context:
        ctx = Context(
            account=self.account,
            region=self.region,
            stack_name=self.stack_name,
            stack_id=self.stack_id,
            mappings=template.get("Mappings", {}),
            condition_defs=template.get("Conditions", {}),
            parameters=parameter_values(template, self.parameter_values),
        )
        ctx.ref = self._ref
        ctx.getatt = self._getatt
        return ctx

    def _ref(self, logical_id: str) -> Any:
        res = self.resources.get(logical_id)
        if res is None or res.physical_id is None:
            raise TemplateError(f"Ref {logical_id}: no such resource (or not created)")
        return res.physical_id

    def _getatt(self, logical_id: str, attribute: str) -> Any:
        res = self.resources.get(logical_id)
        if res is None:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: no such resource")
        if attribute in res.attributes:
            return res.attributes[attribute]
        if res.type.startswith("Custom::") or res.type == "AWS::CloudFormation::CustomResource":
            raise TemplateError(
                f"CustomResource attribute error: Vendor response doesn't contain "
                f"{attribute} attribute in object {self.stack_id}|{logical_id}|{res.physical_id}"
            )
        # the template check let only the type's attributes through: this one is not emulated
        raise TemplateError(
            f"Fn::GetAtt {logical_id}.{attribute}: {res.type} has this attribute, but the local runner "
            "does not emulate it"
        )

    def _validate(self, template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """Unknown types, functions, attributes, dependencies and cycles, and (on an update) a
        changed resource type, fail before anything is created."""
        check_sections(template, self.note)
        check_policies(template, self.note)
        self.ctx = self._context(template)
        resources, deps = resources_and_dependencies(template, self.ctx)
        if self.previous is not None:
            check_type_changes(resources, self.previous.resources)
        return resources, deps

    # --- deploy --------------------------------------------------------------------------------
    def deploy(self) -> OperationResult:
        template = self.artifact.template
        wall = time.perf_counter()
        with self.world.active(), deferred_access_logs():
            publish_file_assets(self.artifact, self.client("s3"), self.account, self.region, self.partition)
            calls_before = dict(self.world.stats.calls) if hasattr(self.world, "stats") else {}
            self._register_previous_functions()
            try:
                resources, deps = self._validate(template)
            except TemplateError as error:
                raise StackError(str(error)) from error
            self.deps = deps
            prev = self.previous
            creating = prev is None
            kind = "CREATE" if creating else "UPDATE"
            self.resources: dict[str, ResourceState] = (
                {k: copy.deepcopy(v) for k, v in prev.resources.items()} if prev else {}
            )
            state = prev or StackState(name=self.stack_name, stack_id=self.stack_id)
            state.status, state.reason = f"{kind}_IN_PROGRESS", ""
            state.template, state.assembly = template, str(self.artifact.directory)
            self.state = state
            self.deletion = Deletion(self.sim, self.journal, state, self._perform)
            self.journal.phase(len(resources))
            self._watch()
            self.journal.event(self.stack_name, state.status)
            self._save()
            self.failing = False
            self.first_failure = ""
            tasks = {
                lid: self.sim.spawn(self._deploy_resource(lid, resources[lid], deps[lid], kind), lid)
                for lid in resources
            }
            self.tasks = tasks
            if self.cancel_after is not None:
                self.sim.spawn(self._cancel_at(self.t0 + self.cancel_after, tasks), "cancel", daemon=True)
            self.sim.after_step = self._cancel_waits_if_failing
            self.sim.run()
            self.sim.after_step = None
            for task in tasks.values():
                if task.error is not None and not isinstance(task.error, (ResourceFailed, Cancelled)):
                    raise task.error
            removed = [lid for lid in (prev.resources if prev else {}) if lid not in resources]
            if not self.failing:
                outputs = self._outputs(template)
                if not self.failing:
                    state.outputs = outputs
            if self.failing and kind == "CREATE":
                self._rollback().failed_create(self.first_failure)
            elif self.failing:
                self._rollback().failed_update(self.first_failure)
            else:
                if kind == "UPDATE":
                    self._rollback().cleanup(removed)
                state.status = f"{kind}_COMPLETE"
                self.journal.event(self.stack_name, state.status)
            ended = self.now()
            state.resources = self.resources
            self._save()
            self._unwatch()
            left = [t.name for t in self.sim.drain(DRAIN_SECONDS)]
            self.observer.close(self.now())
            calls_after = dict(self.world.stats.calls) if hasattr(self.world, "stats") else {}
        return self._result(kind, state, ended, wall, calls_before, calls_after, left)

    def _register_previous_functions(self) -> None:
        if self.previous is None:
            return
        for res in self.previous.resources.values():
            if res.type == "AWS::Lambda::Function" and res.physical_id:
                code = res.extra.get("code_dir")
                LambdaFunctionType.register(
                    self,
                    res.physical_id,
                    res.attributes.get("Arn", ""),
                    res.properties,
                    Path(code) if code else None,
                    res.logical_id,
                )
            if res.type == "AWS::CloudFormation::WaitConditionHandle" and res.physical_id:
                self.signals.open_handle(self.signals.token_of(res.physical_id), res.extra.get("signals"))

    def _cancel_at(self, when: float, tasks: dict[str, Task]) -> Proc:
        yield Sleep(max(0.0, when - self.now()))
        if not self.failing and not all(t.done for t in tasks.values()):
            self.failing = True
            self.first_failure = "User Initiated (operation cancelled)"
            self.journal.event(
                self.stack_name,
                f"{'UPDATE' if self.previous else 'CREATE'}_IN_PROGRESS",
                "User Initiated: cancelling",
            )

    def _cancel_waits_if_failing(self) -> None:
        if not self.failing:
            return
        for lid, task in self.tasks.items():
            res = self.resources.get(lid)
            if (
                not task.done
                and task.started
                and task.predicate is not None
                and res is not None
                and res.type == "AWS::CloudFormation::WaitCondition"
            ):
                self.sim.cancel(task)

    def _deploy_resource(self, lid: str, spec: dict[str, Any], deps: list[str], kind: str) -> Proc:
        def ready() -> bool:
            return self.failing or all(self.tasks[d].done for d in deps)

        if not ready():
            yield Until(ready)
        if self.failing or any(self.tasks[d].result != "ok" for d in deps):
            return "skipped"
        prev = self.resources.get(lid)
        type_name = spec["Type"]
        res = ResourceState(
            logical_id=lid,
            type=type_name,
            deletion_policy=spec.get("DeletionPolicy", "Delete"),
            update_replace_policy=spec.get("UpdateReplacePolicy", "Delete"),
            depends_on=deps,
        )
        try:
            props = Resolver(self.ctx).resolve(spec.get("Properties", {}))
        except TemplateError as error:
            action = "CREATE" if prev is None else "UPDATE"
            self.resources.setdefault(lid, res)
            self._fail(lid, f"{action}_FAILED", str(error), prev is None)
            return "failed"
        if prev is not None and prev.type == type_name and prev.properties == props:
            prev.deletion_policy, prev.update_replace_policy = res.deletion_policy, res.update_replace_policy
            prev.depends_on = deps
            self.journal.progress_done += 1
            return "ok"
        decision = None if prev is None else decide(type_name, prev.properties, props, self.region)
        if prev is None:
            action, op = "CREATE", Op(lid, type_name, props)
        elif decision is not None and decision.action == "Fail":
            self._refuse(lid, type_name, decision.reason)
            return "failed"
        elif decision is not None and decision.action == "Replace":
            action = "REPLACE"
            op = Op(lid, type_name, props, generation=prev.generation + 1)
        else:
            action = "UPDATE"
            op = Op(
                lid,
                type_name,
                props,
                old_properties=prev.properties,
                physical_id=prev.physical_id,
                attributes=dict(prev.attributes),
                extra=dict(prev.extra),
                generation=prev.generation,
            )
        verb = "CREATE" if action == "CREATE" else "UPDATE"
        self.touched[lid] = Touched(action, copy.deepcopy(prev), props)
        self.journal.timings[lid] = Timing(lid, type_name, action, self.now())
        self.journal.event(
            lid,
            f"{verb}_IN_PROGRESS",
            "Requested update requires the creation of a new physical resource; hence creating one."
            if action == "REPLACE"
            else "",
        )
        res.properties, res.generation, res.extra = props, op.generation, op.extra
        res.status = f"{verb}_IN_PROGRESS"
        if action == "UPDATE":
            res.physical_id, res.attributes = prev.physical_id, dict(prev.attributes)  # type: ignore[union-attr]
        # during an update, dependents keep seeing the old values until it completes
        self.resources[lid] = res if action != "UPDATE" or prev is None else copy.deepcopy(prev)
        try:
            perform = self._perform("update" if action == "UPDATE" else "create", op)
            physical_id, attributes = yield from perform
        except ResourceFailed as error:
            res.physical_id = op.physical_id
            if action == "UPDATE":
                self.touched[lid].failed_physical_id = op.physical_id
            else:
                self.resources[lid] = res
            self._fail(lid, f"{verb}_FAILED", str(error), action != "UPDATE")
            return "failed"
        except Exception as error:  # a runner bug or an unexpected client error: fail, loudly
            res.physical_id = op.physical_id
            if action != "UPDATE":
                self.resources[lid] = res
            self._fail(lid, f"{verb}_FAILED", f"{type(error).__name__}: {error}", action != "UPDATE")
            return "failed"
        res.physical_id, res.attributes, res.status = physical_id, dict(attributes), f"{verb}_COMPLETE"
        res.extra = op.extra
        if type_name == "AWS::CloudFormation::WaitConditionHandle":
            res.extra["token"] = self.signals.token_of(physical_id)
        self.resources[lid] = res
        if action == "UPDATE" and prev is not None and physical_id != prev.physical_id:
            self.touched[lid].action = "REPLACE"
        self.journal.timings[lid].end, self.journal.timings[lid].status = self.now(), res.status
        self.journal.event(lid, res.status, count=True)
        self._save()
        return "ok"

    def _refuse(self, lid: str, type_name: str, reason: str) -> None:
        """CloudFormation refuses this update (update_rules.py): the resource fails with its message
        before any provider is asked, keeps what was deployed, and the stack rolls back."""
        now = self.now()
        self.journal.timings[lid] = Timing(lid, type_name, "UPDATE", now, now, "UPDATE_FAILED")
        if not self.failing:
            self.first_failure = f"{lid}: {reason}"
        self.failing = True
        self.journal.event(lid, "UPDATE_FAILED", reason, count=True)

    def _fail(self, lid: str, status: str, reason: str, count: bool) -> None:
        if not self.failing:
            self.first_failure = f"{lid}: {reason}"
        self.failing = True
        if lid in self.resources:
            self.resources[lid].status, self.resources[lid].reason = status, reason
        if lid in self.journal.timings:
            self.journal.timings[lid].end, self.journal.timings[lid].status = self.now(), status
        self.journal.event(lid, status, reason, count=True)

    def _outputs(self, template: dict[str, Any]) -> dict[str, Any]:
        outputs = {}
        for name, spec in template.get("Outputs", {}).items():
            if spec.get("Condition") and not self.ctx.condition(spec["Condition"]):
                continue
            try:
                outputs[name] = Resolver(self.ctx).resolve(spec["Value"])
            except TemplateError as error:
                self.failing = True
                self.first_failure = f"output {name}: {error}"
                self.journal.event(
                    self.stack_name, "UPDATE_FAILED" if self.previous else "CREATE_FAILED", self.first_failure
                )
        return outputs

    def _perform(self, action: Action, op: Op) -> Proc:
        """A resource type's create, update or delete of `op`, attributed to its resource."""
        rtype = resource_type(op.type)
        if action == "create":
            proc = rtype.create(self, op)
        elif action == "update":
            proc = rtype.update(self, op)
        else:
            proc = rtype.delete(self, op)
        return self.attribution.scoped(proc, op.logical_id)

    def _rollback(self) -> Rollback:
        return Rollback(
            self.state,
            self.resources,
            self.deps,
            self.touched,
            self.journal,
            self.sim,
            self.deletion,
            self._perform,
        )

    # --- destroy -------------------------------------------------------------------------------
    def destroy(self) -> OperationResult:
        assert self.previous is not None
        state = self.previous
        wall = time.perf_counter()
        with self.world.active(), deferred_access_logs():
            calls_before = dict(self.world.stats.calls) if hasattr(self.world, "stats") else {}
            self._register_previous_functions()
            self.resources = state.resources
            self.deps = {lid: r.depends_on for lid, r in state.resources.items()}
            self.state = state
            self.deletion = Deletion(self.sim, self.journal, state, self._perform)
            state.retained = []
            self.journal.phase(len(state.resources))
            state.status = "DELETE_IN_PROGRESS"
            self._watch()
            self.journal.event(self.stack_name, state.status)
            self._save()
            keys = list(state.resources)
            failed = self.deletion.delete_all(keys, dict(state.resources), rollback=False)
            for lid in list(state.resources):
                if lid not in failed:
                    state.resources.pop(lid)
            state.status = "DELETE_FAILED" if failed else "DELETE_COMPLETE"
            state.reason = "; ".join(
                f"{lid}: {self.resources[lid].reason if lid in self.resources else ''}" for lid in failed
            )
            if not failed:
                state.outputs = {}
            self.journal.event(self.stack_name, state.status)
            ended = self.now()
            self._save()
            self._unwatch()
            left = [t.name for t in self.sim.drain(DRAIN_SECONDS)]
            self.observer.close(self.now())
            calls_after = dict(self.world.stats.calls) if hasattr(self.world, "stats") else {}
        return self._result("DELETE", state, ended, wall, calls_before, calls_after, left)

    # --- bookkeeping ---------------------------------------------------------------------------
    def _save(self) -> None:
        state = self.state
        state.resources = self.resources
        for res in state.resources.values():
            if res.type == "AWS::CloudFormation::WaitConditionHandle" and res.physical_id:
                res.extra["signals"] = self.signals.export(self.signals.token_of(res.physical_id))
        self.runner.store.save(state)

    def _result(
        self,
        kind: str,
        state: StackState,
        ended: float,
        wall: float,
        before: dict[str, int],
        after: dict[str, int],
        left: list[str],
    ) -> OperationResult:
        calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
        result = OperationResult(
            stack_name=self.stack_name,
            operation=kind,
            status=state.status,
            reason=state.reason,
            started=self.t0,
            ended=ended,
            wall_seconds=time.perf_counter() - wall,
            events=self.journal.events,
            timings=self.journal.timings,
            service_ops=self.observer.ops,
            api_calls=calls,
            lambda_invocations=sum(1 for i in self.lambdas.invocations if i.at >= self.t0),
            state_transitions=self.executions.transitions,
            dependencies=self.deps,
            notes=self.journal.notes,
            outputs=dict(state.outputs),
            changes=len(self.touched),
            left_running=left,
        )
        result.critical = report.critical_path(result)
        return result


@contextlib.contextmanager
def deferred_access_logs() -> Iterator[None]:
    """S3 delivers server access logs best-effort, typically hours later; moto writes them into the
    target bucket synchronously, which would refill an access-log bucket between its auto-delete
    and its deletion (a DELETE_FAILED real CloudFormation does not see). During a stack operation
    the deliveries are dropped (they would land after the operation, often in a deleted bucket)."""
    with moto_internals.access_logs_dropped():
        yield


__all__ = ["Engine", "OperationResult", "Runner", "StackError"]
