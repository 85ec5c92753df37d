"""Every alert, with its expression, severity and words (pure). The runbook's
"Alert Severities" with its thresholds as config defaults, plus what the rest
of the program needs watched. Live-traffic alerts look at the active color
only (see alert_rules.py); the idle color has its own, quieter ones."""

from __future__ import annotations

from components.common.vocabulary import CONTAINER_NAME, POSTGRES_EXPORTER, REDIS_EXPORTER, Recorded
from components.observability.database_alerts import database_alerts
from components.observability.rule_context import Alert, RuleContext, cert_manager_series, label_matchers


def _burn(window_long: str, window_short: str, factor: float, budget: float, live: str) -> str:
    threshold = round(factor * budget, 6)
    return (
        f"({Recorded.error_ratio(window_long)}{{{live}}} > {threshold} "
        f"and {Recorded.error_ratio(window_short)}{{{live}}} > {threshold})"
    )


MAINTENANCE_ALERT = "MonadSynapseMaintenanceMode"


def _outside_maintenance(context: RuleContext, expr: str, window: str) -> str:
    """`expr`, quiet while maintenance mode is on and for `window` after it:
    the maintenance page answers 503 by design, and an error-ratio alert
    still sees those answers until they leave its shortest window. Read from
    the maintenance alert's own ALERTS series, which outlives the rule."""
    maintenance = label_matchers(alertname=MAINTENANCE_ALERT, alertstate="firing", namespace=context.namespace)
    return f"({expr}) unless on () max_over_time(ALERTS{{{maintenance}}}[{window}])"


# Share of the edge's answers that are rejections (429 rate limits, 403 allow
# lists, other 4xx) before a storm warns: normal traffic sees a few percent.
EDGE_REJECTION_RATIO = 0.25


def edge_alerts(context: RuleContext) -> list[Alert]:
    """The Gateway's Envoy proxies, from their own metrics (Envoy's HTTP
    connection manager stats: downstream_rq_total and downstream_rq_<N>xx,
    tagged envoy_response_code_class; source/common/config/well_known_names.cc)."""
    edge = label_matchers(job=context.edge_job)
    answers = f"sum(rate(envoy_http_downstream_rq_total{{{edge}}}[5m]))"

    def share(code_class: str) -> str:
        return (
            f'sum(rate(envoy_http_downstream_rq_xx{{{edge}, envoy_response_code_class="{code_class}"}}[5m])) '
            f"/ {answers}"
        )

    return [
        Alert(
            "MonadSynapseEdgeDown",
            f"(sum(up{{{edge}}}) or vector(0)) < 1 and on () (sum(up{{{context.live()}}}) or vector(0)) >= 1",
            "critical",
            "The edge is down while the app is up",
            "No Envoy proxy of the Gateway has answered a scrape for 2 minutes while the live color's pods are up: "
            "users cannot reach a healthy app.",
            "2m",
        ),
        Alert(
            "MonadSynapseEdgeErrors",
            f"{share('5')} > {context.alerting.error_ratio}",
            "warning",
            "The edge answers 5xx",
            "{{ $value | humanizePercentage }} of the edge's answers are 5xx over 5 minutes: failures the app's "
            "own metrics may not see (no healthy backend, timeouts, resets).",
            "5m",
        ),
        Alert(
            "MonadSynapseEdgeRejecting",
            f"{share('4')} > {EDGE_REJECTION_RATIO}",
            "warning",
            "The edge rejects many requests",
            "{{ $value | humanizePercentage }} of requests are rejected at the edge (429 rate limits, 403 allow "
            "lists, other 4xx) for 10 minutes: an attack being held off, or limits too tight for real traffic.",
            "10m",
        ),
    ]


