"""The in-cluster database component on its own, with fake args, under the mock engine."""

from __future__ import annotations

from pulumi.runtime import rpc

from components.data.cloudnativepg import InClusterDatabase, InClusterDatabaseArgs
from settings.database import Database
from tests.helpers import RECOVERED_CLUSTER_AT_0900, RECOVERY_DAY, objects_of, secret

# A demotion token as CloudNativePG writes it (base64 of its JSON).
TOKEN = (
    "eyJsYXRlc3RDaGVja3BvaW50VGltZWxpbmVJRCI6ICIxIiwgInJlZG9XYWxGaWxlIjogIjAwMDAwMDAxMDAwMDAwMDAwMDAwMDAwNCIsIC"
    "JkYXRhYmFzZVN5c3RlbUlkZW50aWZpZXIiOiAiNzQ0MzkxMjMzNjEyNTg1NzgxMyIsICJsYXRlc3RDaGVja3BvaW50UkVET0xvY2F0aW9uIjog"
    "IjAvNDAwMDAyOCIsICJ0aW1lT2ZMYXRlc3RDaGVja3BvaW50IjogIk1vbiAwMSBEZWMgMjAyNiAxMDowMDowMCBBTSBVVEMiLCAib3BlcmF0b3"
    "JWZXJzaW9uIjogIjEuMjcuMCJ9"
)


def database(**changes) -> Database:
    values = {"kind": "cloudnativepg", "cloudnativepg": {"objectStore": {"bucket": "team-a-wal"}, "instances": 2}}
    for key, value in changes.items():
        values[key] = value
    return Database.model_validate(values)


def run_database(run_component, db: Database, policies: tuple = ()):
    args = InClusterDatabaseArgs(
        namespace="team-a",
        namespace_name="team-a",
        database=db,
        s3_access_key_id=secret("AKIA0000"),
        s3_secret_access_key=secret("shh-secret"),
        operator_labels={"release": "r"},
        network_policies=policies,
        app_password=secret("SamePasswordOnBothSites0123") if db.replica.enabled else None,
    )
    return run_component(lambda: InClusterDatabase("db", args))


def test_database_component_with_fake_args(run_component):
    run = run_database(run_component, database(rpoSeconds=120), policies=(("db-instances", {"podSelector": {}}),))
    objects = objects_of(run)
    cluster = objects["Cluster/monad-synapse-db"]["spec"]
    assert cluster["postgresql"]["parameters"]["archive_timeout"] == "90s"
    assert cluster["plugins"] == [
        {
            "name": "barman-cloud.cloudnative-pg.io",
            "isWALArchiver": True,
            "parameters": {"barmanObjectName": "monad-synapse-db-store", "serverName": "monad-synapse-db"},
        }
    ]
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
    recovery = {"targetTime": f"{RECOVERY_DAY}T10:00:00+01:00", "confirm": "team-a"}
    run = run_database(run_component, database(recovery=recovery))
    clusters = {
        r.inputs["metadata"]["name"]: r for r in run.resources if r.is_kubernetes and r.inputs["kind"] == "Cluster"
    }
    assert set(clusters) == {"monad-synapse-db", RECOVERED_CLUSTER_AT_0900}
    recovered = clusters[RECOVERED_CLUSTER_AT_0900].inputs["spec"]
    assert recovered["bootstrap"]["recovery"]["recoveryTarget"] == {"targetTime": f"{RECOVERY_DAY}T10:00:00+01:00"}
    assert recovered["externalClusters"][0]["plugin"]["parameters"]["serverName"] == "monad-synapse-db"
    # It archives into its own folder, never the one it recovers from.
    assert recovered["plugins"][0]["parameters"]["serverName"] == RECOVERED_CLUSTER_AT_0900
    assert clusters["monad-synapse-db"].retain_on_delete and not clusters[RECOVERED_CLUSTER_AT_0900].retain_on_delete

    assert objects_of(run)["Pooler/monad-synapse-db-pooler-rw"]["spec"]["cluster"] == {"name": "monad-synapse-db"}
    switched = run_database(run_component, database(recovery={**recovery, "serveApp": True}))
    objects = objects_of(switched)
    # A Pooler's cluster cannot change: the recovered cluster gets its own,
    # and the old one is no longer declared.
    poolers = {key: obj["spec"]["cluster"]["name"] for key, obj in objects.items() if key.startswith("Pooler/")}
    assert poolers == {f"Pooler/{RECOVERED_CLUSTER_AT_0900}-pooler-rw": RECOVERED_CLUSTER_AT_0900}
    retained = {
        r.inputs["metadata"]["name"]: r.retain_on_delete
        for r in switched.resources
        if r.is_kubernetes and r.inputs["kind"] == "Cluster"
    }
    # The old cluster no longer serves: the retire step may delete it.
    assert retained == {"monad-synapse-db": False, RECOVERED_CLUSTER_AT_0900: True}

    retired = objects_of(
        run_database(run_component, database(recovery={**recovery, "serveApp": True, "retireSource": True}))
    )
    assert [key for key in retired if key.startswith("Cluster/")] == [f"Cluster/{RECOVERED_CLUSTER_AT_0900}"]


def test_database_component_as_a_dr_site(run_component):
    replica = {
        "enabled": True,
        "self": "dr",
        "primary": "main",
        "source": {"name": "main", "objectStore": {"bucket": "main-wal", "path": "team-a"}},
    }
    objects = objects_of(run_database(run_component, database(replica=replica)))
    cluster = objects["Cluster/monad-synapse-db"]["spec"]
    assert cluster["replica"] == {"self": "dr", "primary": "main", "source": "main"}
    # Both sites' application role: our Secret, the same password on both.
    assert cluster["bootstrap"] == {
        "recovery": {
            "source": "main",
            "database": "app",
            "owner": "app",
            "secret": {"name": "monad-synapse-db-app-credentials"},
        }
    }
    assert cluster["managed"]["roles"][0]["passwordSecret"] == {"name": "monad-synapse-db-app-credentials"}
    credentials = objects["Secret/monad-synapse-db-app-credentials"]
    assert credentials["type"] == "kubernetes.io/basic-auth" and rpc.is_rpc_secret(credentials["stringData"])
    assert {item["name"] for item in cluster["externalClusters"]} == {"dr", "main"}
    source = objects["ObjectStore/monad-synapse-db-source-store"]["spec"]
    assert source["configuration"]["destinationPath"] == "s3://main-wal/team-a" and "retentionPolicy" not in source

    promoted = objects_of(
        run_database(run_component, database(replica={**replica, "primary": "dr", "promotionToken": TOKEN}))
    )
    assert promoted["Cluster/monad-synapse-db"]["spec"]["replica"]["promotionToken"] == TOKEN
    # The primary site of the topology: initdb with the same shared Secret.
    main = objects_of(
        run_database(
            run_component,
            database(
                replica={
                    **replica,
                    "self": "main",
                    "primary": "main",
                    "source": {"name": "dr", "objectStore": {"bucket": "dr-wal", "path": "team-a"}},
                }
            ),
        )
    )
    assert main["Cluster/monad-synapse-db"]["spec"]["bootstrap"]["initdb"]["secret"] == {
        "name": "monad-synapse-db-app-credentials"
    }
