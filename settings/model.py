"""The root of the settings: every section, and the rules that span sections."""

from __future__ import annotations

import difflib
from urllib.parse import urlparse
from decimal import Decimal
from typing import Any, Literal, Mapping, Union

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from settings.addresses import covers_the_internet
from settings.app_config import AppConfig
from settings.base import _custom_error
from settings.contract import OPTIONAL_SECRET_KEYS, SECRET_KEYS, SYSTEM_NAMESPACES, _DNS_LABEL
from settings.data import Backup, Restore
from settings.data_rules import DataRules
from settings.database import Database
from settings.edge import Edge, Network, RateLimit
from settings.errors import Problem, SettingsError, _describe, _known_keys, _remove_command
from settings.fields import _strict_bool, parse_quantity
from settings.observability import Monitoring
from settings.promotion import Promotion
from settings.workload import Autoscaling, Colors, MIN_NODE_HEAP_MIB, NODE_NATIVE_OVERHEAD_MIB, PriorityClassSettings, Probes, Resources, SwitchGate, Vpa, node_heap_mebibytes


class Settings(DataRules):
    """Validated configuration of one stack. Build it with `from_raw` or `load_settings`."""

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

    @model_validator(mode="after")
    def _preview_is_safe(self) -> "Settings":
        preview = self.edge.preview
        if preview.host is not None and not preview.host.endswith("." + self.domain):
            raise _custom_error(
                "preview_outside_domain",
                "preview host {value} is not under domain {domain}; the certificate and cookies are scoped to it",
                field="edge.preview.host",
                value=preview.host,
                domain=self.domain,
                suggestion=f"preview.{self.domain}",
            )
        if preview.host is not None and not all(_DNS_LABEL.match(label) for label in preview.host.split(".")):
            raise _custom_error("bad_preview_host", "not a valid host name", field="edge.preview.host", value=preview.host)
        if self.stack == "production" and preview.enabled:
            # Judged by the address space covered, however it is split up.
            if not preview.allow_cidrs or covers_the_internet(preview.allow_cidrs):
                raise _custom_error(
                    "preview_exposed",
                    "in production the preview host serves unreleased code; restrict it to trusted ranges "
                    "(office, VPN) or disable it with edge.preview.enabled false",
                    field="edge.preview.allowCidrs",
                    value=list(preview.allow_cidrs),
                    list=True,
                )
        return self

    @model_validator(mode="after")
    def _analysis_can_reach_prometheus(self) -> "Settings":
        """The analysis Job's NetworkPolicy lets it reach the monitoring
        namespace only (components/promotion.py): a Prometheus elsewhere is
        unreachable, and every promotion would fail closed."""
        url = self.promotion.analysis.prometheus_url
        if url is None or not self.promotion.analysis.enabled:
            return self
        host = urlparse(url).hostname or ""
        labels = host.split(".")
        namespace = self.network.monitoring_namespace
        if not (len(labels) >= 2 and labels[1] == namespace and (len(labels) == 2 or labels[2] == "svc")):
            raise _custom_error(
                "prometheus_unreachable",
                "the analysis may only reach the monitoring namespace ({namespace}), and {value} is not a Service "
                "there: every promotion would fail closed. Point it at <service>.{namespace}.svc, or set "
                "network.monitoringNamespace to Prometheus' namespace",
                field="promotion.analysis.prometheusUrl", value=url, namespace=namespace,
                suggestion=f"http://kube-prometheus-stack-prometheus.{namespace}.svc:9090",
            )
        return self

    @model_validator(mode="after")
    def _heap_lets_the_hpa_settle(self) -> "Settings":
        request = int(parse_quantity(self.resources.requests.memory) / (Decimal(2) ** 20))
        utilization = self.autoscaling.memory_utilization
        if self.node_heap_mebibytes >= MIN_NODE_HEAP_MIB:
            return self
        # Requests never exceed limits (checked above), so the HPA target is
        # always the binding bound here: 75% of a limit >= such a request is
        # never below MIN_NODE_HEAP_MIB when the target bound is not.
        needed_request = -(-(MIN_NODE_HEAP_MIB + NODE_NATIVE_OVERHEAD_MIB) * 100 // utilization)
        raise _custom_error(
            "heap_below_target",
            "with requests.memory {value} and autoscaling.memoryUtilization {utilization}% the HPA scales out "
            "above {target} MiB per pod, which leaves Node.js a heap of {heap} MiB after its native overhead "
            "({overhead} MiB); at least {minimum} MiB is needed",
            field="resources.requests.memory",
            value=self.resources.requests.memory,
            utilization=utilization,
            target=int(request * utilization / 100),
            heap=self.node_heap_mebibytes,
            overhead=NODE_NATIVE_OVERHEAD_MIB,
            minimum=MIN_NODE_HEAP_MIB,
            suggestion=f"{max(needed_request, request + 1)}Mi",
        )

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
        return self.promotion.analysis.prometheus_url or (
            f"http://kube-prometheus-stack-prometheus.{self.network.monitoring_namespace}.svc:9090"
        )

    @property
    def preview_host(self) -> str:
        return self.edge.preview.host or f"preview.{self.domain}"

    @property
    def edge_namespaces(self) -> tuple[str, ...]:
        """Where the edge proxies run: the sources the app accepts traffic from."""
        if self.network.ingress_namespace:
            return (self.network.ingress_namespace,)
        return tuple(
            namespace
            for namespace, serves in (
                ("ingress-nginx", self.edge.serves_ingress),
                ("envoy-gateway-system", self.edge.serves_gateway),
            )
            if serves
        )

    @property
    def edge_environment(self) -> str:
        """Short environment name in the runbook's edge object names (prod, staging)."""
        return "prod" if self.stack == "production" else self.stack

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

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any], stack: str, secret_keys: frozenset = frozenset()) -> "Settings":
        """Validate plain config values (top-level key -> value). Raises
        SettingsError. Values under `secret_keys` (given encrypted) are never
        shown in a problem."""
        problems = _unknown_key_problems(raw, stack, secret_keys)
        try:
            known = {key: value for key, value in raw.items() if key in TOP_LEVEL_KEYS and value is not None}
            settings = cls.model_validate({**known, "stack": stack})
        except ValidationError as error:
            problems.extend(_describe(item, stack, secret_keys) for item in error.errors())
            raise SettingsError(stack, problems) from None
        if problems:
            raise SettingsError(stack, problems)
        return settings


TOP_LEVEL_KEYS = tuple(_known_keys(())) + tuple(SECRET_KEYS) + tuple(OPTIONAL_SECRET_KEYS)


def _unknown_key_problems(raw: Mapping[str, Any], stack: str, secret_keys: frozenset = frozenset()) -> list[Problem]:
    problems = []
    for key in sorted(raw):
        if key in TOP_LEVEL_KEYS:
            continue
        # A common slip: `pulumi config set maxReplicas 15` instead of --path.
        nested = [
            f"{section}.{key}"
            for section in _known_keys(())
            if key in _known_keys((section,))
        ]
        guess = nested or difflib.get_close_matches(key, TOP_LEVEL_KEYS, n=1)
        hint = f"; did you mean {guess[0]}?" if guess else ""
        problems.append(
            Problem(key, raw[key], f"unknown config key{hint}", _remove_command(key, stack), secret=key in secret_keys,
                    kind="unknown_key")
        )
    return problems
