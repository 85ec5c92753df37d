"""Offline diff of two render directories: what a config change would do.

    python -m tools.diff BEFORE_DIR AFTER_DIR [--json | --markdown]

For every Kubernetes object added, removed or changed: its kind, namespace,
name, the changed fields, `rollsPods` (running pods restart because their
pod template changed), `replaces` (Pulumi deletes and re-creates it) and
`deletesFirst` (the old object is deleted before the new one exists: a
replacement that keeps its name). Replacement follows pulumi-kubernetes'
rules (tools.engine.live): immutable fields per kind, and ConfigMaps and Secrets
whose data changes unless the provider that applies them has
enableConfigMapMutable / enableSecretMutable (read from resources.json).
Secret values are compared through the render's fingerprints, so a changed
Secret is listed although its values are redacted.
Works without a cluster or credentials, so it runs for every pull request.

Then the hazards: transitions each render accepts alone but not in one
change (a restore with the switch into maintenance mode; the app served from
a cluster the same change creates). The program sees only the config it is
given; the diff sees where it came from. Exit code 3 when there is one: split
the change as the hazard says. 2 for a directory that is not a render.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from tools.engine.operator_rollouts import restarts_instances
from tools.engine.provider_rules import ProviderConfig, force_new_paths, provider_diff
from tools.manifest import changed_leaves, load_objects

# Kinds whose running pods restart when their pod template changes. A
# CronJob's template only shapes its next run.
ROLLING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
SECRET_VALUES_FIELD = "stringData.*"


class RenderDirectoryError(Exception):
    """A directory that is not a readable render."""


@dataclass(frozen=True)
class Change:
    kind: str
    namespace: Optional[str]
    name: str
    action: str  # added | removed | changed
    fields: tuple[str, ...]
    rolls_pods: bool
    replaces: bool
    deletes_first: bool = False
    # A replacement under a new name whose old object has retainOnDelete:
    # the old one is left running (its data kept), no longer managed.
    keeps_old: bool = False
    # (path, old, new) of the changed plain values (None: not set on that side).
    values: tuple[tuple[str, Any, Any], ...] = ()

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
            "deletesFirst": self.deletes_first,
            "keepsOld": self.keeps_old,
            "values": [{"path": path, "before": old, "after": new} for path, old, new in self.values],
        }


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == prefix or path.startswith((prefix + ".", prefix + "[")) for prefix in prefixes)


# What a provider without options does (the default of every comparison).
DEFAULT_PROVIDER = ProviderConfig()


def replaces_object(
    kind: str, before: dict, paths: tuple[str, ...], provider: ProviderConfig = DEFAULT_PROVIDER
) -> bool:
    """Whether changing `paths` of an object replaces it (pulumi-kubernetes forceNew)."""
    return any(_under(path, force_new_paths({**before, "kind": kind}, provider)) for path in paths)


def rolls_pods(kind: str, paths: tuple[str, ...]) -> bool:
    """Running pods restart: a workload's pod template changed, or a
    CloudNativePG Cluster's image, resources or a start-only parameter."""
    if kind == "Cluster":
        return restarts_instances(paths)
    return kind in ROLLING_KINDS and any(_under(path, ("spec.template",)) for path in paths)


def _identity_parts(identity: str) -> tuple[str, Optional[str], str]:
    parts = identity.split("/")
    return (parts[0], None, parts[1]) if len(parts) == 2 else (parts[0], parts[1], parts[2])


@dataclass(frozen=True)
class RenderFacts:
    """What resources.json says beyond the manifest."""

    urn_objects: dict  # URN -> Kind/namespace/name
    providers: dict  # Kind/namespace/name -> ProviderConfig
    fingerprints: dict  # Kind/namespace/name -> fingerprint of its secret values
    # Kind/namespace/name -> ignoreChanges paths; objects declared retainOnDelete.
    ignored: dict = field(default_factory=dict)
    retained: frozenset = frozenset()


