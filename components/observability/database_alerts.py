"""Alerts on the in-cluster database (pure): WAL archiving, the RPO, base
backups, replication, instances and the pooler. Metric names are
CloudNativePG's default monitoring queries (config/manager/default-monitoring.yaml
in cloudnative-pg), its PgBouncer collector, and the Barman Cloud plugin's
metrics (prefixed with its sanitized name): tools/engine/exporter_metrics.py lists
what each really exports, and tests/components/observability/test_vocabulary.py holds these to it."""

from __future__ import annotations

from components.observability.rule_context import Alert, DatabaseWatch, RuleContext, label_matchers

# The pod labels the instances' PodMonitor copies onto every series
# (podTargetLabels, with prometheus-operator's sanitized names).
CLUSTER_LABEL = "cnpg_io_cluster"
ROLE_LABEL = "cnpg_io_instanceRole"
# The Barman Cloud plugin's metrics: "barman-cloud.cloudnative-pg.io" with
# "." and "-" turned into "_".
PLUGIN_METRICS = "barman_cloud_cloudnative_pg_io"


def database_alerts(context: RuleContext, watch: DatabaseWatch) -> list[Alert]:
    # The primary, or a replica site's designated primary: the one archiving.
    primary = label_matchers(job=watch.instances_job, namespace=context.namespace, **{ROLE_LABEL: "primary"})
    serving = label_matchers(
        job=watch.instances_job, namespace=context.namespace, **{CLUSTER_LABEL: watch.serving_cluster}
    )
    pooler = label_matchers(job=watch.pooler_job, namespace=context.namespace)
    # Streaming standbys of this site. On a DR site the designated primary
    # replays the other site's archive with no WAL receiver, so CloudNativePG's
    # lag (now - last replayed transaction, default-monitoring.yaml
    # pg_replication) grows whenever the main site is quiet: it is not
    # watched here (the archive's freshness is the main site's RPO alert).
    standbys = label_matchers(job=watch.instances_job, namespace=context.namespace, **{ROLE_LABEL: "replica"})
    lag_threshold = watch.replication_lag_seconds + watch.min_apply_delay_seconds
    last_backup = f"max by ({CLUSTER_LABEL}) ({PLUGIN_METRICS}_last_available_backup_timestamp{{{primary}}})"
    return [
        Alert(
            "MonadSynapseDatabaseWalArchivingFailing",
            f"max by ({CLUSTER_LABEL}) (cnpg_pg_stat_archiver_last_failed_time{{{primary}}} "
            f"- cnpg_pg_stat_archiver_last_archived_time{{{primary}}}) > 0",
            "critical",
            "WAL archiving is failing",
            "The newest attempt to archive WAL of {{ $labels." + CLUSTER_LABEL + " }} failed, and none has "
            "succeeded since: point-in-time recovery and the DR site stop at the last archived segment, and "
            "pg_wal fills up.",
            "5m",
        ),
        Alert(
            "MonadSynapseDatabaseRpoAtRisk",
            # An idle database archives nothing and risks nothing: only WAL
            # waiting to be archived (.ready segments) while the newest
            # archived one is older than the RPO is data at risk.
            f"max by ({CLUSTER_LABEL}) (cnpg_pg_stat_archiver_seconds_since_last_archival{{{primary}}}) "
            f"> {watch.rpo_seconds} and on ({CLUSTER_LABEL}) "
            f'max by ({CLUSTER_LABEL}) (cnpg_collector_pg_wal_archive_status{{{primary}, value="ready"}}) > 0',
            "critical",
            "RPO at risk: WAL not archived in time",
            f"WAL is waiting to be archived and the last archived segment of {{{{ $labels.{CLUSTER_LABEL} }}}} is "
            f"{{{{ $value | humanizeDuration }}}} old, beyond the RPO of {watch.rpo_seconds}s: losing the primary "
            "now loses more data than promised.",
        ),
        Alert(
            "MonadSynapseDatabaseNeverArchived",
            # A new (or recovered) cluster has no archived segment yet, so
            # the RPO alert's seconds-since-last-archival has no value: WAL
            # waiting longer than the RPO with nothing ever archived.
            f'max by ({CLUSTER_LABEL}) (cnpg_collector_pg_wal_archive_status{{{primary}, value="ready"}}) > 0 '
            f"unless on ({CLUSTER_LABEL}) max by ({CLUSTER_LABEL}) "
            f"(cnpg_pg_stat_archiver_archived_count{{{primary}}}) > 0",
            "critical",
            "RPO at risk: no WAL segment was ever archived",
            f"{{{{ $labels.{CLUSTER_LABEL} }}}} has had WAL waiting for the archive for {watch.rpo_seconds}s and has "
            "never archived a segment: nothing it wrote can be recovered. Check the ObjectStore, its credentials "
            "and the plugin's logs.",
            f"{watch.rpo_seconds}s",
        ),
        Alert(
            "MonadSynapseDatabaseBaseBackupStale",
            f"time() - ({last_backup} > 0) > {watch.base_backup_stale_after_seconds}",
            "critical",
            "No recent base backup of the database",
            f"The newest base backup of {{{{ $labels.{CLUSTER_LABEL} }}}} is {{{{ $value | humanizeDuration }}}} old, "
            f"more than the schedule's longest gap plus a margin ({watch.base_backup_stale_after_seconds}s): "
            "recovery would replay WAL since then, and WAL past the retention has no base backup to start from.",
        ),
        Alert(
            "MonadSynapseDatabaseBaseBackupNeverTaken",
            f"{last_backup} == 0",
            "critical",
            "The database has no base backup",
            "No base backup of {{ $labels." + CLUSTER_LABEL + " }} has completed since it was created: there "
            "is nothing to recover from.",
            f"{watch.base_backup_stale_after_seconds}s",
        ),
        Alert(
            "MonadSynapseDatabaseReplicationLag",
            f"max by ({CLUSTER_LABEL}, pod) (cnpg_pg_replication_lag{{{standbys}}}) > {lag_threshold}",
            "warning",
            "A database standby lags behind",
            f"Standby {{{{ $labels.pod }}}} replays WAL {{{{ $value | humanizeDuration }}}} behind, more than "
            f"{lag_threshold}s"
            + (f" (minApplyDelay {watch.min_apply_delay_seconds}s included)" if watch.min_apply_delay_seconds else "")
            + ": a failover to it would lose that much, and reads from the read-only service are stale.",
            "5m",
        ),
        Alert(
            "MonadSynapseDatabaseInstancesNotReady",
            f"(sum(cnpg_collector_up{{{serving}}}) or vector(0)) < {watch.instances}",
            "warning" if watch.instances > 1 else "critical",
            "Database instances are down",
            f"Fewer than {watch.instances} PostgreSQL instances of {watch.serving_cluster} are up for 5 minutes: "
            "failover and read capacity are reduced.",
            "5m",
        ),
        Alert(
            "MonadSynapseDatabasePoolerDown",
            # CloudNativePG exports no "up" for PgBouncer (pgbouncer_collector.go
            # declares cnpg_pgbouncer_up but never collects it): a pod counts
            # when its scrape answers and its last collection from PgBouncer
            # did not fail.
            f"(count(up{{{pooler}}} == 1 unless on (pod) "
            f"cnpg_pgbouncer_last_collection_error{{{pooler}}} == 1) or vector(0)) < 1",
            "critical",
            "The database connection pooler is down",
            "No PgBouncer pod of the pooler answers for 2 minutes: the app cannot reach the database.",
            "2m",
        ),
    ]
