"""The Lambda service, in-process: functions recorded from the template, Python handlers loaded from
their asset directory and called with the function's environment.

Each function gets its own copy of the handler modules (as Lambda gives each function its own
process): while a function runs, its modules are installed in `sys.modules` under their real names
(so the handler's absolute and lazy imports resolve to its own asset), and taken out again
afterwards. Node.js functions (the CDK Provider framework, the S3 auto-delete and BucketDeployment
handlers) are never run: the runner emulates what they do.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any


class LambdaError(Exception):
    """A function error as Lambda reports it: errorType and errorMessage."""

    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


@dataclass
class LambdaContext:
    """The subset of the Lambda context object handlers use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


@dataclass
class LambdaFunction:
    name: str
    arn: str
    handler: str
    runtime: str
    environment: dict[str, str]
    code_dir: Path | None
    timeout: int = 3
    memory: int = 128
    logical_id: str = ""
    role_arn: str = ""
    _credentials: dict[str, str] | None = field(default=None, repr=False)
    _boto3_session: Any = field(default=None, repr=False)
    _modules: dict[str, ModuleType] = field(default_factory=dict, repr=False)
    _entry: Callable[..., Any] | None = field(default=None, repr=False)

    @property
    def is_python(self) -> bool:
        return self.runtime.startswith("python")


@dataclass
class InvocationRecord:
    function: str
    at: float
    ok: bool


class LogSink:
    """Where handlers' stdout/stderr go (Lambda sends them to CloudWatch Logs): one file, each
    line prefixed with the function name. A stable object, so loggers that captured sys.stdout at
    import keep writing here."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.current = "-"
        self._stream: Any = None

    def write(self, text: str) -> int:
        if self.path is None:
            return len(text)
        if self._stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open)
        for line in text.splitlines():
            if line.strip():
                self._stream.write(f"{self.current} {line}\n")
        return len(text)

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def isatty(self) -> bool:
        return False


class LambdaService:
    """Functions by ARN and name; `invoke` runs a Python handler in-process."""

    def __init__(self, region: str, now: Callable[[], float], log_path: Path | None = None) -> None:
        self.region = region
        self.now = now
        self.logs = LogSink(log_path)
        self.functions: dict[str, LambdaFunction] = {}
        self.invocations: list[InvocationRecord] = []
        #: called after every invocation (the runner looks for new Step Functions executions)
        self.after_invoke: list[Callable[[], None]] = []

    def register(self, fn: LambdaFunction) -> None:
        self.functions[fn.arn] = fn

    def unregister(self, arn: str) -> None:
        self.functions.pop(arn, None)

    def find(self, name_or_arn: str) -> LambdaFunction:
        if name_or_arn in self.functions:
            return self.functions[name_or_arn]
        for fn in self.functions.values():
            if name_or_arn in (fn.name, fn.arn.split(":function:")[-1]) or (
                name_or_arn.startswith(fn.arn + ":")
            ):
                return fn
        raise LambdaError("ResourceNotFoundException", f"Function not found: {name_or_arn}")

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        fn = self.find(name_or_arn)
        if not fn.is_python:
            raise LambdaError(
                "Runtime.NotEmulated",
                f"function {fn.name} ({fn.runtime}) cannot run locally: only Python handlers are run",
            )
        ok = False
        try:
            handler = self._entry(fn)
            context = LambdaContext(
                fn.name, fn.arn, fn.memory, fn.timeout, log_group_name=f"/aws/lambda/{fn.name}"
            )
            self.logs.current = fn.name
            with (
                _installed(fn),
                _environment(fn, self.region, self._credentials(fn)),
                _own_boto3_session(fn),
                contextlib.redirect_stdout(self.logs),
                contextlib.redirect_stderr(self.logs),
            ):
                try:
                    result = handler(event, context)
                except Exception as error:  # a function error, as Lambda reports it
                    raise LambdaError(
                        type(error).__name__, str(error), traceback.format_exception(error)[-6:]
                    ) from error
            ok = True
            return result
        finally:
            self.invocations.append(InvocationRecord(fn.name, self.now(), ok))
            for hook in self.after_invoke:
                hook()

    def _credentials(self, fn: LambdaFunction) -> dict[str, str]:
        """The execution role's temporary credentials (STS AssumeRole in moto, cached per function
        as a Lambda execution environment keeps them), so the world can tell which role calls."""
        if fn._credentials is None:
            fn._credentials = {}
            if fn.role_arn.startswith("arn:"):
                import boto3

                try:
                    creds = boto3.client("sts", region_name=self.region).assume_role(
                        RoleArn=fn.role_arn, RoleSessionName=fn.name[:64]
                    )["Credentials"]
                    fn._credentials = {
                        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                        "AWS_SESSION_TOKEN": creds["SessionToken"],
                    }
                except Exception:  # no STS in this world: the process credentials
                    fn._credentials = {}
        return fn._credentials

    def _entry(self, fn: LambdaFunction) -> Callable[..., Any]:
        if fn._entry is None:
            if fn.code_dir is None or not fn.code_dir.is_dir():
                raise LambdaError("Runtime.ImportModuleError", f"no code for {fn.name}: {fn.code_dir}")
            module_name, _, attr = fn.handler.rpartition(".")
            if not module_name:
                raise LambdaError("Runtime.MalformedHandlerName", f"bad handler {fn.handler!r}")
            with (
                _installed(fn),
                _environment(fn, self.region, self._credentials(fn)),
                _own_boto3_session(fn),
                contextlib.redirect_stdout(self.logs),
                contextlib.redirect_stderr(self.logs),
            ):
                try:
                    module = importlib.import_module(module_name)
                except Exception as error:
                    raise LambdaError(
                        "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
                    ) from error
            entry = getattr(module, attr, None)
            if not callable(entry):
                raise LambdaError(
                    "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'"
                )
            fn._entry = entry
        return fn._entry


def _top_level_names(code_dir: Path) -> set[str]:
    names = set()
    for entry in code_dir.iterdir():
        if entry.is_dir() and (entry / "__init__.py").exists():
            names.add(entry.name)
        elif entry.suffix == ".py":
            names.add(entry.stem)
    return names


@contextlib.contextmanager
def _installed(fn: LambdaFunction) -> Iterator[None]:
    """Put this function's own modules in sys.modules (and its code dir first on sys.path)."""
    assert fn.code_dir is not None
    names = _top_level_names(fn.code_dir)

    def ours(key: str) -> bool:
        return key.split(".", 1)[0] in names

    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if ours(k)}
    sys.modules.update(fn._modules)
    path = str(fn.code_dir)
    sys.path.insert(0, path)
    try:
        yield
    finally:
        for key in [k for k in sys.modules if ours(k)]:
            fn._modules[key] = sys.modules.pop(key)
        sys.modules.update(saved)
        with contextlib.suppress(ValueError):
            sys.path.remove(path)


