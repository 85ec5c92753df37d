"""What passes offline must hold on a real engine and API server: renders of
the real program replayed against the cluster model (tools.engine.live), with the
API server's defaults, server-side-apply field ownership, the HPA
controller, pulumi-kubernetes' replacement rules and its await behaviour."""

from __future__ import annotations

import pytest
from pulumi_policy import PolicyResource, StackValidationArgs

from policy import rules
from tests.engine_model import ModelStack, desired_resources, provider_config
from tests.helpers import RECOVERED_CLUSTER
from tools.engine.live import ApplyConflict, LiveCluster, ProviderConfig
from tools.engine.replay import simulate_up
from tools.manifest import pulumi_type
from tools.operations import OPERATIONS

LIVE_SERVICE = "Service/production/monad-synapse"


def stack_policy_violations(outputs: dict[str, dict]) -> list[str]:
    """Stack policies exactly as the engine calls them: on every resource's outputs."""
    resources = [
        PolicyResource(pulumi_type(obj), obj, f"urn:{identity}", identity, None, None, None, [], {})
        for identity, obj in outputs.items()
    ]
    found: list[str] = []
    for policy in rules.STACK_POLICIES:
        policy.validate(
            StackValidationArgs(resources),
            lambda message, urn=None, policy=policy: found.append(f"{policy.name}: {message}"),
        )
    return found


@pytest.mark.parametrize(
    "sets",
    [("staging",), ("production",), ("production", "edge.kind=gateway", "activeColor=green", "idleReplicas=0")],
    ids=lambda sets: "-".join(sets),
)
def test_stack_policies_pass_on_live_outputs(render_stack, sets):
    stack = ModelStack()
    result = stack.up(render_stack(*sets))
    assert not result.failed, [step for step in result.steps if step.op == "failed"]
    stack.settle()
    outputs = stack.cluster.live_outputs()
    # Live Deployments always carry spec.replicas (defaulted, then the HPA's):
    # a policy reading it from outputs would fire on every real `pulumi up`.
    deployments = [obj for obj in outputs.values() if obj["kind"] == "Deployment"]
    assert deployments and all(obj["spec"].get("replicas") is not None for obj in deployments)
    assert stack_policy_violations(outputs) == []


def test_stack_policy_still_catches_an_hpa_target_that_does_not_declare_it(render_stack):
    stack = ModelStack()
    stack.up(render_stack("production"))
    outputs = stack.cluster.live_outputs()
    del outputs["Deployment/production/monad-synapse-blue"]["metadata"]["annotations"]
    assert any("monad-synapse-blue" in message for message in stack_policy_violations(outputs))


def referenced_by_pods(objects: dict[str, dict]) -> set[str]:
    """ConfigMaps and Secrets that some pod template reads."""
    referenced = set()
    for obj in objects.values():
        spec = obj.get("spec") or {}
        template = spec.get("template") or (spec.get("jobTemplate") or {}).get("spec", {}).get("template")
        if not template:
            continue
        namespace = obj["metadata"]["namespace"]
        pod = template.get("spec") or {}
        for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
            for source in container.get("envFrom") or []:
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if key in source:
                        referenced.add(f"{kind}/{namespace}/{source[key]['name']}")
            for variable in container.get("env") or []:
                ref = (variable.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    referenced.add(f"Secret/{namespace}/{ref['name']}")
        for volume in pod.get("volumes") or []:
            if "configMap" in volume:
                referenced.add(f"ConfigMap/{namespace}/{volume['configMap']['name']}")
            if "secret" in volume:
                referenced.add(f"Secret/{namespace}/{volume['secret']['secretName']}")
    return referenced


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.name for operation in OPERATIONS])
def test_no_runbook_operation_deletes_an_object_a_pod_references(render_stack, operation):
    stack = ModelStack()
    stack.up(render_stack("production", *operation.base_for("production"), secrets=operation.secrets))
    referenced = referenced_by_pods(stack.cluster.objects)
    assert {"ConfigMap/production/monad-synapse-config", "Secret/production/monad-synapse-secrets"} <= referenced
    result = stack.up(render_stack("production", *operation.sets_for("production"), secrets=operation.secrets))
    assert not result.failed, [step for step in result.steps if step.op == "failed"]
    deleted_first = {step.identity for step in result.steps if step.op == "replace" and step.detail == "deleted first"}
    assert not deleted_first & referenced


