"""Monad Synapse on Kubernetes: settings in, components out, outputs exported."""

import pulumi

from components.app.app_config import AppConfiguration, AppConfigurationArgs
from components.app.blue_green import BlueGreenApp, BlueGreenAppArgs
from components.data.backups import BACKUP_CRONJOB, BACKUP_JOB_LABEL, DRILL_CRONJOB, DatabaseBackups, DatabaseBackupsArgs
from components.data.cloudnativepg import InClusterDatabase, InClusterDatabaseArgs
from components.data.database_access import SHARED_CREDENTIALS_SECRET, app_database, cluster_access, external_access
from components.data.database_network import database_policies
from components.edge.app_edge import AppEdge, EdgeArgs
from components.observability.exporters import DataStoreExporters, DataStoreExportersArgs, exporter_specs
from components.platform.kubernetes_provider import kubernetes_provider
from components.observability.monitoring import AppMonitoring, AppMonitoringArgs
from components.platform.namespace import AppNamespace, AppNamespaceArgs
from components.platform.network_policy import AppNetworkPolicies, AppNetworkPoliciesArgs
from components.app.promotion import AnalysisSettings
from components.observability.rule_context import DatabaseWatch
from components.common.vocabulary import DATABASE_INSTANCES_MONITOR, DATABASE_POOLER_MONITOR, pod_monitor_job
from settings import COLORS, RateLimit, load_settings

# Validates every key first: a bad value stops the program before any resource exists.
stack_inputs = load_settings(pulumi.Config(), pulumi.get_stack())
settings = stack_inputs.settings

# Every Kubernetes object goes through this provider (mutable ConfigMaps and
# Secrets, server-side apply); components pass it on to their children.
kubernetes = kubernetes_provider(stack_inputs.kubernetes, settings.adopt_existing_objects)
if settings.adopt_existing_objects:
    pulumi.log.warn(
        "adoptExistingObjects is on: every create takes over an existing object of the same name and forces its "
        "fields to this program's values. Keep it for the first `pulumi up` over the hand-made objects only, then: "
        f"pulumi config rm adoptExistingObjects -s {settings.stack} && pulumi up"
    )


def on_kubernetes(depends_on: list | None = None) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(providers={"kubernetes": kubernetes}, depends_on=depends_on)


database = settings.database
# The in-cluster database's app-facing side (None with the external one):
# DATABASE_URL to the pooler, DATABASE_READ_URL to the read-only service.
# Both sites of a DR topology use one application password (our Secret);
# elsewhere the operator generates <cluster>-app.
credentials_secret = SHARED_CREDENTIALS_SECRET if database.replica.enabled else None
in_cluster = (
    app_database(database.serving_cluster_name, settings.namespace, database.cloudnativepg.instances,
                 credentials_secret)
    if database.is_cloudnativepg else None
)

namespace = AppNamespace(
    "monad-synapse",
    AppNamespaceArgs(name=settings.namespace, priority_class=settings.priority_class),
    opts=on_kubernetes(),
)

network_policies = AppNetworkPolicies(
    "monad-synapse-network",
    AppNetworkPoliciesArgs(
        namespace=namespace.namespace,
        network=settings.network,
        edge_namespaces=settings.edge_namespaces,
        database_egress=tuple(in_cluster.egress()) if in_cluster else None,
    ),
    opts=on_kubernetes(),
)

app_configuration = AppConfiguration(
    "monad-synapse-config",
    AppConfigurationArgs(
        namespace=namespace.namespace,
        domain=settings.domain,
        maintenance_mode=settings.maintenance_mode,
        app_config=settings.app_config,
        color_app_config={color: getattr(settings.colors, color).app_config for color in COLORS},
        jwt_secret_version=settings.jwt_secret_version,
        database_url=stack_inputs.secrets.database_url,
        redis_url=stack_inputs.secrets.redis_url,
    ),
    opts=on_kubernetes(),
)

if settings.idle_is_cold:
    pulumi.log.warn(
        f"the idle color {settings.idle_color} keeps {settings.warm_idle_replicas} pod(s), fewer than the live "
        f"minimum of {settings.autoscaling.min_replicas}: switching activeColor now would send live traffic to a "
        f"cold color. Warm it first: pulumi config set idleReplicas auto -s {settings.stack} && pulumi up"
    )

