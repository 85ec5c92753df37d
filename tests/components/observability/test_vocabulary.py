"""Alerts and dashboards only read what the rendered objects produce: every
`job="..."` is a scrape job of a ServiceMonitor, every recorded series is
recorded by the PrometheusRule. A renamed job or series fails here instead
of leaving alerts that never fire."""

from __future__ import annotations

import copy
import json
import re

import pytest

from components.common.vocabulary import Recorded
from tests.helpers import CLOUDNATIVEPG, DATABASE_S3_SECRETS, DR_SITE, secrets_for
from tools.engine.exporter_metrics import (
    BARMAN_CLOUD_PLUGIN,
    CLOUDNATIVEPG_INSTANCE,
    CLOUDNATIVEPG_POOLER,
    ENVOY_PROXY,
    KUBE_STATE_METRICS,
)

JOB_MATCHER = re.compile(r'\bjob="([^"]+)"')
# Recording-rule naming: level:metric:operations.
RECORDED_NAME = re.compile(r"\b([a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\b")
RUNBOOK_RECORDS = {Recorded.POSTGRES_ACTIVE, Recorded.POSTGRES_IDLE, Recorded.REDIS_HIT_RATE, Recorded.REDIS_MEMORY}


def scrape_jobs(objects: dict[str, dict]) -> set[str]:
    """The `job` label each ServiceMonitor gives its targets: the value of its
    jobLabel on the selected Service, else the Service's name (prometheus-operator)."""
    jobs = set()
    for monitor in (obj for obj in objects.values() if obj["kind"] == "ServiceMonitor"):
        wanted = monitor["spec"]["selector"]["matchLabels"]
        for service in (obj for obj in objects.values() if obj["kind"] == "Service"):
            labels = service["metadata"].get("labels") or {}
            if all(labels.get(key) == value for key, value in wanted.items()):
                job_label = monitor["spec"].get("jobLabel")
                jobs.add(labels[job_label] if job_label else service["metadata"]["name"])
    # A PodMonitor without a jobLabel names its targets' job
    # <namespace>/<PodMonitor name> (prometheus-operator).
    for monitor in (obj for obj in objects.values() if obj["kind"] == "PodMonitor"):
        assert "jobLabel" not in monitor["spec"]
        jobs.add(f"{monitor['metadata']['namespace']}/{monitor['metadata']['name']}")
    return jobs


def recorded_series(objects: dict[str, dict]) -> set[str]:
    return {
        rule["record"]
        for obj in objects.values()
        if obj["kind"] == "PrometheusRule"
        for group in obj["spec"]["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def queries(objects: dict[str, dict]) -> list[tuple[str, str]]:
    """(where, PromQL) of every alert, recording rule and dashboard panel."""
    found = []
    for obj in objects.values():
        if obj["kind"] == "PrometheusRule":
            for group in obj["spec"]["groups"]:
                for rule in group["rules"]:
                    found.append((rule.get("alert") or rule.get("record"), rule["expr"]))
        if obj["kind"] == "ConfigMap" and (obj["metadata"].get("labels") or {}).get("grafana_dashboard") == "1":
            for text in obj["data"].values():
                dashboard = json.loads(text)
                for panel in dashboard.get("panels") or []:
                    for target in panel.get("targets") or []:
                        found.append((f"{dashboard['title']} / {panel.get('title')}", target["expr"]))
    return found


# Metric names of the exporters tools.engine.exporter_metrics catalogues (labels
# like cnpg_io_cluster are podTargetLabels, not metrics).
CATALOGUED_METRIC = re.compile(r"\b((?:cnpg|kube|barman_cloud_cloudnative_pg_io|envoy)_[a-zA-Z0-9_]+)\b")
# Label names that share the exporters' prefixes (podTargetLabels, Envoy's tags).
LABEL_PREFIXES = ("cnpg_io_", "envoy_response_code_class")
EXPORTED = CLOUDNATIVEPG_INSTANCE | CLOUDNATIVEPG_POOLER | BARMAN_CLOUD_PLUGIN | KUBE_STATE_METRICS | ENVOY_PROXY


def unexported_metrics(expr: str) -> list[str]:
    return [
        name for name in CATALOGUED_METRIC.findall(expr) if not name.startswith(LABEL_PREFIXES) and name not in EXPORTED
    ]


def dangling_references(objects: dict[str, dict]) -> list[str]:
    jobs, records = scrape_jobs(objects), recorded_series(objects)
    problems = []
    for where, expr in queries(objects):
        problems += [f"{where}: {name} is exported by no exporter" for name in unexported_metrics(expr)]
        problems += [
            f"{where}: job {job!r} is scraped by nothing" for job in JOB_MATCHER.findall(expr) if job not in jobs
        ]
        problems += [
            f"{where}: {name} is recorded by nothing" for name in RECORDED_NAME.findall(expr) if name not in records
        ]
        problems += [
            f"{where}: {name} is recorded by nothing"
            for name in RUNBOOK_RECORDS
            if re.search(rf"\b{name}\b", expr) and name not in records
        ]
    return problems


@pytest.mark.parametrize(
    "sets",
    [
        ("production",),
        ("staging",),
        ("production", "edge.kind=gateway", "activeColor=green"),
        ("production", *CLOUDNATIVEPG),
        ("production", *CLOUDNATIVEPG, *DR_SITE),
    ],
    ids=lambda sets: "-".join(sets),
)
def test_alerts_and_dashboards_read_only_what_is_produced(stack_objects, sets):
    objects = stack_objects(*sets, secrets=secrets_for(sets))
    assert {"monad-synapse", "monad-synapse-postgres-exporter", "monad-synapse-redis-exporter"} <= scrape_jobs(objects)
    assert len(queries(objects)) > 50
    assert dangling_references(objects) == []


def test_a_renamed_job_or_series_is_caught(stack_objects):
    objects = copy.deepcopy(stack_objects("production"))
    exporter = objects["Service/production/monad-synapse-postgres-exporter"]
    exporter["metadata"]["name"] = "monad-synapse-pg-exporter"  # the job the alerts match is gone
    assert any("monad-synapse-postgres-exporter" in problem for problem in dangling_references(objects))

    objects = copy.deepcopy(stack_objects("production"))
    rule = objects["PrometheusRule/production/monad-synapse"]
    for group in rule["spec"]["groups"]:
        for item in group["rules"]:
            if item.get("record") == Recorded.HTTP_P95_SECONDS:
                item["record"] = "monad_synapse:latency:p95"
    assert any(Recorded.HTTP_P95_SECONDS in problem for problem in dangling_references(objects))


def test_a_renamed_pod_monitor_is_caught(stack_objects):
    objects = copy.deepcopy(stack_objects("production", *CLOUDNATIVEPG, secrets=DATABASE_S3_SECRETS))
    assert dangling_references(objects) == []
    objects["PodMonitor/production/monad-synapse-db-pooler-rw"]["metadata"]["name"] = "pgbouncer"
    assert any("production/monad-synapse-db-pooler-rw" in problem for problem in dangling_references(objects))


def test_a_metric_no_exporter_emits_is_caught():
    """CloudNativePG declares cnpg_pgbouncer_up but never collects it: an
    alert on it would fire forever (its `or vector(0)`) or never."""
    assert unexported_metrics('sum(cnpg_pgbouncer_up{job="x"}) or vector(0)') == ["cnpg_pgbouncer_up"]
    assert unexported_metrics('kube_deployment_replicas_available{cnpg_io_cluster="db"}') == [
        "kube_deployment_replicas_available"
    ]
    assert unexported_metrics("max by (cnpg_io_cluster) (cnpg_pg_replication_lag)") == []
