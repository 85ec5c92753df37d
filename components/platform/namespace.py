"""The stack's namespace, enforcing Pod Security Standards, the app's
ServiceAccount and, when the stack declares one, its PriorityClass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.labels import common_labels
from components.common.vocabulary import APP_NAME
from settings import PriorityClassSettings

# Pin the PSS version the namespace enforces, so a cluster upgrade cannot
# silently tighten (or loosen) the profile under running workloads.
POD_SECURITY_VERSION = "v1.33"


@dataclass(frozen=True)
class AppNamespaceArgs:
    name: str
    # Declared here when the stack creates its own PriorityClass.
    priority_class: Optional[PriorityClassSettings] = None


class AppNamespace(pulumi.ComponentResource):
    """Namespace labelled to enforce PSS `restricted`, plus the app's ServiceAccount."""

    namespace: pulumi.Output[str]
    """Name of the namespace."""
    service_account_name: pulumi.Output[str]
    """ServiceAccount the app pods run as (no API token mounted)."""

    def __init__(self, name: str, args: AppNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:platform:AppNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pod_security = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")} | {
            f"pod-security.kubernetes.io/{mode}-version": POD_SECURITY_VERSION for mode in ("enforce", "audit", "warn")
        }
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels=common_labels("namespace") | pod_security,
            ),
            # Deleting the namespace would delete everything in it, data included.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=True)),
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=APP_NAME,
                namespace=namespace.metadata.name,
                labels=common_labels("web"),
            ),
            # The app never calls the Kubernetes API: no token in its pods.
            automount_service_account_token=False,
            opts=child,
        )
        priority = args.priority_class
        if priority is not None and priority.create:
            k8s.scheduling.v1.PriorityClass(
                f"{name}-priority-class",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=priority.name, labels=common_labels("web")),
                value=priority.value,
                global_default=False,
                preemption_policy="PreemptLowerPriority",
                description=f"Monad Synapse app pods in namespace {args.name}: scheduled before default workloads.",
                opts=child,
            )
        self.namespace = namespace.metadata.name
        self.service_account_name = service_account.metadata.name
        self.register_outputs({"namespace": self.namespace, "service_account_name": self.service_account_name})
