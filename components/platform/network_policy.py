"""NetworkPolicies: deny everything in the namespace, then allow what the app needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.egress import egress_rule
from components.common.labels import NAME_LABEL, common_labels, selector_labels
from components.common.vocabulary import APP_NAME, APP_PORT, PROMOTION_ANALYSIS
from platform_contract import DNS_POD_LABELS
from settings import Network

_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class AppNetworkPoliciesArgs:
    namespace: pulumi.Input[str]
    network: Network
    edge_namespaces: tuple[str, ...]  # where the ingress controller / Envoy proxies run
    # How the app reaches the database: None, the external one
    # (network.postgres); else egress rules to the in-cluster pooler and instances.
    database_egress: Optional[tuple] = None


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
                                    "podSelector": {"matchLabels": dict(DNS_POD_LABELS)},
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
                            "from": [
                                from_namespace(source)
                                for source in (*args.edge_namespaces, network.monitoring_namespace)
                            ],
                            "ports": [{"protocol": "TCP", "port": APP_PORT}],
                        },
                        # The promotion analysis sends its smoke requests.
                        {
                            "from": [{"podSelector": {"matchLabels": {NAME_LABEL: PROMOTION_ANALYSIS}}}],
                            "ports": [{"protocol": "TCP", "port": APP_PORT}],
                        },
                    ],
                    "egress": [
                        *(
                            args.database_egress
                            if args.database_egress is not None
                            else [egress_rule(network.postgres)]
                        ),
                        egress_rule(network.redis),
                        egress_rule(network.rpc),
                    ],
                },
            ),
        ]
        self.policy_names = pulumi.Output.all(*(item.metadata.name for item in policies))
        self.register_outputs({"policy_names": self.policy_names})