def _render_facts(directory: Path) -> RenderFacts:
    path = directory / "resources.json"
    if not path.is_file():
        return RenderFacts({}, {}, {})
    try:
        resources = json.loads(path.read_text())
        provider_inputs = {
            item["urn"]: item.get("inputs") for item in resources if item["type"].startswith("pulumi:providers:")
        }
        objects = [item for item in resources if item.get("object")]
        return RenderFacts(
            {item["urn"]: item["object"] for item in objects},
            {item["object"]: ProviderConfig.from_inputs(provider_inputs.get(item.get("provider"))) for item in objects},
            {item["object"]: item["secretFingerprint"] for item in objects if item.get("secretFingerprint")},
            {item["object"]: tuple(item["ignoreChanges"]) for item in objects if item.get("ignoreChanges")},
            frozenset(item["object"] for item in objects if item.get("retainOnDelete")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise RenderDirectoryError(f"{path} is not a render's resources.json ({error})") from None


def diff_objects(
    before: dict[str, dict],
    after: dict[str, dict],
    renames: Optional[dict[str, str]] = None,
    providers: Optional[dict[str, ProviderConfig]] = None,
    secret_changes: frozenset = frozenset(),
    ignored: Optional[dict[str, tuple[str, ...]]] = None,
    retained: frozenset = frozenset(),
) -> list[Change]:
    """Changes between two sets of objects keyed by Kind/namespace/name;
    `renames` maps an old identity to the new one of the same Pulumi resource;
    `providers` gives the provider config that applies each new object
    (default: the default provider's); `secret_changes` lists objects whose
    secret values changed; `ignored` the ignoreChanges paths of the new
    objects (the engine keeps the old values there: processIgnoreChanges in
    pulumi's pkg/resource/deploy/step_generator.go); `retained` the old
    objects declared retainOnDelete (the engine's delete step skips the
    provider's Delete: they are "released", left running, no longer managed)."""
    ignored = ignored or {}
    renames = dict(renames or {})
    providers = providers or {}
    changes = []
    for old, new in sorted(renames.items()):
        if old in before and new in after:
            kind, namespace, name = _identity_parts(new)
            diff = provider_diff(before[old], after[new], providers.get(new, ProviderConfig()))
            changes.append(
                Change(
                    kind,
                    namespace,
                    name,
                    "changed",
                    diff.paths,
                    kind in ROLLING_KINDS,
                    True,
                    diff.delete_before_replace,
                    old in retained,
                )
            )
    renamed_old, renamed_new = set(renames), set(renames.values())
    for identity in sorted((set(before) | set(after)) - renamed_old - renamed_new):
        kind, namespace, name = _identity_parts(identity)
        if identity not in after:
            changes.append(
                Change(kind, namespace, name, "released" if identity in retained else "removed", (), False, False)
            )
        elif identity not in before:
            changes.append(Change(kind, namespace, name, "added", (), False, False))
        else:
            provider = providers.get(identity, ProviderConfig())
            leaves = [
                leaf
                for leaf in changed_leaves(before[identity], after[identity])
                if not _under(leaf[0], ignored.get(identity, ()))
            ]
            paths = tuple(path for path, _, _ in leaves)
            values = tuple(
                (path, old, new)
                for path, old, new in leaves
                if not isinstance(old, (dict, list)) and not isinstance(new, (dict, list))
            )
            if identity in secret_changes:
                paths += (SECRET_VALUES_FIELD,)
            if paths:
                diff = provider_diff(before[identity], after[identity], provider)
                replaces = replaces_object(kind, before[identity], paths, provider) or replaces_object(
                    kind, after[identity], paths, provider
                )
                changes.append(
                    Change(
                        kind,
                        namespace,
                        name,
                        "changed",
                        paths,
                        rolls_pods(kind, paths),
                        replaces,
                        replaces and (diff.delete_before_replace or not diff.paths),
                        values=values,
                    )
                )
    return changes


def _load_manifest(directory: Path) -> dict[str, dict]:
    path = directory / "manifest.yaml"
    try:
        return load_objects(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError, TypeError) as error:
        raise RenderDirectoryError(f"{path} is not a rendered manifest ({type(error).__name__})") from None


@dataclass(frozen=True)
class Render:
    """A render directory, read once: its objects, its outputs and its facts."""

    directory: Path
    objects: dict[str, dict]
    outputs: dict[str, Any]
    facts: RenderFacts

    @classmethod
    def read(cls, directory: Path) -> "Render":
        return cls(directory, _load_manifest(directory), _outputs(directory), _render_facts(directory))


def compare(before_dir: Path, after_dir: Path) -> tuple[list[Change], list[str]]:
    """The changes and the hazards between two render directories, each read once."""
    before, after = Render.read(before_dir), Render.read(after_dir)
    return _changes(before, after), _hazards(before, after)


def diff_directories(before_dir: Path, after_dir: Path) -> list[Change]:
    return _changes(Render.read(before_dir), Render.read(after_dir))


def _changes(before_render: "Render", after_render: "Render") -> list[Change]:
    before, after = before_render.objects, after_render.objects
    before_facts, after_facts = before_render.facts, after_render.facts
    before_urns, after_urns = before_facts.urn_objects, after_facts.urn_objects
    renames = {
        before_urns[urn]: after_urns[urn]
        for urn in set(before_urns) & set(after_urns)
        if before_urns[urn] != after_urns[urn]
    }
    secret_changes = frozenset(
        identity
        for identity, fingerprint in after_facts.fingerprints.items()
        if before_facts.fingerprints.get(identity) not in (None, fingerprint)
    )
    return diff_objects(
        before, after, renames, after_facts.providers, secret_changes, after_facts.ignored, before_facts.retained
    )


# --- transitions: what only a before and an after can show ------------------------

# The runbook's ConfigMap, which carries MAINTENANCE_MODE (tools run without
# the SDK, so not imported from the program's vocabulary).
APP_CONFIG_MAP = "monad-synapse-config"


def _outputs(directory: Path) -> dict[str, Any]:
    try:
        outputs = json.loads((directory / "outputs.json").read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise RenderDirectoryError(
            f"{directory / 'outputs.json'} is not a render's outputs ({type(error).__name__})"
        ) from None
    return outputs if isinstance(outputs, dict) else {}


def _in_maintenance(objects: dict[str, dict]) -> bool:
    return any(
        obj.get("kind") == "ConfigMap"
        and obj.get("metadata", {}).get("name") == APP_CONFIG_MAP
        and str((obj.get("data") or {}).get("MAINTENANCE_MODE")).lower() == "true"
        for obj in objects.values()
    )


def _cluster(objects: dict[str, dict], name: str) -> Optional[dict]:
    return next(
        (
            obj
            for obj in objects.values()
            if obj.get("kind") == "Cluster"
            and obj.get("apiVersion", "").startswith("postgresql.cnpg.io/")
            and obj.get("metadata", {}).get("name") == name
        ),
        None,
    )


def _hazards(before_render: Render, after_render: Render) -> list[str]:
    """Transitions each render accepts alone but not in one change: the
    program sees only the config it is given, the diff sees where it came from.

    * A restore requested in the change that turns maintenance mode on: the
      restore Job starts while the pods still roll, and the old pods keep
      writing while the dump is loaded.
    * The app moved, while it serves (maintenance mode off after the change),
      to a database cluster this change creates: empty from initdb, or
      recovered data nobody has checked (serveApp set with the recovery target).
    A new stack (no app before) has none: nothing is served yet.
    """
    before, after = before_render.objects, after_render.objects
    before_outputs, after_outputs = before_render.outputs, after_render.outputs
    if not before_outputs.get("liveService"):
        return []
    hazards = []
    was_in_maintenance, in_maintenance = _in_maintenance(before), _in_maintenance(after)
    restore = after_outputs.get("restoreJob")
    if restore and restore != before_outputs.get("restoreJob") and in_maintenance and not was_in_maintenance:
        hazards.append(
            f"restore Job {restore} is requested in the same change that turns maintenance mode on: it starts "
            "while the pods still roll, and the old ones keep writing while the dump is loaded. Turn maintenance "
            "mode on in one change (pulumi up), then request the restore in the next"
        )
    serving = after_outputs.get("databaseCluster")
    cluster = _cluster(after, serving) if serving else None
    if cluster and serving != before_outputs.get("databaseCluster") and not in_maintenance:
        if _cluster(before, serving) is None:
            bootstrap = cluster.get("spec", {}).get("bootstrap") or {}
            what = (
                "recovered data nobody has checked yet (serveApp is set in the change that sets the recovery target)"
                if "recovery" in bootstrap
                else "an empty database (a new cluster starts from initdb)"
            )
            hazards.append(
                f"the app moves to database cluster {serving}, which this change creates, and serves {what}. "
                "Make the change with maintenanceMode true, check the data (or restore a dump into it), then "
                "turn maintenance mode off in a change of its own"
            )
    return hazards


def summary(changes: list[Change]) -> str:
    counts = {
        action: sum(1 for change in changes if change.action == action)
        for action in ("changed", "added", "removed", "released")
    }
    rolled = sum(1 for change in changes if change.rolls_pods)
    replaced = sum(1 for change in changes if change.replaces)
    if not changes:
        return "no changes"
    released = f", {counts['released']} released (left running, no longer managed)" if counts["released"] else ""
    return (
        f"{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed{released}; "
        f"{rolled} roll pods; {replaced} replaced"
    )


def _shown(value: Any) -> str:
    return (
        "unset" if value is None else json.dumps(value) if isinstance(value, str) and not value.strip() else str(value)
    )


def _fields_text(change: "Change", limit: int = 3) -> str:
    """The changed fields, with old → new for plain values (secrets are
    compared by fingerprint and never shown)."""
    values = {path: (old, new) for path, old, new in change.values}
    shown = [
        f"{field} {_shown(values[field][0])} → {_shown(values[field][1])}" if field in values else field
        for field in change.fields[:limit]
    ]
    more = len(change.fields) - limit
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def _replaces_text(change: Change) -> str:
    if not change.replaces:
        return "no"
    if change.keeps_old:
        return "YES, old one left running (retainOnDelete)"
    return "YES, deletes first" if change.deletes_first else "YES"


def table(changes: list[Change], markdown: bool = False) -> str:
    header = ("action", "kind", "namespace", "name", "rolls pods", "replaces", "fields")
    rows = [
        (
            c.action,
            c.kind,
            c.namespace or "-",
            c.name,
            "yes" if c.rolls_pods else "no",
            _replaces_text(c),
            _fields_text(c) or "-",
        )
        for c in changes
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines + ["", f"**{summary(changes)}**"]) + "\n"
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join((lines if rows else []) + [summary(changes)]) + "\n"


# A change that needs splitting: CI's offline diff fails on it, and the
# on-call's `make diff` says so before `pulumi up`.
HAZARD_EXIT = 3


def hazards_text(hazards: list[str], markdown: bool = False) -> str:
    if not hazards:
        return ""
    prefix = "- **hazard:** " if markdown else "hazard: "
    return "\n" + "\n".join(prefix + hazard for hazard in hazards) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="render directory before the change")
    parser.add_argument("after", type=Path, help="render directory after the change")
    parser.add_argument("--json", action="store_true", help='print {"changes": [...]}')
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for job summaries)")
    args = parser.parse_args(argv)
    for directory in (args.before, args.after):
        if not (directory / "manifest.yaml").is_file():
            print(
                f"error: {directory} is not a render directory (no manifest.yaml); "
                f"create one with python -m tools.render STACK --out {directory}",
                file=sys.stderr,
            )
            return 2
    try:
        changes, hazards = compare(args.before, args.after)
    except RenderDirectoryError as error:
        print(f"error: {error}; render it again with python -m tools.render STACK --out DIR", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"changes": [change.as_json() for change in changes], "hazards": hazards}, indent=2))
    else:
        sys.stdout.write(table(changes, markdown=args.markdown) + hazards_text(hazards, markdown=args.markdown))
    return HAZARD_EXIT if hazards else 0


if __name__ == "__main__":
    sys.exit(main())
