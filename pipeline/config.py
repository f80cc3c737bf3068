"""The pipeline configuration: one TOML file per environment, parsed into typed, frozen models.

One model serves app.py (synth), the stacks, and local/ (the runner and the local Personalize), so
what `cdk synth` accepts and what the local import job accepts can never drift apart.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.problems import Problem, ProblemReport
from pipeline.recipes import RECIPES, RecipeFamily, recipe_problem

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"

#: Personalize's name rule (every resource kind), from the API reference.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
NAME_MAX = 63
#: An environment name becomes part of stack names, bucket names and every Personalize name.
ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
#: CloudFormation's WaitCondition timeout ceiling.
MAX_WAIT_SECONDS = 12 * 3600
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(value: Any) -> int:
    """'6h', '90m', '45s' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '6h', '90m' or '600s', got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return int(match.group(1)) * _DURATION_UNITS[match.group(2)]
    raise ValueError(f"expected a duration like '6h', '90m' or '600s', got {value!r}")


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


def _check_name(value: str) -> str:
    if not 1 <= len(value) <= NAME_MAX or not NAME_PATTERN.match(value):
        raise ValueError(
            f"{value!r} is not a valid Personalize name: 1-{NAME_MAX} characters matching "
            f"{NAME_PATTERN.pattern}"
        )
    return value


Seconds = Annotated[int, BeforeValidator(parse_duration)]
OptionalStr = Annotated[str | None, BeforeValidator(_empty_to_none)]
ResourceName = Annotated[str, BeforeValidator(str), Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, populate_by_name=True)


class EnvironmentConfig(_Model):
    name: str
    region: OptionalStr = None
    account: OptionalStr = None
    removal_policy: Literal["destroy", "retain"] = "destroy"
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not a valid environment name: lowercase letters, digits and '-', "
                "starting with a letter, at most 15 characters"
            )
        return value

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"{value!r} is not an AWS account id: expected 12 digits")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", value):
            raise ValueError(f"{value!r} is not an AWS region name like 'ap-southeast-2'")
        return value


class DatasetGroupConfig(_Model):
    name: str
    kms_key_arn: OptionalStr = None

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+", value):
            raise ValueError(f"{value!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
        return value


class DatasetConfig(_Model):
    schema_path: str = Field(alias="schema")
    source: str
    import_mode: Literal["FULL", "INCREMENTAL"] = "FULL"
    import_timeout: Seconds = Field(default=4 * 3600, description="WaitCondition timeout for the import")

    @field_validator("import_timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        return _check_wait(value)

    @property
    def is_s3(self) -> bool:
        return self.source.startswith("s3://")


DatasetType = Literal["interactions", "items", "users"]


class DatasetsConfig(_Model):
    interactions: DatasetConfig
    items: DatasetConfig | None = None
    users: DatasetConfig | None = None

    def present(self) -> dict[DatasetType, DatasetConfig]:
        """The configured datasets, in import order."""
        found: dict[DatasetType, DatasetConfig] = {"interactions": self.interactions}
        if self.items is not None:
            found["items"] = self.items
        if self.users is not None:
            found["users"] = self.users
        return found


def _check_wait(value: int) -> int:
    if value <= 0 or value > MAX_WAIT_SECONDS:
        raise ValueError(
            f"{value}s is out of range: a WaitCondition waits at most 12h ({MAX_WAIT_SECONDS}s)"
        )
    return value


class SolutionConfig(_Model):
    name: str
    recipe: str
    auto_training: bool = False
    perform_hpo: bool = False
    training_timeout: Seconds = 6 * 3600
    event_type: OptionalStr = None
    #: Passed to CreateSolution's solutionConfig as-is (camelCase keys, as the API takes them).
    solution_config: dict[str, Any] = Field(default_factory=dict)

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @field_validator("training_timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        return _check_wait(value)

    @property
    def family(self) -> RecipeFamily:
        return RECIPES[self.recipe].family


class CampaignConfig(_Model):
    name: str
    solution: str
    min_provisioned_tps: int = 1
    create_timeout: Seconds = 2 * 3600
    #: Passed to CreateCampaign's campaignConfig (e.g. {"itemExplorationConfig": {...}}).
    campaign_config: dict[str, Any] = Field(default_factory=dict)

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))

    @field_validator("min_provisioned_tps")
    @classmethod
    def _tps(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"min_provisioned_tps must be at least 1, got {value}")
        return value

    @field_validator("create_timeout")
    @classmethod
    def _timeout(cls, value: int) -> int:
        return _check_wait(value)


class FilterConfig(_Model):
    name: str
    expression: str = Field(min_length=1, max_length=2500)

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))


