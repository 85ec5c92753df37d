"""Replay renders of the real program against the cluster model (tools.engine.live):
what a sequence of `pulumi up`s does on a real API server."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from tools.engine.live import LiveCluster, ProviderConfig
from tools.engine.mock_engine import unwrap_secrets
from tools.engine.replay import DesiredResource, StackState, UpResult, simulate_up
from tools.engine.stack_config import PROJECT_DIR
from tools.render import Rendering

_spec = importlib.util.spec_from_file_location("switch_gate", PROJECT_DIR / "scripts" / "switch_gate" / "gate.py")
switch_gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(switch_gate)


def desired_resources(rendering: Rendering) -> list[DesiredResource]:
    """The Kubernetes resources of a render, in registration order (the
    engine steps them in that order, each after its dependencies). A child
    also waits for what its parent components depend on: the SDK registers a
    child only once its parent's URN has resolved, and a component's
    registration waits for its own dependencies (pulumi/sdk/python/lib/
    pulumi/runtime/resource.py, prepare_resource), so a failure there stops
    the children too."""
    by_urn = {resource.urn: resource for resource in rendering.run.resources}

    def inherited(resource) -> set[str]:
        found: set[str] = set()
        parent = by_urn.get(resource.parent or "")
        while parent is not None:
            found |= set(parent.depends_on)
            parent = by_urn.get(parent.parent or "")
        return found

    desired = []
    for resource in rendering.run.resources:
        if not resource.is_kubernetes:
            continue
        inputs = unwrap_secrets(resource.inputs)
        annotations = (inputs.get("metadata") or {}).get("annotations") or {}
        desired.append(
            DesiredResource(
                resource.urn,
                inputs,
                tuple(sorted(set(resource.depends_on) | inherited(resource))),
                annotations.get("pulumi.com/patchForce") == "true",
                resource.ignore_changes,
                resource.retain_on_delete,
            )
        )
    return desired


def provider_config(rendering: Rendering) -> ProviderConfig:
    providers = [resource for resource in rendering.run.resources if resource.type == "pulumi:providers:kubernetes"]
    return ProviderConfig.from_inputs(unwrap_secrets(providers[0].inputs)) if providers else ProviderConfig()


def job_env(objects: Mapping[str, dict], job: Mapping[str, Any]) -> dict[str, str]:
    """The environment the kubelet gives the Job's container when its pod
    starts: envFrom ConfigMaps first, then env, with configMapKeyRef values
    read from the ConfigMaps of that moment (`objects`: a render, or a
    model cluster's objects)."""
    (container,) = job["spec"]["template"]["spec"]["containers"]
    namespace = job["metadata"]["namespace"]

    def config_map(name: str) -> dict:
        found = objects.get(f"ConfigMap/{namespace}/{name}")
        assert found is not None, f"the Job reads ConfigMap {name}, which does not exist: its pod would not start"
        return found.get("data") or {}

    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            env.update(config_map(source["configMapRef"]["name"]))
    for item in container.get("env") or []:
        reference = (item.get("valueFrom") or {}).get("configMapKeyRef")
        env[item["name"]] = config_map(reference["name"])[reference["key"]] if reference else item.get("value")
    return env


def skipped(env: Mapping[str, str]) -> bool:
    return bool(env.get("SKIP_REASON"))


def switch_gate_check(cluster: LiveCluster, job: Mapping[str, Any]) -> Optional[str]:
    """The gate Job, run against the model: the script's own decision on the
    ready pods of each color (its DNS count is each color's ready pods)."""
    env = job_env(cluster.objects, job)
    if skipped(env):
        return None
    namespace = job["metadata"]["namespace"]

    def ready(host: str) -> int:
        color = host.split(".")[0].removeprefix("monad-synapse-").removesuffix("-ready")
        return cluster.ready_replicas(namespace, f"monad-synapse-{color}")

    passed, message = switch_gate.wait_for_capacity(
        ready,
        env["TARGET_HOST"],
        env["CURRENT_HOST"],
        int(env["MIN_REPLICAS"]),
        int(env["MAX_REPLICAS"]),
        timeout_seconds=0,
        clock=lambda: 0.0,
        sleep=lambda seconds: None,
    )
    return None if passed else message


@dataclass
class ModelStack:
    """One stack's state and its cluster across `pulumi up`s. `analysis`
    stands in for the promotion analysis Job's verdict (its script is tested
    against a real Prometheus): None passes, a message fails it;
    `verification` likewise for the verification Job after the switch."""

    cluster: LiveCluster = field(default_factory=LiveCluster)
    state: StackState = field(default_factory=StackState)
    history: list = field(default_factory=list)
    analysis: Optional[str] = None
    verification: Optional[str] = None

    def up(self, rendering: Rendering, observe=None) -> UpResult:
        def verdict(message: Optional[str]):
            return lambda cluster, job: None if skipped(job_env(cluster.objects, job)) else message

        checks = {
            "monad-synapse-switch-gate-": switch_gate_check,
            "monad-synapse-promotion-analysis-": verdict(self.analysis),
            "monad-synapse-promotion-verification-": verdict(self.verification),
        }
        result = simulate_up(
            self.cluster,
            self.state,
            desired_resources(rendering),
            provider_config(rendering),
            checks,
            observe,
        )
        self.state = result.state
        self.history.append(result)
        return result

    def settle(self) -> None:
        """Time passes: controllers catch up."""
        self.cluster.reconcile_autoscalers()
