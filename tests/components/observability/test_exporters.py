"""The data-store exporters on their own, with fake args, under the mock engine."""

from __future__ import annotations

from components.data.database_access import cluster_access, external_access
from components.observability.exporters import DataStoreExporters, DataStoreExportersArgs, exporter_specs
from settings import Exporters, Network
from tests.helpers import objects_of


def test_exporters_component_with_fake_args(run_component):
    network = Network()
    args = DataStoreExportersArgs(
        namespace="team-a",
        specs=exporter_specs(Exporters(), external_access("app-secret", network.postgres), network.redis),
        secret_name="app-secret",
        monitoring_namespace="prom",
        operator_labels={"release": "r"},
        connection_checksums={"postgres": "abc", "redis": "def"},
    )
    run = run_component(lambda: DataStoreExporters("exp", args))
    objects = objects_of(run)
    for kind in ("postgres", "redis"):
        deployment = objects[f"Deployment/monad-synapse-{kind}-exporter"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert all(
            "value" not in item for item in container["env"] if item["name"] in ("DATA_SOURCE_NAME", "REDIS_ADDR")
        )
        monitor = objects[f"ServiceMonitor/monad-synapse-{kind}-exporter"]
        assert monitor["metadata"]["labels"]["release"] == "r"
        policy = objects[f"NetworkPolicy/monad-synapse-{kind}-exporter"]["spec"]
        assert (
            policy["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "prom"
        )


def test_the_postgres_exporter_reads_the_in_cluster_primary(run_component):
    network = Network()
    args = DataStoreExportersArgs(
        namespace="team-a",
        specs=exporter_specs(Exporters(), cluster_access("team-a-db"), network.redis),
        secret_name="app-secret",
        monitoring_namespace="prom",
        operator_labels={},
        connection_checksums={"postgres": "abc", "redis": "def"},
    )
    objects = objects_of(run_component(lambda: DataStoreExporters("exp", args)))
    (container,) = objects["Deployment/monad-synapse-postgres-exporter"]["spec"]["template"]["spec"]["containers"]
    assert container["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "team-a-db-app", "key": "uri"}
    (redis,) = objects["Deployment/monad-synapse-redis-exporter"]["spec"]["template"]["spec"]["containers"]
    assert redis["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "app-secret", "key": "REDIS_URL"}
    (egress,) = objects["NetworkPolicy/monad-synapse-postgres-exporter"]["spec"]["egress"]
    assert egress["to"][0]["podSelector"]["matchExpressions"][0]["values"] == ["team-a-db"]
    assert "ipBlock" not in egress["to"][0]
