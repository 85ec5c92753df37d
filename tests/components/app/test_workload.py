"""The blue/green workload: runbook names, pod hardening, autoscaling, and the
runbook operations as config changes, each shown by comparing two renders."""

from __future__ import annotations

import json

import pytest

from components.app.blue_green import image_version
from settings import node_heap_mebibytes
from tools.diff import diff_objects as compare
from tools.engine.live import ProviderConfig

STACKS = ("staging", "production")


# The program applies everything with mutable ConfigMaps and Secrets (its provider).
PROGRAM_PROVIDER = ProviderConfig(enable_config_map_mutable=True, enable_secret_mutable=True)


def changes_between(stack_objects, stack: str, *sets: str):
    """Every change a config change makes (a promotion Job among them only on a switch)."""
    after = stack_objects(stack, *sets)
    providers = {identity: PROGRAM_PROVIDER for identity in after}
    return {change.identity: change for change in compare(stack_objects(stack), after, providers=providers)}


def deployment(objects, namespace: str, color: str) -> dict:
    return objects[f"Deployment/{namespace}/monad-synapse-{color}"]


# --- names and shape -------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_runbook_names_in_each_stack(stack_objects, stack):
    objects = stack_objects(stack)
    ns = stack
    for identity in (
        f"Namespace/{ns}",
        f"ServiceAccount/{ns}/monad-synapse",
        f"ConfigMap/{ns}/monad-synapse-config",
        f"Secret/{ns}/monad-synapse-secrets",
        f"Deployment/{ns}/monad-synapse-blue",
        f"Deployment/{ns}/monad-synapse-green",
        f"Service/{ns}/monad-synapse",
        f"Service/{ns}/monad-synapse-preview",
        f"HorizontalPodAutoscaler/{ns}/monad-synapse-blue-hpa",
        f"VerticalPodAutoscaler/{ns}/monad-synapse-blue-vpa",
        f"VerticalPodAutoscaler/{ns}/monad-synapse-green-vpa",
        f"PodDisruptionBudget/{ns}/monad-synapse-blue-pdb",
        f"NetworkPolicy/{ns}/default-deny-all",
    ):
        assert identity in objects, identity
    for color in ("blue", "green"):
        template = deployment(objects, ns, color)["spec"]["template"]
        assert template["metadata"]["labels"]["app.kubernetes.io/name"] == "monad-synapse"
        assert template["metadata"]["labels"]["monad-synapse.com/color"] == color
        assert [c["name"] for c in template["spec"]["containers"]] == ["monad-synapse"]


def test_namespace_enforces_restricted_pod_security(stack_objects):
    labels = stack_objects("production")["Namespace/production"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    account = stack_objects("production")["ServiceAccount/production/monad-synapse"]
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("color", ["blue", "green"])
def test_pods_meet_restricted_profile_and_carry_probes(stack_objects, color):
    pod = deployment(stack_objects("production"), "production", color)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert {"requests", "limits"} <= set(container["resources"])
    # Liveness asks only "is the process alive"; readiness may check
    # dependencies; the startup probe gives a slow boot two minutes.
    assert container["livenessProbe"]["httpGet"]["path"] == container["startupProbe"]["httpGet"]["path"] == "/api/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/health"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] == 120
    mounted = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"/tmp", "/app/.next/cache"} <= mounted
    # Every scratch volume is bounded, and the pod requests room for all of them.
    sizes = [volume["emptyDir"]["sizeLimit"] for volume in pod["volumes"] if "emptyDir" in volume]
    assert sizes == ["256Mi", "1Gi"]
    assert container["resources"]["requests"]["ephemeral-storage"] == "1344Mi"  # 256Mi + 1Gi + 64Mi of logs
    labels = deployment(stack_objects("production"), "production", color)["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/instance"] == f"monad-synapse-{color}"
    assert pod["priorityClassName"] == "monad-synapse-production"
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] < pod["terminationGracePeriodSeconds"]
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }


