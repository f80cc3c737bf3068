"""What the end-to-end tests share (their fixtures live in conftest.py): the real app synthesized
in-process (the same templates `cdk synth` writes), and a fresh local World with a runner over a
temporary state directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.emulator.world import World
from local.runner import CloudAssembly, Runner, StackArtifact, StackStore
from local.runner.inventory import leftovers
from pipeline.naming import stack_name

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig

REPO = Path(__file__).resolve().parents[2]


def synth(env: str, outdir: Path, root: Path = REPO, config: PipelineConfig | None = None) -> StackArtifact:
    """The app for `env` (its shipped config, or `config`) synthesized into `outdir`."""
    from pipeline.config import load_config
    from stacks import build_app

    app = build_app(
        env, str(outdir), config=config or load_config(env), root=root, asset_dir=REPO / "lambda", nag=False
    )
    app.synth()
    return CloudAssembly.load(outdir).stack(stack_name(env))


class Local:
    """A fresh world and runner over a temporary state directory."""

    def __init__(self, root: Path, artifact_region: str) -> None:
        self.world = World()
        self.lines: list[str] = []
        self.hooks: list[Callable[[str], None]] = []
        self.runner = Runner(self.world, StackStore(root), out=self._out, region=artifact_region)

    def _out(self, line: str) -> None:
        self.lines.append(line)
        for hook in self.hooks:
            hook(line)

    def left(self, env: str) -> dict[str, list[str]]:
        with self.world.active():
            name = stack_name(env)
            return leftovers(self.world, env, self.runner.region, self.runner.state(name), stack=name)

    def personalize(self, env: str) -> list[Any]:
        return [r for r in self.world.personalize.resources.values() if r.name.startswith(f"{env}-")]


# ---- metric attribution: events attributed to a source move its metric ----------------------------

#: "If you don't provide a source, Amazon Personalize labels the source SOURCE_NAME_UNDEFINED".
UNDEFINED_SOURCE = "SOURCE_NAME_UNDEFINED"


def attributed_metric_sum(
    world: World, region: str, *, metric: str, source: str, dataset_group_arn: str
) -> float:
    """The Sum of an attributed metric for one event attribution source over the last day, as the
    local CloudWatch holds it (namespace AWS/Personalize, dimensions EventAttributionSource and
    DatasetGroupArn, both names upper-cased as Personalize publishes them). Call inside
    `world.active()`."""
    from datetime import UTC, datetime, timedelta

    import boto3

    now = datetime.fromtimestamp(world.now(), UTC)
    points = boto3.client("cloudwatch", region_name=region).get_metric_statistics(
        Namespace="AWS/Personalize",
        MetricName=metric.upper(),
        Dimensions=[
            {"Name": "EventAttributionSource", "Value": source.upper()},
            {"Name": "DatasetGroupArn", "Value": dataset_group_arn},
        ],
        StartTime=now - timedelta(days=1),
        EndTime=now + timedelta(hours=1),
        Period=900,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def send_attributed_events(
    world: World,
    region: str,
    *,
    tracking_id: str,
    dataset_group_arn: str,
    recommendation: dict[str, Any],
    served_by: str,
    event_type: str,
    metric: str,
    source: str | None = None,
    user_id: str = "u0001",
    count: int = 3,
) -> float:
    """Send `count` PutEvents of `event_type` on the first item of `recommendation` (a
    GetRecommendations answer from the campaign or recommender whose ARN is `served_by`), each with
    its recommendationId and, when `source` is given, metricAttribution.eventAttributionSource; then
    assert that `metric` moved for that source (the given one, else the campaign or recommender the
    recommendationId came from) and only there. Returns how much it moved (`count` for a
    SAMPLECOUNT() metric). Call inside `world.active()`; the stack's metric attribution must be
    ACTIVE and list `metric` for `event_type`."""
    import boto3

    label = source or served_by
    item = recommendation["itemList"][0]["itemId"]

    def reading() -> tuple[float, float]:
        return (
            attributed_metric_sum(
                world, region, metric=metric, source=label, dataset_group_arn=dataset_group_arn
            ),
            attributed_metric_sum(
                world, region, metric=metric, source=UNDEFINED_SOURCE, dataset_group_arn=dataset_group_arn
            ),
        )

    before, undefined_before = reading()
    event: dict[str, Any] = {
        "eventType": event_type,
        "itemId": item,
        "sentAt": world.now(),
        "recommendationId": recommendation["recommendationId"],
    }
    if source is not None:
        event["metricAttribution"] = {"eventAttributionSource": source}
    events = boto3.client("personalize-events", region_name=region)
    for index in range(count):
        events.put_events(
            trackingId=tracking_id,
            userId=user_id,
            sessionId=f"attributed-{index}",
            eventList=[{**event, "eventId": f"attributed-{label[-12:]}-{index}"}],
        )
    after, undefined_after = reading()
    assert after > before, f"{metric.upper()} did not move for source {label.upper()} ({before} -> {after})"
    assert undefined_after == undefined_before, "attributed events were counted as SOURCE_NAME_UNDEFINED"
    return after - before


# ---- a solution updated in place: automatic training switched on with a schedule -----------------

AUTO_TRAINING_OFF = (
    "auto_training = false               # the service's default retrains weekly, billed each time")
AUTO_SCHEDULE = "rate(3 days)"


def auto_training_on(tmp_path: Path) -> StackArtifact:
    """dev with its user-personalization solution's automatic training on, every AUTO_SCHEDULE."""
    from tests.stack.helpers import config_with

    def edit(text: str) -> str:
        assert AUTO_TRAINING_OFF in text, "config/dev.toml's auto_training line changed"
        on = f'auto_training = true\nauto_training_schedule = "{AUTO_SCHEDULE}"'
        return text.replace(AUTO_TRAINING_OFF, on)

    return synth("dev", tmp_path / "cdk-auto-training-on", config=config_with("dev", tmp_path, edit))