def test_the_default_provider_would_delete_the_config_map_under_running_pods(render_stack):
    """The model can fail: with the default provider's settings (no mutable
    ConfigMaps/Secrets), maintenance mode deletes the ConfigMap first."""
    base, changed = render_stack("production"), render_stack("production", "maintenanceMode=true", "jwtSecretVersion=2")
    cluster, default = LiveCluster(), ProviderConfig()
    first = simulate_up(cluster, {}, desired_resources(base), default)
    result = simulate_up(cluster, first.state, desired_resources(changed), default)
    deleted_first = {step.identity for step in result.steps if step.detail == "deleted first"}
    assert {"ConfigMap/production/monad-synapse-config", "Secret/production/monad-synapse-secrets"} <= deleted_first
    assert provider_config(changed).enable_config_map_mutable and provider_config(changed).enable_secret_mutable


def test_a_cold_idle_color_takes_replicas_back_from_the_hpa(render_stack):
    stack = ModelStack()
    stack.up(render_stack("production"))
    stack.settle()
    green = "Deployment/production/monad-synapse-green"
    assert stack.cluster.objects[green]["spec"]["replicas"] == 3
    assert stack.cluster.managers[green][("spec", "replicas")] == {"kube-controller-manager"}

    cold = stack.up(render_stack("production", "idleReplicas=0"))
    assert not cold.failed, [step for step in cold.steps if step.op == "failed"]
    assert cold.op("HorizontalPodAutoscaler/production/monad-synapse-green-hpa") == "delete"
    stack.settle()
    assert stack.cluster.objects[green]["spec"]["replicas"] == 0

    warm = stack.up(render_stack("production"))
    assert not warm.failed
    stack.settle()
    assert stack.cluster.objects[green]["spec"]["replicas"] == 3
    assert stack.cluster.managers[green][("spec", "replicas")] == {"kube-controller-manager"}


def test_without_a_forced_apply_the_cold_idle_change_conflicts(render_stack):
    """Why the cold idle Deployment carries pulumi.com/patchForce."""
    stack = ModelStack()
    stack.up(render_stack("production"))
    stack.settle()
    cold = desired_resources(render_stack("production", "idleReplicas=0"))
    green = next(
        resource
        for resource in cold
        if resource.inputs["metadata"]["name"] == "monad-synapse-green" and resource.inputs["kind"] == "Deployment"
    )
    assert green.patch_force
    with pytest.raises(ApplyConflict, match="kube-controller-manager"):
        stack.cluster.apply(green.inputs, force=False)


def scaled_out_production(render_stack, live_pods: int) -> ModelStack:
    stack = ModelStack()
    assert not stack.up(render_stack("production")).failed
    stack.cluster.load_replicas["monad-synapse-blue"] = live_pods  # traffic scaled the live color out
    stack.settle()
    assert stack.cluster.ready_replicas("production", "monad-synapse-blue") == live_pods
    return stack


def flip_capacity(stack: ModelStack, rendering) -> tuple:
    """(ready pods of the new live color, of the old one) when the live Service moves, or None."""
    seen = {}

    def observe(step, cluster):
        if step.identity == LIVE_SERVICE and step.op == "update":
            seen["flip"] = (
                cluster.ready_replicas("production", "monad-synapse-green"),
                cluster.ready_replicas("production", "monad-synapse-blue"),
            )

    result = stack.up(rendering, observe)
    return result, seen.get("flip")


def test_a_switch_never_lands_on_fewer_ready_pods_than_serve_now(render_stack):
    stack = scaled_out_production(render_stack, live_pods=9)
    result, flip = flip_capacity(stack, render_stack("production", "activeColor=green"))
    # The gate sees green at 3 against blue's 9, with a floor of 3: it fails
    # at once, `pulumi up` fails and the live selector does not move.
    assert result.failed and flip is None
    (gate,) = [step for step in result.steps if step.op == "failed"]
    assert "raise autoscaling.minReplicas to 9" in gate.detail
    assert result.op(LIVE_SERVICE) == "skipped"
    assert stack.cluster.objects[LIVE_SERVICE]["spec"]["selector"]["monad-synapse.com/color"] == "blue"

    # The fix the message names: a floor of 9 for the switch. The new gate
    # (a new Job name) waits for green's 9 pods, then traffic moves.
    result, flip = flip_capacity(stack, render_stack("production", "activeColor=green", "autoscaling.minReplicas=9"))
    assert not result.failed
    green_ready, blue_ready = flip
    assert green_ready >= blue_ready == 9
    assert stack.cluster.objects[LIVE_SERVICE]["spec"]["selector"]["monad-synapse.com/color"] == "green"