def alerts(context: RuleContext) -> list[Alert]:
    thresholds = context.alerting
    app = context.app
    ns = context.in_namespace
    budget = context.error_budget
    live = context.recorded(context.active_color)
    percent = lambda ratio: f"{ratio * 100:g}%"  # noqa: E731
    result = [
        # --- critical: the runbook's "immediate response" list -------------------
        Alert(
            "MonadSynapseDown",
            f"(sum(up{{{context.live()}}}) or vector(0)) < 1",
            "critical",
            "Monad Synapse is down",
            f"No pod of the live color ({context.active_color}) in {context.namespace} has answered a scrape "
            "for 2 minutes.",
            "2m",
        ),
        Alert(
            "MonadSynapseDatabaseDown",
            # pg_up comes from the exporter, which runs one pod: while it
            # restarts there is no pg_up at all, and that is not the database
            # down (MonadSynapseDatabaseExporterDown says so, as a warning).
            f'max(pg_up{{job="{POSTGRES_EXPORTER}", {ns()}}}) < 1',
            "critical",
            "PostgreSQL is unavailable",
            "The PostgreSQL exporter runs but cannot reach the database, for 1 minute.",
            "1m",
        ),
        Alert(
            "MonadSynapseDatabaseExporterDown",
            f'(max(up{{job="{POSTGRES_EXPORTER}", {ns()}}}) or vector(0)) < 1',
            "warning",
            "The PostgreSQL exporter is not scraped",
            "No PostgreSQL exporter pod has answered a scrape for 5 minutes: database alerts that read pg_* "
            "metrics are blind meanwhile.",
            "5m",
        ),
        Alert(
            "MonadSynapseHighErrorRate",
            _outside_maintenance(context, f"{Recorded.error_ratio('5m')}{{{live}}} > {thresholds.error_ratio}", "5m"),
            "critical",
            f"More than {percent(thresholds.error_ratio)} of requests fail",
            "{{ $value | humanizePercentage }} of requests returned 5xx over 5 minutes, for 2 minutes.",
            "2m",
        ),
        Alert(
            "MonadSynapseSecurityBreach",
            f"sum by (namespace) (increase(security_events_total{{{app(severity='critical')}}}[5m])) > 0",
            "critical",
            "Security breach signal",
            "The app reported {{ $value }} critical security event(s) in the last 5 minutes.",
        ),
        Alert(
            "MonadSynapseWalletBalanceLow",
            f"min by (namespace, wallet) (wallet_balance{{{app()}}}) < {thresholds.wallet_balance_minimum:g}",
            "critical",
            "Wallet balance critically low",
            f"Wallet {{{{ $labels.wallet }}}} holds {{{{ $value }}}}, below {thresholds.wallet_balance_minimum:g}; payouts will fail.",
            "5m",
        ),
        Alert(
            "MonadSynapseErrorBudgetBurnFast",
            _outside_maintenance(
                context, f"{_burn('1h', '5m', 14.4, budget, live)} or {_burn('6h', '30m', 6, budget, live)}", "30m"
            ),
            "critical",
            f"Burning the {context.availability_objective:g}% availability budget fast",
            "At this error rate the 30-day error budget is gone within days (multi-window burn rate).",
            "2m",
        ),
        # --- warning: "response within 15 minutes" ---------------------------------
        Alert(
            "MonadSynapseHighLatency",
            f"{Recorded.HTTP_P95_SECONDS}{{{live}}} > {thresholds.latency_p95_seconds:g}",
            "warning",
            f"p95 latency above {thresholds.latency_p95_seconds:g}s",
            "95th percentile response time is {{ $value | humanizeDuration }} for 5 minutes.",
            "5m",
        ),
        Alert(
            "MonadSynapseHighCpu",
            f"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{{ns(container=CONTAINER_NAME)}}}[5m])) / "
            f"sum by (namespace, pod) (kube_pod_container_resource_limits{{{ns(container=CONTAINER_NAME, resource='cpu')}}}) "
            f"> {thresholds.resource_utilization}",
            "warning",
            f"CPU above {percent(thresholds.resource_utilization)} of the limit",
            "Pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its CPU limit for 10 minutes.",
            "10m",
        ),
        Alert(
            "MonadSynapseHighMemory",
            f"sum by (namespace, pod) (container_memory_working_set_bytes{{{ns(container=CONTAINER_NAME)}}}) / "
            f"sum by (namespace, pod) (kube_pod_container_resource_limits{{{ns(container=CONTAINER_NAME, resource='memory')}}}) "
            f"> {thresholds.resource_utilization}",
            "warning",
            f"Memory above {percent(thresholds.resource_utilization)} of the limit",
            "Pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit for 10 minutes.",
            "10m",
        ),
        Alert(
            "MonadSynapseUnusualGameResults",
            f"sum by (namespace, game) (rate(game_results_total{{{app(result='win')}}}[30m])) / "
            f"sum by (namespace, game) (rate(game_results_total{{{app()}}}[30m])) > {thresholds.game_win_ratio_maximum}",
            "warning",
            "Unusual game results",
            f"Players win {{{{ $value | humanizePercentage }}}} of {{{{ $labels.game }}}} rounds over 30 minutes "
            f"(more than {percent(thresholds.game_win_ratio_maximum)}): check the game and for abuse.",
            "15m",
        ),
        Alert(
            "MonadSynapseHighAuthFailureRate",
            f"sum by (namespace) (rate(auth_failures_total{{{app()}}}[5m])) > {thresholds.auth_failures_per_second:g}",
            "warning",
            "High authentication failure rate",
            "{{ $value | humanize }} failed logins per second for 5 minutes: credential stuffing?",
            "5m",
        ),
        Alert(
            "MonadSynapseErrorBudgetBurnSlow",
            _outside_maintenance(
                context, f"{_burn('1d', '2h', 3, budget, live)} or {_burn('3d', '6h', 1, budget, live)}", "6h"
            ),
            "warning",
            f"Burning the {context.availability_objective:g}% availability budget",
            "The error rate, sustained, would exhaust the 30-day error budget (slow multi-window burn).",
            "15m",
        ),
        Alert(
            "MonadSynapseRedisDown",
            f'(max(redis_up{{job="{REDIS_EXPORTER}", {ns()}}}) or vector(0)) < 1',
            "warning",
            "Redis is unavailable",
            "The Redis exporter cannot reach Redis (or is itself down) for 2 minutes; sessions and caches fail.",
            "2m",
        ),
        Alert(
            "MonadSynapseHpaAtMaximum",
            f"max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{{{ns()}}}) "
            f">= max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{{{ns()}}}) "
            # The idle color's HPA is pinned (min == max): never "at maximum".
            f"and max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{{{ns()}}}) "
            f"> max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_min_replicas{{{ns()}}})",
            "warning",
            "Autoscaler at its maximum",
            "{{ $labels.horizontalpodautoscaler }} has run at maxReplicas for 15 minutes; raise autoscaling.maxReplicas.",
            "15m",
        ),
        Alert(
            "MonadSynapsePodCrashLooping",
            f"max by (namespace, pod) (kube_pod_container_status_waiting_reason{{{ns(container=CONTAINER_NAME, reason='CrashLoopBackOff')}}}) == 1",
            "warning",
            "Pod crash-looping",
            "Pod {{ $labels.pod }} has been in CrashLoopBackOff for 5 minutes.",
            "5m",
        ),
        Alert(
            "MonadSynapseCertificateExpiring",
            f"min by (name) ({cert_manager_series('certmanager_certificate_expiration_timestamp_seconds', context.namespace, name=context.certificate_name)}) "
            f"- time() < {thresholds.certificate_expiry_days} * 86400",
            "warning",
            "TLS certificate expires soon",
            f"Certificate {{{{ $labels.name }}}} expires in {{{{ $value | humanizeDuration }}}} "
            f"(under {thresholds.certificate_expiry_days} days) and cert-manager has not renewed it.",
            "1h",
        ),
        Alert(
            "MonadSynapseCertificateNotReady",
            f"max by (name) ({cert_manager_series('certmanager_certificate_ready_status', context.namespace, name=context.certificate_name, condition='False')}) == 1",
            "warning",
            "TLS certificate not ready",
            "cert-manager reports {{ $labels.name }} not ready for 15 minutes: issuance or renewal is failing.",
            "15m",
        ),
        # --- info: "monitor and plan" ---------------------------------------------
        Alert(
            "MonadSynapseDeployment",
            # A rollout makes a new ReplicaSet; a scale step (the HPA) only
            # changes spec.replicas, which bumps the generation too.
            "min by (namespace, deployment) (label_replace(time() - ("
            f"kube_replicaset_created{{{ns()}}} * on (namespace, replicaset) group_left (owner_name) "
            f"kube_replicaset_owner{{{ns(owner_kind='Deployment', owner_name='=~monad-synapse-(blue|green)')}}}"
            '), "deployment", "$1", "owner_name", "(.+)")) < 600',
            "info",
            "Deployment rolled out",
            "{{ $labels.deployment }} rolled out new pods in the last 10 minutes.",
        ),
        Alert(
            "MonadSynapsePerformanceTrend",
            f"avg_over_time({Recorded.HTTP_P95_SECONDS}{{{live}}}[1h]) > 1.5 * "
            f"avg_over_time({Recorded.HTTP_P95_SECONDS}{{{live}}}[1h] offset 1d)",
            "info",
            "Latency trending up",
            "p95 latency over the last hour is more than 1.5x the same hour yesterday.",
            "30m",
        ),
    ]
    # --- the idle color: its own, quieter alerts ------------------------------------
    idle = context.recorded(context.idle_color)
    if context.idle_expected:
        result.append(
            Alert(
                "MonadSynapsePreviewDown",
                f"(sum(up{{{context.idle()}}}) or vector(0)) < 1",
                "warning",
                "The idle color is down",
                f"No pod of the idle color ({context.idle_color}) has answered a scrape for 5 minutes: a switch or "
                "rollback would have nowhere warm to go.",
                "5m",
            )
        )
    result.append(
        Alert(
            "MonadSynapsePreviewHighErrorRate",
            f"{Recorded.error_ratio('5m')}{{{idle}}} > {thresholds.error_ratio}",
            "info",
            f"The idle color fails more than {percent(thresholds.error_ratio)} of preview requests",
            "{{ $value | humanizePercentage }} of requests to the idle color returned 5xx over 5 minutes: "
            "check the release before switching to it.",
            "5m",
        )
    )
    if context.analysis_skipped:
        result.append(
            Alert(
                "MonadSynapsePromotionAnalysisSkipped",
                "vector(1)",
                "info",
                "Promotion analysis is skipped",
                "promotion.skipAnalysis is true for this stack: a switch moves live traffic without evidence that "
                "the new color is healthy. Set it back with pulumi config set --path promotion.skipAnalysis false.",
            )
        )
    if context.analysis_disabled:
        result.append(
            Alert(
                "MonadSynapsePromotionAnalysisDisabled",
                "vector(1)",
                "info",
                "Promotion analysis is turned off",
                "promotion.analysis.enabled is false for this stack: every switch moves live traffic without evidence "
                "that the new color is healthy. Turn it back on with pulumi config set --path "
                "promotion.analysis.enabled true.",
            )
        )
    if context.edge_job:
        result += edge_alerts(context)
    if context.maintenance_mode:
        result.append(
            Alert(
                MAINTENANCE_ALERT,
                "vector(1)",
                "info",
                "Maintenance mode is on",
                "maintenanceMode is true for this stack: users see the maintenance page. "
                "Turn it off with pulumi config set maintenanceMode false.",
            )
        )
    if context.backup_cronjob and context.backup_max_age_seconds:
        job, max_age = context.backup_cronjob, context.backup_max_age_seconds
        last_success = f"max(kube_cronjob_status_last_successful_time{{{ns(cronjob=job)}}})"
        result += [
            Alert(
                "MonadSynapseBackupFailed",
                f"{_latest_failed_job(context, job)} > ({last_success} or vector(0))",
                "critical",
                "Database backup failed",
                "The most recent backup job failed and no backup has succeeded since; see its logs "
                f"(kubectl logs job/<name> -n {context.namespace}).",
            ),
            Alert(
                "MonadSynapseBackupStale",
                f"time() - {last_success} > {max_age}",
                "critical",
                "No recent successful database backup",
                f"The last successful backup is {{{{ $value | humanizeDuration }}}} old: more than the schedule's "
                f"longest gap plus the job deadline and a margin ({max_age}s).",
            ),
            Alert(
                "MonadSynapseBackupNeverSucceeded",
                f"time() - max(kube_cronjob_created{{{ns(cronjob=job)}}}) > {max_age} unless on () {last_success}",
                "critical",
                "Database backup has never succeeded",
                "The backup CronJob has existed longer than its schedule plus margin without one successful run.",
            ),
        ]
    if context.restore_drill_cronjob:
        drill = context.restore_drill_cronjob
        result.append(
            Alert(
                "MonadSynapseRestoreDrillFailed",
                f"{_latest_failed_job(context, drill)} > "
                f"(max(kube_cronjob_status_last_successful_time{{{ns(cronjob=drill)}}}) or vector(0))",
                "critical",
                "Restore drill failed",
                "The newest dump could not be restored into a scratch database: backups may be unusable.",
            )
        )
    if context.database is not None:
        result += database_alerts(context, context.database)
    return result


def _latest_failed_job(context: RuleContext, cronjob: str) -> str:
    """Creation time of the newest failed Job of a CronJob (0 when none failed).
    Failed Jobs linger for their history limit, so a failure only matters if
    it is newer than the last success."""
    jobs = context.in_namespace(job_name=f"=~{cronjob}-[0-9]+")
    return (
        f"max(kube_job_created{{{jobs}}} * on (namespace, job_name) group_left () "
        f"(max by (namespace, job_name) (kube_job_status_failed{{{jobs}}}) > bool 0))"
    )
