"""The switch gate: before live traffic moves to a color, a Job waits until
that color has as many ready pods as the color serving now (up to the HPA's
maximum), or fails so `pulumi up` stops before the live Service's selector
moves. pulumi-kubernetes awaits Jobs but not HPAs, so without it a switch
right after a scale-out would land on fewer pods (scripts/switch_gate/gate.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.labels import object_metadata, workload_labels
from components.pod_security import literal_env, restricted_container_security, restricted_pod_security
from components.vocabulary import APP_NAME
from settings import SwitchGate

SWITCH_GATE = f"{APP_NAME}-switch-gate"
SWITCH_GATE_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "switch_gate" / "gate.py"
GATE_USER_ID = 10002


def ready_service_name(color: str) -> str:
    """Headless Service whose DNS name answers with the color's ready pods."""
    return f"{APP_NAME}-{color}-ready"


def switch_gate_job_name(color: str, facts: dict) -> str:
    """One Job per switch: the name changes with the color going live and with
    everything that decides its capacity, so an unchanged stack never re-runs
    it and a retry after raising capacity runs a fresh one."""
    digest = hashlib.sha256(json.dumps({"color": color, **facts}, sort_keys=True).encode()).hexdigest()[:8]
    return f"{SWITCH_GATE}-{color}-{digest}"


@dataclass(frozen=True)
class GateTarget:
    """What the gate checks for the color going live."""

    namespace: pulumi.Input[str]
    namespace_name: str  # plain, for DNS names
    stack: str  # for the fix hint
    gate: SwitchGate
    min_replicas: int
    max_replicas: int
    image: str
    idle_replicas: int


def switch_gate_job(
    parent: pulumi.Resource, name: str, target: GateTarget, color: str, other: str, needs: list
) -> k8s.batch.v1.Job:
    """The Job the live Service waits for (pulumi-kubernetes awaits Job
    completion; a failed Job fails `pulumi up` before the selector moves).
    `name` prefixes the logical names of the Job and its script ConfigMap."""
    gate = target.gate
    script = SWITCH_GATE_SCRIPT.read_text()
    script_map = k8s.core.v1.ConfigMap(
        f"{name}-script",
        metadata=object_metadata(SWITCH_GATE, target.namespace, workload_labels(SWITCH_GATE, SWITCH_GATE, "switch-gate")),
        data={"gate.py": script},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    minimum, maximum = target.min_replicas, target.max_replicas
    facts = {
        "image": target.image,
        "minReplicas": minimum,
        "maxReplicas": maximum,
        "idleReplicas": target.idle_replicas,
        "gate": gate.model_dump(mode="json"),
        "script": hashlib.sha256(script.encode()).hexdigest(),
    }
    job_name = switch_gate_job_name(color, facts)
    host = lambda which: f"{ready_service_name(which)}.{target.namespace_name}.svc"  # noqa: E731
    fix_hint = (
        f"Give {color} the capacity first (pulumi config set --path autoscaling.minReplicas N -s {target.stack} "
        f"&& pulumi up), or in an emergency skip the check "
        f"(pulumi config set --path switchGate.enabled false -s {target.stack} && pulumi up)."
    )
    labels = workload_labels(SWITCH_GATE, job_name, "switch-gate")
    env = {
        "TARGET_HOST": host(color),
        "CURRENT_HOST": host(other),
        "MIN_REPLICAS": str(minimum),
        "MAX_REPLICAS": str(maximum),
        "TIMEOUT_SECONDS": str(gate.timeout_seconds),
        "FIX_HINT": fix_hint,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return k8s.batch.v1.Job(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=job_name, namespace=target.namespace, labels=labels),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=0,
            active_deadline_seconds=gate.timeout_seconds + 120,
            # No TTL: a Job deleted after finishing would be re-created
            # (and re-run) by the next `pulumi up --refresh`.
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    enable_service_links=False,
                    security_context=restricted_pod_security(GATE_USER_ID),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="gate",
                            image=gate.image,
                            image_pull_policy="Always",
                            command=["python3", "/gate/gate.py"],
                            env=[literal_env(key, value) for key, value in env.items()],
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "10m", "memory": "32Mi", "ephemeral-storage": "16Mi"},
                                limits={"cpu": "100m", "memory": "64Mi", "ephemeral-storage": "16Mi"},
                            ),
                            security_context=restricted_container_security(),
                            volume_mounts=[
                                k8s.core.v1.VolumeMountArgs(name="gate", mount_path="/gate", read_only=True)
                            ],
                        )
                    ],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name="gate",
                            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=SWITCH_GATE, default_mode=0o444),
                        )
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[*needs, script_map],
            custom_timeouts=pulumi.CustomTimeouts(create=f"{gate.timeout_seconds + 300}s"),
        ),
    )
