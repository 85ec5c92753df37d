"""Public edge: TLS certificate, and either ingress-nginx Ingresses or Gateway
API routes with Envoy Gateway policies (`edge.kind`).

Both modes give the same contract: HTTPS only (HTTP redirects), HSTS, the
live host to Service `monad-synapse`, the preview host to
`monad-synapse-preview` (restricted to `edge.preview.allowCidrs`), and
per-client-IP rate limits from `rateLimit.*`, which DDoS mode lowers.

Neither host serves the metrics path (`monitoring.metricsPath`): Prometheus
scrapes it inside the cluster, and business and security metrics must not
reach the internet. ingress-nginx: a separate Ingress for that path on each
host denies every source (`denylist-source-range`, a location-level
annotation, so the rest of the host is unaffected; no snippets). Gateway
API: a rule for that path whose Envoy Gateway HTTPRouteFilter answers 404
itself, without forwarding (a rule with no backend at all would answer 500,
HTTPRouteRule.backendRefs, gateway-api apis/v1).

Gateway mode needs Envoy Gateway 1.9 or newer with the Gateway API 1.6 CRDs:
the fields it sets (`directSourceIP`, `sourceCIDR.invert`, `HTTPRouteFilter`
direct responses) are validated against that release's CRDs in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from components.common.labels import common_labels, object_metadata
from components.common.vocabulary import APP_NAME, OWNING_GATEWAY_NAME, OWNING_GATEWAY_NAMESPACE
from platform_contract import app_gateway_name
from settings import ClientIp, Edge, RateLimit

NGINX = "nginx.ingress.kubernetes.io"
EVERY_SOURCE = "0.0.0.0/0,::/0"
RESPONSE_HEADERS_CONFIG_MAP = f"{APP_NAME}-response-headers"
GATEWAY_API = "gateway.networking.k8s.io"
NOT_FOUND_FILTER = f"{APP_NAME}-not-found"


def security_headers(hsts_max_age_seconds: int) -> dict[str, str]:
    """Response headers for every edge response."""
    return {
        "Strict-Transport-Security": f"max-age={hsts_max_age_seconds}; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def rate_limit_annotations(rate_limit: RateLimit) -> dict[str, str]:
    """ingress-nginx's per-client-IP limits (the annotations that exist:
    the runbook's `rate-limit-connections` does not)."""
    annotations = {
        f"{NGINX}/limit-connections": str(rate_limit.connections),
        f"{NGINX}/limit-rps": str(rate_limit.rps),
        f"{NGINX}/limit-burst-multiplier": str(rate_limit.burst_multiplier),
    }
    if rate_limit.allowlist_cidrs:
        annotations[f"{NGINX}/limit-whitelist"] = ",".join(rate_limit.allowlist_cidrs)
    return annotations


def ingress_annotations(edge: Edge, rate_limit: RateLimit, headers_ref: Optional[str]) -> dict[str, str]:
    """All annotations of an app Ingress. No `*-snippet` annotation, ever:
    they inject raw nginx config (CVE-2021-25742)."""
    annotations = {
        f"{NGINX}/ssl-redirect": "true",
        f"{NGINX}/force-ssl-redirect": "true",
        f"{NGINX}/proxy-body-size": edge.proxy_body_size,
        f"{NGINX}/proxy-connect-timeout": str(edge.proxy_connect_timeout_seconds),
        f"{NGINX}/proxy-read-timeout": str(edge.proxy_read_timeout_seconds),
        f"{NGINX}/proxy-send-timeout": str(edge.proxy_read_timeout_seconds),
        **rate_limit_annotations(rate_limit),
    }
    if headers_ref:
        annotations[f"{NGINX}/custom-headers"] = headers_ref
    return annotations


def envoy_rate_limit_rules(rate_limit: RateLimit) -> list[dict]:
    """Envoy Gateway local rate limit: a bucket per client address (Distinct),
    one rule per address family so IPv6 clients are limited too, allow-listed
    sources excluded (all selectors of a rule must hold; `invert`, Envoy
    Gateway >= 1.8)."""
    excluded = [{"sourceCIDR": {"type": "Exact", "value": cidr, "invert": True}} for cidr in rate_limit.allowlist_cidrs]
    return [
        {
            "clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": every}}, *excluded],
            "limit": {"requests": rate_limit.rps, "unit": "Second"},
        }
        for every in ("0.0.0.0/0", "::/0")
    ]


