"""The database settings (pure) and the in-cluster database in whole-stack
renders: what the app, the dumps and the network see in each mode."""

from __future__ import annotations

import json

import pytest

from settings import Settings, SettingsError, settings_from_raw
from settings.database import Database, Recovery
from tests.helpers import (
    CLOUDNATIVEPG,
    DATABASE_S3_SECRETS,
    DR_APP_PASSWORD,
    DR_SITE,
    RECOVERED_CLUSTER,
    RECOVERED_CLUSTER_AT_0900,
    RECOVERY,
    RECOVERY_DAY,
    RECOVERY_TARGET,
    secrets_for,
)

BASE = {
    "namespace": "production",
    "domain": "monad-synapse.com",
    "colors": {"blue": {"image": "a/b:1"}, "green": {"image": "a/b:1"}},
}
IN_CLUSTER = {"kind": "cloudnativepg", "cloudnativepg": {"objectStore": {"bucket": "monad-synapse-wal"}}}


def settings(database: dict, **top) -> Settings:
    return settings_from_raw({**BASE, **top, "database": database}, "production")


def test_the_default_is_the_external_database_and_a_five_minute_rpo():
    database = settings({}).database
    assert database.kind == "external" and database.rpo_seconds == 300
    assert database.archive_timeout_seconds == 270  # the RPO less the upload margin
    assert database.cluster_names == ("monad-synapse-db",)


def test_parameters_given_as_numbers_or_booleans_reach_postgresql_as_text():
    parameters = settings(
        {
            **IN_CLUSTER,
            "cloudnativepg": {
                **IN_CLUSTER["cloudnativepg"],
                "postgresql": {"parameters": {"max_connections": 300, "jit": False, "pg_stat_statements.max": 5000}},
            },
        }
    ).database
    assert dict(parameters.cloudnativepg.postgresql.parameters) == {
        "jit": "off",
        "max_connections": "300",
        "pg_stat_statements.max": "5000",
    }


def test_base_backups_are_judged_by_their_six_field_schedule():
    database = settings(IN_CLUSTER).database
    assert database.cloudnativepg.backup.stale_after_seconds == 86400 + 7200
    every_six_hours = settings(
        {**IN_CLUSTER, "cloudnativepg": {**IN_CLUSTER["cloudnativepg"], "backup": {"schedule": "0 0 */6 * * *"}}}
    ).database
    assert every_six_hours.cloudnativepg.backup.stale_after_seconds == 6 * 3600 + 7200


@pytest.mark.parametrize(
    ("step", "serving", "declared"),
    [
        ({}, "monad-synapse-db", ("monad-synapse-db", RECOVERED_CLUSTER_AT_0900)),
        (
            {"serveApp": True},
            RECOVERED_CLUSTER_AT_0900,
            (RECOVERED_CLUSTER_AT_0900, "monad-synapse-db"),
        ),
        (
            {"serveApp": True, "retireSource": True},
            RECOVERED_CLUSTER_AT_0900,
            (RECOVERED_CLUSTER_AT_0900,),
        ),
    ],
)
def test_each_recovery_step_declares_the_clusters_it_needs(step, serving, declared):
    recovery = {"targetTime": f"{RECOVERY_DAY}T10:00:00+01:00", "confirm": "production", **step}
    database = settings({**IN_CLUSTER, "recovery": recovery}, maintenanceMode=True).database
    assert database.serving_cluster_name == serving
    assert database.cluster_names == declared


def test_a_second_recovery_names_its_cluster_after_the_base_name_not_a_chain():
    recovery = Recovery(target_time="2026-11-30T01:00:00Z", confirm="production")
    assert recovery.recovered_cluster_name(RECOVERED_CLUSTER_AT_0900) == "monad-synapse-db-pitr-202611300100"
    assert len(recovery.recovered_cluster_name("a" * 50)) <= 50


def test_after_the_switch_maintenance_mode_may_end():
    recovery = {"targetTime": RECOVERY_TARGET, "confirm": "production", "serveApp": True}
    assert settings({**IN_CLUSTER, "recovery": recovery}).database.serving_cluster_name.endswith(
        RECOVERED_CLUSTER.removeprefix("monad-synapse-db")
    )


