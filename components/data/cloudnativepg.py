"""The in-cluster PostgreSQL (database.kind cloudnativepg), run by the
CloudNativePG operator: Clusters archiving WAL through the Barman Cloud
plugin, their object store, scheduled base backups, the PgBouncer pooler
and the PodMonitors. Network policies are in database_network.py.

Prerequisites in the cluster: CloudNativePG 1.26 or newer (plugins and the
distributed topology), the Barman Cloud plugin, and cert-manager (the
plugin's TLS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.labels import common_labels, object_metadata
from components.common.vocabulary import (
    APP_NAME,
    DATABASE_INSTANCES_MONITOR,
    DATABASE_OBJECT_STORE,
    DATABASE_POOLER_MONITOR,
    DATABASE_S3_SECRET,
    DATABASE_SOURCE_STORE,
)
from components.data.database_access import (
    APP_DATABASE,
    CLUSTER_LABEL,
    POOLER_LABEL,
    SHARED_CREDENTIALS_SECRET,
    instance_selector,
    pooler_name,
    pooler_selector,
)
from platform_contract import BARMAN_CLOUD_PLUGIN
from settings.cloudnativepg import DEFAULT_CLUSTER_NAME, DatabaseObjectStore
from settings.database import Database

# The runbook's `kubectl get pods -l app=postgresql`.
RUNBOOK_POD_LABELS = {"app": "postgresql"}
# Loading pg_stat_statements: CloudNativePG adds the library to
# shared_preload_libraries when one of its parameters is set
# (pkg/postgres/configuration.go, managed extensions); the extension itself
# is created in the app database at initdb.
PG_STAT_STATEMENTS = {"pg_stat_statements.max": "10000", "pg_stat_statements.track": "all"}


def postgresql_parameters(database: Database) -> dict[str, str]:
    """The parameters every instance runs with: the stack's (from the allow
    list), pg_stat_statements, archive_timeout from the RPO (which
    CloudNativePG would otherwise default to 5min), and checkpoint_timeout
    no longer than it: after a restart PostgreSQL forces its first segment
    switch only at a checkpoint, so a longer one stretches the RPO after
    every restart to checkpoint_timeout (measured in
    tests/components/data/test_database_recovery.py; the settings refuse a longer one)."""
    timeout = f"{database.archive_timeout_seconds}s"
    return {
        **PG_STAT_STATEMENTS,
        "checkpoint_timeout": timeout,
        **dict(database.cloudnativepg.postgresql.parameters),
        "archive_timeout": timeout,
    }


def object_store_spec(store: DatabaseObjectStore, default_path: str, retention: bool) -> dict:
    """An ObjectStore (barmancloud.cnpg.io/v1). WAL and data are compressed;
    the credentials are keys of the Secret DATABASE_S3_SECRET."""
    configuration: dict = {
        "destinationPath": store.destination(default_path),
        "s3Credentials": {
            "accessKeyId": {"name": DATABASE_S3_SECRET, "key": "ACCESS_KEY_ID"},
            "secretAccessKey": {"name": DATABASE_S3_SECRET, "key": "ACCESS_SECRET_KEY"},
            # The schema takes the region from a Secret too (not a secret itself).
            "region": {"name": DATABASE_S3_SECRET, "key": "ACCESS_REGION"},
        },
        "wal": {"compression": "gzip", "maxParallel": 4},
        "data": {"compression": "gzip", "jobs": 2},
    }
    if store.endpoint:
        configuration["endpointURL"] = store.endpoint.rstrip("/")
    spec: dict = {"configuration": configuration}
    if retention:
        spec["retentionPolicy"] = store.retention
    return spec


def plugin_reference(object_store: str, server_name: str) -> dict:
    return {"name": BARMAN_CLOUD_PLUGIN, "parameters": {"barmanObjectName": object_store, "serverName": server_name}}


def app_role(database: Database, creates_databases: bool) -> dict:
    """The application role, declared so that the operator keeps its
    attributes: it logs in; it may create databases only for the restore
    drill (a scratch database); its password is left alone (the operator's
    generated one) except in a DR topology, where it follows the Secret
    shared by both sites (so rotating databaseAppPassword applies it)."""
    role = {
        "name": APP_DATABASE,
        "ensure": "present",
        "login": True,
        "inherit": True,
        "createdb": creates_databases,
        "createrole": False,
        "superuser": False,
        "replication": False,
    }
    if database.replica.enabled:
        role["passwordSecret"] = {"name": SHARED_CREDENTIALS_SECRET}
    return role


def cluster_spec(database: Database, cluster: str, creates_databases: bool = False) -> dict:
    """One Cluster: the serving one, a recovered one, or a site of the
    distributed topology. It archives to its own serverName (its name), so
    a recovered cluster never writes into the WAL path it recovers from."""
    cnpg = database.cloudnativepg
    recovering_here = database.recovering and cluster == database.recovered_cluster_name
    replica = database.replica
    external_clusters = []
    if recovering_here:
        source = cnpg.cluster_name
        external_clusters.append({"name": source, "plugin": plugin_reference(DATABASE_OBJECT_STORE, source)})
        bootstrap = {
            "recovery": {
                "source": source,
                "database": APP_DATABASE,
                "owner": APP_DATABASE,
                "recoveryTarget": {"targetTime": database.recovery.target_time},
            }
        }
    elif replica.enabled:
        source = str(replica.source.name)
        external_clusters += [
            {"name": str(replica.self_name), "plugin": plugin_reference(DATABASE_OBJECT_STORE, cluster)},
            {"name": source, "plugin": plugin_reference(DATABASE_SOURCE_STORE, replica.source.server_name)},
        ]
        # A site created as a replica starts from the primary's archive.
        bootstrap = (
            {
                "recovery": {
                    "source": source,
                    "database": APP_DATABASE,
                    "owner": APP_DATABASE,
                    **_credentials(SHARED_CREDENTIALS_SECRET),
                }
            }
            if replica.is_replica
            else _initdb(SHARED_CREDENTIALS_SECRET)
        )
    else:
        bootstrap = _initdb(None)
    resources = cnpg.resources
    spec: dict = {
        "instances": cnpg.instances,
        "imageName": cnpg.image,
        "imagePullPolicy": "IfNotPresent",
        "inheritedMetadata": {"labels": dict(RUNBOOK_POD_LABELS)},
        "postgresql": {"parameters": postgresql_parameters(database)},
        "bootstrap": bootstrap,
        "storage": _volume(cnpg.storage.size, cnpg.storage.storage_class),
        "walStorage": _volume(cnpg.wal_storage.size, cnpg.wal_storage.storage_class),
        "resources": {
            "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
            "limits": {"cpu": resources.limits.cpu, "memory": resources.limits.memory},
        },
        # Restricted Pod Security: CloudNativePG runs as non-root with all
        # capabilities dropped; the seccomp profile is stated, not assumed.
        "seccompProfile": {"type": "RuntimeDefault"},
        "enableSuperuserAccess": False,
        # One instance: a PDB would block every node drain (nothing else can
        # serve), so the operator's own PDB is off (its default is on).
        "enablePDB": cnpg.instances > 1,
        "primaryUpdateStrategy": "unsupervised",
        "primaryUpdateMethod": "switchover",
        "affinity": {"topologyKey": "kubernetes.io/hostname", "podAntiAffinityType": "preferred"},
        "plugins": [{**plugin_reference(DATABASE_OBJECT_STORE, cluster), "isWALArchiver": True}],
        "managed": {"roles": [app_role(database, creates_databases)]},
    }
    if external_clusters:
        spec["externalClusters"] = external_clusters
    if replica.enabled:
        # Distributed topology (CloudNativePG 1.25+): `primary` names the
        # site that is primary; every other site follows `source`. A
        # promotion sets primary to this site plus the demotion token.
        spec["replica"] = {"self": replica.self_name, "primary": replica.primary, "source": source}
        if replica.promotion_token and not replica.is_replica:
            spec["replica"]["promotionToken"] = replica.promotion_token
        if replica.min_apply_delay:
            spec["replica"]["minApplyDelay"] = replica.min_apply_delay
    return spec


def _initdb(credentials: Optional[str]) -> dict:
    return {
        "initdb": {
            "database": APP_DATABASE,
            "owner": APP_DATABASE,
            **_credentials(credentials),
            "postInitApplicationSQL": ["CREATE EXTENSION IF NOT EXISTS pg_stat_statements"],
        }
    }


def _credentials(secret: Optional[str]) -> dict:
    """The application role's Secret: ours in a DR topology (the same on both
    sites), else none given, so the operator generates <cluster>-app."""
    return {"secret": {"name": secret}} if secret else {}


def _volume(size: str, storage_class: Optional[str]) -> dict:
    return {"size": size, **({"storageClass": storage_class} if storage_class else {})}


def scheduled_backup_spec(database: Database, cluster: str) -> dict:
    return {
        "cluster": {"name": cluster},
        "schedule": database.cloudnativepg.backup.schedule,
        "method": "plugin",
        "pluginConfiguration": {"name": BARMAN_CLOUD_PLUGIN},
        # A new cluster (a recovered one above all) has no base backup in its
        # own archive yet: take one at once, not at the next schedule.
        "immediate": True,
        "backupOwnerReference": "self",
    }


def pooler_spec(database: Database, cluster: str) -> dict:
    pooler = database.cloudnativepg.pooler
    return {
        "cluster": {"name": cluster},
        "instances": pooler.instances,
        "type": "rw",
        "pgbouncer": {
            "poolMode": pooler.pool_mode,
            "parameters": {
                "default_pool_size": str(pooler.default_pool_size),
                "max_client_conn": str(pooler.max_client_conn),
            },
        },
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/part-of": APP_NAME}},
            "spec": {
                "containers": [
                    {
                        "name": "pgbouncer",
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                            "limits": {"cpu": "1", "memory": "256Mi"},
                        },
                    }
                ],
                # Spread, so a node loss keeps one PgBouncer.
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {POOLER_LABEL: pooler_name(cluster)}},
                    }
                ],
            },
        },
    }


def pod_monitor_spec(selector: dict, namespace: str, target_labels: list[str], interval_seconds: int) -> dict:
    return {
        "selector": selector,
        "namespaceSelector": {"matchNames": [namespace]},
        "podTargetLabels": target_labels,
        "podMetricsEndpoints": [{"port": "metrics", "interval": f"{interval_seconds}s"}],
    }


@dataclass(frozen=True)
class InClusterDatabaseArgs:
    namespace: pulumi.Input[str]
    namespace_name: str  # the object store's default path
    database: Database
    s3_access_key_id: pulumi.Output[str]
    s3_secret_access_key: pulumi.Output[str]
    operator_labels: Mapping[str, str]
    scrape_interval_seconds: int = 30
    # (name, spec) of the NetworkPolicies of the database's pods (database_network.py).
    network_policies: tuple = ()
    # The application role's password on both sites of a DR topology
    # (databaseAppPassword); None elsewhere: the operator generates it.
    app_password: Optional[pulumi.Output[str]] = None
    # The restore drill creates a scratch database as the app role.
    restore_drill: bool = False


class InClusterDatabase(pulumi.ComponentResource):
    """Clusters, object stores, scheduled backups, the pooler and PodMonitors."""

    cluster_names: pulumi.Output[list]
    """Every Cluster declared, the serving one first."""
    serving_cluster_name: pulumi.Output[str]
    """The Cluster the app, the pooler and the dumps use."""
    pooler_name: pulumi.Output[str]
    """The PgBouncer Pooler in DATABASE_URL."""
    pooler: pulumi.Resource
    """That Pooler: the app's pods wait for it (they connect through it)."""

    def __init__(self, name: str, args: InClusterDatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:data:InClusterDatabase", name, None, opts)
        database = args.database
        store = database.cloudnativepg.object_store
        if store is None:  # settings refuse this; a guard for direct callers
            raise ValueError("database.cloudnativepg.objectStore is required")

        def custom(
            logical: str,
            api_version: str,
            kind: str,
            object_name: str,
            spec: dict,
            labels: Optional[Mapping[str, str]] = None,
            **options,
        ) -> k8s.apiextensions.CustomResource:
            return k8s.apiextensions.CustomResource(
                f"{name}-{logical}",
                api_version=api_version,
                kind=kind,
                metadata=object_metadata(object_name, args.namespace, common_labels("database") | dict(labels or {})),
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self, **options),
            )

        credentials = k8s.core.v1.Secret(
            f"{name}-s3-secret",
            metadata=object_metadata(DATABASE_S3_SECRET, args.namespace, common_labels("database")),
            type="Opaque",
            string_data={
                "ACCESS_KEY_ID": pulumi.Output.secret(args.s3_access_key_id),
                "ACCESS_SECRET_KEY": pulumi.Output.secret(args.s3_secret_access_key),
                "ACCESS_REGION": store.region,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        if database.replica.enabled:
            if args.app_password is None:  # settings require it; a guard for direct callers
                raise ValueError("a DR topology needs the application role's password (databaseAppPassword)")
            k8s.core.v1.Secret(
                f"{name}-app-credentials",
                # cnpg.io/reload: the operator applies a changed password.
                metadata=object_metadata(
                    SHARED_CREDENTIALS_SECRET, args.namespace, common_labels("database") | {"cnpg.io/reload": "true"}
                ),
                type="kubernetes.io/basic-auth",
                string_data={"username": APP_DATABASE, "password": pulumi.Output.secret(args.app_password)},
                opts=pulumi.ResourceOptions(parent=self),
            )
        stores = [
            custom(
                "object-store",
                "barmancloud.cnpg.io/v1",
                "ObjectStore",
                DATABASE_OBJECT_STORE,
                object_store_spec(store, args.namespace_name, retention=True),
                depends_on=[credentials],
            )
        ]
        if database.replica.enabled and database.replica.source.object_store is not None:
            # The other site's archive: read only from here, so no retention
            # policy (its own site enforces one).
            stores.append(
                custom(
                    "source-object-store",
                    "barmancloud.cnpg.io/v1",
                    "ObjectStore",
                    DATABASE_SOURCE_STORE,
                    object_store_spec(database.replica.source.object_store, args.namespace_name, retention=False),
                    depends_on=[credentials],
                )
            )
        clusters = {}
        for cluster in database.cluster_names:
            # The logical name is the Kubernetes name, so when a recovered
            # cluster becomes cloudnativepg.clusterName the resource (and its
            # data) stays the same. Bootstrap only matters at creation:
            # ignoring later changes to it keeps that rename from touching
            # the running cluster. The external cluster a recovery read from
            # stays with it: the operator's webhook validates every update
            # as a whole, and a bootstrap.recovery.source naming no external
            # cluster is refused (cluster_webhook.go,
            # validateBootstrapRecoverySource). A DR site's external
            # clusters are its topology, managed.
            clusters[cluster] = custom(
                f"cluster-{cluster}",
                "postgresql.cnpg.io/v1",
                "Cluster",
                cluster,
                cluster_spec(database, cluster, creates_databases=args.restore_drill),
                depends_on=stores,
                ignore_changes=["spec.bootstrap", *([] if database.replica.enabled else ["spec.externalClusters"])],
                # Deleting a Cluster deletes its volumes. The serving one is
                # retained if it ever leaves the program (database.kind or a
                # clusterName changed by mistake): Pulumi forgets it, it keeps
                # running. The engine honours the flag stored with the old
                # state, so a cluster that stopped serving (recovery.serveApp)
                # is deleted by the later recovery.retireSource change.
                retain_on_delete=cluster == database.serving_cluster_name,
            )
            custom(
                f"scheduled-backup-{cluster}",
                "postgresql.cnpg.io/v1",
                "ScheduledBackup",
                f"{cluster}-daily",
                scheduled_backup_spec(database, cluster),
                depends_on=[clusters[cluster]],
            )
        serving = database.serving_cluster_name
        # The serving cluster's own Pooler: spec.cluster cannot change, so
        # serving a recovered cluster creates its Pooler (and the app moves
        # to it); the old one goes at the end of that `up`.
        pooler = custom(
            f"pooler-{serving}",
            "postgresql.cnpg.io/v1",
            "Pooler",
            pooler_name(serving),
            pooler_spec(database, serving),
            depends_on=[clusters[serving]],
            aliases=[pulumi.Alias(name=f"{name}-pooler")] if serving == DEFAULT_CLUSTER_NAME else None,
        )
        custom(
            "instances-pod-monitor",
            "monitoring.coreos.com/v1",
            "PodMonitor",
            DATABASE_INSTANCES_MONITOR,
            pod_monitor_spec(
                instance_selector(database.cluster_names),
                args.namespace_name,
                [CLUSTER_LABEL, "cnpg.io/instanceRole"],
                args.scrape_interval_seconds,
            ),
            labels=args.operator_labels,
        )
        custom(
            "pooler-pod-monitor",
            "monitoring.coreos.com/v1",
            "PodMonitor",
            DATABASE_POOLER_MONITOR,
            pod_monitor_spec(
                pooler_selector(database.cluster_names),
                args.namespace_name,
                [POOLER_LABEL],
                args.scrape_interval_seconds,
            ),
            labels=args.operator_labels,
            depends_on=[pooler],
        )
        for policy_name, policy_spec in args.network_policies:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}-network-policy",
                metadata=object_metadata(policy_name, args.namespace, common_labels("network")),
                spec=policy_spec,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.cluster_names = pulumi.Output.from_input(list(database.cluster_names))
        self.serving_cluster_name = pulumi.Output.from_input(serving)
        self.pooler = pooler
        self.pooler_name = pooler.urn.apply(lambda _: pooler_name(serving))
        self.register_outputs(
            {
                "cluster_names": self.cluster_names,
                "serving_cluster_name": self.serving_cluster_name,
                "pooler_name": self.pooler_name,
            }
        )
