"""The metric names exporters really expose (pure data), taken from their
source, so that an alert or a panel reading a name nobody exports fails a
test (tests/components/observability/test_vocabulary.py) instead of staying silent (or, with
`absent()`-style rules, firing forever).

* CloudNativePG instances (cloudnative-pg a95a534dbe08):
  pkg/management/postgres/webserver/metricserver/pg_collector.go (the
  `cnpg_collector_*` metrics) and config/manager/default-monitoring.yaml
  (the default queries: `cnpg_<query>_<column>` for GAUGE and COUNTER
  columns; LABEL columns become labels).
* CloudNativePG poolers: pkg/management/pgbouncer/metricsserver/
  (pgbouncer_collector.go, lists.go, pools.go, stats.go). The collector
  declares a `cnpg_pgbouncer_up` gauge but never describes nor collects it:
  it is not exported, and is left out here.
* The Barman Cloud plugin (plugin-barman-cloud 9967e2caabf2):
  internal/cnpgi/instance/metrics.go, served through the instance's
  exporter under the plugin's name with "." and "-" as "_".
* kube-state-metrics (kube-state-metrics c92fe0c5ce02): internal/store/
  (pod, cronjob, job, horizontalpodautoscaler, deployment,
  persistentvolumeclaim, statefulset).
Every scrape also yields Prometheus's own `up` per target.
"""

CLOUDNATIVEPG_INSTANCE = frozenset({
    "cnpg_backends_max_tx_duration_seconds", "cnpg_backends_total", "cnpg_backends_waiting_total",
    "cnpg_collector_collection_duration_seconds", "cnpg_collector_collection_errors_total",
    "cnpg_collector_collections_total", "cnpg_collector_fencing_on", "cnpg_collector_first_recoverability_point",
    "cnpg_collector_last_available_backup_timestamp", "cnpg_collector_last_collection_error",
    "cnpg_collector_last_failed_backup_timestamp", "cnpg_collector_manual_switchover_required",
    "cnpg_collector_nodes_used", "cnpg_collector_pg_wal", "cnpg_collector_pg_wal_archive_status",
    "cnpg_collector_postgres_version", "cnpg_collector_replica_mode", "cnpg_collector_sync_replicas",
    "cnpg_collector_up", "cnpg_collector_wal_buffers_full", "cnpg_collector_wal_bytes", "cnpg_collector_wal_fpi",
    "cnpg_collector_wal_records", "cnpg_collector_wal_sync", "cnpg_collector_wal_sync_time",
    "cnpg_collector_wal_write", "cnpg_collector_wal_write_time", "cnpg_pg_database_mxid_age",
    "cnpg_pg_database_size_bytes", "cnpg_pg_database_xid_age", "cnpg_pg_extensions_update_available",
    "cnpg_pg_postmaster_start_time", "cnpg_pg_replication_in_recovery", "cnpg_pg_replication_is_wal_receiver_up",
    "cnpg_pg_replication_lag", "cnpg_pg_replication_slots_active", "cnpg_pg_replication_slots_pg_wal_lsn_diff",
    "cnpg_pg_replication_streaming_replicas", "cnpg_pg_settings_setting", "cnpg_pg_stat_archiver_archived_count",
    "cnpg_pg_stat_archiver_failed_count", "cnpg_pg_stat_archiver_last_archived_time",
    "cnpg_pg_stat_archiver_last_archived_wal_start_lsn", "cnpg_pg_stat_archiver_last_failed_time",
    "cnpg_pg_stat_archiver_last_failed_wal_start_lsn", "cnpg_pg_stat_archiver_seconds_since_last_archival",
    "cnpg_pg_stat_archiver_seconds_since_last_failure", "cnpg_pg_stat_archiver_stats_reset_time",
    "cnpg_pg_stat_bgwriter_17_buffers_alloc", "cnpg_pg_stat_bgwriter_17_buffers_clean",
    "cnpg_pg_stat_bgwriter_17_maxwritten_clean", "cnpg_pg_stat_bgwriter_17_stats_reset_time",
    "cnpg_pg_stat_bgwriter_buffers_alloc", "cnpg_pg_stat_bgwriter_buffers_backend",
    "cnpg_pg_stat_bgwriter_buffers_backend_fsync", "cnpg_pg_stat_bgwriter_buffers_checkpoint",
    "cnpg_pg_stat_bgwriter_buffers_clean", "cnpg_pg_stat_bgwriter_checkpoint_sync_time",
    "cnpg_pg_stat_bgwriter_checkpoint_write_time", "cnpg_pg_stat_bgwriter_checkpoints_req",
    "cnpg_pg_stat_bgwriter_checkpoints_timed", "cnpg_pg_stat_bgwriter_maxwritten_clean",
    "cnpg_pg_stat_checkpointer_buffers_written", "cnpg_pg_stat_checkpointer_checkpoints_req",
    "cnpg_pg_stat_checkpointer_checkpoints_timed", "cnpg_pg_stat_checkpointer_restartpoints_done",
    "cnpg_pg_stat_checkpointer_restartpoints_req", "cnpg_pg_stat_checkpointer_restartpoints_timed",
    "cnpg_pg_stat_checkpointer_stats_reset_time", "cnpg_pg_stat_checkpointer_sync_time",
    "cnpg_pg_stat_checkpointer_write_time", "cnpg_pg_stat_database_blk_read_time",
    "cnpg_pg_stat_database_blk_write_time", "cnpg_pg_stat_database_blks_hit", "cnpg_pg_stat_database_blks_read",
    "cnpg_pg_stat_database_conflicts", "cnpg_pg_stat_database_deadlocks", "cnpg_pg_stat_database_temp_bytes",
    "cnpg_pg_stat_database_temp_files", "cnpg_pg_stat_database_tup_deleted", "cnpg_pg_stat_database_tup_fetched",
    "cnpg_pg_stat_database_tup_inserted", "cnpg_pg_stat_database_tup_returned", "cnpg_pg_stat_database_tup_updated",
    "cnpg_pg_stat_database_xact_commit", "cnpg_pg_stat_database_xact_rollback",
    "cnpg_pg_stat_replication_backend_start", "cnpg_pg_stat_replication_backend_xmin_age",
    "cnpg_pg_stat_replication_flush_diff_bytes", "cnpg_pg_stat_replication_flush_lag_seconds",
    "cnpg_pg_stat_replication_replay_diff_bytes", "cnpg_pg_stat_replication_replay_lag_seconds",
    "cnpg_pg_stat_replication_sent_diff_bytes", "cnpg_pg_stat_replication_write_diff_bytes",
    "cnpg_pg_stat_replication_write_lag_seconds",
})

