"""The cloud assembly `cdk synth` writes (cdk.out): stacks, templates, and where each asset lives.

A template refers to an asset by its bootstrap S3 location
(`cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}` / `<hash>.zip`); `<Stack>.assets.json`
maps that object key back to the directory or file in cdk.out.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class AssemblyError(Exception):
    """cdk.out is missing, incomplete, or for another environment."""


@dataclass(frozen=True)
class Asset:
    hash: str
    path: Path
    packaging: str  # "zip" (a directory zipped on publish) | "file"
    object_key: str
    #: the destination bucket as the manifest names it (`cdk-hnb659fds-assets-${AWS::AccountId}-...`)
    bucket_name: str = ""


@dataclass
class StackArtifact:
    name: str
    template: dict[str, Any]
    template_path: Path
    assets: dict[str, Asset] = field(default_factory=dict)  # by object key
    directory: Path = Path()

    def asset_for_key(self, key: str) -> Asset:
        if key in self.assets:
            return self.assets[key]
        raise AssemblyError(f"no asset in {self.directory} for S3 key {key!r} (see {self.name}.assets.json)")

    def asset_dir(self, key: str, scratch: Path) -> Path:
        """A directory holding the asset's files (a `file` asset that is a zip is extracted)."""
        asset = self.asset_for_key(key)
        if asset.path.is_dir():
            return asset.path
        if zipfile.is_zipfile(asset.path):
            target = scratch / asset.hash
            if not target.exists():
                tmp = scratch / (asset.hash + ".tmp")
                tmp.mkdir(parents=True, exist_ok=True)
                with zipfile.ZipFile(asset.path) as archive:
                    archive.extractall(tmp)
                tmp.replace(target)
            return target
        raise AssemblyError(f"asset {asset.path} is neither a directory nor a zip file")


@dataclass
class CloudAssembly:
    directory: Path
    stacks: list[StackArtifact]

    @classmethod
    def load(cls, directory: Path) -> CloudAssembly:
        manifest_path = directory / "manifest.json"
        if not manifest_path.exists():
            raise AssemblyError(f"{directory} has no manifest.json: run `npx cdk synth` first")
        manifest = json.loads(manifest_path.read_text())
        stacks = []
        for name, artifact in manifest.get("artifacts", {}).items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            props = artifact.get("properties", {})
            template_path = directory / props["templateFile"]
            template = json.loads(template_path.read_text())
            stack_name = props.get("stackName") or artifact.get("displayName") or name
            assets = _load_assets(directory, artifact, manifest)
            stacks.append(StackArtifact(stack_name, template, template_path, assets, directory))
        return cls(directory, stacks)

    def stack(self, name: str | None = None) -> StackArtifact:
        if name is None:
            if len(self.stacks) != 1:
                raise AssemblyError(f"{self.directory} has {len(self.stacks)} stacks; name one")
            return self.stacks[0]
        for stack in self.stacks:
            if stack.name == name:
                return stack
        raise AssemblyError(f"no stack {name!r} in {self.directory}: {[s.name for s in self.stacks]}")


def _load_assets(directory: Path, artifact: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Asset]:
    assets: dict[str, Asset] = {}
    for dep in artifact.get("dependencies", []):
        dep_artifact = manifest["artifacts"].get(dep, {})
        if dep_artifact.get("type") != "cdk:asset-manifest":
            continue
        data = json.loads((directory / dep_artifact["properties"]["file"]).read_text())
        for asset_hash, entry in data.get("files", {}).items():
            source = entry["source"]
            if "path" not in source:
                continue  # executable-produced assets are not emulated; fail if referenced
            for dest in entry.get("destinations", {}).values():
                key = dest["objectKey"]
                assets[key] = Asset(
                    asset_hash,
                    directory / source["path"],
                    source.get("packaging", "file"),
                    key,
                    str(dest.get("bucketName", "")),
                )
    return assets
