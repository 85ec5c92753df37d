"""The monitoring component on its own, and the pure rule and dashboard builders."""

from __future__ import annotations

import json

from pulumi.runtime import rpc

from components.observability.alert_rules import (
    ALERTS_GROUP,
    RECORDS_GROUP,
    RuleContext,
    alerts,
    recording_rules,
    rule_groups,
)
from components.observability.dashboards import DASHBOARDS, DashboardContext, dashboard_json
from components.observability.monitoring import AppMonitoring, AppMonitoringArgs
from settings import Monitoring
from tests.helpers import children_of, objects_of, secret


def test_monitoring_component_with_fake_args(run_component):
    args = AppMonitoringArgs(
        namespace="team-a",
        monitoring=Monitoring(),
        slack_webhook_url=secret("https://hooks/x"),
        pagerduty_routing_key=secret("0123456789abcdef"),
        active_color="green",
        idle_color="blue",
        certificate_name="cert-a",
    )
    captured = {}
    run = run_component(lambda: captured.setdefault("component", AppMonitoring("mon", args)))
    kinds = sorted(child.inputs["kind"] for child in children_of(run, "monad:observability:AppMonitoring"))
    assert kinds.count("ConfigMap") == len(DASHBOARDS)
    assert {"Service", "ServiceMonitor", "PrometheusRule", "Secret", "AlertmanagerConfig"} <= set(kinds)
    objects = objects_of(run)
    (alerting,) = [obj for key, obj in objects.items() if key.startswith("Secret/")]
    assert rpc.is_rpc_secret(alerting["stringData"])  # the values travel as Pulumi secrets
    rule = objects["PrometheusRule/monad-synapse"]
    assert [group["name"] for group in rule["spec"]["groups"]] == [RECORDS_GROUP, ALERTS_GROUP]
    down = next(item for item in rule["spec"]["groups"][1]["rules"] if item["alert"] == "MonadSynapseDown")
    assert 'color="green"' in down["expr"]
    from pulumi.runtime.sync_await import _sync_await

    names = _sync_await(captured["component"].alert_names.future())
    assert names is not None and "MonadSynapseDown" in names


def test_rule_builders_are_pure():
    context = RuleContext(
        namespace="team-a",
        monitoring=Monitoring(),
        certificate_name="c",
        maintenance_mode=True,
        active_color="blue",
        idle_color="green",
        idle_expected=False,
    )
    names = [alert.name for alert in alerts(context)]
    assert "MonadSynapseMaintenanceMode" in names and "MonadSynapsePreviewDown" not in names  # a cold idle color
    assert all('namespace="team-a"' in record["expr"] for record in recording_rules(context))
    assert rule_groups(context) == rule_groups(context)  # deterministic


def test_dashboard_builders_are_pure():
    context = DashboardContext("team-a", 99.5, live_color="green")
    for slug in DASHBOARDS:
        model = json.loads(dashboard_json(slug, context))
        assert model["uid"].endswith("team-a") and model["panels"]
    slo = dashboard_json("sli-slo", context)
    assert 'color=\\"green\\"' in slo and dashboard_json("sli-slo", context) == slo
