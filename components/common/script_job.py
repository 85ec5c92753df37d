"""The one-shot Python Jobs the program gates on (the switch gate, the
promotion analysis and verification): a pinned image runs one script from a
ConfigMap, PSS restricted, no retries, no TTL, and a create timeout past its
deadline so pulumi-kubernetes reports the Job's own failure, not its own.

Each Job is a record of one check, made when its color goes live:

* Its pod template holds only what names the color (hosts, selectors) and
  the image. Thresholds, floors and the skip switch come from a settings
  ConfigMap through `envFrom`, read when the pod starts: changing them later
  updates that ConfigMap in place and re-runs nothing (a Job's template is
  immutable, so pulumi-kubernetes would replace, and so re-run, a Job whose
  template changed; provider/pkg/provider/forcenew.go).
* `pulumi.com/replaceUnready: "true"`: a failed Job stays in the cluster and
  in Pulumi's state with init errors, and the next `up` would only re-await
  it and fail again (pulumi pkg/resource/deploy/step_generator.go). With the
  annotation, pulumi-kubernetes replaces a Job that is not ready
  (provider/pkg/provider/provider.go, Diff), so a retry runs the check again
  with the settings of that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.common.pod_security import literal_env, restricted_container_security, restricted_pod_security

# pulumi-kubernetes provider/pkg/metadata/annotations.go (`AnnotationReplaceUnready`).
REPLACE_UNREADY_ANNOTATION = "pulumi.com/replaceUnready"


def settings_map(
    name: str, metadata: k8s.meta.v1.ObjectMetaArgs, values: Mapping[str, str], parent: pulumi.Resource
) -> k8s.core.v1.ConfigMap:
    """The ConfigMap a script Job reads its settings from. Values pass
    through envFrom unexpanded (the kubelet expands `$(NAME)` only in `env`)."""
    return k8s.core.v1.ConfigMap(name, metadata=metadata, data=dict(values), opts=pulumi.ResourceOptions(parent=parent))


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
    env: Mapping[str, str]  # what names the color: fixed for the Job's life
    settings_map_name: str  # ConfigMap read with envFrom when the pod starts
    cpu_limit: str
    memory_limit: str
    deadline_seconds: int


def script_job(name: str, job: ScriptJob, parent: pulumi.Resource, depends_on: list) -> k8s.batch.v1.Job:
    mount = f"/{job.volume}"
    return k8s.batch.v1.Job(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=job.job_name,
            namespace=job.namespace,
            labels=dict(job.labels),
            annotations={REPLACE_UNREADY_ANNOTATION: "true"},
        ),
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
                            env_from=[
                                k8s.core.v1.EnvFromSourceArgs(
                                    config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=job.settings_map_name)
                                )
                            ],
                            env=[literal_env(key, value) for key, value in job.env.items()],
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "10m", "memory": "32Mi", "ephemeral-storage": "16Mi"},
                                limits={"cpu": job.cpu_limit, "memory": job.memory_limit, "ephemeral-storage": "16Mi"},
                            ),
                            security_context=restricted_container_security(),
                            volume_mounts=[
                                k8s.core.v1.VolumeMountArgs(name=job.volume, mount_path=mount, read_only=True)
                            ],
                        )
                    ],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name=job.volume,
                            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                                name=job.script_map_name, default_mode=0o444
                            ),
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
