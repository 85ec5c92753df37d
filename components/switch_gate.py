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
from components.script_job import ScriptJob, script_job
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
    job = ScriptJob(
        namespace=target.namespace, job_name=job_name, labels=labels, pod_labels=labels, user_id=GATE_USER_ID,
        container_name="gate", image=gate.image, script_map_name=SWITCH_GATE, volume="gate", script="gate.py",
        env=env, cpu_limit="100m", memory_limit="64Mi", deadline_seconds=gate.timeout_seconds + 120,
    )
    return script_job(name, job, parent, [*needs, script_map])
