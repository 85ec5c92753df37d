"""Reading rendered manifests and comparing two of them (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import yaml

from tools.mock_engine import kubernetes_identity


def load_objects(manifest_text: str) -> dict[str, dict[str, Any]]:
    """Objects of a rendered manifest keyed by `Kind/namespace/name`."""
    objects = {}
    for document in yaml.safe_load_all(manifest_text):
        if document:
            objects[kubernetes_identity(document)] = document
    return objects


def changed_paths(before: Any, after: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the leaves that differ between two objects."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from changed_paths(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after)):
            yield from changed_paths(old, new, f"{prefix}[{index}]")
    elif before != after:
        yield prefix or "<root>"


@dataclass(frozen=True)
class ObjectChange:
    identity: str
    action: str  # added | removed | changed
    paths: tuple[str, ...]

    @property
    def rolls_pods(self) -> bool:
        """A changed pod template makes the controller replace its pods."""
        return self.action == "changed" and any(
            path.startswith(("spec.template.", "spec.jobTemplate.spec.template.")) for path in self.paths
        )


def compare(before: dict[str, dict], after: dict[str, dict]) -> list[ObjectChange]:
    changes = []
    for identity in sorted(set(before) | set(after)):
        if identity not in after:
            changes.append(ObjectChange(identity, "removed", ()))
        elif identity not in before:
            changes.append(ObjectChange(identity, "added", ()))
        else:
            paths = tuple(changed_paths(before[identity], after[identity]))
            if paths:
                changes.append(ObjectChange(identity, "changed", paths))
    return changes
