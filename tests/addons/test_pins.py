"""The pins against the vendored chart sources: same chart and tag, the install method each chart's hooks call for,
and every custom resource the app declares installed by a pinned chart."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from addons.install import CRDS_FROM_ELSEWHERE
from addons.pins import BY_KEY, PINS, SUBCHART_SOURCES
from tests.helpers import CLOUDNATIVEPG, DR_SITE, secrets_for
from tools.engine.schemas import is_core_object

VENDOR = Path(__file__).resolve().parents[2] / "addons" / "vendor"
# Releases tag the chart from git with these placeholders in its Chart.yaml.
PLACEHOLDER_VERSIONS = {"v0.0.0", "v0.0.0-latest"}


def source_record(key: str) -> dict:
    return yaml.safe_load((VENDOR / key / "SOURCE.yaml").read_text())


def has_hooks(key: str, values_file: str) -> bool:
    """A Helm hook in the chart's templates, or set by its default values (cert-manager's startupapicheck)."""
    folder = VENDOR / key
    texts = [path.read_text() for path in folder.glob("templates/**/*") if path.is_file()]
    texts.append((folder / values_file).read_text())
    return any("helm.sh/hook:" in text or '"helm.sh/hook":' in text for text in texts)


@pytest.mark.parametrize("pin", PINS, ids=lambda pin: pin.key)
def test_each_vendored_source_is_the_pinned_release(pin):
    record = source_record(pin.key)
    chart = yaml.safe_load((VENDOR / pin.key / "Chart.yaml").read_text())
    assert record["tag"] == pin.source.tag
    assert record["repository"] == f"https://github.com/{pin.source.repository}"
    assert record["path"] == pin.source.path
    assert len(record["commit"]) == 40
    assert chart["name"] == pin.chart.rsplit("/", 1)[-1]
    assert pin.version.lstrip("v") in pin.source.tag
    if chart["version"] not in PLACEHOLDER_VERSIONS:
        assert str(chart["version"]).lstrip("v") == pin.version.lstrip("v")


@pytest.mark.parametrize("pin", PINS, ids=lambda pin: pin.key)
def test_charts_with_hooks_are_installed_as_releases(pin):
    """helm.v4.Chart drops hooks (pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go)."""
    hooks = has_hooks(pin.key, pin.source.values_file)
    assert (pin.method == "release") == hooks, f"{pin.key}: hooks={hooks}, method={pin.method}: {pin.why}"


def test_the_hook_finder_sees_a_hook():
    assert has_hooks("envoy-gateway", "values.tmpl.yaml")
    assert has_hooks("cert-manager", "values.yaml")
    assert not has_hooks("metrics-server", "values.yaml")


@pytest.mark.parametrize("key", sorted(CRDS_FROM_ELSEWHERE))
def test_crds_skipped_in_a_release_come_from_a_chart_it_waits_for(key):
    provider = BY_KEY[CRDS_FROM_ELSEWHERE[key]]
    assert provider.key in BY_KEY[key].depends_on
    assert set(source_record(key)["crds"]) <= set(source_record(provider.key)["crds"])


def test_the_prometheus_crds_match_the_operator_that_reads_them():
    stack = yaml.safe_load((VENDOR / "kube-prometheus-stack" / "Chart.yaml").read_text())
    crds = yaml.safe_load((VENDOR / "prometheus-operator-crds" / "Chart.yaml").read_text())
    assert crds["appVersion"] == stack["appVersion"]


def test_the_grafana_subchart_is_the_one_kube_prometheus_stack_pins():
    stack = yaml.safe_load((VENDOR / "kube-prometheus-stack" / "Chart.yaml").read_text())
    (grafana,) = [dependency for dependency in stack["dependencies"] if dependency["name"] == "grafana"]
    assert source_record("grafana")["tag"] == SUBCHART_SOURCES["grafana"].tag == f"grafana-{grafana['version']}"


def test_the_edge_floor_is_envoy_gateway_1_9():
    major, minor = (int(part) for part in BY_KEY["envoy-gateway"].version.lstrip("v").split(".")[:2])
    assert (major, minor) >= (1, 9)
    assert BY_KEY["gateway-crds"].version == BY_KEY["envoy-gateway"].version


# Every custom resource the app declares, in its main shapes.
APP_VARIANTS = [("staging",), ("production",), ("production", *CLOUDNATIVEPG), ("staging", *CLOUDNATIVEPG, *DR_SITE)]


@pytest.mark.parametrize("variant", APP_VARIANTS, ids=["-".join(v) for v in APP_VARIANTS])
def test_every_custom_resource_of_the_app_is_installed_by_a_pinned_chart(stack_objects, variant):
    # A release installed with its CRDs skipped installs none.
    installed = {
        crd: pin.key for pin in PINS if pin.key not in CRDS_FROM_ELSEWHERE for crd in source_record(pin.key)["crds"]
    }
    custom = {
        f"{obj['apiVersion'].split('/')[0]}/{obj['kind']}"
        for obj in stack_objects(*variant, secrets=secrets_for(variant)).values()
        if not is_core_object(obj)
    }
    assert custom, "the app declares custom resources"
    assert sorted(custom - set(installed)) == []
    for crd in custom:  # the pin says what it provides, and the source agrees
        assert crd.split("/")[0] in BY_KEY[installed[crd]].provides
