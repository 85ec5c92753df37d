"""Replaying `pulumi up` against the cluster model (pure): the engine's
steps, its checkpoint between runs, and what it does on failure, from
pulumi's pkg/resource/deploy and pulumi-kubernetes' provider (cited beside
each rule). No Pulumi SDK here."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from tools.engine.live import AdmissionRefused, AlreadyExists, ApplyConflict, LiveCluster
from tools.engine.provider_rules import ProviderConfig, provider_diff
from tools.manifest import kubernetes_identity

__all__ = ["DesiredResource", "JobCheck", "StackState", "Step", "UpResult", "simulate_up", "with_ignored_changes"]


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


@dataclass(frozen=True)
class StackState:
    """The checkpoint between two `up`s (pulumi/sdk/go/common/resource/state.go):
    each resource's inputs, the ones whose create or update failed to
    initialize (`InitErrors`: kept in state, never rolled back), the ones
    with retainOnDelete, and the objects replaced create-before-delete whose
    delete has not run yet (`Delete: true`, pending delete; still in the cluster)."""

    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    init_errors: frozenset = frozenset()
    retained: frozenset = frozenset()
    pending_deletes: tuple = ()  # (urn, inputs, retainOnDelete)


@dataclass
class Step:
    urn: str
    identity: str
    op: str  # create | update | same | replace | delete | failed | skipped
    detail: str = ""


@dataclass
class UpResult:
    steps: list[Step]
    state: StackState
    failed: bool

    @property
    def retained(self) -> frozenset:
        return self.state.retained

    def op(self, identity: str) -> Optional[str]:
        return next((step.op for step in self.steps if step.identity == identity), None)

    def failures(self) -> list[Step]:
        return [step for step in self.steps if step.op == "failed"]


# A Job that judges the cluster before dependents run (the switch gate):
# given the cluster, it returns an error message, or None when it passes.
JobCheck = Callable[[LiveCluster, Mapping[str, Any]], Optional[str]]


class _InitError(Exception):
    """The object exists but did not become ready (pulumi-kubernetes returns a
    partial error, pulumi records the new state with InitErrors)."""


def simulate_up(
    cluster: LiveCluster,
    previous: StackState | Mapping[str, Mapping[str, Any]],
    desired: list[DesiredResource],
    provider: ProviderConfig,
    job_checks: Optional[Mapping[str, JobCheck]] = None,
    observe: Optional[Callable[[Step, LiveCluster], None]] = None,
) -> UpResult:
    """Replay `pulumi up` against `cluster`, in registration order, as
    pessimistic as the real engine and provider are:

    * A create of a name the cluster already has fails (pulumi-kubernetes
      ≥ 4.29, provider/pkg/await/await.go `Creation`: AlreadyExists unless
      `upsertExistingObjects`); a create that fails leaves nothing in state.
    * A Job is awaited (provider/pkg/await/await.go awaiters table; HPAs
      are not). A Job that fails is a partial failure: the object stays,
      and the state records it with init errors (pulumi
      pkg/resource/deploy/step.go, CreateStep/UpdateStep `InitErrors`).
      The next `up` issues an update for it even when nothing changed
      (step_generator.go: "generate an empty update step to attempt to
      continue awaiting initialization"), which re-awaits the same failed
      Job, unless it is annotated `pulumi.com/replaceUnready` (provider.go
      Diff: replace a Job that is not ready).
    * A replacement of a named object under the same name deletes first
      (`deleteBeforeReplace`); a delete of a retainOnDelete resource leaves
      the object (step.go DeleteStep), so that replacement's create fails.
      Under a new name the new object is created first and the old one
      becomes a pending delete, still in the cluster (step.go CreateStep:
      `s.old.Delete = true`).
    * After a failure no further delete runs: undeclared resources and
      pending deletes are deleted only at the end of an `up` without errors
      (deployment_executor.go: the step executor cancels; performPostSteps
      and GenerateDeletes run after the last registration).
    * Resources that depend on a failed one are not updated. (The real engine
      also stops starting independent steps; replaying them anyway is the
      stricter choice for "nothing moved that should not".)
    """
    if not isinstance(previous, StackState):
        previous = StackState(dict(previous))
    steps: list[Step] = []
    resources: dict[str, Mapping[str, Any]] = {}
    init_errors: set[str] = set()
    pending: list[tuple] = list(previous.pending_deletes)
    failed_urns: set[str] = set()
    checks = dict(job_checks or {})

    def check_job(identity: str, inputs: Mapping[str, Any]) -> None:
        cluster.job_runs.append(identity)
        check = next((check for prefix, check in checks.items() if identity.split("/")[-1].startswith(prefix)), None)
        problem = None
        if check is not None:
            cluster.reconcile_autoscalers()  # the Job waits: controllers get time
            problem = check(cluster, inputs)
        cluster.job_outcomes[identity] = "Failed" if problem else "Complete"
        if problem:
            raise _InitError(problem)

    for resource in desired:
        identity = kubernetes_identity(resource.inputs)
        before = previous.resources.get(resource.urn)
        if failed_urns & set(resource.depends_on):
            failed_urns.add(resource.urn)
            steps.append(Step(resource.urn, identity, "skipped", "a dependency failed"))
            if before is not None:
                resources[resource.urn] = before
                if resource.urn in previous.init_errors:
                    init_errors.add(resource.urn)
            continue
        force = resource.patch_force or provider.enable_patch_force
        is_job = resource.inputs.get("kind") == "Job"
        inputs = (
            resource.inputs
            if before is None
            else with_ignored_changes(before, resource.inputs, resource.ignore_changes)
        )
        detail = ""
        op = "create"
        old_removed = False  # a delete-before-replace took the old resource out of state
        try:
            if before is None:
                cluster.create(inputs, upsert=provider.upsert_existing_objects, force=force)
                op = "create"
            else:
                old_identity = kubernetes_identity(before)
                job_ready = cluster.job_outcomes.get(old_identity) == "Complete" if is_job else True
                diff = provider_diff(before, inputs, provider, live_job_ready=job_ready)
                if diff.replaces:
                    op = "replace"
                    if diff.delete_before_replace:
                        old_removed = True
                        if resource.urn in previous.retained:
                            detail = "retainOnDelete: the old object stays"
                        else:
                            cluster.delete(old_identity)
                            detail = "deleted first"
                        cluster.create(inputs, upsert=provider.upsert_existing_objects, force=force)
                    else:
                        cluster.create(inputs, upsert=provider.upsert_existing_objects, force=force)
                        pending.append((resource.urn, before, resource.urn in previous.retained))
                        detail = "created first; the old object is a pending delete"
                elif diff.paths:
                    op = "update"
                    cluster.apply(inputs, force=force)
                elif resource.urn in previous.init_errors:
                    op = "update"
                    detail = "re-awaits an object that failed to initialize"
                else:
                    op = "same"
            if is_job and op in ("create", "replace"):
                check_job(identity, inputs)
            elif is_job and op == "update" and cluster.job_outcomes.get(identity) == "Failed":
                raise _InitError(f"{identity}: the Job failed (re-awaited: a failed Job never completes)")
            steps.append(Step(resource.urn, identity, op, detail))
            resources[resource.urn] = inputs
            if observe is not None:
                observe(steps[-1], cluster)
        except _InitError as error:
            failed_urns.add(resource.urn)
            steps.append(Step(resource.urn, identity, "failed", str(error)))
            resources[resource.urn] = inputs
            init_errors.add(resource.urn)
        except (AdmissionRefused, AlreadyExists, ApplyConflict) as error:
            failed_urns.add(resource.urn)
            steps.append(Step(resource.urn, identity, "failed", str(error)))
            if before is not None and not old_removed:
                resources[resource.urn] = before
                if resource.urn in previous.init_errors:
                    init_errors.add(resource.urn)
    declared = {resource.urn for resource in desired}
    retained = set(previous.retained) - declared
    retained |= {resource.urn for resource in desired if resource.retain_on_delete and resource.urn in resources}
    if failed_urns:
        # Nothing is deleted: undeclared resources stay in state as they were.
        for urn in previous.resources:
            if urn not in declared:
                resources[urn] = previous.resources[urn]
                if urn in previous.init_errors:
                    init_errors.add(urn)
    else:
        doomed = [
            (urn, previous.resources[urn], urn in previous.retained)
            for urn in reversed(list(previous.resources))
            if urn not in declared
        ]
        for urn, inputs, keep in doomed + [entry for entry in reversed(pending)]:
            identity = kubernetes_identity(inputs)
            if keep:
                steps.append(Step(urn, identity, "delete", "retained: left in the cluster"))
                continue
            cluster.delete(identity)
            steps.append(Step(urn, identity, "delete"))
        pending = []
        retained &= set(resources)
    state = StackState(resources, frozenset(init_errors), frozenset(retained), tuple(pending))
    return UpResult(steps, state, bool(failed_urns))