def test_without_the_gate_the_switch_lands_on_the_cold_capacity(render_stack):
    """The model can fail: this is what the gate prevents (and what the
    emergency bypass, switchGate.enabled false, accepts)."""
    stack = scaled_out_production(render_stack, live_pods=9)
    result, flip = flip_capacity(stack, render_stack("production", "activeColor=green", "switchGate.enabled=false"))
    assert not result.failed
    assert flip == (3, 9)


def test_an_unchanged_stack_does_not_run_the_gate_again(render_stack):
    stack = ModelStack()
    stack.up(render_stack("production"))
    runs = list(stack.cluster.job_runs)
    again = stack.up(render_stack("production"))
    assert stack.cluster.job_runs == runs
    assert {step.op for step in again.steps} == {"same"}


def assert_the_app_reaches_its_cluster_through_that_clusters_pooler(objects: dict[str, dict]) -> None:
    """DATABASE_URL's host is a live Pooler fronting the cluster that
    DATABASE_READ_URL reads from (its -ro or -rw Service)."""
    import re

    for color in ("blue", "green"):
        (container,) = objects[f"Deployment/production/monad-synapse-{color}"]["spec"]["template"]["spec"]["containers"]
        env = {item["name"]: item.get("value") or "" for item in container.get("env") or []}
        pooler_host = re.search(r"@([^.:/]+)\.", env["DATABASE_URL"]).group(1)
        read_host = re.search(r"@([^.:/]+)\.", env["DATABASE_READ_URL"]).group(1)
        pooler = objects.get(f"Pooler/production/{pooler_host}")
        assert pooler is not None, f"{color} connects through {pooler_host}, which does not exist"
        assert pooler["spec"]["cluster"]["name"] == read_host.rsplit("-", 1)[0], (color, pooler_host, read_host)


def test_a_point_in_time_recovery_replayed_as_ups_keeps_the_data_it_must(render_stack):
    """Each step of a recovery, then the config tidied and the database
    mode left by mistake: the recovered Cluster is never re-created, the old
    one is deleted only at the retire step, and the serving one survives
    leaving the program (retainOnDelete)."""
    from tools.operations import IN_CLUSTER, OBJECT_STORE_KEYS, RECOVER

    recover = tuple(item.format(namespace="production") for item in RECOVER)
    old, new = "Cluster/production/monad-synapse-db", f"Cluster/production/{RECOVERED_CLUSTER}"
    stack = ModelStack()
    steps = [
        (*IN_CLUSTER, "maintenanceMode=true"),
        (*IN_CLUSTER, "maintenanceMode=true", *recover),
        (*IN_CLUSTER, *recover, "database.recovery.serveApp=true"),
        (*IN_CLUSTER, *recover, "database.recovery.serveApp=true", "database.recovery.retireSource=true"),
        (*IN_CLUSTER, f"database.cloudnativepg.clusterName={RECOVERED_CLUSTER}"),
        (),  # database.kind back to external by mistake
    ]
    results = []
    for sets in steps:
        results.append(stack.up(render_stack("production", *sets, secrets=OBJECT_STORE_KEYS)))
        if sets:
            assert_the_app_reaches_its_cluster_through_that_clusters_pooler(stack.cluster.objects)
    assert not any(result.failed for result in results)
    assert results[1].op(new) == "create" and results[1].op(old) == "same"
    assert results[2].op(old) == "same" and results[2].op(new) == "same"
    assert results[3].op(old) == "delete" and old not in stack.cluster.objects
    # Tidying changes nothing live: the recovered cluster keeps its bootstrap
    # and the external cluster it names (the operator's webhook refuses one
    # without the other; tools.engine.admission).
    assert results[4].op(new) == "same"
    live = stack.cluster.objects[new]["spec"]
    assert live["bootstrap"]["recovery"]["source"] in {item["name"] for item in live["externalClusters"]}
    # At serveApp the recovered cluster got its own Pooler (a Pooler's
    # cluster cannot change) and the old one went, after the app moved.
    assert results[2].op(f"Pooler/production/{new.split('/')[-1]}-pooler-rw") == "create"
    assert results[2].op("Pooler/production/monad-synapse-db-pooler-rw") == "delete"
    # Leaving the in-cluster database: the serving cluster stays in the cluster.
    assert results[5].op(new) == "delete" and new in stack.cluster.objects
