"""The pods CloudNativePG creates for a Cluster and a Pooler, with the
labels the operator puts on them (pure). The program's NetworkPolicies
must let each do its job; tests evaluate them against these pods
(tools.engine.network_policy), not against the labels the program assumes.

Sources (cloudnative-pg, main in 2026): pkg/specs/pods.go (instance pods,
`createPostgresContainers`... labels at `Labels: map[string]string{...}`),
pkg/specs/jobs.go (`CreatePrimaryJob`: the initdb, join, full-recovery,
pgbasebackup, import and snapshot-recovery Jobs; their pods carry
`cnpg.io/jobRole`, *not* `cnpg.io/podRole`), pkg/specs/pgbouncer/
deployments.go (pooler pods), pkg/utils/labels_annotations.go (the names).
`inheritedMetadata` labels reach instance pods and Job pods alike
(pkg/specs/pods.go, jobs.go: `cluster.GetFixedInheritedLabels()`)."""

from __future__ import annotations

from typing import Mapping

from tools.engine.network_policy import Pod

# pkg/specs/jobs.go: jobRole values.
JOB_ROLES = ("initdb", "join", "full-recovery", "pgbasebackup", "import", "snapshot-recovery")


def _common(cluster: str, component: str) -> dict[str, str]:
    return {
        "cnpg.io/cluster": cluster,
        "app.kubernetes.io/name": "postgresql",
        "app.kubernetes.io/instance": cluster,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "cloudnative-pg",
    }


def instance_pod(namespace: str, cluster: str, serial: int, primary: bool, inherited: Mapping[str, str] = ()) -> Pod:
    """pkg/specs/pods.go; the instance role label is set by the instance
    manager (cnpg.io/instanceRole, and the deprecated `role`)."""
    name = f"{cluster}-{serial}"
    role = "primary" if primary else "replica"
    labels = {
        **dict(inherited),
        **_common(cluster, "database"),
        "cnpg.io/instanceName": name,
        "cnpg.io/podRole": "instance",
        "cnpg.io/instanceRole": role,
        "role": role,
        "app.kubernetes.io/version": "17",
    }
    return Pod(namespace, labels, name)


def job_pod(namespace: str, cluster: str, role: str, serial: int = 1, inherited: Mapping[str, str] = ()) -> Pod:
    """pkg/specs/jobs.go, CreatePrimaryJob: the Job's pod template labels."""
    if role not in JOB_ROLES:
        raise ValueError(f"unknown jobRole {role!r}")
    name = f"{cluster}-{serial}"
    labels = {
        **dict(inherited),
        **_common(cluster, "database"),
        "cnpg.io/instanceName": name,
        "cnpg.io/jobRole": role,
        "app.kubernetes.io/version": "17",
    }
    return Pod(namespace, labels, f"{name}-{role}")


def pooler_pod(namespace: str, cluster: str, pooler: str, template_labels: Mapping[str, str] = ()) -> Pod:
    """pkg/specs/pgbouncer/deployments.go: the pooler's template labels plus the operator's."""
    labels = {
        **dict(template_labels),
        **_common(cluster, "pooler"),
        "cnpg.io/poolerName": pooler,
        "cnpg.io/podRole": "pooler",
    }
    return Pod(namespace, labels, f"{pooler}-0")
