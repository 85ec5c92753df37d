"""The policy pack: every rule passes a good object and catches a bad one, and
the rendered stacks pass the whole pack."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from pulumi_policy import EnforcementLevel, PolicyResource, ResourceValidationArgs, StackValidationArgs

from policy import rules
from tests.helpers import CLOUDNATIVEPG, DR_SITE, RECOVERY, secrets_for
from tools.manifest import pulumi_type


def args_for(obj: dict[str, Any]) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        pulumi_type(obj), obj, f"urn:test::{obj['metadata']['name']}", obj["metadata"]["name"], None, None
    )


def violations(validate, obj: dict[str, Any]) -> list[str]:
    found: list[str] = []
    validate(args_for(obj), lambda message, urn=None: found.append(message))
    return found


GOOD_CONTAINER = {
    "name": "app",
    "image": "ghcr.io/example/app:1.2.3",
    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
    "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
    "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def deployment(**container_changes) -> dict:
    container = copy.deepcopy(GOOD_CONTAINER)
    for key, value in container_changes.items():
        if value is None:
            container.pop(key, None)
        else:
            container[key] = value
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"securityContext": {"runAsNonRoot": True}, "containers": [container]},
            },
        },
    }


def with_pod(obj: dict, **pod_changes) -> dict:
    obj = copy.deepcopy(obj)
    obj["spec"]["template"]["spec"].update(pod_changes)
    return obj


def test_good_deployment_passes_every_resource_policy():
    for policy in rules.POLICIES:
        assert violations(policy.validate, deployment()) == [], policy.name


BAD_WORKLOADS = [
    (
        rules.no_privileged_containers,
        deployment(securityContext={**GOOD_CONTAINER["securityContext"], "privileged": True}),
    ),
    (
        rules.no_privileged_containers,
        deployment(securityContext={**GOOD_CONTAINER["securityContext"], "allowPrivilegeEscalation": True}),
    ),
    (rules.pod_security_restricted, with_pod(deployment(), hostNetwork=True)),
    (rules.pod_security_restricted, with_pod(deployment(), volumes=[{"name": "h", "hostPath": {"path": "/"}}])),
    (
        rules.pod_security_restricted,
        deployment(securityContext={**GOOD_CONTAINER["securityContext"], "capabilities": {"drop": ["NET_RAW"]}}),
    ),
    (
        rules.pod_security_restricted,
        deployment(securityContext={**GOOD_CONTAINER["securityContext"], "seccompProfile": {"type": "Unconfined"}}),
    ),
    (rules.pod_security_restricted, deployment(ports=[{"containerPort": 80, "hostPort": 80}])),
    (
        rules.run_as_non_root,
        with_pod(deployment(securityContext={"allowPrivilegeEscalation": False}), securityContext={}),
    ),
    (rules.run_as_non_root, deployment(securityContext={**GOOD_CONTAINER["securityContext"], "runAsUser": 0})),
    (rules.resource_requests_and_limits, deployment(resources={"requests": {"cpu": "1", "memory": "1Gi"}})),
    (rules.resource_requests_and_limits, deployment(resources=None)),
    (rules.pinned_image_tags, deployment(image="ghcr.io/example/app")),
    (rules.pinned_image_tags, deployment(image="ghcr.io/example/app:latest")),
    (rules.pinned_image_tags, deployment(image="registry:5000/app")),
    (rules.health_probes, deployment(readinessProbe=None)),
    (rules.health_probes, deployment(livenessProbe=None)),
]


@pytest.mark.parametrize(
    ("validate", "obj"), BAD_WORKLOADS, ids=[f"{v.__name__}-{i}" for i, (v, _) in enumerate(BAD_WORKLOADS)]
)
def test_bad_workloads_are_caught(validate, obj):
    assert violations(validate, obj)


def test_pinned_digest_and_registry_port_are_fine():
    assert violations(rules.pinned_image_tags, deployment(image="registry:5000/app@sha256:" + "a" * 64)) == []
    assert violations(rules.pinned_image_tags, deployment(image="registry:5000/app:2.0")) == []


def test_jobs_need_no_probes_but_cronjob_pods_are_checked():
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup"},
        "spec": {
            "schedule": "0 * * * *",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 60,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "spec": {
                    "activeDeadlineSeconds": 60,
                    "backoffLimit": 1,
                    "template": {
                        "spec": {
                            "securityContext": {"runAsNonRoot": True},
                            "containers": [{**GOOD_CONTAINER, "readinessProbe": None, "livenessProbe": None}],
                        }
                    },
                }
            },
        },
    }
    assert violations(rules.health_probes, cronjob) == []
    assert violations(rules.bounded_cron_jobs, cronjob) == []
    privileged = copy.deepcopy(cronjob)
    privileged["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = (
        True
    )
    assert violations(rules.no_privileged_containers, privileged)
    unbounded = copy.deepcopy(cronjob)
    unbounded["spec"]["concurrencyPolicy"] = "Allow"
    del unbounded["spec"]["startingDeadlineSeconds"]
    del unbounded["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"]
    assert len(violations(rules.bounded_cron_jobs, unbounded)) == 3


def ingress(tls: list, annotations: dict | None = None) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "annotations": annotations or {}},
        "spec": {"tls": tls, "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}]},
    }


def test_ingress_rules():
    good = ingress([{"hosts": ["a.example.com", "b.example.com"], "secretName": "tls"}])
    assert violations(rules.ingress_tls, good) == []
    assert violations(rules.ingress_tls, ingress([])) != []
    assert violations(rules.ingress_tls, ingress([{"hosts": ["a.example.com"], "secretName": "tls"}])) != []
    assert violations(rules.no_snippet_annotations, good) == []
    snippet = ingress([], {"nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers x;"})
    assert violations(rules.no_snippet_annotations, snippet) != []


@pytest.mark.parametrize(
    ("service_type", "bad"), [("ClusterIP", False), (None, False), ("LoadBalancer", True), ("NodePort", True)]
)
def test_service_types(service_type, bad):
    spec = {"type": service_type} if service_type else {}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": spec}
    assert bool(violations(rules.no_public_service_types, service)) is bad


@pytest.mark.parametrize(
    ("data", "bad"),
    [
        ({"FEATURE": "on", "URL": "https://example.com"}, False),
        ({"DB_PASSWORD": "x"}, True),
        ({"stripe_api_key": "x"}, True),
        ({"DATABASE": "postgresql://app:hunter2@db:5432/x"}, True),
    ],
)
def test_config_maps_hold_no_secrets(data, bad):
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}
    assert bool(violations(rules.no_secrets_in_config_maps, config_map)) is bad


@pytest.mark.parametrize(("labels", "bad"), [({"release": "kube-prometheus-stack"}, False), ({}, True)])
def test_prometheus_rules_carry_the_operator_label(labels, bad):
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "r", "labels": labels},
        "spec": {"groups": []},
    }
    assert bool(violations(rules.prometheus_rule_operator_label, rule)) is bad


def stack_violations(objects: list[dict]) -> list[str]:
    resources = [
        PolicyResource(pulumi_type(obj), obj, f"urn:{i}", obj["metadata"]["name"], None, None, None, [], {})
        for i, obj in enumerate(objects)
    ]
    found: list[str] = []
    for policy in rules.STACK_POLICIES:
        policy.validate(StackValidationArgs(resources), lambda m, urn=None: found.append(m))
    return found


HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "h", "namespace": "ns"},
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}},
}


def owned_by(owner, replicas=None) -> dict:
    obj = deployment()
    obj["metadata"]["annotations"] = {rules.REPLICAS_OWNER_ANNOTATION: owner}
    if replicas is not None:
        obj["spec"]["replicas"] = replicas
    return obj


def with_scratch(size, request, init_request=None) -> dict:
    obj = with_pod(deployment(), volumes=[{"name": "tmp", "emptyDir": {"sizeLimit": size} if size else {}}])
    container = obj["spec"]["template"]["spec"]["containers"][0]
    if request:
        container["resources"]["requests"]["ephemeral-storage"] = request
    if init_request:
        obj["spec"]["template"]["spec"]["initContainers"] = [
            {**GOOD_CONTAINER, "name": "init", "resources": {"requests": {"ephemeral-storage": init_request}}}
        ]
    return obj


@pytest.mark.parametrize(
    ("obj", "bad"),
    [
        (with_scratch("1Gi", "1088Mi"), False),
        (with_scratch("1Gi", "512Mi"), True),
        (with_scratch(None, "1Gi"), True),
        (with_scratch("1Gi", None), True),
        (with_scratch("1Gi", "64Mi", init_request="2Gi"), False),
        (deployment(), False),
    ],
)
def test_scratch_volumes_are_bounded_and_requested(obj, bad):
    assert bool(violations(rules.scratch_volumes_are_bounded, obj)) is bad


def test_hpa_managed_deployments_must_leave_replicas_unset_in_what_the_program_sets():
    """A resource policy: the engine gives it the program's inputs."""
    check = rules.hpa_managed_deployments_leave_replicas_unset
    assert violations(check, owned_by("HorizontalPodAutoscaler/h")) == []
    assert violations(check, owned_by("HorizontalPodAutoscaler/h", replicas=3)) != []
    assert violations(check, owned_by("pulumi", replicas=0)) == []  # a cold idle color sizes itself


