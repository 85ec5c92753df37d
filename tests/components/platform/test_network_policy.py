"""The namespace's NetworkPolicies on their own, under the mock engine."""

from __future__ import annotations

from components.platform.network_policy import AppNetworkPolicies, AppNetworkPoliciesArgs
from settings import Network
from tests.helpers import objects_of


def test_network_policies_component(run_component):
    run = run_component(
        lambda: AppNetworkPolicies(
            "net", AppNetworkPoliciesArgs(namespace="team-a", network=Network(), edge_namespaces=("ingress-nginx",))
        )
    )
    objects = objects_of(run)
    assert set(objects) == {
        "NetworkPolicy/default-deny-all",
        "NetworkPolicy/allow-dns",
        "NetworkPolicy/monad-synapse-app",
    }
    app = objects["NetworkPolicy/monad-synapse-app"]["spec"]
    ports = sorted(rule["ports"][0]["port"] for rule in app["egress"])
    assert ports == [443, 5432, 6379]