@contextlib.contextmanager
def _own_boto3_session(fn: LambdaFunction) -> Iterator[None]:
    """boto3's default session for this function alone (as in its own Lambda process): a session
    resolves and caches credentials once, so a shared one would sign every function's calls with
    whichever credentials it saw first instead of each function's execution role."""
    import boto3

    saved = boto3.DEFAULT_SESSION
    if fn._boto3_session is None:
        fn._boto3_session = boto3.session.Session()  # reads the function's environment
    boto3.DEFAULT_SESSION = fn._boto3_session
    try:
        yield
    finally:
        boto3.DEFAULT_SESSION = saved


#: where Lambda puts a function's code (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html)
TASK_ROOT = "/var/task"


def _in_task_root(value: str, task_root: str) -> str:
    if value == TASK_ROOT or value.startswith(TASK_ROOT + "/"):
        return task_root + value[len(TASK_ROOT):]
    return value


@contextlib.contextmanager
def _environment(
    fn: LambdaFunction, region: str, credentials: dict[str, str] | None = None
) -> Iterator[None]:
    """The function's Environment.Variables plus the variables Lambda itself sets. Lambda unpacks the
    code into /var/task (LAMBDA_TASK_ROOT); here that is the asset folder, and a variable naming a
    path under /var/task names the same path in it."""
    task_root = str(fn.code_dir) if fn.code_dir is not None else TASK_ROOT
    values = {
        **(credentials or {}),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": fn.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
        "LAMBDA_TASK_ROOT": task_root,
        **{key: _in_task_root(value, task_root) for key, value in fn.environment.items()},
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
