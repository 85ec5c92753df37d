"""How pulumi-kubernetes diffs a resource (pure): which changes replace it,
and whether the old object is deleted before its replacement exists.
Used by the cluster model (tools.engine.live) and the offline diff (tools.diff)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from tools.manifest import changed_paths


@dataclass(frozen=True)
class ProviderConfig:
    """The provider settings that change diffs (pulumi-kubernetes
    provider/pkg/provider/provider.go, Configure)."""

    enable_config_map_mutable: bool = False
    enable_secret_mutable: bool = False
    enable_patch_force: bool = False
    # Since 4.29 a create of an existing object fails unless this is on
    # (provider.go `upsertExistingObjects`, await.go `Creation`).
    upsert_existing_objects: bool = False

    @classmethod
    def from_inputs(cls, inputs: Optional[Mapping[str, Any]]) -> "ProviderConfig":
        inputs = inputs or {}

        def flag(name: str) -> bool:
            return str(inputs.get(name, "false")).lower() == "true"

        return cls(
            flag("enableConfigMapMutable"),
            flag("enableSecretMutable"),
            flag("enablePatchForce"),
            flag("upsertExistingObjects"),
        )


# pulumi-kubernetes provider/pkg/provider/forcenew.go (`forceNew`): changes
# under these paths replace the object. Label-selector subpaths are covered
# by their prefix here.
_FORCE_NEW: Mapping[str, tuple[str, ...]] = {
    "Deployment": ("spec.selector",),
    "DaemonSet": ("spec.selector",),
    "StatefulSet": (
        "spec.podManagementPolicy",
        "spec.revisionHistoryLimit",
        "spec.selector",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
    ),
    "Job": ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
    "PersistentVolumeClaim": ("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"),
    "Service": ("spec.clusterIP",),
    "Secret": ("type",),
    "ResourceQuota": ("spec.scopes",),
    "RoleBinding": ("roleRef",),
    "ClusterRoleBinding": ("roleRef",),
    "StorageClass": ("parameters", "provisioner"),
}
_METADATA_FORCE_NEW = ("metadata.name", "metadata.namespace")


def force_new_paths(obj: Mapping[str, Any], provider: ProviderConfig) -> tuple[str, ...]:
    """`kubeProvider.forceNewProperties`: a Secret is immutable in full unless
    the provider has enableSecretMutable (and the Secret is not
    `immutable: true`); likewise a ConfigMap's data with enableConfigMapMutable."""
    kind = obj.get("kind", "")
    immutable = bool(obj.get("immutable"))
    paths = list(_METADATA_FORCE_NEW)
    if kind == "Secret" and (not provider.enable_secret_mutable or immutable):
        paths += ["type", "stringData", "data"]
    elif kind == "ConfigMap" and (not provider.enable_config_map_mutable or immutable):
        paths += ["binaryData", "data"]
    else:
        paths += _FORCE_NEW.get(kind, ())
    return tuple(paths)


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == prefix or path.startswith((prefix + ".", prefix + "[")) for prefix in prefixes)


REPLACE_UNREADY_ANNOTATION = "pulumi.com/replaceUnready"


def replaces_when_unready(obj: Mapping[str, Any]) -> bool:
    """The `pulumi.com/replaceUnready: "true"` annotation (provider/pkg/metadata/overrides.go)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return obj.get("kind") == "Job" and str(annotations.get(REPLACE_UNREADY_ANNOTATION, "")).lower() == "true"


@dataclass(frozen=True)
class ProviderDiff:
    paths: tuple[str, ...]
    replaces: bool
    delete_before_replace: bool


def provider_diff(
    before: Mapping[str, Any], after: Mapping[str, Any], provider: ProviderConfig, live_job_ready: bool = True
) -> ProviderDiff:
    """pulumi-kubernetes `Diff` on inputs (provider/pkg/provider/provider.go):
    replace when a force-new path changed, or, for a Job annotated
    `pulumi.com/replaceUnready`, when the live Job is not ready (failed or
    still running). An object named by the program (not auto-named) that
    keeps its name and namespace cannot exist twice, so its replacement
    deletes the old object first (`deleteBeforeReplace`); under a new name
    the new object is created first."""
    paths = tuple(changed_paths(dict(before), dict(after)))
    replaces = any(_under(path, force_new_paths(before, provider) + force_new_paths(after, provider)) for path in paths)
    if replaces_when_unready(after) and not live_job_ready:
        replaces = True
    old, new = before.get("metadata") or {}, after.get("metadata") or {}
    same_identity = bool(new.get("name")) and (old.get("name"), old.get("namespace")) == (
        new.get("name"),
        new.get("namespace"),
    )
    return ProviderDiff(paths, replaces, replaces and same_identity)
