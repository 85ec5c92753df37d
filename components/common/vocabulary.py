"""The program's shared vocabulary (pure): the names that link objects to
each other and to the alerts and dashboards watching them. One home each:
rename something here and every object, alert and dashboard follows
(tests/components/observability/test_vocabulary.py fails if an alert or dashboard refers to a job or
recorded series that no rendered object produces)."""

from __future__ import annotations

from settings.cloudnativepg import POOLER_NAME
from settings.contract import PROJECT

# The app: its Kubernetes name, its container, and its scrape job. The
# ServiceMonitor takes the job from the metrics Service's
# app.kubernetes.io/name label, which is APP_NAME.
APP_NAME = PROJECT
CONTAINER_NAME = APP_NAME
APP_JOB = APP_NAME
# The dumps and the restore drill: CronJobs the backup alerts watch by name.
BACKUP_CRONJOB = f"{APP_NAME}-db-backup"
DRILL_CRONJOB = f"{APP_NAME}-restore-drill"
# Suspended: run by hand to list the dumps a restore can name.
LIST_DUMPS_CRONJOB = f"{APP_NAME}-list-dumps"
# The on-call's debugging pod (toolbox.enabled): its own name label, never the app's.
TOOLBOX = f"{APP_NAME}-toolbox"
# The container port the Services, probes, scrapes and policies name.
APP_PORT = 3000


def exporter_name(kind: str) -> str:
    """Name of a data store's exporter: Deployment, Service and scrape job
    (prometheus-operator names a job after the Service unless told otherwise)."""
    return f"{APP_NAME}-{kind}-exporter"


POSTGRES_EXPORTER = exporter_name("postgres")
REDIS_EXPORTER = exporter_name("redis")


class Recorded:
    """Series the PrometheusRule records, which alerts and dashboards read."""

    HTTP_REQUESTS_RATE = "monad_synapse:http_requests:rate5m"
    HTTP_P95_SECONDS = "monad_synapse:http_request_duration_seconds:p95_rate5m"
    ACTIVE_USERS = "monad_synapse:active_users"
    GAME_RESULTS_RATE = "monad_synapse:game_results:rate5m"
    BETS_RATE = "monad_synapse:bets:rate5m"
    PROCESS_CPU_RATE = "monad_synapse:process_cpu_seconds:rate5m"
    # The runbook's infrastructure queries, under the names it uses.
    POSTGRES_ACTIVE = "postgresql_connections_active"
    POSTGRES_IDLE = "postgresql_connections_idle"
    REDIS_HIT_RATE = "redis_hit_rate"
    REDIS_MEMORY = "redis_memory_usage_bytes"

    @staticmethod
    def error_ratio(window: str) -> str:
        return f"monad_synapse:http_requests:error_ratio_rate{window}"


# The promotion analysis Job's pods (the app's NetworkPolicy lets them in).
PROMOTION_ANALYSIS = f"{APP_NAME}-promotion-analysis"

# The in-cluster database (database.kind cloudnativepg). The cluster's own
# name is a setting (a point-in-time recovery creates a new one); each
# cluster has its own Pooler, <cluster>-pooler-rw (database_access.py): the
# default cluster's is the runbook's name, and names the PodMonitor and the
# poolers' NetworkPolicy whichever cluster serves.
DATABASE_POOLER = POOLER_NAME
DATABASE_OBJECT_STORE = "monad-synapse-db-store"
DATABASE_SOURCE_STORE = "monad-synapse-db-source-store"
DATABASE_S3_SECRET = "monad-synapse-db-s3"
DATABASE_INSTANCES_MONITOR = "monad-synapse-db"
DATABASE_POOLER_MONITOR = DATABASE_POOLER
# The Gateway's Envoy proxies (gateway mode): their own metrics, scraped by a
# PodMonitor of this name, so an edge that fails while the app is healthy pages.
EDGE_PROXIES_MONITOR = f"{APP_NAME}-edge"
# Envoy Gateway labels the proxy pods of a Gateway with it
# (internal/infrastructure/kubernetes/proxy/resource_provider.go) and serves
# Envoy's stats on the `metrics` port (19001) at /stats/prometheus.
OWNING_GATEWAY_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNING_GATEWAY_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"


def pod_monitor_job(namespace: str, name: str) -> str:
    """The `job` label of a PodMonitor's targets without a jobLabel:
    `<namespace>/<PodMonitor name>` (prometheus-operator)."""
    return f"{namespace}/{name}"
