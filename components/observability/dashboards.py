"""The runbook's five Grafana dashboards, built with Grafana's foundation SDK
(pure functions returning dashboard JSON models)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Optional

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from components.common.vocabulary import APP_JOB, CONTAINER_NAME, POSTGRES_EXPORTER, Recorded
from components.observability.database_alerts import CLUSTER_LABEL, PLUGIN_METRICS, ROLE_LABEL
from components.observability.rule_context import DatabaseWatch, cert_manager_series

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")


@dataclass(frozen=True)
class DashboardContext:
    namespace: str
    availability_objective: float  # percent
    # Live-traffic panels show the color serving it (a switch updates the dashboards).
    live_color: str = "blue"
    # The in-cluster database's row (None with the external database).
    database: Optional[DatabaseWatch] = None
    # The Gateway's Envoy proxies' scrape job (gateway mode): edge rejections.
    edge_job: Optional[str] = None

    @property
    def live(self) -> str:
        """Matchers of the live color's recorded series."""
        return f'namespace="{self.namespace}", color="{self.live_color}"'


def _query(expr: str, legend: str = "") -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    return query.legend_format(legend) if legend else query


def _series(title: str, unit: str, *queries: prometheus.Dataquery) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(12)
    for query in queries:
        panel = panel.with_target(query)
    return panel


def _stat(title: str, unit: str, query: prometheus.Dataquery) -> stat.Panel:
    return stat.Panel().title(title).unit(unit).datasource(DATASOURCE).height(4).span(6).with_target(query)


def _base(title: str, uid: str, context: DashboardContext) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(["monad-synapse", context.namespace])
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(dashboard.DatasourceVariable("datasource").type("prometheus").label("Data source"))
    )


def application_overview(context: DashboardContext) -> dashboard.Dashboard:
    ns = context.namespace
    app = f'job="{APP_JOB}", namespace="{ns}"'
    return (
        _base("Monad Synapse / Application Overview", f"monad-synapse-app-{ns}", context)
        .with_row(dashboard.Row("Health"))
        .with_panel(_stat("Pods up", "none", _query(f"sum(up{{{app}}})")))
        .with_panel(_stat("Requests/s", "reqps", _query(f"{Recorded.HTTP_REQUESTS_RATE}{{{context.live}}}")))
        .with_panel(_stat("Error ratio", "percentunit", _query(f"{Recorded.error_ratio('5m')}{{{context.live}}}")))
        .with_panel(_stat("Active users", "none", _query(f'{Recorded.ACTIVE_USERS}{{namespace="{ns}"}}')))
        .with_row(dashboard.Row("Traffic"))
        .with_panel(
            _series(
                "Request rate by status",
                "reqps",
                _query(f"sum by (status) (rate(http_requests_total{{{app}}}[5m]))", "{{status}}"),
            )
        )
        .with_panel(
            _series(
                "Response time",
                "s",
                *(
                    _query(
                        f"histogram_quantile({quantile}, sum by (le) (rate(http_request_duration_seconds_bucket{{{app}}}[5m])))",
                        f"p{int(quantile * 100)}",
                    )
                    for quantile in (0.5, 0.95, 0.99)
                ),
            )
        )
        .with_panel(
            _series("5xx error ratio", "percentunit", _query(f"{Recorded.error_ratio('5m')}{{{context.live}}}", "5xx"))
        )
        .with_panel(
            _series(
                "Pods by color",
                "none",
                _query(
                    f'count by (color) (label_replace(up{{{app}}}, "color", "$1", "pod", "monad-synapse-(blue|green)-.*"))',
                    "{{color}}",
                ),
            )
        )
    )


