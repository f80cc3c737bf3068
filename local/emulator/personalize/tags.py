"""Tags on any resource of the local Personalize: TagResource, UntagResource, ListTagsForResource
(at most 50 tags per resource: TooManyTagsException)."""

from __future__ import annotations

from typing import Any

from local.emulator.personalize.errors import not_found
from local.emulator.personalize.resources import Resource
from local.emulator.personalize.store import Context, Part


class Tags(Part):
    """The tagging operations (CreateX takes tags too: Store.tags reads them)."""

    def _taggable(self, arn: Any) -> Resource:
        resource = self.store.resources.get(str(arn))
        if resource is None:
            raise not_found(f"Resource Arn {arn} does not exist.")
        return resource

    def op_TagResource(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        resource = self._taggable(p.get("resourceArn"))
        merged = {**resource.tags, **self.store.tags(p.get("tags"))}
        self.store.check_tag_count(merged)
        resource.tags = merged
        return {}

    def op_UntagResource(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        resource = self._taggable(p.get("resourceArn"))
        for key in p.get("tagKeys") or []:
            resource.tags.pop(key, None)
        return {}

    def op_ListTagsForResource(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        resource = self._taggable(p.get("resourceArn"))
        return {"tags": [{"tagKey": k, "tagValue": v} for k, v in resource.tags.items()]}
