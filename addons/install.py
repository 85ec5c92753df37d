"""The platform add-ons as one component: namespaces, the pinned charts in dependency order, the issuer and the class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

import platform_contract as contract
from addons.pins import PINS, ChartPin
from addons.settings import PlatformSettings
from addons.values import (
    GRAFANA_ADMIN_PASSWORD_KEY,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_ADMIN_USER_KEY,
    VALUES,
)

# Namespaces the platform creates, with the Pod Security level each needs:
# node-exporter (monitoring) mounts the host's filesystems and network.
# Enforcing baseline, warning at restricted, keeps an upstream image that
# drops a restricted setting running while the warning names it.
NAMESPACE_SECURITY = {
    contract.CERT_MANAGER_NAMESPACE: "baseline",
    contract.EDGE_NAMESPACE: "baseline",
    contract.MONITORING_NAMESPACE: "privileged",
    contract.CLOUDNATIVEPG_NAMESPACE: "baseline",
}
# Where the charts keep their CRDs in a `crds/` folder Helm installs once and
# never upgrades: skipped, because a CRD-only chart installs them instead.
CRDS_FROM_ELSEWHERE = {"envoy-gateway": "gateway-crds", "kube-prometheus-stack": "prometheus-operator-crds"}
# A release that fails is rolled back (upgrade) or removed (install), so the
# next `pulumi up` starts from the last good state; Helm's default is 5 min.
RELEASE_TIMEOUT_SECONDS = 900
ACME_ACCOUNT_KEY = f"{contract.CLUSTER_ISSUER}-account-key"


@dataclass(frozen=True)
class AddonsArgs:
    settings: PlatformSettings


def namespace_labels(level: str) -> dict[str, str]:
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def cluster_issuer(settings: PlatformSettings) -> dict:
    """Let's Encrypt through HTTP-01 on the app's Gateway (cert-manager's gatewayHTTPRoute solver).

    The challenge HTTPRoute is made in the Certificate's namespace; parent
    references without a namespace point there, at the app's own Gateway,
    whose `http` listener admits routes of its namespace.
    """
    parents = [{"kind": "Gateway", "name": name, "sectionName": "http"} for name in settings.challenge_gateways]
    return {
        "email": settings.acme_email,
        "server": settings.acme_server,
        "privateKeySecretRef": {"name": ACME_ACCOUNT_KEY},
        "solvers": [{"http01": {"gatewayHTTPRoute": {"parentRefs": parents}}}],
    }


class PlatformAddons(pulumi.ComponentResource):
    """Everything the app project expects on its cluster, installed in order."""

    def __init__(self, name: str, args: AddonsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:addons:PlatformAddons", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        namespaces = {
            namespace: k8s.core.v1.Namespace(
                namespace,
                metadata={"name": namespace, "labels": namespace_labels(level)},
                opts=child,
            )
            for namespace, level in NAMESPACE_SECURITY.items()
        }
        grafana_admin = self._grafana_admin(settings, namespaces[contract.MONITORING_NAMESPACE])

        installed: dict[str, pulumi.Resource] = {}
        for pin in PINS:
            depends: list[pulumi.Resource] = [installed[key] for key in pin.depends_on]
            if pin.namespace in namespaces:
                depends.append(namespaces[pin.namespace])
            if pin.key == "kube-prometheus-stack":
                depends.append(grafana_admin)
            installed[pin.key] = self._install(pin, settings, pulumi.ResourceOptions(parent=self, depends_on=depends))

        # Custom resources after the chart that defines and serves them.
        issuer = k8s.apiextensions.CustomResource(
            contract.CLUSTER_ISSUER,
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata={"name": contract.CLUSTER_ISSUER},
            spec={"acme": cluster_issuer(settings)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[installed["cert-manager"]]),
        )
        gateway_class = k8s.apiextensions.CustomResource(
            contract.GATEWAY_CLASS,
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata={"name": contract.GATEWAY_CLASS},
            spec={"controllerName": contract.GATEWAY_CONTROLLER},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[installed["gateway-crds"], installed["envoy-gateway"]]
            ),
        )
        self.chart_versions = {pin.key: pin.version for pin in PINS}
        self.cluster_issuer = issuer.metadata.apply(lambda metadata: metadata["name"])
        self.gateway_class = gateway_class.metadata.apply(lambda metadata: metadata["name"])
        self.register_outputs(
            {
                "chartVersions": self.chart_versions,
                "clusterIssuer": self.cluster_issuer,
                "gatewayClass": self.gateway_class,
            }
        )

    def _grafana_admin(self, settings: PlatformSettings, namespace: pulumi.Resource) -> pulumi.Resource:
        password = random.RandomPassword(
            "grafana-admin-password",
            length=32,
            special=False,
            keepers={"version": str(settings.grafana_admin_password_version)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return k8s.core.v1.Secret(
            GRAFANA_ADMIN_SECRET,
            metadata={"name": GRAFANA_ADMIN_SECRET, "namespace": contract.MONITORING_NAMESPACE},
            string_data={GRAFANA_ADMIN_USER_KEY: "admin", GRAFANA_ADMIN_PASSWORD_KEY: password.result},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )

    def _install(self, pin: ChartPin, settings: PlatformSettings, opts: pulumi.ResourceOptions) -> pulumi.Resource:
        values = VALUES[pin.key](settings)
        if pin.method == "release":
            return k8s.helm.v3.Release(
                pin.key,
                name=pin.release,  # unset, Pulumi appends a random suffix and every label the app selects on changes
                chart=pin.chart,
                version=pin.version,
                namespace=pin.namespace,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=pin.repository) if pin.repository else None,
                values=values,
                skip_crds=pin.key in CRDS_FROM_ELSEWHERE,
                atomic=True,
                cleanup_on_fail=True,
                timeout=RELEASE_TIMEOUT_SECONDS,
                max_history=10,
                opts=opts,
            )
        return k8s.helm.v4.Chart(
            pin.key,
            name=pin.release,
            chart=pin.chart,
            version=pin.version,
            namespace=pin.namespace,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=pin.repository) if pin.repository else None,
            values=values,
            opts=opts,
        )
