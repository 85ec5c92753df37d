"""Stack settings: the one place that reads Pulumi config.

`load_settings` turns a stack's config into a frozen, typed `Settings` object
and validates all of it before any resource is declared. Every problem is
reported at once, each naming its key path, the bad value, what is allowed and
the `pulumi config set` command that fixes it. Components receive `Settings`
(or the parts they need) and never read `pulumi.Config` themselves.

The pure part (`Settings.from_raw`) takes plain dicts, so it is tested without
Pulumi mocks; `load_settings` only gathers the raw values and secrets.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import shlex
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Literal, Mapping, Optional, Union

import pulumi
from pydantic import (
    AfterValidator,
    BeforeValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_snake
from pydantic_core import PydanticCustomError

PROJECT = "monad-synapse"
COLORS = ("blue", "green")

# Keys the program writes into the ConfigMap or Secret itself; appConfig may
# not override them, or a typo'd appConfig entry would silently win over the
# managed value (or shadow a secret with a plaintext one).
MANAGED_CONFIGMAP_KEYS = frozenset(
    {"MAINTENANCE_MODE", "NODE_ENV", "PORT", "HOSTNAME", "APP_URL", "NEXT_TELEMETRY_DISABLED"}
)
MANAGED_SECRET_KEYS = frozenset({"JWT_SECRET", "DATABASE_URL", "REDIS_URL"})
MANAGED_ENV_KEYS = frozenset({"NODE_OPTIONS"})
MANAGED_APP_KEYS = MANAGED_CONFIGMAP_KEYS | MANAGED_SECRET_KEYS | MANAGED_ENV_KEYS

# Top-level config keys that are Pulumi secrets, with an example for messages.
SECRET_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "databaseUrl": "postgresql://USER:PASSWORD@HOST:5432/monad_synapse",
        "redisUrl": "rediss://:PASSWORD@HOST:6379/0",
        "alertSlackWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX",
        "alertPagerdutyRoutingKey": "<32-character PagerDuty Events v2 integration key>",
    }
)

# What each secret must look like (checked without ever printing it).
SECRET_SHAPES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "databaseUrl": (r"postgres(ql)?://\S+", "a postgresql:// URL"),
        "redisUrl": (r"rediss?://\S+", "a redis:// or rediss:// URL"),
        "alertSlackWebhookUrl": (r"https://\S+", "an https:// URL"),
        "alertPagerdutyRoutingKey": (r"[A-Za-z0-9]{16,64}", "16 to 64 letters and digits"),
        "backupS3AccessKeyId": (r"[A-Za-z0-9]{8,128}", "8 to 128 letters and digits"),
        "backupS3SecretAccessKey": (r"\S{8,256}", "8 to 256 characters without spaces"),
    }
)
# What the offline renderer stands in for a secret it cannot decrypt.
OFFLINE_SECRET_PLACEHOLDER = "<redacted>"


def secret_shape_problem(key: str, value: str) -> Optional[str]:
    """What is wrong with a secret's value, in words that never quote it."""
    if value == OFFLINE_SECRET_PLACEHOLDER or key not in SECRET_SHAPES:
        return None
    pattern, shape = SECRET_SHAPES[key]
    if not re.fullmatch(pattern, value.strip()):
        return f"must be {shape} (the value is a secret and is not shown)"
    return None


# Secrets needed only by some configurations (declared with an empty default
# so the CLI does not require them; the program checks they are encrypted).
OPTIONAL_SECRET_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "backupS3AccessKeyId": "AKIA...",
        "backupS3SecretAccessKey": "<secret access key>",
    }
)

# Example values used in "fix:" hints where a key has no default to suggest.
EXAMPLES: Mapping[str, str] = MappingProxyType(
    {
        "colors.blue.image": "ghcr.io/monad-synapse/monad-synapse:1.4.2",
        "colors.green.image": "ghcr.io/monad-synapse/monad-synapse:1.4.2",
        "domain": "monad-synapse.com",
        "namespace": "production",
    }
)

_SECRET_LOOKING_KEY = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)")
_CREDENTIAL_URL = re.compile(r"^\s*[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
# The API server's limit on a ConfigMap is 1 MiB in all; keep room for the
# program's own keys and the object's metadata.
APP_CONFIG_MAX_BYTES = 1024 * 1024 - 16 * 1024
_ENV_VAR_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Namespaces the cluster itself uses: the app never goes there.
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "default"})
# OCI distribution reference grammar, reduced to what a deployable image needs:
# optional registry[:port], lower-case path components, a tag and/or a digest.
_IMAGE_REFERENCE = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
# Kubernetes resource.Quantity: a signed decimal with a binary (Ki..Ei),
# decimal (m, k, M..E) or exponent suffix.
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)
_QUANTITY_MULTIPLIERS = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


# resource.Quantity is an int64 of its smallest unit: nothing larger exists.
_QUANTITY_MAX = Decimal(2**63 - 1)


def parse_quantity(text: str) -> Decimal:
    """Value of a Kubernetes quantity ("250m" -> 0.25, "1Gi" -> 1073741824).

    Raises ValueError for anything the API server would reject. Hand-written
    because the grammar is ten lines and the alternative (the `kubernetes`
    client) is a large runtime dependency for one function.
    """
    match = _QUANTITY.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    number = Decimal(match["number"])
    suffix = match["suffix"]
    if suffix and suffix[0] in "eE":
        exponent = int(suffix[1:])
        if abs(exponent) > 30:
            raise ValueError(f"{text!r} is out of range")
        value = number * (Decimal(10) ** exponent)
    else:
        value = number * _QUANTITY_MULTIPLIERS[suffix]
    if abs(value) > _QUANTITY_MAX:
        raise ValueError(f"{text!r} is larger than the API server stores")
    return value


def _quantity_text(value: Any) -> Any:
    """Accept numbers for quantities (`--path resources.limits.cpu 1` stores an int)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _custom_error(error_type: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(error_type, message, context)


class _Model(BaseModel):
    """Base for config sections: camelCase keys, immutable, no unknown keys."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
        # inf, nan and 1e400 are numbers to Python, never a sane threshold.
        allow_inf_nan=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _booleans_are_not_numbers(cls, data: Any) -> Any:
        """`--path autoscaling.minReplicas true` stores a boolean, which a
        number field would otherwise take as 1."""
        if isinstance(data, Mapping):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                value = data.get(key, data.get(name))
                if isinstance(value, bool) and field.annotation in (int, float):
                    raise _custom_error(
                        "bool_not_number", "must be a number, not true or false",
                        field=key, value=value, suggestion=field.get_default(call_default_factory=True),
                    )
        return data


