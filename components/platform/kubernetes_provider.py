"""The Kubernetes provider every object of the program is applied with.

Explicit, so that its settings are part of the program rather than of each
operator's environment:

* `enableConfigMapMutable` / `enableSecretMutable`: without them
  pulumi-kubernetes replaces a ConfigMap or Secret on any data change
  (provider/pkg/provider/forcenew.go), and with fixed names that means delete
  before create: pods starting in the gap (HPA scale-ups, restarts) fail with
  CreateContainerConfigError. With them, data changes are updates; the
  checksum annotations on the pod templates still roll the pods.
* Server-side apply stays on (the provider's default), so field ownership
  (the HPA's `spec.replicas`) is respected.
* Adoption (`adoptExistingObjects`, for one `up`): since pulumi-kubernetes
  4.29 a create of an object that already exists fails with AlreadyExists
  (provider/pkg/await/await.go, `Creation`). `upsertExistingObjects` makes
  that create a server-side apply instead, and `enablePatchForce` lets it
  take over the fields that `kubectl` (another field manager) set, which
  would otherwise be conflicts. Changing either flag updates the provider
  in place (its DiffConfig replaces it only for another cluster).

An explicit provider does not read the `kubernetes:*` stack config the
default provider reads, so `kubernetes:context`, `kubernetes:cluster` and
`kubernetes:kubeconfig` are passed through.

Moving a live stack from the default provider to this one replaces nothing:
the alias names the default provider's URN, and the engine treats an aliased
provider change as no change (pulumi/pkg/resource/deploy/step_generator.go,
`providerChanged`); newer engines also ask the new provider's DiffConfig,
which replaces only when the target cluster changes.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes import _utilities as kubernetes_sdk

from settings import KubernetesConfig

PROVIDER_NAME = "monad-synapse-kubernetes"


def default_provider_name(version: Optional[str] = None) -> str:
    """The engine's name for the package's default provider: default_4_34_2."""
    return "default_" + (version or kubernetes_sdk.get_version()).replace(".", "_").replace("-", "_")


def kubernetes_provider(target: KubernetesConfig, adopt_existing_objects: bool = False) -> k8s.Provider:
    """The provider, pointed where the `kubernetes:*` stack config says."""
    return k8s.Provider(
        PROVIDER_NAME,
        context=target.context,
        cluster=target.cluster,
        # "" means the provider's own ambient lookup ($KUBECONFIG, ~/.kube/config),
        # and keeps a machine's file path out of the stack's state.
        kubeconfig=target.kubeconfig if target.kubeconfig is not None else "",
        enable_server_side_apply=True,
        enable_config_map_mutable=True,
        enable_secret_mutable=True,
        # Unset unless adopting: the provider's inputs stay as they were.
        upsert_existing_objects=True if adopt_existing_objects else None,
        enable_patch_force=True if adopt_existing_objects else None,
        opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name=default_provider_name())]),
    )