if settings.edge.kind == "gateway" and settings.rate_limit.connections != RateLimit().connections:
    # Envoy Gateway has no per-client connection limit (see components/edge/app_edge.py).
    pulumi.log.warn(
        f"rateLimit.connections ({settings.rate_limit.connections}) has no effect with edge.kind gateway; "
        f"in DDoS mode lower rateLimit.rps, and cap all connections with edge.gateway.maxConnections"
    )

# Where pods that read a database URL from a Secret (the exporter, the
# dumps) find it: the app Secret's DATABASE_URL, or the in-cluster primary.
database_access = (
    cluster_access(database.serving_cluster_name, settings.namespace, credentials_secret) if in_cluster
    else external_access(app_configuration.secret_name, settings.network.postgres)
)
exporter_list = exporter_specs(settings.monitoring.exporters, database_access, settings.network.redis)

if in_cluster:
    in_cluster_database = InClusterDatabase(
        "monad-synapse-db",
        InClusterDatabaseArgs(
            namespace=namespace.namespace,
            namespace_name=settings.namespace,
            database=database,
            s3_access_key_id=stack_inputs.secrets.database_s3_access_key_id,
            s3_secret_access_key=stack_inputs.secrets.database_s3_secret_access_key,
            app_password=stack_inputs.secrets.database_app_password,
            restore_drill=settings.backup.enabled and settings.backup.drill.enabled,
            operator_labels=settings.monitoring.operator_labels,
            scrape_interval_seconds=settings.monitoring.scrape_interval_seconds,
            network_policies=tuple(database_policies(
                database, settings.network.monitoring_namespace,
                next(spec for spec in exporter_list if spec.kind == "postgres").selector(), BACKUP_JOB_LABEL,
            )),
        ),
        # Database pods start only once the deny-by-default policies exist.
        opts=on_kubernetes(depends_on=[network_policies]),
    )
    pulumi.export("databaseCluster", in_cluster_database.serving_cluster_name)
    pulumi.export("databaseClusters", in_cluster_database.cluster_names)
    pulumi.export("databasePooler", in_cluster_database.pooler_name)

app = BlueGreenApp(
    "monad-synapse",
    BlueGreenAppArgs(
        namespace=namespace.namespace,
        service_account_name=namespace.service_account_name,
        active_color=settings.active_color,
        images={color: settings.image_of(color) for color in COLORS},
        warm_idle_replicas=settings.warm_idle_replicas,
        autoscaling=settings.autoscaling,
        resources=settings.resources,
        vpa_update_mode=settings.vpa.update_mode,
        config_map_name=app_configuration.config_map_name,
        color_config_map_names=app_configuration.color_config_map_names,
        secret_name=app_configuration.secret_name,
        rollout_annotations={
            color: {
                "monad-synapse.com/config-checksum": app_configuration.config_checksums[color],
                "monad-synapse.com/secret-checksum": app_configuration.secret_checksum,
                # colors.<color>.restart: the runbook's `rollout restart`, as config.
                **({"monad-synapse.com/restart": restart} if (restart := getattr(settings.colors, color).restart) else {}),
            }
            for color in COLORS
        },
        switch_gate=settings.switch_gate,
        # The evidence a color must show before live traffic moves to it;
        # skipAnalysis is the emergency switch (an info alert fires meanwhile).
        analysis=AnalysisSettings(
            analysis=settings.promotion.analysis,
            inconclusive=settings.analysis_inconclusive,
            prometheus_url=settings.prometheus_url,
            monitoring_namespace=settings.network.monitoring_namespace,
            scrape_interval_seconds=settings.monitoring.scrape_interval_seconds,
            verification=settings.promotion.verification,
            skip_reason=settings.promotion_skip_reason,
        ),
        probes=settings.probes,
        node_heap_mebibytes=settings.node_heap_mebibytes,
        priority_class_name=settings.priority_class.name,
        namespace_name=settings.namespace,
        stack=settings.stack,
        database_env=tuple(in_cluster.env()) if in_cluster else (),
        # The app connects through the serving cluster's Pooler: it exists first.
        database_dependencies=(in_cluster_database.pooler,) if in_cluster else (),
    ),
    # Pods may only start once the namespace's deny-by-default policies exist,
    # and the PriorityClass they name (the API server rejects pods without it).
    opts=on_kubernetes(depends_on=[network_policies, namespace]),
)

