"""The end-of-operation summary, the critical path and the mermaid timeline, read from an
`OperationResult` (results.py).

Critical path: the floor no orchestration could beat. Each stack resource weighs the time the
service spent on the operations its handler started (the union of their [start, end] intervals, as
the local Personalize recorded them: an import job from CreateDatasetImportJob to ACTIVE, a
training, a campaign creation or update). The critical path is the heaviest chain through the
template's dependency graph (DependsOn, Ref, GetAtt, Sub): a perfect orchestrator that starts each
operation the instant its inputs exist and notices completion instantly would still need that long.
Virtual deploy time / critical path is then the overhead of polling, waiting and ordering (1.0 is
perfect); resources with no service operation (S3, IAM, Lambda records) weigh nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from local.runner.results import CriticalPath, OperationResult, hms


def _union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def service_seconds(result: OperationResult) -> dict[str, float]:
    by_resource: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for op in result.service_ops:
        end = op.end if op.end is not None else result.ended
        if end >= op.start:
            by_resource[op.resource].append((op.start, end))
    return {lid: _union(spans) for lid, spans in by_resource.items()}


def critical_path(result: OperationResult) -> CriticalPath | None:
    """Earliest start/finish of every resource if only the service's own durations counted.

    An operation started by resource R is *awaited* by R when it ended before R completed (the
    Provider's isComplete waited for it); otherwise by the first of R's dependents to complete
    after it ended (the WaitCondition its signal released). Then, with zero overhead:
      ES(X) = max EF(dependencies)         (unchanged resources of an update: already there)
      EF(X) = max(ES(X), OS(o) + duration(o) for each operation o awaited by X)
      OS(o) = ES(owner of o) + durations of the owner's earlier operations
    The critical path is max EF; the chain is walked back through what set each EF and ES.
    """
    if result.operation == "DELETE" or not result.service_ops:
        return None
    timings = result.timings
    deps = {lid: [d for d in ds if d in timings] for lid, ds in result.dependencies.items() if lid in timings}
    if not deps:
        return None
    dependents: dict[str, list[str]] = defaultdict(list)
    for lid, ds in deps.items():
        for dep in ds:
            dependents[dep].append(lid)
    eps = 1e-6

    def descendants(lid: str) -> set[str]:
        seen: set[str] = set()
        todo = list(dependents.get(lid, []))
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(dependents.get(node, []))
        return seen

    awaited: dict[str, list[tuple[Any, float]]] = defaultdict(list)  # awaiter -> [(op, offset)]
    by_owner: dict[str, list[Any]] = defaultdict(list)
    for op in result.service_ops:
        if op.end is not None and op.resource in timings:
            by_owner[op.resource].append(op)
    for owner, ops in by_owner.items():
        ops.sort(key=lambda o: o.start)
        owner_end = timings[owner].end
        for i, op in enumerate(ops):
            offset = sum(p.end - p.start for p in ops[:i] if p.end is not None and p.end <= op.start + eps)
            if owner_end is not None and op.end <= owner_end + eps:
                awaited[owner].append((op, offset))
                continue
            later = [
                x
                for x in descendants(owner)
                if timings[x].end is not None
                and timings[x].end >= op.end - eps
                and timings[x].start <= op.end + eps
            ]
            if later:
                awaiter = min(later, key=lambda x: (timings[x].end, x))
                awaited[awaiter].append((op, offset))

    es: dict[str, tuple[float, str | None]] = {}
    ef: dict[str, tuple[float, Any]] = {}  # value, (op, owner) that set it or None

    def finish(lid: str, stack: frozenset[str] = frozenset()) -> float:
        if lid in ef:
            return ef[lid][0]
        if lid in stack:
            return 0.0
        start, source = 0.0, None
        for dep in deps.get(lid, []):
            value = finish(dep, stack | {lid})
            dep_end = timings[dep].end or 0.0
            src_end = timings[source].end or 0.0 if source else float("-inf")
            if value > start + eps or (abs(value - start) <= eps and dep_end > src_end):
                start, source = value, dep
        es[lid] = (start, source)
        best: tuple[float, Any] = (start, None)
        for op, offset in awaited.get(lid, []):
            if op.resource == lid:
                op_start = start
            else:
                finish(op.resource, stack | {lid})  # settles the owner's earliest start, es[owner]
                op_start = es[op.resource][0]
            value = op_start + offset + (op.end - op.start)
            if value > best[0] + eps:
                best = (value, op)
        ef[lid] = best
        return best[0]

    for lid in sorted(deps):
        finish(lid)
    last = max(sorted(deps), key=lambda x: (round(ef[x][0], 6), timings[x].end or 0.0))
    total = ef[last][0]
    path = CriticalPath(total)
    node: str | None = last
    guard = 0
    while node is not None and guard < 10_000:
        guard += 1
        path.resources.add(node)
        op = ef[node][1]
        if op is not None:
            path.chain.append((f"{op.resource} ({op.kind})", op.end - op.start))
            path.ops.append(op)
            path.resources.add(op.resource)
            node = es[op.resource][1]
        else:
            path.chain.append((node, 0.0))
            node = es[node][1]
    path.chain.reverse()
    return path


def describe_calls(calls: dict[str, int]) -> int:
    return sum(n for k, n in calls.items() if k.split(":", 1)[-1].startswith(("Describe", "List", "Get")))


def summary(result: OperationResult, timeline_path: str | None = None) -> str:
    total_calls = sum(result.api_calls.values())
    describes = describe_calls(result.api_calls)
    lines = [f"{result.stack_name}: {result.status}" + (f"  ({result.reason})" if result.reason else "")]
    lines.append(f"  virtual {result.operation.lower()} time  {hms(result.virtual_seconds)}")
    cp = result.critical
    if result.operation == "UPDATE" and result.changes == 0:
        lines.append("  no changes: every resource's resolved properties match the deployed ones")
    elif cp is not None and cp.seconds > 0:
        lines.append(f"  critical path       {hms(cp.seconds)}  {cp.text()}")
        lines.append(
            f"  ratio               {result.virtual_seconds / cp.seconds:.3f}  "
            "(virtual time / critical path; 1.000 is the floor)"
        )
        hours = sum(service_seconds(result).values()) / 3600
        personalize_describes = sum(
            n for k, n in result.api_calls.items() if k.startswith("personalize:Describe")
        )
        if hours > 0:
            lines.append(
                f"  describe calls      {personalize_describes / hours:.1f} per operation-hour "
                f"({personalize_describes} over {hours:.2f} h of service operations)"
            )
    elif result.operation != "DELETE":
        lines.append("  critical path       n/a (no service operations were recorded)")
    other = total_calls - describes
    lines.append(f"  API calls           {total_calls} (describe/list/get {describes}, other {other})")
    lines.append(f"  Lambda invocations  {result.lambda_invocations}")
    lines.append(f"  state transitions   {result.state_transitions}")
    lines.append(f"  wall time           {result.wall_seconds:.1f} s")
    if result.left_running:
        lines.append(f"  still running       {', '.join(result.left_running)}")
    if timeline_path:
        lines.append(f"  timeline            {timeline_path}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def gantt(result: OperationResult, title: str) -> str:
    """A mermaid gantt of the resources that took time, and the service operations; the critical
    path marked `crit`."""
    critical = result.critical.resources if result.critical else set()
    crit_ops = {id(op) for op in result.critical.ops} if result.critical else set()
    lines = [
        "```mermaid",
        "gantt",
        f"    title {title}",
        "    dateFormat X",
        "    axisFormat %H:%M",
        "    todayMarker off",
    ]
    t0 = result.started
    lines.append("    section Stack resources")
    shown = 0
    for timing in sorted(result.timings.values(), key=lambda t: (t.start, t.logical_id)):
        end = timing.end if timing.end is not None else result.ended
        instant = end - timing.start < 1
        if instant and (timing.logical_id not in critical or not timing.type.startswith("Custom::")):
            continue
        tag = "crit, " if timing.logical_id in critical else ""
        if timing.status.endswith("FAILED"):
            tag += "done, "
        start, stop = int(timing.start - t0), max(int(end - t0), int(timing.start - t0) + 1)
        lines.append(f"    {_label(timing.logical_id)} :{tag}{start}, {stop}")
        shown += 1
    if result.service_ops:
        lines.append("    section Service operations")
        for op in sorted(result.service_ops, key=lambda o: o.start):
            end = op.end if op.end is not None else result.ended
            tag = "crit, " if id(op) in crit_ops else ""
            name = f"{op.kind} {op.arn.rsplit('/', 1)[-1]}"
            start, stop = int(op.start - t0), max(int(end - t0), int(op.start - t0) + 1)
            lines.append(f"    {_label(name)} :{tag}{start}, {stop}")
    lines.append("```")
    return "\n".join(lines)


def _label(text: str) -> str:
    return text.replace(":", " ").replace("#", " ")[:60]


def timeline_markdown(result: OperationResult, title: str) -> str:
    cp = result.critical
    head = [
        f"# {title}",
        "",
        f"{result.stack_name} {result.operation.lower()}: {result.status}, virtual time "
        f"{hms(result.virtual_seconds)}.",
    ]
    if cp is not None and cp.seconds > 0:
        head.append(
            f"Critical path {hms(cp.seconds)} ({cp.text()}); ratio "
            f"{result.virtual_seconds / cp.seconds:.3f}. Bars marked red (crit) are on it."
        )
    head.append("Times are virtual, from the start of the operation (the axis shows them as HH:MM).")
    return "\n".join(head) + "\n\n" + gantt(result, title) + "\n"


def as_dict(result: OperationResult) -> dict[str, Any]:
    cp = result.critical
    return {
        "stack": result.stack_name,
        "operation": result.operation,
        "status": result.status,
        "virtual_seconds": result.virtual_seconds,
        "critical_path_seconds": cp.seconds if cp else None,
        "ratio": (result.virtual_seconds / cp.seconds) if cp and cp.seconds else None,
        "api_calls": sum(result.api_calls.values()),
        "describe_calls": describe_calls(result.api_calls),
        "lambda_invocations": result.lambda_invocations,
        "state_transitions": result.state_transitions,
        "wall_seconds": result.wall_seconds,
    }