class EventTrackerConfig(_Model):
    name: str

    _name = field_validator("name")(classmethod(lambda cls, v: _check_name(v)))


class PipelineConfig(_Model):
    environment: EnvironmentConfig
    dataset_group: DatasetGroupConfig
    datasets: DatasetsConfig
    solutions: list[SolutionConfig] = Field(min_length=1)
    campaigns: list[CampaignConfig] = Field(default_factory=list)
    filters: list[FilterConfig] = Field(default_factory=list)
    event_tracker: EventTrackerConfig | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> PipelineConfig:
        # Collected as ValueError text; load_config turns each into a Problem with its location.
        errors: list[str] = []
        for kind, items in (("solutions", self.solutions), ("campaigns", self.campaigns), ("filters", self.filters)):
            seen: set[str] = set()
            for item in items:
                if item.name in seen:
                    errors.append(f"{kind}: duplicate name {item.name!r}: names must be unique")
                seen.add(item.name)
        solutions = {s.name: s for s in self.solutions}
        for index, solution in enumerate(self.solutions):
            problem = recipe_problem(solution.recipe, self.datasets, solution.solution_config)
            if problem:
                errors.append(f"solutions[{index}] ({solution.name}).recipe: {problem}")
        for index, campaign in enumerate(self.campaigns):
            target = solutions.get(campaign.solution)
            if target is None:
                errors.append(
                    f"campaigns[{index}] ({campaign.name}).solution: {campaign.solution!r} is not a "
                    f"configured solution; expected one of {sorted(solutions)}"
                )
            elif target.recipe in RECIPES and RECIPES[target.recipe].family == RecipeFamily.USER_SEGMENTATION:
                errors.append(
                    f"campaigns[{index}] ({campaign.name}).solution: {campaign.solution!r} uses "
                    f"{target.recipe}, a USER_SEGMENTATION recipe: it serves batch segment jobs only, "
                    "never a campaign"
                )
        if errors:
            raise ValueError("\n".join(errors))
        return self


def config_path(env: str, config_dir: Path = CONFIG_DIR) -> Path:
    return config_dir / f"{env}.toml"


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of a key path in the TOML text (tomllib keeps no positions)."""
    keys = [part for part in loc if isinstance(part, str)]
    if not keys:
        return None
    lines = text.splitlines()
    # The deepest key that appears as `key =` or as a table header wins.
    for key in reversed(keys):
        pattern = re.compile(rf"^\s*(\[\[?\s*[\w.]*{re.escape(key)}\s*\]\]?|{re.escape(key)}\s*=)")
        for number, line in enumerate(lines, start=1):
            if pattern.match(line):
                return number
    return None


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_config(env: str = "dev", path: Path | None = None) -> PipelineConfig:
    """Read and check config/<env>.toml; raise ProblemReport listing every problem found."""
    path = path or config_path(env)
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.toml")) if path.parent.is_dir() else []
        raise ProblemReport(
            [Problem(str(path), None, None, env, f"no such config file; environments: {available}")]
        )
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None)
        raise ProblemReport([Problem(str(path), line, None, None, f"not valid TOML: {error}")]) from None
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            field = _format_loc(loc)
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = f"unknown key {str(loc[-1])!r}"
            value = item.get("input") if item["type"] != "missing" else None
            shown = None if isinstance(value, (dict, list)) else value
            for part in message.split("\n"):
                problems.append(Problem(str(path), _line_of(text, loc), field or None, shown, part))
        raise ProblemReport(problems) from None
    if config.environment.name != env and path == config_path(env):
        raise ProblemReport(
            [
                Problem(
                    str(path),
                    _line_of(text, ("environment", "name")),
                    "environment.name",
                    config.environment.name,
                    f"expected {env!r}: the file's name and its environment.name must agree",
                )
            ]
        )
    return config
