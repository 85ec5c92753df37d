"""The reviewed Helm values of each pinned chart, built from the shared names and the platform settings.

Every path set here exists in the chart's vendored `values.yaml` or
`values.schema.json` at its pinned version (a test checks each one), and
every name the app relies on comes from `platform_contract`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import platform_contract as contract
from addons.settings import PlatformSettings

GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_ADMIN_USER_KEY = "admin-user"
GRAFANA_ADMIN_PASSWORD_KEY = "admin-password"


def _selector() -> dict[str, Any]:
    return {"matchLabels": dict(contract.OPERATOR_SELECTOR_LABELS)}


def cert_manager(settings: PlatformSettings) -> dict[str, Any]:
    replicas = settings.replicas
    return {
        # CRDs from the chart's templates, upgraded with it; kept if the release goes.
        "crds": {"enabled": True, "keep": True},
        "replicaCount": replicas,
        "podDisruptionBudget": {"enabled": replicas > 1},
        "webhook": {"replicaCount": replicas, "podDisruptionBudget": {"enabled": replicas > 1}},
        "cainjector": {"replicaCount": replicas, "podDisruptionBudget": {"enabled": replicas > 1}},
        # HTTP-01 challenges answered through the app's Gateway (the gatewayHTTPRoute solver);
        # cert-manager pkg/apis/config/controller/v1alpha1/types.go EnableGatewayAPI.
        "config": {
            "apiVersion": "controller.config.cert-manager.io/v1alpha1",
            "kind": "ControllerConfiguration",
            "enableGatewayAPI": True,
        },
        # The app's certificate alerts read these metrics.
        "prometheus": {
            "enabled": True,
            "servicemonitor": {"enabled": True, "labels": dict(contract.OPERATOR_SELECTOR_LABELS)},
        },
    }


def gateway_crds(settings: PlatformSettings) -> dict[str, Any]:
    # The standard channel only: the app uses no experimental Gateway API kind.
    return {"crds": {"gatewayAPI": {"enabled": True, "channel": "standard"}, "envoyGateway": {"enabled": True}}}


def envoy_gateway(settings: PlatformSettings) -> dict[str, Any]:
    return {
        "crds": {"enabled": False},  # from the gateway-crds chart, which keeps them current
        "deployment": {"replicas": settings.replicas},
        "podDisruptionBudget": {"minAvailable": 1 if settings.replicas > 1 else 0},
    }


def prometheus_operator_crds(settings: PlatformSettings) -> dict[str, Any]:
    return {}


def kube_prometheus_stack(settings: PlatformSettings) -> dict[str, Any]:
    # Selectors stated, not derived: with *NilUsesHelmValues the chart would
    # select `release: <release name>`, right only while the release keeps
    # its name. Empty namespace selectors: every namespace (the app's).
    prometheus_spec: dict[str, Any] = {}
    for kind in ("rule", "serviceMonitor", "podMonitor"):
        prometheus_spec[f"{kind}SelectorNilUsesHelmValues"] = False
        prometheus_spec[f"{kind}Selector"] = _selector()
        prometheus_spec[f"{kind}NamespaceSelector"] = {}
    return {
        # The Prometheus Service is `<fullname>-prometheus`: the app's analysis Job calls it by name.
        "fullnameOverride": contract.PROMETHEUS_STACK_RELEASE,
        "crds": {"enabled": False},  # from prometheus-operator-crds, which keeps them current
        "prometheus": {"prometheusSpec": prometheus_spec},
        "alertmanager": {
            "alertmanagerSpec": {
                "alertmanagerConfigSelector": _selector(),
                "alertmanagerConfigNamespaceSelector": {},
            }
        },
        "grafana": {
            # The chart's default admin password is public ("prom-operator"):
            # a generated one, from a Secret the chart never sees.
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": GRAFANA_ADMIN_USER_KEY,
                "passwordKey": GRAFANA_ADMIN_PASSWORD_KEY,
            },
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": contract.GRAFANA_DASHBOARD_LABEL,
                    "labelValue": contract.GRAFANA_DASHBOARD_LABEL_VALUE,
                    # The app's dashboards live in its own namespace.
                    "searchNamespace": "ALL",
                }
            },
        },
    }


def vertical_pod_autoscaler(settings: PlatformSettings) -> dict[str, Any]:
    return {
        "recommender": {"replicas": settings.replicas},
        # The admission controller applies recommendations at pod creation (updateMode Initial).
        "admissionController": {"enabled": True, "replicas": settings.replicas},
        # The updater evicts pods for updateMode Auto/Recreate, which the app refuses
        # (they fight its HPAs): nothing would use it.
        "updater": {"enabled": False},
    }


def metrics_server(settings: PlatformSettings) -> dict[str, Any]:
    return {"replicas": settings.replicas, "podDisruptionBudget": {"enabled": settings.replicas > 1, "minAvailable": 1}}


def cloudnative_pg(settings: PlatformSettings) -> dict[str, Any]:
    return {
        "crds": {"create": True},
        "monitoring": {
            "podMonitorEnabled": True,
            "podMonitorAdditionalLabels": dict(contract.OPERATOR_SELECTOR_LABELS),
        },
    }


def plugin_barman_cloud(settings: PlatformSettings) -> dict[str, Any]:
    return {"crds": {"create": True}}


VALUES: Mapping[str, Callable[[PlatformSettings], dict[str, Any]]] = {
    "cert-manager": cert_manager,
    "gateway-crds": gateway_crds,
    "envoy-gateway": envoy_gateway,
    "prometheus-operator-crds": prometheus_operator_crds,
    "kube-prometheus-stack": kube_prometheus_stack,
    "vertical-pod-autoscaler": vertical_pod_autoscaler,
    "metrics-server": metrics_server,
    "cloudnative-pg": cloudnative_pg,
    "plugin-barman-cloud": plugin_barman_cloud,
}
