"""Reading rendered manifests and comparing two of them (pure functions)."""

from __future__ import annotations

import functools
import pickle
import re
from decimal import Decimal
from typing import Any, Iterator, Optional

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
    """Objects of a rendered manifest keyed by `Kind/namespace/name`, the
    caller's own to change. Raises yaml.YAMLError for a file that is no
    render (too deep, anchors: the renderer writes neither).

    The same text is parsed once per process: a diff against one base reads
    it again for every head (a parse is 40 ms, a fresh copy of its result
    under one)."""
    return pickle.loads(_parsed_objects(manifest_text))


@functools.lru_cache(maxsize=32)
def _parsed_objects(manifest_text: str) -> bytes:
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
    return pickle.dumps(objects, protocol=pickle.HIGHEST_PROTOCOL)


def _by_name(items: Any) -> Optional[dict[str, Any]]:
    """A list of named entries (containers, env vars, ports, volumes) keyed by
    name: Kubernetes merges them by name, and so does a reader of the diff."""
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in items):
        return None
    names = [item["name"] for item in items]
    return dict(zip(names, items, strict=True)) if len(set(names)) == len(names) else None


def changed_paths(before: Any, after: Any, prefix: str = "") -> Iterator[str]:
    """Paths of the leaves that differ between two objects: dotted keys,
    `[name]` in lists of named entries, `[index]` in other lists."""
    for path, _, _ in changed_leaves(before, after, prefix):
        yield path


# Resource quantities: `1000m` is `1`, `1024Mi` is `1Gi`.
QUANTITY_KEYS = frozenset({"cpu", "memory", "ephemeral-storage", "storage"})
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+)?$")
_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    **{suffix: Decimal(1000) ** power for power, suffix in enumerate("kMGTPE", start=1)},
    **{suffix: Decimal(1024) ** power for power, suffix in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), start=1)},
}


def quantity(value: Any) -> Optional[Decimal]:
    """A Kubernetes quantity's amount (k8s.io/apimachinery/pkg/api/resource), or None.
    The settings' parse_quantity reads the same grammar; the tools do not
    import the settings (they run without the SDK), and a test holds the two
    to the same answers."""
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    try:
        number, suffix = Decimal(match.group(1)), match.group(2) or ""
    except ArithmeticError:
        return None
    if suffix[:1] in ("e", "E"):
        return number * (Decimal(10) ** int(suffix[1:]))
    return number * _SUFFIXES[suffix]


def changed_leaves(before: Any, after: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, old value, new value) of each leaf that differs (None for a side
    without it); quantities under a resource key compare by amount."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from changed_leaves(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else str(key))
    elif (named_before := _by_name(before)) is not None and (named_after := _by_name(after)) is not None:
        for name in sorted(set(named_before) | set(named_after)):
            if name in named_before and name in named_after:
                yield from changed_leaves(named_before[name], named_after[name], f"{prefix}[{name}]")
            else:
                yield f"{prefix}[{name}]", named_before.get(name), named_after.get(name)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from changed_leaves(old, new, f"{prefix}[{index}]")
    elif before != after:
        key = prefix.rsplit(".", 1)[-1]
        if key in QUANTITY_KEYS and before is not None and after is not None:
            old, new = quantity(before), quantity(after)
            if old is not None and old == new:
                return
        yield prefix or "<root>", before, after


def pulumi_type(obj: dict[str, Any]) -> str:
    """The Pulumi resource type of a Kubernetes object: kubernetes:apps/v1:Deployment."""
    group, _, version = obj["apiVersion"].rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{obj['kind']}"