def test_rollout_never_takes_a_pod_away_first(stack_objects):
    strategy = deployment(stack_objects("production"), "production", "blue")["spec"]["strategy"]
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_selectors_are_stable_name_and_color_only(stack_objects):
    before = deployment(stack_objects("production"), "production", "green")
    after = deployment(
        stack_objects("production", "colors.green.image=ghcr.io/monad-synapse/monad-synapse:2.0.0"),
        "production",
        "green",
    )
    assert (
        before["spec"]["selector"]
        == after["spec"]["selector"]
        == {"matchLabels": {"app.kubernetes.io/name": "monad-synapse", "monad-synapse.com/color": "green"}}
    )
    assert after["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == "2.0.0"


@pytest.mark.parametrize(
    ("limit", "memory_request", "utilization", "heap"),
    [
        (1024, 512, 80, 313),  # defaults: the HPA target (409 MiB) less 96 MiB of native memory is tighter
        (2048, 512, 80, 313),  # the runbook's 2Gi limit alone does not let the heap outgrow the target
        (2048, 1024, 80, 723),
        (1024, 1024, 100, 768),  # then three quarters of the limit is tighter
    ],
)
def test_node_heap_follows_the_tighter_of_limit_and_hpa_target(limit, memory_request, utilization, heap):
    assert node_heap_mebibytes(limit, memory_request, utilization) == heap
    # Settled: a pod at its heap ceiling plus native memory stays at or below the HPA's target.
    assert heap + 96 <= memory_request * utilization / 100 and heap <= 0.75 * limit


def test_node_options_in_the_pod_follow_the_settings(stack_objects):
    def node_options(*sets):
        container = deployment(stack_objects("production", *sets), "production", "blue")["spec"]["template"]["spec"][
            "containers"
        ][0]
        return next(item["value"] for item in container["env"] if item["name"] == "NODE_OPTIONS")

    assert node_options() == "--max-old-space-size=313"
    assert node_options("resources.limits.memory=2Gi") == "--max-old-space-size=313"
    assert node_options("resources.limits.memory=2Gi", "resources.requests.memory=1Gi") == "--max-old-space-size=723"


def test_probe_paths_are_config(stack_objects):
    container = deployment(
        stack_objects(
            "production", "probes.livenessPath=/healthz", "probes.readinessPath=/readyz", "probes.startupSeconds=300"
        ),
        "production",
        "green",
    )["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] == 300


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("ghcr.io/a/b:1.4.2", "1.4.2"),
        ("registry:5000/a/b:v2", "v2"),
        ("a/b@sha256:" + "c" * 64, None),
        ("a/b:-x", None),
    ],
)
def test_image_version_label(image, version):
    assert image_version(image) == version


# --- traffic switch and autoscaling ----------------------------------------------


@pytest.mark.parametrize("active", ["blue", "green"])
def test_services_select_active_and_idle_colors(stack_objects, active):
    objects = stack_objects("production", f"activeColor={active}")
    idle = "green" if active == "blue" else "blue"
    assert objects["Service/production/monad-synapse"]["spec"]["selector"]["monad-synapse.com/color"] == active
    assert objects["Service/production/monad-synapse-preview"]["spec"]["selector"]["monad-synapse.com/color"] == idle
    live_hpa = objects[f"HorizontalPodAutoscaler/production/monad-synapse-{active}-hpa"]["spec"]
    assert (live_hpa["minReplicas"], live_hpa["maxReplicas"]) == (3, 20)
    assert live_hpa["scaleTargetRef"]["name"] == f"monad-synapse-{active}"
    metrics = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in live_hpa["metrics"]}
    assert metrics == {"cpu": 70, "memory": 80}


def test_hpa_managed_deployments_leave_replicas_unset(stack_objects):
    objects = stack_objects("production")
    for color in ("blue", "green"):
        assert "replicas" not in deployment(objects, "production", color)["spec"]


def test_idle_color_is_kept_warm_at_the_live_minimum_by_default(stack_objects):
    idle_hpa = stack_objects("production")["HorizontalPodAutoscaler/production/monad-synapse-green-hpa"]["spec"]
    assert idle_hpa["minReplicas"] == idle_hpa["maxReplicas"] == 3


def test_cold_idle_color_scales_to_zero_and_warns(render_stack, stack_objects):
    objects = stack_objects("production", "idleReplicas=0")
    assert deployment(objects, "production", "green")["spec"]["replicas"] == 0
    assert "HorizontalPodAutoscaler/production/monad-synapse-green-hpa" not in objects
    warnings = render_stack("production", "idleReplicas=0").warnings
    assert any("cold color" in warning and "idleReplicas" in warning for warning in warnings)
    assert not any("cold color" in warning for warning in render_stack("production").warnings)


def test_live_service_waits_for_the_active_deployment_and_hpa(render_stack):
    resources = json.loads(render_stack("production").files["resources.json"])
    by_object = {resource["object"]: resource for resource in resources if resource["object"]}
    by_urn = {resource["urn"]: resource for resource in resources}
    live = by_object["Service/production/monad-synapse"]
    waits_for = {by_urn[urn]["object"] for urn in live["dependsOn"]}
    assert {
        "Deployment/production/monad-synapse-blue",
        "HorizontalPodAutoscaler/production/monad-synapse-blue-hpa",
    } <= waits_for
    idle_hpa = by_object["HorizontalPodAutoscaler/production/monad-synapse-green-hpa"]
    assert live["urn"] in idle_hpa["dependsOn"]  # the idle color shrinks only after traffic left it


