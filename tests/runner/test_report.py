"""The critical path: only service durations count, along what each operation really blocked."""

from __future__ import annotations

from types import SimpleNamespace

from local.runner.observe import ServiceOp
from local.runner.report import critical_path, gantt
from local.runner.results import Timing


def result(timings: dict[str, tuple[float, float]], deps: dict[str, list[str]], ops: list[ServiceOp]):  # type: ignore[no-untyped-def]
    return SimpleNamespace(
        operation="CREATE",
        started=0.0,
        ended=max(e for _, e in timings.values()),
        service_ops=ops,
        dependencies=deps,
        timings={k: Timing(k, "Custom::X", "CREATE", s, e) for k, (s, e) in timings.items()},
        critical=None,
    )


def test_wait_condition_pattern_and_parallel_short_create() -> None:
    # Import starts an operation (100 s) and returns at once; its Wait completes when signalled
    # (late: 130). Solution (short op, 10 s, awaited by its own isComplete) depends on Import only:
    # it overlaps the import and must not add to the path. Train needs Wait and Solution.
    timings = {
        "Import": (0, 1),
        "Wait": (1, 130),
        "Solution": (1, 15),
        "Train": (130, 400),
        "TrainWait": (131, 410),
    }
    deps = {
        "Import": [],
        "Wait": ["Import"],
        "Solution": ["Import"],
        "Train": ["Wait", "Solution"],
        "TrainWait": ["Train"],
    }
    ops = [
        ServiceOp("import", "a", "Import", 0, 100),
        ServiceOp("solution", "b", "Solution", 1, 11),
        ServiceOp("training", "c", "Train", 130, 390),
    ]
    res = result(timings, deps, ops)
    path = critical_path(res)  # type: ignore[arg-type]
    assert path is not None
    assert path.seconds == 100 + 260
    assert [step for step, weight in path.chain if weight] == ["Import (import)", "Train (training)"]
    assert {"Import", "Wait", "Train", "TrainWait"} <= path.resources and "Solution" not in path.resources
    res.critical = path
    chart = gantt(res, "t")  # type: ignore[arg-type]
    assert "Wait :crit, 1, 130" in chart and "Solution :1, 15" in chart


def test_sequential_short_creates_add_up() -> None:
    timings = {"Group": (0, 30), "Dataset": (30, 50)}
    deps = {"Group": [], "Dataset": ["Group"]}
    ops = [ServiceOp("dataset-group", "g", "Group", 0, 20), ServiceOp("dataset", "d", "Dataset", 30, 45)]
    path = critical_path(result(timings, deps, ops))  # type: ignore[arg-type]
    assert path is not None and path.seconds == 20 + 15
