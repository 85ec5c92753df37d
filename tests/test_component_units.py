"""Each remaining component on its own, with fake args under the mock engine
(preview=False), and the pure rule and dashboard builders without mocks."""

from __future__ import annotations

import json

import pulumi
from pulumi.runtime import rpc

from components.observability.alert_rules import ALERTS_GROUP, RECORDS_GROUP, RuleContext, alerts, recording_rules, rule_groups
from components.data.backups import DatabaseBackups, DatabaseBackupsArgs
from components.data.cloudnativepg import InClusterDatabase, InClusterDatabaseArgs
from components.observability.dashboards import DASHBOARDS, DashboardContext, dashboard_json
from components.edge.app_edge import AppEdge, EdgeArgs
from components.data.database_access import cluster_access, external_access
from components.observability.exporters import DataStoreExporters, DataStoreExportersArgs, exporter_specs
from components.observability.monitoring import AppMonitoring, AppMonitoringArgs
from settings import Backup, Edge, Exporters, Monitoring, Network, RateLimit, Restore
from settings.database import Database


def objects_of(run) -> dict[str, dict]:
    found = {}
    for resource in run.resources:
        if resource.is_kubernetes:
            inputs = resource.inputs
            found[f"{inputs['kind']}/{inputs['metadata']['name']}"] = inputs
    return found


def parented_to(run, component_type: str) -> list:
    (component,) = [resource for resource in run.resources if resource.type == component_type]
    return [resource for resource in run.resources if resource.parent == component.urn]


