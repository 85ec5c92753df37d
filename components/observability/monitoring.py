"""What Prometheus, Alertmanager and Grafana need from the app: a scrape
target, the PrometheusRule, alert routing and the five dashboards."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.labels import COLOR_LABEL, NAME_LABEL, common_labels, object_metadata, selector_labels
from components.common.vocabulary import (
    APP_JOB,
    APP_NAME,
    APP_PORT,
    BACKUP_CRONJOB,
    DRILL_CRONJOB,
    EDGE_PROXIES_MONITOR,
    pod_monitor_job,
)
from components.observability.alert_rules import RuleContext, alerts, rule_groups
from components.observability.dashboards import DASHBOARDS, DashboardContext, dashboard_json
from components.observability.rule_context import DatabaseWatch
from platform_contract import EDGE_NAMESPACE, GRAFANA_DASHBOARD_LABEL, GRAFANA_DASHBOARD_LABEL_VALUE
from settings import Monitoring, Settings, StackSecrets

METRICS_LABEL = "monad-synapse.com/metrics"
# Prometheus' Kubernetes discovery exposes pod labels as
# __meta_kubernetes_pod_label_<name>, non-alphanumerics turned into "_".
COLOR_META_LABEL = "__meta_kubernetes_pod_label_" + "".join(
    character if character.isalnum() else "_" for character in COLOR_LABEL
)
ALERTING_SECRET = f"{APP_NAME}-alerting"


def alertmanager_route(monitoring: Monitoring) -> tuple[dict, list[dict]]:
    """Route tree and receivers: critical to Slack #critical-alerts and the
    pager, warnings to Slack, info to a quiet channel."""
    channels = monitoring.alerts

    def slack(channel: str, send_resolved: bool) -> dict:
        return {
            "apiURL": {"name": ALERTING_SECRET, "key": "slack-webhook-url"},
            "channel": channel,
            "sendResolved": send_resolved,
            "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})",
            "text": "{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }}\n"
            "Runbook: {{ .Annotations.runbook_url }}\n{{ end }}",
        }

    def severity(value: str) -> list[dict]:
        return [{"name": "severity", "value": value, "matchType": "="}]

    receivers = [
        {
            "name": "critical",
            "slackConfigs": [slack(channels.critical_channel, True)],
            "pagerdutyConfigs": [
                {
                    "routingKey": {"name": ALERTING_SECRET, "key": "pagerduty-routing-key"},
                    "severity": "critical",
                    "description": "{{ .CommonAnnotations.summary }}",
                    "sendResolved": True,
                }
            ],
        },
        {"name": "warning", "slackConfigs": [slack(channels.warning_channel, True)]},
        {"name": "info", "slackConfigs": [slack(channels.info_channel, False)]},
    ]
    route = {
        "receiver": "warning",
        "groupBy": ["alertname", "namespace"],
        "groupWait": "30s",
        "groupInterval": "5m",
        "repeatInterval": "4h",
        "routes": [
            {"receiver": "critical", "matchers": severity("critical"), "repeatInterval": "1h"},
            {"receiver": "warning", "matchers": severity("warning")},
            {"receiver": "info", "matchers": severity("info"), "repeatInterval": "24h"},
        ],
    }
    return route, receivers


@dataclass(frozen=True)
class AppMonitoringArgs:
    namespace: str
    monitoring: Monitoring
    slack_webhook_url: pulumi.Output[str]
    pagerduty_routing_key: pulumi.Output[str]
    # Facts of the rest of the stack the rules and dashboards watch.
    active_color: str = "blue"
    idle_color: str = "green"
    idle_expected: bool = True
    maintenance_mode: bool = False
    analysis_skipped: bool = False
    analysis_disabled: bool = False  # promotion.analysis.enabled false
    certificate_name: str = ""
    backup_cronjob: Optional[str] = None
    restore_drill_cronjob: Optional[str] = None
    backup_max_age_seconds: Optional[int] = None
    database: Optional[DatabaseWatch] = None
    # What the rules and dashboards that name the live color wait for (the
    # switch: the live Service, the verification): they move with live
    # traffic, and stay on the serving color when a switch fails. Declared on
    # those children themselves, not on the component, so that the rest of
    # the monitoring (ServiceMonitor, Alertmanager config) does not wait.
    live_traffic_moved: tuple = ()
    # Pod labels of the Gateway's Envoy proxies, and their namespace
    # (gateway mode; None with ingress-nginx, whose controller is not watched).
    edge_proxies: Optional[Mapping[str, str]] = None
    edge_proxy_namespace: str = EDGE_NAMESPACE

    @property
    def edge_job(self) -> Optional[str]:
        return pod_monitor_job(self.namespace, EDGE_PROXIES_MONITOR) if self.edge_proxies else None

    @classmethod
    def for_stack(
        cls,
        settings: Settings,
        secrets: StackSecrets,
        certificate_name: str,
        live_traffic_moved: tuple = (),
        edge_proxies: Optional[Mapping[str, str]] = None,
    ) -> AppMonitoringArgs:
        """The stack's facts as the rules and dashboards need them."""
        backup = settings.backup
        return cls(
            namespace=settings.namespace,
            monitoring=settings.monitoring,
            slack_webhook_url=secrets.alert_slack_webhook_url,
            pagerduty_routing_key=secrets.alert_pagerduty_routing_key,
            active_color=settings.active_color,
            idle_color=settings.idle_color,
            idle_expected=settings.warm_idle_replicas > 0,
            maintenance_mode=settings.maintenance_mode,
            analysis_skipped=settings.promotion.skip_analysis,
            analysis_disabled=not settings.promotion.analysis.enabled,
            live_traffic_moved=live_traffic_moved,
            certificate_name=certificate_name,
            backup_cronjob=BACKUP_CRONJOB if backup.enabled else None,
            restore_drill_cronjob=DRILL_CRONJOB if backup.enabled and backup.drill.enabled else None,
            backup_max_age_seconds=backup.stale_after_seconds,
            database=DatabaseWatch.of(settings),
            edge_proxies=edge_proxies,
            edge_proxy_namespace=settings.gateway_proxy_namespace,
        )

    def rule_context(self) -> RuleContext:
        """The rules' view of these facts (every RuleContext field has its namesake here)."""
        return RuleContext(**{field.name: getattr(self, field.name) for field in dataclasses.fields(RuleContext)})