def _check_image(image: str) -> str:
    if not image.strip():
        raise _custom_error("empty_image", "image is empty; give registry/repository:tag")
    match = _IMAGE_REFERENCE.match(image)
    if not match:
        raise _custom_error(
            "bad_image",
            "not an image reference; expected registry/repository:tag or repository@sha256:<digest>",
        )
    if not match["tag"] and not match["digest"]:
        raise _custom_error(
            "untagged_image",
            "image has no tag or digest, so every node may run a different build; pin a version tag or digest",
        )
    if match["tag"] == "latest" and not match["digest"]:
        raise _custom_error(
            "latest_image",
            "the 'latest' tag is mutable, so a rollback would not restore the old build; pin a version tag or digest",
        )
    return image


ImageRef = Annotated[str, AfterValidator(_check_image)]


class ColorSpec(_Model):
    image: ImageRef


class Colors(_Model):
    blue: ColorSpec
    green: ColorSpec


class Autoscaling(_Model):
    min_replicas: int = Field(3, ge=1, le=1000)
    max_replicas: int = Field(20, ge=1, le=1000)
    cpu_utilization: int = Field(70, ge=1, le=100)
    memory_utilization: int = Field(80, ge=1, le=100)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> "Autoscaling":
        if self.min_replicas > self.max_replicas:
            raise _custom_error(
                "min_above_max",
                "minReplicas {value} is above maxReplicas {maximum}; the HPA would be rejected",
                field="minReplicas",
                value=self.min_replicas,
                maximum=self.max_replicas,
                suggestion=self.max_replicas,
            )
        return self


class ResourceAmounts(_Model):
    cpu: str
    memory: str

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _numbers_are_quantities(cls, value: Any) -> Any:
        return _quantity_text(value)

    @field_validator("cpu", "memory")
    @classmethod
    def _is_positive_quantity(cls, value: str, info) -> str:
        try:
            amount = parse_quantity(value)
        except ValueError:
            raise _custom_error(
                "bad_quantity",
                "not a Kubernetes quantity; use e.g. 250m or 1 for cpu, 512Mi or 2Gi for memory",
            ) from None
        if amount <= 0:
            raise _custom_error("non_positive_quantity", "must be greater than zero")
        if info.field_name == "memory" and value.strip().endswith("m"):
            raise _custom_error(
                "millibyte_memory",
                "'m' means milli-bytes for memory; you almost certainly meant Mi (mebibytes)",
            )
        if info.field_name == "memory" and amount < 2**22:
            raise _custom_error(
                "tiny_memory",
                "is {amount} bytes (a number without a unit is bytes); give a unit, e.g. {value}Mi",
                amount=int(amount), value=value.strip(),
            )
        return value.strip()


class ResourceRequests(ResourceAmounts):
    cpu: str = "250m"
    memory: str = "512Mi"


class ResourceLimits(ResourceAmounts):
    cpu: str = "1"
    memory: str = "1Gi"


class Resources(_Model):
    # Separate types so that setting one field (`--path resources.limits.memory
    # 2Gi`) keeps the defaults of the others.
    requests: ResourceRequests = ResourceRequests()
    limits: ResourceLimits = ResourceLimits()

    @model_validator(mode="after")
    def _requests_within_limits(self) -> "Resources":
        for resource in ("cpu", "memory"):
            requested = getattr(self.requests, resource)
            limit = getattr(self.limits, resource)
            if parse_quantity(requested) > parse_quantity(limit):
                raise _custom_error(
                    "request_above_limit",
                    "request {value} is above limits.{resource} {limit}; the API server rejects such a pod",
                    field=f"requests.{resource}",
                    value=requested,
                    resource=resource,
                    limit=limit,
                    suggestion=limit,
                )
        return self

    @property
    def memory_limit_mebibytes(self) -> int:
        return int(parse_quantity(self.limits.memory) / (Decimal(2) ** 20))


# Node.js memory outside V8's old space (code, buffers, native allocations),
# and the smallest old space worth running a Next.js server with.
NODE_NATIVE_OVERHEAD_MIB = 96
MIN_NODE_HEAP_MIB = 128
HEAP_SHARE_OF_MEMORY_LIMIT = 0.75


def node_heap_mebibytes(limit_mib: int, request_mib: int, memory_utilization: int) -> int:
    """V8 old-space size (--max-old-space-size) that lets the memory HPA settle.

    Two bounds, the tighter wins: three quarters of the limit (room for
    buffers, so Node collects garbage before the kernel OOM-kills it), and
    the HPA's memory target (`memoryUtilization`% of the request) less the
    native overhead. V8 lets its heap grow toward the limit before a full
    collection, so a heap allowed past the target keeps every pod above it
    and the HPA at maxReplicas, where it stays: adding pods does not shrink
    a heap."""
    by_limit = int(limit_mib * HEAP_SHARE_OF_MEMORY_LIMIT)
    by_target = int(request_mib * memory_utilization / 100) - NODE_NATIVE_OVERHEAD_MIB
    return min(by_limit, by_target)


class Probes(_Model):
    """What the kubelet asks the app. Liveness must only ask "is the process
    alive": if it checked PostgreSQL or Redis, an outage of either longer than
    the liveness window would restart every pod of both colors."""

    liveness_path: str = "/api/live"
    readiness_path: str = "/api/health"
    # Longest boot before liveness takes over (the startup probe's window).
    startup_seconds: int = Field(120, ge=10, le=900)

    @field_validator("liveness_path", "readiness_path")
    @classmethod
    def _http_path(cls, path: str) -> str:
        if not re.fullmatch(r"/[A-Za-z0-9/_.~-]*(\?[A-Za-z0-9=&_.~-]*)?", path):
            raise _custom_error("bad_path", "must be an absolute URL path such as /api/live")
        return path

    @model_validator(mode="after")
    def _liveness_is_not_readiness(self) -> "Probes":
        if self.liveness_path == self.readiness_path:
            raise _custom_error(
                "same_probe_paths",
                "liveness and readiness ask the same path {value}: a dependency outage would restart every pod; "
                "give liveness a path that only checks the process",
                field="livenessPath",
                value=self.liveness_path,
                suggestion="/api/live",
            )
        return self


