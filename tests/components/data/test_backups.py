"""Backups as rendered: hardened CronJobs, drill, guarded restore, alerts."""

from __future__ import annotations

import pytest

from components.data.backups import backup_scripts
from tools.diff import diff_objects as compare

BACKUP = "CronJob/production/monad-synapse-db-backup"
DRILL = "CronJob/production/monad-synapse-restore-drill"
S3_SETS_FOR_OVERLAP = ("backup.storage.kind=s3", "backup.storage.s3.bucket=monad-backups")
RESTORE_SETS = (
    "maintenanceMode=true",
    "restore.fromBackup=latest",
    "restore.confirm=production",
    "restore.requestId=incident-4711",
)


def job_pod(cronjob: dict) -> dict:
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_both_stacks_render_hardened_backup_cronjobs(stack_objects, stack):
    objects = stack_objects(stack)
    for name in ("monad-synapse-db-backup", "monad-synapse-restore-drill"):
        cronjob = objects[f"CronJob/{stack}/{name}"]["spec"]
        assert cronjob["concurrencyPolicy"] == "Forbid"
        assert cronjob["startingDeadlineSeconds"] > 0
        assert cronjob["successfulJobsHistoryLimit"] <= 3 and cronjob["failedJobsHistoryLimit"] <= 3
        job = cronjob["jobTemplate"]["spec"]
        assert job["backoffLimit"] <= 1 and job["activeDeadlineSeconds"] > 0 and job["ttlSecondsAfterFinished"] > 0
        pod = job["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert {"requests", "limits"} <= set(container["resources"])
        database_url = next(env for env in container["env"] if env["name"] == "DATABASE_URL")
        assert database_url == {
            "name": "DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": "monad-synapse-secrets", "key": "DATABASE_URL"}},
        }


def test_schedule_retention_and_image_come_from_config(stack_objects):
    staging = stack_objects("staging")["CronJob/staging/monad-synapse-db-backup"]
    assert staging["spec"]["schedule"] == "30 2 * * *"
    env = {e["name"]: e.get("value") for e in job_pod(staging)["containers"][0]["env"]}
    assert env["RETENTION_DAYS"] == "3"
    custom = stack_objects("production", "backup.image=postgres:15.8-bookworm", "backup.schedule=0 */2 * * *")[BACKUP]
    assert custom["spec"]["schedule"] == "0 */2 * * *"
    assert job_pod(custom)["containers"][0]["image"] == "postgres:15.8-bookworm"


def test_the_jobs_run_the_repository_scripts(stack_objects):
    objects = stack_objects("production")
    assert objects["ConfigMap/production/monad-synapse-backup-scripts"]["data"] == backup_scripts()
    assert job_pod(objects[BACKUP])["containers"][0]["command"] == ["/bin/sh", "/scripts/backup.sh"]
    assert job_pod(objects[DRILL])["containers"][0]["command"] == ["/bin/sh", "/scripts/drill.sh"]
    assert objects["PersistentVolumeClaim/production/monad-synapse-db-backups"]["spec"]["resources"] == {
        "requests": {"storage": "20Gi"}
    }


def test_backup_pods_may_reach_only_the_database(stack_objects):
    policy = stack_objects("production")["NetworkPolicy/production/monad-synapse-db-backup"]["spec"]
    assert policy["ingress"] == []
    (egress,) = policy["egress"]
    assert egress["ports"] == [{"protocol": "TCP", "port": 5432}]


