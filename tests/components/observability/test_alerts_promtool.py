"""Prove the alerts with Prometheus' own tools: `promtool check rules` on the
rendered rules, and `promtool test rules` with, for every alert, series that
make it fire and series where it must stay quiet (below its threshold, or not
yet past its `for`)."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.helpers import CLOUDNATIVEPG, DR_SITE, require_tool

# libyaml where PyYAML has it: the rule files are read and written once per
# promtool process, and the pure-Python parser took a quarter of this module.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(data) -> str:
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False)


@functools.lru_cache(maxsize=None)
def _parsed(path: Path, modified_ns: int):
    return yaml.load(path.read_text(), Loader=_LOADER)


def load_yaml(path: Path):
    """A rule file's content, parsed once while it is unchanged (never modify it)."""
    return _parsed(path, path.stat().st_mtime_ns)


NS = "production"
# The app's series as scraped: the pod's color is a label (blue is live by default).
APP = f'job="monad-synapse", namespace="{NS}", color="blue"'
IDLE = f'job="monad-synapse", namespace="{NS}", color="green"'
STATIC = {"namespace": NS, "service": "monad-synapse"}
# Alerts on recorded per-color series keep the color they fired for.
LIVE_COLOR_LABELLED = {
    "MonadSynapseHighErrorRate",
    "MonadSynapseErrorBudgetBurnFast",
    "MonadSynapseErrorBudgetBurnSlow",
    "MonadSynapseHighLatency",
    "MonadSynapsePerformanceTrend",
}
IDLE_COLOR_LABELLED = {"MonadSynapsePreviewHighErrorRate"}
# Renders whose PrometheusRule the cases run against.
RULE_RENDERS = {
    "all": ("production", "maintenanceMode=true"),
    "default": ("production",),
    "switched": ("production", "activeColor=green"),
    "skipped": ("production", "promotion.skipAnalysis=true"),
    "disabled": ("production", "promotion.analysis.enabled=false"),
    "gateway": ("production", "edge.kind=gateway"),
    "database": ("production", *CLOUDNATIVEPG),
    "dr-site": ("production", *CLOUDNATIVEPG, *DR_SITE, "database.replica.minApplyDelay=1h"),
}
# The in-cluster database's series, as its PodMonitors label them.
DB_JOB = f'job="{NS}/monad-synapse-db", namespace="{NS}", cnpg_io_cluster="monad-synapse-db"'
DB_PRIMARY = DB_JOB + ', cnpg_io_instanceRole="primary", pod="monad-synapse-db-1"'
DB_REPLICA = DB_JOB + ', cnpg_io_instanceRole="replica", pod="monad-synapse-db-2"'
POOLER = f'job="{NS}/monad-synapse-db-pooler-rw", namespace="{NS}"'
CLUSTER = {"cnpg_io_cluster": "monad-synapse-db"}
# The database's base backups are due daily; stale after 93600 s (26 h).
BASE_BACKUP = "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp"


def archiver(failed: str, archived: str) -> list[dict]:
    return [
        series("cnpg_pg_stat_archiver_last_failed_time", DB_PRIMARY, failed),
        series("cnpg_pg_stat_archiver_last_archived_time", DB_PRIMARY, archived),
    ]


def wal(seconds_since: str, ready: str) -> list[dict]:
    return [
        series("cnpg_pg_stat_archiver_seconds_since_last_archival", DB_PRIMARY, seconds_since),
        series("cnpg_collector_pg_wal_archive_status", DB_PRIMARY + ', value="ready"', ready),
    ]


def instances_up(*values: str) -> list[dict]:
    return [
        series("cnpg_collector_up", f'{DB_JOB}, pod="monad-synapse-db-{index}"', value)
        for index, value in enumerate(values, 1)
    ]


def series(metric: str, labels: str, values: str) -> dict:
    return {"series": f"{metric}{{{labels}}}", "values": values}


def app(metric: str, values: str, extra: str = "") -> dict:
    return series(metric, APP + (f", {extra}" if extra else ""), values)


def idle(metric: str, values: str, extra: str = "") -> dict:
    return series(metric, IDLE + (f", {extra}" if extra else ""), values)


def ns(metric: str, values: str, extra: str = "") -> dict:
    return series(metric, f'namespace="{NS}"' + (f", {extra}" if extra else ""), values)


@dataclass(frozen=True)
class Case:
    alert: str
    fires: bool
    eval_time: str
    input_series: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)  # labels beyond the static ones
    interval: str = "1m"
    rules: str = "all"
    why: str = ""
    # How often promtool evaluates every rule: coarser for cases that span
    # hours (still finer than the alert's `for`), so the suite stays fast.
    evaluation: str = "1m"

    def promtool_test(self, severity: str) -> dict:
        live, idle_color = ("green", "blue") if self.rules == "switched" else ("blue", "green")
        color = (
            {"color": live}
            if self.alert in LIVE_COLOR_LABELLED
            else ({"color": idle_color} if self.alert in IDLE_COLOR_LABELLED else {})
        )
        expected = [{"exp_labels": {"severity": severity, **STATIC, **color, **self.labels}}] if self.fires else []
        return {
            "interval": self.interval,
            "input_series": self.input_series,
            "alert_rule_test": [{"eval_time": self.eval_time, "alertname": self.alert, "exp_alerts": expected}],
        }


def edge_answers(ok: int, client_errors: int, server_errors: int, minutes: int) -> list[dict]:
    """Envoy's downstream counters per minute, by response class."""
    total = ok + client_errors + server_errors
    return [
        series("envoy_http_downstream_rq_total", EDGE, f"0+{total}x{minutes}"),
        series("envoy_http_downstream_rq_xx", EDGE + ', envoy_response_code_class="2"', f"0+{ok}x{minutes}"),
        series("envoy_http_downstream_rq_xx", EDGE + ', envoy_response_code_class="4"', f"0+{client_errors}x{minutes}"),
        series("envoy_http_downstream_rq_xx", EDGE + ', envoy_response_code_class="5"', f"0+{server_errors}x{minutes}"),
    ]


