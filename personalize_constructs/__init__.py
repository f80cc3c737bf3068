"""One construct per concern of the Personalize pipeline; stacks/ composes them.

Every construct takes its inputs as explicit typed arguments (no context lookups) and exposes what
others need as typed attributes, so the stack reads as the dependency graph it creates.
"""

from personalize_constructs.hashing import file_digest, logical_label
from personalize_constructs.long_wait import LongWait
from personalize_constructs.provider import PersonalizeProvider
from personalize_constructs.resources import (
    Campaign,
    Dataset,
    DatasetGroup,
    EventTracker,
    Filter,
    PersonalizeContext,
    Solution,
)
from personalize_constructs.service_role import PersonalizeServiceRole
from personalize_constructs.storage import DataBucket
from personalize_constructs.upload import DatasetUpload
from personalize_constructs.waiter import WaiterStateMachine

__all__ = [
    "Campaign",
    "DataBucket",
    "Dataset",
    "DatasetGroup",
    "DatasetUpload",
    "EventTracker",
    "Filter",
    "LongWait",
    "PersonalizeContext",
    "PersonalizeProvider",
    "PersonalizeServiceRole",
    "Solution",
    "WaiterStateMachine",
    "file_digest",
    "logical_label",
]
