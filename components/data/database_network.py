"""NetworkPolicies of the in-cluster database's pods (pure specs): who may
reach the instances and the pooler, and what they may reach. The
namespace's default-deny (network_policy.py) refuses everything else."""

from __future__ import annotations

from components.common.egress import ip_blocks
from components.common.labels import NAME_LABEL, selector_labels
from components.common.vocabulary import DATABASE_POOLER, TOOLBOX
from components.data.database_access import POSTGRES_PORT, database_pod_selector, instance_selector, pooler_selector
from settings import EgressTarget
from settings.database import Database

# CloudNativePG's ports (pkg/management/url): the instance manager's status
# endpoint, which the operator polls, and the metrics of instances and
# PgBouncer.
STATUS_PORT = 8000
INSTANCE_METRICS_PORT = 9187
POOLER_METRICS_PORT = 9127
API_SERVER_PORTS = (443, 6443)


def _tcp(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _namespace(name: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def database_policies(
    database: Database, monitoring_namespace: str, exporter_labels: dict, backup_job_name: str, toolbox: bool = False
) -> list[tuple[str, dict]]:
    """(name, spec) of each policy: the PostgreSQL pods (instances and the
    operator's Jobs), and the poolers.
    `exporter_labels` select the PostgreSQL exporter's pods; with `toolbox`,
    the on-call's debugging pod connects too (as the dumps do, to the primary)."""
    cnpg = database.cloudnativepg
    # The instances and the operator's bootstrap Jobs (their pods need the
    # same flows: initdb the API server, join the primary, a recovery the
    # object store); clients connect to the instances only.
    postgres_pods = database_pod_selector(database.cluster_names)
    instances = instance_selector(database.cluster_names)
    poolers = pooler_selector(database.cluster_names)
    api_server = {
        "to": [{"ipBlock": block} for block in ip_blocks(EgressTarget(cidrs=cnpg.api_server_cidrs, port=443))],
        "ports": _tcp(*API_SERVER_PORTS),
    }
    stores = [store for store in (cnpg.object_store, database.replica.source.object_store) if store is not None]
    object_storage = [
        {
            "to": [{"ipBlock": block} for block in ip_blocks(EgressTarget(cidrs=store.cidrs, port=store.port))],
            "ports": _tcp(store.port),
        }
        for store in stores
    ]
    clients = [
        {"podSelector": poolers},
        # The app's DATABASE_READ_URL goes to the instances directly.
        {"podSelector": {"matchLabels": selector_labels()}},
        {"podSelector": {"matchLabels": dict(exporter_labels)}},
        {"podSelector": {"matchLabels": {NAME_LABEL: backup_job_name}}},
        *([{"podSelector": {"matchLabels": {NAME_LABEL: TOOLBOX}}}] if toolbox else []),
    ]
    instance_policy = {
        "podSelector": postgres_pods,
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": clients, "ports": _tcp(POSTGRES_PORT)},
            # Streaming replication and a joining standby's base backup (the join Job's pod).
            {"from": [{"podSelector": postgres_pods}], "ports": _tcp(POSTGRES_PORT, STATUS_PORT)},
            # The operator: status polls, and its own connections.
            {"from": [_namespace(cnpg.operator_namespace)], "ports": _tcp(POSTGRES_PORT, STATUS_PORT)},
            {"from": [_namespace(monitoring_namespace)], "ports": _tcp(INSTANCE_METRICS_PORT)},
        ],
        "egress": [
            {"to": [{"podSelector": postgres_pods}], "ports": _tcp(POSTGRES_PORT, STATUS_PORT)},
            # The instance manager watches its Cluster through the API server.
            api_server,
            # WAL and base backups out, recovery and the DR replica in.
            *object_storage,
        ],
    }
    pooler_policy = {
        "podSelector": poolers,
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": [{"podSelector": {"matchLabels": selector_labels()}}], "ports": _tcp(POSTGRES_PORT)},
            {"from": [_namespace(monitoring_namespace)], "ports": _tcp(POOLER_METRICS_PORT)},
        ],
        "egress": [{"to": [{"podSelector": instances}], "ports": _tcp(POSTGRES_PORT)}, api_server],
    }
    return [("monad-synapse-db-instances", instance_policy), (f"{DATABASE_POOLER}", pooler_policy)]
