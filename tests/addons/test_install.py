"""The platform project under the mock engine: what it installs, in which order, and that it provides what the app selects."""

from __future__ import annotations

import functools
import json

import kubernetes_validate
import pytest
import yaml

import platform_contract as contract
from addons.install import CRDS_FROM_ELSEWHERE
from addons.pins import BY_KEY, PINS
from tests.helpers import CLOUDNATIVEPG, rendered_objects, secrets_for
from tools.engine.schemas import validate_custom_resource
from tools.render import PROJECTS, render

STACKS = ("staging", "production")


@functools.lru_cache(maxsize=None)
def platform(stack: str, *sets: str):
    return render(stack, tuple(sets), (), PROJECTS["addons"])


def packages(stack: str) -> dict[str, dict]:
    return {entry["resource"]: entry for entry in yaml.safe_load(platform(stack).files["charts.yaml"])}


def objects(stack: str) -> dict[str, dict]:
    return rendered_objects(platform(stack))


def depends_transitively(stack: str, key: str) -> set[str]:
    seen, todo = set(), [key]
    resources = {entry["name"]: entry for entry in json.loads(platform(stack).files["resources.json"])}
    while todo:
        for dependency in resources[todo.pop()]["dependsOn"]:
            name = dependency.rsplit("::", 1)[-1]
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


@pytest.mark.parametrize("stack", STACKS)
def test_every_pin_is_installed_at_its_version_under_its_release_name(stack):
    installed = packages(stack)
    assert sorted(installed) == sorted(pin.key for pin in PINS)
    for pin in PINS:
        inputs = installed[pin.key]["inputs"]
        kind = "kubernetes:helm.sh/v3:Release" if pin.method == "release" else "kubernetes:helm.sh/v4:Chart"
        assert installed[pin.key]["type"] == kind
        assert (inputs["chart"], inputs["version"], inputs["namespace"]) == (pin.chart, pin.version, pin.namespace)
        # Unnamed, Pulumi adds a random suffix to the release, and with it to every label the app selects on.
        assert inputs["name"] == pin.release
        assert inputs.get("repositoryOpts", {}).get("repo", "") == pin.repository


@pytest.mark.parametrize("stack", STACKS)
def test_releases_roll_back_a_failed_upgrade_and_skip_crds_installed_elsewhere(stack):
    for pin in PINS:
        inputs = packages(stack)[pin.key]["inputs"]
        if pin.method == "release":
            assert inputs["atomic"] is True and inputs["cleanupOnFail"] is True
            assert inputs["skipCrds"] is (pin.key in CRDS_FROM_ELSEWHERE)


@pytest.mark.parametrize("stack", STACKS)
def test_crds_are_installed_before_whatever_uses_them(stack):
    order = {
        "envoy-gateway": {"gateway-crds"},
        "kube-prometheus-stack": {"prometheus-operator-crds"},
        # Their own ServiceMonitor and PodMonitor.
        "cert-manager": {"prometheus-operator-crds"},
        "cloudnative-pg": {"prometheus-operator-crds"},
        # Its Certificates and Issuer.
        "plugin-barman-cloud": {"cert-manager"},
        contract.CLUSTER_ISSUER: {"cert-manager"},
        contract.GATEWAY_CLASS: {"gateway-crds", "envoy-gateway"},
    }
    for resource, needs in order.items():
        assert needs <= depends_transitively(stack, resource), resource


def test_the_dependency_reader_sees_a_missing_dependency():
    assert "kube-prometheus-stack" not in depends_transitively("staging", "gateway-crds")


@pytest.mark.parametrize("stack", STACKS)
def test_the_platform_objects_pass_their_schemas(stack, crds):
    assert sorted({obj["kind"] for obj in objects(stack).values()}) == [
        "ClusterIssuer",
        "GatewayClass",
        "Namespace",
        "Secret",
    ]
    for obj in objects(stack).values():
        if obj["kind"] in ("Namespace", "Secret"):
            kubernetes_validate.validate(obj, "1.31.0", strict=True)
        elif obj["kind"] == "GatewayClass":
            validate_custom_resource(obj, crds / "versions" / "gateway-api-v1.6.1")
        else:
            validate_custom_resource(obj, crds)


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_is_written(stack):
    rendering = platform(stack)
    (secret,) = [obj for obj in objects(stack).values() if obj["kind"] == "Secret"]
    assert set(secret["stringData"].values()) == {"[secret]"}
    assert rendering.run.generated_secrets  # Grafana's password
    for generated in rendering.run.generated_secrets:
        assert not any(generated in text for text in rendering.files.values())


# --- the contract: what the platform provides is what the app selects -------------

APP_VARIANTS = [("staging",), ("production",), ("production", *CLOUDNATIVEPG)]
MONITORING_KINDS = {
    "ServiceMonitor": ("prometheus", "prometheusSpec", "serviceMonitorSelector"),
    "PodMonitor": ("prometheus", "prometheusSpec", "podMonitorSelector"),
    "PrometheusRule": ("prometheus", "prometheusSpec", "ruleSelector"),
    "AlertmanagerConfig": ("alertmanager", "alertmanagerSpec", "alertmanagerConfigSelector"),
}


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in selector["matchLabels"].items())