CLOUDNATIVEPG_POOLER = frozenset({
    "cnpg_pgbouncer_collection_duration_seconds", "cnpg_pgbouncer_collection_errors_total",
    "cnpg_pgbouncer_collections_total", "cnpg_pgbouncer_last_collection_error", "cnpg_pgbouncer_lists_databases",
    "cnpg_pgbouncer_lists_dns_names", "cnpg_pgbouncer_lists_dns_pending", "cnpg_pgbouncer_lists_dns_queries",
    "cnpg_pgbouncer_lists_dns_zones", "cnpg_pgbouncer_lists_free_clients", "cnpg_pgbouncer_lists_free_servers",
    "cnpg_pgbouncer_lists_login_clients", "cnpg_pgbouncer_lists_pools", "cnpg_pgbouncer_lists_used_clients",
    "cnpg_pgbouncer_lists_used_servers", "cnpg_pgbouncer_lists_users", "cnpg_pgbouncer_pools_cl_active",
    "cnpg_pgbouncer_pools_cl_active_cancel_req", "cnpg_pgbouncer_pools_cl_cancel_req",
    "cnpg_pgbouncer_pools_cl_waiting", "cnpg_pgbouncer_pools_cl_waiting_cancel_req",
    "cnpg_pgbouncer_pools_load_balance_hosts", "cnpg_pgbouncer_pools_maxwait", "cnpg_pgbouncer_pools_maxwait_us",
    "cnpg_pgbouncer_pools_pool_mode", "cnpg_pgbouncer_pools_sv_active", "cnpg_pgbouncer_pools_sv_active_cancel",
    "cnpg_pgbouncer_pools_sv_idle", "cnpg_pgbouncer_pools_sv_login", "cnpg_pgbouncer_pools_sv_tested",
    "cnpg_pgbouncer_pools_sv_used", "cnpg_pgbouncer_pools_sv_wait_cancels", "cnpg_pgbouncer_stats_avg_bind_count",
    "cnpg_pgbouncer_stats_avg_client_parse_count", "cnpg_pgbouncer_stats_avg_query_count",
    "cnpg_pgbouncer_stats_avg_query_time", "cnpg_pgbouncer_stats_avg_recv", "cnpg_pgbouncer_stats_avg_sent",
    "cnpg_pgbouncer_stats_avg_server_assignment_count", "cnpg_pgbouncer_stats_avg_server_parse_count",
    "cnpg_pgbouncer_stats_avg_wait_time", "cnpg_pgbouncer_stats_avg_xact_count",
    "cnpg_pgbouncer_stats_avg_xact_time", "cnpg_pgbouncer_stats_total_bind_count",
    "cnpg_pgbouncer_stats_total_client_parse_count", "cnpg_pgbouncer_stats_total_query_count",
    "cnpg_pgbouncer_stats_total_query_time", "cnpg_pgbouncer_stats_total_received",
    "cnpg_pgbouncer_stats_total_sent", "cnpg_pgbouncer_stats_total_server_assignment_count",
    "cnpg_pgbouncer_stats_total_server_parse_count", "cnpg_pgbouncer_stats_total_wait_time",
    "cnpg_pgbouncer_stats_total_xact_count", "cnpg_pgbouncer_stats_total_xact_time",
})

