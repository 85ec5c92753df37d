"""The on-call's debugging pod (toolbox.enabled): psql and redis-cli inside the namespace, restricted, with its own egress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.egress import egress_rule
from components.common.labels import INSTANCE_LABEL, NAME_LABEL, object_metadata, workload_labels
from components.common.pod_security import restricted_container_security, restricted_pod_security
from components.common.vocabulary import TOOLBOX
from components.data.database_access import DatabaseAccess
from settings import EgressTarget, Settings, Toolbox

TOOLBOX_USER = 10001
# psql and redis-cli keep their history in $HOME: a writable scratch volume,
# the root filesystem being read-only.
SCRATCH = "/tmp"
# Waits for `kubectl exec`, and exits at once on SIGTERM (a plain `sleep`
# as PID 1 ignores it and holds the pod for its grace period).
IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 3600 & wait $!; done"]


@dataclass(frozen=True)
class ToolboxArgs:
    namespace: pulumi.Input[str]
    settings: Settings
    database: DatabaseAccess  # the dumps' access: the external URL, or the in-cluster primary
    app_secret_name: pulumi.Input[str]  # REDIS_URL (and the external DATABASE_URL)

    @property
    def toolbox(self) -> Toolbox:
        return self.settings.toolbox

    @property
    def redis(self) -> EgressTarget:
        return self.settings.network.redis


class DebugToolbox(pulumi.ComponentResource):
    """A Deployment of one pod and the NetworkPolicy that lets it reach the database and Redis, and nothing else.

    `kubectl exec -n NS deploy/monad-synapse-toolbox -c psql -- sh -c 'psql "$DATABASE_URL" -c "SELECT 1"'`
    """

    def __init__(self, name: str, args: ToolboxArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:platform:DebugToolbox", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = workload_labels(TOOLBOX, TOOLBOX, "debugging")
        selector = {NAME_LABEL: TOOLBOX, INSTANCE_LABEL: TOOLBOX}
        home = [{"name": "HOME", "value": SCRATCH}]
        redis_url = {
            "name": "REDIS_URL",
            "valueFrom": {"secretKeyRef": {"name": args.app_secret_name, "key": "REDIS_URL"}},
        }
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=object_metadata(TOOLBOX, args.namespace, labels),
            spec={
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "revisionHistoryLimit": 1,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        "terminationGracePeriodSeconds": 5,
                        "securityContext": restricted_pod_security(TOOLBOX_USER),
                        "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}}],
                        "containers": [
                            self._container(
                                "psql", args.toolbox.postgres_image, [*home, *args.database.env("DATABASE_URL")]
                            ),
                            self._container("redis-cli", args.toolbox.redis_image, [*home, redis_url]),
                        ],
                    },
                },
            },
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata=object_metadata(TOOLBOX, args.namespace, labels),
            spec={
                "podSelector": {"matchLabels": selector},
                # No ingress rule: nothing connects to it. DNS comes from allow-dns.
                "policyTypes": ["Ingress", "Egress"],
                "egress": [*args.database.egress, egress_rule(args.redis)],
            },
            opts=child,
        )
        self.deployment_name = deployment.metadata.name
        self.register_outputs({"deployment_name": self.deployment_name})

    @staticmethod
    def _container(name: str, image: str, env: list) -> dict:
        return {
            "name": name,
            "image": image,
            # Tags move; pull each time, as the exporters do (checkov CKV_K8S_15).
            "imagePullPolicy": "Always",
            "command": IDLE,
            "env": env,
            "securityContext": restricted_container_security(),
            "volumeMounts": [{"name": "scratch", "mountPath": SCRATCH}],
            "resources": {
                "requests": {"cpu": "10m", "memory": "32Mi", "ephemeral-storage": "80Mi"},
                "limits": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "80Mi"},
            },
            # Nothing serves: it is ready and alive while its shell runs.
            "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 30},
            "livenessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 60},
        }
