"""The edge: runbook names, TLS, rate limits and DDoS mode, preview host,
and gateway mode, shown by comparing renders."""

from __future__ import annotations

import pytest

from components.edge.app_edge import envoy_rate_limit_rules, rate_limit_annotations
from settings import RateLimit
from tools.diff import diff_objects as compare

NGINX = "nginx.ingress.kubernetes.io"
# Each mode alone (the committed stacks serve both while their DNS moves):
# ingress-nginx, the legacy edge retired upstream in March 2026, and the Gateway.
INGRESS = ("edge.kind=ingress-nginx", "edge.keepIngressDuringMigration=false")
GATEWAY = ("edge.kind=gateway", "edge.keepIngressDuringMigration=false")
# Every ingress-nginx annotation the program may use; all exist upstream.
KNOWN_NGINX_ANNOTATIONS = {
    f"{NGINX}/{name}"
    for name in (
        "ssl-redirect",
        "force-ssl-redirect",
        "proxy-body-size",
        "proxy-connect-timeout",
        "proxy-read-timeout",
        "proxy-send-timeout",
        "custom-headers",
        "limit-connections",
        "limit-rps",
        "limit-burst-multiplier",
        "limit-whitelist",
        "whitelist-source-range",
        "denylist-source-range",
    )
}


def edge_objects(objects: dict) -> dict:
    return {k: v for k, v in objects.items() if v["metadata"]["labels"].get("app.kubernetes.io/component") == "edge"}


