"""The backups component on its own, with fake args, under the mock engine."""

from __future__ import annotations

from pulumi.runtime import rpc

from components.data.backups import DatabaseBackups, DatabaseBackupsArgs
from components.data.database_access import cluster_access, external_access
from settings import Backup, Network, Restore
from tests.helpers import children_of, objects_of, secret


def test_backups_component_with_fake_args(run_component):
    args = DatabaseBackupsArgs(
        namespace="team-a",
        backup=Backup(),
        restore=Restore(),
        database=external_access("app-secret", Network().postgres),
    )
    run = run_component(lambda: DatabaseBackups("bk", args))
    kinds = sorted(child.inputs["kind"] for child in children_of(run, "monad:data:DatabaseBackups"))
    assert kinds == ["ConfigMap", "CronJob", "CronJob", "CronJob", "NetworkPolicy", "PersistentVolumeClaim"]
    cronjob = objects_of(run)["CronJob/monad-synapse-db-backup"]
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "app-secret", "key": "DATABASE_URL"} in [
        item["valueFrom"]["secretKeyRef"] for item in container["env"] if "valueFrom" in item
    ]


def test_backups_dump_the_in_cluster_primary_directly(run_component):
    """pg_dump goes to <cluster>-rw with the generated credentials, not
    through the transaction pooler (which would break its snapshot)."""
    args = DatabaseBackupsArgs(
        namespace="team-a", backup=Backup(), restore=Restore(), database=cluster_access("team-a-db")
    )
    objects = objects_of(run_component(lambda: DatabaseBackups("bk", args)))
    (container,) = objects["CronJob/monad-synapse-db-backup"]["spec"]["jobTemplate"]["spec"]["template"]["spec"][
        "containers"
    ]
    (reference,) = [item["valueFrom"]["secretKeyRef"] for item in container["env"] if "valueFrom" in item]
    assert reference == {"name": "team-a-db-app", "key": "uri"}
    (policy,) = [obj for key, obj in objects.items() if key.startswith("NetworkPolicy/")]
    assert policy["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"] == {"cnpg.io/podRole": "instance"}


def test_backups_component_object_storage_and_restore(run_component):
    backup = Backup(storage={"kind": "s3", "s3": {"bucket": "team-a-dumps"}})
    restore = Restore(from_backup="latest", confirm="team-a", request_id="r-1")
    args = DatabaseBackupsArgs(
        namespace="team-a",
        backup=backup,
        restore=restore,
        database=external_access("app-secret", Network().postgres),
        s3_access_key_id=secret("AKIA0000"),
        s3_secret_access_key=secret("shh-secret"),
        default_s3_prefix="team-a",
    )
    run = run_component(lambda: DatabaseBackups("bk", args))
    objects = objects_of(run)
    assert "PersistentVolumeClaim/monad-synapse-db-backups" not in objects
    (job,) = [obj for key, obj in objects.items() if key.startswith("Job/")]
    env = {item["name"]: item.get("value") for item in job["spec"]["template"]["spec"]["initContainers"][0]["env"]}
    assert env["S3_PREFIX"] == "team-a"
    (s3_secret,) = [obj for key, obj in objects.items() if key.startswith("Secret/")]
    assert rpc.is_rpc_secret(s3_secret["stringData"])