def test_restore_is_a_one_off_job_while_requested(stack_objects, render_stack):
    objects = stack_objects("production", *RESTORE_SETS)
    (restore,) = [
        obj for identity, obj in objects.items() if identity.startswith("Job/production/monad-synapse-db-restore-")
    ]
    (container,) = restore["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["/bin/sh", "/scripts/restore.sh"]
    assert {"name": "RESTORE_FROM", "value": "latest"} in container["env"]
    assert {"name": "RESTORE_REQUEST_ID", "value": "incident-4711"} in container["env"]
    assert restore["spec"]["backoffLimit"] == 0
    # Kept until the keys go: a Job deleted by a TTL would come back with --refresh.
    assert "ttlSecondsAfterFinished" not in restore["spec"]
    # Removing the keys (and leaving maintenance) removes the Job again.
    removed = compare(objects, stack_objects("production", "maintenanceMode=true"))
    assert [change.identity for change in removed if change.action == "removed"] == [
        f"Job/production/{restore['metadata']['name']}"
    ]
    # The Job is named by the request: a new request is a new Job; the same
    # request keeps its name even when its template changes (restore.sh makes
    # the re-created Job a no-op, tested against PostgreSQL).
    new_request = stack_objects("production", *RESTORE_SETS[:-1], "restore.requestId=incident-4712")
    assert not any(identity == f"Job/production/{restore['metadata']['name']}" for identity in new_request)
    same_request = stack_objects(
        "production",
        "maintenanceMode=true",
        "restore.confirm=production",
        "restore.fromBackup=monad-synapse-20261127T030000Z.dump",
        "restore.requestId=incident-4711",
    )
    assert f"Job/production/{restore['metadata']['name']}" in same_request
    assert render_stack("production", *RESTORE_SETS).files["outputs.json"].count("monad-synapse-db-restore-") == 1


@pytest.mark.parametrize(
    ("sets", "key"),
    [
        (("restore.fromBackup=latest", "restore.requestId=r1"), "restore.confirm"),
        (("maintenanceMode=true", "restore.fromBackup=latest", "restore.confirm=production"), "restore.requestId"),
        (
            ("maintenanceMode=true", "restore.fromBackup=latest", "restore.confirm=production", "restore.requestId= "),
            "restore.requestId",
        ),
        (("restore.requestId=r1",), "restore.requestId"),
        (
            ("maintenanceMode=true", "restore.fromBackup=latest", "restore.confirm=staging", "restore.requestId=r1"),
            "restore.confirm",
        ),
        (("restore.fromBackup=latest", "restore.confirm=production", "restore.requestId=r1"), "maintenanceMode"),
        (("backup.schedule=every hour",), "backup.schedule"),
        (("backup.retentionDays=0",), "backup.retentionDays"),
        (("backup.image=postgres:16.4-alpine",), "backup.image"),
    ],
)
def test_bad_backup_or_restore_config_is_refused_naming_the_key(sets, key):
    from settings import SettingsError
    from tools.render import render

    with pytest.raises(SettingsError) as caught:
        render("production", sets)
    assert key in {problem.path for problem in caught.value.problems}


def test_backups_can_be_disabled(stack_objects):
    objects = stack_objects("production", "backup.enabled=false")
    assert not any(obj["kind"] == "CronJob" for obj in objects.values())
    alerts = [
        rule["alert"]
        for group in objects["PrometheusRule/production/monad-synapse"]["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    assert not any("Backup" in alert or "Drill" in alert for alert in alerts)


def test_backup_alerts_follow_the_schedule(stack_objects):
    rules = {
        rule["alert"]: rule
        for group in stack_objects("production")["PrometheusRule/production/monad-synapse"]["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    # Hourly schedule: 3600s gap + 1800s job deadline + 900s margin.
    assert rules["MonadSynapseBackupStale"]["expr"].endswith("> 6300")
    daily = {
        rule["alert"]: rule
        for group in stack_objects("staging")["PrometheusRule/staging/monad-synapse"]["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert daily["MonadSynapseBackupStale"]["expr"].endswith(f"> {86400 + 1800 + 900}")


def test_drill_and_backup_never_hold_the_volume_together(stack_objects):
    objects = stack_objects("production")
    backup, drill = objects[BACKUP]["spec"], objects[DRILL]["spec"]
    assert (backup["schedule"], drill["schedule"]) == ("0 * * * *", "35 4 1 * *")
    # 04:00 backup ends by 04:30; the drill runs 04:35-04:55; the 05:00 backup starts after.
    assert backup["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 1800
    assert drill["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 1200


@pytest.mark.parametrize(
    ("sets", "suggestion"),
    [
        (("backup.schedule=*/30 * * * *",), None),  # a backup always holds the volume: nothing fits
        (("backup.drill.schedule=0 4 1 * *",), "35 4 1 * *"),
        (("backup.drill.schedule=10 4 1 * *", "backup.activeDeadlineSeconds=900"), "20 4 1 * *"),
    ],
)
def test_a_drill_that_would_share_the_volume_with_a_backup_is_refused(sets, suggestion):
    from settings import SettingsError
    from tools.render import render

    with pytest.raises(SettingsError) as caught:
        render("production", sets)
    (problem,) = caught.value.problems
    assert problem.path == "backup.drill.schedule" and "ReadWriteOnce" in problem.message
    if suggestion:
        assert f"'{suggestion}'" in problem.fix


@pytest.mark.parametrize(
    "sets",
    [
        ("backup.schedule=*/30 * * * *", "backup.drill.enabled=false"),
        ("backup.schedule=*/30 * * * *", *S3_SETS_FOR_OVERLAP),
    ],
)
def test_no_overlap_check_without_a_shared_volume(stack_objects, sets):
    secrets = (
        ("backupS3AccessKeyId=AKIAEXAMPLEKEY0001", "backupS3SecretAccessKey=example-secret")
        if "backup.storage.kind=s3" in sets
        else ()
    )
    assert BACKUP in stack_objects("production", *sets, secrets=secrets)


@pytest.mark.parametrize(
    ("key", "schedule"),
    [
        ("backup.schedule", "0 0 31 2 *"),
        ("backup.drill.schedule", "0 4 30 2 *"),
        ("backup.schedule", "0 0 1 1 *"),
        ("backup.drill.schedule", "0 4 1 1 *"),
    ],
)
def test_schedules_that_never_or_rarely_fire_are_refused(key, schedule):
    from settings import SettingsError
    from tools.render import render

    with pytest.raises(SettingsError) as caught:
        render("production", (f"{key}={schedule}",))
    assert key in {problem.path for problem in caught.value.problems}


S3_SETS = ("backup.storage.kind=s3", "backup.storage.s3.bucket=monad-backups")
S3_SECRETS = ("backupS3AccessKeyId=AKIAEXAMPLEKEY0001", "backupS3SecretAccessKey=example-secret-access-key")


def test_object_storage_mode(stack_objects, render_stack):
    objects = stack_objects("production", *S3_SETS, secrets=S3_SECRETS)
    assert "PersistentVolumeClaim/production/monad-synapse-db-backups" not in objects
    assert objects["Secret/production/monad-synapse-backup-s3"]["stringData"] == {
        "AWS_ACCESS_KEY_ID": "[secret]",
        "AWS_SECRET_ACCESS_KEY": "[secret]",
    }
    backup = job_pod(objects[BACKUP])
    assert [c["command"][1:] for c in backup["initContainers"]] == [["/scripts/backup.sh"]]
    (upload,) = backup["containers"]
    assert upload["command"][1:] == ["/scripts/s3.sh", "upload"]
    env = {e["name"]: e.get("value") for e in upload["env"]}
    assert env["S3_BUCKET"] == "monad-backups" and env["S3_PREFIX"] == "production"
    assert upload["envFrom"] == [{"secretRef": {"name": "monad-synapse-backup-s3"}}]
    assert "DATABASE_URL" not in env  # the transfer step never sees the database password
    assert {v["name"]: v for v in backup["volumes"]}["backups"]["emptyDir"] == {"sizeLimit": "20Gi"}
    drill = job_pod(objects[DRILL])
    assert [c["command"][1:] for c in drill["initContainers"]] == [["/scripts/s3.sh", "download", "latest"]]
    assert drill["containers"][0]["command"][1:] == ["/scripts/drill.sh"]
    egress_ports = [
        rule["ports"][0]["port"]
        for rule in objects["NetworkPolicy/production/monad-synapse-db-backup"]["spec"]["egress"]
    ]
    assert egress_ports == [5432, 443]
    rendered = render_stack("production", *S3_SETS, secrets=S3_SECRETS).files
    assert not any("example-secret-access-key" in text or "AKIAEXAMPLEKEY0001" in text for text in rendered.values())


def test_restore_request_id_reaches_the_script_unexpanded(stack_objects):
    objects = stack_objects("production", *RESTORE_SETS[:-1], "restore.requestId=$(DATABASE_URL)")
    (restore,) = [
        obj for identity, obj in objects.items() if identity.startswith("Job/production/monad-synapse-db-restore-")
    ]
    (container,) = restore["spec"]["template"]["spec"]["containers"]
    # Kubernetes expands $(NAME) in env values; $$ is its escape for a literal $.
    assert {"name": "RESTORE_REQUEST_ID", "value": "$$(DATABASE_URL)"} in container["env"]


def test_object_storage_restore_downloads_the_named_dump(stack_objects):
    name = "monad-synapse-20261127T030000Z.dump"
    objects = stack_objects(
        "production",
        *S3_SETS,
        "maintenanceMode=true",
        f"restore.fromBackup={name}",
        "restore.confirm=production",
        "restore.requestId=incident-9",
        secrets=S3_SECRETS,
    )
    (restore,) = [
        obj for identity, obj in objects.items() if identity.startswith("Job/production/monad-synapse-db-restore-")
    ]
    pod = restore["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["command"][1:] == ["/scripts/s3.sh", "download", name]
    assert pod["containers"][0]["command"][1:] == ["/scripts/restore.sh"]


@pytest.mark.parametrize(
    ("sets", "secrets", "key"),
    [
        (("backup.storage.kind=s3",), S3_SECRETS, "backup.storage.s3.bucket"),
        (("backup.storage.kind=s3", "backup.storage.s3.bucket=Bad_Bucket"), S3_SECRETS, "backup.storage.s3.bucket"),
        ((*S3_SETS, "backup.storage.s3.endpoint=http://minio:9000"), S3_SECRETS, "backup.storage.s3.endpoint"),
        (S3_SETS, (), "backupS3AccessKeyId"),
        ((*S3_SETS, "backupS3SecretAccessKey=plaintext"), (S3_SECRETS[0],), "backupS3SecretAccessKey"),
    ],
)
def test_bad_object_storage_config_is_refused(sets, secrets, key):
    from settings import SettingsError
    from tools.render import render

    with pytest.raises(SettingsError) as caught:
        render("production", sets, secrets)
    assert key in {problem.path for problem in caught.value.problems}


@pytest.mark.parametrize("storage", [(), ("backup.storage.kind=s3", "backup.storage.s3.bucket=monad-backups")])
def test_the_dumps_a_restore_can_name_are_listed_by_a_job_the_on_call_runs(stack_objects, storage):
    secrets = ("backupS3AccessKeyId=AKIAEXAMPLEKEY0001", "backupS3SecretAccessKey=example-secret") if storage else ()
    cronjob = stack_objects("production", *storage, secrets=secrets)["CronJob/production/monad-synapse-list-dumps"]
    assert cronjob["spec"]["suspend"] is True  # never on a schedule
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"][-1:] == (["list"] if storage else ["/scripts/list.sh"])[-1:]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
