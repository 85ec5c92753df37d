"""Label sets and object metadata shared by every object the program
declares (one home; pure apart from building the SDK's metadata args)."""

from __future__ import annotations

from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.vocabulary import APP_NAME

COLOR_LABEL = "monad-synapse.com/color"
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"


def common_labels(component: str) -> dict[str, str]:
    """Kubernetes' recommended labels for an object of this app."""
    return {
        NAME_LABEL: APP_NAME,
        "app.kubernetes.io/part-of": APP_NAME,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector_labels(color: Optional[str] = None) -> dict[str, str]:
    """Stable selector: name (and color). Never a version, so a release
    never changes a Deployment's immutable selector."""
    labels = {NAME_LABEL: APP_NAME}
    if color:
        labels[COLOR_LABEL] = color
    return labels


def workload_labels(name: str, instance: str, component: str) -> dict[str, str]:
    """Recommended labels of a workload that is not the app itself (exporters,
    backup jobs, the switch gate): its own name, so the runbook's
    `-l app.kubernetes.io/name=monad-synapse` still selects only app pods."""
    return {
        NAME_LABEL: name,
        INSTANCE_LABEL: instance,
        "app.kubernetes.io/part-of": APP_NAME,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def object_metadata(
    name: pulumi.Input[str],
    namespace: Optional[pulumi.Input[str]],
    labels: Mapping[str, str],
    annotations: Optional[Mapping[str, pulumi.Input[str]]] = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata of a namespaced object (namespace None for cluster-scoped ones)."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name, namespace=namespace, labels=dict(labels), annotations=dict(annotations) if annotations else None
    )
