"""The one-shot Python Jobs the program gates on (the switch gate, the
promotion analysis and verification): a pinned image runs one script from a
ConfigMap, PSS restricted, no retries, no TTL, and a create timeout past its
deadline so pulumi-kubernetes reports the Job's own failure, not its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.pod_security import literal_env, restricted_container_security, restricted_pod_security


@dataclass(frozen=True)
class ScriptJob:
    namespace: pulumi.Input[str]
    job_name: pulumi.Input[str]
    labels: Mapping[str, str]
    pod_labels: Mapping[str, str]
    user_id: int
    container_name: str
    image: str
    script_map_name: str  # ConfigMap holding the script, mounted read-only at /<volume>
    volume: str
    script: str  # file name in that ConfigMap
    env: Mapping[str, str]
    cpu_limit: str
    memory_limit: str
    deadline_seconds: int


def script_job(name: str, job: ScriptJob, parent: pulumi.Resource, depends_on: list) -> k8s.batch.v1.Job:
    mount = f"/{job.volume}"
    return k8s.batch.v1.Job(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=job.job_name, namespace=job.namespace, labels=dict(job.labels)),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=0,
            active_deadline_seconds=job.deadline_seconds,
            # No TTL: a Job deleted after finishing would be re-created (and
            # re-run) by the next `pulumi up --refresh`.
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=dict(job.pod_labels)),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    enable_service_links=False,
                    security_context=restricted_pod_security(job.user_id),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name=job.container_name,
                            image=job.image,
                            image_pull_policy="Always",
                            command=["python3", f"{mount}/{job.script}"],
                            env=[literal_env(key, value) for key, value in job.env.items()],
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "10m", "memory": "32Mi", "ephemeral-storage": "16Mi"},
                                limits={"cpu": job.cpu_limit, "memory": job.memory_limit, "ephemeral-storage": "16Mi"},
                            ),
                            security_context=restricted_container_security(),
                            volume_mounts=[k8s.core.v1.VolumeMountArgs(name=job.volume, mount_path=mount, read_only=True)],
                        )
                    ],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name=job.volume,
                            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=job.script_map_name, default_mode=0o444),
                        )
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=depends_on,
            custom_timeouts=pulumi.CustomTimeouts(create=f"{job.deadline_seconds + 300}s"),
        ),
    )