def test_hpa_targets_must_declare_their_autoscaler_in_the_live_objects():
    """A stack policy: the engine gives it outputs, where spec.replicas is
    always set (the API server's default, then the HPA's count)."""
    assert stack_violations([owned_by("HorizontalPodAutoscaler/h", replicas=7), HPA]) == []
    assert stack_violations([deployment(), HPA]) != []
    assert stack_violations([owned_by("HorizontalPodAutoscaler/other"), HPA]) != []
    assert stack_violations([owned_by("pulumi", replicas=3)]) == []  # no HPA: replicas is the way to size it


RENDERS = [
    ("staging",),
    ("production",),
    ("production", "edge.kind=gateway", "activeColor=green", "idleReplicas=0"),
    (
        "production",
        "maintenanceMode=true",
        "restore.fromBackup=latest",
        "restore.confirm=production",
        "restore.requestId=incident-4711",
    ),
    ("production", "backup.storage.kind=s3", "backup.storage.s3.bucket=monad-backups", "toolbox.enabled=true"),
    ("production", *CLOUDNATIVEPG, *RECOVERY),
    ("staging", *CLOUDNATIVEPG, *DR_SITE),
]


@pytest.mark.parametrize("render", RENDERS, ids=["-".join(r) for r in RENDERS])
def test_rendered_stacks_pass_the_whole_pack(stack_objects, render):
    objects = list(stack_objects(*render, secrets=secrets_for(render)).values())
    if "database.kind=cloudnativepg" in render:
        assert {"Cluster", "Pooler", "ScheduledBackup"} <= {obj["kind"] for obj in objects}
    found = []
    for policy in rules.POLICIES:
        for obj in objects:
            found += [
                f"{policy.name} ({policy.enforcement_level.value}): {m}" for m in violations(policy.validate, obj)
            ]
    found += stack_violations(objects)
    assert found == []