def test_pod_disruption_budgets_allow_one_pod_at_a_time(stack_objects):
    budget = stack_objects("production")["PodDisruptionBudget/production/monad-synapse-blue-pdb"]["spec"]
    assert budget["maxUnavailable"] == 1
    assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


@pytest.mark.parametrize("mode", ["Off", "Initial"])
def test_vpa_mode_from_config(stack_objects, mode):
    for color in ("blue", "green"):
        vpa = stack_objects("production", f"vpa.updateMode={mode}")[
            f"VerticalPodAutoscaler/production/monad-synapse-{color}-vpa"
        ]
        assert vpa["spec"]["updatePolicy"]["updateMode"] == mode
        assert vpa["spec"]["targetRef"]["name"] == f"monad-synapse-{color}"


# --- config and secrets --------------------------------------------------------------


def test_config_map_holds_managed_and_extra_settings(stack_objects):
    data = stack_objects("staging", "appConfig.NEW_CONFIG_KEY=new_value")["ConfigMap/staging/monad-synapse-config"][
        "data"
    ]
    assert data["MAINTENANCE_MODE"] == "false"
    assert data["NEW_CONFIG_KEY"] == "new_value"
    assert data["APP_URL"] == "https://staging.monad-synapse.com"


def test_secret_values_stay_pulumi_secrets(render_stack):
    from pulumi.runtime import rpc

    run = render_stack("production").run
    secrets = {r.inputs["metadata"]["name"]: r for r in run.resources if r.type == "kubernetes:core/v1:Secret"}
    string_data = secrets["monad-synapse-secrets"].inputs["stringData"]
    assert rpc.is_rpc_secret(string_data)
    assert set(rpc.unwrap_rpc_secret(string_data)) == {"JWT_SECRET", "DATABASE_URL", "REDIS_URL"}
    assert rpc.is_rpc_secret(secrets["monad-synapse-alerting"].inputs["stringData"])


def test_jwt_secret_version_rotates_the_generated_value(render_stack):
    first = render_stack("production").run.generated_secrets
    second = render_stack("production", "jwtSecretVersion=2").run.generated_secrets
    # Exactly one generated value (the JWT secret) changes; the checksum salt stays.
    assert len(first - second) == 1 and len(second - first) == 1


# --- the runbook operations as config changes --------------------------------------------

BOTH_DEPLOYMENTS = {"Deployment/production/monad-synapse-blue", "Deployment/production/monad-synapse-green"}
EXPORTERS = {
    "Deployment/production/monad-synapse-postgres-exporter",
    "Deployment/production/monad-synapse-redis-exporter",
}
RULE = "PrometheusRule/production/monad-synapse"


def test_maintenance_mode_updates_config_map_and_rolls_both_colors(stack_objects):
    changes = changes_between(stack_objects, "production", "maintenanceMode=true")
    # The PrometheusRule gains the "maintenance mode active" info alert; a
    # switch now would pass the analysis unjudged (its settings say why).
    assert (
        set(changes)
        == {
            "ConfigMap/production/monad-synapse-config",
            RULE,
            "ConfigMap/production/monad-synapse-promotion-analysis-settings",
        }
        | BOTH_DEPLOYMENTS
    )
    assert changes["ConfigMap/production/monad-synapse-config"].fields == ("data.MAINTENANCE_MODE",)
    assert all(changes[name].rolls_pods for name in BOTH_DEPLOYMENTS)


def promotion_jobs(changes: dict) -> dict:
    return {identity: change for identity, change in changes.items() if identity.startswith("Job/production/")}


