"""The core of the local Personalize: its state and the rules every kind of resource shares.

`Store` holds everything a saved world keeps of the local Personalize (resources, the timeline,
the duration model, quotas) and offers the parts of the backend (datasets, solutions, serving,
runtime, batch, tags) one public API: lookup, ARNs and names, tags, paging, and the timeline of
status transitions. The parts hold no state of their own and use nothing of each other's but
public functions, so a part can be read, changed or replaced alone.

Statuses are computed lazily: an operation schedules its transitions on a timeline (a heap of
(time, seq, action, arn, generation, payload)); every API call first applies the transitions due at
the clock's now, in time order, so results depend only on the clock, never on when or how often
anyone looked. An action names a handler registered with `on()` (the store's own: status, active,
failed, gone; the parts': import_start, train_done, ...); a resource's generation, bumped when it
is stopped or deleted, voids what was scheduled for it before.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from local.emulator.clock import Clock, VirtualClock
from local.emulator.faults import FaultInjector
from local.emulator.personalize import durations as dur
from local.emulator.personalize.errors import PersonalizeError, exists, in_use, invalid, not_found
from local.emulator.personalize.resources import (
    DELETING,
    IN_PROGRESS,
    DatasetGroup,
    Resource,
    Solution,
    SolutionVersion,
)

R = TypeVar("R", bound=Resource)
#: (account, region) of the caller: every control-plane operation runs in one
Context = tuple[str, str]
#: what happens when a scheduled action is due: (resource, the scheduled time, payload)
Transition = Callable[[Any, float, Any], None]

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
#: Default quotas (Personalize developer guide, "Amazon Personalize endpoints and quotas"; the
#: import message from "Common error messages"). Cited in docs/local-personalize.md.
QUOTAS = {
    "dataset_groups_per_region": 5,
    "schemas_per_region": 500,
    "imports_in_progress_per_region": 5,
    "solution_versions_in_progress_per_region": 20,
    "solutions_per_dataset_group": 10,
    "campaigns_per_dataset_group": 5,
    "filters_per_dataset_group": 10,
    "tags_per_resource": 50,
}
MAX_RESULTS = 100
#: the suffix of a solution ARN that names its latest solution version
LATEST = "/$LATEST"
#: attributes rebuilt on load, not saved
_TRANSIENT = ("lock", "_transitions")


class Store:
    """All accounts and regions of the local Personalize (ARNs carry both)."""

    def __init__(self, clock: Clock | None = None, faults: FaultInjector | None = None) -> None:
        self.clock: Clock = clock or VirtualClock()
        self.faults = faults or FaultInjector()
        self.durations = dur.Durations()
        #: a dict: tests may lower a quota
        self.quotas = dict(QUOTAS)
        self.resources: dict[str, Resource] = {}
        #: how many recommendations were served (runtime calls): part of each recommendationId
        self.served = 0
        #: recommendationId -> the campaign that answered it (metric attribution's source of an
        #: event that carries only a recommendationId)
        self.recommendation_sources: dict[str, str] = {}
        self._timeline: list[tuple[float, int, str, str, int, Any]] = []
        self._seq = 0
        #: held by every operation; World.save holds it too, so nothing changes while pickling
        self.lock = threading.RLock()
        self._transitions: dict[str, Transition] = {}
        self._register_own()

    def _register_own(self) -> None:
        self.on("status", lambda resource, at, status: self.set_status(resource, status, at))
        self.on("active", lambda resource, at, _: self.set_status(resource, "ACTIVE", at))
        self.on("failed", lambda resource, at, reason: self.set_status(resource, "CREATE FAILED", at, reason))
        self.on("gone", lambda resource, at, _: self.remove(resource))

    # --- pickling (the lock and the handlers are rebuilt) ---------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _TRANSIENT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("recommendation_sources", {})  # worlds saved before it existed
        self.lock = threading.RLock()
        self._transitions = {}
        self._register_own()

    # --- time and the timeline ------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def on(self, action: str, transition: Transition) -> None:
        """Register what happens when a scheduled `action` is due (one handler per action)."""
        if action in self._transitions:
            raise ValueError(f"the transition {action!r} is registered twice")
        self._transitions[action] = transition

    def schedule(self, at: float, action: str, resource: Resource, payload: Any = None) -> None:
        """Run `action` on `resource` at `at`, unless the resource's generation has moved on."""
        self._seq += 1
        heapq.heappush(self._timeline, (at, self._seq, action, resource.arn, resource.gen, payload))

    @property
    def sequence(self) -> int:
        """How many transitions were ever scheduled (part of a solution version's ARN)."""
        return self._seq

    def settle(self) -> None:
        """Apply every transition due by now (called at the start of every operation)."""
        with self.lock:
            now = self.now()
            while self._timeline and self._timeline[0][0] <= now:
                at, _, action, arn, gen, payload = heapq.heappop(self._timeline)
                resource = self.resources.get(arn)
                if resource is None or resource.gen != gen:
                    continue
                self._transitions[action](resource, at, payload)

    @contextlib.contextmanager
    def settled(self) -> Iterator[None]:
        """Hold the lock, with every transition due by now applied: how each operation runs."""
        with self.lock:
            self.settle()
            yield

    def next_transition(self) -> float | None:
        """When the next scheduled status change happens (for a runner jumping the clock)."""
        with self.lock:
            live = [e for e in self._timeline
                    if e[3] in self.resources and self.resources[e[3]].gen == e[4]]
            return min((e[0] for e in live), default=None)

    # --- statuses shared by every kind ----------------------------------------------------------
    def set_status(self, resource: Resource, status: str, at: float, reason: str | None = None) -> None:
        resource.status = status
        resource.updated = at
        if reason is not None:
            resource.failure_reason = reason

    def start_create(self, resource: Resource, total: float, done: str = "active") -> None:
        """CREATE PENDING now -> CREATE IN_PROGRESS -> `done` action at created + total."""
        t0 = resource.created
        self.schedule(t0 + dur.pending_part(total), "status", resource, "CREATE IN_PROGRESS")
        self.schedule(t0 + total, done, resource)

    def start_delete(self, resource: Resource, total: float) -> None:
        """DELETE PENDING now -> DELETE IN_PROGRESS -> gone; what was scheduled before is void."""
        now = self.now()
        resource.gen += 1
        self.set_status(resource, "DELETE PENDING", now)
        self.schedule(now + dur.pending_part(total), "status", resource, "DELETE IN_PROGRESS")
        self.schedule(now + total, "gone", resource)

    def check_deletable(self, resource: Resource) -> None:
        """ResourceInUseException while the resource is being created or deleted."""
        if resource.status in DELETING:
            raise in_use(f"Resource {resource.arn} is already being deleted (status: {resource.status}).")
        if resource.status in IN_PROGRESS:
            raise in_use(f"Resource {resource.arn} is in {resource.status} state and cannot be deleted.")

    # --- lookup ---------------------------------------------------------------------------------
    def all_of(self, kind: type[R], where: Callable[[R], bool] | None = None) -> list[R]:
        """Every resource of exactly this kind (all accounts and regions), optionally filtered."""
        found = [r for r in self.resources.values() if type(r) is kind]
        return [r for r in found if where is None or where(r)]

    def find(self, kind: type[R], arn: str | None) -> R:
        """The resource of this kind at `arn`; ResourceNotFoundException otherwise."""
        resource = self.resources.get(arn or "")
        if not isinstance(resource, kind):
            raise not_found(f"Resource Arn {arn} does not exist.")
        return resource

    @staticmethod
    def in_context(resource: Resource, ctx: Context) -> bool:
        return (resource.account, resource.region) == ctx

    def listed(self, kind: type[R], ctx: Context, where: Callable[[R], bool] | None = None) -> list[R]:
        """What a ListX operation shows: the caller's resources of a kind, newest first."""
        found = self.all_of(kind, lambda r: self.in_context(r, ctx) and (where is None or where(r)))
        return sorted(found, key=lambda r: (-r.created, r.arn))

    def active_dataset_group(self, arn: str | None) -> DatasetGroup:
        """The dataset group a new child goes into: it must be ACTIVE (ResourceInUseException)."""
        group = self.find(DatasetGroup, arn)
        if group.status != "ACTIVE":
            raise in_use(f"Dataset group {arn} is not in ACTIVE state (status: {group.status}).")
        return group

    def newest_active_version(self, solution_arn: str) -> SolutionVersion | None:
        """The solution's most recently created ACTIVE version: what `<solution ARN>/$LATEST`
        names (CreateCampaign's solutionVersionArn, botocore's model)."""
        active = self.all_of(SolutionVersion,
                             lambda v: v.solution_arn == solution_arn and v.status == "ACTIVE")
        return max(active, key=lambda v: (v.created, v.arn), default=None)

    def resolve_version(self, version_arn: str) -> str:
        """A solution version ARN as given, or `<solution ARN>/$LATEST` resolved to the solution's
        newest ACTIVE version (unchanged when there is none)."""
        if version_arn.endswith(LATEST):
            newest = self.newest_active_version(version_arn[: -len(LATEST)])
            return newest.arn if newest is not None else version_arn
        return version_arn

    def dataset_group_of(self, version_arn: str) -> str | None:
        """The dataset group of a solution version (through its solution), None when gone."""
        version = self.resources.get(self.resolve_version(version_arn))
        if isinstance(version, SolutionVersion):
            solution = self.resources.get(version.solution_arn)
            return solution.dataset_group_arn if isinstance(solution, Solution) else None
        return None

    # --- creating and removing ------------------------------------------------------------------
    @staticmethod
    def arn(ctx: Context, kind: str, name: str) -> str:
        account, region = ctx
        return f"arn:aws:personalize:{region}:{account}:{kind}/{name}"

    @staticmethod
    def check_name(name: Any, field: str = "name") -> str:
        if not isinstance(name, str) or not 1 <= len(name) <= 63 or not NAME_RE.match(name):
            raise invalid(f"1 validation error detected: Value '{name}' at '{field}' failed to satisfy "
                          r"constraint: Member must satisfy regular expression pattern: "
                          r"^[a-zA-Z0-9][a-zA-Z0-9\-_]* and have length between 1 and 63")
        return name

    def new(self, cls: type[R], ctx: Context, arn: str, name: str, tags: Any = None, **fields: Any) -> R:
        """A resource created now (not yet stored: check quotas, then `add` it)."""
        if arn in self.resources:
            raise exists(f"Another resource with Arn {arn} already exists.")
        now = self.now()
        return cls(arn=arn, name=name, account=ctx[0], region=ctx[1], created=now, updated=now,
                   tags=self.tags(tags), **fields)

    def add(self, resource: Resource) -> None:
        self.resources[resource.arn] = resource

    def remove(self, resource: Resource) -> None:
        """Gone, with what goes with it (OWNER_FIELD: import jobs, solution versions, batch jobs)."""
        self.resources.pop(resource.arn, None)
        owned = [r for r in self.resources.values()
                 if r.OWNER_FIELD is not None and getattr(r, r.OWNER_FIELD) == resource.arn]
        for child in owned:
            self.remove(child)

    def tags(self, tags: Any) -> dict[str, str]:
        """A request's `tags` list as a dict; InvalidInput or TooManyTags as the service answers."""
        result: dict[str, str] = {}
        for tag in tags or []:
            if not isinstance(tag, dict) or "tagKey" not in tag or "tagValue" not in tag:
                raise invalid("Each tag needs a tagKey and a tagValue.")
            result[str(tag["tagKey"])] = str(tag["tagValue"])
        self.check_tag_count(result)
        return result

    def check_tag_count(self, tags: dict[str, str]) -> None:
        if len(tags) > self.quotas["tags_per_resource"]:
            raise PersonalizeError("TooManyTagsException",
                                   f"A resource can have at most {self.quotas['tags_per_resource']} tags.")

    # --- paging ---------------------------------------------------------------------------------
    @staticmethod
    def page(items: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
        """One page of a ListX answer (maxResults, nextToken)."""
        size = int(params.get("maxResults") or MAX_RESULTS)
        if not 1 <= size <= MAX_RESULTS:
            raise invalid(f"maxResults must be between 1 and {MAX_RESULTS}, got {size}")
        start = 0
        if params.get("nextToken"):
            try:
                start = int(base64.b64decode(params["nextToken"]).decode())
            except Exception:
                raise PersonalizeError("InvalidNextTokenException", "The token is not valid.") from None
        page: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            page["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
        return page

    # --- inspection (tests, runner) -------------------------------------------------------------
    def list_all(self, prefix: str | None = None, kinds: Iterable[str] | None = None) -> list[Resource]:
        """Every resource (optionally whose name starts with `prefix`, of the given KINDs), after
        applying due transitions: what a test checks is left after a destroy."""
        with self.settled():
            wanted = set(kinds) if kinds else None
            return [r for r in self.resources.values()
                    if (prefix is None or r.name.startswith(prefix))
                    and (wanted is None or r.KIND in wanted)]

    def get(self, arn: str) -> Resource | None:
        with self.settled():
            return self.resources.get(arn)


class Part:
    """One concern of the backend: its operations (methods `op_<Operation>(ctx, params)`) and the
    transitions it registers on the store. Stateless: everything it keeps lives in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def operations(cls) -> list[str]:
        """The control-plane operations this part answers."""
        return sorted(name[3:] for name in dir(cls) if name.startswith("op_"))
