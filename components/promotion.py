"""Promotion analysis: before the live Service's selector moves to a color, a
Job runs scripts/promotion/analysis.py against that color (smoke requests to
its own headless Service, then its error ratio and p95 latency from
Prometheus). pulumi-kubernetes awaits Jobs, so a failed analysis fails
`pulumi up` and the selector stays where it was.

The Job runs once per promotion: its name hashes the color, that color's
image, the config and secret checksums and the analysis settings, so an
unchanged stack never re-runs it and a new image or config runs it again.

Optionally (promotion.verification), a second Job runs after the live
Service has moved and judges the live color's error ratio over a short
window with the same script; a bad window fails `pulumi up`, and the deploy
workflow switches back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s

from components.app_config import APP_PORT
from components.labels import object_metadata, selector_labels, workload_labels
from components.script_job import ScriptJob, script_job
from components.switch_gate import ready_service_name
from components.vocabulary import APP_JOB, APP_NAME, PROMOTION_ANALYSIS
from settings import Analysis, Verification

ANALYSIS_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "promotion" / "analysis.py"
ANALYSIS_USER_ID = 10003
_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class AnalysisTarget:
    """The color going live, and what judges it."""

    namespace: pulumi.Input[str]
    namespace_name: str
    color: str
    image: str
    # Config and secret checksums of the pods: a change is a new promotion.
    rollout_checksums: Mapping[str, pulumi.Input[str]]
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
    # False with promotion.skipAnalysis, in maintenance mode, or analysis.enabled false.
    run_analysis: bool = True
    verification: Verification = Verification()
    # False unless promotion.verification.enabled; false with skipAnalysis or in maintenance mode.
    run_verification: bool = False

    def target(self, namespace: pulumi.Input[str], namespace_name: str, color: str, image: str,
               rollout_checksums: Mapping[str, pulumi.Input[str]]) -> AnalysisTarget:
        return AnalysisTarget(namespace, namespace_name, color, image, rollout_checksums, self.analysis,
                              self.inconclusive, self.prometheus_url, self.monitoring_namespace,
                              self.scrape_interval_seconds)


def analysis_window_seconds(target: AnalysisTarget) -> int:
    return max(target.analysis.interval, 2 * target.scrape_interval_seconds)


def analysis_job_name(target: AnalysisTarget, checksums: list, phase: str = "analysis", extra: dict | None = None) -> str:
    facts = {"phase": phase, "extra": extra or {}, "color": target.color, "image": target.image, "checksums": checksums,
             "analysis": target.analysis.model_dump(mode="json"), "inconclusive": target.inconclusive,
             "prometheus": target.prometheus_url, "script": hashlib.sha256(ANALYSIS_SCRIPT.read_bytes()).hexdigest()}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:8]
    prefix = PROMOTION_ANALYSIS if phase == "analysis" else f"{APP_NAME}-promotion-{phase}"
    return f"{prefix}-{target.color}-{digest}"


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
                {"to": [{"namespaceSelector": {"matchLabels": {_NAMESPACE_NAME_LABEL: target.monitoring_namespace}}}],
                 "ports": [{"protocol": "TCP", "port": prometheus_port(target.prometheus_url)}]},
                {"to": [{"podSelector": {"matchLabels": selector_labels(target.color)}}],
                 "ports": [{"protocol": "TCP", "port": APP_PORT}]},
            ],
        },
        opts=child,
    )
    return PromotionSupport(script_map, policy)


def _common_env(target: AnalysisTarget) -> dict[str, str]:
    return {
        "TARGET_URL": f"http://{ready_service_name(target.color)}.{target.namespace_name}.svc:{APP_PORT}",
        "PROMETHEUS_URL": target.prometheus_url,
        "SELECTOR": f'job="{APP_JOB}", namespace="{target.namespace_name}", color="{target.color}"',
        "WINDOW_SECONDS": str(analysis_window_seconds(target)),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def analysis_job(
    parent: pulumi.Resource, name: str, target: AnalysisTarget, support: PromotionSupport, needs: list
) -> k8s.batch.v1.Job:
    """Before the switch: smoke requests and both thresholds, `count` times."""
    analysis = target.analysis
    env = _common_env(target) | {
        "SMOKE": json.dumps([[check.path, check.status] for check in analysis.smoke_paths]),
        "MAX_ERROR_RATIO": str(analysis.max_error_ratio),
        "MAX_P95_SECONDS": str(analysis.max_p95_seconds),
        "MIN_REQUESTS": str(analysis.min_requests),
        "COUNT": str(analysis.count),
        "FAILURE_LIMIT": str(analysis.failure_limit),
        "INTERVAL_SECONDS": str(analysis.interval),
        "INCONCLUSIVE": target.inconclusive,
    }
    return _job(parent, name, target, support, "analysis", env, analysis.count * (analysis.interval + 60) + 120, needs)


def verification_job(
    parent: pulumi.Resource, name: str, target: AnalysisTarget, verification: Verification,
    support: PromotionSupport, needs: list,
) -> k8s.batch.v1.Job:
    """After the switch: the live color's error ratio over a short window.
    Too little traffic passes: the switch is done, only errors undo it."""
    env = _common_env(target) | {
        "SMOKE": "[]",
        "MAX_ERROR_RATIO": str(verification.max_error_ratio),
        "MAX_P95_SECONDS": str(target.analysis.max_p95_seconds),
        "MIN_REQUESTS": str(verification.min_requests),
        "COUNT": str(verification.count),
        "FAILURE_LIMIT": "0",
        "INTERVAL_SECONDS": str(verification.interval),
        "INCONCLUSIVE": "pass",
    }
    deadline = verification.count * (verification.interval + 60) + 120
    return _job(parent, name, target, support, "verification", env, deadline, needs,
                extra_facts=verification.model_dump(mode="json"))


def _job(
    parent: pulumi.Resource, name: str, target: AnalysisTarget, support: PromotionSupport, phase: str,
    env: dict[str, str], deadline: int, needs: list, extra_facts: dict | None = None,
) -> k8s.batch.v1.Job:
    checksums = [target.rollout_checksums[key] for key in sorted(target.rollout_checksums)]
    job_name = pulumi.Output.all(*checksums).apply(
        lambda values: analysis_job_name(target, list(values), phase, extra_facts or {}))
    pod_labels = _LABELS | {"app.kubernetes.io/instance": f"{PROMOTION_ANALYSIS}-{phase}"}
    job = ScriptJob(
        namespace=target.namespace, job_name=job_name, labels=_LABELS, pod_labels=pod_labels, user_id=ANALYSIS_USER_ID,
        container_name=phase, image=target.analysis.image, script_map_name=PROMOTION_ANALYSIS, volume="analysis",
        script="analysis.py", env=env, cpu_limit="200m", memory_limit="96Mi", deadline_seconds=deadline,
    )
    return script_job(name, job, parent, [*needs, support.script_map, support.policy])