def replica_set(deployment: str, created: str, suffix: str) -> list[dict]:
    """A Deployment's ReplicaSet as kube-state-metrics reports it (creation time in seconds)."""
    name = f'replicaset="{deployment}-{suffix}"'
    owner = f'{name}, owner_kind="Deployment", owner_name="{deployment}", owner_is_controller="true"'
    return [ns("kube_replicaset_created", created, name), ns("kube_replicaset_owner", "1x20", owner)]


def requests(ok_per_minute: int, errors_per_minute: int, minutes: int, on=None) -> list[dict]:
    on = on or app
    return [
        on("http_requests_total", f"0+{ok_per_minute}x{minutes}", 'status="200"'),
        on("http_requests_total", f"0+{errors_per_minute}x{minutes}", 'status="500"'),
    ]


def latency(per_bucket: dict, minutes: int) -> list[dict]:
    """Histogram buckets; per_bucket maps le to requests per minute in that bucket."""
    cumulative, result = 0, []
    for le in ("0.5", "1", "2.5", "5", "+Inf"):
        cumulative += per_bucket.get(le, 0)
        result.append(app("http_request_duration_seconds_bucket", f"0+{cumulative}x{minutes}", f'le="{le}"'))
    return result


POD = 'pod="monad-synapse-blue-7d9f-abcde", container="monad-synapse"'
POD_LABELS = {"pod": "monad-synapse-blue-7d9f-abcde"}
HPA = 'horizontalpodautoscaler="monad-synapse-blue-hpa"'
CERT = 'name="monad-synapse-prod-tls"'
# The Gateway's Envoy proxies, as their PodMonitor labels them.
EDGE = f'job="{NS}/monad-synapse-edge", namespace="envoy-gateway-system", pod="envoy-production-gw-abc"'
# The maintenance alert's ALERTS series, on for the first 10 minutes: what a
# stack that just left maintenance mode still has in Prometheus.
MAINTENANCE_FOR_10_MINUTES = series(
    "ALERTS",
    f'alertname="MonadSynapseMaintenanceMode", alertstate="firing", namespace="{NS}", severity="info", '
    'service="monad-synapse"',
    "1x10",
)
CERT_SCRAPED_BY_CERT_MANAGER = f'job="cert-manager", namespace="cert-manager", exported_namespace="{NS}", {CERT}'
PG = f'job="monad-synapse-postgres-exporter", namespace="{NS}"'
REDIS = f'job="monad-synapse-redis-exporter", namespace="{NS}"'


def trend(slow_today: bool) -> list[dict]:
    """26 hours of latency: fast throughout, or fast yesterday and slow for the last two hours."""
    fast, slow = 1440, 120
    if slow_today:
        return [
            app("http_request_duration_seconds_bucket", f"0+60x{fast} {60 * fast}+0x{slow}", 'le="0.5"'),
            app("http_request_duration_seconds_bucket", f"0+60x{fast} {60 * fast}+60x{slow}", 'le="2.5"'),
            app("http_request_duration_seconds_bucket", f"0+60x{fast} {60 * fast}+60x{slow}", 'le="+Inf"'),
        ]
    return [
        app("http_request_duration_seconds_bucket", f"0+60x{fast + slow}", f'le="{le}"')
        for le in ("0.5", "2.5", "+Inf")
    ]


BACKUP = "monad-synapse-db-backup"
DRILL = "monad-synapse-restore-drill"


def job_history(cronjob: str, failed_at: int | None, last_success: int | None, created: int = 0) -> list[dict]:
    """kube-state-metrics series of a CronJob: one Job created at `failed_at`
    that failed, and the CronJob's last success time (absent if None)."""
    result = [ns("kube_cronjob_created", f"{created}x700", f'cronjob="{cronjob}"')]
    if failed_at is not None:
        job = f'job_name="{cronjob}-29400000"'
        result += [ns("kube_job_created", f"{failed_at}x700", job), ns("kube_job_status_failed", "1x700", job)]
    if last_success is not None:
        result.append(ns("kube_cronjob_status_last_successful_time", f"{last_success}x700", f'cronjob="{cronjob}"'))
    return result


