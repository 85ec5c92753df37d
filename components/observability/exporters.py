"""PostgreSQL and Redis exporters, so the database and cache alerts have data.

Hardened like the app pods; credentials come from the app's Secret by
reference, never as literals. They carry their own `app.kubernetes.io/name`
so the runbook's `-l app.kubernetes.io/name=monad-synapse` still selects only
app pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.egress import egress_rule
from components.common.labels import INSTANCE_LABEL, object_metadata, workload_labels
from components.common.pod_security import restricted_container_security, restricted_pod_security
from components.common.vocabulary import exporter_name
from components.data.database_access import DatabaseAccess
from settings import EgressTarget, Exporters

EXPORTER_USER = 65534  # nobody


@dataclass(frozen=True)
class ExporterSpec:
    kind: str  # postgres | redis
    image: str
    port: int
    env_name: str  # variable the exporter reads the connection URL from
    egress: tuple  # NetworkPolicy egress rules that reach the data store
    # Where the URL comes from: a key of the app's Secret, or (the database)
    # wherever its DatabaseAccess says.
    app_secret_key: str = ""
    database: Optional[DatabaseAccess] = None

    def env(self, app_secret_name: pulumi.Input[str]) -> list:
        if self.database is not None:
            return self.database.env(self.env_name)
        return [
            {
                "name": self.env_name,
                "valueFrom": {"secretKeyRef": {"name": app_secret_name, "key": self.app_secret_key}},
            }
        ]

    @property
    def name(self) -> str:
        """Deployment, Service and scrape job (the alerts' `job` matcher)."""
        return exporter_name(self.kind)

    def labels(self) -> dict[str, str]:
        return workload_labels(f"{self.kind}-exporter", self.name, "exporter")

    def selector(self) -> dict[str, str]:
        return {INSTANCE_LABEL: self.name}


def exporter_specs(exporters: Exporters, postgres: DatabaseAccess, redis: EgressTarget) -> list[ExporterSpec]:
    """The PostgreSQL exporter reads the database wherever `postgres` says
    (the external one, or the in-cluster primary); Redis is always external."""
    return [
        ExporterSpec(
            "postgres", exporters.postgres_image, 9187, "DATA_SOURCE_NAME", postgres.egress, database=postgres
        ),
        ExporterSpec(
            "redis", exporters.redis_image, 9121, "REDIS_ADDR", (egress_rule(redis),), app_secret_key="REDIS_URL"
        ),
    ]


@dataclass(frozen=True)
class DataStoreExportersArgs:
    namespace: pulumi.Input[str]
    specs: list[ExporterSpec]
    secret_name: pulumi.Input[str]
    monitoring_namespace: str
    operator_labels: Mapping[str, str]
    # Rolls the exporters when the connection URLs change (they read them at start).
    connection_checksums: Mapping[str, pulumi.Input[str]]


class DataStoreExporters(pulumi.ComponentResource):
    """An exporter Deployment, Service, ServiceMonitor and NetworkPolicy per data store."""

    service_names: pulumi.Output[list]
    """Exporter Services (the scrape jobs)."""

    def __init__(self, name: str, args: DataStoreExportersArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:observability:DataStoreExporters", name, None, opts)
        services = [self._exporter(name, spec, args) for spec in args.specs]
        self.service_names = pulumi.Output.all(*(service.metadata.name for service in services))
        self.register_outputs({"service_names": self.service_names})

    def _exporter(self, name: str, spec: ExporterSpec, args: DataStoreExportersArgs) -> k8s.core.v1.Service:
        child = pulumi.ResourceOptions(parent=self)
        metadata = lambda extra=None: object_metadata(spec.name, args.namespace, spec.labels() | dict(extra or {}))  # noqa: E731
        deployment = k8s.apps.v1.Deployment(
            f"{name}-{spec.kind}-deployment",
            metadata=metadata(),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                # One replica and no PodDisruptionBudget, on purpose: a PDB
                # on a single pod (minAvailable 1 or maxUnavailable 0) would
                # block every node drain, and the exporter is stateless and
                # back within seconds elsewhere. The alerts built on it wait
                # (MonadSynapseDatabaseDown `for: 1m`, RedisDown `for: 2m`)
                # longer than a reschedule takes.
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=spec.selector()),
                revision_history_limit=3,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=spec.labels(),
                        annotations={"monad-synapse.com/connection-checksum": args.connection_checksums[spec.kind]},
                    ),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=restricted_pod_security(EXPORTER_USER),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name=f"{spec.kind}-exporter",
                                image=spec.image,
                                image_pull_policy="Always",
                                ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=spec.port)],
                                env=spec.env(args.secret_name),
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "20m", "memory": "32Mi"},
                                    limits={"cpu": "200m", "memory": "128Mi"},
                                ),
                                readiness_probe=k8s.core.v1.ProbeArgs(
                                    tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="metrics"), period_seconds=10
                                ),
                                liveness_probe=k8s.core.v1.ProbeArgs(
                                    tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="metrics"),
                                    period_seconds=20,
                                    failure_threshold=3,
                                ),
                                security_context=restricted_container_security(),
                            )
                        ],
                    ),
                ),
            ),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-{spec.kind}-service",
            metadata=metadata(),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=spec.selector(),
                ports=[
                    k8s.core.v1.ServicePortArgs(name="metrics", port=spec.port, target_port="metrics", protocol="TCP")
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-{spec.kind}-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=metadata(args.operator_labels),
            spec={
                "selector": {"matchLabels": spec.selector()},
                "namespaceSelector": {"matchNames": [args.namespace]},
                "endpoints": [{"port": "metrics", "interval": "30s"}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service]),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{spec.kind}-network-policy",
            metadata=metadata(),
            spec={
                "podSelector": {"matchLabels": spec.selector()},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": args.monitoring_namespace}
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": spec.port}],
                    }
                ],
                "egress": list(spec.egress),
            },
            opts=child,
        )
        return service
