"""An Amazon States Language interpreter for the states the waiter uses, on the virtual clock.

Executions are started by handlers through moto's Step Functions API (states:StartExecution);
`Executions` notices them after each Lambda invocation, runs them here as background tasks of the
simulation, then writes the outcome back to moto (status, output, error, cause) so
DescribeExecution tells the truth.

Supported: Task (`arn:aws:states:::lambda:invoke` and a Lambda ARN as Resource), Wait (Seconds,
SecondsPath, Timestamp, TimestampPath), Choice, Pass, Succeed, Fail; InputPath, Parameters (with
".$" paths, the context object "$$" and a few intrinsic functions), ResultSelector, ResultPath,
OutputPath, Retry (IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds) and Catch. Any other
state type, resource or intrinsic is an `AslError` naming it. JSONata and jitter are not emulated.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.emulator import moto_internals
from local.emulator.moto_internals import RunningExecution
from local.runner.lambdas import LambdaError, LambdaService
from local.runner.observe import Attribution
from local.runner.sim import Proc, Simulation, Sleep, Task

STATE_TYPES = ("Task", "Wait", "Choice", "Pass", "Succeed", "Fail")
LAMBDA_INVOKE = re.compile(r"^arn:aws[a-z-]*:states:::lambda:invoke$")
LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:.+$")


class AslError(Exception):
    """The definition uses something the interpreter does not know (or is malformed)."""


class StatesError(Exception):
    """A runtime error inside an execution: `error` is matched by Retry/Catch ErrorEquals."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


# --- JSONPath (the reference-path subset ASL uses) ------------------------------------------------
_TOKEN = re.compile(r"\.([A-Za-z0-9_$@\-?]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def _path_tokens(path: str) -> list[str | int]:
    if path == "$":
        return []
    if not path.startswith("$"):
        raise AslError(f"not a JSONPath: {path!r}")
    tokens: list[str | int] = []
    pos = 1
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match:
            raise AslError(f"JSONPath {path!r} is not supported (at {path[pos:]!r})")
        name, index, quoted, dquoted = match.groups()
        tokens.append(int(index) if index is not None else (name or quoted or dquoted or ""))
        pos = match.end()
    return tokens


_MISSING = object()


def get_path(data: Any, path: str, context: Any = None) -> Any:
    if path.startswith("$$"):
        return get_path(context, path[1:])
    node = data
    for token in _path_tokens(path):
        if isinstance(token, int) and isinstance(node, list) and token < len(node):
            node = node[token]
            continue
        if not (isinstance(token, str) and isinstance(node, dict) and token in node):
            raise StatesError("States.Runtime", f"the JSONPath {path!r} could not be found in the input")
        node = node[token]
    return node


def has_path(data: Any, path: str) -> bool:
    try:
        get_path(data, path)
        return True
    except StatesError:
        return False


def set_path(data: Any, path: str | None, value: Any) -> Any:
    """ResultPath: None discards the result; "$" replaces the input."""
    if path is None:
        return data
    tokens = _path_tokens(path)
    if not tokens:
        return value
    root = copy.deepcopy(data) if isinstance(data, dict) else {}
    node = root
    for token in tokens[:-1]:
        if not isinstance(token, str):
            raise AslError(f"ResultPath {path!r}: list indexes are not supported")
        if not isinstance(node.get(token), dict):
            node[token] = {}
        node = node[token]
    last = tokens[-1]
    if not isinstance(last, str):
        raise AslError(f"ResultPath {path!r}: list indexes are not supported")
    node[last] = value
    return root


# --- payload templates (Parameters / ResultSelector) --------------------------------------------
_INTRINSIC = re.compile(r"^States\.([A-Za-z0-9]+)\((.*)\)$", re.S)


def render(template: Any, data: Any, context: Any) -> Any:
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str):
                    raise AslError(f"{key}: a '.$' field needs a path string, got {value!r}")
                out[key[:-2]] = _evaluate(value, data, context)
            else:
                out[key] = render(value, data, context)
        return out
    if isinstance(template, list):
        return [render(v, data, context) for v in template]
    return template