def test_a_bad_promotion_token_says_where_the_right_one_is():
    with pytest.raises(SettingsError) as caught:
        settings({**IN_CLUSTER, "replica": {"enabled": True, "self": "dr", "primary": "dr", "promotionToken": "a b"}})
    assert "jsonpath='{.status.demotionToken}'" in str(caught.value)


def test_the_database_section_validates_without_a_stack():
    assert Database.model_validate(IN_CLUSTER).is_cloudnativepg


# --- whole-stack renders -------------------------------------------------------------------------


def test_the_app_reaches_the_pooler_with_generated_credentials(stack_objects):
    objects = stack_objects("production", *CLOUDNATIVEPG, secrets=DATABASE_S3_SECRETS)
    for color in ("blue", "green"):
        (container,) = objects[f"Deployment/production/monad-synapse-{color}"]["spec"]["template"]["spec"]["containers"]
        env = {item["name"]: item for item in container["env"]}
        assert env["MONAD_SYNAPSE_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "monad-synapse-db-app",
            "key": "password",
        }
        assert env["DATABASE_URL"]["value"].startswith(
            "postgresql://$(MONAD_SYNAPSE_DB_USER):$(MONAD_SYNAPSE_DB_PASSWORD)@monad-synapse-db-pooler-rw.production.svc:5432/"
        )
        assert "monad-synapse-db-ro.production.svc" in env["DATABASE_READ_URL"]["value"]
        # The variables it is composed from come first (Kubernetes expands
        # only variables defined earlier in the list).
        names = [item["name"] for item in container["env"]]
        assert names.index("MONAD_SYNAPSE_DB_PASSWORD") < names.index("DATABASE_URL")
    assert "DATABASE_URL" not in objects["Secret/production/monad-synapse-secrets"]["stringData"]
    app_policy = objects["NetworkPolicy/production/monad-synapse-app"]["spec"]
    # No way out to an external database any more: only the pooler and the instances on 5432.
    postgres_rules = [rule for rule in app_policy["egress"] if rule["ports"] == [{"protocol": "TCP", "port": 5432}]]
    assert postgres_rules and all("podSelector" in peer for rule in postgres_rules for peer in rule["to"])


def test_the_app_role_may_create_the_drills_scratch_database_only_with_the_drill(stack_objects):
    role = lambda objects: objects["Cluster/production/monad-synapse-db"]["spec"]["managed"]["roles"][0]  # noqa: E731
    assert role(stack_objects("production", *CLOUDNATIVEPG, secrets=DATABASE_S3_SECRETS))["createdb"] is True
    without = stack_objects("production", *CLOUDNATIVEPG, "backup.drill.enabled=false", secrets=DATABASE_S3_SECRETS)
    assert role(without)["createdb"] is False


def test_one_instance_reads_from_the_primary(stack_objects):
    objects = stack_objects(
        "staging", *CLOUDNATIVEPG, "database.cloudnativepg.instances=1", secrets=DATABASE_S3_SECRETS
    )
    (container,) = objects["Deployment/staging/monad-synapse-blue"]["spec"]["template"]["spec"]["containers"]
    read = next(item for item in container["env"] if item["name"] == "DATABASE_READ_URL")
    assert "monad-synapse-db-rw.staging.svc" in read["value"]  # -ro has no endpoints without standbys