CASES = [
    Case("MonadSynapseDown", True, "5m", [app("up", "0x10")], why="every target down"),
    Case("MonadSynapseDown", True, "5m", [], why="no target scraped at all"),
    Case("MonadSynapseDown", False, "5m", [app("up", "1x10"), app("up", "0x10", 'pod="b"')], why="one pod still up"),
    Case("MonadSynapseDown", False, "1m", [app("up", "0x10")], why="not yet 2 minutes"),
    Case(
        "MonadSynapseDown",
        True,
        "5m",
        [app("up", "0x10"), idle("up", "1x10"), idle("up", "1x10", 'pod="g2"')],
        why="every live pod down while the idle color answers: pages",
    ),
    Case(
        "MonadSynapseDown",
        False,
        "5m",
        [app("up", "1x10"), idle("up", "0x10")],
        why="the idle color down is not an outage",
    ),
    Case(
        "MonadSynapseDown",
        True,
        "5m",
        [idle("up", "0x10"), app("up", "1x10")],
        rules="switched",
        why="after a switch to green, green down pages although blue answers",
    ),
    Case(
        "MonadSynapseDown",
        False,
        "5m",
        [idle("up", "1x10"), app("up", "0x10")],
        rules="switched",
        why="after a switch, blue is the idle color",
    ),
    Case("MonadSynapsePreviewDown", True, "8m", [app("up", "1x10"), idle("up", "0x10")]),
    Case("MonadSynapsePreviewDown", False, "8m", [app("up", "1x10"), idle("up", "1x10")]),
    Case("MonadSynapsePreviewDown", False, "4m", [app("up", "1x10"), idle("up", "0x10")], why="not yet 5 minutes"),
    Case(
        "MonadSynapsePreviewHighErrorRate",
        True,
        "10m",
        requests(590, 10, 20) + requests(10, 10, 20, on=idle),
        why="half the preview requests fail",
    ),
    Case(
        "MonadSynapsePreviewHighErrorRate",
        False,
        "10m",
        requests(10, 10, 20) + requests(590, 0, 20, on=idle),
        why="errors on the live color are not the preview's",
    ),
    Case("MonadSynapsePromotionAnalysisDisabled", True, "1m", [], rules="disabled"),
    Case("MonadSynapsePromotionAnalysisDisabled", False, "1m", [], rules="default", why="the analysis is on"),
    Case("MonadSynapseDatabaseDown", True, "5m", [series("pg_up", PG, "0x10")]),
    Case("MonadSynapseDatabaseDown", False, "5m", [series("pg_up", PG, "1x10")]),
    Case(
        "MonadSynapseDatabaseDown",
        False,
        "5m",
        [series("up", PG, "1x2 0x3 1x5")],
        why="the exporter restarting is not the database down",
    ),
    Case("MonadSynapseDatabaseExporterDown", True, "8m", [series("up", PG, "0x10")]),
    Case(
        "MonadSynapseDatabaseExporterDown",
        False,
        "8m",
        [series("up", PG, "1x2 0x3 1x5")],
        why="a restart shorter than 5 minutes",
    ),
    Case("MonadSynapseHighErrorRate", True, "10m", requests(540, 60, 20), rules="default", why="10% errors"),
    Case("MonadSynapseHighErrorRate", False, "10m", requests(590, 10, 20), why="1.7% errors"),
    Case(
        "MonadSynapseHighErrorRate",
        False,
        "10m",
        requests(540, 60, 20),
        why="maintenance mode: the maintenance page answers 503 by design",
    ),
    Case(
        "MonadSynapseHighErrorRate",
        False,
        "13m",
        requests(540, 60, 40) + [MAINTENANCE_FOR_10_MINUTES],
        rules="default",
        why="maintenance ended 3 minutes ago: its 503s are still in the 5-minute window",
    ),
    Case(
        "MonadSynapseHighErrorRate",
        True,
        "25m",
        requests(540, 60, 40) + [MAINTENANCE_FOR_10_MINUTES],
        rules="default",
        why="errors that go on after maintenance page",
    ),
    Case(
        "MonadSynapseHighErrorRate",
        False,
        "10m",
        requests(590, 10, 20) + requests(0, 100, 20, on=idle),
        why="idle-color errors never page the live alerts",
    ),
    Case(
        "MonadSynapseHighErrorRate",
        True,
        "10m",
        requests(590, 10, 20) + requests(540, 60, 20, on=idle),
        rules="switched",
        why="after a switch, green's 10% errors page",
    ),
    Case(
        "MonadSynapseSecurityBreach",
        True,
        "5m",
        [app("security_events_total", "0 0 0 1 1 1 1 1 1 1", 'severity="critical"')],
    ),
    Case(
        "MonadSynapseSecurityBreach",
        False,
        "5m",
        [app("security_events_total", "0 0 0 1 1 1 1 1 1 1", 'severity="low"')],
    ),
    Case(
        "MonadSynapseWalletBalanceLow",
        True,
        "10m",
        [app("wallet_balance", "500x15", 'wallet="hot"')],
        {"wallet": "hot"},
    ),
    Case("MonadSynapseWalletBalanceLow", False, "10m", [app("wallet_balance", "5000x15", 'wallet="hot"')]),
    Case(
        "MonadSynapseWalletBalanceLow",
        False,
        "8m",
        [app("wallet_balance", "5000x5 500x10", 'wallet="hot"')],
        why="low for 3 of the 5 minutes",
    ),
    Case(
        "MonadSynapseErrorBudgetBurnFast",
        True,
        "65m",
        requests(540, 60, 70),
        rules="default",
        why="10% errors, budget 0.1%",
    ),
    Case(
        "MonadSynapseErrorBudgetBurnFast",
        False,
        "65m",
        requests(540, 60, 70),
        why="maintenance mode: the maintenance page answers 503 by design",
    ),
    Case("MonadSynapseErrorBudgetBurnFast", False, "65m", requests(597, 3, 70), why="0.5% errors: slow burn only"),
    Case(
        "MonadSynapseErrorBudgetBurnFast",
        False,
        "65m",
        requests(600, 0, 70) + requests(0, 60, 70, on=idle),
        why="preview errors do not burn the live error budget",
    ),
    Case("MonadSynapseHighLatency", True, "15m", latency({"0.5": 1, "1": 1, "2.5": 1, "5": 97}, 20)),
    Case("MonadSynapseHighLatency", False, "15m", latency({"0.5": 100}, 20)),
    Case(
        "MonadSynapseHighLatency",
        False,
        "15m",
        latency({"0.5": 100}, 20)
        + [idle("http_request_duration_seconds_bucket", "0+100x20", f'le="{le}"') for le in ("5", "+Inf")],
        why="a slow preview is not slow live traffic",
    ),
    Case(
        "MonadSynapseHighCpu",
        True,
        "20m",
        [
            ns("container_cpu_usage_seconds_total", "0+54x30", POD),
            ns("kube_pod_container_resource_limits", "1x30", POD + ', resource="cpu"'),
        ],
        POD_LABELS,
    ),
    Case(
        "MonadSynapseHighCpu",
        False,
        "20m",
        [
            ns("container_cpu_usage_seconds_total", "0+30x30", POD),
            ns("kube_pod_container_resource_limits", "1x30", POD + ', resource="cpu"'),
        ],
    ),
    Case(
        "MonadSynapseHighMemory",
        True,
        "20m",
        [
            ns("container_memory_working_set_bytes", "900x30", POD),
            ns("kube_pod_container_resource_limits", "1000x30", POD + ', resource="memory"'),
        ],
        POD_LABELS,
    ),
    Case(
        "MonadSynapseHighMemory",
        False,
        "20m",
        [
            ns("container_memory_working_set_bytes", "500x30", POD),
            ns("kube_pod_container_resource_limits", "1000x30", POD + ', resource="memory"'),
        ],
    ),
    Case(
        "MonadSynapseUnusualGameResults",
        True,
        "50m",
        [
            app("game_results_total", "0+70x60", 'game="dice", result="win"'),
            app("game_results_total", "0+30x60", 'game="dice", result="loss"'),
        ],
        {"game": "dice"},
    ),
    Case(
        "MonadSynapseUnusualGameResults",
        False,
        "50m",
        [
            app("game_results_total", "0+40x60", 'game="dice", result="win"'),
            app("game_results_total", "0+60x60", 'game="dice", result="loss"'),
        ],
    ),
    Case("MonadSynapseHighAuthFailureRate", True, "15m", [app("auth_failures_total", "0+600x20")], why="10/s"),
    Case("MonadSynapseHighAuthFailureRate", False, "15m", [app("auth_failures_total", "0+60x20")], why="1/s"),
    Case(
        "MonadSynapseErrorBudgetBurnSlow",
        True,
        "180m",
        requests(995, 5, 200),
        rules="default",
        why="0.5% for 3h, budget 0.1%",
    ),
    Case(
        "MonadSynapseErrorBudgetBurnSlow",
        False,
        "180m",
        requests(995, 5, 200),
        why="maintenance mode: the maintenance page answers 503 by design",
    ),
    Case("MonadSynapseErrorBudgetBurnSlow", False, "180m", requests(1999, 1, 200), why="0.05%: within budget"),
    Case("MonadSynapseRedisDown", True, "5m", [series("redis_up", REDIS, "0x10")]),
    Case("MonadSynapseRedisDown", False, "5m", [series("redis_up", REDIS, "1x10")]),
    Case(
        "MonadSynapseHpaAtMaximum",
        True,
        "20m",
        [
            ns("kube_horizontalpodautoscaler_status_current_replicas", "20x30", HPA),
            ns("kube_horizontalpodautoscaler_spec_max_replicas", "20x30", HPA),
            ns("kube_horizontalpodautoscaler_spec_min_replicas", "3x30", HPA),
        ],
        {"horizontalpodautoscaler": "monad-synapse-blue-hpa"},
    ),
    Case(
        "MonadSynapseHpaAtMaximum",
        False,
        "20m",
        [
            ns("kube_horizontalpodautoscaler_status_current_replicas", "3x30", HPA),
            ns("kube_horizontalpodautoscaler_spec_max_replicas", "3x30", HPA),
            ns("kube_horizontalpodautoscaler_spec_min_replicas", "3x30", HPA),
        ],
        why="the idle color's HPA is pinned at min == max",
    ),
    Case(
        "MonadSynapseHpaAtMaximum",
        False,
        "20m",
        [
            ns("kube_horizontalpodautoscaler_status_current_replicas", "10x30", HPA),
            ns("kube_horizontalpodautoscaler_spec_max_replicas", "20x30", HPA),
            ns("kube_horizontalpodautoscaler_spec_min_replicas", "3x30", HPA),
        ],
    ),
    Case(
        "MonadSynapsePodCrashLooping",
        True,
        "8m",
        [ns("kube_pod_container_status_waiting_reason", "1x10", POD + ', reason="CrashLoopBackOff"')],
        POD_LABELS,
    ),
    Case(
        "MonadSynapsePodCrashLooping",
        False,
        "3m",
        [ns("kube_pod_container_status_waiting_reason", "1x10", POD + ', reason="CrashLoopBackOff"')],
        why="not yet 5 minutes",
    ),
    Case(
        "MonadSynapseCertificateExpiring",
        True,
        "90m",
        [ns("certmanager_certificate_expiration_timestamp_seconds", "864000x100", CERT)],
        {"name": "monad-synapse-prod-tls"},
        why="10 days left",
    ),
    Case(
        "MonadSynapseCertificateExpiring",
        False,
        "90m",
        [ns("certmanager_certificate_expiration_timestamp_seconds", "2592000x100", CERT)],
        why="30 days left",
    ),
    # cert-manager's own ServiceMonitor (its chart's default): the target's
    # namespace wins, and the certificate's arrives as exported_namespace.
    Case(
        "MonadSynapseCertificateExpiring",
        True,
        "90m",
        [series("certmanager_certificate_expiration_timestamp_seconds", CERT_SCRAPED_BY_CERT_MANAGER, "864000x100")],
        {"name": "monad-synapse-prod-tls"},
        why="10 days left, scraped without honorLabels",
    ),
    Case(
        "MonadSynapseCertificateExpiring",
        False,
        "90m",
        [series("certmanager_certificate_expiration_timestamp_seconds", CERT_SCRAPED_BY_CERT_MANAGER, "2592000x100")],
        why="30 days left, scraped without honorLabels",
    ),
    Case(
        "MonadSynapseCertificateExpiring",
        False,
        "90m",
        [
            series(
                "certmanager_certificate_expiration_timestamp_seconds",
                CERT_SCRAPED_BY_CERT_MANAGER.replace(f'exported_namespace="{NS}"', 'exported_namespace="staging"'),
                "864000x100",
            ),
            series(
                "certmanager_certificate_expiration_timestamp_seconds", 'namespace="staging", ' + CERT, "864000x100"
            ),
        ],
        why="another namespace's certificate of the same name, under either scrape shape",
    ),
    Case(
        "MonadSynapseCertificateNotReady",
        True,
        "20m",
        [series("certmanager_certificate_ready_status", CERT_SCRAPED_BY_CERT_MANAGER + ', condition="False"', "1x30")],
        {"name": "monad-synapse-prod-tls"},
        why="not ready, scraped without honorLabels",
    ),
    Case(
        "MonadSynapseCertificateNotReady",
        True,
        "20m",
        [ns("certmanager_certificate_ready_status", "1x30", CERT + ', condition="False"')],
        {"name": "monad-synapse-prod-tls"},
    ),
    Case(
        "MonadSynapseCertificateNotReady",
        False,
        "20m",
        [ns("certmanager_certificate_ready_status", "0x30", CERT + ', condition="False"')],
    ),
    Case(
        "MonadSynapseEdgeDown",
        True,
        "5m",
        [series("up", EDGE, "0x10"), app("up", "1x10")],
        rules="gateway",
        why="no proxy answers while the app is up",
    ),
    Case(
        "MonadSynapseEdgeDown",
        False,
        "5m",
        [series("up", EDGE, "1x10"), app("up", "1x10")],
        rules="gateway",
        why="proxies up",
    ),
    Case(
        "MonadSynapseEdgeDown",
        False,
        "5m",
        [series("up", EDGE, "0x10"), app("up", "0x10")],
        rules="gateway",
        why="the app is down too: MonadSynapseDown pages for it",
    ),
    Case(
        "MonadSynapseEdgeErrors",
        True,
        "10m",
        edge_answers(ok=900, client_errors=0, server_errors=100, minutes=20),
        rules="gateway",
        why="10% 5xx at the edge",
    ),
    Case(
        "MonadSynapseEdgeErrors",
        False,
        "10m",
        edge_answers(ok=990, client_errors=0, server_errors=10, minutes=20),
        rules="gateway",
        why="1% 5xx at the edge",
    ),
    Case(
        "MonadSynapseEdgeRejecting",
        True,
        "15m",
        edge_answers(ok=500, client_errors=500, server_errors=0, minutes=20),
        rules="gateway",
        why="half the requests rate-limited",
    ),
    Case(
        "MonadSynapseEdgeRejecting",
        False,
        "15m",
        edge_answers(ok=950, client_errors=50, server_errors=0, minutes=20),
        rules="gateway",
        why="5% rejected: normal",
    ),
    Case(
        "MonadSynapseDeployment",
        True,
        "8m",
        replica_set("monad-synapse-green", "0x20", "old") + replica_set("monad-synapse-green", "300x20", "new"),
        {"deployment": "monad-synapse-green"},
        why="a rollout: a new ReplicaSet 3 minutes old",
    ),
    Case(
        "MonadSynapseDeployment",
        False,
        "14m",
        replica_set("monad-synapse-green", "0x20", "old")
        + [ns("kube_deployment_status_observed_generation", "1x5 2x5 3x5", 'deployment="monad-synapse-green"')],
        why="scale steps bump the generation but make no ReplicaSet",
    ),
    Case(
        "MonadSynapsePerformanceTrend",
        True,
        "1550m",
        trend(slow_today=True),
        why="4x slower than yesterday",
        evaluation="5m",
    ),
    Case("MonadSynapsePerformanceTrend", False, "1550m", trend(slow_today=False), evaluation="5m"),
    Case(
        "MonadSynapseBackupFailed",
        True,
        "20m",
        job_history(BACKUP, failed_at=600, last_success=300),
        why="the newest job failed after the last success",
    ),
    Case(
        "MonadSynapseBackupFailed",
        True,
        "20m",
        job_history(BACKUP, failed_at=600, last_success=None),
        why="failed and never succeeded",
    ),
    Case(
        "MonadSynapseBackupFailed",
        False,
        "20m",
        job_history(BACKUP, failed_at=600, last_success=900),
        why="a later run succeeded; the failed Job only lingers in history",
    ),
    Case(
        "MonadSynapseBackupFailed",
        False,
        "20m",
        job_history(DRILL, failed_at=600, last_success=None),
        why="a failed drill is not a failed backup",
    ),
    Case(
        "MonadSynapseBackupStale",
        True,
        "600m",
        evaluation="10m",
        input_series=job_history(BACKUP, failed_at=None, last_success=0),
        why="last success 10 hours ago, hourly schedule",
    ),
    Case(
        "MonadSynapseBackupStale",
        False,
        "600m",
        evaluation="10m",
        input_series=job_history(BACKUP, failed_at=None, last_success=34000),
        why="last success 33 minutes ago",
    ),
    Case(
        "MonadSynapseBackupNeverSucceeded",
        True,
        "600m",
        evaluation="10m",
        input_series=job_history(BACKUP, failed_at=None, last_success=None, created=0),
    ),
    Case(
        "MonadSynapseBackupNeverSucceeded",
        False,
        "600m",
        evaluation="10m",
        input_series=job_history(BACKUP, None, None, created=35000),
        why="created 10 minutes ago",
    ),
    Case(
        "MonadSynapseBackupNeverSucceeded",
        False,
        "600m",
        evaluation="10m",
        input_series=job_history(BACKUP, None, last_success=100, created=0),
        why="it has succeeded (staleness is BackupStale's job)",
    ),
    Case("MonadSynapseRestoreDrillFailed", True, "20m", job_history(DRILL, failed_at=600, last_success=None)),
    Case("MonadSynapseRestoreDrillFailed", False, "20m", job_history(DRILL, failed_at=600, last_success=800)),
    Case("MonadSynapsePromotionAnalysisSkipped", True, "1m", [], rules="skipped", why="promotion.skipAnalysis: true"),
    Case("MonadSynapsePromotionAnalysisSkipped", False, "1m", [], rules="default", why="the analysis runs"),
    Case("MonadSynapseMaintenanceMode", True, "1m", [], why="maintenanceMode: true"),
    Case("MonadSynapseMaintenanceMode", False, "1m", [], rules="default", why="maintenanceMode: false"),
    # --- the in-cluster database (database.kind cloudnativepg, rpoSeconds 300)
    Case(
        "MonadSynapseDatabaseWalArchivingFailing",
        True,
        "8m",
        archiver("1000x10", "500x10"),
        CLUSTER,
        rules="database",
        why="the newest attempt failed",
    ),
    Case(
        "MonadSynapseDatabaseWalArchivingFailing",
        False,
        "8m",
        archiver("500x10", "1000x10"),
        rules="database",
        why="a later segment was archived",
    ),
    Case(
        "MonadSynapseDatabaseWalArchivingFailing",
        False,
        "3m",
        archiver("1000x10", "500x10"),
        rules="database",
        why="not yet 5 minutes",
    ),
    Case(
        "MonadSynapseDatabaseWalArchivingFailing",
        False,
        "8m",
        [
            series("cnpg_pg_stat_archiver_last_failed_time", DB_REPLICA, "1000x10"),
            series("cnpg_pg_stat_archiver_last_archived_time", DB_REPLICA, "500x10"),
        ],
        rules="database",
        why="a standby does not archive",
    ),
    Case(
        "MonadSynapseDatabaseRpoAtRisk",
        True,
        "2m",
        wal("400x5", "2x5"),
        CLUSTER,
        rules="database",
        why="segments waiting, last archived 400 s ago",
    ),
    Case(
        "MonadSynapseDatabaseRpoAtRisk",
        False,
        "2m",
        wal("400x5", "0x5"),
        rules="database",
        why="idle: nothing waits to be archived",
    ),
    Case("MonadSynapseDatabaseRpoAtRisk", False, "2m", wal("120x5", "3x5"), rules="database", why="within the RPO"),
    Case(
        "MonadSynapseDatabaseBaseBackupStale",
        True,
        "1700m",
        [series(BASE_BACKUP, DB_PRIMARY, "1x20")],
        CLUSTER,
        interval="100m",
        evaluation="100m",
        rules="database",
        why="newest base backup 28 h old",
    ),
    Case(
        "MonadSynapseDatabaseBaseBackupStale",
        False,
        "1700m",
        [series(BASE_BACKUP, DB_PRIMARY, "100000x20")],
        interval="100m",
        evaluation="100m",
        rules="database",
        why="newest base backup 33 minutes old",
    ),
    Case(
        "MonadSynapseDatabaseBaseBackupStale",
        False,
        "1700m",
        [series(BASE_BACKUP, DB_PRIMARY, "0x20")],
        interval="100m",
        evaluation="100m",
        rules="database",
        why="none yet: NeverTaken's job",
    ),
    Case(
        "MonadSynapseDatabaseBaseBackupNeverTaken",
        True,
        "1700m",
        [series(BASE_BACKUP, DB_PRIMARY, "0x20")],
        CLUSTER,
        interval="100m",
        evaluation="100m",
        rules="database",
        why="none in 28 h",
    ),
    Case(
        "MonadSynapseDatabaseBaseBackupNeverTaken",
        False,
        "1000m",
        [series(BASE_BACKUP, DB_PRIMARY, "0x20")],
        interval="100m",
        evaluation="100m",
        rules="database",
        why="created 16 h ago: the first may still come",
    ),
    Case(
        "MonadSynapseDatabaseBaseBackupNeverTaken",
        False,
        "1700m",
        [series(BASE_BACKUP, DB_PRIMARY, "0x3 5000x17")],
        interval="100m",
        evaluation="100m",
        rules="database",
        why="one was taken",
    ),
    Case(
        "MonadSynapseDatabaseReplicationLag",
        True,
        "8m",
        [series("cnpg_pg_replication_lag", DB_REPLICA, "120x10")],
        {**CLUSTER, "pod": "monad-synapse-db-2"},
        rules="database",
        why="2 minutes behind",
    ),
    Case(
        "MonadSynapseDatabaseReplicationLag",
        False,
        "8m",
        [series("cnpg_pg_replication_lag", DB_REPLICA, "10x10")],
        rules="database",
    ),
    Case(
        "MonadSynapseDatabaseReplicationLag",
        False,
        "8m",
        [series("cnpg_pg_replication_lag", DB_PRIMARY, "900x10")],
        rules="dr-site",
        why="a DR site's designated primary replays the archive: no receiver, lag grows when quiet",
    ),
    Case(
        "MonadSynapseDatabaseReplicationLag",
        False,
        "8m",
        [series("cnpg_pg_replication_lag", DB_REPLICA, "3620x10")],
        rules="dr-site",
        why="a DR standby applies WAL an hour late on purpose (minApplyDelay 1h)",
    ),
    Case(
        "MonadSynapseDatabaseReplicationLag",
        True,
        "8m",
        [series("cnpg_pg_replication_lag", DB_REPLICA, "3700x10")],
        {**CLUSTER, "pod": "monad-synapse-db-2"},
        rules="database",
        why="without minApplyDelay, an hour behind is lag",
    ),
    Case(
        "MonadSynapseDatabaseNeverArchived",
        True,
        "8m",
        [
            series("cnpg_collector_pg_wal_archive_status", DB_PRIMARY + ', value="ready"', "3x10"),
            series("cnpg_pg_stat_archiver_archived_count", DB_PRIMARY, "0x10"),
        ],
        CLUSTER,
        rules="database",
        why="a new cluster whose WAL has waited past the RPO, nothing ever archived",
    ),
    Case(
        "MonadSynapseDatabaseNeverArchived",
        False,
        "8m",
        [
            series("cnpg_collector_pg_wal_archive_status", DB_PRIMARY + ', value="ready"', "3x10"),
            series("cnpg_pg_stat_archiver_archived_count", DB_PRIMARY, "5x10"),
        ],
        rules="database",
        why="archiving works: the RPO alert's job",
    ),
    Case(
        "MonadSynapseDatabaseInstancesNotReady",
        True,
        "8m",
        instances_up("1x10", "1x10", "0x10"),
        rules="database",
        why="two of three up",
    ),
    Case("MonadSynapseDatabaseInstancesNotReady", False, "8m", instances_up("1x10", "1x10", "1x10"), rules="database"),
    Case(
        "MonadSynapseDatabasePoolerDown",
        True,
        "5m",
        [series("up", POOLER + ', pod="p1"', "0x10"), series("up", POOLER + ', pod="p2"', "0x10")],
        rules="database",
        why="no pooler pod answers its scrape",
    ),
    Case(
        "MonadSynapseDatabasePoolerDown",
        True,
        "5m",
        [
            series("up", POOLER + ', pod="p1"', "1x10"),
            series("cnpg_pgbouncer_last_collection_error", POOLER + ', pod="p1"', "1x10"),
        ],
        rules="database",
        why="the pod answers but cannot reach its PgBouncer",
    ),
    Case("MonadSynapseDatabasePoolerDown", True, "5m", [], rules="database", why="no pooler scraped at all"),
    Case(
        "MonadSynapseDatabasePoolerDown",
        False,
        "5m",
        [
            series("up", POOLER + ', pod="p1"', "0x10"),
            series("up", POOLER + ', pod="p2"', "1x10"),
            series("cnpg_pgbouncer_last_collection_error", POOLER + ', pod="p2"', "0x10"),
        ],
        rules="database",
        why="one PgBouncer still up",
    ),
]


