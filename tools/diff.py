"""Offline diff of two render directories: what a config change would do.

    python -m tools.diff BEFORE_DIR AFTER_DIR [--json]

For every Kubernetes object added, removed or changed: its kind, namespace,
name, the changed fields, `rollsPods` (running pods restart because their
pod template changed) and `replaces` (Pulumi must delete and re-create it:
an immutable field such as a selector, a Job's template or a PVC's spec
changed, or its name or namespace changed under the same Pulumi resource).
Works without a cluster or credentials, so it runs for every pull request.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tools.manifest import changed_paths, load_objects

# Kinds whose running pods restart when their pod template changes. A
# CronJob's template only shapes its next run.
ROLLING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})

# Fields the API server refuses to update, so Pulumi replaces the object.
IMMUTABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec.selector",),
    "ReplicaSet": ("spec.selector",),
    "DaemonSet": ("spec.selector",),
    "StatefulSet": ("spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy"),
    "Job": ("spec.template", "spec.selector", "spec.completions", "spec.completionMode", "spec.manualSelector"),
    "Service": ("spec.clusterIP", "spec.clusterIPs"),
    "RoleBinding": ("roleRef",),
    "ClusterRoleBinding": ("roleRef",),
    "StorageClass": ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"),
    "PersistentVolume": ("spec",),
}
# A PVC's spec is immutable except growing its storage request.
PVC_MUTABLE = ("spec.resources.requests.storage", "spec.volumeAttributesClassName")


@dataclass(frozen=True)
class Change:
    kind: str
    namespace: Optional[str]
    name: str
    action: str  # added | removed | changed
    fields: tuple[str, ...]
    rolls_pods: bool
    replaces: bool

    @property
    def identity(self) -> str:
        return "/".join(part for part in (self.kind, self.namespace, self.name) if part)

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "action": self.action,
            "fields": list(self.fields),
            "rollsPods": self.rolls_pods,
            "replaces": self.replaces,
        }


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith((prefix + ".", prefix + "[")) for prefix in prefixes)


def replaces_object(kind: str, before: dict, paths: tuple[str, ...]) -> bool:
    if any(_under(path, ("metadata.name", "metadata.namespace", "kind", "apiVersion")) for path in paths):
        return True
    if kind == "PersistentVolumeClaim":
        return any(_under(path, ("spec",)) and not _under(path, PVC_MUTABLE) for path in paths)
    if kind in ("Secret", "ConfigMap") and before.get("immutable"):
        return any(_under(path, ("data", "stringData", "binaryData", "immutable")) for path in paths)
    return any(_under(path, IMMUTABLE_FIELDS.get(kind, ())) for path in paths)


def rolls_pods(kind: str, paths: tuple[str, ...]) -> bool:
    return kind in ROLLING_KINDS and any(_under(path, ("spec.template",)) for path in paths)


def _identity_parts(identity: str) -> tuple[str, Optional[str], str]:
    parts = identity.split("/")
    return (parts[0], None, parts[1]) if len(parts) == 2 else (parts[0], parts[1], parts[2])


def _urn_objects(directory: Path) -> dict[str, str]:
    path = directory / "resources.json"
    if not path.is_file():
        return {}
    return {resource["urn"]: resource["object"] for resource in json.loads(path.read_text()) if resource["object"]}


def diff_objects(
    before: dict[str, dict], after: dict[str, dict], renames: Optional[dict[str, str]] = None
) -> list[Change]:
    """Changes between two sets of objects keyed by Kind/namespace/name;
    `renames` maps an old identity to the new one of the same Pulumi resource."""
    renames = dict(renames or {})
    changes = []
    for old, new in sorted(renames.items()):
        if old in before and new in after:
            kind, namespace, name = _identity_parts(new)
            paths = tuple(changed_paths(before[old], after[new]))
            changes.append(Change(kind, namespace, name, "changed", paths, kind in ROLLING_KINDS, True))
    renamed_old, renamed_new = set(renames), set(renames.values())
    for identity in sorted((set(before) | set(after)) - renamed_old - renamed_new):
        kind, namespace, name = _identity_parts(identity)
        if identity not in after:
            changes.append(Change(kind, namespace, name, "removed", (), False, False))
        elif identity not in before:
            changes.append(Change(kind, namespace, name, "added", (), False, False))
        else:
            paths = tuple(changed_paths(before[identity], after[identity]))
            if paths:
                changes.append(
                    Change(kind, namespace, name, "changed", paths, rolls_pods(kind, paths),
                           replaces_object(kind, before[identity], paths))
                )
    return changes


def diff_directories(before_dir: Path, after_dir: Path) -> list[Change]:
    before = load_objects((before_dir / "manifest.yaml").read_text())
    after = load_objects((after_dir / "manifest.yaml").read_text())
    before_urns, after_urns = _urn_objects(before_dir), _urn_objects(after_dir)
    renames = {
        before_urns[urn]: after_urns[urn]
        for urn in set(before_urns) & set(after_urns)
        if before_urns[urn] != after_urns[urn]
    }
    return diff_objects(before, after, renames)


def summary(changes: list[Change]) -> str:
    counts = {action: sum(1 for change in changes if change.action == action) for action in ("changed", "added", "removed")}
    rolled = sum(1 for change in changes if change.rolls_pods)
    replaced = sum(1 for change in changes if change.replaces)
    if not changes:
        return "no changes"
    return (
        f"{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed; "
        f"{rolled} roll pods; {replaced} replaced"
    )


def _fields_text(fields: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(fields[:limit])
    return shown + (f" (+{len(fields) - limit} more)" if len(fields) > limit else "")


def table(changes: list[Change], markdown: bool = False) -> str:
    header = ("action", "kind", "namespace", "name", "rolls pods", "replaces", "fields")
    rows = [
        (c.action, c.kind, c.namespace or "-", c.name, "yes" if c.rolls_pods else "no", "YES" if c.replaces else "no",
         _fields_text(c.fields) or "-")
        for c in changes
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines + ["", f"**{summary(changes)}**"]) + "\n"
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join((lines if rows else []) + [summary(changes)]) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="render directory before the change")
    parser.add_argument("after", type=Path, help="render directory after the change")
    parser.add_argument("--json", action="store_true", help='print {"changes": [...]}')
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for job summaries)")
    args = parser.parse_args(argv)
    for directory in (args.before, args.after):
        if not (directory / "manifest.yaml").is_file():
            print(f"error: {directory} is not a render directory (no manifest.yaml); "
                  f"create one with python -m tools.render STACK --out {directory}", file=sys.stderr)
            return 2
    changes = diff_directories(args.before, args.after)
    if args.json:
        print(json.dumps({"changes": [change.as_json() for change in changes]}, indent=2))
    else:
        sys.stdout.write(table(changes, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