def test_a_dr_site_composes_every_url_from_the_shared_credentials(stack_objects):
    objects = stack_objects("staging", *CLOUDNATIVEPG, *DR_SITE, secrets=secrets_for(CLOUDNATIVEPG + DR_SITE))
    shared = {"name": "monad-synapse-db-app-credentials", "key": "password"}
    (app,) = objects["Deployment/staging/monad-synapse-blue"]["spec"]["template"]["spec"]["containers"]
    (exporter,) = objects["Deployment/staging/monad-synapse-postgres-exporter"]["spec"]["template"]["spec"][
        "containers"
    ]
    (dump,) = objects["CronJob/staging/monad-synapse-db-backup"]["spec"]["jobTemplate"]["spec"]["template"]["spec"][
        "containers"
    ]
    for container, variable in ((app, "DATABASE_URL"), (exporter, "DATA_SOURCE_NAME"), (dump, "DATABASE_URL")):
        env = {item["name"]: item for item in container["env"]}
        assert env["MONAD_SYNAPSE_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == shared, container["name"]
        assert "$(MONAD_SYNAPSE_DB_PASSWORD)@" in env[variable]["value"], container["name"]
    assert "a1a1a1a1" not in yaml_text(stack_objects, DR_SITE)


def yaml_text(stack_objects, extra: tuple) -> str:
    return json.dumps(stack_objects("staging", *CLOUDNATIVEPG, *extra, secrets=secrets_for(CLOUDNATIVEPG + extra)))


def test_a_dr_site_needs_the_shared_password(render_stack):
    with pytest.raises(SettingsError) as caught:
        render_stack("staging", *CLOUDNATIVEPG, *DR_SITE, secrets=DATABASE_S3_SECRETS)
    assert [problem.path for problem in caught.value.problems] == ["databaseAppPassword"]


def test_object_store_keys_stay_secret_in_every_rendered_file(render_stack):
    rendering = render_stack("production", *CLOUDNATIVEPG, secrets=DATABASE_S3_SECRETS)
    for name, text in rendering.files.items():
        assert "example-secret-access-key" not in text and "AKIAEXAMPLEKEY0001" not in text, name
    outputs = json.loads(rendering.files["outputs.json"])
    assert outputs["databaseCluster"] == "monad-synapse-db"


def test_a_recovery_leaves_the_running_cluster_and_the_app_alone(stack_objects):
    before = stack_objects("production", *CLOUDNATIVEPG, "maintenanceMode=true", secrets=DATABASE_S3_SECRETS)
    after = stack_objects("production", *CLOUDNATIVEPG, *RECOVERY, secrets=DATABASE_S3_SECRETS)
    for key in (
        "Cluster/production/monad-synapse-db",
        "Pooler/production/monad-synapse-db-pooler-rw",
        "Deployment/production/monad-synapse-blue",
        "Deployment/production/monad-synapse-green",
    ):
        assert before[key] == after[key], key
    assert set(after) - set(before) == {
        f"Cluster/production/{RECOVERED_CLUSTER}",
        f"ScheduledBackup/production/{RECOVERED_CLUSTER}-daily",
    }


def test_tidying_the_config_after_a_recovery_changes_only_what_ignoreChanges_covers(stack_objects):
    """Step 5: clusterName takes the recovered cluster's name and the
    recovery keys go. The same objects remain; the Cluster differs only in
    its bootstrap (ignored on update: bootstrap only matters at creation)
    and the external cluster it recovered from."""
    from tools.diff import diff_objects

    recovered = RECOVERED_CLUSTER
    retired = stack_objects(
        "production",
        *CLOUDNATIVEPG,
        *RECOVERY,
        "database.recovery.serveApp=true",
        "database.recovery.retireSource=true",
        secrets=DATABASE_S3_SECRETS,
    )
    tidied = stack_objects(
        "production",
        *CLOUDNATIVEPG,
        "maintenanceMode=true",
        f"database.cloudnativepg.clusterName={recovered}",
        secrets=DATABASE_S3_SECRETS,
    )
    (change,) = diff_objects(retired, tidied)
    assert change.identity == f"Cluster/production/{recovered}" and change.action == "changed"
    assert all(field.startswith(("spec.bootstrap", "spec.externalClusters")) for field in change.fields), change.fields


def network_of(objects: dict[str, dict]):
    from tools.engine.network_policy import Cluster

    return Cluster().add_policies(objects.values())


def app_pod(color: str = "blue"):
    from tools.engine.network_policy import Pod

    return Pod(
        "production",
        {
            "app.kubernetes.io/name": "monad-synapse",
            "monad-synapse.com/color": color,
            "app.kubernetes.io/component": "web",
        },
    )


API_SERVER = "10.0.0.1"  # the kubernetes Service's endpoint, inside api_server_cidrs
OBJECT_STORE = "52.216.8.1"


@pytest.mark.parametrize("step", ["running", "recovering"])
def test_every_pod_the_operator_creates_can_do_its_job_and_nothing_else_gets_in(stack_objects, step):
    """The operator's own pods, with the labels its source gives them
    (tools.engine.operator_pods), evaluated against the rendered NetworkPolicies:
    the bootstrap Jobs carry cnpg.io/jobRole, not cnpg.io/podRole."""
    from tools.engine.network_policy import Address, Pod
    from tools.engine.operator_pods import instance_pod, job_pod, pooler_pod

    sets = (*CLOUDNATIVEPG, "maintenanceMode=true", *(RECOVERY if step == "recovering" else ()))
    objects = stack_objects("production", *sets, secrets=DATABASE_S3_SECRETS)
    network = network_of(objects)
    cluster = RECOVERED_CLUSTER if step == "recovering" else "monad-synapse-db"
    inherited = {"app": "postgresql"}
    primary = instance_pod("production", cluster, 1, primary=True, inherited=inherited)
    replica = instance_pod("production", cluster, 2, primary=False, inherited=inherited)
    api, store = Address(API_SERVER), Address(OBJECT_STORE)
    operator = Pod("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"})
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    needs = [
        # Bootstrap: initdb talks to the API server; a standby joins from the
        # primary; a recovery (and a DR replica) reads the object store.
        (job_pod("production", cluster, "initdb", inherited=inherited), api, 443),
        (job_pod("production", cluster, "join", 2, inherited=inherited), primary, 5432),
        (job_pod("production", cluster, "join", 2, inherited=inherited), api, 6443),
        (job_pod("production", cluster, "full-recovery", inherited=inherited), store, 443),
        (job_pod("production", cluster, "full-recovery", inherited=inherited), api, 443),
        # Running: replication, archiving, the operator's status polls, metrics.
        (replica, primary, 5432),
        (primary, store, 443),
        (primary, api, 443),
        (operator, primary, 8000),
        (prometheus, primary, 9187),
    ]
    if step == "running":
        pooler = pooler_pod(
            "production", cluster, f"{cluster}-pooler-rw", {"app.kubernetes.io/part-of": "monad-synapse"}
        )
        needs += [
            (app_pod(), pooler, 5432),
            (pooler, primary, 5432),
            (pooler, api, 443),
            (prometheus, pooler, 9127),
            (app_pod("green"), replica, 5432),
        ]
    refused = [
        (source.name or source.labels, getattr(target, "name", target), port)
        for source, target, port in needs
        if not network.allows(source, target, port)
    ]
    assert refused == []
    stranger = Pod("production", {"app.kubernetes.io/name": "debug"})
    denied = [
        (stranger, primary, 5432),
        (app_pod(), primary, 8000),
        (Pod("other", {}), primary, 5432),
        (job_pod("production", cluster, "initdb", inherited=inherited), Address("169.254.169.254"), 80),
        (primary, Address("8.8.8.8"), 5432),
    ]
    assert [case for case in denied if network.allows(*case)] == []


