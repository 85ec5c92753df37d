"""Taking over the running system: the runbook's objects already exist under
the names the program declares, made by `kubectl` (another field manager,
other values). Since pulumi-kubernetes 4.29 a create of an existing object
fails with AlreadyExists; `adoptExistingObjects` turns on the provider's
upsertExistingObjects (and forced server-side apply) for that first `up`."""

from __future__ import annotations

import copy

from tests.engine_model import ModelStack, provider_config
from tools.engine.live import LiveCluster

KUBECTL = "kubectl-client-side-apply"
RUNBOOK_OBJECTS = (
    "Namespace/production",
    "Deployment/production/monad-synapse-blue",
    "Deployment/production/monad-synapse-green",
    "Service/production/monad-synapse",
    "HorizontalPodAutoscaler/production/monad-synapse-blue-hpa",
    "ConfigMap/production/monad-synapse-config",
    "Secret/production/monad-synapse-secrets",
)


def runbook_cluster(desired: dict[str, dict]) -> LiveCluster:
    """The cluster as the runbook left it: its objects, edited by hand."""
    cluster = LiveCluster()
    for identity in RUNBOOK_OBJECTS:
        obj = copy.deepcopy(desired[identity])
        if obj["kind"] == "Deployment":
            obj["spec"]["replicas"] = 5  # kubectl scale
            obj["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/monad-synapse/monad-synapse:1.4.1"
        if obj["kind"] == "ConfigMap":
            obj["data"] = {**obj["data"], "NEW_CONFIG_KEY": "new_value", "MAINTENANCE_MODE": "true"}
        if obj["kind"] == "HorizontalPodAutoscaler":
            obj["spec"]["maxReplicas"] = 15  # kubectl patch hpa
        cluster.apply(obj, manager=KUBECTL)
    return cluster


def objects_of(rendering) -> dict[str, dict]:
    from tests.engine_model import desired_resources
    from tools.manifest import kubernetes_identity

    return {kubernetes_identity(resource.inputs): resource.inputs for resource in desired_resources(rendering)}


def test_the_first_up_over_the_runbook_objects_fails_without_adoption(render_stack):
    rendering = render_stack("production")
    assert set(RUNBOOK_OBJECTS) <= set(objects_of(rendering))
    stack = ModelStack(cluster=runbook_cluster(objects_of(rendering)))
    result = stack.up(rendering)
    assert result.failed
    refused = {step.identity for step in result.failures() if "already exists" in step.detail}
    # The namespace is refused first; what lives in it never gets that far.
    assert "Namespace/production" in refused and refused <= set(RUNBOOK_OBJECTS)
    assert stack.cluster.objects["ConfigMap/production/monad-synapse-config"]["data"]["MAINTENANCE_MODE"] == "true"


def test_adoption_takes_over_the_runbook_objects_then_is_turned_off(render_stack):
    adopting = render_stack("production", "adoptExistingObjects=true")
    assert provider_config(adopting).upsert_existing_objects and provider_config(adopting).enable_patch_force
    assert any("adoptExistingObjects is on" in warning for warning in adopting.run.warnings)
    stack = ModelStack(cluster=runbook_cluster(objects_of(adopting)))
    first = stack.up(adopting)
    assert not first.failed, [step.detail for step in first.failures()]
    config_map = "ConfigMap/production/monad-synapse-config"
    config = stack.cluster.objects[config_map]["data"]
    assert config["MAINTENANCE_MODE"] == "false"  # forced to the stack's value
    # A key only kubectl ever set stays (server-side apply leaves fields it
    # does not declare to their manager): the procedure's diff step finds it.
    assert config["NEW_CONFIG_KEY"] == "new_value"
    assert stack.cluster.managers[config_map][("data", "NEW_CONFIG_KEY")] == {KUBECTL}
    # The program owns what it declares; the HPA, not kubectl, owns the count.
    blue = "Deployment/production/monad-synapse-blue"
    assert stack.cluster.objects[blue]["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.4.2")
    assert stack.cluster.managers[blue][("spec", "template", "spec", "containers")] == {"pulumi-kubernetes"}

    # Off again: the next up is an ordinary one, and a stray object is refused again.
    plain = render_stack("production")
    assert not plain.run.warnings or not any("adoptExistingObjects" in w for w in plain.run.warnings)
    again = stack.up(plain)
    assert not again.failed
    assert {step.op for step in again.steps if step.identity.startswith("Deployment/")} == {"same"}
