"""The promotion analysis as rendered: the live Service waits for it, it runs
once per promotion, skipAnalysis bypasses it, and it is hardened. Its script
is tested against a real Prometheus in test_promotion_analysis.py."""

from __future__ import annotations

import json

import pytest

from tests.engine_model import ModelStack, job_env

LIVE_SERVICE = "Service/production/monad-synapse"
ANALYSIS = "monad-synapse-promotion-analysis-"


def analysis_jobs(objects: dict[str, dict]) -> dict[str, dict]:
    return {key: obj for key, obj in objects.items() if key.startswith(f"Job/production/{ANALYSIS}")}


def resources_by_name(rendering) -> dict:
    return {resource.name: resource for resource in rendering.run.resources}


@pytest.mark.parametrize(
    "sets", [("production",), ("production", "activeColor=green")], ids=["blue", "switch-to-green"]
)
def test_the_live_service_waits_for_the_analysis_of_its_color(render_stack, stack_objects, sets):
    color = "green" if "activeColor=green" in sets else "blue"
    resources = resources_by_name(render_stack(*sets))
    job = resources[f"monad-synapse-analysis-{color}"]
    assert job.urn in resources["monad-synapse-live-service"].depends_on
    # Capacity first: the analysis judges the color at the size it will serve with.
    assert resources[f"monad-synapse-switch-gate-{color}"].urn in job.depends_on
    objects = stack_objects(*sets)
    (analysis,) = analysis_jobs(objects).values()
    assert analysis["metadata"]["name"] == f"{ANALYSIS}{color}"
    env = job_env(objects, analysis)
    # The color's own headless Service: the preview Service flips in the same up.
    assert env["TARGET_URL"] == f"http://monad-synapse-{color}-ready.production.svc:3000"
    assert env["SELECTOR"] == f'job="monad-synapse", namespace="production", color="{color}"'
    assert env["PROMETHEUS_URL"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    assert env["INCONCLUSIVE"] == "fail"  # production
    assert json.loads(env["SMOKE"]) == [["/api/health", 200]]


def skip_reason(objects: dict[str, dict]) -> str:
    (job,) = analysis_jobs(objects).values()
    return job_env(objects, job)["SKIP_REASON"]


def test_skip_analysis_bypasses_it_and_says_so(stack_objects):
    """The Job still records the switch (so lifting the skip later judges
    nothing after the fact), and passes at once, saying why."""
    objects = stack_objects("production", "activeColor=green", "promotion.skipAnalysis=true")
    assert skip_reason(objects) == "promotion.skipAnalysis is true"
    assert skip_reason(stack_objects("production", "activeColor=green")) == ""
    rule = objects["PrometheusRule/production/monad-synapse"]
    alerts = {item.get("alert") for group in rule["spec"]["groups"] for item in group["rules"]}
    assert "MonadSynapsePromotionAnalysisSkipped" in alerts
    assert not analysis_jobs(stack_objects("production", "promotion.analysis.enabled=false"))


def test_maintenance_mode_runs_no_analysis(render_stack, stack_objects):
    """The maintenance page has nothing to judge, and an incident or a restore
    must not wait minutes for an analysis (or fail on one for want of traffic)."""
    sets = ("production", "maintenanceMode=true", "activeColor=green", "promotion.verification.enabled=true")
    objects = stack_objects(*sets)
    assert skip_reason(objects) == "maintenanceMode is true"
    (verification,) = [obj for key, obj in objects.items() if key.startswith(VERIFICATION)]
    assert job_env(objects, verification)["SKIP_REASON"] == "maintenanceMode is true"
    # The capacity gate still holds: maintenance pages need pods too.
    resources = resources_by_name(render_stack(*sets))
    assert resources["monad-synapse-switch-gate-green"].urn in resources["monad-synapse-live-service"].depends_on


def analysis_job(stack_objects, *sets) -> dict:
    (job,) = analysis_jobs(stack_objects("production", *sets)).values()
    return job


def test_the_analysis_runs_once_per_promotion(stack_objects):
    """Only a switch makes a new analysis Job: nothing else changes the Job's
    name or its (immutable) template, so nothing else runs it again."""
    base = analysis_job(stack_objects)
    for change in (
        "colors.green.image=ghcr.io/monad-synapse/monad-synapse:1.5.0",  # a release to the idle color
        "colors.blue.image=ghcr.io/monad-synapse/monad-synapse:1.5.0",  # a hotfix on the live one
        "appConfig.FEATURE_X=on",
        "promotion.analysis.maxErrorRatio=0.05",
        "promotion.skipAnalysis=true",
    ):
        job = analysis_job(stack_objects, change)
        assert (job["metadata"]["name"], job["spec"]["template"]) == (
            base["metadata"]["name"],
            base["spec"]["template"],
        )
    assert analysis_job(stack_objects, "activeColor=green")["metadata"]["name"] != base["metadata"]["name"]


def test_the_analysis_job_is_hardened_and_may_reach_only_prometheus_and_its_color(stack_objects):
    objects = stack_objects("production", "activeColor=green")
    (job,) = analysis_jobs(objects).values()
    spec = job["spec"]
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] > 0 and "ttlSecondsAfterFinished" not in spec
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "python:3.13.5-alpine3.22"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["volumes"][0]["configMap"]["name"] == "monad-synapse-promotion-analysis"
    policy = objects["NetworkPolicy/production/monad-synapse-promotion-analysis"]["spec"]
    assert policy["ingress"] == []
    (prometheus, color) = policy["egress"]
    assert prometheus["ports"] == [{"protocol": "TCP", "port": 9090}]
    assert prometheus["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "monitoring"
    assert color["to"][0]["podSelector"]["matchLabels"]["monad-synapse.com/color"] == "green"
    app = objects["NetworkPolicy/production/monad-synapse-app"]["spec"]["ingress"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "monad-synapse-promotion-analysis"}}} in app[1][
        "from"
    ]


