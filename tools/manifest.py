"""Reading rendered manifests and comparing two of them (pure functions)."""

from __future__ import annotations

from typing import Any, Iterator

import yaml

# Kinds without a namespace; everything else is namespaced.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterIssuer",
        "CustomResourceDefinition",
        "IngressClass",
        "PersistentVolume",
        "PriorityClass",
        "StorageClass",
        "GatewayClass",
    }
)


def kubernetes_identity(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name`, or `Kind/name` for cluster-scoped kinds."""
    metadata = obj.get("metadata") or {}
    kind = obj.get("kind", "?")
    if kind in CLUSTER_SCOPED_KINDS:
        return f"{kind}/{metadata.get('name')}"
    return f"{kind}/{metadata.get('namespace')}/{metadata.get('name')}"


# A rendered manifest's objects are never nested deeper than this (a
# CronJob's pod template is the deepest, about 15 levels); libyaml's own
# recursion would crash the process on a deeper, hostile file.
MAX_MANIFEST_NESTING = 64


def load_objects(manifest_text: str) -> dict[str, dict[str, Any]]:
    """Objects of a rendered manifest keyed by `Kind/namespace/name`. Raises
    yaml.YAMLError for a file that is no render (too deep, anchors: the
    renderer writes neither)."""
    from tools.engine.stack_file import ConfigInputError, check_nesting

    try:
        check_nesting(manifest_text, "manifest.yaml", MAX_MANIFEST_NESTING)
    except ConfigInputError as error:
        raise yaml.YAMLError(str(error)) from None
    objects = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for document in yaml.load_all(manifest_text, Loader=loader):
        if document:
            objects[kubernetes_identity(document)] = document
    return objects


def changed_paths(before: Any, after: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the leaves that differ between two objects."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from changed_paths(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from changed_paths(old, new, f"{prefix}[{index}]")
    elif before != after:
        yield prefix or "<root>"


def pulumi_type(obj: dict[str, Any]) -> str:
    """The Pulumi resource type of a Kubernetes object: kubernetes:apps/v1:Deployment."""
    group, _, version = obj["apiVersion"].rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{obj['kind']}"
