"""Guardrails for every Kubernetes object the program declares (Pulumi CrossGuard).

`POLICIES` are resource policies, `STACK_POLICIES` need the whole stack (an
HPA and the Deployment it scales). Each validator is a plain function of
(args, report_violation), so tests call them directly with fake objects;
`policy/__main__.py` only assembles the PolicyPack.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator, Mapping, Optional

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

ReportViolation = Callable[..., None]

# Where the pod spec sits in each workload kind.
POD_SPEC_PATHS: Mapping[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
LONG_RUNNING = {"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet"}
SECRET_LOOKING_KEY = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)", re.IGNORECASE)
CREDENTIAL_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
OPERATOR_RULE_LABEL = "release"
# Who owns a Deployment's spec.replicas: "HorizontalPodAutoscaler/<name>" or "pulumi".
REPLICAS_OWNER_ANNOTATION = "monad-synapse.com/replicas-managed-by"
HPA_OWNER_PREFIX = "HorizontalPodAutoscaler/"


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _name(args: ResourceValidationArgs) -> str:
    return _get(args.props, "metadata", "name") or args.name


def pod_spec(args: ResourceValidationArgs) -> Optional[Mapping[str, Any]]:
    path = POD_SPEC_PATHS.get(args.resource_type)
    return _get(args.props, *path) if path else None


def containers(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        yield from pod.get(field) or []


# --- pod security ------------------------------------------------------------------


def no_privileged_containers(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args)
    if pod is None:
        return
    for container in containers(pod):
        security = container.get("securityContext") or {}
        if security.get("privileged"):
            report_violation(f"{_name(args)}: container {container.get('name')} is privileged")
        if security.get("allowPrivilegeEscalation") is not False:
            report_violation(
                f"{_name(args)}: container {container.get('name')} must set allowPrivilegeEscalation: false"
            )


def pod_security_restricted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """The fields of the Pod Security Standards `restricted` profile."""
    pod = pod_spec(args)
    if pod is None:
        return
    name = _name(args)
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            report_violation(f"{name}: {field} is not allowed")
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            report_violation(f"{name}: hostPath volume {volume.get('name')} is not allowed")
    pod_seccomp = _get(pod, "securityContext", "seccompProfile", "type")
    for container in containers(pod):
        security = container.get("securityContext") or {}
        label = f"{name}: container {container.get('name')}"
        seccomp = _get(security, "seccompProfile", "type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            report_violation(f"{label} needs seccompProfile RuntimeDefault")
        capabilities = security.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            report_violation(f"{label} must drop ALL capabilities")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            report_violation(f"{label} adds capabilities beyond NET_BIND_SERVICE")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            report_violation(f"{label} uses a hostPort")


def run_as_non_root(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args)
    if pod is None:
        return
    pod_security = pod.get("securityContext") or {}
    for container in containers(pod):
        security = container.get("securityContext") or {}
        non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
        user = security.get("runAsUser", pod_security.get("runAsUser"))
        if non_root is not True or user == 0:
            report_violation(
                f"{_name(args)}: container {container.get('name')} must run as non-root (runAsNonRoot: true)"
            )


def resource_requests_and_limits(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args)
    if pod is None:
        return
    for container in containers(pod):
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(kind) or {})
            if missing:
                report_violation(
                    f"{_name(args)}: container {container.get('name')} has no {kind} for {', '.join(sorted(missing))}"
                )


def pinned_image_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args)
    if pod is None:
        return
    for container in containers(pod):
        image = container.get("image") or ""
        name, _, digest = image.partition("@")
        last = name.rsplit("/", 1)[-1]
        tag = last.rsplit(":", 1)[1] if ":" in last else None
        if not digest and (tag is None or tag == "latest"):
            report_violation(
                f"{_name(args)}: container {container.get('name')} image {image!r} is not pinned (no tag, or 'latest')"
            )


def health_probes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in LONG_RUNNING:
        return
    for container in (pod_spec(args) or {}).get("containers") or []:
        for probe in ("readinessProbe", "livenessProbe"):
            if not container.get(probe):
                report_violation(f"{_name(args)}: container {container.get('name')} has no {probe}")


def scratch_volumes_are_bounded(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every emptyDir has a sizeLimit, and the pod requests at least that much
    ephemeral storage: otherwise the scheduler may place it on a node without
    the room, and the kubelet evicts it when the disk fills."""
    pod = pod_spec(args)
    if pod is None:
        return
    total = 0.0
    for volume in pod.get("volumes") or []:
        if "emptyDir" not in volume:
            continue
        size = (volume.get("emptyDir") or {}).get("sizeLimit")
        if size is None:
            report_violation(f"{_name(args)}: emptyDir volume {volume.get('name')} has no sizeLimit")
            continue
        total += _bytes(size)
    if not total:
        return
    requests = [
        _bytes(_get(container, "resources", "requests", "ephemeral-storage") or "0")
        for container in pod.get("containers") or []
    ]
    init_requests = [
        _bytes(_get(container, "resources", "requests", "ephemeral-storage") or "0")
        for container in pod.get("initContainers") or []
    ]
    # The scheduler reserves max(largest init container, sum of containers).
    effective = max([sum(requests), *init_requests])
    if effective < total:
        report_violation(
            f"{_name(args)}: its emptyDir volumes may hold {total / 2**20:.0f}Mi but the pod requests "
            f"{effective / 2**20:.0f}Mi of ephemeral storage"
        )


