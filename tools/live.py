"""What a real engine and API server do that Pulumi's mock engine does not (pure).

The mock engine answers every resource with the program's own inputs. A
cluster does not, and several outcomes depend on the difference. This module
models those, each from the upstream source named beside it:

* `api_server_defaults`: fields the API server fills on every write.
* `tools.provider_rules` (re-exported here): how pulumi-kubernetes diffs a
  resource: which changes replace it, and whether it is deleted before its
  replacement is created.
* `LiveCluster`: objects with server-side-apply field ownership (conflicts,
  forced applies, fields dropped by their only manager), the HPA controller
  writing `spec.replicas`, and ready pods, so that a sequence of `pulumi up`s
  can be replayed (`simulate_up`) and stack policies can be run on outputs
  shaped like the live objects the engine hands them.

No Pulumi SDK here: `tools.diff` and the tests use it on rendered files.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from tools.manifest import kubernetes_identity
from tools.provider_rules import ProviderConfig, provider_diff

__all__ = ["ApplyConflict", "DesiredResource", "LiveCluster", "ProviderConfig", "Step", "UpResult", "api_server_defaults",
           "field_path", "provider_diff", "simulate_up"]

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

    def apply(self, config: Mapping[str, Any], manager: str = PULUMI_MANAGER, force: bool = False) -> dict:
        """Server-side apply (kubernetes.io/docs/reference/using-api/server-side-apply):
        a field another manager owns with another value is a conflict unless
        forced (then ownership moves); a field this manager applied before and
        no longer applies is removed when nobody else owns it, then defaulted."""
        identity = kubernetes_identity(config)
        live = copy.deepcopy(self.objects.get(identity, {}))
        owners = self.managers.setdefault(identity, {})
        applied = {
            path: value
            for path, value in _flatten(config).items()
            if path[0] not in _UNMANAGED_TOP and not (path[0] == "metadata" and path[1:2] and path[1] in _UNMANAGED_METADATA)
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

    def get(self, identity: str) -> Optional[dict]:
        found = self.objects.get(identity)
        return copy.deepcopy(self.with_status(found)) if found else None

    def ready_replicas(self, namespace: str, deployment: str) -> int:
        found = self.objects.get(f"Deployment/{namespace}/{deployment}")
        return int((found or {}).get("spec", {}).get("replicas") or 0)

    def with_status(self, obj: dict) -> dict:
        """Status as a settled cluster reports it: every desired pod ready."""
        if obj.get("kind") != "Deployment":
            return obj
        replicas = obj["spec"].get("replicas", 1)
        return {**obj, "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                                  "updatedReplicas": replicas, "observedGeneration": 1}}

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


# --- replaying a `pulumi up` ------------------------------------------------------------


@dataclass(frozen=True)
class DesiredResource:
    """One Kubernetes resource of a program run: what the engine registers."""

    urn: str
    inputs: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()
    patch_force: bool = False
    # Resource options: properties an update keeps at their old values, and
    # whether deleting the resource leaves the object in the cluster.
    ignore_changes: tuple[str, ...] = ()
    retain_on_delete: bool = False


def with_ignored_changes(old: Mapping[str, Any], new: Mapping[str, Any], paths: tuple[str, ...]) -> Mapping[str, Any]:
    """The inputs the engine sends on update: each ignoreChanges property
    (a dotted path) set to its old value (processIgnoreChanges in pulumi's
    pkg/resource/deploy/step_generator.go)."""
    if not paths:
        return new
    result = copy.deepcopy(dict(new))
    for path in paths:
        keys = path.split(".")
        source: Any = old
        for key in keys:
            source = source.get(key) if isinstance(source, Mapping) else None
        target = result
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if source is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = copy.deepcopy(source)
    return result


@dataclass
class Step:
    urn: str
    identity: str
    op: str  # create | update | same | replace | delete | failed | skipped
    detail: str = ""


@dataclass
class UpResult:
    steps: list[Step]
    # URN -> inputs now recorded in state (what the next `up` diffs against).
    state: dict[str, Mapping[str, Any]]
    failed: bool
    # URNs recorded with retainOnDelete: a later delete leaves them running.
    retained: frozenset = frozenset()

    def op(self, identity: str) -> Optional[str]:
        return next((step.op for step in self.steps if step.identity == identity), None)


# A Job that judges the cluster before dependents run (the switch gate):
# given the cluster, it returns an error message, or None when it passes.
JobCheck = Callable[[LiveCluster, Mapping[str, Any]], Optional[str]]


def simulate_up(
    cluster: LiveCluster,
    previous_state: Mapping[str, Mapping[str, Any]],
    desired: list[DesiredResource],
    provider: ProviderConfig,
    job_checks: Optional[Mapping[str, JobCheck]] = None,
    observe: Optional[Callable[[Step, LiveCluster], None]] = None,
    previous_retained: frozenset = frozenset(),
) -> UpResult:
    """Replay `pulumi up` against `cluster`, in registration order.

    The engine issues each resource's step once its dependencies' steps are
    done; replacements of named objects delete first; resources the program
    no longer declares are deleted last (pulumi/pkg/resource/deploy/
    step_generator.go). Deployments and Jobs are awaited, HPAs are not
    (pulumi-kubernetes provider/pkg/await/await.go awaiters table), so the
    HPA controller gets no time to act during the update unless a Job waits
    for it (a Job's check reconciles autoscalers first). An update keeps
    ignoreChanges properties at their old values; a delete of a resource
    whose state says retainOnDelete skips the provider's Delete, so the
    object stays (pkg/resource/deploy/step.go, DeleteStep).
    """
    steps: list[Step] = []
    state: dict[str, Mapping[str, Any]] = {}
    failed_urns: set[str] = set()
    checks = dict(job_checks or {})
    for resource in desired:
        identity = kubernetes_identity(resource.inputs)
        if failed_urns & set(resource.depends_on):
            failed_urns.add(resource.urn)
            steps.append(Step(resource.urn, identity, "skipped", "a dependency failed"))
            if resource.urn in previous_state:
                state[resource.urn] = previous_state[resource.urn]
            continue
        before = previous_state.get(resource.urn)
        force = resource.patch_force or provider.enable_patch_force
        detail = ""
        inputs = resource.inputs if before is None else with_ignored_changes(before, resource.inputs,
                                                                             resource.ignore_changes)
        try:
            if before is None:
                op = "create"
            else:
                diff = provider_diff(before, inputs, provider)
                if not diff.paths:
                    op = "same"
                elif diff.replaces:
                    op = "replace"
                    if diff.delete_before_replace:
                        # The old object is gone until the new one is created.
                        cluster.delete(kubernetes_identity(before))
                        detail = "deleted first"
                else:
                    op = "update"
            if op != "same":
                cluster.apply(inputs, force=force)
            if resource.inputs.get("kind") == "Job" and op in ("create", "replace"):
                cluster.job_runs.append(identity)
                check = next((check for prefix, check in checks.items() if identity.split("/")[-1].startswith(prefix)), None)
                if check is not None:
                    cluster.reconcile_autoscalers()  # the Job waits: controllers get time
                    problem = check(cluster, resource.inputs)
                    if problem:
                        raise RuntimeError(problem)
            steps.append(Step(resource.urn, identity, op, detail))
            state[resource.urn] = inputs
            if observe is not None:
                observe(steps[-1], cluster)
        except (ApplyConflict, RuntimeError) as error:
            failed_urns.add(resource.urn)
            steps.append(Step(resource.urn, identity, "failed", str(error)))
            if before is not None:
                state[resource.urn] = before
    declared = {resource.urn for resource in desired}
    for urn in reversed(list(previous_state)):
        if urn not in declared:
            identity = kubernetes_identity(previous_state[urn])
            if urn in previous_retained:
                steps.append(Step(urn, identity, "delete", "retained: left in the cluster"))
                continue
            cluster.delete(identity)
            steps.append(Step(urn, identity, "delete"))
    retained = frozenset(resource.urn for resource in desired if resource.retain_on_delete and resource.urn in state)
    return UpResult(steps, state, bool(failed_urns), retained)
