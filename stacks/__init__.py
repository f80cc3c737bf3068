"""Builds the CDK app: one place shared by app.py (the CLI) and the tests (fast, in-process)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from pipeline import validate as validation
from pipeline.config import PipelineConfig, config_path, load_config
from pipeline.naming import REPO_ROOT, stack_name
from pipeline.problems import Problem, ProblemReport, display_path
from stacks.acknowledgments import acknowledge_findings
from stacks.personalize_stack import PersonalizeStack

__all__ = ["PersonalizeStack", "build_app", "resolve_environment", "validate_config"]

DEFAULT_ENV = "dev"
#: cx-api's DISABLE_CREATION_STACK_TRACES (aws-cdk-lib has no Python constant for it).
DISABLE_CREATION_STACK_TRACES = "aws:cdk:disable-creation-stack-traces"


def resolve_environment(config: PipelineConfig) -> cdk.Environment:
    """Account and region from config, else from the CDK CLI (CDK_DEFAULT_*); neither needs credentials:
    without them the account stays a token and the template is environment-agnostic for it."""
    return cdk.Environment(
        account=config.environment.account or os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=config.environment.region or os.environ.get("CDK_DEFAULT_REGION"),
    )


def missing_files(config: PipelineConfig, root: Path) -> list[Problem]:
    """The files the stack itself reads at synth (schemas, local sources): a missing one is a
    clear config error, never a traceback. pipeline.validate checks their contents."""
    where = display_path(config_path(config.environment.name))
    under = display_path(root)
    problems = []
    for name, dataset in config.datasets.present().items():
        for field, value in (("schema", dataset.schema_path), ("source", dataset.source)):
            if field == "source" and dataset.is_s3:
                continue
            if not (root / value).is_file():
                problems.append(
                    Problem(where, None, f"datasets.{name}.{field}", value, f"no such file under {under}")
                )
    return problems


def validate_config(config: PipelineConfig, root: Path) -> list[Problem]:
    """Run pipeline.validate (schemas, data, recipes against data), then check the files synth reads;
    raise pipeline.problems.ProblemReport listing every error. Returns the warnings."""
    result = validation.validate(config, root)
    result.raise_for_errors()
    warnings = list(result.warnings)
    problems = missing_files(config, root)
    if problems:
        raise ProblemReport(problems)
    return warnings


def cdk_json_context(root: Path = REPO_ROOT) -> dict[str, object]:
    """cdk.json's context (feature flags), so an in-process App (tests, bench) synthesizes exactly
    what `cdk synth` does; under the CLI the same values also arrive through CDK_CONTEXT_JSON."""
    path = root / "cdk.json"
    if not path.is_file():
        path = REPO_ROOT / "cdk.json"
    context = json.loads(path.read_text(encoding="utf-8")).get("context", {})
    return {k: v for k, v in context.items() if k != "env"}


def build_app(
    env: str | None = None,
    outdir: str | None = None,
    *,
    config: PipelineConfig | None = None,
    root: Path = REPO_ROOT,
    asset_dir: Path | None = None,
    nag: bool = True,
    builtin_validation: bool = False,
    context: dict[str, object] | None = None,
) -> cdk.App:
    """The app for one environment, ready to `synth()`.

    `env` defaults to the `env` context (`cdk synth -c env=prod`), read here and only here. Raises
    ProblemReport (before any template is written) when the config or data is bad.

    Construct stack traces are off unless `cdk --debug` (CDK_DEBUG): under jsii they hold only
    "...aws-cdk-lib, jsii runtime..." frames, never a line of ours, and capturing one per construct
    is work cx-api's DISABLE_CREATION_STACK_TRACES documents as worth skipping for performance.
    (Set here, not in cdk.json: the CLI warns about `aws:` keys there.)

    `builtin_validation` is aws-cdk-lib's default CloudFormation rule engine: off by default because
    it costs ~5.7 s per synth on this template (more than everything else together, see
    bench/synth.py), reports warnings only, found nothing here, and cfn-lint checks the same
    templates with errors failing `make test` (tests/stack/test_cfn_lint.py).
    """
    debug = os.environ.get("CDK_DEBUG", "").lower() in ("1", "on", "true")  # `cdk --debug`
    app = cdk.App(
        outdir=outdir,
        context={**cdk_json_context(), **(context or {}), DISABLE_CREATION_STACK_TRACES: not debug},
        stack_traces=debug,
        builtin_cloud_formation_validation=builtin_validation,
    )
    env = env or app.node.try_get_context("env") or DEFAULT_ENV
    config = config or load_config(env)
    for warning in validate_config(config, root):
        print(warning, file=sys.stderr)
    try:
        stack = PersonalizeStack(
            app,
            stack_name(config.environment.name),
            config=config,
            root=root,
            asset_dir=asset_dir or root / "lambda",
            env=resolve_environment(config),
        )
    except ValueError as error:
        # Our own checks while building (a derived name too long, a wait out of range): a config
        # problem, reported like the validator's, not a traceback.
        where = display_path(config_path(config.environment.name))
        raise ProblemReport([Problem(where, None, None, None, str(error))]) from None
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        acknowledge_findings(stack)
    return app
