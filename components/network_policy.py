"""NetworkPolicies: deny everything in the namespace, then allow what the app needs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.app_config import APP_PORT
from components.labels import APP_NAME, common_labels, selector_labels
from settings import EgressTarget, Network

# Never reachable from app pods, even when an egress target is "anywhere":
# the cloud metadata endpoint (169.254.169.254) hands out node credentials.
LINK_LOCAL = "169.254.0.0/16"
_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def ip_blocks(target: EgressTarget) -> list[dict]:
    """ipBlock peers for an egress target; blocks covering the link-local
    range exclude it."""
    link_local = ipaddress.ip_network(LINK_LOCAL)
    blocks = []
    for cidr in target.cidrs:
        network = ipaddress.ip_network(cidr)
        block: dict = {"cidr": cidr}
        if network.version == 4 and network != link_local and link_local.subnet_of(network):
            block["except"] = [LINK_LOCAL]
        blocks.append(block)
    return blocks


def egress_rule(target: EgressTarget, port: Optional[int] = None) -> dict:
    """NetworkPolicy egress rule: the target's CIDRs on one TCP port."""
    return {
        "to": [{"ipBlock": block} for block in ip_blocks(target)],
        "ports": [{"protocol": "TCP", "port": port if port is not None else target.port}],
    }


@dataclass(frozen=True)
class AppNetworkPoliciesArgs:
    namespace: pulumi.Input[str]
    network: Network
    edge_namespaces: tuple[str, ...]  # where the ingress controller / Envoy proxies run


class AppNetworkPolicies(pulumi.ComponentResource):
    """Default-deny for the namespace; DNS for every pod; the app's own allowances."""

    policy_names: pulumi.Output[list]
    """Names of the NetworkPolicies declared."""

    def __init__(self, name: str, args: AppNetworkPoliciesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:network:AppNetworkPolicies", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        network = args.network

        def policy(logical: str, policy_name: str, spec: dict) -> k8s.networking.v1.NetworkPolicy:
            return k8s.networking.v1.NetworkPolicy(
                f"{name}-{logical}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=policy_name, namespace=args.namespace, labels=common_labels("network")
                ),
                spec=spec,
                opts=child,
            )

        def from_namespace(namespace: str) -> dict:
            return {"namespaceSelector": {"matchLabels": {_NAMESPACE_NAME_LABEL: namespace}}}

        policies = [
            # Everything not allowed below is refused, in both directions.
            policy("default-deny", "default-deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
            policy(
                "allow-dns",
                "allow-dns",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    **from_namespace(network.dns_namespace),
                                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                }
                            ],
                            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                        }
                    ],
                },
            ),
            policy(
                "app",
                f"{APP_NAME}-app",
                {
                    "podSelector": {"matchLabels": selector_labels()},
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [
                        {
                            "from": [from_namespace(source) for source in (*args.edge_namespaces, network.monitoring_namespace)],
                            "ports": [{"protocol": "TCP", "port": APP_PORT}],
                        }
                    ],
                    "egress": [egress_rule(network.postgres), egress_rule(network.redis), egress_rule(network.rpc)],
                },
            ),
        ]
        self.policy_names = pulumi.Output.all(*(item.metadata.name for item in policies))
        self.register_outputs({"policy_names": self.policy_names})
