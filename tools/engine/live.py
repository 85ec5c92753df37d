"""What a real engine and API server do that Pulumi's mock engine does not (pure).

The mock engine answers every resource with the program's own inputs. A
cluster does not, and several outcomes depend on the difference. This module
models those, each from the upstream source named beside it:

* `api_server_defaults`: fields the API server fills on every write.
* `tools.engine.provider_rules` (re-exported here): how pulumi-kubernetes diffs a
  resource: which changes replace it, and whether it is deleted before its
  replacement is created.
* `LiveCluster`: objects with server-side-apply field ownership (conflicts,
  forced applies, fields dropped by their only manager), creates refused for
  a taken name, the HPA controller writing `spec.replicas`, ready pods and
  finished Jobs, so that a sequence of `pulumi up`s can be replayed
  (`tools.engine.replay`) and stack policies can be run on outputs shaped like the
  live objects the engine hands them.

No Pulumi SDK here: `tools.diff` and the tests use it on rendered files.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from tools.engine.admission import AdmissionRefused, admit
from tools.engine.provider_rules import ProviderConfig, provider_diff
from tools.manifest import kubernetes_identity

__all__ = [
    "AdmissionRefused",
    "AlreadyExists",
    "ApplyConflict",
    "LiveCluster",
    "ProviderConfig",
    "api_server_defaults",
    "field_path",
    "provider_diff",
]

PULUMI_MANAGER = "pulumi-kubernetes"
# The HPA controller runs in kube-controller-manager and writes through the
# scale subresource (kubernetes/pkg/controller/podautoscaler/horizontal.go,
# `a.scaleNamespacer.Scales(...).Update`).
HPA_MANAGER = "kube-controller-manager"
PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"


# --- API server defaulting ----------------------------------------------------------


def api_server_defaults(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as the API server stores it, for the fields that change outcomes.

    Sources: kubernetes/pkg/apis/apps/v1/defaults.go (SetDefaults_Deployment:
    replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
    progressDeadlineSeconds 600), pkg/apis/core/v1/defaults.go
    (SetDefaults_Service: type ClusterIP, sessionAffinity None; the IP
    allocator assigns clusterIP), pkg/apis/batch/v1/defaults.go
    (SetDefaults_Job: completions and parallelism 1, backoffLimit 6,
    completionMode NonIndexed).
    """
    result = copy.deepcopy(dict(obj))
    kind = result.get("kind")
    spec = result.setdefault("spec", {}) if kind in ("Deployment", "Service", "Job") else None
    if kind == "Deployment":
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    elif kind == "Service":
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec.get("clusterIP") is None:
            spec["clusterIP"] = _allocated_ip(result)
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
    elif kind == "Job":
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
    metadata = result.setdefault("metadata", {})
    metadata.setdefault("uid", f"{_stable_number(result, 10**12):012d}")
    return result


def _stable_number(obj: Mapping[str, Any], modulo: int) -> int:
    return int(hashlib.sha256(kubernetes_identity(obj).encode()).hexdigest(), 16) % modulo


def _allocated_ip(obj: Mapping[str, Any]) -> str:
    number = _stable_number(obj, 65000)
    return f"10.96.{number // 250}.{number % 250 + 2}"


# --- the cluster ------------------------------------------------------------------------


class ApplyConflict(Exception):
    """Server-side apply refused: a field is owned by another manager with another value."""


class AlreadyExists(Exception):
    """A create of an object whose name is taken (HTTP 409 AlreadyExists)."""


FieldPath = tuple  # ("metadata", "annotations", "example.com/key"): keys may hold dots


def _flatten(value: Any, prefix: FieldPath = ()) -> dict[FieldPath, Any]:
    """Leaves by path; lists are atomic leaves (enough for the fields modelled)."""
    if isinstance(value, Mapping) and value:
        flat: dict[FieldPath, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, prefix + (key,)))
        return flat
    return {prefix: value}


def _set(obj: dict, path: FieldPath, value: Any) -> None:
    for part in path[:-1]:
        obj = obj.setdefault(part, {})
    obj[path[-1]] = copy.deepcopy(value)


def _get(obj: Mapping, path: FieldPath) -> Any:
    for part in path:
        if not isinstance(obj, Mapping) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _remove(obj: dict, path: FieldPath) -> None:
    parents = [obj]
    for part in path[:-1]:
        obj = obj.get(part)
        if not isinstance(obj, dict):
            return
        parents.append(obj)
    obj.pop(path[-1], None)
    for depth in range(len(path) - 1, 0, -1):  # drop maps left empty
        if not parents[depth]:
            parents[depth - 1].pop(path[depth - 1], None)


def field_path(dotted: str) -> FieldPath:
    """("spec", "replicas") from "spec.replicas" (for keys without dots)."""
    return tuple(dotted.split("."))


_UNMANAGED_TOP = ("status",)
_UNMANAGED_METADATA = ("uid", "resourceVersion", "generation", "managedFields", "creationTimestamp")


