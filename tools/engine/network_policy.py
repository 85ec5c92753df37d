"""NetworkPolicy evaluation (pure): whether a connection is allowed by the
policies of a namespace, as a CNI that enforces them decides
(kubernetes.io/docs/concepts/services-networking/network-policies):

* a pod no policy selects for a direction is open in that direction;
* a pod some policy selects for a direction accepts only what one of those
  policies' rules allows (rules add up, never subtract);
* a connection needs the source's egress and the destination's ingress;
* a peer is a podSelector (the policy's namespace), a namespaceSelector,
  both (pods matching in matching namespaces), or an ipBlock (its cidr
  less its excepts; for destinations outside the pod network);
* ports: none listed means every port; otherwise protocol and number (and
  `endPort` for ranges). Named ports are not modelled (refused here).

No Pulumi SDK here: tests feed it rendered objects and the pods that
operators create (tools.engine.operator_pods)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Union


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: Mapping[str, str]
    name: str = ""


@dataclass(frozen=True)
class Address:
    """A destination outside the pod network (the API server's endpoint, an object store)."""

    ip: str


Endpoint = Union[Pod, Address]


def selects(selector: Optional[Mapping[str, Any]], labels: Mapping[str, str]) -> bool:
    """A LabelSelector (metav1): matchLabels and matchExpressions, all of them."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


@dataclass
class Cluster:
    """Namespaces (with their labels) and every NetworkPolicy object."""

    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: list[Mapping[str, Any]] = field(default_factory=list)

    def add_policies(self, objects: Iterable[Mapping[str, Any]]) -> "Cluster":
        self.policies += [obj for obj in objects if obj.get("kind") == "NetworkPolicy"]
        for obj in self.policies:
            namespace = obj["metadata"]["namespace"]
            self.namespace_labels.setdefault(namespace, {"kubernetes.io/metadata.name": namespace})
        return self

    def _labels_of_namespace(self, name: str) -> dict[str, str]:
        return self.namespace_labels.get(name, {"kubernetes.io/metadata.name": name})

    def _peer_matches(self, peer: Mapping[str, Any], policy_namespace: str, other: Endpoint) -> bool:
        if "ipBlock" in peer:
            if not isinstance(other, Address):
                return False
            block = peer["ipBlock"]
            ip = ipaddress.ip_address(other.ip)
            network = ipaddress.ip_network(block["cidr"], strict=False)
            if ip.version != network.version or ip not in network:
                return False
            return not any(
                ip in ipaddress.ip_network(cidr, strict=False)
                for cidr in block.get("except") or []
                if ipaddress.ip_network(cidr, strict=False).version == ip.version
            )
        if not isinstance(other, Pod):
            return False
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], self._labels_of_namespace(other.namespace)):
                return False
        elif other.namespace != policy_namespace:
            return False
        return "podSelector" not in peer or selects(peer["podSelector"], other.labels)

    @staticmethod
    def _port_matches(ports: Optional[list], port: int, protocol: str) -> bool:
        if not ports:
            return True
        for item in ports:
            if item.get("protocol", "TCP") != protocol:
                continue
            number = item.get("port")
            if number is None:
                return True
            if not isinstance(number, int):
                raise ValueError(f"named port {number!r} is not modelled")
            if number == port or (item.get("endPort") and number <= port <= item["endPort"]):
                return True
        return False

    def _allows(self, pod: Pod, direction: str, other: Endpoint, port: int, protocol: str) -> bool:
        kind = "Ingress" if direction == "ingress" else "Egress"
        governing = [
            policy
            for policy in self.policies
            if policy["metadata"]["namespace"] == pod.namespace
            and selects(policy["spec"].get("podSelector") or {}, pod.labels)
            and kind in (policy["spec"].get("policyTypes") or ["Ingress"])
        ]
        if not governing:
            return True
        peers_key = "from" if direction == "ingress" else "to"
        for policy in governing:
            for rule in policy["spec"].get(direction) or []:
                peers = rule.get(peers_key)
                if not self._port_matches(rule.get("ports"), port, protocol):
                    continue
                namespace = policy["metadata"]["namespace"]
                if not peers or any(self._peer_matches(peer, namespace, other) for peer in peers):
                    return True
        return False

    def allows(self, source: Pod, destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """Whether `source` may open a connection to `destination` on `port`."""
        if not self._allows(source, "egress", destination, port, protocol):
            return False
        return not isinstance(destination, Pod) or self._allows(destination, "ingress", source, port, protocol)