@pytest.fixture(scope="module")
def rule_files(tmp_path_factory, request) -> dict[str, Path]:
    from tests.helpers import cached_render, rendered_objects, secrets_for

    directory = tmp_path_factory.mktemp("rules")
    files = {}
    for key, (stack, *sets) in RULE_RENDERS.items():
        objects = rendered_objects(cached_render(stack, tuple(sets), secrets_for(tuple(sets))))
        groups = objects[f"PrometheusRule/{NS}/monad-synapse"]["spec"]["groups"]
        path = directory / f"{key}.yaml"
        path.write_text(dump_yaml({"groups": groups}))
        files[key] = path
        # promtool compares annotations exactly and descriptions template $value;
        # the firing logic is tested on a copy without annotations (the real
        # file's templates are checked by `promtool check rules`).
        bare = [
            {**group, "rules": [{k: v for k, v in rule.items() if k != "annotations"} for rule in group["rules"]]}
            for group in groups
        ]
        (directory / f"{key}-logic.yaml").write_text(dump_yaml({"groups": bare}))
    return files


def alert_severities(rule_file: Path) -> dict[str, str]:
    groups = load_yaml(rule_file)["groups"]
    return {rule["alert"]: rule["labels"]["severity"] for group in groups for rule in group["rules"] if "alert" in rule}


