"""Security contexts of the Pod Security Standards `restricted` profile, and
the ephemeral-storage request of scratch volumes, shared by every pod the
program runs (app, exporters, backup jobs, the switch gate)."""

from __future__ import annotations

from typing import Optional

import pulumi_kubernetes as k8s

from settings import parse_quantity

# Container logs count against a pod's ephemeral storage too.
LOG_ALLOWANCE = "64Mi"

RUNTIME_DEFAULT_SECCOMP = k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")


def restricted_pod_security(user_id: int, fs_group: Optional[int] = None) -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=user_id,
        run_as_group=user_id,
        fs_group=fs_group,
        seccomp_profile=RUNTIME_DEFAULT_SECCOMP,
    )


def restricted_container_security() -> k8s.core.v1.SecurityContextArgs:
    """Non-root, no privilege escalation, no capabilities, read-only root."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        privileged=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=RUNTIME_DEFAULT_SECCOMP,
    )


def ephemeral_storage_request(*size_limits: str) -> str:
    """What a pod must request for its emptyDir volumes (their size limits)
    plus its logs, so the scheduler places it on a node with that much room
    rather than letting the kubelet evict it later."""
    total = sum((parse_quantity(size) for size in (*size_limits, LOG_ALLOWANCE)), start=parse_quantity("0"))
    return f"{int(-(-total // (2**20)))}Mi"


def literal_env(name: str, value: str) -> k8s.core.v1.EnvVarArgs:
    """An environment variable whose value reaches the container as written.
    Kubernetes expands `$(NAME)` in env values from the container's other
    variables (a config value `$(DATABASE_URL)` would copy the password into
    a log line); `$$` is its escape for a literal `$`."""
    return k8s.core.v1.EnvVarArgs(name=name, value=value.replace("$", "$$"))
