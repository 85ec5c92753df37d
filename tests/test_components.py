"""Each component on its own, with fake args, under the mock engine (preview=False)."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.runtime import rpc

from components.app_config import AppConfiguration, AppConfigurationArgs, config_map_data
from components.blue_green import BlueGreenApp, BlueGreenAppArgs
from components.namespace import AppNamespace, AppNamespaceArgs
from components.egress import ip_blocks
from components.network_policy import AppNetworkPolicies, AppNetworkPoliciesArgs
from settings import Autoscaling, Network, Resources, RpcEgress, SwitchGate


def kubernetes_objects(run) -> dict[str, dict]:
    return {f"{r.inputs['kind']}/{r.inputs['metadata']['name']}": r.inputs for r in run.resources if r.is_kubernetes}


def children_of(run, component_type: str) -> list:
    (component,) = [r for r in run.resources if r.type == component_type]
    return [r for r in run.resources if r.parent == component.urn]


def test_namespace_component_parents_its_children(run_component):
    run = run_component(lambda: AppNamespace("ns", AppNamespaceArgs(name="team-a")))
    children = children_of(run, "monad:platform:AppNamespace")
    assert sorted(child.inputs["kind"] for child in children) == ["Namespace", "ServiceAccount"]
    objects = kubernetes_objects(run)
    assert objects["ServiceAccount/monad-synapse"]["metadata"]["namespace"] == "team-a"


def test_config_map_data_managed_keys_win():
    data = config_map_data("example.com", True, {"EXTRA": "1"})
    assert data["MAINTENANCE_MODE"] == "true"
    assert data["EXTRA"] == "1"
    assert list(data) == sorted(data)


def test_app_configuration_keeps_secrets_secret_and_exposes_plain_checksums(run_component):
    captured = {}

    def build():
        component = AppConfiguration(
            "cfg",
            AppConfigurationArgs(
                namespace="team-a",
                domain="example.com",
                maintenance_mode=False,
                app_config={},
                jwt_secret_version=3,
                database_url=pulumi.Output.secret("postgresql://u:p@h/db"),
                redis_url=pulumi.Output.secret("redis://h:6379"),
            ),
        )
        captured["checksum"] = component.secret_checksum

    run = run_component(build)
    # ConfigMap, Secret, the JWT RandomPassword and the checksum salt.
    assert len(children_of(run, "monad:app:AppConfiguration")) == 4
    (secret,) = [r for r in run.resources if r.type == "kubernetes:core/v1:Secret"]
    assert rpc.is_rpc_secret(secret.inputs["stringData"])
    (password,) = [r for r in run.resources if r.type.startswith("random:") and r.name.endswith("jwt-secret")]
    assert password.inputs["keepers"] == {"jwtSecretVersion": "3"}
    assert password.inputs["length"] >= 64
    from pulumi.runtime.sync_await import _sync_await

    checksum_output = captured["checksum"]
    assert _sync_await(checksum_output.is_secret()) is False
    value = _sync_await(checksum_output.future())
    assert value is not None and len(value) == 64


def blue_green_args(**overrides) -> BlueGreenAppArgs:
    values = dict(
        namespace="team-a",
        service_account_name="monad-synapse",
        active_color="green",
        images={"blue": "example/app:1", "green": "example/app:2"},
        warm_idle_replicas=2,
        autoscaling=Autoscaling(min_replicas=2, max_replicas=6),
        resources=Resources(),
        vpa_update_mode="Off",
        config_map_name="cfg",
        secret_name="sec",
        rollout_annotations={"example.com/checksum": "abc"},
    )
    values.update(overrides)
    return BlueGreenAppArgs(**values)


def test_blue_green_component_with_fake_args(run_component):
    run = run_component(lambda: BlueGreenApp("bg", blue_green_args()))
    children = children_of(run, "monad:app:BlueGreenApp")
    kinds = sorted(child.inputs["kind"] for child in children)
    assert kinds == sorted(
        ["Deployment"] * 2 + ["HorizontalPodAutoscaler"] * 2 + ["PodDisruptionBudget"] * 2
        + ["VerticalPodAutoscaler"] * 2 + ["Service"] * 4 + ["Job", "ConfigMap"]
    )
    objects = kubernetes_objects(run)
    # The live Service waits for the switch gate, which waits for the live color.
    by_name = {child.name: child for child in children}
    gate = next(child for child in children if child.inputs["kind"] == "Job")
    assert gate.urn in by_name["bg-live-service"].depends_on
    assert by_name["bg-green-deployment"].urn in gate.depends_on
    assert gate.inputs["metadata"]["name"].startswith("monad-synapse-switch-gate-green-")
    env = {item["name"]: item["value"] for item in gate.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["TARGET_HOST"] == "monad-synapse-green-ready.default.svc"
    assert env["CURRENT_HOST"] == "monad-synapse-blue-ready.default.svc"
    assert (env["MIN_REPLICAS"], env["MAX_REPLICAS"]) == ("2", "6")
    assert objects["Service/monad-synapse-green-ready"]["spec"]["clusterIP"] == "None"
    assert objects["Deployment/monad-synapse-blue"]["metadata"]["annotations"] == {
        "monad-synapse.com/replicas-managed-by": "HorizontalPodAutoscaler/monad-synapse-blue-hpa"}
    assert objects["Service/monad-synapse"]["spec"]["selector"]["monad-synapse.com/color"] == "green"
    assert objects["Deployment/monad-synapse-green"]["spec"]["template"]["spec"]["containers"][0]["image"] == "example/app:2"
    assert objects["HorizontalPodAutoscaler/monad-synapse-blue-hpa"]["spec"]["maxReplicas"] == 2
    annotations = objects["Deployment/monad-synapse-blue"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"example.com/checksum": "abc"}


def test_blue_green_cold_idle_has_no_idle_hpa(run_component):
    run = run_component(lambda: BlueGreenApp("bg", blue_green_args(warm_idle_replicas=0)))
    objects = kubernetes_objects(run)
    assert "HorizontalPodAutoscaler/monad-synapse-blue-hpa" not in objects
    assert objects["Deployment/monad-synapse-blue"]["spec"]["replicas"] == 0
    # It takes spec.replicas back from the HPA controller: a forced apply.
    assert objects["Deployment/monad-synapse-blue"]["metadata"]["annotations"] == {
        "monad-synapse.com/replicas-managed-by": "pulumi", "pulumi.com/patchForce": "true"}
    assert "replicas" not in objects["Deployment/monad-synapse-green"]["spec"]


def test_blue_green_without_the_switch_gate(run_component):
    run = run_component(lambda: BlueGreenApp("bg", blue_green_args(switch_gate=SwitchGate(enabled=False))))
    assert not any(resource.inputs.get("kind") == "Job" for resource in run.resources if resource.is_kubernetes)


def test_network_policies_component(run_component):
    run = run_component(lambda: AppNetworkPolicies("net", AppNetworkPoliciesArgs(namespace="team-a", network=Network(), edge_namespaces=("ingress-nginx",))))
    objects = kubernetes_objects(run)
    assert set(objects) == {
        "NetworkPolicy/default-deny-all",
        "NetworkPolicy/allow-dns",
        "NetworkPolicy/monad-synapse-app",
    }
    app = objects["NetworkPolicy/monad-synapse-app"]["spec"]
    ports = sorted(rule["ports"][0]["port"] for rule in app["egress"])
    assert ports == [443, 5432, 6379]


@pytest.mark.parametrize(
    ("cidrs", "expected"),
    [
        (("0.0.0.0/0",), [{"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}]),
        (("203.0.113.0/24",), [{"cidr": "203.0.113.0/24"}]),
        (("::/0",), [{"cidr": "::/0"}]),
    ],
)
def test_ip_blocks_never_reach_the_metadata_endpoint(cidrs, expected):
    assert ip_blocks(RpcEgress(cidrs=cidrs)) == expected
