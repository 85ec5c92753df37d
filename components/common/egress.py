"""NetworkPolicy egress rules to IP blocks (pure): one place that decides
what a pod may reach outside the cluster, and that the cloud metadata
endpoint is never among it."""

from __future__ import annotations

import ipaddress
from typing import Optional

from settings import EgressTarget

# Never reachable from app pods, even when an egress target is "anywhere":
# the cloud metadata endpoint (169.254.169.254) hands out node credentials.
LINK_LOCAL = "169.254.0.0/16"


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
