"""Security contexts of the Pod Security Standards `restricted` profile, shared
by every pod the program runs (app, exporters, backup jobs)."""

from __future__ import annotations

from typing import Optional

import pulumi_kubernetes as k8s

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