def client_ip_detection(client_ip: ClientIp) -> dict:
    """ClientTrafficPolicy.clientIPDetection: exactly one source (a CEL rule of
    the CRD, gateway.envoyproxy.io_clienttrafficpolicies.yaml, Envoy Gateway 1.9)."""
    if client_ip.source == "x-forwarded-for":
        if client_ip.trusted_hops is not None:
            return {"xForwardedFor": {"numTrustedHops": client_ip.trusted_hops}}
        return {"xForwardedFor": {"trustedCIDRs": list(client_ip.trusted_cidrs)}}
    if client_ip.source == "header":
        # No header, no address: refuse (403) rather than limit everyone as one client.
        return {"customHeader": {"name": client_ip.header, "failClosed": True}}
    return {"directSourceIP": {}}


def ingress_rule(host: str, path: str, service: pulumi.Input[str]) -> k8s.networking.v1.IngressRuleArgs:
    """One host, one Prefix path, to a Service's `http` port."""
    return k8s.networking.v1.IngressRuleArgs(
        host=host,
        http=k8s.networking.v1.HTTPIngressRuleValueArgs(
            paths=[
                k8s.networking.v1.HTTPIngressPathArgs(
                    path=path,
                    path_type="Prefix",
                    backend=k8s.networking.v1.IngressBackendArgs(
                        service=k8s.networking.v1.IngressServiceBackendArgs(
                            name=service, port=k8s.networking.v1.ServiceBackendPortArgs(name="http")
                        )
                    ),
                )
            ]
        ),
    )


def certificate_name(environment: str) -> str:
    """The runbook's Certificate (and TLS Secret) name: monad-synapse-prod-tls."""
    return f"{APP_NAME}-{environment}-tls"


@dataclass(frozen=True)
class EdgeArgs:
    namespace: pulumi.Input[str]
    environment: str  # prod, staging: part of the runbook's object names
    domain: str
    preview_host: str
    edge: Edge
    rate_limit: RateLimit
    live_service_name: pulumi.Input[str]
    preview_service_name: pulumi.Input[str]
    # Served to Prometheus inside the cluster only; never by the public edge.
    metrics_path: str = "/api/metrics"
    # The plain namespace name (the Gateway's, unless it is shared).
    namespace_name: str = "default"


