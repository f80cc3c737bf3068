"""The ASL interpreter alone: paths, templates, Choice rules, Retry/Catch, errors that name what is
unsupported. Lambdas here are plain Python functions registered in a LambdaService."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.emulator.clock import VirtualClock
from local.runner.lambdas import LambdaFunction, LambdaService
from local.runner.sim import Simulation
from local.runner.stepfunctions import AslError, Interpreter, choice_matches, get_path, render, set_path

ARN = "arn:aws:lambda:ap-southeast-2:123456789012:function:"


def service(tmp_path: Path, code: str) -> LambdaService:
    (tmp_path / "fns.py").write_text(code)
    lambdas = LambdaService("ap-southeast-2", lambda: 0.0)
    for name in ("echo", "boom", "count"):
        lambdas.register(LambdaFunction(name, ARN + name, f"fns.{name}", "python3.12", {}, tmp_path))
    return lambdas


CODE = """
calls = []
def echo(event, context):
    return {"got": event}
def boom(event, context):
    raise ValueError("no good")
def count(event, context):
    calls.append(1)
    if len(calls) < 3:
        raise TimeoutError("again")
    return len(calls)
"""


def run(definition: dict[str, Any], lambdas: LambdaService, data: Any) -> tuple[Any, float]:
    clock = VirtualClock(0)
    lambdas.now = clock.now
    interpreter = Interpreter(definition, lambdas, clock.now)
    sim = Simulation(clock)
    task = sim.spawn(interpreter.run(data), "x")
    sim.run()
    if task.error:
        raise task.error
    return task.result, clock.now()


def test_paths_and_templates() -> None:
    data = {"a": {"b": [1, {"c": 2}]}, "n": 5}
    assert get_path(data, "$.a.b[1].c") == 2
    assert get_path(data, "$['n']") == 5
    assert set_path(data, "$.x.y", 1)["x"] == {"y": 1} and "x" not in data
    assert render({"v.$": "$.n", "k": "lit", "f.$": "States.Format('{}-{}', $.n, 'z')"}, data, {}) == {
        "v": 5,
        "k": "lit",
        "f": "5-z",
    }
    assert render({"ctx.$": "$$.Execution.Id"}, data, {"Execution": {"Id": "e"}}) == {"ctx": "e"}


def test_choice_rules() -> None:
    data = {"s": "DONE", "n": 3, "b": True}
    assert choice_matches({"Variable": "$.s", "StringEquals": "DONE"}, data, {})
    assert choice_matches(
        {
            "And": [
                {"Variable": "$.n", "NumericGreaterThan": 2},
                {"Not": {"Variable": "$.b", "BooleanEquals": False}},
            ]
        },
        data,
        {},
    )
    assert choice_matches({"Variable": "$.missing", "IsPresent": False}, data, {})
    assert choice_matches({"Variable": "$.s", "StringMatches": "DO*"}, data, {})
    with pytest.raises(AslError, match="StringFrobnicates"):
        choice_matches({"Variable": "$.s", "StringFrobnicates": "x"}, data, {})


def test_task_wait_pass_and_catch(tmp_path: Path) -> None:
    lambdas = service(tmp_path, CODE)
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": ARN + "echo", "Payload": {"v.$": "$.v"}},
                "ResultSelector": {"out.$": "$.Payload.got.v"},
                "ResultPath": "$.r",
                "Next": "Nap",
            },
            "Nap": {"Type": "Wait", "SecondsPath": "$.r.out", "Next": "Fail?"},
            "Fail?": {
                "Type": "Task",
                "Resource": ARN + "boom",
                "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.err", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Pass", "Parameters": {"cause.$": "$.err.Error", "v.$": "$.v"}, "End": True},
        },
    }
    result, elapsed = run(definition, lambdas, {"v": 42})
    assert result.status == "SUCCEEDED"
    assert result.output == {"cause": "ValueError", "v": 42}
    assert elapsed == 42


def test_retry_backoff_on_the_virtual_clock(tmp_path: Path) -> None:
    lambdas = service(tmp_path, CODE)
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": ARN + "count",
                "End": True,
                "Retry": [
                    {
                        "ErrorEquals": ["TimeoutError"],
                        "IntervalSeconds": 3,
                        "BackoffRate": 2,
                        "MaxAttempts": 5,
                    }
                ],
            }
        },
    }
    result, elapsed = run(definition, lambdas, {})
    assert result.status == "SUCCEEDED" and result.output == 3
    assert elapsed == 3 + 6


def test_uncaught_error_fails_the_execution(tmp_path: Path) -> None:
    lambdas = service(tmp_path, CODE)
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ARN + "boom", "End": True}}}
    result, _ = run(definition, lambdas, {})
    assert result.status == "FAILED" and result.error == "ValueError" and "no good" in result.cause


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"Type": "Parallel", "Branches": [], "End": True}, "type Parallel is not supported"),
        ({"Type": "Map", "End": True}, "type Map is not supported"),
        ({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}, "sqs:sendMessage"),
    ],
)
def test_unsupported_states_are_errors_naming_them(
    tmp_path: Path, state: dict[str, Any], message: str
) -> None:
    interpreter = Interpreter({"StartAt": "S", "States": {"S": state}}, service(tmp_path, CODE), lambda: 0.0)
    with pytest.raises(AslError, match=message):
        interpreter.validate()