KUBE_STATE_METRICS = frozenset({
    "kube_cronjob_annotations", "kube_cronjob_created", "kube_cronjob_info", "kube_cronjob_labels",
    "kube_cronjob_metadata_resource_version", "kube_cronjob_next_schedule_time", "kube_cronjob_schedule_invalid",
    "kube_cronjob_spec_failed_job_history_limit", "kube_cronjob_spec_starting_deadline_seconds",
    "kube_cronjob_spec_successful_job_history_limit", "kube_cronjob_spec_suspend", "kube_cronjob_status_active",
    "kube_cronjob_status_last_schedule_time", "kube_cronjob_status_last_successful_time",
    "kube_deployment_annotations", "kube_deployment_created", "kube_deployment_deletion_timestamp",
    "kube_deployment_labels", "kube_deployment_metadata_generation", "kube_deployment_owner",
    "kube_deployment_spec_paused", "kube_deployment_spec_replicas",
    "kube_deployment_spec_strategy_rollingupdate_max_surge",
    "kube_deployment_spec_strategy_rollingupdate_max_unavailable", "kube_deployment_status_condition",
    "kube_deployment_status_observed_generation", "kube_deployment_status_replicas",
    "kube_deployment_status_replicas_available", "kube_deployment_status_replicas_ready",
    "kube_deployment_status_replicas_unavailable", "kube_deployment_status_replicas_updated",
    "kube_deployment_status_terminating_replicas", "kube_horizontalpodautoscaler_annotations",
    "kube_horizontalpodautoscaler_created", "kube_horizontalpodautoscaler_deletion_timestamp",
    "kube_horizontalpodautoscaler_info", "kube_horizontalpodautoscaler_labels",
    "kube_horizontalpodautoscaler_metadata_generation",
    "kube_horizontalpodautoscaler_spec_behavior_scale_down_tolerance",
    "kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance",
    "kube_horizontalpodautoscaler_spec_max_replicas", "kube_horizontalpodautoscaler_spec_min_replicas",
    "kube_horizontalpodautoscaler_spec_target_metric", "kube_horizontalpodautoscaler_status_condition",
    "kube_horizontalpodautoscaler_status_current_replicas", "kube_horizontalpodautoscaler_status_desired_replicas",
    "kube_horizontalpodautoscaler_status_target_metric", "kube_job_annotations", "kube_job_complete",
    "kube_job_created", "kube_job_failed", "kube_job_info", "kube_job_labels", "kube_job_owner",
    "kube_job_spec_active_deadline_seconds", "kube_job_spec_completions", "kube_job_spec_parallelism",
    "kube_job_status_active", "kube_job_status_completion_time", "kube_job_status_failed", "kube_job_status_ready",
    "kube_job_status_start_time", "kube_job_status_succeeded", "kube_job_status_suspended",
    "kube_persistentvolumeclaim_access_mode", "kube_persistentvolumeclaim_annotations",
    "kube_persistentvolumeclaim_created", "kube_persistentvolumeclaim_deletion_timestamp",
    "kube_persistentvolumeclaim_info", "kube_persistentvolumeclaim_labels",
    "kube_persistentvolumeclaim_resource_requests_storage_bytes", "kube_persistentvolumeclaim_status_condition",
    "kube_persistentvolumeclaim_status_phase", "kube_pod_annotations", "kube_pod_completion_time",
    "kube_pod_container_info", "kube_pod_container_resource_limits", "kube_pod_container_resource_requests",
    "kube_pod_container_state_started", "kube_pod_container_status_last_terminated_exitcode",
    "kube_pod_container_status_last_terminated_reason", "kube_pod_container_status_last_terminated_timestamp",
    "kube_pod_container_status_ready", "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_running", "kube_pod_container_status_terminated",
    "kube_pod_container_status_terminated_reason", "kube_pod_container_status_waiting",
    "kube_pod_container_status_waiting_reason", "kube_pod_created", "kube_pod_deletion_timestamp", "kube_pod_info",
    "kube_pod_init_container_info", "kube_pod_init_container_resource_limits",
    "kube_pod_init_container_resource_requests", "kube_pod_init_container_state_started",
    "kube_pod_init_container_status_last_terminated_exitcode",
    "kube_pod_init_container_status_last_terminated_reason",
    "kube_pod_init_container_status_last_terminated_timestamp", "kube_pod_init_container_status_ready",
    "kube_pod_init_container_status_restarts_total", "kube_pod_init_container_status_running",
    "kube_pod_init_container_status_terminated", "kube_pod_init_container_status_terminated_reason",
    "kube_pod_init_container_status_waiting", "kube_pod_init_container_status_waiting_reason", "kube_pod_ips",
    "kube_pod_labels", "kube_pod_nodeselectors", "kube_pod_overhead_cpu_cores", "kube_pod_overhead_memory_bytes",
    "kube_pod_owner", "kube_pod_resourceclaim_info", "kube_pod_restart_policy", "kube_pod_runtimeclass_name_info",
    "kube_pod_scheduler", "kube_pod_service_account", "kube_pod_spec_volumes_persistentvolumeclaims_info",
    "kube_pod_spec_volumes_persistentvolumeclaims_readonly", "kube_pod_start_time",
    "kube_pod_status_container_ready_time", "kube_pod_status_disruption_reason", "kube_pod_status_initialized_time",
    "kube_pod_status_phase", "kube_pod_status_qos_class", "kube_pod_status_ready", "kube_pod_status_ready_time",
    "kube_pod_status_reason", "kube_pod_status_scheduled", "kube_pod_status_scheduled_time",
    "kube_pod_status_unschedulable", "kube_pod_status_unscheduled_time", "kube_pod_tolerations",
    "kube_statefulset_annotations", "kube_statefulset_created", "kube_statefulset_deletion_timestamp",
    "kube_statefulset_labels", "kube_statefulset_metadata_generation", "kube_statefulset_ordinals_start",
    "kube_statefulset_persistentvolumeclaim_retention_policy", "kube_statefulset_replicas",
    "kube_statefulset_status_current_revision", "kube_statefulset_status_observed_generation",
    "kube_statefulset_status_replicas", "kube_statefulset_status_replicas_available",
    "kube_statefulset_status_replicas_current", "kube_statefulset_status_replicas_ready",
    "kube_statefulset_status_replicas_updated", "kube_statefulset_status_update_revision",
})

BARMAN_CLOUD_PLUGIN = frozenset({
    f"barman_cloud_cloudnative_pg_io_{name}"
    for name in ("first_recoverability_point", "last_available_backup_timestamp", "last_failed_backup_timestamp")
})
