"""Observability objects: rules, scrape targets, exporters, routing, dashboards."""

from __future__ import annotations

import json
import re

import pytest

from components.observability.alert_rules import label_matchers
from tests.helpers import CLOUDNATIVEPG, secrets_for

RULE = "PrometheusRule/{ns}/monad-synapse"


def alert_rules(objects, ns: str) -> list[dict]:
    groups = objects[RULE.format(ns=ns)]["spec"]["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def readme_anchors(project_dir) -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', (project_dir / "docs" / "alerts.md").read_text()))


@pytest.mark.parametrize(
    "stack, sets",
    [("staging", ()), ("production", ()), ("production", CLOUDNATIVEPG), ("production", ("edge.kind=gateway",))],
    ids=["staging", "production", "production-cloudnativepg", "production-gateway"],
)
def test_prometheus_rule_carries_the_operator_label_and_complete_alerts(stack_objects, project_dir, stack, sets):
    objects = stack_objects(stack, *sets, secrets=secrets_for(sets))
    rule = objects[RULE.format(ns=stack)]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    anchors = readme_anchors(project_dir)
    alerts = alert_rules(objects, stack)
    assert len(alerts) >= 18
    for alert in alerts:
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}
        assert alert["labels"]["namespace"] == stack  # AlertmanagerConfig routes by it
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
        url = alert["annotations"]["runbook_url"]
        assert url.split("#")[1] in anchors, f"docs/alerts.md has no section for {alert['alert']}"
        if alert["expr"] != "vector(1)":
            scoped = (
                f'namespace="{stack}"',
                "monad_synapse:",
                f'job="{stack}/',
            )  # a PodMonitor's job names its namespace
            assert any(scope in alert["expr"] for scope in scoped), alert["alert"]


def test_runbook_severities_are_all_there(stack_objects):
    by_severity: dict[str, set] = {}
    for alert in alert_rules(stack_objects("production", "maintenanceMode=true"), "production"):
        by_severity.setdefault(alert["labels"]["severity"], set()).add(alert["alert"])
    assert {
        "MonadSynapseDown",
        "MonadSynapseDatabaseDown",
        "MonadSynapseHighErrorRate",
        "MonadSynapseSecurityBreach",
        "MonadSynapseWalletBalanceLow",
    } <= by_severity["critical"]
    assert {
        "MonadSynapseHighLatency",
        "MonadSynapseHighCpu",
        "MonadSynapseHighMemory",
        "MonadSynapseUnusualGameResults",
        "MonadSynapseHighAuthFailureRate",
    } <= by_severity["warning"]
    assert {"MonadSynapseDeployment", "MonadSynapseMaintenanceMode", "MonadSynapsePerformanceTrend"} <= by_severity[
        "info"
    ]


def test_thresholds_come_from_config(stack_objects):
    alerts = {
        a["alert"]: a
        for a in alert_rules(
            stack_objects("production", "monitoring.alerts.errorRatio=0.02", "monitoring.alerts.latencyP95Seconds=1"),
            "production",
        )
    }
    assert "> 0.02) unless" in alerts["MonadSynapseHighErrorRate"]["expr"]
    assert alerts["MonadSynapseHighLatency"]["expr"].endswith("> 1")
    assert alerts["MonadSynapseHighErrorRate"]["for"] == "2m"


def test_maintenance_alert_exists_exactly_while_maintenance_mode_is_on(stack_objects):
    def names(*sets):
        return {a["alert"] for a in alert_rules(stack_objects("production", *sets), "production")}

    assert "MonadSynapseMaintenanceMode" in names("maintenanceMode=true")
    assert "MonadSynapseMaintenanceMode" not in names()


def test_rule_label_is_configurable(stack_objects):
    rule = stack_objects("production", "monitoring.ruleLabels.release=prom")[RULE.format(ns="production")]
    assert rule["metadata"]["labels"]["release"] == "prom"


def test_runbook_queries_are_recorded(stack_objects):
    groups = stack_objects("production")[RULE.format(ns="production")]["spec"]["groups"]
    records = {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}
    assert {
        "postgresql_connections_active",
        "postgresql_connections_idle",
        "redis_hit_rate",
        "redis_memory_usage_bytes",
        "monad_synapse:http_requests:rate5m",
        "monad_synapse:http_request_duration_seconds:p95_rate5m",
        "monad_synapse:active_users",
        "monad_synapse:game_results:rate5m",
        "monad_synapse:bets:rate5m",
    } <= records
    assert {f"monad_synapse:http_requests:error_ratio_rate{w}" for w in ("5m", "1h", "6h", "3d")} <= records