def _database_row(board: dashboard.Dashboard, context: DashboardContext) -> dashboard.Dashboard:
    """The in-cluster database: archiving against the RPO, base backups,
    replication, instances and the pooler."""
    watch = context.database
    if watch is None:
        return board
    ns = context.namespace
    instances = f'job="{watch.instances_job}", namespace="{ns}"'
    primary = f'{instances}, {ROLE_LABEL}="primary"'
    return (
        board.with_row(dashboard.Row("Database (CloudNativePG)"))
        .with_panel(
            _series(
                f"Seconds since last archived WAL (RPO {watch.rpo_seconds}s)",
                "s",
                _query(
                    f"max by ({CLUSTER_LABEL}) (cnpg_pg_stat_archiver_seconds_since_last_archival{{{primary}}})",
                    f"{{{{{CLUSTER_LABEL}}}}}",
                ),
                _query(f"vector({watch.rpo_seconds})", "RPO"),
            )
        )
        .with_panel(
            _series(
                "WAL segments waiting to be archived",
                "none",
                _query(
                    f'max by ({CLUSTER_LABEL}) (cnpg_collector_pg_wal_archive_status{{{primary}, value="ready"}})',
                    f"{{{{{CLUSTER_LABEL}}}}}",
                ),
            )
        )
        .with_panel(
            _series(
                "Age of the newest base backup",
                "s",
                _query(
                    f"time() - max by ({CLUSTER_LABEL}) ({PLUGIN_METRICS}_last_available_backup_timestamp{{{primary}}} > 0)",
                    f"{{{{{CLUSTER_LABEL}}}}}",
                ),
            )
        )
        .with_panel(
            _series("Replication lag", "s", _query(f"max by (pod) (cnpg_pg_replication_lag{{{instances}}})", "{{pod}}"))
        )
        .with_panel(
            _series(
                f"Instances up (of {watch.instances})",
                "none",
                _query(f"sum by ({CLUSTER_LABEL}) (cnpg_collector_up{{{instances}}})", f"{{{{{CLUSTER_LABEL}}}}}"),
            )
        )
        .with_panel(
            _series(
                "PgBouncer pods up",
                "none",
                # No cnpg_pgbouncer_up is exported: answering pods whose PgBouncer answered too.
                _query(
                    f'count(up{{job="{watch.pooler_job}", namespace="{ns}"}} == 1 unless on (pod) '
                    f'cnpg_pgbouncer_last_collection_error{{job="{watch.pooler_job}", namespace="{ns}"}} == 1)',
                    "pooler",
                ),
            )
        )
    )


def infrastructure(context: DashboardContext) -> dashboard.Dashboard:
    ns = context.namespace
    container = f'namespace="{ns}", container="{CONTAINER_NAME}"'
    return _database_row(
        _base("Monad Synapse / Infrastructure", f"monad-synapse-infra-{ns}", context)
        .with_row(dashboard.Row("Pods"))
        .with_panel(
            _series(
                "CPU used / limit",
                "percentunit",
                _query(
                    f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{container}}}[5m])) / "
                    f'sum by (pod) (kube_pod_container_resource_limits{{{container}, resource="cpu"}})',
                    "{{pod}}",
                ),
            )
        )
        .with_panel(
            _series(
                "Memory used / limit",
                "percentunit",
                _query(
                    f"sum by (pod) (container_memory_working_set_bytes{{{container}}}) / "
                    f'sum by (pod) (kube_pod_container_resource_limits{{{container}, resource="memory"}})',
                    "{{pod}}",
                ),
            )
        )
        .with_panel(
            _series(
                "Process CPU (runbook)", "cores", _query(f'{Recorded.PROCESS_CPU_RATE}{{namespace="{ns}"}}', "{{pod}}")
            )
        )
        .with_panel(
            _series(
                "Resident memory (runbook)",
                "bytes",
                _query(f'process_resident_memory_bytes{{job="{APP_JOB}", namespace="{ns}"}}', "{{pod}}"),
            )
        )
        .with_row(dashboard.Row("Capacity"))
        .with_panel(
            _series(
                "HPA replicas",
                "none",
                _query(
                    f'kube_horizontalpodautoscaler_status_current_replicas{{namespace="{ns}"}}',
                    "{{horizontalpodautoscaler}} current",
                ),
                _query(
                    f'kube_horizontalpodautoscaler_spec_max_replicas{{namespace="{ns}"}}',
                    "{{horizontalpodautoscaler}} max",
                ),
            )
        )
        .with_panel(
            _series(
                "Restarts (15m)",
                "none",
                _query(
                    f"sum by (pod) (increase(kube_pod_container_status_restarts_total{{{container}}}[15m]))", "{{pod}}"
                ),
            )
        )
        .with_row(dashboard.Row("Data stores"))
        .with_panel(
            _series(
                "PostgreSQL connections",
                "none",
                _query(f'{Recorded.POSTGRES_ACTIVE}{{namespace="{ns}"}}', "active"),
                _query(f'{Recorded.POSTGRES_IDLE}{{namespace="{ns}"}}', "idle"),
            )
        )
        .with_panel(
            _series("PostgreSQL up", "none", _query(f'pg_up{{job="{POSTGRES_EXPORTER}", namespace="{ns}"}}', "pg_up"))
        )
        .with_panel(
            _series(
                "Redis hit rate", "percentunit", _query(f'{Recorded.REDIS_HIT_RATE}{{namespace="{ns}"}}', "hit rate")
            )
        )
        .with_panel(_series("Redis memory", "bytes", _query(f'{Recorded.REDIS_MEMORY}{{namespace="{ns}"}}', "used"))),
        context,
    )


