"""Monad Synapse on Kubernetes: settings in, one step per area, outputs out."""

import pulumi

from components.app.app_config import AppConfiguration, AppConfigurationArgs
from components.app.blue_green import BlueGreenApp, BlueGreenAppArgs
from components.data.backups import DatabaseBackups, DatabaseBackupsArgs
from components.data.serving import ServingDatabase
from components.edge.app_edge import AppEdge, EdgeArgs
from components.observability.exporters import DataStoreExporters, DataStoreExportersArgs, exporter_specs
from components.observability.monitoring import AppMonitoring, AppMonitoringArgs
from components.platform.kubernetes_provider import kubernetes_provider
from components.platform.namespace import AppNamespace, AppNamespaceArgs
from components.platform.network_policy import AppNetworkPolicies, AppNetworkPoliciesArgs
from components.platform.toolbox import DebugToolbox, ToolboxArgs
from settings import COLORS, advice, load_settings

# Validates every key first: a bad value stops the program before any resource exists.
stack_inputs = load_settings(pulumi.Config(), pulumi.get_stack())
settings, secrets = stack_inputs.settings, stack_inputs.secrets
for warning in advice(settings):
    pulumi.log.warn(warning)

# Every Kubernetes object goes through this provider (mutable ConfigMaps and
# Secrets, server-side apply); components pass it on to their children.
kubernetes = kubernetes_provider(stack_inputs.kubernetes, settings.adopt_existing_objects)


def on_kubernetes(depends_on: list | None = None) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(providers={"kubernetes": kubernetes}, depends_on=depends_on)


# --- platform: the namespace and its deny-by-default policies ---------------------
serving_database = ServingDatabase(settings)

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
        database_egress=serving_database.app_egress,
    ),
    opts=on_kubernetes(),
)

# --- app configuration, and the database it is served from -----------------------
app_configuration = AppConfiguration(
    "monad-synapse-config",
    AppConfigurationArgs(
        namespace=namespace.namespace,
        domain=settings.domain,
        maintenance_mode=settings.maintenance_mode,
        app_config=settings.app_config,
        color_app_config={color: getattr(settings.colors, color).app_config for color in COLORS},
        jwt_secret_version=settings.jwt_secret_version,
        database_url=secrets.database_url,
        redis_url=secrets.redis_url,
        app_secrets=secrets.app_secrets,
    ),
    opts=on_kubernetes(),
)

database_access = serving_database.access(app_configuration.secret_name)
exporter_list = exporter_specs(settings.monitoring.exporters, database_access, settings.network.redis)
database = serving_database.declare(
    namespace.namespace,
    secrets,
    exporter_labels=next(spec for spec in exporter_list if spec.kind == "postgres").selector(),
    # Database pods start only once the deny-by-default policies exist.
    opts=on_kubernetes(depends_on=[network_policies]),
)

# --- app: two colors, the switch and the checks that guard it ---------------------
app = BlueGreenApp(
    "monad-synapse",
    BlueGreenAppArgs.for_stack(
        settings,
        namespace.namespace,
        namespace.service_account_name,
        app_configuration,
        database_env=serving_database.app_env,
        database_dependencies=database.app_dependencies,
    ),
    # Pods may only start once the namespace's deny-by-default policies exist,
    # and the PriorityClass they name (the API server rejects pods without it).
    opts=on_kubernetes(depends_on=[network_policies, namespace]),
)

# --- edge ---------------------------------------------------------------------------
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
        namespace_name=settings.namespace,
    ),
    opts=on_kubernetes(),
)

# --- observability ------------------------------------------------------------------
monitoring = AppMonitoring(
    "monad-synapse-monitoring",
    # The live-color alerts and panels move with live traffic, not before.
    AppMonitoringArgs.for_stack(
        settings, secrets, edge.certificate_name, tuple(app.switched), edge_proxies=edge.proxy_selector
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

# --- data: dumps, the restore drill and restores -------------------------------------
if settings.backup.enabled:
    backups = DatabaseBackups(
        "monad-synapse-backups",
        DatabaseBackupsArgs(
            namespace=namespace.namespace,
            backup=settings.backup,
            restore=settings.restore,
            database=database_access,
            s3_access_key_id=secrets.backup_s3_access_key_id,
            s3_secret_access_key=secrets.backup_s3_secret_access_key,
            default_s3_prefix=settings.namespace,
        ),
        # Backup pods start only once the deny-by-default policies exist.
        opts=on_kubernetes(depends_on=[network_policies]),
    )
    pulumi.export("restoreJob", backups.restore_job_name)

# --- on-call: the debugging toolbox (Deployment monad-synapse-toolbox) while toolbox.enabled
if settings.toolbox.enabled:
    toolbox = ToolboxArgs(namespace.namespace, settings, database_access, app_configuration.secret_name)
    DebugToolbox("monad-synapse-toolbox", toolbox, opts=on_kubernetes(depends_on=[network_policies]))

outputs = {
    **database.outputs,
    "namespace": namespace.namespace,
    "activeColor": settings.active_color,
    "idleColor": settings.idle_color,
    "url": f"https://{settings.domain}",
    "liveService": app.live_service_name,
    "previewService": app.preview_service_name,
    "hosts": edge.hosts,
    "edgeKind": settings.edge.kind,
    "alerts": monitoring.alert_names,
    **{f"{color}Image": settings.image_of(color) for color in COLORS},
}
for name, value in outputs.items():
    pulumi.export(name, value)