def test_the_bootstrap_jobs_were_shut_out_by_an_instance_only_policy(stack_objects):
    """The model can fail: a policy that selects only podRole=instance
    leaves the Jobs' pods to default-deny (the defect this replaces)."""
    from tools.engine.network_policy import Address
    from tools.engine.operator_pods import job_pod

    objects = stack_objects("production", *CLOUDNATIVEPG, secrets=DATABASE_S3_SECRETS)
    policy = objects["NetworkPolicy/production/monad-synapse-db-instances"]
    narrowed = {**policy, "spec": {**policy["spec"], "podSelector": {"matchLabels": {"cnpg.io/podRole": "instance"}}}}
    network = network_of({**objects, "NetworkPolicy/production/monad-synapse-db-instances": narrowed})
    assert not network.allows(job_pod("production", "monad-synapse-db", "initdb"), Address(API_SERVER), 443)


def test_the_infrastructure_dashboard_has_a_database_row_only_in_that_mode(stack_objects):
    def rows(objects: dict) -> list[str]:
        board = json.loads(
            next(iter(objects["ConfigMap/production/monad-synapse-dashboard-infrastructure"]["data"].values()))
        )
        return [panel["title"] for panel in board["panels"] if panel.get("type") == "row"]

    assert "Database (CloudNativePG)" in rows(stack_objects("production", *CLOUDNATIVEPG, secrets=DATABASE_S3_SECRETS))
    assert "Database (CloudNativePG)" not in rows(stack_objects("production"))