def test_flipping_active_color_swaps_services_without_restarting_pods(stack_objects):
    changes = changes_between(stack_objects, "production", "activeColor=green")
    jobs = promotion_jobs(changes)
    # Green's own gate and analysis run; blue's finished ones go.
    assert sorted((change.action, change.name) for change in jobs.values()) == [
        ("added", "monad-synapse-promotion-analysis-green"),
        ("added", "monad-synapse-switch-gate-green"),
        ("removed", "monad-synapse-promotion-analysis-blue"),
        ("removed", "monad-synapse-switch-gate-blue"),
    ]
    others = {identity: change for identity, change in changes.items() if identity not in jobs}
    assert all(change.action == "changed" and not change.replaces for change in others.values())
    assert not any(identity.startswith("Deployment/") for identity in others)
    assert set(others) == {
        "Service/production/monad-synapse",
        "Service/production/monad-synapse-preview",
        "HorizontalPodAutoscaler/production/monad-synapse-blue-hpa",
        "HorizontalPodAutoscaler/production/monad-synapse-green-hpa",
        # Alerts and dashboards follow the live color, and so does the analysis' reach.
        "PrometheusRule/production/monad-synapse",
        "NetworkPolicy/production/monad-synapse-promotion-analysis",
        *(f"ConfigMap/production/monad-synapse-dashboard-{slug}" for slug in ("application-overview", "sli-slo")),
        "ConfigMap/production/monad-synapse-switch-gate-settings",  # its fix hint names the color
    }


def test_scaling_changes_only_the_autoscalers(stack_objects):
    changes = changes_between(stack_objects, "production", "autoscaling.maxReplicas=15", "autoscaling.minReplicas=8")
    # No gate runs (traffic does not move): the next switch's gate reads the new bounds.
    assert set(changes) == {
        "HorizontalPodAutoscaler/production/monad-synapse-blue-hpa",
        "HorizontalPodAutoscaler/production/monad-synapse-green-hpa",
        "ConfigMap/production/monad-synapse-switch-gate-settings",
    }
    live = stack_objects("production", "autoscaling.maxReplicas=15", "autoscaling.minReplicas=8")[
        "HorizontalPodAutoscaler/production/monad-synapse-blue-hpa"
    ]["spec"]
    assert (live["minReplicas"], live["maxReplicas"]) == (8, 15)


def test_memory_limit_updates_the_containers_only(stack_objects):
    changes = changes_between(stack_objects, "production", "resources.limits.memory=2Gi")
    assert set(changes) == BOTH_DEPLOYMENTS
    for change in changes.values():
        # The heap follows the tighter bound, here the HPA's memory target.
        assert set(change.fields) == {
            "spec.template.spec.containers[monad-synapse].resources.limits.memory",
        }


def test_jwt_rotation_rolls_both_colors(stack_objects):
    changes = changes_between(stack_objects, "production", "jwtSecretVersion=2")
    assert set(changes) == BOTH_DEPLOYMENTS
    for change in changes.values():
        assert change.fields == ("spec.template.metadata.annotations.monad-synapse.com/secret-checksum",)


def test_new_app_config_key_rolls_both_colors(stack_objects):
    changes = changes_between(stack_objects, "production", "appConfig.NEW_CONFIG_KEY=new_value")
    assert set(changes) == {"ConfigMap/production/monad-synapse-config"} | BOTH_DEPLOYMENTS
    assert all(changes[name].rolls_pods for name in BOTH_DEPLOYMENTS)


def test_releasing_to_the_idle_color_touches_only_its_deployment(stack_objects):
    changes = changes_between(
        stack_objects, "production", "colors.green.image=ghcr.io/monad-synapse/monad-synapse:1.5.0"
    )
    assert set(changes) == {"Deployment/production/monad-synapse-green"}
    assert changes["Deployment/production/monad-synapse-green"].rolls_pods


def test_database_url_change_rolls_both_colors_and_the_postgres_exporter(stack_objects):
    before = stack_objects("production", secrets=("databaseUrl=postgresql://a:b@db:5432/x",))
    after = stack_objects("production", secrets=("databaseUrl=postgresql://a:c@db:5432/x",))
    # The PostgreSQL exporter reads the URL too, so it restarts with it; the
    # Redis exporter's URL did not change, so it keeps running.
    changes = [change for change in compare(before, after) if "-promotion-analysis-" not in change.identity]
    postgres_exporter = {identity for identity in EXPORTERS if "postgres" in identity}
    assert postgres_exporter and {change.identity for change in changes} == BOTH_DEPLOYMENTS | postgres_exporter
    assert all(change.rolls_pods for change in changes)


def test_redis_url_change_rolls_only_the_redis_exporter_among_the_exporters(stack_objects):
    before = stack_objects("production", secrets=("redisUrl=redis://:a@cache:6379/0",))
    after = stack_objects("production", secrets=("redisUrl=redis://:b@cache:6379/0",))
    changes = {change.identity for change in compare(before, after) if "-promotion-analysis-" not in change.identity}
    assert changes == BOTH_DEPLOYMENTS | {identity for identity in EXPORTERS if "redis" in identity}