def business_metrics(context: DashboardContext) -> dashboard.Dashboard:
    ns = context.namespace
    app = f'job="{APP_JOB}", namespace="{ns}"'
    return (
        _base("Monad Synapse / Business Metrics", f"monad-synapse-business-{ns}", context)
        .with_panel(_stat("Active users", "none", _query(f'{Recorded.ACTIVE_USERS}{{namespace="{ns}"}}')))
        .with_panel(_stat("Bets/s", "none", _query(f'{Recorded.BETS_RATE}{{namespace="{ns}"}}')))
        .with_panel(_stat("Games/s", "none", _query(f'{Recorded.GAME_RESULTS_RATE}{{namespace="{ns}"}}')))
        .with_panel(_stat("Lowest wallet balance", "none", _query(f"min(wallet_balance{{{app}}})")))
        .with_panel(
            _series(
                "Game results by game and result",
                "none",
                _query(f"sum by (game, result) (rate(game_results_total{{{app}}}[5m]))", "{{game}} {{result}}"),
            )
        )
        .with_panel(
            _series(
                "Player win ratio by game",
                "percentunit",
                _query(
                    f'sum by (game) (rate(game_results_total{{{app}, result="win"}}[30m])) / sum by (game) (rate(game_results_total{{{app}}}[30m]))',
                    "{{game}}",
                ),
            )
        )
        .with_panel(_series("Bets per second", "none", _query(f"sum(rate(bets_total{{{app}}}[5m]))", "bets")))
        .with_panel(_series("Wallet balances", "none", _query(f"wallet_balance{{{app}}}", "{{wallet}}")))
    )


def security(context: DashboardContext) -> dashboard.Dashboard:
    ns = context.namespace
    app = f'job="{APP_JOB}", namespace="{ns}"'
    board = (
        _base("Monad Synapse / Security", f"monad-synapse-security-{ns}", context)
        .with_panel(
            _series(
                "Authentication failures/s", "none", _query(f"sum(rate(auth_failures_total{{{app}}}[5m]))", "failures")
            )
        )
        .with_panel(
            _series(
                "Security events by severity",
                "none",
                _query(f"sum by (severity) (increase(security_events_total{{{app}}}[5m]))", "{{severity}}"),
            )
        )
        .with_panel(
            _series(
                "401/403 responses",
                "reqps",
                _query(f'sum by (status) (rate(http_requests_total{{{app}, status=~"401|403"}}[5m]))', "{{status}}"),
            )
        )
        .with_panel(
            _series(
                "Rate-limited responses (429)",
                "reqps",
                _query(f'sum(rate(http_requests_total{{{app}, status="429"}}[5m]))', "429"),
            )
        )
        .with_panel(
            _series(
                "Certificate days left",
                "d",
                _query(
                    f"(min by (name) ({cert_manager_series('certmanager_certificate_expiration_timestamp_seconds', ns)})"
                    " - time()) / 86400",
                    "{{name}}",
                ),
            )
        )
    )
    if context.edge_job:
        edge = f'job="{context.edge_job}"'
        board = board.with_panel(
            _series(
                "Rejected at the edge (Envoy, by class)",
                "reqps",
                _query(
                    f"sum by (envoy_response_code_class) (rate(envoy_http_downstream_rq_xx{{{edge}, "
                    'envoy_response_code_class=~"4|5"}[5m]))',
                    "{{envoy_response_code_class}}xx",
                ),
            )
        )
    return board


def sli_slo(context: DashboardContext) -> dashboard.Dashboard:
    ns = context.namespace
    budget = 1 - context.availability_objective / 100
    windows = ("5m", "1h", "6h", "1d", "3d")
    return (
        _base("Monad Synapse / SLI and SLO", f"monad-synapse-slo-{ns}", context)
        .with_panel(_stat("Availability objective", "percent", _query(f"vector({context.availability_objective})")))
        .with_panel(
            _stat("Availability, 3 days", "percentunit", _query(f"1 - {Recorded.error_ratio('3d')}{{{context.live}}}"))
        )
        .with_panel(
            _stat(
                "Error budget burn rate, 1h",
                "none",
                _query(f"{Recorded.error_ratio('1h')}{{{context.live}}} / {budget:g}"),
            )
        )
        .with_panel(_stat("p95 latency", "s", _query(f"{Recorded.HTTP_P95_SECONDS}{{{context.live}}}")))
        .with_panel(
            _series(
                "Burn rate by window",
                "none",
                *(
                    _query(f"{Recorded.error_ratio(window)}{{{context.live}}} / {budget:g}", window)
                    for window in windows
                ),
            )
        )
        .with_panel(
            _series(
                "Error ratio (SLI)",
                "percentunit",
                _query(f"{Recorded.error_ratio('5m')}{{{context.live}}}", "5xx ratio"),
            )
        )
    )


DASHBOARDS: dict[str, Callable[[DashboardContext], dashboard.Dashboard]] = {
    "application-overview": application_overview,
    "infrastructure": infrastructure,
    "business-metrics": business_metrics,
    "security": security,
    "sli-slo": sli_slo,
}


def dashboard_json(slug: str, context: DashboardContext) -> str:
    """Deterministic JSON of one dashboard."""
    return json.dumps(DASHBOARDS[slug](context).build(), cls=JSONEncoder, sort_keys=True, indent=1)