def test_service_monitor_scrapes_both_colors_as_one_job(stack_objects):
    objects = stack_objects("production")
    monitor = objects["ServiceMonitor/production/monad-synapse"]["spec"]
    service = objects["Service/production/monad-synapse-metrics"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "monad-synapse"}  # no color
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert service["metadata"]["labels"][monitor["jobLabel"]] == "monad-synapse"
    assert monitor["endpoints"][0]["path"] == "/api/metrics"


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_exporters_are_hardened_and_read_credentials_from_the_secret(stack_objects, kind):
    objects = stack_objects("production")
    deployment = objects[f"Deployment/production/monad-synapse-{kind}-exporter"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {"requests", "limits"} <= set(container["resources"])
    (env,) = container["env"]
    assert env["valueFrom"]["secretKeyRef"]["name"] == "monad-synapse-secrets"
    assert "value" not in env
    # The runbook's `-l app.kubernetes.io/name=monad-synapse` must not match exporters.
    assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == f"{kind}-exporter"
    assert f"ServiceMonitor/production/monad-synapse-{kind}-exporter" in objects
    assert f"NetworkPolicy/production/monad-synapse-{kind}-exporter" in objects


def test_alert_routing(stack_objects):
    objects = stack_objects("production")
    config = objects["AlertmanagerConfig/production/monad-synapse"]["spec"]
    routes = {route["matchers"][0]["value"]: route["receiver"] for route in config["route"]["routes"]}
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    critical = receivers[routes["critical"]]
    assert critical["slackConfigs"][0]["channel"] == "#critical-alerts"
    assert critical["pagerdutyConfigs"][0]["routingKey"] == {
        "name": "monad-synapse-alerting",
        "key": "pagerduty-routing-key",
    }
    assert receivers[routes["warning"]]["slackConfigs"][0]["channel"] == "#monad-synapse-alerts"
    assert receivers[routes["info"]]["slackConfigs"][0]["channel"] == "#monad-synapse-info"
    for receiver in receivers.values():
        for slack in receiver["slackConfigs"]:
            assert slack["apiURL"] == {"name": "monad-synapse-alerting", "key": "slack-webhook-url"}
    assert objects["Secret/production/monad-synapse-alerting"]["stringData"] == {
        "slack-webhook-url": "[secret]",
        "pagerduty-routing-key": "[secret]",
    }


DASHBOARD_TITLES = {
    "application-overview": "Application Overview",
    "infrastructure": "Infrastructure",
    "business-metrics": "Business Metrics",
    "security": "Security",
    "sli-slo": "SLI and SLO",
}


@pytest.mark.parametrize(("slug", "title"), DASHBOARD_TITLES.items())
def test_the_five_runbook_dashboards(stack_objects, slug, title):
    config_map = stack_objects("production")[f"ConfigMap/production/monad-synapse-dashboard-{slug}"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    (document,) = config_map["data"].values()
    model = json.loads(document)
    assert model["title"].endswith(title)
    assert model["uid"].startswith("monad-synapse-") and model["uid"].endswith("-production")
    panels = [panel for panel in model["panels"] if panel["type"] != "row"]
    assert len(panels) >= 4
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert all(target["datasource"]["uid"] == "${datasource}" for target in panel["targets"])
        # Scoped to the stack: its namespace, or a PodMonitor job named after it.
        assert all(
            'namespace="production"' in target["expr"]
            or 'job="production/' in target["expr"]
            or target["expr"].startswith("vector(")
            for target in panel["targets"]
        )
    assert [variable["name"] for variable in model["templating"]["list"]] == ["datasource"]


def test_label_matchers():
    assert label_matchers(job="app", status="=~5..") == 'job="app", status=~"5.."'


def test_every_app_series_gets_the_pod_color_at_scrape_time(stack_objects):
    """The live-color alerts match color="<activeColor>": without this
    relabeling no series would carry it, and MonadSynapseDown would page
    forever (its `or vector(0)` sees nothing up)."""
    monitor = stack_objects("production")["ServiceMonitor/production/monad-synapse"]
    (endpoint,) = monitor["spec"]["endpoints"]
    (relabel,) = [item for item in endpoint["relabelings"] if item.get("targetLabel") == "color"]
    # Prometheus' Kubernetes discovery turns the pod label monad-synapse.com/color into this meta label.
    assert relabel["sourceLabels"] == ["__meta_kubernetes_pod_label_monad_synapse_com_color"]
    assert relabel.get("action", "replace") == "replace"
    pod_labels = stack_objects("production")["Deployment/production/monad-synapse-blue"]["spec"]["template"][
        "metadata"
    ]["labels"]
    assert pod_labels["monad-synapse.com/color"] == "blue"
