"""Lambda entry points.

OnEvent function: `on_event` and `is_complete` (CDK Provider framework). Waiter function: `poll`
and `signal` (the Step Functions waiter for operations longer than a custom resource may wait).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError

from . import waiter
from .base import Ctx, Kind
from .batch_inference import BatchInferenceJob
from .campaign import Campaign
from .clients import Api, log
from .common import Event, HandlerError
from .data_object import DataObject
from .dataset import Dataset
from .dataset_group import DatasetGroup
from .event_tracker import EventTracker
from .filter import Filter
from .import_job import DatasetImportJob
from .metric_attribution import MetricAttribution
from .recommender import Recommender
from .schema import Schema
from .solution import Solution
from .solution_metrics import SolutionMetrics
from .solution_version import SolutionVersion

KINDS: dict[str, Kind] = {
    kind.resource_type: kind
    for kind in (DatasetGroup(), Schema(), Dataset(), DatasetImportJob(), Solution(), SolutionVersion(),
                 Campaign(), EventTracker(), Filter(), SolutionMetrics(), BatchInferenceJob(), DataObject(),
                 MetricAttribution(), Recommender())
}


def _context(raw: Mapping[str, Any]) -> tuple[Kind, Ctx]:
    event = Event.parse(raw)
    kind = KINDS.get(event.resource_type)
    if kind is None:
        raise HandlerError(f"{event.logical_id}: unknown resource type {event.resource_type!r}; "
                           f"this provider handles {sorted(KINDS)}")
    name = kind.display_name(event)
    return kind, Ctx(event=event, name=name, pz=Api("personalize", kind.label, name))


def _run(step: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    kind, ctx = _context(raw)
    log.info(json.dumps({"step": step, "request": ctx.event.request_type, "type": ctx.event.resource_type,
                         "logicalId": ctx.event.logical_id, "physicalId": ctx.event.physical_id}))
    named = f"{kind.label} {ctx.name}: "
    try:
        return kind.on_event(ctx) if step == "on_event" else kind.is_complete(ctx)
    except HandlerError as exc:
        # The contract names the resource in every error; shared pieces (coercion, paging) cannot.
        if str(exc).startswith(named):
            raise
        raise HandlerError(named + str(exc)) from exc
    except BotoCoreError as exc:  # endpoint, credentials, retries exhausted below the service
        raise HandlerError(f"{named}{ctx.event.request_type} failed: {exc}") from exc


def on_event(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Provider onEvent: start the create/update/delete; returns PhysicalResourceId and Data."""
    return _run("on_event", event)


def is_complete(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Provider isComplete: IsComplete (and Data when true); raises when the operation failed."""
    return _run("is_complete", event)


def poll(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Waiter Poll task: one describe, the state and the seconds until the next poll."""
    return waiter.poll(event)


def signal(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """Waiter Signal task: PUT the outcome to the WaitCondition handle."""
    return waiter.signal(event)