class AppMonitoring(pulumi.ComponentResource):
    """ServiceMonitor, PrometheusRule, AlertmanagerConfig and dashboards."""

    alert_names: pulumi.Output[list]
    """Names of the alerts in the PrometheusRule."""
    dashboard_config_maps: pulumi.Output[list]
    """ConfigMaps the Grafana sidecar loads."""

    def __init__(self, name: str, args: AppMonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:observability:AppMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        monitoring = args.monitoring
        namespace = args.namespace
        rule_context = args.rule_context()
        operator_labels = dict(monitoring.operator_labels)

        def metadata(object_name: str, labels: Optional[Mapping[str, str]] = None) -> k8s.meta.v1.ObjectMetaArgs:
            return object_metadata(object_name, namespace, common_labels("monitoring") | dict(labels or {}))

        # One headless Service over both colors, so the scrape job (and every
        # alert's `job` matcher) does not depend on which color is live.
        metrics_service = k8s.core.v1.Service(
            f"{name}-metrics-service",
            metadata=metadata(f"{APP_NAME}-metrics", {METRICS_LABEL: "true"}),
            spec=k8s.core.v1.ServiceSpecArgs(
                cluster_ip="None",
                selector=selector_labels(),
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=APP_PORT, target_port="http", protocol="TCP")],
            ),
            opts=child,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=metadata(APP_NAME, operator_labels),
            spec={
                # job="monad-synapse": the Service's app.kubernetes.io/name.
                "jobLabel": NAME_LABEL,
                "selector": {"matchLabels": {NAME_LABEL: APP_JOB, METRICS_LABEL: "true"}},
                "namespaceSelector": {"matchNames": [namespace]},
                "endpoints": [
                    {
                        "port": "http",
                        "path": monitoring.metrics_path,
                        "interval": f"{monitoring.scrape_interval_seconds}s",
                        "scrapeTimeout": f"{min(10, monitoring.scrape_interval_seconds)}s",
                        # Every series gets the pod's color: live alerts look at
                        # the active color only (the label name is sanitized
                        # into Prometheus' discovery meta label).
                        "relabelings": [
                            {
                                "action": "replace",
                                "sourceLabels": [COLOR_META_LABEL],
                                "targetLabel": "color",
                            }
                        ],
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[metrics_service]),
        )
        if args.edge_proxies:
            # The edge's own health and answers: the app's metrics cannot see
            # an edge that is down, nor what it rejects before the app.
            k8s.apiextensions.CustomResource(
                f"{name}-edge-pod-monitor",
                api_version="monitoring.coreos.com/v1",
                kind="PodMonitor",
                metadata=metadata(EDGE_PROXIES_MONITOR, operator_labels),
                spec={
                    "namespaceSelector": {"matchNames": [args.edge_proxy_namespace]},
                    "selector": {"matchLabels": dict(args.edge_proxies)},
                    "podMetricsEndpoints": [
                        {
                            "port": "metrics",
                            "path": "/stats/prometheus",
                            "interval": f"{monitoring.scrape_interval_seconds}s",
                        }
                    ],
                },
                opts=child,
            )
        groups = rule_groups(rule_context)
        k8s.apiextensions.CustomResource(
            f"{name}-prometheus-rule",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata=metadata(APP_NAME, operator_labels),
            spec={"groups": groups},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.live_traffic_moved)),
        )
        alerting_secret = k8s.core.v1.Secret(
            f"{name}-alerting-secret",
            metadata=metadata(ALERTING_SECRET),
            type="Opaque",
            string_data={
                "slack-webhook-url": pulumi.Output.secret(args.slack_webhook_url),
                "pagerduty-routing-key": pulumi.Output.secret(args.pagerduty_routing_key),
            },
            opts=child,
        )
        route, receivers = alertmanager_route(monitoring)
        k8s.apiextensions.CustomResource(
            f"{name}-alertmanager-config",
            api_version="monitoring.coreos.com/v1alpha1",
            kind="AlertmanagerConfig",
            metadata=metadata(APP_NAME, operator_labels),
            spec={
                "route": route,
                "receivers": receivers,
                # While the app is down, its other alerts are noise.
                "inhibitRules": [
                    {
                        "sourceMatch": [{"name": "alertname", "value": "MonadSynapseDown", "matchType": "="}],
                        "targetMatch": [{"name": "severity", "value": "warning|info", "matchType": "=~"}],
                        "equal": ["namespace"],
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[alerting_secret]),
        )
        dashboard_context = DashboardContext(
            namespace,
            monitoring.availability_objective,
            live_color=args.active_color,
            database=args.database,
            edge_job=args.edge_job,
        )
        config_maps = []
        for slug in DASHBOARDS:
            config_map = k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{slug}",
                metadata=metadata(
                    f"{APP_NAME}-dashboard-{slug}", {GRAFANA_DASHBOARD_LABEL: GRAFANA_DASHBOARD_LABEL_VALUE}
                ),
                data={f"{APP_NAME}-{slug}.json": dashboard_json(slug, dashboard_context)},
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.live_traffic_moved)),
            )
            config_maps.append(config_map.metadata.name)

        self.alert_names = pulumi.Output.from_input([alert.name for alert in alerts(rule_context)])
        self.dashboard_config_maps = pulumi.Output.all(*config_maps)
        self.register_outputs({"alert_names": self.alert_names, "dashboard_config_maps": self.dashboard_config_maps})
