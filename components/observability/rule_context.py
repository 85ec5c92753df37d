"""What the alert rules are built from (pure): the stack's facts, label
matchers, and the shape of one alert."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from components.common.vocabulary import (
    APP_JOB,
    DATABASE_INSTANCES_MONITOR,
    DATABASE_POOLER_MONITOR,
    pod_monitor_job,
)
from settings import Alerting, Monitoring, Settings


def label_matchers(**matchers: str) -> str:
    """PromQL matchers; a value starting with `=~` is a regex match:
    label_matchers(job="app", status="=~5..") -> 'job="app", status=~"5.."'."""
    parts = []
    for name, value in matchers.items():
        operator, value = ("=~", value[2:]) if value.startswith("=~") else ("=", value)
        parts.append(f'{name}{operator}"{value}"')
    return ", ".join(parts)


def cert_manager_series(metric: str, namespace: str, **matchers: str) -> str:
    """A cert-manager series of a certificate in `namespace`, under either
    scrape shape. cert-manager's own ServiceMonitor (its chart's default)
    keeps the target's labels, so the certificate's namespace arrives as
    `exported_namespace` and `namespace` is cert-manager's; with honorLabels
    it arrives as `namespace` (and there is no `exported_namespace`)."""
    exported = label_matchers(exported_namespace=namespace, **matchers)
    honored = label_matchers(namespace=namespace, exported_namespace="", **matchers)
    return f"{metric}{{{exported}}} or {metric}{{{honored}}}"


@dataclass(frozen=True)
class DatabaseWatch:
    """What the in-cluster database's alerts and dashboard row watch."""

    instances_job: str  # the instances' PodMonitor job
    pooler_job: str  # the pooler's PodMonitor job
    serving_cluster: str  # the cluster the app uses
    instances: int
    rpo_seconds: int
    # No base backup for longer than this (schedule gap plus a margin) alerts.
    base_backup_stale_after_seconds: int
    replication_lag_seconds: int
    # A DR site (a replica cluster): its designated primary replays the other
    # site's archive, and every instance applies WAL min_apply_delay late.
    replica_site: bool = False
    min_apply_delay_seconds: int = 0

    @classmethod
    def of(cls, settings: Settings) -> Optional[DatabaseWatch]:
        """What to watch of the in-cluster database; None for the external
        one (its exporter's alerts watch it)."""
        database = settings.database
        if not database.is_cloudnativepg:
            return None
        return cls(
            instances_job=pod_monitor_job(settings.namespace, DATABASE_INSTANCES_MONITOR),
            pooler_job=pod_monitor_job(settings.namespace, DATABASE_POOLER_MONITOR),
            serving_cluster=database.serving_cluster_name,
            instances=database.cloudnativepg.instances,
            rpo_seconds=database.rpo_seconds,
            base_backup_stale_after_seconds=database.cloudnativepg.backup.stale_after_seconds,
            replication_lag_seconds=database.cloudnativepg.replication_lag_seconds,
            replica_site=database.replica.is_replica,
            min_apply_delay_seconds=database.replica.min_apply_delay_seconds,
        )


@dataclass(frozen=True)
class RuleContext:
    namespace: str
    monitoring: Monitoring
    certificate_name: str
    maintenance_mode: bool
    active_color: str = "blue"
    idle_color: str = "green"
    # The idle color should have pods (idleReplicas above 0): its absence alerts.
    idle_expected: bool = True
    # promotion.skipAnalysis is set: switches move traffic without evidence.
    analysis_skipped: bool = False
    analysis_disabled: bool = False
    # Backup jobs (None until backups are configured).
    backup_cronjob: Optional[str] = None
    restore_drill_cronjob: Optional[str] = None
    backup_max_age_seconds: Optional[int] = None
    # The in-cluster database (None with the external one).
    database: Optional[DatabaseWatch] = None
    # The scrape job of the Gateway's Envoy proxies (gateway mode), else None.
    edge_job: Optional[str] = None

    def app(self, **matchers: str) -> str:
        """Label matchers of the app's own metrics, plus `matchers`."""
        return label_matchers(job=APP_JOB, namespace=self.namespace, **matchers)

    def live(self, **matchers: str) -> str:
        """Label matchers of the live color's own metrics."""
        return self.app(color=self.active_color, **matchers)

    def idle(self, **matchers: str) -> str:
        """Label matchers of the idle color's own metrics."""
        return self.app(color=self.idle_color, **matchers)

    def recorded(self, color: str) -> str:
        """Matchers of a recorded per-color series."""
        return label_matchers(namespace=self.namespace, color=color)

    def in_namespace(self, **matchers: str) -> str:
        """Label matchers of anything in the stack's namespace, plus `matchers`."""
        return label_matchers(namespace=self.namespace, **matchers)

    @property
    def alerting(self) -> Alerting:
        return self.monitoring.alerts

    @property
    def availability_objective(self) -> float:
        """Percent, e.g. 99.9."""
        return self.monitoring.availability_objective

    @property
    def error_budget(self) -> float:
        return round(1 - self.availability_objective / 100, 6)


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    severity: str  # critical | warning | info
    summary: str
    description: str
    duration: str = "0m"
    extra_labels: dict = field(default_factory=dict)

    def anchor(self) -> str:
        """Anchor of the alert's section in docs/alerts.md."""
        return f"alert-{self.name.lower()}"


def runbook_url(context: RuleContext, alert: Alert) -> str:
    return f"{context.monitoring.runbook_base_url}#{alert.anchor()}"