def stack_values(stack: str, key: str) -> dict:
    return packages(stack)[key]["inputs"]["values"]


def test_selects_matches_labels_only():
    assert selects({"matchLabels": {"release": "a"}}, {"release": "a", "x": "y"})
    assert not selects({"matchLabels": {"release": "a"}}, {"release": "b"})


@pytest.mark.parametrize("variant", APP_VARIANTS, ids=["-".join(v) for v in APP_VARIANTS])
def test_the_operator_selects_every_monitor_rule_and_route_the_app_declares(stack_objects, variant):
    values = stack_values(variant[0], "kube-prometheus-stack")
    app = stack_objects(*variant, secrets=secrets_for(variant)).values()
    found = set()
    for obj in app:
        if obj["kind"] in MONITORING_KINDS:
            section, spec, selector = MONITORING_KINDS[obj["kind"]]
            assert selects(values[section][spec][selector], obj["metadata"].get("labels", {})), obj["metadata"]["name"]
            namespace_selector = selector.replace("Selector", "NamespaceSelector")
            assert values[section][spec][namespace_selector] == {}  # every namespace
            found.add(obj["kind"])
    assert {"ServiceMonitor", "PrometheusRule", "AlertmanagerConfig", "PodMonitor"} <= found


@pytest.mark.parametrize("variant", APP_VARIANTS, ids=["-".join(v) for v in APP_VARIANTS])
def test_grafana_loads_every_dashboard_the_app_declares(stack_objects, variant):
    sidecar = stack_values(variant[0], "kube-prometheus-stack")["grafana"]["sidecar"]["dashboards"]
    dashboards = [
        obj
        for obj in stack_objects(*variant, secrets=secrets_for(variant)).values()
        if obj["kind"] == "ConfigMap" and "dashboard" in obj["metadata"]["name"]
    ]
    assert dashboards
    assert sidecar["enabled"] is True and sidecar["searchNamespace"] == "ALL"
    for dashboard in dashboards:
        assert dashboard["metadata"]["labels"].get(sidecar["label"]) == sidecar["labelValue"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_finds_prometheus_the_issuer_the_class_and_the_edge(stack_objects, stack):
    app = stack_objects(stack)
    values = stack_values(stack, "kube-prometheus-stack")
    prometheus = f"http://{values['fullnameOverride']}-prometheus.{BY_KEY['kube-prometheus-stack'].namespace}.svc:9090"
    config_maps = [
        obj for obj in app.values() if obj["kind"] == "ConfigMap" and "PROMETHEUS_URL" in obj.get("data", {})
    ]
    assert config_maps and {obj["data"]["PROMETHEUS_URL"] for obj in config_maps} == {prometheus}

    platform_objects = objects(stack)
    (gateway_class,) = [obj for obj in platform_objects.values() if obj["kind"] == "GatewayClass"]
    (issuer,) = [obj for obj in platform_objects.values() if obj["kind"] == "ClusterIssuer"]
    (gateway,) = [obj for obj in app.values() if obj["kind"] == "Gateway"]
    assert gateway["spec"]["gatewayClassName"] == gateway_class["metadata"]["name"]
    (certificate,) = [obj for obj in app.values() if obj["kind"] == "Certificate"]
    assert certificate["spec"]["issuerRef"]["name"] == issuer["metadata"]["name"]
    # The HTTP-01 challenge route attaches to the app's Gateway, on its port-80 listener.
    (solver,) = issuer["spec"]["acme"]["solvers"]
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    for parent in solver["http01"]["gatewayHTTPRoute"]["parentRefs"]:
        assert parent["name"] == gateway["metadata"]["name"]
        assert listeners[parent["sectionName"]]["port"] == 80
    # The app admits the edge from the namespace Envoy Gateway runs its proxies in.
    policies = [obj for obj in app.values() if obj["kind"] == "NetworkPolicy"]
    sources = json.dumps([policy["spec"] for policy in policies])
    assert f'"kubernetes.io/metadata.name": "{BY_KEY["envoy-gateway"].namespace}"' in sources


def test_the_database_operator_and_its_plugin_run_where_the_app_expects(stack_objects):
    app = stack_objects("production", *CLOUDNATIVEPG, secrets=secrets_for(CLOUDNATIVEPG))
    policies = json.dumps([obj["spec"] for obj in app.values() if obj["kind"] == "NetworkPolicy"])
    assert f'"kubernetes.io/metadata.name": "{BY_KEY["cloudnative-pg"].namespace}"' in policies
    assert BY_KEY["plugin-barman-cloud"].namespace == BY_KEY["cloudnative-pg"].namespace


def test_a_bad_platform_config_is_refused_with_every_problem_before_anything_is_declared():
    from addons.settings import PlatformSettingsError

    with pytest.raises(PlatformSettingsError) as refused:
        render(
            "staging",
            ("acmeEmail=nobody", "replicas=9", "challengeGateways[0]=Bad_Name", "acmeServr=x"),
            (),
            PROJECTS["addons"],
        )
    message = str(refused.value)
    for key in ("acmeEmail", "replicas", "challengeGateways", "acmeServr"):
        assert key in message
    assert "fix: pulumi config set acmeEmail" in message
