"""Settings of the public edge and the network: rate limits, ingress or gateway, egress allowances."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from platform_contract import CLUSTER_ISSUER, DNS_NAMESPACE, GATEWAY_CLASS, MONITORING_NAMESPACE
from settings.addresses import _PRIVATE_RANGES, Cidrs, EgressCidrs, covers_the_internet
from settings.base import _custom_error, _Model
from settings.fields import NamespaceName, ObjectName, SectionName


class RateLimit(_Model):
    """Edge limits per client IP; the DDoS procedure lowers them."""

    connections: int = Field(50, ge=1, le=100000)
    rps: int = Field(20, ge=1, le=100000)
    burst_multiplier: int = Field(5, ge=1, le=100)
    # Sources never limited (office, monitoring probes, partners).
    allowlist_cidrs: Cidrs = ()

    @field_validator("allowlist_cidrs")
    @classmethod
    def _not_the_whole_internet(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        if covers_the_internet(cidrs):
            raise _custom_error(
                "allowlist_covers_internet",
                "these blocks cover more of the public internet than a /8 (IPv4) or /32 (IPv6): allow-listed "
                "sources are never rate limited, so this turns rate limiting off for almost everyone; list the "
                "trusted ranges only",
            )
        return cidrs


class PreviewEdge(_Model):
    enabled: bool = True
    host: Optional[str] = None  # default preview.<domain>
    # Who may reach the preview host; the office/VPN ranges by default.
    allow_cidrs: Cidrs = _PRIVATE_RANGES


class SharedGateway(_Model):
    name: ObjectName
    namespace: NamespaceName
    # Listener names on the shared Gateway for HTTPS (live and preview) and HTTP.
    https_section_name: Optional[SectionName] = None
    http_section_name: Optional[SectionName] = None


class ClientIp(_Model):
    """Where the edge reads a client's address, for the per-client rate
    limits and the preview allow list (Envoy Gateway's clientIPDetection,
    which takes exactly one source).

    `direct`: the TCP peer, which cannot be forged: right when the load
    balancer preserves client addresses (an L4 balancer with
    externalTrafficPolicy Local, AWS NLB instance targets, Azure LB). Behind
    an L7 balancer or CDN every client would share its address: use
    `x-forwarded-for` with the number of proxies that append to the header
    (`trustedHops`) or their ranges (`trustedCidrs`), or `header` with the
    header the CDN sets. Trusting a header no proxy of yours sets lets any
    client choose its own address, and so its own rate limit."""

    source: Literal["direct", "x-forwarded-for", "header"] = "direct"
    trusted_hops: Optional[int] = Field(None, ge=1, le=10)
    trusted_cidrs: Cidrs = ()
    header: Optional[str] = None

    @field_validator("header")
    @classmethod
    def _header_name(cls, header: Optional[str]) -> Optional[str]:
        # gateway.envoyproxy.io ClientTrafficPolicy customHeader.name pattern.
        if header is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,255}", header):
            raise _custom_error("bad_header_name", "must be an HTTP header name: letters, digits and '-'")
        return header

    @model_validator(mode="after")
    def _one_source_with_its_fields(self) -> "ClientIp":
        given = {
            "trustedHops": self.trusted_hops is not None,
            "trustedCidrs": bool(self.trusted_cidrs),
            "header": self.header is not None,
        }
        needs = {"direct": set(), "x-forwarded-for": {"trustedHops", "trustedCidrs"}, "header": {"header"}}[self.source]
        for key in sorted(key for key, present in given.items() if present and key not in needs):
            raise _custom_error(
                "client_ip_field_unused",
                "only means something with another clientIp.source; remove it",
                field=key,
                value=getattr(self, {"trustedHops": "trusted_hops", "trustedCidrs": "trusted_cidrs"}.get(key, key)),
                remove=True,
            )
        if self.source == "x-forwarded-for" and given["trustedHops"] == given["trustedCidrs"]:
            raise _custom_error(
                "client_ip_trust",
                "x-forwarded-for needs exactly one of trustedHops (how many proxies of yours append to the header) "
                "or trustedCidrs (their address ranges)",
                field="trustedHops",
                value=self.trusted_hops,
                suggestion=1,
            )
        if self.source == "header" and self.header is None:
            raise _custom_error(
                "client_ip_header_missing",
                "source header needs the header your CDN or balancer sets",
                field="header",
                value=None,
                suggestion="CF-Connecting-IP",
            )
        return self


class GatewayEdge(_Model):
    class_name: ObjectName = GATEWAY_CLASS
    # Attach to a Gateway someone else runs instead of declaring one.
    shared: Optional[SharedGateway] = None
    # Envoy Gateway has no per-client connection limit: cap all concurrent
    # connections per Envoy listener instead.
    max_connections: int = Field(10000, ge=1, le=1_000_000)
    client_ip: ClientIp = ClientIp()
    min_tls_version: Literal["1.2", "1.3"] = "1.2"

    @model_validator(mode="after")
    def _own_gateway_for_client_settings(self) -> "GatewayEdge":
        # The policies that carry them target the Gateway, which must be in
        # the app's namespace (Gateway API policy attachment): a shared
        # Gateway's owner sets them.
        for key, value, default in (
            ("clientIp", self.client_ip, ClientIp()),
            ("minTlsVersion", self.min_tls_version, "1.2"),
        ):
            if self.shared is not None and value != default:
                raise _custom_error(
                    "shared_gateway_client_setting",
                    "is set by the shared Gateway's owner (its ClientTrafficPolicy), not by this stack; remove it",
                    field=key,
                    value=value if isinstance(value, str) else value.model_dump(by_alias=True),
                    remove=True,
                )
        return self


class Edge(_Model):
    kind: Literal["ingress-nginx", "gateway"] = "gateway"
    ingress_class_name: ObjectName = "nginx"
    cluster_issuer: ObjectName = CLUSTER_ISSUER
    proxy_body_size: str = "8m"
    proxy_connect_timeout_seconds: int = Field(5, ge=1, le=75)
    proxy_read_timeout_seconds: int = Field(60, ge=1, le=3600)
    hsts_max_age_seconds: int = Field(31536000, ge=0, le=2 * 31536000)
    # ingress-nginx: send HSTS and security headers through the custom-headers
    # annotation. Off by default: unless the controller's
    # global-allowed-response-headers lists them, ingress-nginx answers 503 for
    # the whole host. Without it, HSTS comes from the controller (on by default).
    custom_response_headers: bool = False
    preview: PreviewEdge = PreviewEdge()
    gateway: GatewayEdge = GatewayEdge()
    # Gateway migration: keep serving the Ingresses until DNS has moved.
    keep_ingress_during_migration: bool = False

    @model_validator(mode="after")
    def _migration_needs_gateway(self) -> "Edge":
        if self.keep_ingress_during_migration and self.kind != "gateway":
            raise _custom_error(
                "migration_without_gateway",
                "only means something while moving to edge.kind gateway; set edge.kind gateway first",
                field="keepIngressDuringMigration",
                value=True,
                suggestion=False,
            )
        return self

    @property
    def serves_ingress(self) -> bool:
        return self.kind == "ingress-nginx" or self.keep_ingress_during_migration

    @property
    def serves_gateway(self) -> bool:
        return self.kind == "gateway"

    @field_validator("proxy_body_size")
    @classmethod
    def _nginx_size(cls, size: str) -> str:
        if not re.fullmatch(r"[1-9][0-9]*[kKmMgG]?", size):
            raise _custom_error("bad_size", "must be an nginx size such as 8m, 512k or 1g")
        return size


class EgressTarget(_Model):
    cidrs: EgressCidrs  # never empty
    port: int = Field(ge=1, le=65535)


class PostgresEgress(EgressTarget):
    cidrs: EgressCidrs = _PRIVATE_RANGES
    port: int = Field(5432, ge=1, le=65535)


class RedisEgress(EgressTarget):
    cidrs: EgressCidrs = _PRIVATE_RANGES
    port: int = Field(6379, ge=1, le=65535)


class RpcEgress(EgressTarget):
    # The Monad RPC endpoint is a public HTTPS service: allow the internet on
    # 443 by default; pin it to the provider's ranges where they are known.
    cidrs: EgressCidrs = ("0.0.0.0/0",)
    port: int = Field(443, ge=1, le=65535)


class Network(_Model):
    # Namespace of the edge proxies; default follows edge.kind.
    ingress_namespace: Optional[NamespaceName] = None
    monitoring_namespace: NamespaceName = MONITORING_NAMESPACE
    dns_namespace: NamespaceName = DNS_NAMESPACE
    postgres: PostgresEgress = PostgresEgress()
    redis: RedisEgress = RedisEgress()
    rpc: RpcEgress = RpcEgress()
