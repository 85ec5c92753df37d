"""PostgreSQL backups: a verified pg_dump CronJob on a volume, a scheduled
restore drill, and restore as a guarded one-off Job.

The jobs run the scripts in scripts/backup/ (tested against a real server),
shipped to the pods in a ConfigMap. DATABASE_URL comes from the app's Secret
by reference; no credential is ever a literal in a manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.checksums import checksum
from components.common.egress import egress_rule
from components.common.labels import object_metadata, workload_labels
from components.common.pod_security import (
    ephemeral_storage_request,
    literal_env,
    restricted_container_security,
    restricted_pod_security,
)
from components.common.vocabulary import APP_NAME, BACKUP_CRONJOB, DRILL_CRONJOB, LIST_DUMPS_CRONJOB
from components.data.database_access import DatabaseAccess
from settings import Backup, Restore

SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "scripts" / "backup"
SCRIPTS_CONFIG_MAP = f"{APP_NAME}-backup-scripts"
BACKUP_VOLUME_CLAIM = f"{APP_NAME}-db-backups"


def backup_volume_claim(storage_class: Optional[str]) -> str:
    """The dump volume's name: the runbook's with the cluster's default class,
    and the class in the name otherwise. A PVC's class cannot change in
    place, and the volume has retainOnDelete (the dumps outlive the stack):
    under one name, its replacement would delete nothing and then fail to
    create a name that still exists. Under a new name the new volume is
    created and the old one, with its dumps, is left in the cluster."""
    if not storage_class:
        return BACKUP_VOLUME_CLAIM
    name = f"{BACKUP_VOLUME_CLAIM}-{storage_class}"
    if len(name) > 253:  # a DNS subdomain: keep it one, and distinct per class
        digest = hashlib.sha256(storage_class.encode()).hexdigest()[:10]
        name = f"{name[:242].rstrip('.-')}-{digest}"
    return name


# A high UID (CKV_K8S_40): the client tools need no passwd entry, since
# DATABASE_URL names the database user.
POSTGRES_USER_ID = 10070
BACKUP_MOUNT = "/backups"
TMP_SIZE = "256Mi"
SCRIPTS_MOUNT = "/scripts"


def backup_scripts() -> dict[str, str]:
    """The scripts, as files of the repository."""
    return {path.name: path.read_text() for path in sorted(SCRIPTS_DIR.glob("*.sh"))}


def restore_job_name(restore: Restore) -> str:
    """One name per restore request. The request id, not the Job, is what
    makes a restore happen once: restore.sh records it in the database, so a
    re-created Job of the same request (a changed template, a refresh after
    the Job was deleted, a retried `pulumi up`) never restores again."""
    digest = hashlib.sha256(f"{restore.request_id}".encode()).hexdigest()[:10]
    return f"{APP_NAME}-db-restore-{digest}"


# The app.kubernetes.io/name of every backup, drill and restore pod.
BACKUP_JOB_LABEL = "db-backup"


def backup_labels(instance: str) -> dict[str, str]:
    return workload_labels(BACKUP_JOB_LABEL, instance, "backup")


S3_SECRET = f"{APP_NAME}-backup-s3"


@dataclass(frozen=True)
class DatabaseBackupsArgs:
    namespace: pulumi.Input[str]
    backup: Backup
    restore: Restore
    # Where the database URL is (the app Secret's DATABASE_URL, or the
    # in-cluster primary's generated credentials) and how to reach it.
    database: DatabaseAccess
    # Object-storage credentials (backup.storage.kind s3), Pulumi secrets.
    s3_access_key_id: Optional[pulumi.Output[str]] = None
    s3_secret_access_key: Optional[pulumi.Output[str]] = None
    # S3 prefix default: the namespace, so stacks sharing a bucket never mix dumps.
    default_s3_prefix: str = ""


class DatabaseBackups(pulumi.ComponentResource):
    """Backup CronJob, restore-drill CronJob, backup volume, and an optional restore Job."""

    backup_cronjob_name: pulumi.Output[str]
    """CronJob that dumps the database."""
    restore_job_name: pulumi.Output[Optional[str]]
    """The one-off restore Job, while one is requested."""

    def __init__(self, name: str, args: DatabaseBackupsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:data:DatabaseBackups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        backup = args.backup
        scripts = backup_scripts()
        self._scripts_checksum = checksum(scripts)

        self._s3 = backup.storage.s3 if backup.storage.kind == "s3" else None
        scripts_config_map = k8s.core.v1.ConfigMap(
            f"{name}-scripts",
            metadata=self._metadata(args, SCRIPTS_CONFIG_MAP, BACKUP_CRONJOB),
            data=scripts,
            opts=child,
        )
        needs: list[pulumi.Resource] = [scripts_config_map]
        if self._s3 is None:
            volume_claim = k8s.core.v1.PersistentVolumeClaim(
                f"{name}-volume",
                metadata=self._metadata(args, backup_volume_claim(backup.storage.storage_class_name), BACKUP_CRONJOB),
                spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                    access_modes=["ReadWriteOnce"],
                    storage_class_name=backup.storage.storage_class_name,
                    resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": backup.storage.size}),
                ),
                # The dumps must outlive the stack: `pulumi destroy` leaves the volume.
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            # Pulumi's PVC await accepts Pending under WaitForFirstConsumer storage
            # (pulumi-kubernetes #3130, #4181), so the jobs below can depend on it.
            needs.append(volume_claim)
        else:
            needs.append(
                k8s.core.v1.Secret(
                    f"{name}-s3-secret",
                    metadata=self._metadata(args, S3_SECRET, BACKUP_CRONJOB),
                    type="Opaque",
                    string_data={
                        "AWS_ACCESS_KEY_ID": pulumi.Output.secret(args.s3_access_key_id),
                        "AWS_SECRET_ACCESS_KEY": pulumi.Output.secret(args.s3_secret_access_key),
                    },
                    opts=child,
                )
            )

        # With s3 the PostgreSQL step and the transfer run in separate
        # containers, in order: dump then upload; download then restore.
        retention = {"RETENTION_DAYS": str(backup.retention_days)}
        backup_cronjob = self._cronjob(
            args,
            f"{name}-backup",
            BACKUP_CRONJOB,
            backup.schedule,
            [("backup.sh", [], retention)] + ([("s3.sh", ["upload"], retention)] if self._s3 else []),
            needs,
            backup.active_deadline_seconds,
        )
        if backup.drill.enabled:
            self._cronjob(
                args,
                f"{name}-drill",
                DRILL_CRONJOB,
                backup.drill.schedule,
                ([("s3.sh", ["download", "latest"], {})] if self._s3 else [])
                + [("drill.sh", [], {"DRILL_SANITY_QUERY": backup.drill.sanity_query})],
                needs,
                backup.drill.active_deadline_seconds,
            )
        # Never scheduled: the on-call runs it to see which dumps a restore can
        # name (`kubectl create job --from=cronjob/...`, docs/operations.md).
        self._cronjob(
            args,
            f"{name}-list",
            LIST_DUMPS_CRONJOB,
            backup.drill.schedule,
            [("s3.sh", ["list"], {})] if self._s3 else [("list.sh", [], {})],
            needs,
            600,
            suspend=True,
        )
        restore_name: Optional[str] = None
        if args.restore.from_backup is not None:
            restore_name = restore_job_name(args.restore)
            k8s.batch.v1.Job(
                f"{name}-restore",
                metadata=self._metadata(args, restore_name, restore_name),
                spec=self._job_spec(
                    args,
                    restore_name,
                    ([("s3.sh", ["download", args.restore.from_backup], {})] if self._s3 else [])
                    + [
                        (
                            "restore.sh",
                            [],
                            {"RESTORE_FROM": args.restore.from_backup, "RESTORE_REQUEST_ID": args.restore.request_id},
                        )
                    ],
                    retries=0,
                    # Kept until the keys are removed: a deleted Job would be
                    # re-created by the next `pulumi up --refresh` (harmless, the
                    # request id makes it a no-op, but noisy).
                    ttl_seconds=None,
                ),
                # Pulumi waits for the Job to complete, so `pulumi up` reports
                # whether the restore worked.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=needs,
                    custom_timeouts=pulumi.CustomTimeouts(create=f"{backup.active_deadline_seconds + 300}s"),
                ),
            )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata=self._metadata(args, f"{APP_NAME}-db-backup", BACKUP_CRONJOB),
            spec={
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": BACKUP_JOB_LABEL}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [],
                "egress": list(args.database.egress) + ([egress_rule(self._s3, self._s3.port)] if self._s3 else []),
            },
            opts=child,
        )
        self.backup_cronjob_name = backup_cronjob.metadata.name
        self.restore_job_name = pulumi.Output.from_input(restore_name)
        self.register_outputs(
            {"backup_cronjob_name": self.backup_cronjob_name, "restore_job_name": self.restore_job_name}
        )

    def _metadata(self, args: DatabaseBackupsArgs, name: str, instance: str) -> k8s.meta.v1.ObjectMetaArgs:
        return object_metadata(name, args.namespace, backup_labels(instance))

    def _cronjob(
        self,
        args: DatabaseBackupsArgs,
        logical: str,
        name: str,
        schedule: str,
        steps: list,
        needs: list,
        deadline_seconds: int,
        suspend: bool = False,
    ):
        return k8s.batch.v1.CronJob(
            logical,
            metadata=self._metadata(args, name, name),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=schedule,
                suspend=suspend or None,
                time_zone="Etc/UTC",
                # Never two dumps at once: a slow dump must not pile up behind itself.
                concurrency_policy="Forbid",
                # A run missed by more than 10 minutes (controller down) is skipped, not run late in a burst.
                starting_deadline_seconds=600,
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=3,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=backup_labels(name)),
                    spec=self._job_spec(args, name, steps, retries=1, deadline_seconds=deadline_seconds),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=needs),
        )

    def _container(
        self, args: DatabaseBackupsArgs, script: str, arguments: list, env: dict, scratch_request: str
    ) -> k8s.core.v1.ContainerArgs:
        """One step: a PostgreSQL tools script, or (s3.sh) an object-storage transfer."""
        backup = args.backup
        transfer = script == "s3.sh"
        environment = [
            literal_env("BACKUP_DIR", BACKUP_MOUNT),
            literal_env("HOME", "/tmp"),
        ]
        env_from = None
        if transfer:
            s3 = self._s3
            environment += [
                literal_env("S3_BUCKET", s3.bucket),
                literal_env("S3_PREFIX", s3.prefix or args.default_s3_prefix),
                literal_env("AWS_DEFAULT_REGION", s3.region),
            ] + ([literal_env("S3_ENDPOINT", s3.endpoint)] if s3.endpoint else [])
            env_from = [k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=S3_SECRET))]
        else:
            environment += args.database.env("DATABASE_URL")
        # Config values (the drill's query, the request id) reach the scripts as written.
        environment += [literal_env(key, value) for key, value in sorted(env.items())]
        return k8s.core.v1.ContainerArgs(
            name="s3" if transfer else "pg",
            image=self._s3.image if transfer else backup.image,
            image_pull_policy="Always",
            command=["/bin/sh", f"{SCRIPTS_MOUNT}/{script}", *arguments],
            env=environment,
            env_from=env_from,
            resources=k8s.core.v1.ResourceRequirementsArgs(
                # Each step may fill the pod's scratch volumes (the dump):
                # request room for them so the pod is not evicted mid-dump.
                requests={"cpu": "100m", "memory": "256Mi", "ephemeral-storage": scratch_request},
                limits={"cpu": "1", "memory": "1Gi"},
            ),
            security_context=restricted_container_security(),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="backups", mount_path=BACKUP_MOUNT),
                k8s.core.v1.VolumeMountArgs(name="scripts", mount_path=SCRIPTS_MOUNT, read_only=True),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            ],
        )

    def _job_spec(
        self,
        args: DatabaseBackupsArgs,
        instance: str,
        steps: list,
        retries: int,
        ttl_seconds: Optional[int] = 3 * 86400,
        deadline_seconds: Optional[int] = None,
    ) -> k8s.batch.v1.JobSpecArgs:
        """A Job running `steps` ((script, arguments, env), ...) in order: all
        but the last as init containers, which run one after another."""
        backup = args.backup
        scratch = [TMP_SIZE] + ([backup.storage.size] if self._s3 is not None else [])
        scratch_request = ephemeral_storage_request(*scratch)
        containers = [
            self._container(args, script, arguments, env, scratch_request) for script, arguments, env in steps
        ]
        if self._s3 is None:
            backups_volume = k8s.core.v1.VolumeArgs(
                name="backups",
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                    claim_name=backup_volume_claim(backup.storage.storage_class_name)
                ),
            )
        else:
            backups_volume = k8s.core.v1.VolumeArgs(
                name="backups", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=backup.storage.size)
            )
        return k8s.batch.v1.JobSpecArgs(
            backoff_limit=retries,
            active_deadline_seconds=deadline_seconds or backup.active_deadline_seconds,
            # Keep finished Jobs three days for `kubectl logs`; alerts read kube-state-metrics.
            ttl_seconds_after_finished=ttl_seconds,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels=backup_labels(instance),
                    annotations={"monad-synapse.com/scripts-checksum": self._scripts_checksum},
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    enable_service_links=False,
                    security_context=restricted_pod_security(POSTGRES_USER_ID, fs_group=POSTGRES_USER_ID),
                    init_containers=containers[:-1] or None,
                    containers=containers[-1:],
                    volumes=[
                        backups_volume,
                        k8s.core.v1.VolumeArgs(
                            name="scripts",
                            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                                name=SCRIPTS_CONFIG_MAP, default_mode=0o555
                            ),
                        ),
                        k8s.core.v1.VolumeArgs(
                            name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=TMP_SIZE)
                        ),
                    ],
                ),
            ),
        )
