"""Settings of the public edge and the network: rate limits, ingress or gateway, egress allowances."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

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


class GatewayEdge(_Model):
    class_name: ObjectName = "eg"
    # Attach to a Gateway someone else runs instead of declaring one.
    shared: Optional[SharedGateway] = None
    # Envoy Gateway has no per-client connection limit: cap all concurrent
    # connections per Envoy listener instead.
    max_connections: int = Field(10000, ge=1, le=1_000_000)


class Edge(_Model):
    kind: Literal["ingress-nginx", "gateway"] = "ingress-nginx"
    ingress_class_name: ObjectName = "nginx"
    cluster_issuer: ObjectName = "letsencrypt-prod"
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
    monitoring_namespace: NamespaceName = "monitoring"
    dns_namespace: NamespaceName = "kube-system"
    postgres: PostgresEgress = PostgresEgress()
    redis: RedisEgress = RedisEgress()
    rpc: RpcEgress = RpcEgress()
