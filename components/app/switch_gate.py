"""The switch gate: before live traffic moves to a color, a Job waits until
that color has as many ready pods as the color serving now (up to the HPA's
maximum), or fails so `pulumi up` stops before the live Service's selector
moves. pulumi-kubernetes awaits Jobs but not HPAs, so without it a switch
right after a scale-out would land on fewer pods (scripts/switch_gate/gate.py).
It runs once per switch: a change that moves no traffic runs no gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.common.labels import object_metadata, workload_labels
from components.common.script_job import ScriptJob, script_job, settings_map
from components.common.vocabulary import APP_NAME
from settings import SwitchGate

SWITCH_GATE = f"{APP_NAME}-switch-gate"
SWITCH_GATE_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "switch_gate" / "gate.py"
GATE_USER_ID = 10002


def ready_service_name(color: str) -> str:
    """Headless Service whose DNS name answers with the color's ready pods."""
    return f"{APP_NAME}-{color}-ready"


def switch_gate_job_name(color: str) -> str:
    """The gate of one color: made when that color goes live, kept while it
    serves, deleted when it stops. Nothing else changes its template, so no
    other change runs it again (components/common/script_job.py)."""
    return f"{SWITCH_GATE}-{color}"


@dataclass(frozen=True)
class GateTarget:
    """What the gate checks for the color going live."""

    namespace: pulumi.Input[str]
    namespace_name: str  # plain, for DNS names
    stack: str  # for the fix hint
    gate: SwitchGate
    min_replicas: int
    max_replicas: int


def gate_settings(target: GateTarget, color: str) -> dict[str, str]:
    """What the gate reads when its pod starts (its settings ConfigMap)."""
    gate = target.gate
    fix_hint = (
        f"Give {color} the capacity first (pulumi config set --path autoscaling.minReplicas N -s {target.stack} "
        f"&& pulumi up: the failed gate runs again), or in an emergency skip the check "
        f"(pulumi config set --path switchGate.enabled false -s {target.stack} && pulumi up)."
    )
    return {
        "MIN_REPLICAS": str(target.min_replicas),
        "MAX_REPLICAS": str(target.max_replicas),
        "TIMEOUT_SECONDS": str(gate.timeout_seconds),
        "FIX_HINT": fix_hint,
        # switchGate.enabled false: the emergency bypass. The Job still
        # records the switch, so turning the gate back on re-runs nothing.
        "SKIP_REASON": "" if gate.enabled else "switchGate.enabled is false",
    }


def switch_gate_job(
    parent: pulumi.Resource, name: str, target: GateTarget, color: str, other: str, needs: list
) -> k8s.batch.v1.Job:
    """The Job the live Service waits for (pulumi-kubernetes awaits Job
    completion; a failed Job fails `pulumi up` before the selector moves).
    `name` prefixes the logical names of the Job and its ConfigMaps; the
    Job's own logical name carries its color, so a switch creates the new
    color's Job and deletes the old one instead of renaming one resource
    (a rename is a create-before-delete that leaves the old name behind as a
    pending delete when the new Job fails)."""
    labels = workload_labels(SWITCH_GATE, SWITCH_GATE, "switch-gate")
    script_map = k8s.core.v1.ConfigMap(
        f"{name}-script",
        metadata=object_metadata(SWITCH_GATE, target.namespace, labels),
        data={"gate.py": SWITCH_GATE_SCRIPT.read_text()},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    settings_name = f"{SWITCH_GATE}-settings"
    settings = settings_map(
        f"{name}-settings",
        object_metadata(settings_name, target.namespace, labels),
        gate_settings(target, color),
        parent,
    )
    job_name = switch_gate_job_name(color)
    host = lambda which: f"{ready_service_name(which)}.{target.namespace_name}.svc"  # noqa: E731
    job_labels = workload_labels(SWITCH_GATE, job_name, "switch-gate")
    job = ScriptJob(
        namespace=target.namespace,
        job_name=job_name,
        labels=job_labels,
        pod_labels=job_labels,
        user_id=GATE_USER_ID,
        container_name="gate",
        image=target.gate.image,
        script_map_name=SWITCH_GATE,
        volume="gate",
        script="gate.py",
        env={"TARGET_HOST": host(color), "CURRENT_HOST": host(other), "PYTHONDONTWRITEBYTECODE": "1"},
        settings_map_name=settings_name,
        cpu_limit="100m",
        memory_limit="64Mi",
        deadline_seconds=target.gate.timeout_seconds + 120,
    )
    return script_job(f"{name}-{color}", job, parent, [*needs, script_map, settings])