def run_promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([require_tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("key", sorted(RULE_RENDERS))
def test_promtool_check_rules(rule_files, key):
    result = run_promtool("check", "rules", rule_files[key].name, cwd=rule_files[key].parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def every_severity(rule_files) -> dict[str, str]:
    """Alerts of every render the cases use (some exist only with a flag set)."""
    return {
        name: severity
        for path in rule_files.values()
        if not path.name.endswith("-logic.yaml")
        for name, severity in alert_severities(path).items()
    }


def test_every_alert_has_a_firing_and_a_quiet_case(rule_files):
    alerts = set(every_severity(rule_files))
    firing = {case.alert for case in CASES if case.fires}
    quiet = {case.alert for case in CASES if not case.fires}
    assert alerts - firing == set(), "alerts without a case where they fire"
    assert alerts - quiet == set(), "alerts without a case where they stay quiet"
    assert {case.alert for case in CASES} <= alerts, "cases for alerts that do not exist"


def _mentions(expr: str, name: str) -> bool:
    return re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", expr) is not None


def rules_for(groups: list[dict], alerts: set[str]) -> list[dict]:
    """The groups cut to the alerts asked for and every rule they read:
    recording rules by name, alerts through ALERTS{alertname=...}, to a
    fixed point. promtool evaluates every rule of its files at every step,
    so a case that spans hours pays for the whole catalogue unless cut."""
    rules = [rule for group in groups for rule in group["rules"]]
    kept = [rule for rule in rules if rule.get("alert") in alerts]
    grew = True
    while grew:
        grew = False
        for rule in rules:
            if any(rule is other for other in kept):
                continue
            name = rule.get("record") or rule.get("alert")
            if any(_mentions(str(other["expr"]), name) for other in kept):
                kept.append(rule)
                grew = True
    cut = [{**group, "rules": [rule for rule in group["rules"] if any(rule is k for k in kept)]} for group in groups]
    return [group for group in cut if group["rules"]]


def test_the_cut_keeps_what_an_alert_reads():
    groups = [
        {"name": "r", "rules": [{"record": "a:b", "expr": "sum(x)"}, {"record": "a:c", "expr": "a:b * 2"}]},
        {
            "name": "alerts",
            "rules": [
                {"alert": "Quiet", "expr": 'up unless ALERTS{alertname="Maint"}'},
                {"alert": "Maint", "expr": "maint == 1"},
                {"alert": "Other", "expr": "a:b_total > 1"},
                {"alert": "Ratio", "expr": "a:c > 1"},
            ],
        },
    ]
    assert [[rule.get("alert") or rule["record"] for rule in g["rules"]] for g in rules_for(groups, {"Quiet"})] == [
        ["Quiet", "Maint"]
    ]
    assert [[rule.get("alert") or rule["record"] for rule in g["rules"]] for g in rules_for(groups, {"Ratio"})] == [
        ["a:b", "a:c"],
        ["Ratio"],
    ]


@pytest.fixture(scope="module")
def promtool_runs(rule_files) -> dict[tuple[str, str], subprocess.CompletedProcess]:
    """Every case, one promtool process per alert, rule file and evaluation
    interval, run side by side; each process gets only the rules its alert
    reads (rules_for), since promtool evaluates every rule at every step."""
    from concurrent.futures import ThreadPoolExecutor

    severities = every_severity(rule_files)
    directory = rule_files["all"].parent
    jobs = []
    for rules, evaluation, alert in sorted({(case.rules, case.evaluation, case.alert) for case in CASES}):
        chunk = [case for case in CASES if (case.rules, case.evaluation, case.alert) == (rules, evaluation, alert)]
        logic = load_yaml(directory / rule_files[rules].name.replace(".yaml", "-logic.yaml"))
        rule_file = directory / f"rules-{rules}-{evaluation}-{alert}.yaml"
        rule_file.write_text(dump_yaml({"groups": rules_for(logic["groups"], {alert})}))
        test_file = directory / f"test-{rules}-{evaluation}-{alert}.yaml"
        test_file.write_text(
            dump_yaml(
                {
                    "rule_files": [rule_file.name],
                    "evaluation_interval": evaluation,
                    "tests": [case.promtool_test(severities[case.alert]) for case in chunk],
                }
            )
        )
        jobs.append(((rules, evaluation), test_file.name))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(lambda job: run_promtool("test", "rules", job[1], cwd=directory), jobs))
    runs: dict[tuple[str, str], subprocess.CompletedProcess] = {}
    for (key, _), result in zip(jobs, results, strict=True):
        before = runs.get(key)
        runs[key] = subprocess.CompletedProcess(
            result.args,
            max(result.returncode, before.returncode if before else 0),
            (before.stdout if before else "") + result.stdout,
            (before.stderr if before else "") + result.stderr,
        )
    return runs


DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> float:
    """A Prometheus duration (1h5m, 65m, 90s) in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text.strip())
    assert parts and "".join(number + unit for number, unit in parts) == text.strip(), text
    return sum(float(number) * DURATION_UNITS[unit] for number, unit in parts)


def test_durations_compare_by_meaning():
    assert duration_seconds("1h5m") == duration_seconds("65m") == 3900
    assert duration_seconds("1h30m0s") == 5400


# promtool's report of a failed alert test: "alertname: <name>, time: <eval time>,".
FAILED_ALERT = re.compile(r"alertname: ([A-Za-z0-9_]+), time: ([^,]+),")


@pytest.mark.parametrize("alert", sorted({case.alert for case in CASES}))
def test_promtool_alert_cases(promtool_runs, alert):
    for rules, evaluation in sorted({(case.rules, case.evaluation) for case in CASES if case.alert == alert}):
        result = promtool_runs[(rules, evaluation)]
        output = result.stdout + result.stderr
        # promtool prints 65m as 1h5m: compare times by meaning.
        failed = {(name, duration_seconds(time)) for name, time in FAILED_ALERT.findall(output)}
        mine = [case for case in CASES if case.alert == alert and case.rules == rules and case.evaluation == evaluation]
        wrong = [
            f"{case.why or ('fires' if case.fires else 'quiet')} at {case.eval_time}"
            for case in mine
            if (alert, duration_seconds(case.eval_time)) in failed
        ]
        assert not wrong, f"{wrong}\n{output}"
        # A failure promtool cannot tie to an alert (a bad test file) fails every alert of the run.
        assert result.returncode == 0 or failed, output


def healthy_database() -> list[dict]:
    """A healthy in-cluster database as its exporters report it: three
    instances up, WAL archived a minute ago and nothing waiting, a base
    backup an hour old, standbys in step, both PgBouncer pods answering,
    the PostgreSQL exporter up and connected."""
    now_minus_hour = "3600+60x60"  # a timestamp an hour behind promtool's clock, moving with it
    return [
        *instances_up("1x60", "1x60", "1x60"),
        series("cnpg_pg_stat_archiver_seconds_since_last_archival", DB_PRIMARY, "60x60"),
        series("cnpg_pg_stat_archiver_last_archived_time", DB_PRIMARY, "0+60x60"),
        series("cnpg_pg_stat_archiver_last_failed_time", DB_PRIMARY, "0x60"),
        series("cnpg_pg_stat_archiver_archived_count", DB_PRIMARY, "100+1x60"),
        series("cnpg_collector_pg_wal_archive_status", DB_PRIMARY + ', value="ready"', "0x60"),
        series(BASE_BACKUP, DB_PRIMARY, now_minus_hour),
        series("cnpg_pg_replication_lag", DB_REPLICA, "0x60"),
        *(series("up", POOLER + f', pod="p{index}"', "1x60") for index in (1, 2)),
        *(series("cnpg_pgbouncer_last_collection_error", POOLER + f', pod="p{index}"', "0x60") for index in (1, 2)),
        series("up", PG, "1x60"),
        series("pg_up", PG, "1x60"),
    ]


def test_a_healthy_in_cluster_database_fires_nothing(rule_files):
    """Every database alert (and the exporter's) stays quiet on a healthy
    database over an hour: no alert reads a metric that is never exported
    and so fires forever on `or vector(0)`, or on `absent()`."""
    database_alerts = sorted(
        name for name in alert_severities(rule_files["database"]) if name.startswith("MonadSynapseDatabase")
    )
    assert len(database_alerts) >= 10
    directory = rule_files["database"].parent
    test_file = directory / "test-healthy-database.yaml"
    test_file.write_text(
        yaml.safe_dump(
            {
                "rule_files": [rule_files["database"].name.replace(".yaml", "-logic.yaml")],
                "evaluation_interval": "1m",
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": healthy_database(),
                        "alert_rule_test": [
                            {"eval_time": time, "alertname": name, "exp_alerts": []}
                            for name in database_alerts
                            for time in ("10m", "59m")
                        ],
                    }
                ],
            },
            sort_keys=False,
        )
    )
    result = run_promtool("test", "rules", test_file.name, cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