def test_staging_passes_inconclusive_and_config_changes_it(stack_objects):
    def env(*sets):
        objects = stack_objects(*sets)
        (job,) = [obj for key, obj in objects.items() if key.startswith("Job/staging/monad-synapse-promotion")]
        return job_env(objects, job)

    assert env("staging")["INCONCLUSIVE"] == "pass"
    custom = env(
        "staging",
        "promotion.analysis.inconclusive=fail",
        "promotion.analysis.interval=2m",
        "promotion.analysis.count=3",
        "promotion.analysis.smokePaths[0]=/api/ready",
    )
    assert (custom["INCONCLUSIVE"], custom["INTERVAL_SECONDS"], custom["COUNT"]) == ("fail", "120", "3")
    assert json.loads(custom["SMOKE"]) == [["/api/ready", 200]]


def test_a_failed_analysis_leaves_the_live_selector_untouched(render_stack):
    stack = ModelStack()
    assert not stack.up(render_stack("production")).failed
    stack.settle()
    stack.analysis = "error ratio 0.2 above 0.01"
    result = stack.up(render_stack("production", "activeColor=green"))
    assert result.failed
    assert result.op(LIVE_SERVICE) == "skipped"
    assert stack.cluster.objects[LIVE_SERVICE]["spec"]["selector"]["monad-synapse.com/color"] == "blue"
    # The emergency switch moves traffic without it.
    stack.analysis = "still failing"
    result = stack.up(render_stack("production", "activeColor=green", "promotion.skipAnalysis=true"))
    assert not result.failed
    assert stack.cluster.objects[LIVE_SERVICE]["spec"]["selector"]["monad-synapse.com/color"] == "green"


VERIFICATION = "Job/production/monad-synapse-promotion-verification-"


def test_verification_after_the_switch_is_opt_in_and_judges_errors_only(render_stack, stack_objects):
    assert not any(key.startswith(VERIFICATION) for key in stack_objects("production"))
    sets = (
        "production",
        "activeColor=green",
        "promotion.verification.enabled=true",
        "promotion.verification.maxErrorRatio=0.02",
    )
    resources = resources_by_name(render_stack(*sets))
    verification = resources["monad-synapse-verification-green"]
    # It judges live traffic, so it runs after the live Service has moved.
    assert resources["monad-synapse-live-service"].urn in verification.depends_on
    assert verification.urn not in resources["monad-synapse-live-service"].depends_on
    objects = stack_objects(*sets)
    (job,) = [obj for key, obj in objects.items() if key.startswith(VERIFICATION)]
    assert job["metadata"]["name"] == "monad-synapse-promotion-verification-green"
    env = job_env(objects, job)
    # No smoke requests (that was the analysis); too little traffic passes.
    assert (env["SMOKE"], env["INCONCLUSIVE"], env["MAX_ERROR_RATIO"], env["FAILURE_LIMIT"]) == (
        "[]",
        "pass",
        "0.02",
        "0",
    )
    # Distinct from the analysis Job, so both run in one promotion.
    assert len(analysis_jobs(stack_objects(*sets))) == 1
    # The emergency switch (the workflow's switch-back) is judged by neither.
    skipped = stack_objects(*sets, "promotion.skipAnalysis=true")
    for key, job in skipped.items():
        if key.startswith(("Job/production/monad-synapse-promotion-",)):
            assert job_env(skipped, job)["SKIP_REASON"] == "promotion.skipAnalysis is true"


def test_a_failed_verification_fails_the_up_and_the_switch_back_restores_traffic(render_stack):
    """The deploy workflow's path, replayed: the verification fails after the
    live Service moved; tools.switch_back's config (previous color, no
    analysis) moves it back."""
    verify = "promotion.verification.enabled=true"
    stack = ModelStack()
    assert not stack.up(render_stack("production", verify)).failed
    stack.settle()
    stack.verification = "error ratio 0.3 above 0.01"
    result = stack.up(render_stack("production", verify, "activeColor=green"))
    assert result.failed
    # Too late to keep traffic: the Service moved before the verification ran.
    assert result.op(LIVE_SERVICE) == "update"
    assert stack.cluster.objects[LIVE_SERVICE]["spec"]["selector"]["monad-synapse.com/color"] == "green"
    result = stack.up(render_stack("production", verify, "activeColor=blue", "promotion.skipAnalysis=true"))
    assert not result.failed
    assert stack.cluster.objects[LIVE_SERVICE]["spec"]["selector"]["monad-synapse.com/color"] == "blue"
