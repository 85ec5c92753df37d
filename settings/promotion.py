"""Settings of the promotion analysis: the evidence a color must show before
live traffic moves to it (smoke requests, then its error ratio and p95 latency
from Prometheus), and the emergency bypass."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional

from pydantic import BeforeValidator, Field, field_validator, model_validator

from settings.base import _custom_error, _Model
from settings.fields import URL_PORT, ImageRef

_DURATION = re.compile(r"^([1-9][0-9]*)(s|m|h)$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600}


def _duration_seconds(value: Any) -> Any:
    """`30s`, `2m`, `1h`, or a number of seconds."""
    if isinstance(value, bool):
        return value  # refused as "not a number" by the base model
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not match:
            raise _custom_error("bad_duration", "must be a duration such as 30s, 2m or 1h")
        return int(match[1]) * _DURATION_SECONDS[match[2]]
    return value


Seconds = Annotated[int, BeforeValidator(_duration_seconds)]


class SmokeCheck(_Model):
    path: str
    status: int = Field(200, ge=100, le=599)

    @field_validator("path")
    @classmethod
    def _http_path(cls, path: str) -> str:
        if not re.fullmatch(r"/[A-Za-z0-9/_.~-]*(\?[A-Za-z0-9=&_.~-]*)?", path):
            raise _custom_error("bad_path", "must be an absolute URL path such as /api/health")
        return path


class Analysis(_Model):
    enabled: bool = True
    # Default: kube-prometheus-stack's Prometheus in network.monitoringNamespace.
    prometheus_url: Optional[str] = None
    smoke_paths: tuple[SmokeCheck, ...] = Field(default_factory=lambda: (SmokeCheck(path="/api/health"),))
    max_error_ratio: float = Field(0.01, gt=0, lt=1)
    max_p95_seconds: float = Field(2.0, gt=0, le=600)
    interval: Seconds = Field(60, ge=5, le=3600)
    count: int = Field(5, ge=1, le=60)
    failure_limit: int = Field(1, ge=0, le=59)
    # Fewer requests than this in a measurement's window cannot be judged.
    min_requests: int = Field(100, ge=0, le=1_000_000_000)
    # What too little traffic means; default: fail in production, pass elsewhere.
    inconclusive: Optional[Literal["fail", "pass"]] = None
    image: ImageRef = "python:3.13.5-alpine3.22"

    @field_validator("prometheus_url")
    @classmethod
    def _http_url(cls, url: Optional[str]) -> Optional[str]:
        if url is not None and not re.fullmatch(r"https?://[A-Za-z0-9.-]+" + URL_PORT + r"?(/[A-Za-z0-9/_.-]*)?", url):
            raise _custom_error(
                "bad_url",
                "must be an http:// or https:// URL of Prometheus (a port from 1 to "
                "65535), such as http://prometheus.monitoring.svc:9090",
            )
        return url

    @field_validator("smoke_paths", mode="before")
    @classmethod
    def _paths_as_checks(cls, value: Any) -> Any:
        """`--path 'promotion.analysis.smokePaths[0]' /api/health` gives a bare path: status 200."""
        if isinstance(value, (list, tuple)):
            return [{"path": item} if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _failures_below_count(self) -> "Analysis":
        if self.failure_limit >= self.count:
            raise _custom_error(
                "failure_limit_not_below_count",
                "failureLimit {value} lets every one of the {count} measurements fail; it must be below count",
                field="failureLimit",
                value=self.failure_limit,
                count=self.count,
                suggestion=max(0, self.count - 1),
            )
        return self


class Verification(_Model):
    """After the switch: the live color's error ratio over a short window.
    Off by default; on, a bad window fails `pulumi up` (and the deploy
    workflow switches back)."""

    enabled: bool = False
    max_error_ratio: float = Field(0.01, gt=0, lt=1)
    interval: Seconds = Field(30, ge=5, le=600)
    count: int = Field(4, ge=1, le=60)
    min_requests: int = Field(100, ge=0, le=1_000_000_000)


class Promotion(_Model):
    analysis: Analysis = Field(default_factory=Analysis)
    verification: Verification = Field(default_factory=Verification)
    # Emergency switch: move traffic without the analysis (an info alert
    # fires while it is set, so it is not forgotten).
    skip_analysis: bool = False