@pytest.mark.parametrize(
    ("stack", "env", "domain"),
    [("production", "prod", "monad-synapse.com"), ("staging", "staging", "staging.monad-synapse.com")],
)
def test_ingress_and_certificate_keep_runbook_names(stack_objects, stack, env, domain):
    objects = stack_objects(stack, *INGRESS)
    ingress = objects[f"Ingress/{stack}/monad-synapse-{env}-ingress"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == domain
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == "monad-synapse"
    assert ingress["spec"]["tls"] == [{"hosts": [domain], "secretName": f"monad-synapse-{env}-tls"}]
    certificate = objects[f"Certificate/{stack}/monad-synapse-{env}-tls"]
    assert certificate["spec"]["secretName"] == f"monad-synapse-{env}-tls"
    assert certificate["spec"]["issuerRef"] == {
        "group": "cert-manager.io",
        "kind": "ClusterIssuer",
        "name": "letsencrypt-prod",
    }
    assert domain in certificate["spec"]["dnsNames"]
    # The Ingress must not ask cert-manager's ingress-shim for a second Certificate.
    assert not any(key.startswith("cert-manager.io/") for key in ingress["metadata"]["annotations"])


def test_https_redirect_timeouts_and_no_snippets(stack_objects):
    objects = stack_objects("production", *INGRESS)
    ingresses = [obj for obj in objects.values() if obj["kind"] == "Ingress"]
    assert sorted(obj["metadata"]["name"] for obj in ingresses) == [
        "monad-synapse-prod-ingress",
        "monad-synapse-prod-metrics-block",
        "monad-synapse-prod-preview-ingress",
    ]
    serving = [obj for obj in ingresses if not obj["metadata"]["name"].endswith("-metrics-block")]
    blocking = objects["Ingress/production/monad-synapse-prod-metrics-block"]["metadata"]["annotations"]
    assert set(blocking) <= KNOWN_NGINX_ANNOTATIONS and not any("snippet" in key for key in blocking)
    for obj in serving:
        annotations = obj["metadata"]["annotations"]
        assert set(annotations) <= KNOWN_NGINX_ANNOTATIONS, obj["metadata"]["name"]
        assert not any("snippet" in key for key in annotations)
        assert annotations[f"{NGINX}/force-ssl-redirect"] == "true"
        assert annotations[f"{NGINX}/proxy-read-timeout"] == "60"
        # By default HSTS comes from the controller: a custom-headers reference
        # the controller does not allow would make it answer 503.
        assert f"{NGINX}/custom-headers" not in annotations
    assert "ConfigMap/production/monad-synapse-response-headers" not in objects


def test_opt_in_security_headers(stack_objects):
    objects = stack_objects(
        "production", *INGRESS, "edge.customResponseHeaders=true", "edge.hstsMaxAgeSeconds=63072000"
    )
    for obj in objects.values():
        if obj["kind"] == "Ingress" and not obj["metadata"]["name"].endswith("-metrics-block"):
            assert (
                obj["metadata"]["annotations"][f"{NGINX}/custom-headers"] == "production/monad-synapse-response-headers"
            )
    headers = objects["ConfigMap/production/monad-synapse-response-headers"]["data"]
    assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def test_rate_limits_are_on_by_default_with_real_annotation_names(stack_objects):
    annotations = stack_objects("production", *INGRESS)["Ingress/production/monad-synapse-prod-ingress"]["metadata"][
        "annotations"
    ]
    assert annotations[f"{NGINX}/limit-connections"] == "50"
    assert annotations[f"{NGINX}/limit-rps"] == "20"
    assert f"{NGINX}/rate-limit-connections" not in annotations  # the runbook's annotation does not exist


def test_ddos_mode_touches_only_the_edge(stack_objects):
    changes = compare(
        stack_objects("production", *INGRESS), stack_objects("production", *INGRESS, "rateLimit.connections=10")
    )
    assert {change.identity for change in changes} == {
        "Ingress/production/monad-synapse-prod-ingress",
        "Ingress/production/monad-synapse-prod-preview-ingress",
    }
    assert all(change.fields == (f"metadata.annotations.{NGINX}/limit-connections",) for change in changes)
    assert not any(change.rolls_pods for change in changes)


def test_allowlist_is_never_limited(stack_objects):
    annotations = stack_objects("production", *INGRESS, "rateLimit.allowlistCidrs[0]=203.0.113.0/24")[
        "Ingress/production/monad-synapse-prod-ingress"
    ]["metadata"]["annotations"]
    assert annotations[f"{NGINX}/limit-whitelist"] == "203.0.113.0/24"


def test_preview_host_routes_to_the_idle_color_and_is_restricted(stack_objects):
    objects = stack_objects("production", *INGRESS)
    preview = objects["Ingress/production/monad-synapse-prod-preview-ingress"]
    assert preview["spec"]["rules"][0]["host"] == "preview.monad-synapse.com"
    assert preview["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "monad-synapse-preview"
    assert (
        preview["metadata"]["annotations"][f"{NGINX}/whitelist-source-range"]
        == "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
    )


def test_preview_can_be_disabled(stack_objects):
    objects = stack_objects("production", *INGRESS, "edge.preview.enabled=false")
    assert "Ingress/production/monad-synapse-prod-preview-ingress" not in objects
    assert objects["Certificate/production/monad-synapse-prod-tls"]["spec"]["dnsNames"] == ["monad-synapse.com"]


def test_gateway_mode_replaces_ingresses_with_gateway_api(stack_objects):
    objects = stack_objects("production", *GATEWAY)
    kinds = {obj["kind"] for obj in edge_objects(objects).values()}
    assert "Ingress" not in kinds
    assert {
        "Certificate",
        "Gateway",
        "HTTPRoute",
        "BackendTrafficPolicy",
        "ClientTrafficPolicy",
        "SecurityPolicy",
    } <= kinds
    gateway = objects["Gateway/production/monad-synapse-prod-gateway"]["spec"]
    https = [listener for listener in gateway["listeners"] if listener["protocol"] == "HTTPS"]
    assert {listener["hostname"] for listener in https} == {"monad-synapse.com", "preview.monad-synapse.com"}
    assert all(
        listener["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "monad-synapse-prod-tls"}]
        for listener in https
    )
    live = objects["HTTPRoute/production/monad-synapse"]["spec"]
    assert live["hostnames"] == ["monad-synapse.com"]
    assert live["rules"][0]["backendRefs"] == [{"name": "monad-synapse", "port": 80}]
    redirect = objects["HTTPRoute/production/monad-synapse-https-redirect"]["spec"]["rules"][0]["filters"][0]
    assert redirect["requestRedirect"] == {"scheme": "https", "statusCode": 301}
    # The app accepts traffic from Envoy's namespace instead of ingress-nginx's.
    app_policy = objects["NetworkPolicy/production/monad-synapse-app"]["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}}} in app_policy


def test_same_rate_limit_keys_mean_the_same_in_both_modes(stack_objects):
    sets = ("rateLimit.rps=7", "rateLimit.allowlistCidrs[0]=203.0.113.0/24")
    nginx = stack_objects("production", *INGRESS, *sets)["Ingress/production/monad-synapse-prod-ingress"]["metadata"][
        "annotations"
    ]
    envoy = stack_objects("production", *GATEWAY, *sets)["BackendTrafficPolicy/production/monad-synapse-rate-limit"]
    rule = envoy["spec"]["rateLimit"]["local"]["rules"][0]
    assert nginx[f"{NGINX}/limit-rps"] == str(rule["limit"]["requests"]) == "7"
    assert rule["limit"]["unit"] == "Second"
    assert {"sourceCIDR": {"type": "Distinct", "value": "0.0.0.0/0"}} in rule["clientSelectors"]
    assert {"sourceCIDR": {"type": "Exact", "value": "203.0.113.0/24", "invert": True}} in rule["clientSelectors"]
    targets = {ref["name"] for ref in envoy["spec"]["targetRefs"]}
    assert targets == {"monad-synapse", "monad-synapse-preview"}


def test_ddos_mode_in_gateway_mode_touches_only_the_rate_limit_policy(stack_objects):
    before = stack_objects("production", *GATEWAY)
    after = stack_objects("production", *GATEWAY, "rateLimit.rps=5")
    assert [change.identity for change in compare(before, after)] == [
        "BackendTrafficPolicy/production/monad-synapse-rate-limit"
    ]


def test_shared_gateway_is_attached_to_not_declared(stack_objects):
    objects = stack_objects(
        "production",
        *GATEWAY,
        "edge.gateway.shared.name=public",
        "edge.gateway.shared.namespace=gateways",
        "edge.gateway.shared.httpsSectionName=websecure",
    )
    assert not any(obj["kind"] in ("Gateway", "ClientTrafficPolicy") for obj in objects.values())
    (parent,) = objects["HTTPRoute/production/monad-synapse"]["spec"]["parentRefs"]
    assert parent == {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": "public",
        "namespace": "gateways",
        "sectionName": "websecure",
    }


def test_migration_to_gateway_changes_only_edge_objects_and_the_edge_source(stack_objects):
    changes = compare(stack_objects("production", *INGRESS), stack_objects("production", *GATEWAY))
    touched = {change.identity for change in changes}
    assert all(
        identity.split("/")[0]
        in {
            "Ingress",
            "ConfigMap",
            "Gateway",
            "HTTPRoute",
            "HTTPRouteFilter",
            "BackendTrafficPolicy",
            "ClientTrafficPolicy",
            "SecurityPolicy",
            "NetworkPolicy",
            # The edge's own monitoring comes with it.
            "PodMonitor",
            "PrometheusRule",
        }
        for identity in touched
    )
    assert "NetworkPolicy/production/monad-synapse-app" in touched
    assert "PodMonitor/production/monad-synapse-edge" in touched
    assert not any(identity.startswith(("Deployment/", "Service/", "Certificate/")) for identity in touched)


def test_migration_overlap_serves_both_edges_then_drops_the_ingresses(stack_objects):
    overlap = stack_objects("production", "edge.kind=gateway", "edge.keepIngressDuringMigration=true")
    kinds = [obj["kind"] for obj in edge_objects(overlap).values()]
    assert kinds.count("Ingress") == 3 and "Gateway" in kinds
    sources = overlap["NetworkPolicy/production/monad-synapse-app"]["spec"]["ingress"][0]["from"]
    allowed = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in sources}
    assert {"ingress-nginx", "envoy-gateway-system"} <= allowed
    finished = compare(overlap, stack_objects("production", *GATEWAY))
    assert {change.identity for change in finished if change.action == "removed"} == {
        "Ingress/production/monad-synapse-prod-ingress",
        "Ingress/production/monad-synapse-prod-preview-ingress",
        "Ingress/production/monad-synapse-prod-metrics-block",
    }


def test_rate_limit_helpers():
    limits = RateLimit(connections=10, rps=3, burst_multiplier=2)
    assert rate_limit_annotations(limits) == {
        f"{NGINX}/limit-connections": "10",
        f"{NGINX}/limit-rps": "3",
        f"{NGINX}/limit-burst-multiplier": "2",
    }
    assert envoy_rate_limit_rules(limits)[0]["limit"] == {"requests": 3, "unit": "Second"}


# --- the metrics path is never public ------------------------------------------------

from tests.edge_routing import gateway_answer, http_route_rule, ingress_route  # noqa: E402

METRICS_URLS = ["/api/metrics", "/api/metrics/", "/api/metrics/default"]


def denied_to_everyone(ingress: dict) -> bool:
    import ipaddress

    ranges = (ingress["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/denylist-source-range", "")
    networks = {ipaddress.ip_network(item.strip()) for item in ranges.split(",") if item.strip()}
    return {ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")} <= networks


@pytest.mark.parametrize("host", ["monad-synapse.com", "preview.monad-synapse.com"])
@pytest.mark.parametrize("path", METRICS_URLS)
def test_ingress_nginx_never_serves_the_metrics_path(stack_objects, host, path):
    objects = stack_objects("production", *INGRESS)
    ingress, entry = ingress_route(objects, host, path)
    assert denied_to_everyone(ingress), f"https://{host}{path} is served by {ingress['metadata']['name']}"
    assert host in {tls_host for tls in ingress["spec"]["tls"] for tls_host in tls["hosts"]}


@pytest.mark.parametrize("host", ["monad-synapse.com", "preview.monad-synapse.com"])
def test_ingress_nginx_serves_everything_else(stack_objects, host):
    objects = stack_objects("production", *INGRESS)
    for path in ("/", "/api/health", "/api/metricsx", "/games/dice"):
        ingress, entry = ingress_route(objects, host, path)
        assert not denied_to_everyone(ingress), path
        assert entry["backend"]["service"]["name"] in ("monad-synapse", "monad-synapse-preview")


@pytest.mark.parametrize("host", ["monad-synapse.com", "preview.monad-synapse.com"])
@pytest.mark.parametrize("path", METRICS_URLS)
def test_gateway_never_forwards_the_metrics_path(stack_objects, host, path):
    objects = stack_objects("production", *GATEWAY)
    route, rule = http_route_rule(objects, host, path)
    assert not rule.get("backendRefs"), f"https://{host}{path} is forwarded by {route['metadata']['name']}"
    route, rule = http_route_rule(objects, host, "/api/health")
    assert rule["backendRefs"][0]["name"] in ("monad-synapse", "monad-synapse-preview")


def test_a_custom_metrics_path_is_blocked_too(stack_objects):
    objects = stack_objects("production", *INGRESS, "monitoring.metricsPath=/internal/prom")
    ingress, _ = ingress_route(objects, "monad-synapse.com", "/internal/prom")
    assert denied_to_everyone(ingress)
    assert not denied_to_everyone(ingress_route(objects, "monad-synapse.com", "/api/metrics")[0])
    gateway = stack_objects("production", *GATEWAY, "monitoring.metricsPath=/internal/prom")
    assert not http_route_rule(gateway, "monad-synapse.com", "/internal/prom")[1].get("backendRefs")


@pytest.mark.parametrize("host", ["monad-synapse.com", "preview.monad-synapse.com"])
@pytest.mark.parametrize("path", METRICS_URLS)
def test_gateway_answers_the_metrics_path_not_found(stack_objects, host, path):
    """A rule without backends makes the Gateway answer 500 (an error that
    pages, and looks like an outage); the metrics path is simply not there."""
    objects = stack_objects("production", *GATEWAY)
    assert gateway_answer(objects, host, path) == 404
    assert gateway_answer(objects, host, "/api/health") in ("monad-synapse", "monad-synapse-preview")


# --- Envoy Gateway 1.9: rate limits, client addresses, TLS ----------------------------


def rate_limit_rules(objects: dict) -> list[dict]:
    policy = objects["BackendTrafficPolicy/production/monad-synapse-rate-limit"]["spec"]["rateLimit"]
    assert "type" not in policy  # deprecated since Envoy Gateway 1.6: local and global stand alone
    return policy["local"]["rules"]


@pytest.mark.parametrize("rps", [None, "5"], ids=["normal", "ddos"])
def test_rate_limits_cover_ipv4_and_ipv6_clients(stack_objects, rps):
    sets = (
        *GATEWAY,
        "rateLimit.allowlistCidrs[0]=203.0.113.0/24",
        "rateLimit.allowlistCidrs[1]=2001:db8::/32",
    )
    rules = rate_limit_rules(stack_objects("production", *sets, *([f"rateLimit.rps={rps}"] if rps else [])))
    buckets = {
        selector["sourceCIDR"]["value"]
        for rule in rules
        for selector in rule["clientSelectors"]
        if selector["sourceCIDR"]["type"] == "Distinct"
    }
    assert buckets == {"0.0.0.0/0", "::/0"}
    for rule in rules:
        assert rule["limit"] == {"requests": int(rps or 20), "unit": "Second"}
        excluded = {s["sourceCIDR"]["value"] for s in rule["clientSelectors"] if s["sourceCIDR"].get("invert")}
        assert excluded == {"203.0.113.0/24", "2001:db8::/32"}


def client_traffic(objects: dict) -> dict:
    return objects["ClientTrafficPolicy/production/monad-synapse-connections"]["spec"]


def test_client_addresses_come_from_the_connection_by_default_and_tls_is_at_least_1_2(stack_objects):
    """The TCP peer cannot be forged; an X-Forwarded-For header can, unless
    the proxies that append it are known."""
    spec = client_traffic(stack_objects("production", *GATEWAY))
    assert spec["clientIPDetection"] == {"directSourceIP": {}}
    assert spec["tls"] == {"minVersion": "1.2"}


@pytest.mark.parametrize(
    ("sets", "detection"),
    [
        (
            ("edge.gateway.clientIp.source=x-forwarded-for", "edge.gateway.clientIp.trustedHops=1"),
            {"xForwardedFor": {"numTrustedHops": 1}},
        ),
        (
            ("edge.gateway.clientIp.source=x-forwarded-for", "edge.gateway.clientIp.trustedCidrs[0]=10.0.0.0/8"),
            {"xForwardedFor": {"trustedCIDRs": ["10.0.0.0/8"]}},
        ),
        (
            ("edge.gateway.clientIp.source=header", "edge.gateway.clientIp.header=CF-Connecting-IP"),
            {"customHeader": {"name": "CF-Connecting-IP", "failClosed": True}},
        ),
    ],
    ids=["hops", "cidrs", "header"],
)
def test_client_addresses_behind_a_load_balancer(stack_objects, sets, detection):
    spec = client_traffic(stack_objects("production", *GATEWAY, "edge.gateway.minTlsVersion=1.3", *sets))
    assert spec["clientIPDetection"] == detection
    assert spec["tls"] == {"minVersion": "1.3"}