def secret(value: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(value)


# --- AppEdge -------------------------------------------------------------------------


def edge_args(**changes) -> EdgeArgs:
    values = dict(namespace="team-a", environment="qa", domain="qa.example.com", preview_host="preview.qa.example.com",
                  edge=Edge(), rate_limit=RateLimit(), live_service_name="live", preview_service_name="preview",
                  metrics_path="/internal/metrics")
    values.update(changes)
    return EdgeArgs(**values)


def test_edge_component_ingress_mode(run_component):
    run = run_component(lambda: AppEdge("edge", edge_args()))
    children = parented_to(run, "monad:edge:AppEdge")
    assert {child.inputs["kind"] for child in children} == {"Certificate", "Ingress"}
    objects = objects_of(run)
    assert objects["Certificate/monad-synapse-qa-tls"]["spec"]["dnsNames"] == ["qa.example.com", "preview.qa.example.com"]
    block = objects["Ingress/monad-synapse-qa-metrics-block"]
    assert {rule["http"]["paths"][0]["path"] for rule in block["spec"]["rules"]} == {"/internal/metrics"}
    live = objects["Ingress/monad-synapse-qa-ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert live["name"] == "live"


def test_edge_component_gateway_mode_without_preview(run_component):
    edge = Edge(kind="gateway", preview={"enabled": False})
    run = run_component(lambda: AppEdge("edge", edge_args(edge=edge)))
    kinds = sorted(child.inputs["kind"] for child in parented_to(run, "monad:edge:AppEdge"))
    assert kinds == ["BackendTrafficPolicy", "Certificate", "ClientTrafficPolicy", "Gateway", "HTTPRoute", "HTTPRoute"]
    assert "SecurityPolicy" not in kinds  # no preview, no allow list


# --- AppMonitoring ---------------------------------------------------------------------


def test_monitoring_component_with_fake_args(run_component):
    args = AppMonitoringArgs(namespace="team-a", monitoring=Monitoring(), slack_webhook_url=secret("https://hooks/x"),
                             pagerduty_routing_key=secret("0123456789abcdef"), active_color="green", idle_color="blue",
                             certificate_name="cert-a")
    captured = {}
    run = run_component(lambda: captured.setdefault("component", AppMonitoring("mon", args)))
    kinds = sorted(child.inputs["kind"] for child in parented_to(run, "monad:observability:AppMonitoring"))
    assert kinds.count("ConfigMap") == len(DASHBOARDS)
    assert {"Service", "ServiceMonitor", "PrometheusRule", "Secret", "AlertmanagerConfig"} <= set(kinds)
    objects = objects_of(run)
    (alerting,) = [obj for key, obj in objects.items() if key.startswith("Secret/")]
    assert rpc.is_rpc_secret(alerting["stringData"])  # the values travel as Pulumi secrets
    rule = objects["PrometheusRule/monad-synapse"]
    assert [group["name"] for group in rule["spec"]["groups"]] == [RECORDS_GROUP, ALERTS_GROUP]
    down = next(item for item in rule["spec"]["groups"][1]["rules"] if item["alert"] == "MonadSynapseDown")
    assert 'color="green"' in down["expr"]
    from pulumi.runtime.sync_await import _sync_await

    names = _sync_await(captured["component"].alert_names.future())
    assert names is not None and "MonadSynapseDown" in names


# --- DataStoreExporters ---------------------------------------------------------------------


def test_exporters_component_with_fake_args(run_component):
    network = Network()
    args = DataStoreExportersArgs(namespace="team-a",
                                  specs=exporter_specs(Exporters(), external_access("app-secret", network.postgres),
                                                       network.redis),
                                  secret_name="app-secret", monitoring_namespace="prom",
                                  operator_labels={"release": "r"}, connection_checksums={"postgres": "abc", "redis": "def"})
    run = run_component(lambda: DataStoreExporters("exp", args))
    objects = objects_of(run)
    for kind in ("postgres", "redis"):
        deployment = objects[f"Deployment/monad-synapse-{kind}-exporter"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert all("value" not in item for item in container["env"] if item["name"] in ("DATA_SOURCE_NAME", "REDIS_ADDR"))
        monitor = objects[f"ServiceMonitor/monad-synapse-{kind}-exporter"]
        assert monitor["metadata"]["labels"]["release"] == "r"
        policy = objects[f"NetworkPolicy/monad-synapse-{kind}-exporter"]["spec"]
        assert policy["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "prom"


def test_the_postgres_exporter_reads_the_in_cluster_primary(run_component):
    network = Network()
    args = DataStoreExportersArgs(namespace="team-a",
                                  specs=exporter_specs(Exporters(), cluster_access("team-a-db"), network.redis),
                                  secret_name="app-secret", monitoring_namespace="prom",
                                  operator_labels={}, connection_checksums={"postgres": "abc", "redis": "def"})
    objects = objects_of(run_component(lambda: DataStoreExporters("exp", args)))
    (container,) = objects["Deployment/monad-synapse-postgres-exporter"]["spec"]["template"]["spec"]["containers"]
    assert container["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "team-a-db-app", "key": "uri"}
    (redis,) = objects["Deployment/monad-synapse-redis-exporter"]["spec"]["template"]["spec"]["containers"]
    assert redis["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "app-secret", "key": "REDIS_URL"}
    (egress,) = objects["NetworkPolicy/monad-synapse-postgres-exporter"]["spec"]["egress"]
    assert egress["to"][0]["podSelector"]["matchExpressions"][0]["values"] == ["team-a-db"]
    assert "ipBlock" not in egress["to"][0]


# --- DatabaseBackups --------------------------------------------------------------------------


def test_backups_component_with_fake_args(run_component):
    args = DatabaseBackupsArgs(namespace="team-a", backup=Backup(), restore=Restore(),
                               database=external_access("app-secret", Network().postgres))
    run = run_component(lambda: DatabaseBackups("bk", args))
    kinds = sorted(child.inputs["kind"] for child in parented_to(run, "monad:data:DatabaseBackups"))
    assert kinds == ["ConfigMap", "CronJob", "CronJob", "NetworkPolicy", "PersistentVolumeClaim"]
    cronjob = objects_of(run)["CronJob/monad-synapse-db-backup"]
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "app-secret", "key": "DATABASE_URL"} in [
        item["valueFrom"]["secretKeyRef"] for item in container["env"] if "valueFrom" in item]


def test_backups_dump_the_in_cluster_primary_directly(run_component):
    """pg_dump goes to <cluster>-rw with the generated credentials, not
    through the transaction pooler (which would break its snapshot)."""
    args = DatabaseBackupsArgs(namespace="team-a", backup=Backup(), restore=Restore(),
                               database=cluster_access("team-a-db"))
    objects = objects_of(run_component(lambda: DatabaseBackups("bk", args)))
    (container,) = objects["CronJob/monad-synapse-db-backup"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    (reference,) = [item["valueFrom"]["secretKeyRef"] for item in container["env"] if "valueFrom" in item]
    assert reference == {"name": "team-a-db-app", "key": "uri"}
    (policy,) = [obj for key, obj in objects.items() if key.startswith("NetworkPolicy/")]
    assert policy["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"] == {"cnpg.io/podRole": "instance"}


def test_backups_component_object_storage_and_restore(run_component):
    backup = Backup(storage={"kind": "s3", "s3": {"bucket": "team-a-dumps"}})
    restore = Restore(from_backup="latest", confirm="team-a", request_id="r-1")
    args = DatabaseBackupsArgs(namespace="team-a", backup=backup, restore=restore,
                               database=external_access("app-secret", Network().postgres), s3_access_key_id=secret("AKIA0000"),
                               s3_secret_access_key=secret("shh-secret"), default_s3_prefix="team-a")
    run = run_component(lambda: DatabaseBackups("bk", args))
    objects = objects_of(run)
    assert "PersistentVolumeClaim/monad-synapse-db-backups" not in objects
    (job,) = [obj for key, obj in objects.items() if key.startswith("Job/")]
    env = {item["name"]: item.get("value") for item in job["spec"]["template"]["spec"]["initContainers"][0]["env"]}
    assert env["S3_PREFIX"] == "team-a"
    (s3_secret,) = [obj for key, obj in objects.items() if key.startswith("Secret/")]
    assert rpc.is_rpc_secret(s3_secret["stringData"])


# --- pure builders, no mocks ---------------------------------------------------------------


def test_rule_builders_are_pure():
    context = RuleContext(namespace="team-a", monitoring=Monitoring(), certificate_name="c", maintenance_mode=True,
                          active_color="blue", idle_color="green", idle_expected=False)
    names = [alert.name for alert in alerts(context)]
    assert "MonadSynapseMaintenanceMode" in names and "MonadSynapsePreviewDown" not in names  # a cold idle color
    assert all('namespace="team-a"' in record["expr"] for record in recording_rules(context))
    assert rule_groups(context) == rule_groups(context)  # deterministic


def test_dashboard_builders_are_pure():
    context = DashboardContext("team-a", 99.5, live_color="green")
    for slug in DASHBOARDS:
        model = json.loads(dashboard_json(slug, context))
        assert model["uid"].endswith("team-a") and model["panels"]
    slo = dashboard_json("sli-slo", context)
    assert 'color=\\"green\\"' in slo and dashboard_json("sli-slo", context) == slo


# --- InClusterDatabase ------------------------------------------------------------------------


# A demotion token as CloudNativePG writes it (base64 of its JSON).
TOKEN = ("eyJsYXRlc3RDaGVja3BvaW50VGltZWxpbmVJRCI6ICIxIiwgInJlZG9XYWxGaWxlIjogIjAwMDAwMDAxMDAwMDAwMDAwMDAwMDAwNCIsIC"
         "JkYXRhYmFzZVN5c3RlbUlkZW50aWZpZXIiOiAiNzQ0MzkxMjMzNjEyNTg1NzgxMyIsICJsYXRlc3RDaGVja3BvaW50UkVET0xvY2F0aW9uIjog"
         "IjAvNDAwMDAyOCIsICJ0aW1lT2ZMYXRlc3RDaGVja3BvaW50IjogIk1vbiAwMSBEZWMgMjAyNiAxMDowMDowMCBBTSBVVEMiLCAib3BlcmF0b3"
         "JWZXJzaW9uIjogIjEuMjcuMCJ9")


def database(**changes) -> Database:
    values = {"kind": "cloudnativepg", "cloudnativepg": {"objectStore": {"bucket": "team-a-wal"}, "instances": 2}}
    for key, value in changes.items():
        values[key] = value
    return Database.model_validate(values)


def run_database(run_component, db: Database, policies: tuple = ()):
    args = InClusterDatabaseArgs(namespace="team-a", namespace_name="team-a", database=db,
                                 s3_access_key_id=secret("AKIA0000"), s3_secret_access_key=secret("shh-secret"),
                                 operator_labels={"release": "r"}, network_policies=policies,
                                 app_password=secret("SamePasswordOnBothSites0123") if db.replica.enabled else None)
    return run_component(lambda: InClusterDatabase("db", args))


def test_database_component_with_fake_args(run_component):
    run = run_database(run_component, database(rpoSeconds=120), policies=(("db-instances", {"podSelector": {}}),))
    objects = objects_of(run)
    cluster = objects["Cluster/monad-synapse-db"]["spec"]
    assert cluster["postgresql"]["parameters"]["archive_timeout"] == "90s"
    assert cluster["plugins"] == [{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": True,
                                   "parameters": {"barmanObjectName": "monad-synapse-db-store",
                                                  "serverName": "monad-synapse-db"}}]
    assert cluster["inheritedMetadata"]["labels"] == {"app": "postgresql"}
    # The app's role keeps logging in, and its password is left to the operator.
    (role,) = cluster["managed"]["roles"]
    assert role["name"] == "app" and role["login"] is True and "passwordSecret" not in role
    assert "recovery" not in cluster["bootstrap"] and "replica" not in cluster
    store = objects["ObjectStore/monad-synapse-db-store"]["spec"]
    assert store["configuration"]["destinationPath"] == "s3://team-a-wal/team-a"
    assert objects["ScheduledBackup/monad-synapse-db-daily"]["spec"]["schedule"] == "0 0 3 * * *"
    assert objects["Pooler/monad-synapse-db-pooler-rw"]["spec"]["cluster"] == {"name": "monad-synapse-db"}
    assert objects["PodMonitor/monad-synapse-db"]["metadata"]["labels"]["release"] == "r"
    assert "NetworkPolicy/db-instances" in objects
    (credentials,) = [obj for key, obj in objects.items() if key.startswith("Secret/")]
    assert rpc.is_rpc_secret(credentials["stringData"])
    # Deleting a Cluster deletes its data: the serving one is retained if it
    # ever leaves the program; bootstrap is ignored after creation.
    (resource,) = [r for r in run.resources if r.is_kubernetes and r.inputs["kind"] == "Cluster"]
    assert resource.retain_on_delete and resource.ignore_changes == ("spec.bootstrap", "spec.externalClusters")
    assert all(r.parent for r in run.resources if r.is_kubernetes)


def test_database_component_through_a_point_in_time_recovery(run_component):
    recovery = {"targetTime": "2026-11-29T10:00:00+01:00", "confirm": "team-a"}
    run = run_database(run_component, database(recovery=recovery))
    clusters = {r.inputs["metadata"]["name"]: r for r in run.resources if r.is_kubernetes and r.inputs["kind"] == "Cluster"}
    assert set(clusters) == {"monad-synapse-db", "monad-synapse-db-pitr-202611290900"}
    recovered = clusters["monad-synapse-db-pitr-202611290900"].inputs["spec"]
    assert recovered["bootstrap"]["recovery"]["recoveryTarget"] == {"targetTime": "2026-11-29T10:00:00+01:00"}
    assert recovered["externalClusters"][0]["plugin"]["parameters"]["serverName"] == "monad-synapse-db"
    # It archives into its own folder, never the one it recovers from.
    assert recovered["plugins"][0]["parameters"]["serverName"] == "monad-synapse-db-pitr-202611290900"
    assert clusters["monad-synapse-db"].retain_on_delete and not clusters["monad-synapse-db-pitr-202611290900"].retain_on_delete

    assert objects_of(run)["Pooler/monad-synapse-db-pooler-rw"]["spec"]["cluster"] == {"name": "monad-synapse-db"}
    switched = run_database(run_component, database(recovery={**recovery, "serveApp": True}))
    objects = objects_of(switched)
    # A Pooler's cluster cannot change: the recovered cluster gets its own,
    # and the old one is no longer declared.
    poolers = {key: obj["spec"]["cluster"]["name"] for key, obj in objects.items() if key.startswith("Pooler/")}
    assert poolers == {"Pooler/monad-synapse-db-pitr-202611290900-pooler-rw": "monad-synapse-db-pitr-202611290900"}
    retained = {r.inputs["metadata"]["name"]: r.retain_on_delete for r in switched.resources
                if r.is_kubernetes and r.inputs["kind"] == "Cluster"}
    # The old cluster no longer serves: the retire step may delete it.
    assert retained == {"monad-synapse-db": False, "monad-synapse-db-pitr-202611290900": True}

    retired = objects_of(run_database(run_component, database(recovery={**recovery, "serveApp": True,
                                                                        "retireSource": True})))
    assert [key for key in retired if key.startswith("Cluster/")] == ["Cluster/monad-synapse-db-pitr-202611290900"]


def test_database_component_as_a_dr_site(run_component):
    replica = {"enabled": True, "self": "dr", "primary": "main",
               "source": {"name": "main", "objectStore": {"bucket": "main-wal", "path": "team-a"}}}
    objects = objects_of(run_database(run_component, database(replica=replica)))
    cluster = objects["Cluster/monad-synapse-db"]["spec"]
    assert cluster["replica"] == {"self": "dr", "primary": "main", "source": "main"}
    # Both sites' application role: our Secret, the same password on both.
    assert cluster["bootstrap"] == {"recovery": {"source": "main", "database": "app", "owner": "app",
                                                 "secret": {"name": "monad-synapse-db-app-credentials"}}}
    assert cluster["managed"]["roles"][0]["passwordSecret"] == {"name": "monad-synapse-db-app-credentials"}
    credentials = objects["Secret/monad-synapse-db-app-credentials"]
    assert credentials["type"] == "kubernetes.io/basic-auth" and rpc.is_rpc_secret(credentials["stringData"])
    assert {item["name"] for item in cluster["externalClusters"]} == {"dr", "main"}
    source = objects["ObjectStore/monad-synapse-db-source-store"]["spec"]
    assert source["configuration"]["destinationPath"] == "s3://main-wal/team-a" and "retentionPolicy" not in source

    promoted = objects_of(run_database(run_component, database(replica={**replica, "primary": "dr",
                                                                         "promotionToken": TOKEN})))
    assert promoted["Cluster/monad-synapse-db"]["spec"]["replica"]["promotionToken"] == TOKEN
    # The primary site of the topology: initdb with the same shared Secret.
    main = objects_of(run_database(run_component, database(replica={**replica, "self": "main", "primary": "main",
                                                                     "source": {"name": "dr", "objectStore": {"bucket": "dr-wal", "path": "team-a"}}})))
    assert main["Cluster/monad-synapse-db"]["spec"]["bootstrap"]["initdb"]["secret"] == {
        "name": "monad-synapse-db-app-credentials"}
