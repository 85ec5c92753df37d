"""Label sets shared by every object of the app (pure functions)."""

from __future__ import annotations

from typing import Optional

APP_NAME = "monad-synapse"
COLOR_LABEL = "monad-synapse.com/color"
NAME_LABEL = "app.kubernetes.io/name"


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
