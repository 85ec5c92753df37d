"""The database the app uses, decided once: external (a URL in the app's
Secret) or in-cluster (CloudNativePG). Everything the other areas need from
it comes from here, so no other place branches on `database.kind`: the
app's env and egress, how the exporter and the dumps reach it, and the
in-cluster clusters themselves with their outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi

from components.data.backups import BACKUP_JOB_LABEL
from components.data.cloudnativepg import InClusterDatabase, InClusterDatabaseArgs
from components.data.database_access import (
    SHARED_CREDENTIALS_SECRET,
    AppDatabase,
    DatabaseAccess,
    app_database,
    cluster_access,
    external_access,
)
from components.data.database_network import database_policies
from settings import Settings, StackSecrets


@dataclass(frozen=True)
class DeclaredDatabase:
    """What the in-cluster database adds to the stack (nothing for the external one)."""

    # What the app's pods need to exist before they roll: the Pooler behind DATABASE_URL.
    app_dependencies: tuple[pulumi.Resource, ...] = ()
    # Stack outputs: the clusters and the pooler the runbook's commands name.
    outputs: dict[str, Any] = field(default_factory=dict)


class ServingDatabase:
    """The database the app is served from, and how each consumer reaches it."""

    def __init__(self, settings: Settings):
        self._settings = settings
        database = settings.database
        # Both sites of a DR topology use one application password (our
        # Secret); elsewhere the operator generates <cluster>-app.
        self._credentials_secret = SHARED_CREDENTIALS_SECRET if database.replica.enabled else None
        self._in_cluster: Optional[AppDatabase] = (
            app_database(
                database.serving_cluster_name,
                settings.namespace,
                database.cloudnativepg.instances,
                self._credentials_secret,
            )
            if database.is_cloudnativepg
            else None
        )

    @property
    def app_egress(self) -> Optional[tuple[dict, ...]]:
        """The app's egress to the in-cluster pooler and instances; None for
        the external database, whose egress is network.postgres."""
        return tuple(self._in_cluster.egress()) if self._in_cluster else None

    @property
    def app_env(self) -> tuple[dict, ...]:
        """DATABASE_URL to the pooler and DATABASE_READ_URL to the read-only
        service (in-cluster); nothing for the external one, whose URL is in
        the app's Secret."""
        return tuple(self._in_cluster.env()) if self._in_cluster else ()

    def access(self, app_secret_name: pulumi.Input[str]) -> DatabaseAccess:
        """How pods that read a database URL from a Secret (the exporter, the
        dumps) reach it: the app Secret's DATABASE_URL, or the in-cluster primary."""
        if self._in_cluster is None:
            return external_access(app_secret_name, self._settings.network.postgres)
        return cluster_access(
            self._settings.database.serving_cluster_name, self._settings.namespace, self._credentials_secret
        )

    def declare(
        self,
        namespace: pulumi.Input[str],
        secrets: StackSecrets,
        exporter_labels: dict,
        opts: pulumi.ResourceOptions,
    ) -> DeclaredDatabase:
        """The in-cluster clusters, pooler and their policies (nothing for the
        external database)."""
        if self._in_cluster is None:
            return DeclaredDatabase()
        settings = self._settings
        database = InClusterDatabase(
            "monad-synapse-db",
            InClusterDatabaseArgs(
                namespace=namespace,
                namespace_name=settings.namespace,
                database=settings.database,
                s3_access_key_id=secrets.database_s3_access_key_id,
                s3_secret_access_key=secrets.database_s3_secret_access_key,
                app_password=secrets.database_app_password,
                restore_drill=settings.backup.enabled and settings.backup.drill.enabled,
                operator_labels=settings.monitoring.operator_labels,
                scrape_interval_seconds=settings.monitoring.scrape_interval_seconds,
                network_policies=tuple(
                    database_policies(
                        settings.database,
                        settings.network.monitoring_namespace,
                        exporter_labels,
                        BACKUP_JOB_LABEL,
                        toolbox=settings.toolbox.enabled,
                    )
                ),
            ),
            opts=opts,
        )
        return DeclaredDatabase(
            app_dependencies=(database.pooler,),
            outputs={
                "databaseCluster": database.serving_cluster_name,
                "databaseClusters": database.cluster_names,
                "databasePooler": database.pooler_name,
            },
        )