def _evaluate(expression: str, data: Any, context: Any) -> Any:
    expression = expression.strip()
    if expression.startswith("$"):
        return get_path(data, expression, context)
    match = _INTRINSIC.match(expression)
    if not match:
        raise AslError(f"cannot evaluate {expression!r}")
    name, raw_args = match.groups()
    args = [_argument(a, data, context) for a in _split_args(raw_args)]
    if name == "Format":
        template, rest = str(args[0]), list(args[1:])
        return re.sub(r"\{\}", lambda _: _fmt(rest.pop(0)) if rest else "{}", template)
    if name == "StringToJson":
        return json.loads(args[0])
    if name == "JsonToString":
        return json.dumps(args[0], separators=(",", ":"))
    if name == "Array":
        return list(args)
    if name == "MathAdd":
        return int(args[0]) + int(args[1])
    raise AslError(f"intrinsic function States.{name} is not supported by the local interpreter")


def _fmt(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _split_args(raw: str) -> list[str]:
    args, depth, quote, current = [], 0, False, ""
    for ch in raw:
        if ch == "'" and depth == 0:
            quote = not quote
        if ch == "," and depth == 0 and not quote:
            args.append(current.strip())
            current = ""
            continue
        depth += (ch == "(") - (ch == ")") if not quote else 0
        current += ch
    if current.strip():
        args.append(current.strip())
    return args


def _argument(arg: str, data: Any, context: Any) -> Any:
    if arg.startswith("'") and arg.endswith("'"):
        return arg[1:-1].replace("\\'", "'")
    if arg.startswith("$") or arg.startswith("States."):
        return _evaluate(arg, data, context)
    return json.loads(arg)


# --- Choice rules ------------------------------------------------------------------------------
_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}
_KINDS: dict[str, Callable[[Any], bool]] = {
    "String": lambda v: isinstance(v, str),
    "Numeric": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "Timestamp": lambda v: isinstance(v, str),
}


