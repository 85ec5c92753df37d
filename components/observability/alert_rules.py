"""Prometheus recording and alerting rules for the app (pure functions).

The alerts themselves are in alert_catalog.py, their inputs in
rule_context.py; this module records the runbook's series and assembles the
PrometheusRule's groups. Every
expression is scoped to the stack's namespace and the app's scrape job, and
every alert carries a static `namespace` label: prometheus-operator routes an
AlertmanagerConfig only alerts whose `namespace` label is its own.

The app's series carry a `color` label (blue or green), set at scrape time
from the pod's color label. Both colors always run, so live-traffic alerts
(down, error rate, latency, SLO burn) look at the active color only: losing
every live pod pages even while the idle color answers, and preview traffic
never counts against the SLO. The rules follow `activeColor` (a switch
updates the PrometheusRule); the idle color has its own, quieter alerts.
"""

from __future__ import annotations

from components.common.vocabulary import APP_JOB, POSTGRES_EXPORTER, REDIS_EXPORTER, Recorded
from components.observability.alert_catalog import alerts
from components.observability.rule_context import Alert, RuleContext, label_matchers, runbook_url

__all__ = [
    "ALERTS_GROUP",
    "RECORDS_GROUP",
    "SLO_WINDOWS",
    "Alert",
    "RuleContext",
    "alerts",
    "label_matchers",
    "recording_rules",
    "rule_groups",
    "runbook_url",
]

# Windows of the multi-window, multi-burn-rate SLO alerts (Google SRE workbook, ch. 5).
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


def recording_rules(context: RuleContext) -> list[dict]:
    """The runbook's "Key Metrics to Monitor", recorded, plus SLO error ratios."""
    app = context.app
    ns = context.in_namespace
    records = [
        # Traffic series per color: the alerts pick the live one.
        (Recorded.HTTP_REQUESTS_RATE, f"sum by (namespace, color) (rate(http_requests_total{{{app()}}}[5m]))"),
        (
            Recorded.HTTP_P95_SECONDS,
            "histogram_quantile(0.95, sum by (namespace, color, le) "
            f"(rate(http_request_duration_seconds_bucket{{{app()}}}[5m])))",
        ),
        (Recorded.ACTIVE_USERS, f"sum by (namespace) (active_users_gauge{{{app()}}})"),
        (Recorded.GAME_RESULTS_RATE, f"sum by (namespace) (rate(game_results_total{{{app()}}}[5m]))"),
        (Recorded.BETS_RATE, f"sum by (namespace) (rate(bets_total{{{app()}}}[5m]))"),
        (Recorded.PROCESS_CPU_RATE, f"sum by (namespace, pod) (rate(process_cpu_seconds_total{{{app()}}}[5m]))"),
        # The runbook's infrastructure queries, under the names it uses.
        (
            Recorded.POSTGRES_ACTIVE,
            f'sum by (namespace) (pg_stat_activity_count{{job="{POSTGRES_EXPORTER}", {ns(state="active")}}})',
        ),
        (
            Recorded.POSTGRES_IDLE,
            f'sum by (namespace) (pg_stat_activity_count{{job="{POSTGRES_EXPORTER}", {ns(state="idle")}}})',
        ),
        (
            Recorded.REDIS_HIT_RATE,
            f'sum by (namespace) (rate(redis_keyspace_hits_total{{job="{REDIS_EXPORTER}", {ns()}}}[5m])) / '
            f'(sum by (namespace) (rate(redis_keyspace_hits_total{{job="{REDIS_EXPORTER}", {ns()}}}[5m])) + '
            f'sum by (namespace) (rate(redis_keyspace_misses_total{{job="{REDIS_EXPORTER}", {ns()}}}[5m])))',
        ),
        (
            Recorded.REDIS_MEMORY,
            f'sum by (namespace) (redis_memory_used_bytes{{job="{REDIS_EXPORTER}", {ns()}}})',
        ),
    ]
    for window in SLO_WINDOWS:
        records.append(
            (
                Recorded.error_ratio(window),
                f"sum by (namespace, color) (rate(http_requests_total{{{app(status='=~5..')}}}[{window}])) / "
                f"sum by (namespace, color) (rate(http_requests_total{{{app()}}}[{window}]))",
            )
        )
    return [{"record": name, "expr": expr} for name, expr in records]


RECORDS_GROUP = "monad-synapse.records"
ALERTS_GROUP = "monad-synapse.alerts"


def rule_groups(context: RuleContext) -> list[dict]:
    """The PrometheusRule `spec.groups`: RECORDS_GROUP, then ALERTS_GROUP."""
    alert_rules = [
        {
            "alert": alert.name,
            "expr": alert.expr,
            **({"for": alert.duration} if alert.duration != "0m" else {}),
            "labels": {
                "severity": alert.severity,
                "namespace": context.namespace,
                "service": APP_JOB,
                **alert.extra_labels,
            },
            "annotations": {
                "summary": alert.summary,
                "description": alert.description,
                "runbook_url": runbook_url(context, alert),
            },
        }
        for alert in alerts(context)
    ]
    return [
        {"name": RECORDS_GROUP, "interval": "30s", "rules": recording_rules(context)},
        {"name": ALERTS_GROUP, "rules": alert_rules},
    ]
