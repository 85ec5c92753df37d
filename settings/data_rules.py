"""The rules that span the data sections (backups, restores, the database)
and the sections they guard with: the namespace, maintenance mode, the stack.

`Settings` inherits them (pydantic runs a base model's validators on every
subclass); they read fields that `Settings` declares, so this class is never
validated on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import model_validator

from settings.base import _Model, _custom_error
from settings.database import same_archive

if TYPE_CHECKING:
    from settings.data import Backup, Restore
    from settings.database import Database


class DataRules(_Model):
    """Guards on restores, recoveries and the in-cluster database that need
    more than one section to judge."""

    if TYPE_CHECKING:  # declared by Settings
        stack: str
        namespace: str
        maintenance_mode: bool
        backup: Backup
        restore: Restore
        database: Database

    @model_validator(mode="after")
    def _restore_is_guarded(self) -> "DataRules":
        if self.restore.from_backup is None:
            for key, value in (("confirm", self.restore.confirm), ("requestId", self.restore.request_id)):
                if value is not None:
                    raise _custom_error(
                        "confirm_without_restore",
                        f"restore.{key} without restore.fromBackup; remove it",
                        field=f"restore.{key}",
                        value=value,
                        remove=True,
                    )
            return self
        if self.restore.request_id is None:
            raise _custom_error(
                "restore_without_request_id",
                "a restore needs a request id that no earlier restore used (a request that already ran is "
                "never applied again); name it after the incident or change",
                field="restore.requestId",
                value=None,
                suggestion="incident-4711",
            )
        if self.restore.confirm != self.namespace:
            raise _custom_error(
                "restore_unconfirmed",
                "restoring overwrites the {namespace} database; confirm by setting restore.confirm to the "
                "namespace name, {namespace}",
                field="restore.confirm",
                value=self.restore.confirm,
                namespace=self.namespace,
                suggestion=self.namespace,
            )
        if not self.maintenance_mode:
            raise _custom_error(
                "restore_outside_maintenance",
                "a restore replaces the data under a running app; turn maintenance mode on first",
                field="maintenanceMode",
                value=self.maintenance_mode,
                suggestion=True,
            )
        if not self.backup.enabled:
            raise _custom_error(
                "restore_without_backups",
                "restores read the backup volume, which backup.enabled false does not declare",
                field="backup.enabled",
                value=False,
                suggestion=True,
            )
        return self

    @model_validator(mode="after")
    def _recovery_is_guarded(self) -> "DataRules":
        """Point-in-time recovery: confirmed by the namespace name, and while
        the app still writes to the old cluster, only in maintenance mode
        (writes after the target would be lost at the switch)."""
        recovery = self.database.recovery
        if not self.database.recovering:
            return self
        if self.restore.from_backup is not None:
            # Both rewrite the data, each from another point in time: which
            # one the app ends up with would depend on timing.
            raise _custom_error(
                "restore_during_recovery",
                "a dump restore and a point-in-time recovery in one change would each rewrite the data from another "
                "point in time; finish the recovery (or remove it), then restore",
                field="restore.fromBackup", value=self.restore.from_backup, remove=True,
            )
        if recovery.confirm != self.namespace:
            raise _custom_error(
                "recovery_unconfirmed",
                "a point-in-time recovery to {target} discards every change after it once the app is switched; "
                "confirm by setting database.recovery.confirm to the namespace name, {namespace}",
                field="database.recovery.confirm", value=recovery.confirm, target=recovery.target_time,
                namespace=self.namespace, suggestion=self.namespace,
            )
        if not self.maintenance_mode and not recovery.serve_app:
            raise _custom_error(
                "recovery_outside_maintenance",
                "recover while the app is in maintenance mode: writes to the old cluster after the recovery "
                "would be lost when the app switches to the recovered one",
                field="maintenanceMode", value=self.maintenance_mode, suggestion=True,
            )
        return self

    @model_validator(mode="after")
    def _production_database_has_a_standby(self) -> "DataRules":
        instances = self.database.cloudnativepg.instances
        if self.stack == "production" and self.database.is_cloudnativepg and instances < 2:
            raise _custom_error(
                "production_without_standby",
                "production needs at least one standby ({value} instance): without one, a node failure is a "
                "database outage until the volume is back, and a lost volume loses up to the RPO",
                field="database.cloudnativepg.instances", value=instances, suggestion=3,
            )
        return self

    @model_validator(mode="after")
    def _dumps_can_read_the_cluster(self) -> "DataRules":
        cnpg = self.database.cloudnativepg
        if self.database.is_cloudnativepg and self.backup.enabled and self.backup.postgres_major_version < cnpg.postgres_major_version:
            raise _custom_error(
                "dump_older_than_server",
                "pg_dump {value} cannot dump the in-cluster PostgreSQL {server}; pin backup.postgresMajorVersion "
                "and backup.image to {server} too",
                field="backup.postgresMajorVersion", value=self.backup.postgres_major_version,
                server=cnpg.postgres_major_version, suggestion=cnpg.postgres_major_version,
            )
        return self

    @model_validator(mode="after")
    def _sites_never_share_an_archive(self) -> "DataRules":
        replica = self.database.replica
        store = self.database.cloudnativepg.object_store
        if not replica.enabled or store is None or replica.source.object_store is None:
            return self
        if same_archive(store, self.database.serving_cluster_name, replica.source.object_store,
                        replica.source.server_name, self.namespace):
            raise _custom_error(
                "shared_archive",
                "both sites would archive WAL into the same folder and corrupt each other's archive; give the DR "
                "site its own bucket or path",
                field="database.replica.source.objectStore.bucket", value=replica.source.object_store.bucket,
            )
        return self