def test_the_external_database_requires_its_url_and_the_in_cluster_one_does_not(render_stack):
    with pytest.raises(SettingsError) as caught:
        render_stack("production", secrets=("databaseUrl=",))
    (problem,) = caught.value.problems
    assert problem.path == "databaseUrl" and "required with database.kind external" in problem.message
    rendering = render_stack("production", *CLOUDNATIVEPG, secrets=(*DATABASE_S3_SECRETS, "databaseUrl="))
    assert "kind: Cluster\n" in rendering.files["manifest.yaml"]


@pytest.mark.parametrize("instances, pdb", [(1, False), (2, True), (3, True)])
def test_a_single_instance_has_no_pdb_to_block_node_drains(stack_objects, instances, pdb):
    objects = stack_objects(
        "staging", *CLOUDNATIVEPG, f"database.cloudnativepg.instances={instances}", secrets=DATABASE_S3_SECRETS
    )
    assert objects["Cluster/staging/monad-synapse-db"]["spec"]["enablePDB"] is pdb


def test_the_cluster_name_refused_for_the_app_is_the_app_service_account(stack_objects):
    from settings.cloudnativepg import APP_SERVICE_ACCOUNT

    accounts = [key for key in stack_objects("production") if key.startswith("ServiceAccount/")]
    assert accounts == [f"ServiceAccount/production/{APP_SERVICE_ACCOUNT}"]


def test_a_recovery_target_older_than_the_kept_backups_is_refused():
    from datetime import datetime, timedelta, timezone

    def recovering(days_ago: int, retention: str) -> dict:
        moment = (datetime.now(timezone.utc) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "kind": "cloudnativepg",
            "cloudnativepg": {"objectStore": {"bucket": "monad-synapse-wal", "retention": retention}},
            "recovery": {"targetTime": moment, "confirm": "production"},
        }

    with pytest.raises(SettingsError) as caught:
        settings_from_raw({**BASE, "maintenanceMode": True, "database": recovering(40, "30d")}, "production")
    (problem,) = [p for p in caught.value.problems if p.path == "database.recovery.targetTime"]
    assert problem.kind == "target_beyond_retention" and "30d" in problem.message
    assert settings_from_raw({**BASE, "maintenanceMode": True, "database": recovering(40, "8w")}, "production")
    assert settings_from_raw({**BASE, "maintenanceMode": True, "database": recovering(2, "30d")}, "production")


def test_the_dr_stack_template_renders(tmp_path):
    """docs/templates/Pulumi.production-dr.yaml is a working DR stack, once its
    secrets are set: a replica of production's database, in its own bucket."""
    import shutil

    from tests.helpers import rendered_objects
    from tools.engine.stack_config import PROJECT_DIR
    from tools.render import render

    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, project / name)
    for package in ("components", "settings", "scripts"):
        (project / package).symlink_to(PROJECT_DIR / package)
    shutil.copy(PROJECT_DIR / "docs" / "templates" / "Pulumi.production-dr.yaml", project / "Pulumi.production-dr.yaml")
    rendering = render(
        "production-dr",
        (),
        (DR_APP_PASSWORD, *DATABASE_S3_SECRETS, "redisUrl=rediss://:pw0rd-dr@redis-dr:6379/0"),
        project_dir=project,
    )
    objects = rendered_objects(rendering)
    cluster = objects["Cluster/production/monad-synapse-db"]["spec"]
    assert (cluster["replica"]["self"], cluster["replica"]["primary"]) == ("dr", "main")
    stores = {key: obj["spec"] for key, obj in objects.items() if key.startswith("ObjectStore/")}
    buckets = {spec["configuration"]["destinationPath"] for spec in stores.values()}
    assert any("monad-synapse-wal-dr" in bucket for bucket in buckets)
    assert any("monad-synapse-wal-main" in bucket for bucket in buckets)
