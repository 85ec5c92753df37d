"""What the cluster's add-ons provide and the app relies on: namespaces, names, labels, selectors.

Both Pulumi projects read this one module: the platform project (`addons/`)
installs its charts to these names, and the app's settings take their
defaults from them. Change a name here and both follow; a test renders both
projects and checks that each selector of the platform selects what the app
declares, so the two cannot drift.

Plain data, importable without the Pulumi SDK.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

# cert-manager, and the ClusterIssuer the app's Certificates name.
CERT_MANAGER_NAMESPACE = "cert-manager"
CLUSTER_ISSUER = "letsencrypt-prod"

# Envoy Gateway: its controller and the Gateways' proxies share a namespace,
# and the app admits edge traffic from it.
EDGE_NAMESPACE = "envoy-gateway-system"
GATEWAY_CLASS = "eg"
# envoyproxy/gateway api/v1alpha1/envoygateway_types.go GatewayControllerName.
GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"

# kube-prometheus-stack. Its operator selects monitors, rules and
# AlertmanagerConfigs by these labels in every namespace.
MONITORING_NAMESPACE = "monitoring"
PROMETHEUS_STACK_RELEASE = "kube-prometheus-stack"
OPERATOR_SELECTOR_LABELS: Mapping[str, str] = MappingProxyType({"release": PROMETHEUS_STACK_RELEASE})
# The chart names its Prometheus Service `<fullname>-prometheus`; the platform
# sets fullnameOverride to the release name, so this holds by value, not luck.
PROMETHEUS_PORT = 9090


def prometheus_url(monitoring_namespace: str = MONITORING_NAMESPACE) -> str:
    """The in-cluster address of kube-prometheus-stack's Prometheus."""
    return f"http://{PROMETHEUS_STACK_RELEASE}-prometheus.{monitoring_namespace}.svc:{PROMETHEUS_PORT}"


# Grafana's dashboard sidecar loads ConfigMaps with this label, in every namespace.
GRAFANA_DASHBOARD_LABEL = "grafana_dashboard"
GRAFANA_DASHBOARD_LABEL_VALUE = "1"

# CloudNativePG's operator, and the Barman Cloud plugin beside it (the
# operator finds plugins among the Services of its own namespace).
CLOUDNATIVEPG_NAMESPACE = "cnpg-system"
BARMAN_CLOUD_PLUGIN = "barman-cloud.cloudnative-pg.io"

# The VPA and metrics-server run where the cluster's own services do.
VPA_NAMESPACE = "kube-system"
METRICS_SERVER_NAMESPACE = "kube-system"

# Cluster DNS, which every pod's egress policy admits.
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS: Mapping[str, str] = MappingProxyType({"k8s-app": "kube-dns"})


def app_environment(stack: str) -> str:
    """The short environment name in the runbook's edge object names (prod, staging)."""
    return "prod" if stack == "production" else stack


def app_gateway_name(environment: str) -> str:
    """The app's own Gateway; cert-manager's HTTP-01 challenge routes attach to its port-80 listener."""
    return f"monad-synapse-{environment}-gateway"
