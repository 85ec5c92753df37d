"""The charts the platform installs: each one's pinned version, where it comes from, and how it is installed.

One table, read by the program (what to install), the vendoring command
(what source to copy) and the tests (what the vendored source must say).

How each chart is installed is a choice, made per chart:

* `release` (pulumi-kubernetes `helm.v3.Release`) runs `helm install`/`upgrade`
  inside the provider, hooks included. Charts whose hooks do real work must use
  it: pulumi-kubernetes' `helm.v4.Chart` renders with `DisableHooks` and
  drops every `helm.sh/hook` resource (provider/pkg/provider/helm/v4/chart.go,
  "Outside of render mode hooks are not supported").
* `chart` (`helm.v4.Chart`) renders the templates and registers each object as
  a Pulumi resource: previews show each object's diff, Pulumi awaits each one,
  and CRDs in templates are updated on upgrade by server-side apply. Used for
  charts without hooks, and for the CRD-only charts: Helm never upgrades the
  CRDs in a chart's `crds/` folder, so the charts that keep them there are
  installed with their CRDs skipped, and the CRDs come from the upstream
  CRD-only chart through `helm.v4.Chart`, which does upgrade them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

import platform_contract as contract


@dataclass(frozen=True)
class ChartSource:
    """Where the chart's source lives: the repository, the release tag and the folder."""

    repository: str  # owner/name on GitHub
    tag: str
    path: str
    values_file: str = "values.yaml"  # Envoy Gateway renders values.yaml from values.tmpl.yaml at release time