edge = AppEdge(
    "monad-synapse-edge",
    EdgeArgs(
        namespace=namespace.namespace,
        environment=settings.edge_environment,
        domain=settings.domain,
        preview_host=settings.preview_host,
        edge=settings.edge,
        rate_limit=settings.rate_limit,
        live_service_name=app.live_service_name,
        preview_service_name=app.preview_service_name,
        metrics_path=settings.monitoring.metrics_path,
    ),
    opts=on_kubernetes(),
)

monitoring = AppMonitoring(
    "monad-synapse-monitoring",
    AppMonitoringArgs(
        namespace=settings.namespace,
        monitoring=settings.monitoring,
        slack_webhook_url=stack_inputs.secrets.alert_slack_webhook_url,
        pagerduty_routing_key=stack_inputs.secrets.alert_pagerduty_routing_key,
        active_color=settings.active_color,
        idle_color=settings.idle_color,
        idle_expected=settings.warm_idle_replicas > 0,
        maintenance_mode=settings.maintenance_mode,
        analysis_skipped=settings.promotion.skip_analysis,
        analysis_disabled=not settings.promotion.analysis.enabled,
        # The live-color alerts and panels move with live traffic, not before.
        live_traffic_moved=tuple(app.switched),
        certificate_name=edge.certificate_name,
        backup_cronjob=BACKUP_CRONJOB if settings.backup.enabled else None,
        restore_drill_cronjob=DRILL_CRONJOB if settings.backup.enabled and settings.backup.drill.enabled else None,
        backup_max_age_seconds=settings.backup.stale_after_seconds,
        database=DatabaseWatch(
            instances_job=pod_monitor_job(settings.namespace, DATABASE_INSTANCES_MONITOR),
            pooler_job=pod_monitor_job(settings.namespace, DATABASE_POOLER_MONITOR),
            serving_cluster=database.serving_cluster_name,
            instances=database.cloudnativepg.instances,
            rpo_seconds=database.rpo_seconds,
            base_backup_stale_after_seconds=database.cloudnativepg.backup.stale_after_seconds,
            replication_lag_seconds=database.cloudnativepg.replication_lag_seconds,
            replica_site=database.replica.is_replica,
            min_apply_delay_seconds=database.replica.min_apply_delay_seconds,
        ) if in_cluster else None,
    ),
    # Its objects live in the namespace: create it first, delete them first.
    opts=on_kubernetes(depends_on=[namespace]),
)

exporters = DataStoreExporters(
    "monad-synapse-exporters",
    DataStoreExportersArgs(
        namespace=namespace.namespace,
        specs=exporter_list,
        secret_name=app_configuration.secret_name,
        monitoring_namespace=settings.network.monitoring_namespace,
        operator_labels=settings.monitoring.operator_labels,
        connection_checksums=app_configuration.connection_checksums,
    ),
    # Exporter pods start only once the deny-by-default policies exist.
    opts=on_kubernetes(depends_on=[network_policies]),
)

if settings.backup.enabled:
    backups = DatabaseBackups(
        "monad-synapse-backups",
        DatabaseBackupsArgs(
            namespace=namespace.namespace,
            backup=settings.backup,
            restore=settings.restore,
            database=database_access,
            s3_access_key_id=stack_inputs.secrets.backup_s3_access_key_id,
            s3_secret_access_key=stack_inputs.secrets.backup_s3_secret_access_key,
            default_s3_prefix=settings.namespace,
        ),
        # Backup pods start only once the deny-by-default policies exist.
        opts=on_kubernetes(depends_on=[network_policies]),
    )
    pulumi.export("restoreJob", backups.restore_job_name)

pulumi.export("namespace", namespace.namespace)
pulumi.export("activeColor", settings.active_color)
pulumi.export("idleColor", settings.idle_color)
pulumi.export("url", f"https://{settings.domain}")
pulumi.export("liveService", app.live_service_name)
pulumi.export("previewService", app.preview_service_name)
pulumi.export("hosts", edge.hosts)
pulumi.export("edgeKind", settings.edge.kind)
pulumi.export("alerts", monitoring.alert_names)
for color in COLORS:
    pulumi.export(f"{color}Image", settings.image_of(color))
