"""The blue/green component on its own, with fake args, under the mock engine."""

from __future__ import annotations

from components.app.blue_green import BlueGreenApp, BlueGreenAppArgs
from settings import Autoscaling, Resources, SwitchGate
from tests.helpers import children_of, objects_of


def gate_env(objects: dict[str, dict]) -> dict[str, str]:
    """The gate's environment when its pod starts: its settings ConfigMap, then its own env."""
    (container,) = objects["Job/monad-synapse-switch-gate-green"]["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"configMapRef": {"name": "monad-synapse-switch-gate-settings"}}]
    return {
        **objects["ConfigMap/monad-synapse-switch-gate-settings"]["data"],
        **{item["name"]: item["value"] for item in container["env"]},
    }


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
        ["Deployment"] * 2
        + ["HorizontalPodAutoscaler"] * 2
        + ["PodDisruptionBudget"] * 2
        + ["VerticalPodAutoscaler"] * 2
        + ["Service"] * 4
        + ["Job", "ConfigMap", "ConfigMap"]
    )
    objects = objects_of(run)
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
        "monad-synapse.com/replicas-managed-by": "HorizontalPodAutoscaler/monad-synapse-blue-hpa"
    }
    assert objects["Service/monad-synapse"]["spec"]["selector"]["monad-synapse.com/color"] == "green"
    assert (
        objects["Deployment/monad-synapse-green"]["spec"]["template"]["spec"]["containers"][0]["image"]
        == "example/app:2"
    )
    assert objects["HorizontalPodAutoscaler/monad-synapse-blue-hpa"]["spec"]["maxReplicas"] == 2
    annotations = objects["Deployment/monad-synapse-blue"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"example.com/checksum": "abc"}
    sources = objects["Deployment/monad-synapse-blue"]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    # The color's overlay after the shared ConfigMap: it wins for a key in both.
    assert [source.get("configMapRef", source.get("secretRef"))["name"] for source in sources] == [
        "cfg",
        "cfg-blue",
        "sec",
    ]


def test_blue_green_cold_idle_has_no_idle_hpa(run_component):
    run = run_component(lambda: BlueGreenApp("bg", blue_green_args(warm_idle_replicas=0)))
    objects = objects_of(run)
    assert "HorizontalPodAutoscaler/monad-synapse-blue-hpa" not in objects
    assert objects["Deployment/monad-synapse-blue"]["spec"]["replicas"] == 0
    # It shrinks only once live traffic has left it.
    by_name = {child.name: child for child in children_of(run, "monad:app:BlueGreenApp")}
    assert by_name["bg-live-service"].urn in by_name["bg-blue-deployment"].depends_on
    # It takes spec.replicas back from the HPA controller: a forced apply.
    assert objects["Deployment/monad-synapse-blue"]["metadata"]["annotations"] == {
        "monad-synapse.com/replicas-managed-by": "pulumi",
        "pulumi.com/patchForce": "true",
    }
    assert "replicas" not in objects["Deployment/monad-synapse-green"]["spec"]


def test_blue_green_without_the_switch_gate(run_component):
    """The emergency bypass: the gate's Job still records the switch and passes at once."""
    run = run_component(lambda: BlueGreenApp("bg", blue_green_args(switch_gate=SwitchGate(enabled=False))))
    objects = objects_of(run)
    env = gate_env(objects)
    assert env["SKIP_REASON"] == "switchGate.enabled is false"