def cnpg_object(kind: str, spec: dict) -> dict:
    return {"kind": kind, "apiVersion": "postgresql.cnpg.io/v1", "metadata": {"name": "db"}, "spec": spec}


GOOD_CLUSTER = {
    "imageName": "ghcr.io/cloudnative-pg/postgresql:15.10",
    "plugins": [{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": True}],
    "postgresql": {"parameters": {"archive_timeout": "270s"}},
    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
}


@pytest.mark.parametrize(
    ("kind", "spec", "bad"),
    [
        ("Cluster", GOOD_CLUSTER, False),
        ("Cluster", {**GOOD_CLUSTER, "plugins": []}, True),
        ("Cluster", {**GOOD_CLUSTER, "backup": {"barmanObjectStore": {"destinationPath": "s3://b"}}}, True),
        ("Cluster", {**GOOD_CLUSTER, "postgresql": {"parameters": {}}}, True),
        ("Cluster", {**GOOD_CLUSTER, "imageName": "ghcr.io/cloudnative-pg/postgresql:latest"}, True),
        ("Cluster", {**GOOD_CLUSTER, "enableSuperuserAccess": True}, True),
        ("Cluster", {**GOOD_CLUSTER, "resources": {"requests": {"cpu": "1"}}}, True),
        ("Pooler", {"template": {"spec": {"containers": [{"name": "pgbouncer"}]}}}, True),
        ("ScheduledBackup", {"method": "barmanObjectStore"}, True),
        ("ScheduledBackup", {"method": "plugin"}, False),
    ],
)
def test_database_objects_are_checked(kind, spec, bad):
    assert bool(violations(rules.database_clusters_are_hardened, cnpg_object(kind, spec))) == bad


def test_pack_files(project_dir):
    pack = yaml.safe_load((project_dir / "policy" / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["name"] == "python"
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", pack["version"])
    compile((project_dir / "policy" / "__main__.py").read_text(), "policy/__main__.py", "exec")
    names = [policy.name for policy in rules.POLICIES + rules.STACK_POLICIES]
    assert len(names) == len(set(names)) >= 12
    levels = {policy.enforcement_level for policy in rules.POLICIES}
    assert levels == {EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY}
