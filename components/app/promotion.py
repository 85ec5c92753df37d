"""Promotion analysis: before the live Service's selector moves to a color, a
Job runs scripts/promotion/analysis.py against that color (smoke requests to
its own headless Service, then its error ratio and p95 latency from
Prometheus). pulumi-kubernetes awaits Jobs, so a failed analysis fails
`pulumi up` and the selector stays where it was.

The Jobs run once per promotion: each color has its own, made when that
color goes live (components/common/script_job.py). Their thresholds and the skip
switch (promotion.skipAnalysis, maintenance mode) are read from settings
ConfigMaps when the pod starts, so a change that moves no traffic (a live
config change, a new threshold, lifting a skip) judges nothing after the fact.

Optionally (promotion.verification), a second Job runs after the live
Service has moved and judges the live color's error ratio over a short
window with the same script; a bad window fails `pulumi up`, and the deploy
workflow switches back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s

from components.app.switch_gate import ready_service_name
from components.common.labels import object_metadata, selector_labels, workload_labels
from components.common.script_job import ScriptJob, script_job, settings_map
from components.common.vocabulary import APP_JOB, APP_NAME, APP_PORT, PROMOTION_ANALYSIS
from settings import Analysis, Settings, Verification

ANALYSIS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "promotion" / "analysis.py"
ANALYSIS_USER_ID = 10003
_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class AnalysisTarget:
    """The color going live, and what judges it."""

    namespace: pulumi.Input[str]
    namespace_name: str
    color: str
    analysis: Analysis
    inconclusive: str  # fail | pass
    prometheus_url: str
    monitoring_namespace: str
    # Rate windows cover at least two scrapes.
    scrape_interval_seconds: int


@dataclass(frozen=True)
class AnalysisSettings:
    """What the stack says about judging a promotion (the color comes later)."""

    analysis: Analysis
    inconclusive: str
    prometheus_url: str
    monitoring_namespace: str
    scrape_interval_seconds: int
    verification: Verification = Verification()
    # Why the promotion Jobs pass unjudged (promotion.skipAnalysis, maintenance
    # mode), or "" when they judge.
    skip_reason: str = ""

    @classmethod
    def of(cls, settings: Settings) -> AnalysisSettings:
        """The evidence a color must show before live traffic moves to it;
        skipAnalysis is the emergency switch (an info alert fires meanwhile)."""
        return cls(
            analysis=settings.promotion.analysis,
            inconclusive=settings.analysis_inconclusive,
            prometheus_url=settings.prometheus_url,
            monitoring_namespace=settings.network.monitoring_namespace,
            scrape_interval_seconds=settings.monitoring.scrape_interval_seconds,
            verification=settings.promotion.verification,
            skip_reason=settings.promotion_skip_reason,
        )

    def target(self, namespace: pulumi.Input[str], namespace_name: str, color: str) -> AnalysisTarget:
        return AnalysisTarget(
            namespace,
            namespace_name,
            color,
            self.analysis,
            self.inconclusive,
            self.prometheus_url,
            self.monitoring_namespace,
            self.scrape_interval_seconds,
        )


def analysis_window_seconds(target: AnalysisTarget) -> int:
    return max(target.analysis.interval, 2 * target.scrape_interval_seconds)


def promotion_job_name(phase: str, color: str) -> str:
    """One Job per phase and color (analysis, verification)."""
    return f"{APP_NAME}-promotion-{phase}-{color}"


def prometheus_port(url: str) -> int:
    parsed = urlparse(url)
    return parsed.port or (443 if parsed.scheme == "https" else 80)


@dataclass(frozen=True)
class PromotionSupport:
    """The script and NetworkPolicy both promotion Jobs use."""

    script_map: k8s.core.v1.ConfigMap
    policy: k8s.networking.v1.NetworkPolicy


_LABELS = workload_labels(PROMOTION_ANALYSIS, PROMOTION_ANALYSIS, "promotion-analysis")


def promotion_support(parent: pulumi.Resource, name: str, target: AnalysisTarget) -> PromotionSupport:
    child = pulumi.ResourceOptions(parent=parent)
    script_map = k8s.core.v1.ConfigMap(
        f"{name}-script",
        metadata=object_metadata(PROMOTION_ANALYSIS, target.namespace, _LABELS),
        data={"analysis.py": ANALYSIS_SCRIPT.read_text()},
        opts=child,
    )
    # It may reach Prometheus and the color it judges, nothing else (DNS is
    # allowed to every pod by the namespace's policies).
    policy = k8s.networking.v1.NetworkPolicy(
        f"{name}-network-policy",
        metadata=object_metadata(PROMOTION_ANALYSIS, target.namespace, _LABELS),
        spec={
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": PROMOTION_ANALYSIS}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [
                {
                    "to": [
                        {"namespaceSelector": {"matchLabels": {_NAMESPACE_NAME_LABEL: target.monitoring_namespace}}}
                    ],
                    "ports": [{"protocol": "TCP", "port": prometheus_port(target.prometheus_url)}],
                },
                {
                    "to": [{"podSelector": {"matchLabels": selector_labels(target.color)}}],
                    "ports": [{"protocol": "TCP", "port": APP_PORT}],
                },
            ],
        },
        opts=child,
    )
    return PromotionSupport(script_map, policy)


def _color_env(target: AnalysisTarget) -> dict[str, str]:
    """What names the color: the Job's template, fixed for its life."""
    return {
        "TARGET_URL": f"http://{ready_service_name(target.color)}.{target.namespace_name}.svc:{APP_PORT}",
        "SELECTOR": f'job="{APP_JOB}", namespace="{target.namespace_name}", color="{target.color}"',
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def analysis_settings(target: AnalysisTarget, skip_reason: str) -> dict[str, str]:
    """Before the switch: smoke requests and both thresholds, `count` times."""
    analysis = target.analysis
    return {
        "PROMETHEUS_URL": target.prometheus_url,
        "WINDOW_SECONDS": str(analysis_window_seconds(target)),
        "SMOKE": json.dumps([[check.path, check.status] for check in analysis.smoke_paths]),
        "MAX_ERROR_RATIO": str(analysis.max_error_ratio),
        "MAX_P95_SECONDS": str(analysis.max_p95_seconds),
        "MIN_REQUESTS": str(analysis.min_requests),
        "COUNT": str(analysis.count),
        "FAILURE_LIMIT": str(analysis.failure_limit),
        "INTERVAL_SECONDS": str(analysis.interval),
        "INCONCLUSIVE": target.inconclusive,
        "SKIP_REASON": skip_reason,
    }


def verification_settings(target: AnalysisTarget, verification: Verification, skip_reason: str) -> dict[str, str]:
    """After the switch: the live color's error ratio over a short window.
    Too little traffic passes: the switch is done, only errors undo it."""
    return {
        "PROMETHEUS_URL": target.prometheus_url,
        "WINDOW_SECONDS": str(analysis_window_seconds(target)),
        "SMOKE": "[]",
        "MAX_ERROR_RATIO": str(verification.max_error_ratio),
        "MAX_P95_SECONDS": str(target.analysis.max_p95_seconds),
        "MIN_REQUESTS": str(verification.min_requests),
        "COUNT": str(verification.count),
        "FAILURE_LIMIT": "0",
        "INTERVAL_SECONDS": str(verification.interval),
        "INCONCLUSIVE": "pass",
        "SKIP_REASON": skip_reason,
    }


def analysis_job(
    parent: pulumi.Resource,
    name: str,
    target: AnalysisTarget,
    support: PromotionSupport,
    skip_reason: str,
    needs: list,
) -> k8s.batch.v1.Job:
    """Before the switch: the Job the live Service waits for."""
    analysis = target.analysis
    deadline = analysis.count * (analysis.interval + 60) + 120
    return _job(parent, name, target, support, "analysis", analysis_settings(target, skip_reason), deadline, needs)


def verification_job(
    parent: pulumi.Resource,
    name: str,
    target: AnalysisTarget,
    verification: Verification,
    support: PromotionSupport,
    skip_reason: str,
    needs: list,
) -> k8s.batch.v1.Job:
    """After the switch: a bad window fails `pulumi up` (the workflow switches back)."""
    deadline = verification.count * (verification.interval + 60) + 120
    return _job(
        parent,
        name,
        target,
        support,
        "verification",
        verification_settings(target, verification, skip_reason),
        deadline,
        needs,
    )


def _job(
    parent: pulumi.Resource,
    name: str,
    target: AnalysisTarget,
    support: PromotionSupport,
    phase: str,
    settings: dict[str, str],
    deadline: int,
    needs: list,
) -> k8s.batch.v1.Job:
    settings_name = f"{APP_NAME}-promotion-{phase}-settings"
    settings_config = settings_map(
        f"{name}-settings", object_metadata(settings_name, target.namespace, _LABELS), settings, parent
    )
    pod_labels = _LABELS | {"app.kubernetes.io/instance": f"{PROMOTION_ANALYSIS}-{phase}"}
    job = ScriptJob(
        namespace=target.namespace,
        job_name=promotion_job_name(phase, target.color),
        labels=_LABELS,
        pod_labels=pod_labels,
        user_id=ANALYSIS_USER_ID,
        container_name=phase,
        image=target.analysis.image,
        script_map_name=PROMOTION_ANALYSIS,
        volume="analysis",
        script="analysis.py",
        env=_color_env(target),
        settings_map_name=settings_name,
        cpu_limit="200m",
        memory_limit="96Mi",
        deadline_seconds=deadline,
    )
    return script_job(
        f"{name}-{target.color}", job, parent, [*needs, support.script_map, support.policy, settings_config]
    )
