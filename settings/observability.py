"""Settings of monitoring: alert thresholds, channels, exporters, the operator's labels."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Annotated, Mapping

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
)

from settings.base import _custom_error, _Model
from settings.contract import DEFAULT_OPERATOR_LABELS
from settings.fields import ImageRef, _check_label_map


class Alerting(_Model):
    """Alert thresholds (the runbook's numbers) and Slack channels."""

    error_ratio: float = Field(0.05, gt=0, lt=1)
    latency_p95_seconds: float = Field(2.0, gt=0, le=600)
    resource_utilization: float = Field(0.8, gt=0, le=1)
    auth_failures_per_second: float = Field(5.0, gt=0, le=1_000_000)
    wallet_balance_minimum: float = Field(1000.0, ge=0, le=1e15)
    game_win_ratio_maximum: float = Field(0.6, gt=0, lt=1)
    certificate_expiry_days: int = Field(14, ge=1, le=90)
    critical_channel: str = "#critical-alerts"
    warning_channel: str = "#monad-synapse-alerts"
    info_channel: str = "#monad-synapse-info"

    @field_validator("critical_channel", "warning_channel", "info_channel")
    @classmethod
    def _slack_channel(cls, channel: str) -> str:
        if not re.fullmatch(r"#[a-z0-9][a-z0-9_-]{0,79}", channel):
            raise _custom_error("bad_channel", "must be a Slack channel like #critical-alerts")
        return channel


class Exporters(_Model):
    postgres_image: ImageRef = "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"
    redis_image: ImageRef = "oliver006/redis_exporter:v1.74.0"


class Monitoring(_Model):
    # Labels the operator's ruleSelector (and alertmanagerConfigSelector)
    # expects; kube-prometheus-stack selects `release: <its release name>`.
    # Added to (never replacing) release=kube-prometheus-stack; set
    # ruleLabels.release to change the release name.
    rule_labels: Annotated[Mapping[str, str], AfterValidator(_check_label_map)] = Field(default_factory=dict)
    metrics_path: str = "/api/metrics"
    scrape_interval_seconds: int = Field(30, ge=5, le=300)
    availability_objective: float = Field(99.9, gt=90, lt=100)
    runbook_base_url: str = "https://github.com/monad-synapse/infrastructure/blob/main/docs/alerts.md"
    alerts: Alerting = Alerting()
    exporters: Exporters = Exporters()

    @field_validator("metrics_path")
    @classmethod
    def _absolute_path(cls, path: str) -> str:
        if not re.fullmatch(r"/[A-Za-z0-9/_.-]*", path):
            raise _custom_error("bad_path", "must be an absolute URL path such as /api/metrics")
        return path

    @field_validator("runbook_base_url")
    @classmethod
    def _https_url(cls, url: str) -> str:
        # Lands in every alert's annotations, which Prometheus parses as Go
        # templates: braces, quotes or spaces there break every rule.
        if not re.fullmatch(r"https://[A-Za-z0-9._~:/?@!&'()*+,;=%\[\]-]+", url) or "{" in url or "'" in url:
            raise _custom_error(
                "bad_url",
                "must be an https:// URL without a #fragment, spaces, quotes or braces",
            )
        return url

    @property
    def operator_labels(self) -> Mapping[str, str]:
        """The operator's selector label plus `ruleLabels`: extra labels add
        to it, so the rules never lose the label the operator selects them by."""
        return MappingProxyType({**DEFAULT_OPERATOR_LABELS, **self.rule_labels})