@dataclass(frozen=True)
class ChartPin:
    key: str  # the Pulumi resource name and the vendored folder
    chart: str  # the chart's name, or its OCI reference
    version: str
    repository: str  # the Helm repository ("" for an OCI reference)
    namespace: str
    release: str  # the Helm release name: charts derive object names and labels from it
    method: Literal["release", "chart"]
    why: str  # why that method (hooks, CRD upgrades)
    source: ChartSource
    # API groups whose CRDs this chart installs.
    provides: tuple[str, ...] = ()
    # Values prefixes handed to a subchart, and the vendored folder with its source.
    subcharts: Mapping[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()  # keys of charts that must be installed first


CERT_MANAGER = ChartPin(
    key="cert-manager",
    chart="cert-manager",
    version="v1.21.1",
    repository="https://charts.jetstack.io",
    namespace=contract.CERT_MANAGER_NAMESPACE,
    release="cert-manager",
    method="release",
    why=(
        "its startupapicheck is a post-install hook that waits until the webhook answers; without it the "
        "ClusterIssuer could be sent before the webhook has its CA, and fail"
    ),
    source=ChartSource("cert-manager/cert-manager", "v1.21.1", "deploy/charts/cert-manager"),
    provides=("cert-manager.io", "acme.cert-manager.io"),
    depends_on=("prometheus-operator-crds",),  # its ServiceMonitor
)
GATEWAY_CRDS = ChartPin(
    key="gateway-crds",
    chart="oci://docker.io/envoyproxy/gateway-crds-helm",
    version="v1.9.0",
    repository="",
    namespace=contract.EDGE_NAMESPACE,
    release="gateway-crds",
    method="chart",
    why="CRDs only, in templates: server-side apply updates them on every upgrade, which Helm's crds/ folder never does",
    source=ChartSource("envoyproxy/gateway", "v1.9.0", "charts/gateway-crds-helm"),
    # The Gateway API 1.6 standard channel and Envoy Gateway's own.
    provides=("gateway.networking.k8s.io", "gateway.envoyproxy.io"),
)
ENVOY_GATEWAY = ChartPin(
    key="envoy-gateway",
    chart="oci://docker.io/envoyproxy/gateway-helm",
    version="v1.9.0",
    repository="",
    namespace=contract.EDGE_NAMESPACE,
    release="eg",
    method="release",
    why="its certgen Job, which makes the controller's and the proxies' TLS certificates, is a pre-install hook",
    source=ChartSource("envoyproxy/gateway", "v1.9.0", "charts/gateway-helm", values_file="values.tmpl.yaml"),
    depends_on=("gateway-crds",),
)
PROMETHEUS_CRDS = ChartPin(
    key="prometheus-operator-crds",
    chart="prometheus-operator-crds",
    version="31.0.1",
    repository="https://prometheus-community.github.io/helm-charts",
    namespace=contract.MONITORING_NAMESPACE,
    release="prometheus-operator-crds",
    method="chart",
    why="CRDs only, in templates (prometheus-operator v0.93.1, the operator kube-prometheus-stack 88.5.3 runs)",
    source=ChartSource(
        "prometheus-community/helm-charts", "prometheus-operator-crds-31.0.1", "charts/prometheus-operator-crds"
    ),
    provides=("monitoring.coreos.com",),
)
PROMETHEUS_STACK = ChartPin(
    key="kube-prometheus-stack",
    chart="kube-prometheus-stack",
    version="88.5.3",
    repository="https://prometheus-community.github.io/helm-charts",
    namespace=contract.MONITORING_NAMESPACE,
    release=contract.PROMETHEUS_STACK_RELEASE,
    method="release",
    why="the operator's admission webhook gets its certificate from hook Jobs (admissionWebhooks.patch)",
    source=ChartSource(
        "prometheus-community/helm-charts", "kube-prometheus-stack-88.5.3", "charts/kube-prometheus-stack"
    ),
    subcharts={"grafana": "grafana"},
    depends_on=("prometheus-operator-crds",),
)
GRAFANA_SOURCE = ChartSource("grafana-community/helm-charts", "grafana-12.11.1", "charts/grafana")
VPA = ChartPin(
    key="vertical-pod-autoscaler",
    chart="vertical-pod-autoscaler",
    version="0.11.0",
    repository="https://kubernetes.github.io/autoscaler",
    namespace=contract.VPA_NAMESPACE,
    release="vertical-pod-autoscaler",
    method="release",
    why="the admission controller's certificate comes from hook Jobs (admissionController.certGen)",
    source=ChartSource(
        "kubernetes/autoscaler",
        "vertical-pod-autoscaler-chart-0.11.0",
        "vertical-pod-autoscaler/charts/vertical-pod-autoscaler",
    ),
    provides=("autoscaling.k8s.io",),
)
METRICS_SERVER = ChartPin(
    key="metrics-server",
    chart="metrics-server",
    version="3.13.1",
    repository="https://kubernetes-sigs.github.io/metrics-server/",
    namespace=contract.METRICS_SERVER_NAMESPACE,
    release="metrics-server",
    method="chart",
    why="no hooks: each object is previewed and awaited on its own",
    source=ChartSource("kubernetes-sigs/metrics-server", "metrics-server-helm-chart-3.13.1", "charts/metrics-server"),
)
CLOUDNATIVEPG = ChartPin(
    key="cloudnative-pg",
    chart="cloudnative-pg",
    version="0.29.0",
    repository="https://cloudnative-pg.github.io/charts",
    namespace=contract.CLOUDNATIVEPG_NAMESPACE,
    release="cnpg",
    method="chart",
    why="no hooks, and its CRDs are templates: server-side apply updates them with the operator",
    source=ChartSource("cloudnative-pg/charts", "cloudnative-pg-v0.29.0", "charts/cloudnative-pg"),
    provides=("postgresql.cnpg.io",),
    depends_on=("prometheus-operator-crds",),  # its PodMonitor
)
BARMAN_CLOUD = ChartPin(
    key="plugin-barman-cloud",
    chart="plugin-barman-cloud",
    version="0.7.0",
    repository="https://cloudnative-pg.github.io/charts",
    namespace=contract.CLOUDNATIVEPG_NAMESPACE,
    release="barman-cloud",
    method="chart",
    why="no hooks; its certificates are cert-manager objects, so it follows cert-manager and the operator",
    source=ChartSource("cloudnative-pg/charts", "plugin-barman-cloud-v0.7.0", "charts/plugin-barman-cloud"),
    provides=("barmancloud.cnpg.io",),
    depends_on=("cert-manager", "cloudnative-pg"),
)

# In install order; depends_on makes the order explicit to the engine.
PINS: tuple[ChartPin, ...] = (
    PROMETHEUS_CRDS,
    CERT_MANAGER,
    GATEWAY_CRDS,
    ENVOY_GATEWAY,
    PROMETHEUS_STACK,
    VPA,
    METRICS_SERVER,
    CLOUDNATIVEPG,
    BARMAN_CLOUD,
)
BY_KEY: Mapping[str, ChartPin] = {pin.key: pin for pin in PINS}
# Subcharts' sources, by vendored folder.
SUBCHART_SOURCES: Mapping[str, ChartSource] = {"grafana": GRAFANA_SOURCE}
