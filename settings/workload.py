"""Settings of the app's pods: images, autoscaling, resources and the Node heap, probes, priority, VPA, the switch gate."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Optional

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from settings.app_config import AppConfig
from settings.base import _custom_error, _Model
from settings.fields import ImageRef, ObjectName, _quantity_text, matching, parse_quantity, path_segments


class ColorSpec(_Model):
    image: ImageRef
    # Overlays the shared appConfig for this color only: a config change
    # staged on the idle color and released by the switch, like an image.
    app_config: AppConfig = Field(default_factory=dict)
    # The runbook's `kubectl rollout restart`: any new value (a timestamp,
    # say) rolls this color's pods and nothing else.
    restart: Optional[
        Annotated[
            str, matching("bad_restart", r"[A-Za-z0-9:._+-]{1,63}", "must be a short token such as 2026-12-03T23:00")
        ]
    ] = None


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
                amount=int(amount),
                value=value.strip(),
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

    @staticmethod
    def _endpoint(path: str) -> str:
        """What the app routes a path to: without the query, repeated or
        trailing slashes (/api/health/, //api/health?x are /api/health)."""
        return "/" + path_segments(path.split("?", 1)[0])

    @model_validator(mode="after")
    def _liveness_is_not_readiness(self) -> "Probes":
        if self._endpoint(self.liveness_path) == self._endpoint(self.readiness_path):
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
        if self.create and self.name and self.name.startswith("system-"):
            # kubernetes pkg/apis/scheduling/validation: "system-" names are reserved.
            raise _custom_error(
                "reserved_priority_class",
                "names starting with system- are reserved for Kubernetes' own classes; "
                "the API server refuses to create {value}",
                field="name",
                value=self.name,
                suggestion=f"monad-synapse-{self.name.removeprefix('system-')}",
            )
        if self.create and self.name is None:
            raise _custom_error(
                "priority_class_without_name",
                "create needs a name for the PriorityClass",
                field="name",
                value=None,
                suggestion="monad-synapse-production",
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
            raise _custom_error("bad_vpa_mode", "must be Off or Initial", choices=("Off", "Initial"))
        return mode


class SwitchGate(_Model):
    """Before live traffic moves to a color, a Job waits until that color has
    as many ready pods as the color serving now (up to autoscaling.maxReplicas)."""

    enabled: bool = True
    timeout_seconds: int = Field(600, ge=30, le=3600)
    image: ImageRef = "python:3.13.5-alpine3.22"


class Toolbox(_Model):
    """A pod to debug from inside the namespace: the runbook's `kubectl run ...
    psql` and `redis-cli`, which Pod Security `restricted` and the default-deny
    egress otherwise refuse. Off by default; on for an incident, off after."""

    enabled: bool = False
    # psql: the image the backup Jobs already trust; redis-cli: Redis's own.
    postgres_image: ImageRef = "postgres:15.10-alpine"
    redis_image: ImageRef = "redis:7.4.5-alpine"