_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _bytes(quantity: Any) -> float:
    text = str(quantity)
    for suffix, factor in sorted(_UNITS.items(), key=lambda item: -len(item[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


# --- objects -------------------------------------------------------------------------------


def ingress_tls(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "kubernetes:networking.k8s.io/v1:Ingress":
        return
    spec = args.props.get("spec") or {}
    covered = {host for tls in spec.get("tls") or [] for host in tls.get("hosts") or [] if tls.get("secretName")}
    for rule in spec.get("rules") or []:
        if rule.get("host") not in covered:
            report_violation(f"{_name(args)}: host {rule.get('host')} is served without TLS")
    if not spec.get("tls"):
        report_violation(f"{_name(args)}: an Ingress must terminate TLS")


def no_snippet_annotations(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "kubernetes:networking.k8s.io/v1:Ingress":
        return
    for key in _get(args.props, "metadata", "annotations") or {}:
        if key.endswith("-snippet"):
            report_violation(f"{_name(args)}: annotation {key} injects raw nginx config (CVE-2021-25742)")


def no_public_service_types(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "kubernetes:core/v1:Service":
        return
    kind = _get(args.props, "spec", "type") or "ClusterIP"
    if kind in ("LoadBalancer", "NodePort"):
        report_violation(
            f"{_name(args)}: Service type {kind} exposes pods past the edge; route through the Ingress/Gateway"
        )


def no_secrets_in_config_maps(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "kubernetes:core/v1:ConfigMap":
        return
    for key, value in (args.props.get("data") or {}).items():
        if SECRET_LOOKING_KEY.search(key):
            report_violation(f"{_name(args)}: key {key} looks like a secret; use a Secret")
        elif isinstance(value, str) and CREDENTIAL_URL.match(value):
            report_violation(f"{_name(args)}: key {key} holds a URL with credentials; use a Secret")


def prometheus_rule_operator_label(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not args.resource_type.endswith("monitoring.coreos.com/v1:PrometheusRule"):
        return
    if not (_get(args.props, "metadata", "labels") or {}).get(OPERATOR_RULE_LABEL):
        report_violation(
            f"{_name(args)}: without the '{OPERATOR_RULE_LABEL}' label the operator's ruleSelector ignores these rules"
        )


def bounded_cron_jobs(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "kubernetes:batch/v1:CronJob":
        return
    spec = args.props.get("spec") or {}
    job = _get(spec, "jobTemplate", "spec") or {}
    name = _name(args)
    if spec.get("concurrencyPolicy") != "Forbid":
        report_violation(f"{name}: concurrencyPolicy must be Forbid, or slow runs pile up")
    for field in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if spec.get(field) is None:
            report_violation(f"{name}: {field} must be set")
    for field in ("activeDeadlineSeconds", "backoffLimit"):
        if job.get(field) is None:
            report_violation(f"{name}: jobTemplate.spec.{field} must be set")


# --- replica ownership ----------------------------------------------------------------
#
# The engine runs resource policies on a resource's inputs (what the program
# sets) and stack policies on every resource's outputs (for a Deployment: the
# live object, whose spec.replicas the API server always fills, first with 1,
# then with whatever the HPA sets; pulumi/pkg/resource/deploy/
# step_executor.go and the analyzer's AnalyzeStack). So the invariant "this
# program does not own spec.replicas of an HPA-scaled Deployment" is checked
# on inputs, and the stack policy only checks, on outputs, that every HPA's
# target says the HPA owns its count.


def hpa_managed_deployments_leave_replicas_unset(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """A Deployment whose replica count an HPA owns must not set spec.replicas,
    or every `pulumi up` resets the HPA's count."""
    if args.resource_type != "kubernetes:apps/v1:Deployment":
        return
    owner = (_get(args.props, "metadata", "annotations") or {}).get(REPLICAS_OWNER_ANNOTATION, "")
    if owner.startswith(HPA_OWNER_PREFIX) and _get(args.props, "spec", "replicas") is not None:
        report_violation(f"Deployment {_name(args)} is scaled by {owner} but the program sets spec.replicas")


def hpa_targets_declare_their_autoscaler(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every HPA's target Deployment declares that HPA as the owner of its
    replica count, so the resource policy above applies to it."""
    deployments = {
        (_get(resource.props, "metadata", "namespace"), _get(resource.props, "metadata", "name")): resource
        for resource in args.resources
        if resource.resource_type == "kubernetes:apps/v1:Deployment"
    }
    for resource in args.resources:
        if not resource.resource_type.endswith(":HorizontalPodAutoscaler"):
            continue
        target = _get(resource.props, "spec", "scaleTargetRef") or {}
        if target.get("kind") != "Deployment":
            continue
        hpa = _get(resource.props, "metadata", "name")
        key = (_get(resource.props, "metadata", "namespace"), target.get("name"))
        deployment = deployments.get(key)
        if deployment is None:
            continue
        owner = (_get(deployment.props, "metadata", "annotations") or {}).get(REPLICAS_OWNER_ANNOTATION)
        if owner != f"{HPA_OWNER_PREFIX}{hpa}":
            report_violation(
                f"Deployment {key[1]} is scaled by HPA {hpa} but declares {REPLICAS_OWNER_ANNOTATION}: {owner!r}; "
                f"set it to {HPA_OWNER_PREFIX}{hpa} and leave spec.replicas unset"
            )


# --- the in-cluster database (CloudNativePG) -------------------------------------------

CNPG_CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
CNPG_POOLER = "kubernetes:postgresql.cnpg.io/v1:Pooler"
CNPG_SCHEDULED_BACKUP = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"


def _unpinned(image: str) -> bool:
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else None
    return not digest and (tag is None or tag == "latest")


def database_clusters_are_hardened(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A CloudNativePG Cluster archives WAL through exactly one plugin (never
    the deprecated in-tree barmanObjectStore) with archive_timeout set, runs
    a pinned image with requests and limits, without superuser access; its
    Pooler has requests and limits; its scheduled backups use the plugin."""
    spec = _get(args.props, "spec") or {}
    name = _name(args)
    if args.resource_type == CNPG_CLUSTER:
        archivers = [plugin for plugin in spec.get("plugins") or [] if plugin.get("isWALArchiver")]
        if len(archivers) != 1:
            report_violation(f"{name}: needs exactly one WAL-archiving plugin, has {len(archivers)}")
        if _get(spec, "backup", "barmanObjectStore"):
            report_violation(f"{name}: uses the deprecated in-tree barmanObjectStore; archive through the plugin")
        if not _get(spec, "postgresql", "parameters", "archive_timeout"):
            report_violation(
                f"{name}: archive_timeout is not set, so the RPO is CloudNativePG's default, not the stack's"
            )
        if _unpinned(spec.get("imageName") or ""):
            report_violation(f"{name}: image {spec.get('imageName')!r} is not pinned (no tag, or 'latest')")
        if spec.get("enableSuperuserAccess"):
            report_violation(f"{name}: enableSuperuserAccess exposes the postgres superuser's password in a Secret")
        resources = spec.get("resources") or {}
        for kind in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(kind) or {})
            if missing:
                report_violation(f"{name}: no {kind} for {', '.join(sorted(missing))}")
    elif args.resource_type == CNPG_POOLER:
        for container in _get(spec, "template", "spec", "containers") or []:
            resources = container.get("resources") or {}
            if not (resources.get("requests") and resources.get("limits")):
                report_violation(f"{name}: container {container.get('name')} has no requests and limits")
    elif args.resource_type == CNPG_SCHEDULED_BACKUP and spec.get("method") != "plugin":
        report_violation(f"{name}: base backups must go through the Barman Cloud plugin (method: plugin)")


def _resource_policy(
    name: str, description: str, validate, level=EnforcementLevel.MANDATORY
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description=description, validate=validate, enforcement_level=level)


POLICIES: list[ResourceValidationPolicy] = [
    _resource_policy(
        "no-privileged-containers", "No privileged containers or privilege escalation.", no_privileged_containers
    ),
    _resource_policy("pod-security-restricted", "Pod fields of the PSS restricted profile.", pod_security_restricted),
    _resource_policy("run-as-non-root", "Containers run as non-root.", run_as_non_root),
    _resource_policy(
        "resource-requests-and-limits", "CPU and memory requests and limits.", resource_requests_and_limits
    ),
    _resource_policy("pinned-image-tags", "Images pinned by tag or digest, never latest.", pinned_image_tags),
    # Advisory: a missing probe is an availability risk, not a security hole.
    _resource_policy(
        "health-probes",
        "Long-running containers have readiness and liveness probes.",
        health_probes,
        EnforcementLevel.ADVISORY,
    ),
    _resource_policy("ingress-tls", "Ingresses serve every host over TLS.", ingress_tls),
    _resource_policy("no-snippet-annotations", "No ingress-nginx *-snippet annotations.", no_snippet_annotations),
    _resource_policy("no-public-service-types", "No LoadBalancer or NodePort Services.", no_public_service_types),
    _resource_policy(
        "no-secrets-in-config-maps",
        "No secret-looking keys or credential URLs in ConfigMaps.",
        no_secrets_in_config_maps,
    ),
    _resource_policy(
        "prometheus-rule-operator-label",
        "PrometheusRules carry the operator's selector label.",
        prometheus_rule_operator_label,
    ),
    _resource_policy("bounded-cron-jobs", "CronJobs are Forbid, with deadlines and history limits.", bounded_cron_jobs),
    _resource_policy(
        "scratch-volumes-are-bounded",
        "emptyDir volumes have a sizeLimit and the pod requests that much ephemeral storage.",
        scratch_volumes_are_bounded,
    ),
    _resource_policy(
        "database-clusters-are-hardened",
        "CloudNativePG Clusters archive WAL through one plugin at the stack's RPO, pinned and bounded; "
        "Poolers bounded; base backups through the plugin.",
        database_clusters_are_hardened,
    ),
    _resource_policy(
        "hpa-managed-deployments-leave-replicas-unset",
        "Deployments whose replicas an HPA owns do not set spec.replicas.",
        hpa_managed_deployments_leave_replicas_unset,
    ),
]

STACK_POLICIES: list[StackValidationPolicy] = [
    StackValidationPolicy(
        name="hpa-targets-declare-their-autoscaler",
        description="Every HPA's target Deployment declares the HPA as owner of its replica count.",
        validate=hpa_targets_declare_their_autoscaler,
        enforcement_level=EnforcementLevel.MANDATORY,
    )
]