class AppEdge(pulumi.ComponentResource):
    """Certificate plus Ingresses (ingress-nginx) or Gateway API routes (gateway)."""

    tls_secret_name: pulumi.Output[str]
    """Secret cert-manager writes the certificate to."""
    hosts: pulumi.Output[list]
    """Host names served (live, then preview when enabled)."""

    def __init__(self, name: str, args: EdgeArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:edge:AppEdge", name, None, opts)
        self._name = name
        preview = args.edge.preview
        self._hosts = [args.domain] + ([args.preview_host] if preview.enabled else [])
        self._tls_name = certificate_name(args.environment)

        # The runbook's name, declared here rather than by ingress-shim: renew
        # with `cmctl renew <this name>` (deleting it would leave it gone
        # until `pulumi up --refresh` re-creates it).
        certificate = k8s.apiextensions.CustomResource(
            f"{name}-certificate",
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata=self._metadata(args, self._tls_name),
            spec={
                "secretName": self._tls_name,
                "dnsNames": self._hosts,
                "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": args.edge.cluster_issuer},
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "secretTemplate": {"labels": common_labels("edge")},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.edge.serves_ingress:
            self._ingresses(args, certificate)
        # The labels of the Gateway's proxy pods (None without a Gateway):
        # what the monitoring scrapes to see the edge itself.
        self.proxy_selector: Optional[dict[str, str]] = None
        if args.edge.serves_gateway:
            self._gateway_routes(args, certificate)
            shared = args.edge.gateway.shared
            self.proxy_selector = {
                OWNING_GATEWAY_NAME: shared.name if shared else f"{APP_NAME}-{args.environment}-gateway",
                OWNING_GATEWAY_NAMESPACE: shared.namespace if shared else args.namespace_name,
            }

        # A plain fact for the components that watch the certificate (alerts).
        self.certificate_name: str = self._tls_name
        self.tls_secret_name = pulumi.Output.from_input(self._tls_name)
        self.hosts = pulumi.Output.from_input(self._hosts)
        self.register_outputs({"tls_secret_name": self.tls_secret_name, "hosts": self.hosts})

    def _metadata(self, args: EdgeArgs, name: str, annotations: Optional[dict] = None) -> k8s.meta.v1.ObjectMetaArgs:
        return object_metadata(name, args.namespace, common_labels("edge"), annotations)

    # --- ingress-nginx ------------------------------------------------------------

    def _ingresses(self, args: EdgeArgs, certificate: pulumi.Resource) -> None:
        name = self._name
        child = pulumi.ResourceOptions(parent=self)
        headers_ref: Optional[pulumi.Output[str]] = None
        if args.edge.custom_response_headers:
            headers = k8s.core.v1.ConfigMap(
                f"{name}-response-headers",
                metadata=self._metadata(args, RESPONSE_HEADERS_CONFIG_MAP),
                data=security_headers(args.edge.hsts_max_age_seconds),
                opts=child,
            )
            # The Ingress waits for the ConfigMap: referenced before it exists,
            # ingress-nginx answers 503 for the host.
            headers_ref = pulumi.Output.concat(args.namespace, "/", headers.metadata.name)
        # The TLS Secret is written by cert-manager; serve it only once the
        # Certificate exists (Pulumi's await for custom resources is "created").
        after_certificate = pulumi.ResourceOptions(parent=self, depends_on=[certificate])

        def ingress(logical: str, ingress_name: str, host: str, service: pulumi.Input[str], extra: dict) -> None:
            annotations = pulumi.Output.from_input(headers_ref).apply(
                lambda ref: ingress_annotations(args.edge, args.rate_limit, ref) | extra
            )
            k8s.networking.v1.Ingress(
                f"{name}-{logical}-ingress",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=ingress_name, namespace=args.namespace, labels=common_labels("edge"), annotations=annotations
                ),
                spec=k8s.networking.v1.IngressSpecArgs(
                    ingress_class_name=args.edge.ingress_class_name,
                    tls=[k8s.networking.v1.IngressTLSArgs(hosts=[host], secret_name=self._tls_name)],
                    rules=[ingress_rule(host, "/", service)],
                ),
                opts=after_certificate,
            )

        ingress("live", f"{APP_NAME}-{args.environment}-ingress", args.domain, args.live_service_name, {})
        if args.edge.preview.enabled:
            ingress(
                "preview",
                f"{APP_NAME}-{args.environment}-preview-ingress",
                args.preview_host,
                args.preview_service_name,
                {f"{NGINX}/whitelist-source-range": ",".join(args.edge.preview.allow_cidrs)},
            )
        self._metrics_block_ingress(args, after_certificate)

    def _metrics_block_ingress(self, args: EdgeArgs, opts: pulumi.ResourceOptions) -> None:
        """The metrics path of every host, denied to every source (403)."""
        name = self._name
        services = [(args.domain, args.live_service_name)] + (
            [(args.preview_host, args.preview_service_name)] if args.edge.preview.enabled else []
        )
        k8s.networking.v1.Ingress(
            f"{name}-metrics-block-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{APP_NAME}-{args.environment}-metrics-block",
                namespace=args.namespace,
                labels=common_labels("edge"),
                annotations={
                    f"{NGINX}/denylist-source-range": EVERY_SOURCE,
                    f"{NGINX}/ssl-redirect": "true",
                    f"{NGINX}/force-ssl-redirect": "true",
                },
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=args.edge.ingress_class_name,
                tls=[
                    k8s.networking.v1.IngressTLSArgs(hosts=[host for host, _ in services], secret_name=self._tls_name)
                ],
                rules=[ingress_rule(host, args.metrics_path, service) for host, service in services],
            ),
            opts=opts,
        )

    # --- Gateway API + Envoy Gateway ----------------------------------------------

    def _gateway_routes(self, args: EdgeArgs, certificate: pulumi.Resource) -> None:
        name = self._name
        shared = args.edge.gateway.shared
        gateway_name = shared.name if shared else app_gateway_name(args.environment)
        gateway_namespace = shared.namespace if shared else None
        https_section = shared.https_section_name if shared else "https"
        http_section = shared.http_section_name if shared else "http"
        depends: list[pulumi.Resource] = [certificate]

        if shared is None:
            listeners = [
                {
                    "name": "https" if index == 0 else "https-preview",
                    "hostname": host,
                    "port": 443,
                    "protocol": "HTTPS",
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": self._tls_name}]},
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                }
                for index, host in enumerate(self._hosts)
            ]
            listeners.append(
                {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "Same"}}}
            )
            gateway = k8s.apiextensions.CustomResource(
                f"{name}-gateway",
                api_version=f"{GATEWAY_API}/v1",
                kind="Gateway",
                metadata=self._metadata(args, gateway_name),
                spec={"gatewayClassName": args.edge.gateway.class_name, "listeners": listeners},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[certificate]),
            )
            depends.append(gateway)
            # Envoy Gateway has no per-client connection limit; cap the total
            # per listener so a flood cannot exhaust the proxy.
            k8s.apiextensions.CustomResource(
                f"{name}-client-traffic-policy",
                api_version="gateway.envoyproxy.io/v1alpha1",
                kind="ClientTrafficPolicy",
                metadata=self._metadata(args, f"{APP_NAME}-connections"),
                spec={
                    "targetRefs": [{"group": GATEWAY_API, "kind": "Gateway", "name": gateway_name}],
                    "connection": {"connectionLimit": {"value": args.edge.gateway.max_connections}},
                    "timeout": {"http": {"requestReceivedTimeout": f"{args.edge.proxy_read_timeout_seconds}s"}},
                    "clientIPDetection": client_ip_detection(args.edge.gateway.client_ip),
                    "tls": {"minVersion": args.edge.gateway.min_tls_version},
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
            )

        def parent_ref(section: Optional[str]) -> dict:
            ref: dict = {"group": GATEWAY_API, "kind": "Gateway", "name": gateway_name}
            if gateway_namespace:
                ref["namespace"] = gateway_namespace
            if section:
                ref["sectionName"] = section
            return ref

        # A rule without backends is answered 500 (Gateway API); this one
        # answers 404, as if the path did not exist.
        not_found = k8s.apiextensions.CustomResource(
            f"{name}-not-found-filter",
            api_version="gateway.envoyproxy.io/v1alpha1",
            kind="HTTPRouteFilter",
            metadata=self._metadata(args, NOT_FOUND_FILTER),
            spec={
                "directResponse": {
                    "statusCode": 404,
                    "contentType": "text/plain",
                    "body": {"type": "Inline", "inline": "Not Found\n"},
                }
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        depends.append(not_found)
        not_found_filter = {
            "type": "ExtensionRef",
            "extensionRef": {"group": "gateway.envoyproxy.io", "kind": "HTTPRouteFilter", "name": NOT_FOUND_FILTER},
        }
        after_gateway = pulumi.ResourceOptions(parent=self, depends_on=depends)
        hsts_filter = {
            "type": "ResponseHeaderModifier",
            "responseHeaderModifier": {
                "set": [
                    {"name": key, "value": value}
                    for key, value in security_headers(args.edge.hsts_max_age_seconds).items()
                ]
            },
        }

        def route(logical: str, route_name: str, host: str, service: pulumi.Input[str], section: Optional[str]):
            return k8s.apiextensions.CustomResource(
                f"{name}-{logical}-route",
                api_version=f"{GATEWAY_API}/v1",
                kind="HTTPRoute",
                metadata=self._metadata(args, route_name),
                spec={
                    "parentRefs": [parent_ref(section)],
                    "hostnames": [host],
                    "rules": [
                        {
                            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                            "filters": [hsts_filter],
                            "backendRefs": [{"name": service, "port": 80}],
                            "timeouts": {"request": f"{args.edge.proxy_read_timeout_seconds}s"},
                        },
                        # The longer prefix wins: the metrics path is answered
                        # by the Gateway itself (404), never forwarded.
                        {
                            "matches": [{"path": {"type": "PathPrefix", "value": args.metrics_path}}],
                            "filters": [hsts_filter, not_found_filter],
                        },
                    ],
                },
                opts=after_gateway,
            )

        routes = [route("live", APP_NAME, args.domain, args.live_service_name, https_section)]
        route_names = [APP_NAME]
        if args.edge.preview.enabled:
            preview_section = "https-preview" if shared is None else https_section
            routes.append(
                route("preview", f"{APP_NAME}-preview", args.preview_host, args.preview_service_name, preview_section)
            )
            route_names.append(f"{APP_NAME}-preview")
            k8s.apiextensions.CustomResource(
                f"{name}-preview-security-policy",
                api_version="gateway.envoyproxy.io/v1alpha1",
                kind="SecurityPolicy",
                metadata=self._metadata(args, f"{APP_NAME}-preview-allowlist"),
                spec={
                    "targetRefs": [{"group": GATEWAY_API, "kind": "HTTPRoute", "name": f"{APP_NAME}-preview"}],
                    "authorization": {
                        "defaultAction": "Deny",
                        "rules": [
                            {
                                "name": "trusted-sources",
                                "action": "Allow",
                                "principal": {"clientCIDRs": list(args.edge.preview.allow_cidrs)},
                            }
                        ],
                    },
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[routes[-1]]),
            )

        k8s.apiextensions.CustomResource(
            f"{name}-https-redirect-route",
            api_version=f"{GATEWAY_API}/v1",
            kind="HTTPRoute",
            metadata=self._metadata(args, f"{APP_NAME}-https-redirect"),
            spec={
                "parentRefs": [parent_ref(http_section)],
                "hostnames": self._hosts,
                "rules": [
                    {
                        "filters": [
                            {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
                        ]
                    }
                ],
            },
            opts=after_gateway,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-rate-limit",
            api_version="gateway.envoyproxy.io/v1alpha1",
            kind="BackendTrafficPolicy",
            metadata=self._metadata(args, f"{APP_NAME}-rate-limit"),
            spec={
                "targetRefs": [
                    {"group": GATEWAY_API, "kind": "HTTPRoute", "name": route_name} for route_name in route_names
                ],
                "rateLimit": {"local": {"rules": envoy_rate_limit_rules(args.rate_limit)}},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes),
        )