class PriorityClassSettings(_Model):
    """The app pods' PriorityClass: off unless named. `create` declares it
    (cluster-scoped, so name it per stack); otherwise it must already exist,
    or the API server rejects the pods."""

    name: Optional[ObjectName] = None
    create: bool = False
    # Below the system classes (2000000000 and up), above default workloads (0).
    value: int = Field(100000, ge=0, le=1000000000)

    @model_validator(mode="after")
    def _create_needs_a_name(self) -> "PriorityClassSettings":
        if self.create and self.name is None:
            raise _custom_error(
                "priority_class_without_name", "create needs a name for the PriorityClass",
                field="name", value=None, suggestion="monad-synapse-production",
            )
        return self


class Vpa(_Model):
    update_mode: str = "Off"

    @field_validator("update_mode")
    @classmethod
    def _does_not_fight_hpa(cls, mode: str) -> str:
        if mode in ("Auto", "Recreate", "InPlaceOrRecreate", "InPlace"):
            raise _custom_error(
                "vpa_fights_hpa",
                "updateMode {mode} evicts or resizes pods on CPU and memory, the metrics the HPA scales on, "
                "so the two autoscalers fight; use Off (recommendations only) or Initial (set at pod creation)",
                mode=mode,
            )
        if mode not in ("Off", "Initial"):
            raise _custom_error("bad_vpa_mode", "must be Off or Initial")
        return mode


_PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def _check_cidrs(cidrs: tuple[str, ...]) -> tuple[str, ...]:
    import ipaddress

    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as error:
            raise _custom_error("bad_cidr", "{cidr} is not a CIDR block: {reason}", cidr=cidr, reason=str(error)) from None
    return cidrs


def _cidr_list(value: Any) -> Any:
    """A single CIDR where a list is expected (`--path key 10.0.0.0/8`) is a slip."""
    if isinstance(value, str):
        raise _custom_error("not_a_list", "must be a list of CIDR blocks, not a single value", list=True)
    return value


Cidrs = Annotated[tuple[str, ...], BeforeValidator(_cidr_list), AfterValidator(_check_cidrs)]

# Address space that is not the public internet (RFC 6890 special-purpose blocks).
_NON_PUBLIC = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
    "::/8", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32",
)
# More public addresses than this is "the internet", however it is split up:
# a /8 of IPv4, a /32 of IPv6.
_PUBLIC_ADDRESS_LIMIT = {4: 2**24, 6: 2**96}


def public_addresses(cidrs: tuple[str, ...]) -> dict[int, int]:
    """Public addresses covered by CIDR blocks, per IP version, overlaps counted once."""
    import ipaddress

    covered: dict[int, int] = {4: 0, 6: 0}
    for version in (4, 6):
        networks = [ipaddress.ip_network(cidr) for cidr in cidrs if ipaddress.ip_network(cidr).version == version]
        for network in ipaddress.collapse_addresses(networks):
            remaining = [network]
            for blocked in (ipaddress.ip_network(block) for block in _NON_PUBLIC):
                if blocked.version != version:
                    continue
                pieces = []
                for piece in remaining:
                    if blocked.subnet_of(piece):
                        pieces.extend(piece.address_exclude(blocked))
                    elif not piece.subnet_of(blocked):
                        pieces.append(piece)
                remaining = pieces
            covered[version] += sum(piece.num_addresses for piece in remaining)
    return covered


def covers_the_internet(cidrs: tuple[str, ...]) -> bool:
    return any(count > _PUBLIC_ADDRESS_LIMIT[version] for version, count in public_addresses(cidrs).items())


_LINK_LOCAL = "169.254.0.0/16"


def _check_egress_cidrs(cidrs: tuple[str, ...]) -> tuple[str, ...]:
    """The cloud metadata endpoint (169.254.169.254) hands out node
    credentials: a block inside the link-local range cannot be excepted from
    itself, so it is refused; wider blocks get it excepted (network_policy)."""
    import ipaddress

    link_local = ipaddress.ip_network(_LINK_LOCAL)
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr)
        if network.version == 4 and network.subnet_of(link_local):
            raise _custom_error(
                "metadata_range", "{cidr} is in the link-local range 169.254.0.0/16 of the cloud metadata endpoint, "
                "which hands out node credentials; it is never allowed", cidr=cidr,
            )
    return cidrs


EgressCidrs = Annotated[tuple[str, ...], BeforeValidator(_cidr_list), AfterValidator(_check_cidrs),
                        AfterValidator(_check_egress_cidrs)]


def _check_namespace_name(name: str) -> str:
    if not isinstance(name, str) or not _DNS_LABEL.match(name):
        raise _custom_error("bad_namespace", "not a namespace name: lower-case letters, digits and '-', at most 63")
    return name


NamespaceName = Annotated[str, AfterValidator(_check_namespace_name)]
_SECTION_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _check_section_name(name: str) -> str:
    if len(name) > 253 or not _SECTION_NAME.match(name):
        raise _custom_error("bad_section_name", "not a Gateway listener name (lower-case DNS subdomain, e.g. https)")
    return name


SectionName = Annotated[str, AfterValidator(_check_section_name)]
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _check_object_name(name: str) -> str:
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise _custom_error("bad_object_name", "not a Kubernetes object name (lower-case DNS subdomain)")
    return name


