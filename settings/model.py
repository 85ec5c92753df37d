"""The root of the settings: every section, and what the components derive from them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, Union

from pydantic import Field, field_validator

from platform_contract import EDGE_NAMESPACE, app_environment, prometheus_url
from settings.app_config import AppConfig
from settings.base import _custom_error, _Model
from settings.contract import _DNS_LABEL, SYSTEM_NAMESPACES
from settings.data import Backup, Restore
from settings.database import Database
from settings.edge import Edge, Network, RateLimit
from settings.fields import _strict_bool, parse_quantity
from settings.observability import Monitoring
from settings.promotion import Promotion
from settings.workload import (
    Autoscaling,
    Colors,
    PriorityClassSettings,
    Probes,
    Resources,
    SwitchGate,
    Toolbox,
    Vpa,
    node_heap_mebibytes,
)


class Settings(_Model):
    """Validated configuration of one stack: its sections, each valid on its own.

    Build it with `settings_from_raw` or `load_settings`, which also run the
    rules across sections (settings/rules.py)."""

    stack: str = Field(exclude=True)
    active_color: Literal["blue", "green"] = "blue"
    colors: Colors
    idle_replicas: Union[Literal["auto"], int] = "auto"
    autoscaling: Autoscaling = Autoscaling()
    resources: Resources = Resources()
    vpa: Vpa = Vpa()
    maintenance_mode: bool = False
    # The first `up` over hand-made objects: creates take them over.
    adopt_existing_objects: bool = False
    app_config: AppConfig = Field(default_factory=dict)
    jwt_secret_version: int = Field(1, ge=0, le=2**31 - 1)
    rate_limit: RateLimit = RateLimit()
    edge: Edge = Edge()
    monitoring: Monitoring = Field(default_factory=Monitoring)
    backup: Backup = Backup()
    restore: Restore = Restore()
    database: Database = Field(default_factory=Database)
    network: Network = Network()
    switch_gate: SwitchGate = SwitchGate()
    promotion: Promotion = Field(default_factory=Promotion)
    probes: Probes = Probes()
    toolbox: Toolbox = Toolbox()
    priority_class: PriorityClassSettings = PriorityClassSettings()
    domain: str
    namespace: str

    @field_validator("maintenance_mode", "adopt_existing_objects", mode="before")
    @classmethod
    def _maintenance_mode_is_boolean(cls, value: Any) -> Any:
        return _strict_bool(value)

    @field_validator("idle_replicas", mode="before")
    @classmethod
    def _idle_replicas_is_auto_or_count(cls, value: Any) -> Any:
        if value is None or value == "auto":
            return "auto"
        if isinstance(value, bool):
            raise _custom_error("bad_idle_replicas", "must be 'auto' or a whole number from 0 to 1000")
        try:
            count = int(str(value).strip())
        except ValueError:
            raise _custom_error("bad_idle_replicas", "must be 'auto' or a whole number from 0 to 1000") from None
        if count < 0 or count > 1000:
            raise _custom_error("bad_idle_replicas", "must be 'auto' or a whole number from 0 to 1000")
        return count

    @field_validator("domain")
    @classmethod
    def _domain_is_host_name(cls, domain: str) -> str:
        labels = domain.split(".")
        if (
            len(domain) > 253
            or len(labels) < 2
            or not all(_DNS_LABEL.match(label) for label in labels)
            or labels[-1].isdigit()
        ):
            raise _custom_error(
                "bad_domain",
                "not a valid host name: lower-case DNS labels separated by dots, no scheme, port, path or wildcard",
            )
        return domain

    @field_validator("namespace")
    @classmethod
    def _namespace_is_dns_label(cls, namespace: str) -> str:
        if not _DNS_LABEL.match(namespace):
            raise _custom_error("bad_namespace", "not a namespace name: lower-case letters, digits and '-', at most 63")
        if namespace in SYSTEM_NAMESPACES:
            raise _custom_error(
                "system_namespace",
                "{value} belongs to the cluster itself; its default-deny policies would cut off cluster services, "
                "and the namespace is never the app's to own; use the stack's own namespace",
                value=namespace,
            )
        return namespace

    @property
    def node_heap_mebibytes(self) -> int:
        return node_heap_mebibytes(
            self.resources.memory_limit_mebibytes,
            int(parse_quantity(self.resources.requests.memory) / (Decimal(2) ** 20)),
            self.autoscaling.memory_utilization,
        )

    @property
    def promotion_skip_reason(self) -> str:
        """Why the promotion Jobs pass unjudged, or "" when they judge. The
        emergency switch (and the deploy workflow's switch-back) moves
        traffic now; in maintenance mode the app serves the maintenance page,
        there is nothing to judge, and an incident or a restore must not wait
        minutes for, or fail on, an analysis."""
        if self.promotion.skip_analysis:
            return "promotion.skipAnalysis is true"
        if self.maintenance_mode:
            return "maintenanceMode is true"
        return ""

    @property
    def analysis_inconclusive(self) -> str:
        """What too little traffic means for the promotion analysis."""
        configured = self.promotion.analysis.inconclusive
        return configured or ("fail" if self.stack == "production" else "pass")

    @property
    def prometheus_url(self) -> str:
        return self.promotion.analysis.prometheus_url or prometheus_url(self.network.monitoring_namespace)

    @property
    def preview_host(self) -> str:
        return self.edge.preview.host or f"preview.{self.domain}"

    @property
    def gateway_proxy_namespace(self) -> str:
        """Where Envoy Gateway runs the Gateway's proxies (its controller's namespace)."""
        return self.network.ingress_namespace or EDGE_NAMESPACE

    @property
    def edge_namespaces(self) -> tuple[str, ...]:
        """Where the edge proxies run: the sources the app accepts traffic from."""
        if self.network.ingress_namespace:
            return (self.network.ingress_namespace,)
        return tuple(
            namespace
            for namespace, serves in (
                ("ingress-nginx", self.edge.serves_ingress),
                (self.gateway_proxy_namespace, self.edge.serves_gateway),
            )
            if serves
        )

    @property
    def edge_environment(self) -> str:
        """Short environment name in the runbook's edge object names (prod, staging)."""
        return app_environment(self.stack)

    @property
    def idle_color(self) -> str:
        return "green" if self.active_color == "blue" else "blue"

    @property
    def warm_idle_replicas(self) -> int:
        """Pods the idle color keeps; 'auto' follows the live minimum."""
        if self.idle_replicas == "auto":
            return self.autoscaling.min_replicas
        return int(self.idle_replicas)

    @property
    def idle_is_cold(self) -> bool:
        return self.warm_idle_replicas < self.autoscaling.min_replicas

    def image_of(self, color: str) -> str:
        return getattr(self.colors, color).image
