"""The edge component on its own, with fake args, under the mock engine."""

from __future__ import annotations

from components.edge.app_edge import AppEdge, EdgeArgs
from settings import Edge, RateLimit
from tests.helpers import children_of, objects_of


def edge_args(**changes) -> EdgeArgs:
    values = dict(
        namespace="team-a",
        environment="qa",
        domain="qa.example.com",
        preview_host="preview.qa.example.com",
        edge=Edge(),
        rate_limit=RateLimit(),
        live_service_name="live",
        preview_service_name="preview",
        metrics_path="/internal/metrics",
    )
    values.update(changes)
    return EdgeArgs(**values)


def test_edge_component_ingress_mode(run_component):
    run = run_component(lambda: AppEdge("edge", edge_args(edge=Edge(kind="ingress-nginx"))))
    children = children_of(run, "monad:edge:AppEdge")
    assert {child.inputs["kind"] for child in children} == {"Certificate", "Ingress"}
    objects = objects_of(run)
    assert objects["Certificate/monad-synapse-qa-tls"]["spec"]["dnsNames"] == [
        "qa.example.com",
        "preview.qa.example.com",
    ]
    block = objects["Ingress/monad-synapse-qa-metrics-block"]
    assert {rule["http"]["paths"][0]["path"] for rule in block["spec"]["rules"]} == {"/internal/metrics"}
    live = objects["Ingress/monad-synapse-qa-ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert live["name"] == "live"


def test_edge_component_gateway_mode_without_preview(run_component):
    edge = Edge(kind="gateway", preview={"enabled": False})
    run = run_component(lambda: AppEdge("edge", edge_args(edge=edge)))
    kinds = sorted(child.inputs["kind"] for child in children_of(run, "monad:edge:AppEdge"))
    assert kinds == [
        "BackendTrafficPolicy",
        "Certificate",
        "ClientTrafficPolicy",
        "Gateway",
        "HTTPRoute",
        "HTTPRoute",
        "HTTPRouteFilter",
    ]
    assert "SecurityPolicy" not in kinds  # no preview, no allow list