ObjectName = Annotated[str, AfterValidator(_check_object_name)]


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
    cidrs: EgressCidrs
    port: int = Field(ge=1, le=65535)

    @field_validator("cidrs")
    @classmethod
    def _at_least_one(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        if not cidrs:
            raise _custom_error("no_cidrs", "needs at least one CIDR")
        return cidrs


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


def _check_app_config_key(key: str) -> str:
    if not _ENV_VAR_NAME.match(key):
        raise _custom_error("bad_app_config_key", "not an environment variable name ([A-Z_][A-Z0-9_]*)")
    if key in MANAGED_APP_KEYS:
        raise _custom_error(
            "managed_app_config_key",
            "collides with a key the program manages ({managed}); use that key's own config instead",
            managed=", ".join(sorted(MANAGED_APP_KEYS)),
        )
    if _SECRET_LOOKING_KEY.search(key):
        raise _custom_error(
            "secret_in_app_config",
            "looks like a secret, and appConfig lands in a plaintext ConfigMap; "
            "keep secrets in Pulumi secrets (pulumi config set --secret)",
        )
    return key


AppConfigKey = Annotated[str, AfterValidator(_check_app_config_key)]


class Alerting(_Model):
    """Alert thresholds (the runbook's numbers) and Slack channels."""

    error_ratio: float = Field(0.05, gt=0, lt=1)
    latency_p95_seconds: float = Field(2.0, gt=0, le=600)
    resource_utilization: float = Field(0.8, gt=0, le=1)
    auth_failures_per_second: float = Field(5.0, gt=0, le=1_000_000)
    wallet_balance_minimum: float = Field(1000.0, ge=0, le=1e15)
    game_win_ratio_maximum: float = Field(0.6, gt=0, lt=1)
    certificate_expiry_days: int = Field(14, ge=1, le=90)
    critical_channel: str = "#critical-alerts"
    warning_channel: str = "#monad-synapse-alerts"
    info_channel: str = "#monad-synapse-info"

    @field_validator("critical_channel", "warning_channel", "info_channel")
    @classmethod
    def _slack_channel(cls, channel: str) -> str:
        if not re.fullmatch(r"#[a-z0-9][a-z0-9_-]{0,79}", channel):
            raise _custom_error("bad_channel", "must be a Slack channel like #critical-alerts")
        return channel


class Exporters(_Model):
    postgres_image: ImageRef = "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"
    redis_image: ImageRef = "oliver006/redis_exporter:v1.74.0"


DEFAULT_OPERATOR_LABELS: Mapping[str, str] = MappingProxyType({"release": "kube-prometheus-stack"})


def _check_label_map(labels: Mapping[str, str]) -> Mapping[str, str]:
    for key, value in labels.items():
        prefix, _, _ = key.rpartition("/")
        if len(prefix) > 253 or not re.fullmatch(r"([a-z0-9.-]+/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?", key):
            raise _custom_error("bad_label", "{key} is not a Kubernetes label key", key=key)
        if key in DEFAULT_OPERATOR_LABELS and not str(value):
            raise _custom_error("empty_operator_label", "{key} selects these rules for the operator; it cannot be empty",
                                key=key, field=key, value=value, suggestion=DEFAULT_OPERATOR_LABELS[key])
        if not re.fullmatch(r"([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?", str(value)):
            raise _custom_error("bad_label", "{value} is not a Kubernetes label value", value=value)
    return MappingProxyType(dict(labels))


class Monitoring(_Model):
    # Labels the operator's ruleSelector (and alertmanagerConfigSelector)
    # expects; kube-prometheus-stack selects `release: <its release name>`.
    # Added to (never replacing) release=kube-prometheus-stack; set
    # ruleLabels.release to change the release name.
    rule_labels: Annotated[Mapping[str, str], AfterValidator(_check_label_map)] = Field(default_factory=dict)
    metrics_path: str = "/api/metrics"
    scrape_interval_seconds: int = Field(30, ge=5, le=300)
    availability_objective: float = Field(99.9, gt=90, lt=100)
    runbook_base_url: str = "https://github.com/monad-synapse/infrastructure/blob/main/README.md"
    alerts: Alerting = Alerting()
    exporters: Exporters = Exporters()

    @field_validator("metrics_path")
    @classmethod
    def _absolute_path(cls, path: str) -> str:
        if not re.fullmatch(r"/[A-Za-z0-9/_.-]*", path):
            raise _custom_error("bad_path", "must be an absolute URL path such as /api/metrics")
        return path

    @field_validator("runbook_base_url")
    @classmethod
    def _https_url(cls, url: str) -> str:
        # Lands in every alert's annotations, which Prometheus parses as Go
        # templates: braces, quotes or spaces there break every rule.
        if not re.fullmatch(r"https://[A-Za-z0-9._~:/?@!&'()*+,;=%\[\]-]+", url) or "{" in url or "'" in url:
            raise _custom_error(
                "bad_url", "must be an https:// URL without a #fragment, spaces, quotes or braces",
            )
        return url

    @property
    def operator_labels(self) -> Mapping[str, str]:
        """The operator's selector label plus `ruleLabels`: extra labels add
        to it, so the rules never lose the label the operator selects them by."""
        return MappingProxyType({**DEFAULT_OPERATOR_LABELS, **self.rule_labels})


# Schedules are judged from a fixed start, so a result never depends on when
# it is computed; a schedule that finds no run within this many years never fires.
_CRON_EPOCH = (2026, 1, 1)
_CRON_HORIZON_YEARS = 8


def _cron_runs(schedule: str, start: float):
    from datetime import datetime, timezone

    from croniter import croniter

    return croniter(schedule, datetime.fromtimestamp(start, tz=timezone.utc), max_years_between_matches=_CRON_HORIZON_YEARS)


def _cron_epoch() -> float:
    from datetime import datetime, timezone

    return datetime(*_CRON_EPOCH, tzinfo=timezone.utc).timestamp()


def _check_cron(schedule: str) -> str:
    from croniter import CroniterBadDateError, croniter

    fields = schedule.split()
    if len(fields) != 5 or not croniter.is_valid(schedule):
        raise _custom_error(
            "bad_cron",
            "not a 5-field cron schedule (minute hour day-of-month month day-of-week), e.g. '0 * * * *'",
        )
    try:
        _cron_runs(" ".join(fields), _cron_epoch()).get_next(float)
    except CroniterBadDateError:
        raise _custom_error(
            "cron_never_fires",
            "this schedule never fires (no such date, e.g. the 31st of February); pick a date that exists",
        ) from None
    return " ".join(fields)


CronSchedule = Annotated[str, AfterValidator(_check_cron)]


def max_interval_seconds(schedule: str, samples: int = 400) -> int:
    """Longest gap between two runs of a cron schedule (sampled from a fixed
    start, so the result does not depend on when it is computed)."""
    runs = _cron_runs(schedule, _cron_epoch())
    times = [runs.get_next(float) for _ in range(samples)]
    return int(max(later - earlier for earlier, later in zip(times, times[1:])))


# Between two pods using a ReadWriteOnce volume on different nodes, the volume
# must detach and attach again: allow for it.
VOLUME_HANDOVER_SECONDS = 300


def first_overlap(first: str, first_seconds: int, second: str, second_seconds: int, days: int = 366) -> Optional[float]:
    """The first run of `second` within a year that overlaps a run of `first`
    (each run lasting at most its deadline plus the volume handover), or None."""
    first_seconds += VOLUME_HANDOVER_SECONDS
    second_seconds += VOLUME_HANDOVER_SECONDS
    start = _cron_epoch()
    runs = _cron_runs(second, start)
    while True:
        second_start = runs.get_next(float)
        if second_start > start + days * 86400:
            return None
        # The first run of `first` after (second_start - first_seconds) is the
        # earliest one still running at second_start or starting during it.
        first_start = _cron_runs(first, second_start - first_seconds).get_next(float)
        if first_start < second_start + second_seconds:
            return second_start


class RestoreDrill(_Model):
    enabled: bool = True
    # The runbook's monthly disaster-recovery test, on the 1st, 35 minutes
    # after the hourly backup: with the deadlines below the two never share
    # the backup volume (ReadWriteOnce) at the same time.
    schedule: CronSchedule = "35 4 1 * *"
    active_deadline_seconds: int = Field(1200, ge=60, le=86400)
    sanity_query: str = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"


class S3Storage(_Model):
    """S3 or an S3-compatible store (MinIO, R2, GCS interop): off the
    cluster's failure domain, unlike a volume."""

    bucket: str
    prefix: Optional[str] = None  # default: the namespace
    region: str = "us-east-1"
    endpoint: Optional[str] = None  # https://... for S3-compatible stores
    image: ImageRef = "amazon/aws-cli:2.22.35"
    cidrs: EgressCidrs = ("0.0.0.0/0",)

    @field_validator("prefix")
    @classmethod
    def _key_prefix(cls, prefix: Optional[str]) -> Optional[str]:
        if prefix is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,200}", prefix):
            raise _custom_error("bad_prefix", "must be an object key prefix: letters, digits, '/', '_', '.', '-'")
        return prefix

    @field_validator("region")
    @classmethod
    def _region(cls, region: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", region):
            raise _custom_error("bad_region", "must be a region name such as us-east-1")
        return region

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, bucket: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise _custom_error("bad_bucket", "not an S3 bucket name (3-63 lower-case letters, digits, '.', '-')")
        return bucket

    @field_validator("endpoint")
    @classmethod
    def _https_endpoint(cls, endpoint: Optional[str]) -> Optional[str]:
        if endpoint is not None and not re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?", endpoint):
            raise _custom_error("bad_endpoint", "must be an https:// URL of the S3 API, such as https://minio.example.com")
        return endpoint

    @property
    def port(self) -> int:
        match = re.search(r":([0-9]+)/?$", self.endpoint or "")
        return int(match.group(1)) if match else 443


class BackupStorage(_Model):
    kind: Literal["pvc", "s3"] = "pvc"
    # The volume's size, or with s3 the scratch space a dump is written to.
    size: str = "20Gi"
    storage_class_name: Optional[ObjectName] = None
    s3: Optional[S3Storage] = None

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> "BackupStorage":
        if self.kind == "s3" and self.s3 is None:
            raise _custom_error(
                "s3_without_bucket",
                "backup.storage.kind s3 needs a bucket",
                field="s3.bucket",
                value=None,
                suggestion="monad-synapse-backups",
            )
        return self

    @field_validator("size")
    @classmethod
    def _size_is_quantity(cls, size: str) -> str:
        try:
            if parse_quantity(size) <= 0:
                raise ValueError
        except ValueError:
            raise _custom_error("bad_size", "must be a positive Kubernetes quantity such as 20Gi") from None
        return size


class Backup(_Model):
    enabled: bool = True
    schedule: CronSchedule = "0 * * * *"
    retention_days: int = Field(7, ge=1, le=3650)
    # pg_dump must be of the server's major version (or newer); pin both.
    postgres_major_version: int = Field(15, ge=10, le=30)
    image: ImageRef = "postgres:15.10-alpine"
    # A dump that runs longer is stopped; with hourly dumps, half the interval.
    active_deadline_seconds: int = Field(1800, ge=60, le=86400)
    storage: BackupStorage = BackupStorage()
    drill: RestoreDrill = RestoreDrill()

    @model_validator(mode="after")
    def _schedules_fire_often_enough(self) -> "Backup":
        for field, schedule, most, why in (
            ("schedule", self.schedule, 7 * 86400, "backups less often than weekly leave days of data unprotected"),
            ("drill.schedule", self.drill.schedule, 93 * 86400, "the runbook tests recovery monthly; at least quarterly"),
        ):
            if (field == "schedule" or self.drill.enabled) and max_interval_seconds(schedule, samples=60) > most:
                raise _custom_error(
                    "schedule_too_rare",
                    "{value} runs too rarely: " + why,
                    field=field,
                    value=schedule,
                    suggestion=_default_for(("backup", *field.split("."))),
                )
        return self

    @model_validator(mode="after")
    def _drill_and_backup_never_share_the_volume(self) -> "Backup":
        """A ReadWriteOnce volume attaches to one node at a time: a drill and a
        backup running together on different nodes leave one stuck."""
        if not self.drill.enabled or self.storage.kind != "pvc":
            return self
        clash = first_overlap(self.schedule, self.active_deadline_seconds,
                              self.drill.schedule, self.drill.active_deadline_seconds)
        if clash is not None:
            from datetime import datetime, timezone

            when = datetime.fromtimestamp(clash, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            minute, rest = self.drill.schedule.split(" ", 1)
            free = next(
                (f"{offset} {rest}" for offset in range(0, 60, 5)
                 if first_overlap(self.schedule, self.active_deadline_seconds, f"{offset} {rest}",
                                  self.drill.active_deadline_seconds) is None),
                None,
            )
            raise _custom_error(
                "drill_overlaps_backup",
                "the drill at {when} (up to {drill}s) would run while a backup ({backup}s at most) holds the "
                "ReadWriteOnce backup volume; move the drill between backups or shorten the deadlines",
                field="drill.schedule",
                value=self.drill.schedule,
                when=when,
                drill=self.drill.active_deadline_seconds,
                backup=self.active_deadline_seconds,
                suggestion=free,
            )
        return self

    @model_validator(mode="after")
    def _image_matches_server(self) -> "Backup":
        repository, _, tag = self.image.split("@")[0].rpartition(":")
        if repository.rsplit("/", 1)[-1] == "postgres" and tag and not re.match(rf"{self.postgres_major_version}(\D|$)", tag):
            raise _custom_error(
                "backup_image_major",
                "image {value} is not PostgreSQL {major}; pg_dump must match the server's major version "
                "(backup.postgresMajorVersion)",
                field="image",
                value=self.image,
                major=self.postgres_major_version,
                suggestion=f"postgres:{self.postgres_major_version}-alpine",
            )
        return self

    @property
    def stale_after_seconds(self) -> int:
        """No success for longer than this is an alert: the longest gap between
        scheduled runs, plus one run's deadline, plus 15 minutes of slack."""
        return max_interval_seconds(self.schedule) + self.active_deadline_seconds + 900


_DUMP_NAME = re.compile(r"^monad-synapse-[0-9]{8}T[0-9]{6}Z\.dump$")


def _number_as_text(value: Any) -> Any:
    """`pulumi config set --path restore.requestId 4711` stores a number; it is an id."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _check_request_id(request_id: Optional[str]) -> Optional[str]:
    if request_id is None:
        return None
    if not request_id.strip():
        raise _custom_error("empty_request_id", "must not be empty; name the request, e.g. incident-4711")
    if len(request_id) > 200 or any(not character.isprintable() for character in request_id):
        raise _custom_error("bad_request_id", "must be one line of printable text, at most 200 characters")
    return request_id


class Restore(_Model):
    # "latest" or a dump file name; restores into DATABASE_URL.
    from_backup: Optional[str] = None
    # Must equal the namespace: typing it is the confirmation.
    confirm: Optional[str] = None
    # Names this restore: a request that already ran never touches the
    # database again, so a new restore needs a new id.
    request_id: Annotated[
        Optional[str], BeforeValidator(_number_as_text), AfterValidator(_check_request_id)
    ] = None

    @field_validator("from_backup")
    @classmethod
    def _known_backup(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value != "latest" and not _DUMP_NAME.match(value):
            raise _custom_error(
                "bad_backup_name",
                "must be 'latest' or a dump file name like monad-synapse-20261127T030000Z.dump",
            )
        return value


class SwitchGate(_Model):
    """Before live traffic moves to a color, a Job waits until that color has
    as many ready pods as the color serving now (up to autoscaling.maxReplicas)."""

    enabled: bool = True
    timeout_seconds: int = Field(600, ge=30, le=3600)
    image: ImageRef = "python:3.13.5-alpine3.22"


def _strict_bool(value: Any) -> Any:
    """Pulumi passes top-level config as strings; accept exactly true/false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _custom_error("not_boolean", "must be true or false")


class Settings(_Model):
    """Validated configuration of one stack. Build it with `from_raw` or `load_settings`."""

    stack: str = Field(exclude=True)
    active_color: Literal["blue", "green"] = "blue"
    colors: Colors
    idle_replicas: Union[Literal["auto"], int] = "auto"
    autoscaling: Autoscaling = Autoscaling()
    resources: Resources = Resources()
    vpa: Vpa = Vpa()
    maintenance_mode: bool = False
    app_config: Mapping[AppConfigKey, str] = Field(default_factory=dict)
    jwt_secret_version: int = Field(1, ge=0, le=2**31 - 1)
    rate_limit: RateLimit = RateLimit()
    edge: Edge = Edge()
    monitoring: Monitoring = Field(default_factory=Monitoring)
    backup: Backup = Backup()
    restore: Restore = Restore()
    network: Network = Network()
    switch_gate: SwitchGate = SwitchGate()
    probes: Probes = Probes()
    priority_class: PriorityClassSettings = PriorityClassSettings()
    domain: str
    namespace: str

    @field_validator("maintenance_mode", mode="before")
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

    @field_validator("app_config", mode="before")
    @classmethod
    def _app_config_is_flat(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise _custom_error("not_mapping", "must be a map of KEY: value; set entries with --path appConfig.KEY")
        flat: dict[str, str] = {}
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                raise _custom_error(
                    "nested_app_config",
                    "appConfig.{key} is a {shape}; app settings are environment variables, give a plain value",
                    field=str(key),
                    key=str(key),
                    value=item,
                    shape=type(item).__name__,
                )
            flat[str(key)] = "true" if item is True else "false" if item is False else "" if item is None else str(item)
        return flat

    @field_validator("app_config")
    @classmethod
    def _app_config_is_read_only(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        for key, item in value.items():
            if len(key) > 253:
                raise _custom_error("long_app_config_key", "appConfig keys are at most 253 characters (this one has "
                                    "{length})", field=f'["{key}"]', value=None, length=len(key), remove=True)
            if _CREDENTIAL_URL.match(item):
                raise _custom_error(
                    "credential_in_app_config",
                    "appConfig.{key} holds a URL with a password, and appConfig lands in a plaintext ConfigMap; "
                    "keep credentials in Pulumi secrets (pulumi config set --secret)",
                    field=key, key=key, value="[credential URL]",
                )
        size = sum(len(key.encode()) + len(item.encode()) for key, item in value.items())
        if size > APP_CONFIG_MAX_BYTES:
            raise _custom_error(
                "app_config_too_large",
                "appConfig holds {size} bytes; the API server refuses a ConfigMap over 1 MiB (at most {limit} "
                "bytes here, with the program's own keys)",
                size=size, limit=APP_CONFIG_MAX_BYTES,
            )
        return MappingProxyType(dict(sorted(value.items())))

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

    @model_validator(mode="after")
    def _restore_is_guarded(self) -> "Settings":
        if self.restore.from_backup is None:
            for key, value in (("confirm", self.restore.confirm), ("requestId", self.restore.request_id)):
                if value is not None:
                    raise _custom_error(
                        "confirm_without_restore",
                        f"restore.{key} without restore.fromBackup; remove it",
                        field=f"restore.{key}",
                        value=value,
                        remove=True,
                    )
            return self
        if self.restore.request_id is None:
            raise _custom_error(
                "restore_without_request_id",
                "a restore needs a request id that no earlier restore used (a request that already ran is "
                "never applied again); name it after the incident or change",
                field="restore.requestId",
                value=None,
                suggestion="incident-4711",
            )
        if self.restore.confirm != self.namespace:
            raise _custom_error(
                "restore_unconfirmed",
                "restoring overwrites the {namespace} database; confirm by setting restore.confirm to the "
                "namespace name, {namespace}",
                field="restore.confirm",
                value=self.restore.confirm,
                namespace=self.namespace,
                suggestion=self.namespace,
            )
        if not self.maintenance_mode:
            raise _custom_error(
                "restore_outside_maintenance",
                "a restore replaces the data under a running app; turn maintenance mode on first",
                field="maintenanceMode",
                value=self.maintenance_mode,
                suggestion=True,
            )
        if not self.backup.enabled:
            raise _custom_error(
                "restore_without_backups",
                "restores read the backup volume, which backup.enabled false does not declare",
                field="backup.enabled",
                value=False,
                suggestion=True,
            )
        return self

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


# --- errors ----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: str
    value: Any
    message: str
    fix: str
    # Given as a secret: the value is never shown, whatever is wrong with it.
    secret: bool = False
    # What kind of refusal (the validator's code), for tests and tools.
    kind: str = ""

    def __str__(self) -> str:
        if self.secret:
            shown = "[secret]"
        elif self.value is _MISSING or self.value is None:
            shown = "<not set>"
        else:
            shown = json.dumps(self.value, default=str)
        return f"{self.path} = {shown}: {self.message}\n      fix: {self.fix}"


class _Missing:
    def __repr__(self) -> str:
        return "<not set>"


_MISSING = _Missing()


class SettingsError(pulumi.RunError):
    """Every configuration problem of a stack, reported together.

    A `pulumi.RunError`, so `pulumi up` prints the message without a traceback.
    """

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = list(problems)
        lines = [f"invalid configuration for stack '{stack}' ({len(self.problems)} problem(s)); nothing was deployed:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


def _fix_command(path: str, stack: str, suggestion: Optional[Any] = None, secret: bool = False) -> str:
    shown = EXAMPLES.get(path, suggestion)
    if path == "namespace" and suggestion is not None:
        shown = suggestion
    if shown is None:
        shown = "<value>"
    if isinstance(shown, bool):
        shown = "true" if shown else "false"
    if isinstance(shown, float) and shown.is_integer():
        shown = int(shown)
    flags = "--secret " if secret else ""
    flags += "--path " if "." in path or "[" in path else ""
    # Quoted for the shell: a cron schedule's '*' would otherwise glob, and a
    # <value> placeholder would be a redirection.
    return f"pulumi config set {flags}{shlex.quote(path)} {shlex.quote(str(shown))} -s {stack}"


def _default_for(path: tuple[str, ...]) -> Any:
    """Default of a (nested) key from the model, to suggest in fixes."""
    model: Any = Settings
    current: Any = None
    for part in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        names = {field.alias or name: name for name, field in model.model_fields.items()}
        if part not in names:
            return None
        field = model.model_fields[names[part]]
        if current is not None:
            current = getattr(current, names[part])
        elif not field.is_required():
            current = field.get_default(call_default_factory=True)
        model = field.annotation
    return current if isinstance(current, (int, float, str, bool)) else None


# Missing sections whose fix is setting their nested fields.
_MISSING_SECTION_FIXES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"colors": ("colors.blue.image", "colors.green.image")}
)


# Pydantic's messages speak of Python types; these speak of config.
_PLAIN_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "finite_number": "must be a finite number (not inf, nan or 1e400)",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "tuple_type": "must be a list; set its items with --path 'KEY[0]' VALUE",
        "list_type": "must be a list; set its items with --path 'KEY[0]' VALUE",
        "model_type": "must be a map of settings; set its fields with --path KEY.FIELD VALUE",
        "model_attributes_type": "must be a map of settings; set its fields with --path KEY.FIELD VALUE",
        "dict_type": "must be a map; set its entries with --path KEY.NAME VALUE",
        "mapping_type": "must be a map; set its entries with --path KEY.NAME VALUE",
    }
)


def _field_annotation(location: list[str]) -> Any:
    model: Any = Settings
    annotation: Any = None
    for part in location:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        if part not in fields:
            return None
        annotation = fields[part].annotation
        model = annotation
    return annotation


def _describe(error: Mapping[str, Any], stack: str, secret_keys: frozenset = frozenset()) -> Problem:
    problem = _describe_error(error, stack, secret_keys)
    return dataclasses.replace(problem, kind=error["type"])


def _describe_error(error: Mapping[str, Any], stack: str, secret_keys: frozenset) -> Problem:
    location = [str(part) for part in error["loc"]]
    context = error.get("ctx") or {}
    value: Any = error.get("input", _MISSING)
    if "field" in context:
        location.append(str(context["field"]))
        value = context.get("value", value)
    # Union/literal validators append the member name to the location; drop it.
    location = [part for part in location if not part.startswith(("literal[", "int", "function-")) and part != "[key]"]
    path = "".join(part if part.startswith("[") or index == 0 else f".{part}" for index, part in enumerate(location))
    path = path or "<root>"
    secret = bool(location) and location[0] in secret_keys
    kind = error["type"]
    message = error["msg"].replace("Value error, ", "")
    if kind == "missing":
        value = _MISSING
        message = "required, and not set"
        if path in _MISSING_SECTION_FIXES:
            fixes = " && ".join(_fix_command(nested, stack) for nested in _MISSING_SECTION_FIXES[path])
            return Problem(path, value, message, fixes, secret)
    elif kind == "extra_forbidden":
        parent = tuple(location[:-1])
        known = _known_keys(parent)
        guess = difflib.get_close_matches(location[-1], known, n=1)
        message = "unknown key" + (f"; did you mean {'.'.join(parent + (guess[0],))}?" if guess else "")
        message += f" Known keys here: {', '.join(known)}"
        return Problem(path, value, message, _remove_command(path, stack), secret)
    elif kind in _PLAIN_MESSAGES:
        message = _PLAIN_MESSAGES[kind].replace("KEY", path)
        if kind in ("model_type", "model_attributes_type"):
            return Problem(path, value, message + f" (its fields: {', '.join(_known_keys(tuple(location)))})",
                           f"pulumi config set --path {shlex.quote(path + '.<field>')} '<value>' -s {stack}", secret)
    if kind in ("tuple_type", "list_type") or context.get("list"):
        example = "10.0.0.0/8" if path.lower().endswith("cidrs") else "<value>"
        return Problem(path, value, message,
                       f"pulumi config rm --path {shlex.quote(path)} -s {stack} && "
                       f"pulumi config set --path {shlex.quote(path + '[0]')} {shlex.quote(example)} -s {stack}", secret)
    else:
        message = message.replace("Input should be", "must be")
        if kind.startswith(("greater_than", "less_than")) and _field_annotation(location) is int:
            message += " (a whole number)"
    if context.get("remove"):
        return Problem(path, value, message, _remove_command(path, stack), secret)
    if secret:
        # The message may quote the value; say what is wrong without it.
        text = str(value) if value is not _MISSING else ""
        if text and text in message:
            message = message.replace(text, "[secret]")
    suggestion = context.get("suggestion", _default_for(tuple(location)))
    if path == "namespace" and _DNS_LABEL.match(stack) and stack not in SYSTEM_NAMESPACES:
        suggestion = stack
    if suggestion is not None and value is not _MISSING and str(suggestion) == str(value):
        suggestion = None  # never suggest the mistake itself
    wants_secret = path in SECRET_KEYS or path in OPTIONAL_SECRET_KEYS
    return Problem(path, value, message, _fix_command(path, stack, suggestion, secret=wants_secret), secret)


def _remove_command(path: str, stack: str) -> str:
    flag = "--path " if "." in path or "[" in path else ""
    return f"pulumi config rm {flag}{shlex.quote(path)} -s {stack}"


def _known_keys(parent: tuple[str, ...]) -> list[str]:
    model: Any = Settings
    for part in parent:
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        annotation = fields[part].annotation if part in fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(field.alias or name for name, field in model.model_fields.items() if name != "stack")


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


# --- loading from Pulumi config ----------------------------------------------


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values, kept as Pulumi secret Outputs end to end."""

    database_url: pulumi.Output[str]
    redis_url: pulumi.Output[str]
    alert_slack_webhook_url: pulumi.Output[str]
    alert_pagerduty_routing_key: pulumi.Output[str]
    backup_s3_access_key_id: Optional[pulumi.Output[str]] = None
    backup_s3_secret_access_key: Optional[pulumi.Output[str]] = None


@dataclass(frozen=True)
class KubernetesConfig:
    """The `kubernetes:*` stack config the default provider would have read."""

    context: Optional[str] = None
    cluster: Optional[str] = None
    kubeconfig: Optional[pulumi.Output[str]] = None


@dataclass(frozen=True)
class StackInputs:
    settings: Settings
    secrets: StackSecrets
    kubernetes: KubernetesConfig = KubernetesConfig()


_OBJECT_KEYS = frozenset(
    key
    for key in _known_keys(())
    if key not in ("activeColor", "idleReplicas", "maintenanceMode", "jwtSecretVersion", "domain", "namespace")
)


def _configured_keys() -> set[str]:
    """Top-level keys set for this project, to catch typos Pulumi passes through."""
    from pulumi.runtime import config as runtime_config

    names = set()
    for full_key in list(runtime_config.CONFIG.get()) + list(runtime_config.get_config_env()):
        namespace, _, key = full_key.partition(":")
        if namespace == PROJECT and key:
            names.add(key)
    return names


def load_settings(config: pulumi.Config, stack: str) -> StackInputs:
    """Read and validate the whole stack config. Raises SettingsError.

    A value given encrypted (`pulumi config set --secret`, `--set-secret`)
    is never shown in a problem, whatever else is wrong with it: this runs
    under `pulumi up` too, and its messages reach CI logs."""
    from pulumi.runtime import config as runtime_config

    def plaintext(key: str) -> Optional[str]:
        return runtime_config.get_config(f"{PROJECT}:{key}")

    def given_encrypted(key: str) -> bool:
        return bool(runtime_config.is_config_secret(f"{PROJECT}:{key}"))

    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    configured = _configured_keys()
    encrypted = frozenset(key for key in configured if given_encrypted(key))
    settings_keys = set(_known_keys(()))
    for key in sorted(configured | settings_keys):
        if key in SECRET_KEYS or key in OPTIONAL_SECRET_KEYS:
            continue
        if key in encrypted and key in settings_keys:
            # A plain setting would be written in plaintext into the cluster's
            # objects; refuse it rather than leak or half-apply it.
            fix = (f"pulumi config set --path {shlex.quote(key + '.<field>')} '<value>' -s {stack}"
                   if key in _OBJECT_KEYS else _fix_command(key, stack, _default_for((key,))))
            problems.append(
                Problem(key, None, "is not a secret setting, but was given encrypted (--secret); set it in plaintext",
                        fix, secret=True, kind="plain_setting_encrypted")
            )
            continue
        text = plaintext(key)
        if key in _OBJECT_KEYS and text is not None:
            try:
                raw[key] = json.loads(text)
            except json.JSONDecodeError:
                raw[key] = text  # the model refuses it as "must be a map"
        else:
            raw[key] = text
    secrets: dict[str, pulumi.Output[str]] = {}
    for key, example in SECRET_KEYS.items():
        value = plaintext(key)
        if value is None:
            problems.append(
                Problem(key, _MISSING, "required secret, and not set", _fix_command(key, stack, example, secret=True),
                        kind="missing_secret")
            )
        elif not value.strip():
            problems.append(
                Problem(key, None, "is empty", _fix_command(key, stack, example, secret=True), secret=True,
                        kind="empty_secret")
            )
        elif secret_shape_problem(key, value):
            problems.append(Problem(key, None, secret_shape_problem(key, value),
                                    _fix_command(key, stack, example, secret=True), secret=True,
                                    kind="malformed_secret"))
        else:
            secrets[key] = config.get_secret(key)

    optional: dict[str, pulumi.Output[str]] = {}
    for key, example in OPTIONAL_SECRET_KEYS.items():
        value = plaintext(key)
        if not value:
            continue
        if not given_encrypted(key):
            problems.append(
                Problem(key, None, "holds a credential but is not encrypted",
                        _fix_command(key, stack, example, secret=True), secret=True, kind="plaintext_credential")
            )
            continue
        if not value.strip():
            problems.append(Problem(key, None, "is empty", _fix_command(key, stack, example, secret=True), secret=True,
                                    kind="empty_secret"))
            continue
        if secret_shape_problem(key, value):
            problems.append(Problem(key, None, secret_shape_problem(key, value),
                                    _fix_command(key, stack, example, secret=True), secret=True,
                                    kind="malformed_secret"))
            continue
        optional[key] = config.get_secret(key)
    try:
        settings = Settings.from_raw(raw, stack, secret_keys=encrypted)
    except SettingsError as error:
        reported = {problem.path for problem in problems}
        later = [problem for problem in error.problems if problem.path.split(".")[0] not in reported]
        raise SettingsError(stack, problems + later) from None
    if settings.backup.enabled and settings.backup.storage.kind == "s3":
        for key, example in OPTIONAL_SECRET_KEYS.items():
            if key not in optional and not any(problem.path == key for problem in problems):
                problems.append(
                    Problem(key, _MISSING, "required with backup.storage.kind s3",
                            _fix_command(key, stack, example, secret=True), kind="missing_secret")
                )
    if problems:
        raise SettingsError(stack, problems)
    secrets.update(optional)
    kubernetes = pulumi.Config("kubernetes")
    return StackInputs(
        settings=settings,
        secrets=StackSecrets(**{to_snake(key): value for key, value in secrets.items()}),
        kubernetes=KubernetesConfig(
            context=kubernetes.get("context"),
            cluster=kubernetes.get("cluster"),
            kubeconfig=kubernetes.get_secret("kubeconfig"),
        ),
    )