@dataclass
class LiveCluster:
    """Objects by `Kind/namespace/name`, with the managers of each field."""

    objects: dict[str, dict] = field(default_factory=dict)
    managers: dict[str, dict[FieldPath, set[str]]] = field(default_factory=dict)
    # What the HPA would scale each Deployment to under the current load.
    load_replicas: dict[str, int] = field(default_factory=dict)
    job_runs: list[str] = field(default_factory=list)
    # A finished Job's outcome by identity (its status.conditions): "Complete" or "Failed".
    job_outcomes: dict[str, str] = field(default_factory=dict)

    def create(
        self, config: Mapping[str, Any], manager: str = PULUMI_MANAGER, upsert: bool = False, force: bool = False
    ) -> dict:
        """pulumi-kubernetes Create (provider/pkg/await/await.go, `Creation`):
        since 4.29 a plain create, which the API server refuses with
        AlreadyExists when the name is taken, unless the provider has
        `upsertExistingObjects` (then a server-side apply, forced only with
        patchForce)."""
        identity = kubernetes_identity(config)
        if identity in self.objects and not upsert:
            raise AlreadyExists(
                f"{identity}: already exists. The resource already exists in the cluster (adopt it with "
                f"pulumi import, or once with the provider's upsertExistingObjects)"
            )
        return self.apply(config, manager, force)

    def apply(self, config: Mapping[str, Any], manager: str = PULUMI_MANAGER, force: bool = False) -> dict:
        """Server-side apply (kubernetes.io/docs/reference/using-api/server-side-apply):
        a field another manager owns with another value is a conflict unless
        forced (then ownership moves); a field this manager applied before and
        no longer applies is removed when nobody else owns it, then defaulted."""
        identity = kubernetes_identity(config)
        live = copy.deepcopy(self.objects.get(identity, {}))
        owners = copy.deepcopy(self.managers.get(identity, {}))
        applied = {
            path: value
            for path, value in _flatten(config).items()
            if path[0] not in _UNMANAGED_TOP
            and not (path[0] == "metadata" and path[1:2] and path[1] in _UNMANAGED_METADATA)
        }
        conflicts = [
            (path, sorted(owners[path] - {manager}))
            for path, value in applied.items()
            if owners.get(path, set()) - {manager} and _get(live, path) != value
        ]
        if conflicts and not force:
            described = "; ".join(f".{'.'.join(path)} is owned by {', '.join(others)}" for path, others in conflicts)
            raise ApplyConflict(f"{identity}: Apply failed with {len(conflicts)} conflict(s): {described}")
        for path in [path for path, names in owners.items() if manager in names and path not in applied]:
            owners[path].discard(manager)
            if not owners[path]:
                del owners[path]
                _remove(live, path)
        for path, value in applied.items():
            if force or _get(live, path) != value:
                owners[path] = {manager}
            else:
                owners.setdefault(path, set()).add(manager)
            _set(live, path, value)
        # Admission judges the whole merged object against the live one
        # (tools.engine.admission): refused, nothing changes.
        admit(live, self.objects.get(identity))
        self.managers[identity] = owners
        self.objects[identity] = api_server_defaults(live)
        return copy.deepcopy(self.objects[identity])

    def update(self, identity: str, path: FieldPath, value: Any, manager: str) -> None:
        """A non-apply write (a controller's update): a changed field moves to the writer."""
        live = self.objects[identity]
        if _get(live, path) != value:
            _set(live, path, value)
            self.managers.setdefault(identity, {})[path] = {manager}

    def delete(self, identity: str) -> None:
        self.objects.pop(identity, None)
        self.managers.pop(identity, None)
        self.job_outcomes.pop(identity, None)

    def get(self, identity: str) -> Optional[dict]:
        found = self.objects.get(identity)
        return copy.deepcopy(self.with_status(found)) if found else None

    def ready_replicas(self, namespace: str, deployment: str) -> int:
        found = self.objects.get(f"Deployment/{namespace}/{deployment}")
        return int((found or {}).get("spec", {}).get("replicas") or 0)

    def with_status(self, obj: dict) -> dict:
        """Status as a settled cluster reports it: every desired pod ready, every Job finished."""
        if obj.get("kind") == "Job":
            outcome = self.job_outcomes.get(kubernetes_identity(obj))
            return {**obj, "status": {"conditions": [{"type": outcome, "status": "True"}]}} if outcome else obj
        if obj.get("kind") != "Deployment":
            return obj
        replicas = obj["spec"].get("replicas", 1)
        return {
            **obj,
            "status": {
                "replicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
                "updatedReplicas": replicas,
                "observedGeneration": 1,
            },
        }

    def reconcile_autoscalers(self) -> None:
        """The HPA controller: keep each target within [min, max] of the load's
        desired count. A target at 0 replicas disables autoscaling
        (podautoscaler/horizontal.go: "scaling is disabled since the replica
        count of the target is zero")."""
        for hpa in [obj for obj in self.objects.values() if obj.get("kind") == "HorizontalPodAutoscaler"]:
            spec = hpa.get("spec") or {}
            target = spec.get("scaleTargetRef") or {}
            identity = f"{target.get('kind')}/{hpa['metadata'].get('namespace')}/{target.get('name')}"
            deployment = self.objects.get(identity)
            if deployment is None:
                continue
            current = deployment["spec"].get("replicas", 1)
            if current == 0:
                continue
            wanted = self.load_replicas.get(target.get("name"), current)
            desired = max(spec.get("minReplicas", 1), min(spec.get("maxReplicas", wanted), wanted))
            self.update(identity, ("spec", "replicas"), desired, HPA_MANAGER)

    def live_outputs(self) -> dict[str, dict]:
        """What `pulumi refresh` records as each object's outputs."""
        return {identity: self.with_status(copy.deepcopy(obj)) for identity, obj in self.objects.items()}
