"""Each component on its own, with fake args, under the mock engine (preview=False)."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.runtime import rpc

from components.app.app_config import AppConfiguration, AppConfigurationArgs, config_map_data
from components.app.blue_green import BlueGreenApp, BlueGreenAppArgs
from components.platform.namespace import AppNamespace, AppNamespaceArgs
from components.common.egress import ip_blocks
from components.platform.network_policy import AppNetworkPolicies, AppNetworkPoliciesArgs
from settings import Autoscaling, Network, Resources, RpcEgress, SwitchGate


def kubernetes_objects(run) -> dict[str, dict]:
    return {f"{r.inputs['kind']}/{r.inputs['metadata']['name']}": r.inputs for r in run.resources if r.is_kubernetes}


def gate_env(objects: dict[str, dict]) -> dict[str, str]:
    """The gate's environment when its pod starts: its settings ConfigMap, then its own env."""
    (container,) = objects["Job/monad-synapse-switch-gate-green"]["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"configMapRef": {"name": "monad-synapse-switch-gate-settings"}}]
    return {**objects["ConfigMap/monad-synapse-switch-gate-settings"]["data"],
            **{item["name"]: item["value"] for item in container["env"]}}


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
                app_config={"FEATURE": "shared", "LEVEL": "1"},
                color_app_config={"blue": {}, "green": {"FEATURE": "staged"}},
                jwt_secret_version=3,
                database_url=pulumi.Output.secret("postgresql://u:p@h/db"),
                redis_url=pulumi.Output.secret("redis://h:6379"),
            ),
        )
        captured["checksum"] = component.secret_checksum
        captured["config"] = component.config_checksums

    run = run_component(build)
    # The shared ConfigMap, one per color, Secret, the JWT RandomPassword and the checksum salt.
    assert len(children_of(run, "monad:app:AppConfiguration")) == 6
    objects = kubernetes_objects(run)
    assert objects["ConfigMap/monad-synapse-config-green"]["data"] == {"FEATURE": "staged"}
    assert objects["ConfigMap/monad-synapse-config-blue"].get("data") in (None, {})
    # Each color's checksum is of what its pods see: folding green's overlay
    # into the shared map later leaves green's checksum (and pods) alone.
    from components.app.app_config import config_map_data
    from components.common.checksums import checksum
    folded = config_map_data("example.com", False, {"FEATURE": "staged", "LEVEL": "1"})
    assert captured["config"]["green"] == checksum(folded) != captured["config"]["blue"]
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
        color_config_map_names={"blue": "cfg-blue", "green": "cfg-green"},
        secret_name="sec",
        rollout_annotations={"blue": {"example.com/checksum": "abc"}, "green": {"example.com/checksum": "def"}},
    )
    values.update(overrides)
    return BlueGreenAppArgs(**values)


def test_blue_green_component_with_fake_args(run_component):
    run = run_component(lambda: BlueGreenApp("bg", blue_green_args()))
    children = children_of(run, "monad:app:BlueGreenApp")
    kinds = sorted(child.inputs["kind"] for child in children)
    assert kinds == sorted(
        ["Deployment"] * 2 + ["HorizontalPodAutoscaler"] * 2 + ["PodDisruptionBudget"] * 2
        + ["VerticalPodAutoscaler"] * 2 + ["Service"] * 4 + ["Job", "ConfigMap", "ConfigMap"]
    )
    objects = kubernetes_objects(run)
    # The live Service waits for the switch gate, which waits for the live color.
    by_name = {child.name: child for child in children}
    gate = next(child for child in children if child.inputs["kind"] == "Job")
    assert gate.urn in by_name["bg-live-service"].depends_on
    assert by_name["bg-green-deployment"].urn in gate.depends_on
    assert gate.inputs["metadata"]["name"] == "monad-synapse-switch-gate-green"
    env = gate_env(objects)
    assert env["TARGET_HOST"] == "monad-synapse-green-ready.default.svc"
    assert env["CURRENT_HOST"] == "monad-synapse-blue-ready.default.svc"
    assert (env["MIN_REPLICAS"], env["MAX_REPLICAS"], env["SKIP_REASON"]) == ("2", "6", "")
    # What follows live traffic waits for it.
    for follower in ("bg-preview-service", "bg-blue-hpa"):
        assert by_name["bg-live-service"].urn in by_name[follower].depends_on
    assert objects["Service/monad-synapse-green-ready"]["spec"]["clusterIP"] == "None"
    assert objects["Deployment/monad-synapse-blue"]["metadata"]["annotations"] == {
        "monad-synapse.com/replicas-managed-by": "HorizontalPodAutoscaler/monad-synapse-blue-hpa"}
    assert objects["Service/monad-synapse"]["spec"]["selector"]["monad-synapse.com/color"] == "green"
    assert objects["Deployment/monad-synapse-green"]["spec"]["template"]["spec"]["containers"][0]["image"] == "example/app:2"
    assert objects["HorizontalPodAutoscaler/monad-synapse-blue-hpa"]["spec"]["maxReplicas"] == 2
    annotations = objects["Deployment/monad-synapse-blue"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"example.com/checksum": "abc"}
    sources = objects["Deployment/monad-synapse-blue"]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    # The color's overlay after the shared ConfigMap: it wins for a key in both.
    assert [source.get("configMapRef", source.get("secretRef"))["name"] for source in sources] == [
        "cfg", "cfg-blue", "sec"]


def test_blue_green_cold_idle_has_no_idle_hpa(run_component):
    run = run_component(lambda: BlueGreenApp("bg", blue_green_args(warm_idle_replicas=0)))
    objects = kubernetes_objects(run)
    assert "HorizontalPodAutoscaler/monad-synapse-blue-hpa" not in objects
    assert objects["Deployment/monad-synapse-blue"]["spec"]["replicas"] == 0
    # It shrinks only once live traffic has left it.
    by_name = {child.name: child for child in children_of(run, "monad:app:BlueGreenApp")}
    assert by_name["bg-live-service"].urn in by_name["bg-blue-deployment"].depends_on
    # It takes spec.replicas back from the HPA controller: a forced apply.
    assert objects["Deployment/monad-synapse-blue"]["metadata"]["annotations"] == {
        "monad-synapse.com/replicas-managed-by": "pulumi", "pulumi.com/patchForce": "true"}
    assert "replicas" not in objects["Deployment/monad-synapse-green"]["spec"]


def test_blue_green_without_the_switch_gate(run_component):
    """The emergency bypass: the gate's Job still records the switch and passes at once."""
    run = run_component(lambda: BlueGreenApp("bg", blue_green_args(switch_gate=SwitchGate(enabled=False))))
    objects = kubernetes_objects(run)
    env = gate_env(objects)
    assert env["SKIP_REASON"] == "switchGate.enabled is false"


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
