"""The local template runner: deploys a synthesized CDK cloud assembly to the local world the way
CloudFormation would (see docs/local-runner.md, which maps its modules)."""

from local.runner.assembly import AssemblyError, CloudAssembly, StackArtifact
from local.runner.engine import Runner, StackError
from local.runner.intrinsics import TemplateError
from local.runner.results import OperationResult
from local.runner.state import StackState, StackStore

__all__ = [
    "AssemblyError",
    "CloudAssembly",
    "OperationResult",
    "Runner",
    "StackArtifact",
    "StackError",
    "StackState",
    "StackStore",
    "TemplateError",
]
