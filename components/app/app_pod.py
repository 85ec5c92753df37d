"""The app's pod: one Next.js container, hardened, probed and drained
gracefully, with its scratch volumes. Each color's Deployment runs it."""

from __future__ import annotations

from typing import Mapping, Optional, Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.common.labels import selector_labels
from components.common.pod_security import (
    ephemeral_storage_request,
    literal_env,
    restricted_container_security,
    restricted_pod_security,
)
from components.common.vocabulary import APP_PORT, CONTAINER_NAME
from settings import Probes, Resources

# Scratch volumes: Next.js temp files and its image/ISR cache.
SCRATCH_VOLUMES = {"tmp": ("/tmp", "256Mi"), "next-cache": ("/app/.next/cache", "1Gi")}
STARTUP_PROBE_PERIOD_SECONDS = 5
# A high UID (above host users, CKV_K8S_40); the image must not need to own
# files, it only writes to the /tmp and /app/.next/cache volumes.
RUN_AS_USER = 10001
PRESTOP_SLEEP_SECONDS = 10
TERMINATION_GRACE_SECONDS = 45


class PodInputs(Protocol):
    """What the pod is built from (the blue/green component's args have it)."""

    service_account_name: pulumi.Input[str]
    resources: Resources
    probes: Probes
    config_map_name: pulumi.Input[str]
    color_config_map_names: Mapping[str, pulumi.Input[str]]
    secret_name: pulumi.Input[str]
    node_heap_mebibytes: int
    priority_class_name: Optional[str]
    database_env: tuple


def app_pod_spec(args: PodInputs, color: str, image: str) -> k8s.core.v1.PodSpecArgs:
    """The pod template of one color's Deployment."""
    probe = lambda path, period, timeout, failures: k8s.core.v1.ProbeArgs(  # noqa: E731
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port="http"),
        period_seconds=period,
        timeout_seconds=timeout,
        failure_threshold=failures,
    )
    heap = args.node_heap_mebibytes
    live, ready = args.probes.liveness_path, args.probes.readiness_path
    startup_failures = -(-args.probes.startup_seconds // STARTUP_PROBE_PERIOD_SECONDS)
    spread = [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(color)),
            # Spread each rollout's new pods on their own, not against the old ones.
            match_label_keys=["pod-template-hash"],
        )
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    return k8s.core.v1.PodSpecArgs(
        service_account_name=args.service_account_name,
        automount_service_account_token=False,
        enable_service_links=False,
        termination_grace_period_seconds=TERMINATION_GRACE_SECONDS,
        priority_class_name=args.priority_class_name,
        security_context=restricted_pod_security(RUN_AS_USER, fs_group=RUN_AS_USER),
        topology_spread_constraints=spread,
        containers=[
            k8s.core.v1.ContainerArgs(
                name=CONTAINER_NAME,
                image=image,
                image_pull_policy="Always",
                ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=APP_PORT, protocol="TCP")],
                # Later sources win for a key in both: the color's own
                # ConfigMap (colors.<color>.appConfig) overlays the shared one.
                env_from=[
                    k8s.core.v1.EnvFromSourceArgs(
                        config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=args.config_map_name)
                    ),
                    k8s.core.v1.EnvFromSourceArgs(
                        config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=args.color_config_map_names[color])
                    ),
                    k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=args.secret_name)),
                ],
                env=[literal_env("NODE_OPTIONS", f"--max-old-space-size={heap}"), *args.database_env],
                resources=k8s.core.v1.ResourceRequirementsArgs(
                    requests={
                        "cpu": args.resources.requests.cpu,
                        "memory": args.resources.requests.memory,
                        "ephemeral-storage": ephemeral_storage_request(*(size for _, size in SCRATCH_VOLUMES.values())),
                    },
                    limits={"cpu": args.resources.limits.cpu, "memory": args.resources.limits.memory},
                ),
                # A slow boot gets probes.startupSeconds; liveness only takes
                # over after it. Liveness asks only whether the process is
                # alive; readiness may check dependencies (an outage then
                # takes pods out of the Service instead of restarting them).
                startup_probe=probe(live, period=STARTUP_PROBE_PERIOD_SECONDS, timeout=3, failures=startup_failures),
                readiness_probe=probe(ready, period=5, timeout=3, failures=3),
                liveness_probe=probe(live, period=10, timeout=5, failures=6),
                # Keep serving while the endpoint removal reaches every
                # ingress controller and kube-proxy, then get SIGTERM.
                lifecycle=k8s.core.v1.LifecycleArgs(
                    pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                        sleep=k8s.core.v1.SleepActionArgs(seconds=PRESTOP_SLEEP_SECONDS)
                    )
                ),
                security_context=restricted_container_security(),
                # Next.js writes its image/ISR cache and temp files; the
                # root filesystem stays read-only.
                volume_mounts=[
                    k8s.core.v1.VolumeMountArgs(name=volume, mount_path=path)
                    for volume, (path, _) in SCRATCH_VOLUMES.items()
                ],
            )
        ],
        volumes=[
            k8s.core.v1.VolumeArgs(name=volume, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=size))
            for volume, (_, size) in SCRATCH_VOLUMES.items()
        ],
    )