def choice_matches(rule: dict[str, Any], data: Any, context: Any) -> bool:
    if "And" in rule:
        return all(choice_matches(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(choice_matches(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not choice_matches(rule["Not"], data, context)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise AslError(f"Choice rule without Variable: {rule!r}")
    present = has_path(data, variable)
    value = get_path(data, variable, context) if present else None
    for key, expected in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key == "IsPresent":
            return present == bool(expected)
        if not present:
            return False
        if key == "IsNull":
            return (value is None) == bool(expected)
        if key in ("IsString", "IsNumeric", "IsBoolean", "IsTimestamp"):
            return _KINDS[key[2:]](value) == bool(expected)
        if key == "StringMatches":
            pattern = "^" + ".*".join(re.escape(p) for p in str(expected).split("*")) + "$"
            return isinstance(value, str) and re.match(pattern, value) is not None
        for kind in ("String", "Numeric", "Boolean", "Timestamp"):
            if key.startswith(kind):
                op = key[len(kind) :]
                if op.endswith("Path"):
                    op, expected = op[:-4], get_path(data, expected, context)
                if op not in _COMPARATORS or (kind == "Boolean" and op != "Equals"):
                    break
                if not _KINDS[kind](value):
                    return False
                return _COMPARATORS[op](value, expected)
        raise AslError(f"Choice comparison {key} is not supported by the local interpreter")
    raise AslError(f"Choice rule without a comparison: {rule!r}")


def _matches(error: str, equals: list[str]) -> bool:
    if "States.ALL" in equals:
        return True
    if error in equals:
        return True
    return "States.TaskFailed" in equals and error != "States.Timeout"


# --- the execution -----------------------------------------------------------------------------
@dataclass
class ExecutionResult:
    status: str  # SUCCEEDED | FAILED
    output: Any = None
    error: str | None = None
    cause: str | None = None


@dataclass
class Interpreter:
    """Runs one execution of a definition; `transitions` counts state entries."""

    definition: dict[str, Any]
    lambdas: LambdaService
    now: Callable[[], float]
    execution_arn: str = ""
    execution_name: str = ""
    state_machine_arn: str = ""
    #: the state machine's execution role, and who says whether it may invoke a function
    #: (role ARN, function ARN, session name) -> refusal message or None
    role_arn: str = ""
    authorize: Callable[[str, str, str], str | None] | None = None
    transitions: int = 0
    trace: list[tuple[float, str]] = field(default_factory=list)

    def validate(self) -> None:
        """Fail before running on any state, resource or option the interpreter does not know."""
        if self.definition.get("QueryLanguage", "JSONPath") != "JSONPath":
            raise AslError("QueryLanguage JSONata is not supported by the local interpreter")
        states = self.definition.get("States")
        if not isinstance(states, dict) or self.definition.get("StartAt") not in states:
            raise AslError("definition needs StartAt naming one of its States")
        for name, state in states.items():
            kind = state.get("Type")
            if kind not in STATE_TYPES:
                raise AslError(f"state {name!r}: type {kind} is not supported by the local interpreter")
            if kind == "Task":
                resource = str(state.get("Resource", ""))
                if not (LAMBDA_INVOKE.match(resource) or LAMBDA_ARN.match(resource)):
                    raise AslError(f"state {name!r}: Task resource {resource} is not supported locally")

    def run(self, execution_input: Any) -> Proc:
        """A sim task: yields Sleeps for Wait states and retries, returns an ExecutionResult."""
        self.validate()
        states = self.definition["States"]
        started = self.now()
        context = {
            "Execution": {
                "Id": self.execution_arn,
                "Name": self.execution_name,
                "Input": execution_input,
                "StartTime": _iso(started),
            },
            "StateMachine": {"Id": self.state_machine_arn},
            "State": {},
        }
        timeout = self.definition.get("TimeoutSeconds")
        name = self.definition["StartAt"]
        data = execution_input
        while True:
            if timeout is not None and self.now() - started > float(timeout):
                return ExecutionResult("TIMED_OUT", error="States.Timeout", cause="execution timed out")
            state = states[name]
            self.transitions += 1
            self.trace.append((self.now(), name))
            context["State"] = {"Name": name, "EnteredTime": _iso(self.now())}
            kind = state["Type"]
            try:
                if kind == "Succeed":
                    return ExecutionResult("SUCCEEDED", output=self._filter_out(state, data, data))
                if kind == "Fail":
                    return ExecutionResult(
                        "FAILED", error=state.get("Error", "States.Fail"), cause=state.get("Cause", "")
                    )
                effective = get_path(data, state["InputPath"], context) if state.get("InputPath") else data
                if kind == "Pass":
                    result = (
                        state["Result"]
                        if "Result" in state
                        else (
                            render(state["Parameters"], effective, context)
                            if "Parameters" in state
                            else effective
                        )
                    )
                    data = self._filter_out(state, data, result)
                elif kind == "Wait":
                    yield Sleep(self._wait_seconds(state, effective, context))
                    data = (
                        get_path(effective, state["OutputPath"], context)
                        if state.get("OutputPath")
                        else effective
                    )
                elif kind == "Choice":
                    for rule in state.get("Choices", []):
                        if choice_matches(rule, effective, context):
                            name = rule["Next"]
                            break
                    else:
                        if "Default" not in state:
                            raise StatesError("States.NoChoiceMatched", f"no choice matched in {name}")
                        name = state["Default"]
                    data = (
                        get_path(effective, state["OutputPath"], context)
                        if state.get("OutputPath")
                        else effective
                    )
                    continue
                elif kind == "Task":
                    result = yield from self._task(name, state, effective, context)
                    data = self._filter_out(state, data, result)
            except StatesError as error:
                catcher = next(
                    (c for c in state.get("Catch", []) if _matches(error.error, c["ErrorEquals"])), None
                )
                if catcher is None:
                    return ExecutionResult("FAILED", error=error.error, cause=error.cause)
                data = set_path(
                    data, catcher.get("ResultPath", "$"), {"Error": error.error, "Cause": error.cause}
                )
                name = catcher["Next"]
                continue
            if state.get("End"):
                return ExecutionResult("SUCCEEDED", output=data)
            name = state["Next"]

    def _filter_out(self, state: dict[str, Any], raw_input: Any, result: Any) -> Any:
        if "ResultSelector" in state and state["Type"] == "Task":
            result = render(state["ResultSelector"], result, {})
        data = set_path(raw_input, state.get("ResultPath", "$"), result)
        if "OutputPath" in state:
            if state["OutputPath"] is None:
                return {}
            return get_path(data, state["OutputPath"])
        return data

    def _wait_seconds(self, state: dict[str, Any], data: Any, context: Any) -> float:
        if "Seconds" in state:
            return float(state["Seconds"])
        if "SecondsPath" in state:
            value = get_path(data, state["SecondsPath"], context)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise StatesError("States.Runtime", f"SecondsPath {state['SecondsPath']} gave {value!r}")
            return float(value)
        stamp = state.get("Timestamp") or get_path(data, state.get("TimestampPath", "$"), context)
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
        return max(0.0, when - self.now())

    def _invoke(self, function: str, payload: Any) -> Any:
        """Invoke with the state machine's role: lambda:InvokeFunction must be allowed (a refusal
        is the Lambda service's AccessDeniedException, surfaced as Lambda.AWSLambdaException)."""
        if self.authorize is not None and self.role_arn:
            arn = self.lambdas.find(function).arn
            refused = self.authorize(self.role_arn, arn, self.execution_name or "execution")
            if refused is not None:
                raise LambdaError("AWSLambdaException", f"{refused} (Service: AWSLambda; Status Code: 403; "
                                  f"Error Code: AccessDeniedException)")
        return self.lambdas.invoke(function, payload)

    def _task(self, name: str, state: dict[str, Any], data: Any, context: Any) -> Proc:
        resource = state["Resource"]
        params = render(state["Parameters"], data, context) if "Parameters" in state else data
        retries = [dict(r, _count=0) for r in state.get("Retry", [])]
        while True:
            try:
                if LAMBDA_INVOKE.match(resource):
                    if not isinstance(params, dict) or "FunctionName" not in params:
                        raise AslError(f"state {name!r}: lambda:invoke needs Parameters.FunctionName")
                    payload = self._invoke(params["FunctionName"], params.get("Payload", data))
                    return {
                        "ExecutedVersion": "$LATEST",
                        "Payload": payload,
                        "StatusCode": 200,
                        "SdkHttpMetadata": {"HttpStatusCode": 200},
                        "SdkResponseMetadata": {},
                    }
                return self._invoke(resource, params)
            except LambdaError as failure:
                if failure.error_type == "ResourceNotFoundException":
                    error = StatesError("Lambda.ResourceNotFoundException", failure.message)
                elif failure.error_type == "AWSLambdaException":
                    error = StatesError("Lambda.AWSLambdaException", failure.message)
                else:
                    error = StatesError(
                        failure.error_type,
                        json.dumps({"errorMessage": failure.message, "errorType": failure.error_type}),
                    )
            retry = next((r for r in retries if _matches(error.error, r["ErrorEquals"])), None)
            if retry is None or retry["_count"] >= int(retry.get("MaxAttempts", 3)):
                raise error
            delay = (
                float(retry.get("IntervalSeconds", 1))
                * float(retry.get("BackoffRate", 2.0)) ** retry["_count"]
            )
            if "MaxDelaySeconds" in retry:
                delay = min(delay, float(retry["MaxDelaySeconds"]))
            retry["_count"] += 1
            yield Sleep(delay)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class Executions:
    """The executions of the local world's state machines that this stack operation runs: each
    RUNNING one not seen before becomes a daemon task (it does not hold up the operation), owned by
    the resource whose Lambda invocation started it; `transitions` counts their state entries."""

    def __init__(
        self,
        sim: Simulation,
        lambdas: LambdaService,
        now: Callable[[], float],
        account: str,
        region: str,
        attribution: Attribution,
        note: Callable[[str], None],
        authorize: Callable[[str, str, str], str | None] | None = None,
    ) -> None:
        self.sim = sim
        self.lambdas = lambdas
        self.now = now
        self.account = account
        self.region = region
        self.attribution = attribution
        self.note = note
        self.authorize = authorize
        self.tasks: dict[str, Task] = {}
        self.transitions = 0

    def start_new(self) -> None:
        for execution in moto_internals.running_executions(self.account, self.region):
            if execution.execution_arn in self.tasks:
                continue
            owner = self.attribution.current or "?"
            interpreter = Interpreter(
                json.loads(execution.definition),
                self.lambdas,
                self.now,
                execution.execution_arn,
                execution.name,
                execution.machine_arn,
                role_arn=execution.role_arn,
                authorize=self.authorize,
            )
            task = self.sim.spawn(
                self._run(interpreter, execution, owner), f"execution {execution.name}", daemon=True
            )
            self.tasks[execution.execution_arn] = task

    def _run(self, interpreter: Interpreter, execution: RunningExecution, owner: str) -> Proc:
        try:
            data = json.loads(execution.input or "{}")
            previous, self.attribution.current = self.attribution.current, owner
            result: ExecutionResult = yield from self.attribution.scoped(interpreter.run(data), owner)
            self.attribution.current = previous
        except Exception as error:  # an unsupported state or a malformed definition
            result = ExecutionResult("FAILED", error="States.Runtime", cause=str(error))
            self.note(f"execution {execution.name}: {error}")
        finally:
            self.transitions += interpreter.transitions
        moto_internals.finish_execution(
            execution,
            result.status,
            datetime.fromtimestamp(self.now(), UTC),
            json.dumps(result.output) if result.output is not None else None,
            result.error,
            result.cause,
        )
        return result
